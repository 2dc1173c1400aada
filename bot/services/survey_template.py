"""Reading survey templates and the engagement definition from TOML (pure, no database).

The format is documented for operators in docs/umfragen.md. Loading validates everything and
collects every problem with its key and line (:class:`FormatError`); nothing is returned
half-built. A loaded :class:`Template` keeps its canonical dict in ``raw`` (JSON-serialisable,
explicit defaults), which is what a survey stores, and :func:`template_from_dict` rebuilds the
same template from it, so a later change of defaults never changes a stored survey.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from bot.services.survey_model import (
    Check,
    Condition,
    Criterion,
    Definition,
    Group,
    Item,
    QuestionType,
    Template,
)
from bot.services.survey_template_items import (
    ID_HINT,
    ID_PATTERN,
    ItemReader,
    duplicate,
    read_text,
)
from bot.services.toml_check import Checker, FormatError, KeyLines, Path, Problem, parse

__all__ = [
    "FormatError",
    "Problem",
    "definition_from_dict",
    "definition_to_dict",
    "load_definition",
    "load_template",
    "template_from_dict",
    "template_to_dict",
]

KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
"""A template's key: what ``/umfrage starten <key>`` names."""
MAX_ITEMS = 100
MAX_CRITERIA = 20


# --- templates ---------------------------------------------------------------------------------


def load_template(source: str, *, name: str = "<text>") -> Template:
    """Read a survey template from TOML.

    Args:
        source: The TOML text.
        name: The file name used in messages.

    Returns:
        The validated template; ``raw`` holds its canonical dict.

    Raises:
        FormatError: With every problem found, each naming the key and its line.
    """
    data = parse(source, name=name)
    return _build_template(Checker(name=name, lines=KeyLines(source)), data)


def template_from_dict(data: dict[str, Any], *, name: str = "<gespeichert>") -> Template:
    """Rebuild a template from its stored dict (``Template.raw``).

    Args:
        data: The dict, as :func:`template_to_dict` made it (or as read from TOML).
        name: A name for messages.

    Returns:
        The template; ``template_from_dict(t.raw) == t``.

    Raises:
        FormatError: If the dict is not a valid template.
    """
    return _build_template(Checker(name=name), data)


def template_to_dict(template: Template) -> dict[str, Any]:
    """The canonical, JSON-serialisable dict of a template (what ``raw`` holds)."""
    out: dict[str, Any] = {"key": template.key, "title": template.title.to_dict()}
    if template.intro:
        out["intro"] = template.intro.to_dict()
    out["item"] = [_item_dict(item) for item in template.items]
    return out


def _build_template(c: Checker, data: Any) -> Template:
    top = c.table(data, (), ("key", "title", "intro", "item"))
    if top is None:
        c.raise_problems()
    assert top is not None
    key = c.string(top, "key", (), pattern=KEY_PATTERN, hint="a–z, 0–9 und -, 2 bis 40 Zeichen")
    title = read_text(c, top, "title", (), max_length=200)
    intro = read_text(c, top, "intro", (), required=False, max_length=4000)
    raw_items = c.array(top, "item", (), hint="jede Frage beginnt mit [[item]]")
    if raw_items is not None and not raw_items:
        c.add(("item",), "mindestens eine Frage angeben")
    if raw_items and len(raw_items) > MAX_ITEMS:
        c.add(("item",), f"höchstens {MAX_ITEMS} Fragen")
    items = ItemReader(c).read(raw_items or [])
    c.raise_problems()
    assert key is not None and title is not None and items is not None
    template = Template(key=key, title=title, items=items, intro=intro)
    return dataclasses.replace(template, raw=template_to_dict(template))


def _item_dict(item: Item) -> dict[str, Any]:
    """The canonical dict of a question or group (every default written out)."""
    if isinstance(item, Group):
        out: dict[str, Any] = {"id": item.id, "type": "group", "title": item.title.to_dict()}
        out |= {"more": item.more.to_dict(), "min": item.minimum, "max": item.maximum}
        out["classify"] = item.classify
        if item.require_one_of:
            out["require_one_of"] = list(item.require_one_of)
        if item.require_message:
            out["require_message"] = item.require_message.to_dict()
        if item.when:
            out["when"] = _condition_dict(item.when)
        out["question"] = [_item_dict(q) for q in item.questions]
        return out
    out = {"id": item.id, "type": item.type.value, "text": item.text.to_dict()}
    if item.help:
        out["help"] = item.help.to_dict()
    if item.type is QuestionType.CRITERIA:
        return out
    out["required"] = item.required
    if item.role:
        out["role"] = item.role.value
    if item.when:
        out["when"] = _condition_dict(item.when)
    if item.options:
        out["options"] = [{"id": o.id, **o.label.to_dict()} for o in item.options]
    for key, value in (("min", item.minimum), ("max", item.maximum)):
        if value is not None:
            out[key] = value
    if item.type is QuestionType.NUMBER:
        out["integer"] = item.integer
        if item.unit:
            out["unit"] = item.unit.to_dict()
    if item.type is QuestionType.TEXT:
        out["max_length"] = item.max_length
    return out


