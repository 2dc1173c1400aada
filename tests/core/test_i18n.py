"""Tests for the gettext catalogs and the Translator.

The catalogs are checked for completeness both ways: every key the code can ask for exists in
both languages, and every catalog key is actually used by the code.
"""

from __future__ import annotations

import ast
import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.errors import command_name
from bot.core.i18n import DOMAIN, LANGUAGES, LOCALES_DIR, Translator, catalog_keys
from bot.core.markup import Line, parse_template
from bot.handlers import build_router
from bot.services.embeddings import COMBINATIONS, EMBEDDERS
from bot.services.personal_data import SECTIONS as PERSONAL_SECTIONS
from bot.services.reopen import Sensitivity
from storage.models import DecisionStatus, GoalStatus, RegisterChange, Role

ROOT = Path(__file__).resolve().parents[2]
BOT_DIR = ROOT / "bot"

# Functions whose string arguments are audit-log action names ("decision.create"), which share
# the dotted shape of catalog keys but are never looked up in a catalog.
AUDIT_CALLS = {"_log"}

# Catalog keys that no module under bot/ uses yet, because their user is still being written.
# used by bot/adapters/matrix (in progress); remove once the adapter uses them (the scanner
# below reads bot/adapters too, so they will then be found on their own).
USED_OUTSIDE_BOT = {"matrix.encrypted_unsupported", "matrix.buttons_hint"}


# --------------------------------------------------------------------------------------------
# Catalog helpers
# --------------------------------------------------------------------------------------------


def load_catalog(language: str) -> dict[str, list[str]]:
    """Message id -> its translated forms (one string, or one per plural form), of every
    ``*.po`` file of the language (the loader merges them)."""
    result: dict[str, list[str]] = {}
    for path in sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
        for message in catalog:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            forms = [message.string] if isinstance(message.string, str) else list(message.string)
            assert key not in result, f"{key} is defined in two catalogs of {language}"
            result[key] = forms
    return result


CATALOGS = {language: load_catalog(language) for language in LANGUAGES}

# Literals that look like catalog keys: a known key prefix, a dot, lower-case words. The prefixes
# are the fixed families plus whatever first segments the catalogs use (so a new family such as
# ``bot.added`` is covered without touching this test).
KEY_PREFIXES = {"cmd", "help", "start", "ag", "role", "goal", "decision", "error"} | {
    key.split(".", 1)[0] for catalog in CATALOGS.values() for key in catalog
}
KEY_PATTERN = re.compile(rf"^({'|'.join(sorted(map(re.escape, KEY_PREFIXES)))})\.[a-z_.]+$")


def is_module_name(value: str) -> bool:
    """Whether a dotted string names a module of this project (``bot.adapters``), not a key."""
    path = ROOT.joinpath(*value.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of a template (``{{``/``}}`` escapes excluded)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# --------------------------------------------------------------------------------------------
# Which keys the code uses
# --------------------------------------------------------------------------------------------


def literal_keys(source: str) -> set[str]:
    """String literals in ``source`` that look like catalog keys.

    Parts of f-strings are dynamic keys (handled separately) and audit action names are not
    catalog keys, so both are left out.
    """
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in ast.walk(node))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in AUDIT_CALLS:
                for arg in [*node.args, *(kw.value for kw in node.keywords)]:
                    skip.update(id(part) for part in ast.walk(arg))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and KEY_PATTERN.match(node.value)
        and not is_module_name(node.value)
    }


def code_literal_keys() -> dict[str, set[Path]]:
    """Catalog-like literals of every module under bot/, with the files using them."""
    found: dict[str, set[Path]] = {}
    for path in sorted(BOT_DIR.rglob("*.py")):
        for key in literal_keys(path.read_text(encoding="utf-8")):
            found.setdefault(key, set()).add(path.relative_to(ROOT))
    return found


def all_commands():
    """Every command and subcommand of the application's router (each once)."""
    seen: dict[int, object] = {}
    for command in build_router():
        seen.setdefault(id(command), command)
        for sub in command.subcommands.values():
            seen.setdefault(id(sub), sub)
    return list(seen.values())


