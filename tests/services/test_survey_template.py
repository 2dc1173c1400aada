"""Reading survey templates and engagement definitions from TOML: good files, the stored dict,
and broken files whose every problem names its key and line.

Broken templates are the small :data:`BASE` (eight lines) plus the lines of the case, so the
expected line numbers can be counted in the case itself: its first line is line 9.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from bot.services.survey_model import Check, Group, Question, QuestionType, Role
from bot.services.survey_template import (
    FormatError,
    Problem,
    definition_from_dict,
    definition_to_dict,
    load_definition,
    load_template,
    template_from_dict,
    template_to_dict,
)
from bot.services.toml_check import KeyLines

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bot" / "services" / "surveys_data"
TEMPLATES = [DATA / "engagement.toml", ROOT / "docs" / "umfrage-beispiel.toml"]
DEFINITIONS = [DATA / "definition.toml", ROOT / "docs" / "definition-beispiel.toml"]

BASE = """\
key = "probe"
title = "Probe"

[[item]]
id = "kind"
type = "choice"
text = "Welche Art?"
options = [{ id = "a", de = "A" }, { id = "b", de = "B" }]
"""

MINIMAL = """\
key = "kurz"
title.de = "Kurz"

[[item]]
id = "name"
type = "text"
text = { de = "Wie heißt du?", en = "What is your name?" }
"""


def template_problems(source: str) -> list[Problem]:
    with pytest.raises(FormatError) as info:
        load_template(source, name="t.toml")
    return info.value.problems


def one_problem(source: str) -> Problem:
    problems = template_problems(source)
    assert len(problems) == 1, problems
    return problems[0]


def definition_problems(source: str) -> list[Problem]:
    with pytest.raises(FormatError) as info:
        load_definition(source, name="d.toml")
    return info.value.problems


# --- good files --------------------------------------------------------------------------------


def test_the_engagement_template_asks_what_the_issue_lists() -> None:
    template = load_template((DATA / "engagement.toml").read_text(encoding="utf-8"))
    assert template.key == "engagement-erhebung"
    assert template.title.de == "Engagement-Erhebung" and template.title.en
    assert [item.id for item in template.items] == ["respondent", "org_name", "org_kind", "activity"]
    respondent = template.by_role(Role.RESPONDENT)
    assert respondent is not None and [o.id for o in respondent.options] == ["person", "organisation"]
    kind = template.by_role(Role.ORG_KIND)
    assert kind is not None and kind.when is not None and kind.when.equals == ("organisation",)
    assert [o.label.de for o in kind.options] == [
        *("Stiftung", "Kommune", "Verein", "Unternehmen", "Schule", "Andere"),
    ]
    group = template.classified_group
    assert group is not None and group.id == "activity" and (group.minimum, group.maximum) == (1, 20)
    assert [q.id for q in group.questions] == [
        *("description", "mode", "contributions", "hours", "people", "money", "goods", "goods_value"),
        "criteria",
    ]
    assert group.require_one_of == ("hours", "money", "goods_value")
    description = group.by_role(Role.DESCRIPTION)
    assert description is not None and description.max_length == 200
    mode = group.by_role(Role.MODE)
    assert mode is not None and [o.id for o in mode.options] == ["direct", "indirect"]
    people = group.by_role(Role.PEOPLE)
    assert people is not None and people.integer and people.minimum == 1 and people.unit
    assert people.unit.de == "Personen"
    for role, includes in [(Role.HOURS, "time"), (Role.MONEY, "money"), (Role.GOODS_VALUE, "goods")]:
        question = group.by_role(role)
        assert question is not None and question.when is not None
        assert (question.when.question, question.when.includes) == ("contributions", includes)
    criteria = group.question("criteria")
    assert criteria is not None and criteria.type is QuestionType.CRITERIA


def test_the_shipped_definition_has_the_networks_six_criteria() -> None:
    definition = load_definition((DATA / "definition.toml").read_text(encoding="utf-8"))
    assert definition.version is None
    assert [c.name.de for c in definition.criteria] == [
        "Gemeinwohlorientierung",
        "Freiwillig",
        "Im öffentlichen Raum",
        "Nicht profitorientiert",
        "In der Regel gemeinschaftlich ausgeübt",
        "Bereitstellung von Zeit, Geld und Sachgütern",
    ]
    voluntary = definition.criterion("freiwillig")
    assert voluntary is not None and voluntary.failed.de == "nicht freiwillig"
    assert voluntary.example.de == "z. B. Pflichtstunden im Rahmen des Arbeitsvertrags"
    assert [c.check for c in definition.criteria] == [Check.ASK] * 5 + [Check.CONTRIBUTION]
    assert len(definition.asked) == 5
    for criterion in definition.criteria:
        for text in (criterion.name, criterion.question, criterion.explanation, criterion.example):
            assert text.de and text.en


def test_the_documented_examples_load() -> None:
    template = load_template((ROOT / "docs" / "umfrage-beispiel.toml").read_text(encoding="utf-8"))
    types = {
        q.type for item in template.items for q in (item.questions if isinstance(item, Group) else [item])
    }
    for needed in ("choice", "multi", "number", "date", "text"):
        assert QuestionType(needed) in types
    group = next(item for item in template.items if isinstance(item, Group))
    assert group.when is not None and not group.classify
    number = next(q for q in group.questions if q.type is QuestionType.NUMBER)
    assert number.unit is not None
    assert any(q.when for q in group.questions)
    definition = load_definition((ROOT / "docs" / "definition-beispiel.toml").read_text(encoding="utf-8"))
    offen = definition.criterion("offen")
    assert offen is not None and offen.name.en is None and offen.name.get("en") == "Offen für alle"


def test_a_minimal_template_gets_the_defaults() -> None:
    template = load_template(MINIMAL)
    (question,) = template.items
    assert isinstance(question, Question)
    assert (question.required, question.max_length, question.when, question.role) == (True, 500, None, None)
    assert template.title.de == "Kurz" and template.title.en is None and template.intro is None
    # The stored form writes the defaults out, so a later default never changes a stored survey.
    assert template.raw == {
        "key": "kurz",
        "title": {"de": "Kurz"},
        "item": [
            {
                "id": "name",
                "type": "text",
                "text": {"de": "Wie heißt du?", "en": "What is your name?"},
                "required": True,
                "max_length": 500,
            }
        ],
    }


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_a_template_survives_its_stored_dict(path: Path) -> None:
    template = load_template(path.read_text(encoding="utf-8"), name=path.name)
    stored = json.loads(json.dumps(template.raw))
    again = template_from_dict(stored)
    assert again == template
    assert again.raw == template.raw == template_to_dict(template)
    stored["item"][0]["text"]["de"] = "Geändert?"
    assert template_from_dict(stored) != template


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_a_definition_survives_its_stored_dict(path: Path) -> None:
    definition = load_definition(path.read_text(encoding="utf-8"))
    stored = json.loads(json.dumps(definition_to_dict(definition)))
    assert "version" not in stored
    assert definition_from_dict(stored) == definition
    stored["version"] = 3
    assert definition_from_dict(stored).version == 3
    assert definition_to_dict(definition_from_dict(stored))["version"] == 3


def test_a_broken_stored_dict_is_refused_without_lines() -> None:
    stored = load_template(MINIMAL).raw | {"key": "Kein Schlüssel"}
    with pytest.raises(FormatError) as info:
        template_from_dict(stored)
    assert [(p.line, p.key) for p in info.value.problems] == [(None, "key")]
    assert str(info.value).startswith("<gespeichert>: key: „Kein Schlüssel“ ist ungültig")


# --- the line locator --------------------------------------------------------------------------


def leaf_paths(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [p for key, inner in value.items() for p in leaf_paths(inner, (*path, key))]
    if isinstance(value, list):
        return [p for index, inner in enumerate(value) for p in leaf_paths(inner, (*path, index))]
    return [path]


@pytest.mark.parametrize("path", TEMPLATES + DEFINITIONS, ids=lambda p: p.name)
def test_every_key_of_the_shipped_files_is_found_on_its_line(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = KeyLines(source)
    text = source.splitlines()
    for leaf in leaf_paths(tomllib.loads(source)):
        line = lines.line(leaf)
        assert line is not None, leaf
        key = next(part for part in reversed(leaf) if isinstance(part, str))
        assert key in text[line - 1], (leaf, line)


def test_the_locator_is_not_fooled_by_strings_comments_and_quoted_keys() -> None:
    source = "\n".join(
        [
            'a = """',  # 1
            "[[item]]",  # 2: inside the string
            'b = 1 """  # [[item]] in a comment',  # 3
            '"quoted key".x = \'it"s\'',  # 4
            "[[item]]",  # 5
            "c = [",  # 6
            "  { d = 1 }, # },",  # 7
            '  { d = "]}" },',  # 8
            "]",  # 9
            "[item.e]",  # 10
            "f = 1979-05-27 07:32:00",  # 11
            "[[item]]",  # 12
            "g.h = '''x",  # 13
            "y'''",  # 14
            "i = 2",  # 15
        ]
    )
    lines = KeyLines(source)
    assert tomllib.loads(source)["item"][1]["i"] == 2
    expected = {
        ("a",): 1,
        ("quoted key", "x"): 4,
        ("item", 0): 5,
        ("item", 0, "c", 0, "d"): 7,
        ("item", 0, "c", 1): 8,
        ("item", 0, "e", "f"): 11,
        ("item", 1): 12,
        ("item", 1, "g", "h"): 13,
        ("item", 1, "i"): 15,
        ("item", 1, "g", "missing"): 13,
        ("item", 0, "missing"): 5,
        ("nothing",): None,
    }
    assert {path: lines.line(path) for path in expected} == expected