def _condition_dict(condition: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {"question": condition.question}
    if condition.equals is not None:
        out["equals"] = list(condition.equals)
    if condition.includes is not None:
        out["includes"] = condition.includes
    if condition.gt is not None:
        out["gt"] = condition.gt
    return out


# --- the engagement definition -----------------------------------------------------------------

_CRITERION_TEXTS = {"name": 100, "question": 500, "explanation": 2000, "example": 500, "failed": 200}


def load_definition(source: str, *, name: str = "<text>") -> Definition:
    """Read an engagement definition from TOML (without a version: the import assigns it).

    Args:
        source: The TOML text.
        name: The file name used in messages.

    Returns:
        The validated definition (``version`` is ``None``).

    Raises:
        FormatError: With every problem found, each naming the key and its line.
    """
    data = parse(source, name=name)
    return _build_definition(Checker(name=name, lines=KeyLines(source)), data, stored=False)


def definition_from_dict(data: dict[str, Any], *, name: str = "<gespeichert>") -> Definition:
    """Rebuild a definition from its stored dict (:func:`definition_to_dict`, with version).

    Raises:
        FormatError: If the dict is not a valid definition.
    """
    return _build_definition(Checker(name=name), data, stored=True)


def definition_to_dict(definition: Definition) -> dict[str, Any]:
    """The canonical, JSON-serialisable dict of a definition (its version included if set)."""
    out: dict[str, Any] = {"title": definition.title.to_dict()}
    if definition.summary:
        out["summary"] = definition.summary.to_dict()
    if definition.version is not None:
        out["version"] = definition.version
    out["criterion"] = [
        {
            "id": c.id,
            "name": c.name.to_dict(),
            "question": c.question.to_dict(),
            "explanation": c.explanation.to_dict(),
            "example": c.example.to_dict(),
            "failed": c.failed.to_dict(),
            "check": c.check.value,
        }
        for c in definition.criteria
    ]
    return out


def _build_definition(c: Checker, data: Any, *, stored: bool) -> Definition:
    keys = ("title", "summary", "criterion", *(("version",) if stored else ()))
    # In a file the version is not the author's to choose: the import counts it up.
    elsewhere = None if stored else {"version": "die Version vergibt der Import selbst; bitte weglassen"}
    top = c.table(data, (), keys, elsewhere=elsewhere)
    if top is None:
        c.raise_problems()
    assert top is not None
    title = read_text(c, top, "title", (), max_length=200)
    summary = read_text(c, top, "summary", (), required=False, max_length=4000)
    version = c.integer(top, "version", (), minimum=1) if stored else None
    raw_criteria = c.array(top, "criterion", (), hint="jedes Kriterium beginnt mit [[criterion]]") or []
    if "criterion" in top and isinstance(top["criterion"], list) and not raw_criteria:
        c.add(("criterion",), "mindestens ein Kriterium angeben")
    if len(raw_criteria) > MAX_CRITERIA:
        c.add(("criterion",), f"höchstens {MAX_CRITERIA} Kriterien")
    criteria: list[Criterion | None] = []
    first: dict[str, Path] = {}
    for index, raw in enumerate(raw_criteria):
        path: Path = ("criterion", index)
        fields = c.table(raw, path, ("id", "check", *_CRITERION_TEXTS))
        if fields is None:
            criteria.append(None)
            continue
        cid = c.string(fields, "id", path, pattern=ID_PATTERN, hint=ID_HINT)
        if cid is not None:
            if cid in first:
                duplicate(c, cid, (*first[cid], "id"), (*path, "id"))
            else:
                first[cid] = path
        texts = {key: read_text(c, fields, key, path, max_length=n) for key, n in _CRITERION_TEXTS.items()}
        check = Check.ASK
        raw_check = c.string(fields, "check", path, required=False)
        if raw_check is not None:
            try:
                check = Check(raw_check)
            except ValueError:
                known = ", ".join(k.value for k in Check)
                c.add((*path, "check"), f"unbekannte Prüfung „{raw_check}“; möglich: {known}")
        if cid is None or any(t is None for t in texts.values()):
            criteria.append(None)
            continue
        criteria.append(Criterion(id=cid, check=check, **texts))  # type: ignore[arg-type]
    c.raise_problems()
    assert title is not None
    return Definition(
        title=title,
        criteria=tuple(x for x in criteria if x is not None),
        summary=summary,
        version=version,
    )