def dynamic_keys() -> set[str]:
    """Keys the code builds at run time (f-strings over commands and enums)."""
    keys: set[str] = set()
    for command in all_commands():
        keys.add(f"{command.key}.usage")
        keys.add(f"{command.key}.help")
        if command.parent is None and not command.hidden:
            keys.add(f"{command.key}.summary")
    keys.update(f"role.{role.value}" for role in Role)
    keys.update(f"goal.status.{status.value}" for status in GoalStatus)
    keys.update(f"decision.status.{status.value}" for status in DecisionStatus)
    keys.update(f"goal.already_{s.value}" for s in GoalStatus if s is not GoalStatus.ACTIVE)
    keys.update(f"onboarding.change.{action.value}" for action in RegisterChange)
    keys.update(f"error.empty_{what}" for what in ("text", "name", "reason"))
    keys.update(f"hints.level.{level.value}" for level in Sensitivity)
    keys.update(f"hints.model.{name}" for name in [*EMBEDDERS, *COMBINATIONS])  # the embedder running
    keys.update(f"hints.item.{kind}" for kind in ("decision", "goal"))
    keys.update(f"mydata.section.{section}" for section in PERSONAL_SECTIONS)
    return keys


# --------------------------------------------------------------------------------------------
# (a) and (b): both catalogs agree
# --------------------------------------------------------------------------------------------


def test_catalogs_have_the_same_keys():
    de, en = set(CATALOGS["de"]), set(CATALOGS["en"])
    assert de == en, f"only in de: {sorted(de - en)}; only in en: {sorted(en - de)}"
    assert catalog_keys("de") == de
    assert catalog_keys("en") == en


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_empty_translations(language):
    empty = sorted(k for k, forms in CATALOGS[language].items() if not all(f.strip() for f in forms))
    assert not empty, f"{language}: untranslated keys {empty}"


@pytest.mark.parametrize("key", sorted(CATALOGS["de"]))
def test_placeholders_agree_and_templates_parse(key):
    names: dict[str, set[str]] = {}
    for language in LANGUAGES:
        forms = CATALOGS[language].get(key)
        assert forms is not None, f"{key} missing in {language}"
        per_form = [placeholders(form) for form in forms]
        # All plural forms of one language offer the same placeholders.
        assert all(p == per_form[0] for p in per_form), f"{language} {key}: {per_form}"
        names[language] = per_form[0]
        for form in forms:
            values = {name: f"<{name}>" for name in per_form[0]}
            lines = parse_template(form, values)
            assert lines and all(isinstance(line, Line) for line in lines)
            # Every value made it into the output verbatim.
            text = "\n".join(line.plain for line in lines)
            for value in values.values():
                assert value in text, f"{language} {key}: {value} lost"
    assert names["de"] == names["en"], f"{key}: de {names['de']} vs en {names['en']}"


def test_plural_entries_have_two_forms():
    for language in LANGUAGES:
        for key, forms in CATALOGS[language].items():
            assert len(forms) in (1, 2), f"{language} {key}: {len(forms)} forms"
            if len(forms) == 2:
                assert "n" in placeholders(forms[0]) | placeholders(forms[1]), key


# --------------------------------------------------------------------------------------------
# (c) and (d): code and catalogs agree
# --------------------------------------------------------------------------------------------


def test_literal_key_scanner_skips_fstrings_and_audit_actions():
    source = (
        'a = "goal.label"\n'
        'b = f"goal.already_{x}"\n'
        'await self._log(group, actor, "decision.create", 1)\n'
        'c = "group.create"\n'
        'd = "Nr. 3"\n'
        'e = "bot.adapters"\n'
        'f = "bot.added"\n'
    )
    assert literal_keys(source) == {"goal.label", "bot.added"}


def test_router_commands_are_found():
    keys = {command.key for command in all_commands()}
    assert {"cmd.hilfe", "cmd.ag", "cmd.ag.anlegen", "cmd.beschluss.ersetzen"} <= keys


def test_every_key_used_by_the_code_exists():
    catalog = set(CATALOGS["de"])
    missing_literals = {
        key: sorted(map(str, files)) for key, files in code_literal_keys().items() if key not in catalog
    }
    missing_dynamic = sorted(dynamic_keys() - catalog)
    assert not missing_literals, f"keys used in code but not in the catalogs: {missing_literals}"
    assert not missing_dynamic, f"built keys not in the catalogs: {missing_dynamic}"