# --- broken templates --------------------------------------------------------------------------

GROUP = 'id = "g"\ntype = "group"\ntitle = "G"\n'
"""Lines 10–12 of a case that starts a group at line 9."""
CLASSIFIED = GROUP + "classify = true\n"
CRITERIA = '[[item.question]]\nid = "c"\ntype = "criteria"\n'

BROKEN = [
    pytest.param(
        '[[item]]\nid = "x"\ntype = "slider"\ntext = "X"\n',
        (11, "item[1].type", "unbekannter Typ „slider“; möglich: choice, multi, yesno"),
        id="unknown type",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "choice"\ntext = "X"\noptions = [{ id = "a", de = "A" }]\n',
        (13, "item[1].options", "mindestens zwei Optionen angeben"),
        id="one option",
    ),
    pytest.param(
        '[[item]]\nid = "kind"\ntype = "yesno"\ntext = "Nochmal?"\n',
        (10, "item[1].id", "Kennung „kind“ kommt doppelt vor (zuerst in Zeile 5)"),
        id="duplicate question id",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "multi"\ntext = "X"\noptions = [\n'
        '  { id = "a", de = "A" },\n  { id = "a", de = "B" },\n]\n',
        (15, "item[1].options[1].id", "Kennung „a“ kommt doppelt vor (zuerst in Zeile 14)"),
        id="duplicate option id",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "text"\ntext = "X"\nwhen = { question = "nope", equals = "a" }\n',
        (13, "item[1].when.question", "unbekannte Frage „nope“"),
        id="when names an unknown question",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "text"\ntext = "X"\nwhen = { question = "later", equals = "yes" }\n\n'
        '[[item]]\nid = "later"\ntype = "yesno"\ntext = "Später?"\n',
        (13, "item[1].when.question", "„later“ wird erst später gefragt"),
        id="when names a later question",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "yesno"\ntext = "X"\nwhen = { question = "x", equals = "yes" }\n',
        (13, "item[1].when.question", "„x“ wird erst später gefragt"),
        id="when names its own question",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "text"\ntext = "X"\nwhen = { question = "kind" }\n',
        (13, "item[1].when", "genau eine Prüfung angeben: equals, includes oder gt"),
        id="when without a test",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "text"\ntext = "X"\nwhen = { question = "kind", equals = "a", gt = 1 }\n',
        (13, "item[1].when", "genau eine Prüfung angeben: equals, includes oder gt (hier: equals, gt)"),
        id="when with two tests",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "text"\ntext = "X"\n'
        '[item.when]\nquestion = "kind"\nequals = ["a", "c"]\n',
        (15, "item[1].when.equals[1]", "„c“ ist keine Option von „kind“; möglich: a, b"),
        id="equals names an unknown option",
    ),
    pytest.param(
        '[[item]]\nid = "ok"\ntype = "yesno"\ntext = "OK?"\n\n'
        '[[item]]\nid = "why"\ntype = "text"\ntext = "Warum?"\nwhen = { question = "ok", equals = "ja" }\n',
        (18, "item[2].when.equals", "„ja“ ist keine Option von „ok“; möglich: yes, no"),
        id="yes/no conditions use yes and no",
    ),
    pytest.param(
        '[[item]]\nid = "x"\ntype = "text"\ntext = "X"\nwhen = { question = "kind", includes = "a" }\n',
        (13, "item[1].when.includes", "includes passt nicht zu „kind“ (Typ choice); dafür gibt es equals"),
        id="the wrong test for the type",
    ),
    pytest.param(
        '[[item]]\nid = "crit"\ntype = "criteria"\n',
        (11, "item[1].type", "Fragen vom Typ criteria gibt es nur in einer Gruppe mit classify = true"),
        id="criteria at the top level",
    ),
    pytest.param(
        "[[item]]\n" + GROUP + "\n" + CRITERIA,
        (16, "item[1].question[0].type", "Fragen vom Typ criteria gibt es nur in einer Gruppe mit classify"),
        id="criteria in a group without classify",
    ),
    pytest.param(
        "[[item]]\n" + CLASSIFIED + CRITERIA + '[[item]]\nid = "g2"\ntype = "group"\ntitle = "G2"\n'
        "classify = true\n" + CRITERIA,
        (21, "item[2].classify", "nur eine Gruppe darf classify = true haben (schon item[1])"),
        id="two classified groups",
    ),
    pytest.param(
        "[[item]]\n" + CLASSIFIED + '[[item.question]]\nid = "n"\ntype = "number"\ntext = "N"\n',
        (9, "item[1]", "eine Gruppe mit classify = true braucht eine Frage vom Typ criteria"),
        id="a classified group without criteria",
    ),
    pytest.param(
        "[[item]]\n" + GROUP + 'require_one_of = [\n  "n",\n  "nope",\n]\n'
        '[[item.question]]\nid = "n"\ntype = "number"\ntext = "N"\n',
        (15, "item[1].require_one_of[1]", "unbekannte Frage „nope“ in dieser Gruppe"),
        id="require_one_of names an unknown question",
    ),
    pytest.param(
        "[[item]]\n"
        + GROUP
        + 'require_one_of = ["t"]\n[[item.question]]\nid = "t"\ntype = "text"\ntext = "T"\n',
        (13, "item[1].require_one_of[0]", "„t“ ist vom Typ text; hier zählen nur number, money, hours"),
        id="require_one_of names a text question",
    ),
    pytest.param(
        '[[item]]\nid = "n"\ntype = "number"\ntext = "N"\nmin = 10\nmax = 5\n',
        (13, "item[1].min", "min (10) ist größer als max (5)"),
        id="min above max",
    ),
    pytest.param(
        "[[item]]\n" + GROUP + 'max = 2\nmin = 3\n[[item.question]]\nid = "t"\ntype = "text"\ntext = "T"\n',
        (14, "item[1].min", "min (3) ist größer als max (2)"),
        id="a group's min above its max",
    ),
    pytest.param(
        '[[item]]\nid = "h"\ntype = "hours"\ntext = "H"\nmax = 800\n',
        (13, "item[1].max", "Stunden im Monat liegen zwischen 0 und 744"),
        id="more hours than a month has",
    ),
    pytest.param(
        '[[item]]\nid = "t"\ntype = "text"\ntext = "T"\nmax_length = 0\n',
        (13, "item[1].max_length", "muss mindestens 1 sein"),
        id="max_length zero",
    ),
    pytest.param(
        '[[item]]\nid = "t"\ntype = "text"\ntext = "T"\nmax_length = 5000\n',
        (13, "item[1].max_length", "darf höchstens 4000 sein"),
        id="max_length too long",
    ),
    pytest.param(
        '[[item]]\nid = "t"\ntype = "text"\ntext = "T"\nrequierd = false\n',
        (13, "item[1].requierd", "unbekannter Schlüssel „requierd“ – gemeint ist wohl „required“"),
        id="a typo in a key",
    ),
    pytest.param(
        '[[item]]\nid = "t"\ntype = "text"\ntext = { de = "T", fr = "T" }\n',
        (12, "item[1].text.fr", "unbekannter Schlüssel „fr“"),
        id="an unknown language",
    ),
    pytest.param(
        '[[item]]\nid = "y"\ntype = "yesno"\ntext = "Y"\n'
        'options = [{ id = "a", de = "A" }, { id = "b", de = "B" }]\n',
        (13, "item[1].options", "gibt es bei Typ „yesno“ nicht"),
        id="a key of another type",
    ),
    pytest.param(
        '[[item]]\nid = "t"\ntype = "text"\ntext.en = "T"\n',
        (12, "item[1].text.de", "deutscher Text fehlt"),
        id="no German text",
    ),
    pytest.param(
        "[[item]]\n"
        + CLASSIFIED
        + '[[item.question]]\nid = "t"\ntype = "text"\ntext = "T"\nrole = "hours"\n'
        + CRITERIA,
        (18, "item[1].question[0].role", "Rolle „hours“ verlangt eine Frage vom Typ hours, nicht text"),
        id="role hours on a text question",
    ),
    pytest.param(
        "[[item]]\n"
        + CLASSIFIED
        + '[[item.question]]\nid = "m"\ntype = "choice"\ntext = "M"\nrole = "mode"\n'
        'options = [{ id = "direkt", de = "direkt" }, { id = "indirekt", de = "indirekt" }]\n' + CRITERIA,
        (19, "item[1].question[0].options", "Rolle „mode“ verlangt genau die Optionen direct und indirect"),
        id="role mode with other options",
    ),
    pytest.param(
        '[[item]]\nid = "t"\ntype = "text"\ntext = "T"\nrole = "description"\n',
        (13, "item[1].role", "Rolle „description“ gehört in die Gruppe mit classify = true"),
        id="an activity's role at the top level",
    ),
    pytest.param(
        "[[item]]\n"
        + CLASSIFIED
        + '[[item.question]]\nid = "r"\ntype = "choice"\ntext = "R"\nrole = "respondent"\n'
        'options = [{ id = "person", de = "P" }, { id = "organisation", de = "O" }]\n' + CRITERIA,
        (
            18,
            "item[1].question[0].role",
            "Rolle „respondent“ gehört auf die oberste Ebene, nicht in eine Gruppe",
        ),
        id="the respondent's role in a group",
    ),
    pytest.param(
        '[[item]]\nid = "t"\ntype = "text"\ntext = "T"\nrole = "stunden"\n',
        (13, "item[1].role", "unbekannte Rolle „stunden“; möglich: respondent"),
        id="an unknown role",
    ),
    pytest.param(
        "[[item]]\n" + GROUP + '[[item.question]]\nid = "kind"\ntype = "text"\ntext = "T"\n',
        (14, "item[1].question[0].id", "Kennung „kind“ kommt doppelt vor (zuerst in Zeile 5)"),
        id="a group question named like a top-level one",
    ),
    pytest.param(
        "[[item]]\n" + GROUP + '[[item.question]]\nid = "inner"\ntype = "group"\ntitle = "I"\n',
        (15, "item[1].question[0].type", "Gruppen lassen sich nicht verschachteln"),
        id="a group in a group",
    ),
    pytest.param(
        "[[item]]\n" + GROUP + '[[item.question]]\nid = "t"\ntype = "text"\ntext = "T"\n\n'
        '[[item]]\nid = "after"\ntype = "text"\ntext = "A"\nwhen = { question = "t", equals = "x" }\n',
        (22, "item[2].when.question", "„t“ steht in der Gruppe „g“"),
        id="when names a question inside a group",
    ),
]


@pytest.mark.parametrize(("extra", "expected"), BROKEN)
def test_a_broken_template_names_the_key_and_line(extra: str, expected: tuple[int, str, str]) -> None:
    source = BASE + extra
    assert tomllib.loads(source)  # the case is valid TOML: the problem is the template's
    problem = one_problem(source)
    line, key, message = expected
    assert (problem.line, problem.key) == (line, key)
    assert problem.message.startswith(message), problem.message


def test_a_syntax_error_gives_tomllibs_message_and_line() -> None:
    with pytest.raises(FormatError) as info:
        load_template('key = "x"\ntitle = "T"\n[[item]\n', name="kaputt.toml")
    (problem,) = info.value.problems
    assert problem.line == 3 and problem.key == ""
    assert problem.message.startswith("TOML-Syntaxfehler: ") and "line" not in problem.message
    assert str(info.value) == f"kaputt.toml:3: {problem.message}"


def test_a_missing_key_has_no_line_and_all_problems_come_at_once() -> None:
    source = MINIMAL.replace('key = "kurz"\n', 'titel = "x"\n')
    source += 'options = [{ id = "a", de = "A" }]\n[[item]]\nid = "name"\ntype = "choice"\ntext = "?"\n'
    problems = template_problems(source)
    assert [(p.line, p.key) for p in problems] == [
        (None, "key"),
        (1, "titel"),
        (8, "item[0].options"),
        (9, "item[1].options"),
        (10, "item[1].id"),
    ]
    assert problems[0].message == "Pflichtangabe fehlt"
    assert problems[1].message == "unbekannter Schlüssel „titel“ – gemeint ist wohl „title“"


def test_the_error_reads_one_line_per_problem() -> None:
    source = BASE + '[[item]]\nid = "x"\ntype = "choice"\ntext = "X"\noptions = []\nrequierd = true\n'
    with pytest.raises(FormatError) as info:
        load_template(source, name="DATEI")
    assert str(info.value).splitlines() == [
        "DATEI:13: item[1].options: mindestens zwei Optionen angeben",
        "DATEI:14: item[1].requierd: unbekannter Schlüssel „requierd“ – gemeint ist wohl „required“",
    ]


# --- broken definitions ------------------------------------------------------------------------

DEFINITION = """\
title = "Definition"

[[criterion]]
id = "frei"
name = "Freiwillig"
question = "Freiwillig?"
explanation = "Niemand muss."
example = "z. B. Pflichtstunden"
failed = "nicht freiwillig"
"""


def test_a_small_definition_loads() -> None:
    definition = load_definition(DEFINITION)
    (criterion,) = definition.criteria
    assert (criterion.id, criterion.check, criterion.failed.de) == ("frei", Check.ASK, "nicht freiwillig")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            DEFINITION + "\n" + DEFINITION.split("\n", 2)[2].replace("Freiwillig", "Frei"),
            [(12, "criterion[1].id", "Kennung „frei“ kommt doppelt vor (zuerst in Zeile 4)")],
            id="duplicate criterion ids",
        ),
        pytest.param(
            DEFINITION.replace('failed = "nicht freiwillig"', 'failed = { en = "not voluntary" }'),
            [(9, "criterion[0].failed.de", "deutscher Text fehlt")],
            id="no German text",
        ),
        pytest.param(
            DEFINITION.replace('explanation = "Niemand muss."\n', "").replace(
                'name = "Freiwillig"', "name.en = 'X'"
            ),
            [
                (3, "criterion[0].explanation", "Pflichtangabe fehlt (mindestens de = …)"),
                (5, "criterion[0].name.de", "deutscher Text fehlt"),
            ],
            id="missing texts",
        ),
        pytest.param(
            DEFINITION + 'check = "vote"\n',
            [(10, "criterion[0].check", "unbekannte Prüfung „vote“; möglich: ask, contribution")],
            id="unknown check",
        ),
        pytest.param(
            "version = 2\n" + DEFINITION,
            [(1, "version", "die Version vergibt der Import selbst; bitte weglassen")],
            id="a version in the file",
        ),
        pytest.param(
            'title = "Definition"\n',
            [(None, "criterion", "Pflichtangabe fehlt (jedes Kriterium beginnt mit [[criterion]])")],
            id="no criteria",
        ),
    ],
)
def test_a_broken_definition_names_the_key_and_line(
    source: str, expected: list[tuple[int | None, str, str]]
) -> None:
    assert [(p.line, p.key, p.message) for p in definition_problems(source)] == expected


