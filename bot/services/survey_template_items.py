"""Reading a template's items: questions, groups, conditions and roles (pure, no database).

Part of :mod:`bot.services.survey_template` (which holds the public API), split off to keep
modules short. Items are read in two passes: the first checks each item on its own and builds
it, the second checks what items say about each other (duplicate ids, conditions on earlier
questions), so every problem is found in one run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.services.survey_model import (
    Condition,
    Group,
    Item,
    Option,
    Question,
    QuestionType,
    Role,
    Text,
)
from bot.services.toml_check import MISSING, Checker, Path, format_path

ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,30}")
ID_HINT = "Kleinbuchstaben, Ziffern und _, beginnt mit einem Buchstaben, höchstens 31 Zeichen"
OPTION_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,30}")
OPTION_HINT = "Kleinbuchstaben, Ziffern, _ und -, höchstens 31 Zeichen"
MIN_OPTIONS = 2
MAX_OPTIONS = 20
DEFAULT_TEXT_LENGTH = 500
MAX_TEXT_LENGTH = 4000
HOURS_PER_MONTH = 744
MAX_REPEAT = 50
DEFAULT_MORE = Text("Möchtest du noch einen weiteren Eintrag erfassen?", "Would you like to add another one?")
DEFAULT_CRITERIA_TEXT = Text("Fragen zur Definition", "Questions on the definition")

_NUMERIC = (QuestionType.NUMBER, QuestionType.MONEY, QuestionType.HOURS)
_COMMON = ("id", "type", "text", "help", "required", "role", "when")
_EXTRA: dict[QuestionType, tuple[str, ...]] = {
    QuestionType.CHOICE: ("options",),
    QuestionType.MULTI: ("options",),
    QuestionType.YESNO: (),
    QuestionType.NUMBER: ("min", "max", "integer", "unit"),
    QuestionType.MONEY: ("min", "max"),
    QuestionType.HOURS: ("min", "max"),
    QuestionType.DATE: (),
    QuestionType.TEXT: ("max_length",),
}
_CRITERIA_KEYS = ("id", "type", "text", "help")
_GROUP_KEYS = (
    *("id", "type", "title", "more", "min", "max", "classify"),
    *("require_one_of", "require_message", "when", "question"),
)
_ALL_KEYS = frozenset(_COMMON + _GROUP_KEYS + tuple(k for keys in _EXTRA.values() for k in keys))
_TYPES = ", ".join([*(t.value for t in QuestionType), "group"])

# role -> (belongs in the classified group?, the question type it needs)
_ROLES: dict[Role, tuple[bool, QuestionType]] = {
    Role.RESPONDENT: (False, QuestionType.CHOICE),
    Role.ORG_KIND: (False, QuestionType.CHOICE),
    Role.ORG_NAME: (False, QuestionType.TEXT),
    Role.DESCRIPTION: (True, QuestionType.TEXT),
    Role.MODE: (True, QuestionType.CHOICE),
    Role.HOURS: (True, QuestionType.HOURS),
    Role.PEOPLE: (True, QuestionType.NUMBER),
    Role.MONEY: (True, QuestionType.MONEY),
    Role.GOODS: (True, QuestionType.TEXT),
    Role.GOODS_VALUE: (True, QuestionType.MONEY),
}
# Results read these answers by option id, so the options must be exactly these.
_ROLE_OPTIONS = {Role.RESPONDENT: ("person", "organisation"), Role.MODE: ("direct", "indirect")}
# Which test a condition uses on an answer of each type.
_TEST_FOR = {
    QuestionType.CHOICE: "equals",
    QuestionType.YESNO: "equals",
    QuestionType.MULTI: "includes",
    QuestionType.NUMBER: "gt",
    QuestionType.MONEY: "gt",
    QuestionType.HOURS: "gt",
}


def read_text(
    c: Checker, table: Mapping[str, Any], key: str, path: Path, *, required: bool = True, max_length: int
) -> Text | None:
    """A German / English text: ``{ de = "…", en = "…" }`` (or dotted keys), or a plain string
    for German only. ``en`` is optional; English readers then see the German text."""
    where = (*path, key)
    if key not in table:
        if required:
            c.add(where, "Pflichtangabe fehlt (mindestens de = …)")
        return None
    value = table[key]
    fields = c.table({"de": value} if isinstance(value, str) else value, where, ("de", "en"))
    if fields is None:
        return None
    de = c.string(fields, "de", where, max_length=max_length, missing="deutscher Text fehlt")
    en = c.string(fields, "en", where, required=False, max_length=max_length)
    return Text(de.strip(), en.strip() if en else None) if de else None


def duplicate(c: Checker, value: str, first: Path, again: Path) -> None:
    """Report an id used twice (at ``again``), pointing at its first use."""
    line = c.line(first)
    # On the same line (options of one inline array) the key says more than the line.
    where = f"in Zeile {line}" if line is not None and line != c.line(again) else f"bei {format_path(first)}"
    c.add(again, f"Kennung „{value}“ kommt doppelt vor (zuerst {where})")


def _number(value: float) -> str:
    return f"{value:g}"


@dataclass(eq=False)
class _Entry:
    """What the second pass needs to know about an item, also when it could not be built."""

    path: Path
    id: str | None = None
    type: QuestionType | None = None
    is_group: bool = False
    options: tuple[str, ...] = ()
    when: Condition | None = None
    equals_list: bool = False
    built: Item | None = None
    children: list[_Entry] = field(default_factory=list)


@dataclass
class _Scope:
    """Where a question is: top level, or a group (classified or not)."""

    in_group: bool
    classify: bool
    roles: dict[Role, str] = field(default_factory=dict)


class ItemReader:
    """Reads the ``[[item]]`` list of a template into questions and groups."""

    def __init__(self, checker: Checker) -> None:
        self.c = checker
        self._classified: Path | None = None
        self._top = _Scope(in_group=False, classify=False)

    def read(self, raws: list[Any]) -> tuple[Item, ...] | None:
        """The items, or ``None`` if any problem was noted."""
        entries = [self._item(raw, ("item", i), self._top) for i, raw in enumerate(raws)]
        self._check_ids(entries)
        self._check_conditions(entries)
        built = [e.built for e in entries]
        if self.c.problems or any(b is None for b in built):
            return None
        return tuple(b for b in built if b is not None)

    # --- first pass: each item on its own ---

    def _item(self, raw: Any, path: Path, scope: _Scope) -> _Entry:
        c, entry = self.c, _Entry(path)
        raw_type = raw.get("type") if isinstance(raw, dict) else None
        allowed: tuple[str, ...] | frozenset[str] = _ALL_KEYS
        if raw_type == "group":
            entry.is_group, allowed = True, _GROUP_KEYS
        elif raw_type in tuple(QuestionType):
            entry.type = QuestionType(raw_type)
            allowed = _CRITERIA_KEYS if entry.type is QuestionType.CRITERIA else _COMMON + _EXTRA[entry.type]
        elsewhere = None
        if allowed is not _ALL_KEYS:
            elsewhere = {k: f"gibt es bei Typ „{raw_type}“ nicht" for k in _ALL_KEYS - set(allowed)}
        checked = c.table(raw, path, allowed, elsewhere=elsewhere)
        if checked is None:
            return entry
        # Keys reported as not belonging here are not read again (one problem per key).
        fields = {key: value for key, value in checked.items() if key in allowed}
        entry.id = c.string(fields, "id", path, pattern=ID_PATTERN, hint=ID_HINT)
        if "type" not in fields:
            c.add((*path, "type"), f"{MISSING} ({_TYPES})")
        elif entry.type is None and not entry.is_group:
            c.add((*path, "type"), f"unbekannter Typ „{raw_type}“; möglich: {_TYPES}")
        entry.when = self._condition(fields, path, entry)
        if entry.is_group:
            if scope.in_group:
                c.add((*path, "type"), "Gruppen lassen sich nicht verschachteln")
            else:
                self._group(fields, entry)
        elif entry.type is not None:
            self._question(fields, entry, scope)
        return entry

    def _question(self, fields: dict[str, Any], entry: _Entry, scope: _Scope) -> None:
        c, path, qtype = self.c, entry.path, entry.type
        assert qtype is not None
        if qtype is QuestionType.CRITERIA:
            if not scope.classify:
                message = "Fragen vom Typ criteria gibt es nur in einer Gruppe mit classify = true"
                c.add((*path, "type"), message)
            text = read_text(c, fields, "text", path, required=False, max_length=1000)
            text = text or DEFAULT_CRITERIA_TEXT
        else:
            text = read_text(c, fields, "text", path, max_length=1000)
        help_text = read_text(c, fields, "help", path, required=False, max_length=2000)
        required = c.flag(fields, "required", path, True)
        options: tuple[Option, ...] | None = ()
        if qtype in (QuestionType.CHOICE, QuestionType.MULTI):
            options = self._options(fields, entry)
        minimum = c.number(fields, "min", path)
        maximum = c.number(fields, "max", path)
        integer = c.flag(fields, "integer", path, False)
        self._check_range(entry, minimum, maximum, integer)
        unit = read_text(c, fields, "unit", path, required=False, max_length=30)
        max_length = c.integer(
            fields, "max_length", path, default=DEFAULT_TEXT_LENGTH, minimum=1, maximum=MAX_TEXT_LENGTH
        )
        role = None if qtype is QuestionType.CRITERIA else self._role(fields, entry, scope, integer)
        if entry.id is None or text is None or options is None or max_length is None:
            return
        entry.built = Question(
            id=entry.id,
            type=qtype,
            text=text,
            help=help_text,
            required=required,
            options=options,
            minimum=minimum,
            maximum=maximum,
            integer=integer,
            unit=unit,
            max_length=max_length,
            when=entry.when,
            role=role,
        )

    def _options(self, fields: dict[str, Any], entry: _Entry) -> tuple[Option, ...] | None:
        c, where = self.c, (*entry.path, "options")
        raws = c.array(fields, "options", entry.path, hint='options = [ { id = "…", de = "…" }, … ]')
        if raws is None:
            return None
        if len(raws) < MIN_OPTIONS:
            c.add(where, "mindestens zwei Optionen angeben")
        elif len(raws) > MAX_OPTIONS:
            c.add(where, f"höchstens {MAX_OPTIONS} Optionen")
        options: list[Option] = []
        first: dict[str, Path] = {}
        for k, raw in enumerate(raws):
            path = (*where, k)
            option = c.table(raw, path, ("id", "de", "en"))
            if option is None:
                continue
            oid = c.string(option, "id", path, pattern=OPTION_PATTERN, hint=OPTION_HINT)
            if oid is not None:
                if oid in first:
                    duplicate(c, oid, (*first[oid], "id"), (*path, "id"))
                else:
                    first[oid] = path
            de = c.string(option, "de", path, max_length=100, missing="deutscher Text fehlt")
            en = c.string(option, "en", path, required=False, max_length=100)
            if oid is not None and de is not None:
                options.append(Option(oid, Text(de.strip(), en.strip() if en else None)))
        entry.options = tuple(first)
        if len(options) != len(raws) or not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            return None
        return tuple(options)

    def _check_range(
        self, entry: _Entry, minimum: float | None, maximum: float | None, integer: bool
    ) -> None:
        c, path = self.c, entry.path
        for key, value in (("min", minimum), ("max", maximum)):
            if value is None:
                continue
            if integer and not value.is_integer():
                c.add((*path, key), "mit integer = true eine ganze Zahl angeben")
            elif entry.type is QuestionType.HOURS and not 0 <= value <= HOURS_PER_MONTH:
                c.add((*path, key), f"Stunden im Monat liegen zwischen 0 und {HOURS_PER_MONTH}")
            elif entry.type is QuestionType.MONEY and value < 0:
                c.add((*path, key), "Beträge sind nicht negativ: mindestens 0")
        if minimum is not None and maximum is not None and minimum > maximum:
            c.add((*path, "min"), f"min ({_number(minimum)}) ist größer als max ({_number(maximum)})")

    def _role(self, fields: dict[str, Any], entry: _Entry, scope: _Scope, integer: bool) -> Role | None:
        c, where = self.c, (*entry.path, "role")
        raw = c.string(fields, "role", entry.path, required=False)
        if raw is None:
            return None
        try:
            role = Role(raw)
        except ValueError:
            c.add(where, f"unbekannte Rolle „{raw}“; möglich: {', '.join(r.value for r in Role)}")
            return None
        in_group, qtype = _ROLES[role]
        if in_group and not scope.classify:
            c.add(where, f"Rolle „{role}“ gehört in die Gruppe mit classify = true")
        elif not in_group and scope.in_group:
            c.add(where, f"Rolle „{role}“ gehört auf die oberste Ebene, nicht in eine Gruppe")
        if entry.type is not qtype:
            c.add(where, f"Rolle „{role}“ verlangt eine Frage vom Typ {qtype}, nicht {entry.type}")
        elif role in _ROLE_OPTIONS and entry.options and set(entry.options) != set(_ROLE_OPTIONS[role]):
            wanted = " und ".join(_ROLE_OPTIONS[role])
            c.add((*entry.path, "options"), f"Rolle „{role}“ verlangt genau die Optionen {wanted}")
        elif role is Role.PEOPLE and not integer:
            c.add(where, "Rolle „people“ verlangt integer = true")
        if role in scope.roles:
            c.add(where, f"Rolle „{role}“ ist schon an „{scope.roles[role]}“ vergeben")
        else:
            scope.roles[role] = entry.id or "?"
        return role

    def _condition(self, fields: dict[str, Any], path: Path, entry: _Entry) -> Condition | None:
        c, where = self.c, (*path, "when")
        if "when" not in fields:
            return None
        when = c.table(fields["when"], where, ("question", "equals", "includes", "gt"))
        if when is None:
            return None
        question = c.string(when, "question", where)
        tests = [t for t in ("equals", "includes", "gt") if t in when]
        if len(tests) != 1:
            found = f" (hier: {', '.join(tests)})" if tests else ""
            c.add(where, f"genau eine Prüfung angeben: equals, includes oder gt{found}")
            return None
        equals: tuple[str, ...] | None = None
        includes = gt = None
        if tests[0] == "equals":
            value = when["equals"]
            entry.equals_list = isinstance(value, list)
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str) and v for v in values):
                c.add((*where, "equals"), 'eine Option oder eine Liste von Optionen angeben, z. B. "ja"')
                return None
            equals = tuple(values)
        elif tests[0] == "includes":
            includes = c.string(when, "includes", where)
            if includes is None:
                return None
        else:
            gt = c.number(when, "gt", where)
            if gt is None:
                return None
        if question is None:
            return None
        return Condition(question=question, equals=equals, includes=includes, gt=gt)

    def _group(self, fields: dict[str, Any], entry: _Entry) -> None:
        c, path = self.c, entry.path
        title = read_text(c, fields, "title", path, max_length=200)
        more = read_text(c, fields, "more", path, required=False, max_length=500) or DEFAULT_MORE
        minimum = c.integer(fields, "min", path, default=1, minimum=1, maximum=MAX_REPEAT)
        maximum = c.integer(fields, "max", path, default=20, minimum=1, maximum=MAX_REPEAT)
        if minimum is not None and maximum is not None and minimum > maximum:
            c.add((*path, "min"), f"min ({minimum}) ist größer als max ({maximum})")
        classify = c.flag(fields, "classify", path, False)
        if classify and self._classified is not None:
            first = self._classified
            c.add(
                (*path, "classify"),
                f"nur eine Gruppe darf classify = true haben (schon {format_path(first)})",
            )
        elif classify:
            self._classified = path
        scope = _Scope(in_group=True, classify=classify)
        raws = c.array(fields, "question", path, hint="jede Frage der Gruppe beginnt mit [[item.question]]")
        if raws is not None and not raws:
            c.add((*path, "question"), "mindestens eine Frage angeben")
        entry.children = [self._item(raw, (*path, "question", k), scope) for k, raw in enumerate(raws or [])]
        criteria = [child for child in entry.children if child.type is QuestionType.CRITERIA]
        if classify and raws and not criteria:
            c.add(path, "eine Gruppe mit classify = true braucht eine Frage vom Typ criteria")
        for extra in criteria[1:]:
            c.add((*extra.path, "type"), "nur eine Frage vom Typ criteria je Gruppe")
        require = self._require(fields, entry)
        message = read_text(c, fields, "require_message", path, required=False, max_length=500)
        if message and not require:
            c.add((*path, "require_message"), "gibt es nur zusammen mit require_one_of")
        questions = [child.built for child in entry.children]
        if entry.id is None or title is None or None in (minimum, maximum, require) or not questions:
            return
        if any(q is None for q in questions):
            return
        assert minimum is not None and maximum is not None and require is not None
        entry.built = Group(
            id=entry.id,
            title=title,
            questions=tuple(q for q in questions if isinstance(q, Question)),
            more=more,
            minimum=minimum,
            maximum=maximum,
            classify=classify,
            require_one_of=require,
            require_message=message,
            when=entry.when,
        )

    def _require(self, fields: dict[str, Any], entry: _Entry) -> tuple[str, ...] | None:
        c, where = self.c, (*entry.path, "require_one_of")
        raws = c.array(fields, "require_one_of", entry.path, required=False)
        if raws is None:
            return None if "require_one_of" in fields else ()
        if not raws:
            c.add(where, "mindestens eine Frage nennen (oder require_one_of weglassen)")
        children = {child.id: child for child in entry.children if child.id}
        names: list[str] = []
        for k, name in enumerate(raws):
            problem = None
            target = children.get(name) if isinstance(name, str) else None
            if not isinstance(name, str):
                problem = 'muss ein Text in Anführungszeichen sein ("…")'
            elif target is None:
                problem = f"unbekannte Frage „{name}“ in dieser Gruppe"
            elif target.type is not None and target.type not in _NUMERIC:
                problem = f"„{name}“ ist vom Typ {target.type}; hier zählen nur number, money, hours"
            elif name in names:
                problem = f"„{name}“ steht doppelt in der Liste"
            if problem:
                c.add((*where, k), problem)
            else:
                names.append(name)
        return tuple(names) if len(names) == len(raws) and names else None

    # --- second pass: items among each other ---

    def _check_ids(self, entries: list[_Entry]) -> None:
        top: dict[str, Path] = {}
        for entry in entries:
            if entry.id is None:
                continue
            if entry.id in top:
                duplicate(self.c, entry.id, (*top[entry.id], "id"), (*entry.path, "id"))
            else:
                top[entry.id] = entry.path
        for entry in entries:
            inner: dict[str, Path] = {}
            for child in entry.children:
                if child.id is None:
                    continue
                if child.id in inner:
                    duplicate(self.c, child.id, (*inner[child.id], "id"), (*child.path, "id"))
                elif child.id in top:
                    # One name, one meaning: conditions and result columns must not be ambiguous.
                    duplicate(self.c, child.id, (*top[child.id], "id"), (*child.path, "id"))
                else:
                    inner[child.id] = child.path

    def _check_conditions(self, entries: list[_Entry]) -> None:
        for index, entry in enumerate(entries):
            if entry.when:
                self._check_condition(entry, self._lookup(entry.when.question, entries, index))
            for position, child in enumerate(entry.children):
                if child.when:
                    target = self._lookup(child.when.question, entries, index, entry, position)
                    self._check_condition(child, target)

    def _lookup(
        self, name: str, entries: list[_Entry], index: int, group: _Entry | None = None, position: int = 0
    ) -> _Entry | str:
        """The question a condition names, or why it cannot name it."""
        later = f"„{name}“ wird erst später gefragt; eine Bedingung braucht eine frühere Frage"
        if group is not None:
            for k, child in enumerate(group.children):
                if child.id == name:
                    return child if k < position else later
        for j, entry in enumerate(entries):
            if entry.id == name:
                if entry.is_group:
                    return f"„{name}“ ist eine Gruppe; eine Bedingung braucht eine Frage"
                return entry if j < index else later
        for entry in entries:
            if any(child.id == name for child in entry.children):
                return (
                    f"„{name}“ steht in der Gruppe „{entry.id}“; nur deren Fragen können sich darauf beziehen"
                )
        return f"unbekannte Frage „{name}“"

    def _check_condition(self, entry: _Entry, target: _Entry | str) -> None:
        c, where = self.c, (*entry.path, "when")
        condition = entry.when
        assert condition is not None
        if isinstance(target, str):
            c.add((*where, "question"), target)
            return
        if target.type is None:
            return  # its own problem is reported already
        name, kind = condition.question, target.type
        test = "equals" if condition.equals is not None else "gt" if condition.gt is not None else "includes"
        expected = _TEST_FOR.get(kind)
        if expected is None:
            c.add((*where, "question"), f"auf „{name}“ (Typ {kind}) kann sich keine Bedingung beziehen")
            return
        if test != expected:
            c.add((*where, test), f"{test} passt nicht zu „{name}“ (Typ {kind}); dafür gibt es {expected}")
            return
        allowed = ("yes", "no") if kind is QuestionType.YESNO else target.options
        if not allowed:
            return  # the options could not be read; that problem is reported already
        if condition.includes is not None and condition.includes not in allowed:
            c.add((*where, "includes"), _not_an_option(condition.includes, name, allowed))
        for k, value in enumerate(condition.equals or ()):
            if value not in allowed:
                at = (*where, "equals", k) if entry.equals_list else (*where, "equals")
                c.add(at, _not_an_option(value, name, allowed))


def _not_an_option(value: str, question: str, allowed: tuple[str, ...]) -> str:
    return f"„{value}“ ist keine Option von „{question}“; möglich: {', '.join(allowed)}"