def test_no_unused_catalog_keys():
    used = set(code_literal_keys()) | dynamic_keys() | USED_OUTSIDE_BOT
    unused = sorted(set(CATALOGS["de"]) - used)
    assert not unused, f"catalog keys not used by the code: {unused}"


# Calls whose first argument is a catalog key and whose keyword arguments fill its placeholders.
KEY_CALLS = {
    "text",
    "markup",
    "lines",
    "say",
    "raw",
    "UserError",
    "UsageError",
    "NotFound",
    "PermissionDenied",
}


def missing_call_params(source: str) -> list[str]:
    """Literal-key calls in ``source`` that do not pass every placeholder of their template."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in KEY_CALLS:
            continue
        first = node.args[0]
        candidates = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
        keys = [
            c.value
            for c in candidates
            if isinstance(c, ast.Constant) and isinstance(c.value, str) and KEY_PATTERN.match(c.value)
        ]
        if not keys or any(kw.arg is None for kw in node.keywords):
            continue  # not a catalog lookup, or **params that cannot be checked statically
        given = {kw.arg for kw in node.keywords}
        if len(node.args) > 1 or "count" in given:
            given.add("n")  # the count fills {n}
        for key in keys:
            forms = CATALOGS["de"].get(key, [])
            needed = set().union(*(placeholders(form) for form in forms))
            if needed - given:
                problems.append(f"line {node.lineno}: {key} lacks {sorted(needed - given)}")
    return problems


def test_missing_call_params_detects_a_missing_placeholder():
    source = 'tr.text("goal.label")\nctx.say("goal.label", number=1)\ntr.markup("goal.list_title", 2)\n'
    assert missing_call_params(source) == ["line 1: goal.label lacks ['number']"]


def test_call_sites_pass_every_placeholder():
    problems = [
        f"{path.relative_to(ROOT)} {problem}"
        for path in sorted(BOT_DIR.rglob("*.py"))
        for problem in missing_call_params(path.read_text(encoding="utf-8"))
    ]
    assert not problems, problems


# --------------------------------------------------------------------------------------------
# (e) Translator
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "", "DE", "de_AT", "xx"])
def test_unknown_language_falls_back_to_german(language):
    tr = Translator(language)
    assert tr.language == "de"
    assert tr.text("role.mitglied") == "Mitglied"


def test_english_texts():
    tr = Translator("en")
    assert tr.language == "en"
    assert tr.text("cmd.hilfe.usage") == "/help [command]"


def test_missing_key_returns_the_key(caplog):
    assert Translator("en").raw("no.such.key") == "no.such.key"
    assert "no.such.key" in caplog.text


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("de", 1, "1 aktives Ziel"),
        ("de", 2, "2 aktive Ziele"),
        ("de", 0, "0 aktive Ziele"),
        ("en", 1, "1 active goal"),
        ("en", 7, "7 active goals"),
    ],
)
def test_plural_forms(language, count, expected):
    tr = Translator(language)
    assert tr.text("goal.list_title", count=count) == expected
    # The styling of the template survives, the count fills {n}.
    spans = tr.lines("goal.list_title", count=count)[0].spans
    assert all(s.bold for s in spans)


def test_plural_with_other_placeholders():
    tr = Translator("de")
    assert tr.text("decision.list_title", 1, name="AG X") == "1 gültiger Beschluss – AG X"
    assert tr.text("decision.list_title", 3, name="AG X") == "3 gültige Beschlüsse – AG X"


def test_placeholder_values_stay_unparsed_in_translations():
    tr = Translator("de")
    markup = tr.markup("ag.topic_set", topic="**<b>&**")
    assert markup.plain() == "✅ Schwerpunktthema gesetzt: **<b>&**"


def test_date_format():
    assert Translator("de").date(date(2026, 11, 21)) == "21.11.2026"
    assert Translator("de").date(date(2026, 1, 5)) == "05.01.2026"
    assert Translator("en").date(date(2026, 11, 21)) == "Nov 21, 2026"


@pytest.mark.parametrize(
    ("timezone", "hour"),
    [("Europe/Berlin", "10:30"), ("America/New_York", "04:30"), ("UTC", "09:30")],
)
def test_datetime_shows_group_timezone(timezone, hour):
    moment = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    shown = Translator("de", timezone).datetime(moment)
    assert shown == f"21.11.2026, {hour}", shown


def test_datetime_uses_the_date_format_of_dates():
    # One family: the date part reads exactly like Translator.date, the time has no seconds.
    moment = datetime(2026, 11, 30, 14, 44, 59, tzinfo=UTC)
    assert Translator("de").datetime(moment) == "30.11.2026, 15:44"
    assert Translator("en", "UTC").datetime(moment) == "Nov 30, 2026, 2:44\u202fPM"


@pytest.mark.parametrize(
    ("language", "name", "expected"),
    [
        ("de", "Bildung Ruhr", "AG Bildung Ruhr"),
        ("de", "AG Bildung Ruhr", "AG Bildung Ruhr"),
        ("de", "Bildungs-AG", "Bildungs-AG"),
        ("de", "ag bildung", "ag bildung"),
        ("de", "Arbeitsgruppe Schule", "Arbeitsgruppe Schule"),
        ("de", "Agenda 21", "AG Agenda 21"),  # "AG" inside a word does not count
        ("de", "Tagungsteam", "AG Tagungsteam"),
        ("en", "Bildung Ruhr", "the working group Bildung Ruhr"),
        ("en", "AG Bildung Ruhr", "AG Bildung Ruhr"),
    ],
)
def test_group_phrase_never_doubles_ag(language, name, expected):
    tr = Translator(language)
    assert tr.group_phrase(name) == expected
    if language == "de":
        assert tr.text("onboarding.title", ag=tr.group_phrase(name)) == f"👋 Willkommen in der {expected}!"


def test_no_texts_put_ag_before_a_name_placeholder():
    # Such texts read "der AG AG Bildung" for an AG called "AG Bildung"; they use {ag} instead.
    for language in LANGUAGES:
        for key, forms in CATALOGS[language].items():
            if key == "ag.phrase":  # the one place that adds "AG", used by Translator.group_phrase
                continue
            for form in forms:
                assert not re.search(r"\b(AG|working group) \{name\}", form), (language, key, form)


def test_no_pseudo_plurals():
    # "Seite(n)" and "page(s)" read badly; counted texts are plural entries (ngettext) instead.
    for language in LANGUAGES:
        for key, forms in CATALOGS[language].items():
            for form in forms:
                assert not re.search(r"[^\W\d_]\((n|e|s|en|er|es)\)", form), (language, key, form)


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("de", 1, "… und 1 weitere Änderung."),
        ("de", 4, "… und 4 weitere Änderungen."),
        ("en", 1, "… and 1 more change."),
        ("en", 4, "… and 4 more changes."),
    ],
)
def test_counted_changes(language, count, expected):
    assert Translator(language).text("onboarding.more_changes", count) == expected


def test_english_command_names_match_the_english_usage_lines():
    # help_target and /help name a command by its first alias in English; the English catalog's
    # usage lines must use that very name, or the help hint would point elsewhere.
    tr = Translator("en")
    for command in all_commands():
        if command.hidden:
            continue
        words = tr.text(f"{command.key}.usage").split()
        names = [command_name(command, "en")]
        parent = command.parent
        while parent is not None:
            names.insert(0, command_name(parent, "en"))
            parent = parent.parent
        assert words[: len(names)] == ["/" + names[0], *names[1:]], (command.key, words)


def test_datetime_crosses_midnight_in_group_timezone():
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    tr = Translator("de", "Europe/Berlin")
    assert "01.01." in tr.datetime(moment)
    assert tr.today(moment) == date(2027, 1, 1)
    assert Translator("de", "UTC").today(moment) == date(2026, 12, 31)


def test_every_listed_command_has_a_summary_for_the_help_overview():
    from bot.handlers import build_router

    for language in ("de", "en"):
        keys = catalog_keys(language)
        missing = [c.key for c in build_router() if not c.hidden and f"{c.key}.summary" not in keys]
        assert not missing, (language, missing)