def test_every_damaged_copy_of_the_template_loads_or_says_where() -> None:
    lines = (DATA / "engagement.toml").read_text(encoding="utf-8").splitlines(keepends=True)
    refused = 0
    for index in range(len(lines)):
        source = "".join(lines[:index] + lines[index + 1 :])
        try:
            load_template(source)
        except FormatError as error:
            refused += 1
            assert error.problems
            for problem in error.problems:
                assert problem.line is None or 1 <= problem.line <= len(lines) - 1, problem
                assert problem.message
        else:
            assert not lines[index].strip().startswith(("id =", "type =", "[[item"))
    assert refused > len(lines) // 3


def test_the_guide_names_every_key_type_and_role() -> None:
    guide = (ROOT / "docs" / "umfragen.md").read_text(encoding="utf-8")
    keys = [
        *("key", "title", "intro", "[[item]]", "id", "type", "text", "help", "required", "when", "role"),
        *("options", "min", "max", "integer", "unit", "max_length", "more", "classify"),
        *("require_one_of", "require_message", "[[item.question]]", "equals", "includes", "gt"),
        *("summary", "[[criterion]]", "name", "question", "explanation", "example", "failed", "check"),
        *("kuemmerer umfrage import DATEI.toml", "kuemmerer definition import DATEI.toml"),
    ]
    words = (
        keys
        + [t.value for t in QuestionType]
        + ["group"]
        + [r.value for r in Role]
        + [c.value for c in Check]
    )
    # Names as code (`when`, when = …); headers and commands anywhere, e.g. in a code block.
    missing = [
        word
        for word in words
        if f"`{word}" not in guide and f"{word} =" not in guide and (word.isidentifier() or word not in guide)
    ]
    assert not missing
