"""Classification of survey activities, results, the small-cell rule and comparisons.

The template and definition are built from the model's dataclasses here, so these tests do not
depend on the TOML loader. The sample survey (:data:`SAMPLE`) has 12 activities of 7
respondents; the expected figures are written out by hand next to it.
"""

from __future__ import annotations

import dataclasses
import statistics

import pytest

from bot.core.i18n import Translator
from bot.services.survey_export import cell_text, kind_label, mode_label, reasons, row_label
from bot.services.survey_model import (
    Check,
    Condition,
    Criterion,
    Definition,
    Group,
    Option,
    Question,
    QuestionType,
    Role,
    Template,
    Text,
)
from bot.services.survey_results import (
    FIGURES,
    ORGANISATION,
    PERSON,
    SMALL_CELL,
    Activity,
    Figures,
    Respondent,
    Results,
    classify,
    compare,
    definition_changes,
    failed_for,
    summarize,
)

# The definition ------------------------------------------------------------------------------

REASONS = {
    "gemeinwohl": ("nicht gemeinwohlorientiert", "not for the common good"),
    "freiwillig": ("nicht freiwillig", "not voluntary"),
    "oeffentlich": ("nicht öffentlich", "not public"),
    "nicht_profit": ("profitorientiert", "for profit"),
    "gemeinschaftlich": ("nicht gemeinschaftlich", "not done together"),
    "beitrag": ("kein Beitrag an Zeit, Geld oder Sachgütern", "no time, money or goods given"),
}
ASKED = ("gemeinwohl", "freiwillig", "oeffentlich", "nicht_profit", "gemeinschaftlich")


def criterion(criterion_id: str, check: Check = Check.ASK) -> Criterion:
    de, en = REASONS[criterion_id]
    return Criterion(
        id=criterion_id,
        name=Text(f"Name {criterion_id}", f"Name {criterion_id} (en)"),
        question=Text(f"Ist die Tätigkeit {criterion_id}?", f"Is the activity {criterion_id}?"),
        explanation=Text(f"Erklärung {criterion_id}"),
        example=Text(f"z. B. Gegenbeispiel {criterion_id}"),
        failed=Text(de, en),
        check=check,
    )


DEFINITION = Definition(
    title=Text("Engagement-Definition", "Definition of engagement"),
    criteria=(*(criterion(c) for c in ASKED), criterion("beitrag", Check.CONTRIBUTION)),
    summary=Text("Gemeinwohlorientiert, freiwillig, …"),
    version=1,
)

# The template --------------------------------------------------------------------------------

KINDS = ("stiftung", "kommune", "verein", "unternehmen", "schule", "andere")


def question(qid: str, qtype: QuestionType, role: Role | None = None, **more) -> Question:
    return Question(id=qid, type=qtype, text=Text(qid), role=role, **more)


IS_ORG = Condition("wer", equals=("organisation",))
TEMPLATE = Template(
    key="engagement",
    title=Text("Engagement-Erhebung"),
    items=(
        question(
            "wer",
            QuestionType.CHOICE,
            Role.RESPONDENT,
            options=(Option("person", Text("Person")), Option("organisation", Text("Organisation"))),
        ),
        question(
            "org_art",
            QuestionType.CHOICE,
            Role.ORG_KIND,
            options=tuple(Option(k, Text(k)) for k in KINDS),
            when=IS_ORG,
        ),
        question("org_name", QuestionType.TEXT, Role.ORG_NAME, when=IS_ORG),
        question("kommentar", QuestionType.TEXT, required=False),
        Group(
            id="t",
            title=Text("Tätigkeit"),
            more=Text("Noch eine Tätigkeit?"),
            classify=True,
            questions=(
                question("beschreibung", QuestionType.TEXT, Role.DESCRIPTION),
                question(
                    "art",
                    QuestionType.CHOICE,
                    Role.MODE,
                    options=(Option("direct", Text("direkt")), Option("indirect", Text("indirekt"))),
                ),
                question("stunden", QuestionType.HOURS, Role.HOURS, required=False),
                question("personen", QuestionType.NUMBER, Role.PEOPLE, required=False, integer=True),
                question("geld", QuestionType.MONEY, Role.MONEY, required=False),
                question("sachen", QuestionType.TEXT, Role.GOODS, required=False),
                question("sachwert", QuestionType.MONEY, Role.GOODS_VALUE, required=False),
                question("kriterien", QuestionType.CRITERIA),
            ),
        ),
    ),
)
FIELDS = {
    "description": "beschreibung",
    "mode": "art",
    "hours": "stunden",
    "people": "personen",
    "money": "geld",
    "goods": "sachen",
    "goods_value": "sachwert",
}


def response(who: str = "person", kind: str | None = None, name: str | None = None, activities=()) -> dict:
    """The engine's flat answers for one respondent; each activity is a dict of FIELDS plus
    ``no``: the asked criteria answered "no" (all others "yes")."""
    answers: dict = {"wer": who}
    if who != "person":
        answers |= {"org_art": kind, "org_name": name}
    for i, activity in enumerate(activities):
        prefix = f"t.{i}."
        answers[prefix + "beschreibung"] = f"Tätigkeit {i + 1}"
        for field, value in activity.items():
            if field in FIELDS:
                answers[prefix + FIELDS[field]] = value
        for criterion_id in (*ASKED, "inklusiv"):  # "inklusiv" is only asked by version 2
            answers[f"{prefix}crit.{criterion_id}"] = criterion_id not in activity.get("no", ())
        answers[prefix + "_more"] = i < len(activities) - 1
    return answers


# 7 respondents, 12 activities; "# counts" / "# not counted (why)" as worked out by hand.
SAMPLE = [
    response(
        activities=[
            {"mode": "direct", "hours": 10, "people": 2},  # counts
            {"mode": "direct", "hours": 4, "people": 1, "no": ("freiwillig",)},  # not counted
        ]
    ),
    response(activities=[{"mode": "direct", "hours": 6, "people": 1}]),  # counts
    response(
        "organisation",
        "stiftung",
        "Bürgerstiftung",
        activities=[
            {"mode": "indirect", "money": 5000},  # counts
            {"mode": "indirect", "money": 1200, "goods": "Laptops", "goods_value": 300},  # counts
        ],
    ),
    response(
        "organisation",
        "kommune",
        "Stadt Beispiel",
        activities=[
            {"mode": "indirect", "hours": 0, "goods": "Raum", "goods_value": 800},  # counts
            {"mode": "direct", "hours": 20, "people": 4, "no": ("gemeinwohl", "nicht_profit")},  # not
        ],
    ),
    response(
        activities=[
            {"mode": "direct", "hours": 12.5, "people": 1},  # counts
            {"mode": "direct", "hours": 0, "money": None},  # not counted: no contribution
        ]
    ),
    response(
        "organisation",
        "verein",
        "Sportverein",
        activities=[{"mode": "direct", "hours": 30, "people": 5, "money": 250}],  # counts
    ),
    response(
        activities=[
            {"mode": "indirect", "money": 100},  # counts
            {"mode": "direct", "hours": 8, "people": 1, "no": ("freiwillig",)},  # not counted
        ]
    ),
]


def classified(responses=SAMPLE, definition=DEFINITION):
    respondents, activities = [], []
    for index, answers in enumerate(responses, start=1):
        respondent, found = classify(TEMPLATE, definition, answers, index)
        respondents.append(respondent)
        activities.extend(found)
    return respondents, activities


def sample_results() -> tuple[Results, list[Activity]]:
    respondents, activities = classified()
    return summarize(respondents, activities, DEFINITION), activities


# Classification ------------------------------------------------------------------------------


def one_activity(**activity) -> Activity:
    _, activities = classify(TEMPLATE, DEFINITION, response(activities=[activity]), 1)
    assert len(activities) == 1
    return activities[0]


def test_an_activity_meeting_every_criterion_counts():
    activity = one_activity(mode="direct", hours=5, people=2)
    assert activity.failed == ()
    assert activity.counts
    assert (activity.description, activity.mode, activity.hours, activity.people) == (
        "Tätigkeit 1",
        "direct",
        5,
        2,
    )


@pytest.mark.parametrize("criterion_id", ASKED)
def test_each_asked_criterion_answered_no_fails_with_its_id(criterion_id):
    activity = one_activity(mode="direct", hours=5, no=(criterion_id,))
    assert activity.failed == (criterion_id,)
    assert not activity.counts


@pytest.mark.parametrize("criterion_id", ASKED)
def test_a_missing_criterion_answer_is_not_met(criterion_id):
    answers = response(activities=[{"mode": "direct", "hours": 5}])
    del answers[f"t.0.crit.{criterion_id}"]
    _, (activity,) = classify(TEMPLATE, DEFINITION, answers, 1)
    assert activity.failed == (criterion_id,)


@pytest.mark.parametrize(
    "contribution",
    [{}, {"hours": 0}, {"hours": 0, "money": 0, "goods_value": 0}, {"money": None}, {"people": 3}],
)
def test_no_contribution_fails_the_contribution_criterion(contribution):
    assert one_activity(mode="direct", **contribution).failed == ("beitrag",)


@pytest.mark.parametrize("contribution", [{"hours": 0.5}, {"money": 20}, {"goods_value": 1}])
def test_any_contribution_meets_the_contribution_criterion(contribution):
    assert one_activity(mode="indirect", **contribution).counts


def test_failed_criteria_come_in_definition_order():
    activity = one_activity(mode="direct", no=("gemeinschaftlich", "gemeinwohl"))
    assert activity.failed == ("gemeinwohl", "gemeinschaftlich", "beitrag")


def test_failed_for_is_the_rule_the_engine_uses_during_the_conversation():
    yes = dict.fromkeys(ASKED, True)
    assert failed_for(DEFINITION, yes, {"hours": 3.0}) == ()
    assert failed_for(DEFINITION, yes | {"freiwillig": False}, {"money": 10.0}) == ("freiwillig",)
    # "people" is not a contribution of its own; unknown keys are ignored.
    assert failed_for(DEFINITION, yes, {"people": 4.0, "other": 9.0}) == ("beitrag",)
    assert failed_for(DEFINITION, {}, {"hours": None}) == (*ASKED, "beitrag")


def test_respondent_person_and_organisations():
    person, _ = classify(TEMPLATE, DEFINITION, {"wer": "person", "org_name": "stale"}, 4)
    assert person == Respondent(4, PERSON, None)
    org, _ = classify(TEMPLATE, DEFINITION, response("organisation", "kommune", " Stadt X "), 2)
    assert org == Respondent(2, "kommune", "Stadt X")
    unknown, _ = classify(TEMPLATE, DEFINITION, {"wer": "organisation", "org_name": "Y"}, 3)
    assert unknown == Respondent(3, ORGANISATION, "Y")
    nobody, _ = classify(TEMPLATE, DEFINITION, {}, 1)
    assert nobody == Respondent(1, PERSON, None)


def test_repetitions_end_at_the_one_answered_no_more():
    answers = response(activities=[{"mode": "direct", "hours": 1}, {"mode": "indirect", "money": 5}])
    answers |= {"t.2.beschreibung": "leftover", "t.2.crit.gemeinwohl": True}  # after "_more": False
    _, activities = classify(TEMPLATE, DEFINITION, answers, 1)
    assert [(a.position, a.mode) for a in activities] == [(1, "direct"), (2, "indirect")]


def test_values_of_the_wrong_type_are_not_figures():
    activity = one_activity(mode="direct", hours=True, money="12", goods_value=float("nan"))
    assert (activity.hours, activity.money, activity.goods_value) == (None, None, None)
    assert activity.failed == ("beitrag",)


def test_a_template_without_a_classified_group_has_no_activities():
    template = dataclasses.replace(TEMPLATE, items=TEMPLATE.items[:4])
    respondent, activities = classify(template, DEFINITION, SAMPLE[0], 1)
    assert respondent.kind == PERSON
    assert activities == []


# Results -------------------------------------------------------------------------------------


def test_totals_add_up_counted_activities_only():
    results, activities = sample_results()
    assert (results.respondents, results.activities, results.counted, results.not_counted) == (7, 12, 8, 4)
    total = results.total
    # Counted: 10 + 6 + 12.5 + 30 hours (the not-counted 4 + 20 + 8 h are left out), people
    # 2 + 1 + 1 + 5, money 5000 + 1200 + 250 + 100, goods 300 + 800.
    assert (total.respondents, total.activities) == (7, 8)
    assert total.hours == pytest.approx(58.5)
    assert total.people == 9
    assert total.money == pytest.approx(6550)
    assert total.goods_value == pytest.approx(1100)
    # Medians over counted activities giving more than zero: hours 6, 10, 12.5, 30; money
    # 100, 250, 1200, 5000; goods 300, 800.
    assert total.hours_median == pytest.approx(11.25)
    assert total.money_median == pytest.approx(725)
    assert total.goods_median == pytest.approx(550)
    assert not total.suppressed

    # The same figures computed another way: straight from the rows, without summarize.
    counted = [a for a in activities if a.counts]
    hours = [a.hours for a in counted if a.hours]
    assert total.hours == pytest.approx(sum(hours))
    assert total.hours_median == pytest.approx(statistics.median(hours))
    assert total.money_median == pytest.approx(statistics.median([a.money for a in counted if a.money]))


def test_breakdowns_by_mode_and_kind():
    results, _ = sample_results()
    assert list(results.by_mode) == ["direct", "indirect"]
    direct, indirect = results.by_mode["direct"], results.by_mode["indirect"]
    assert (direct.respondents, direct.activities, direct.hours, direct.money) == (4, 4, 58.5, 250)
    assert (indirect.respondents, indirect.activities, indirect.money, indirect.goods_value) == (
        3,
        4,
        6300,
        1100,
    )
    assert indirect.hours == 0 and indirect.hours_median is None
    assert list(results.by_kind) == ["person", "stiftung", "kommune", "verein"]
    person = results.by_kind["person"]
    assert (person.respondents, person.activities, person.hours, person.money) == (4, 4, 28.5, 100)
    assert person.hours_median == pytest.approx(10)  # 6, 10, 12.5


def test_failed_criteria_most_frequent_first_ties_in_definition_order():
    results, _ = sample_results()
    assert results.failed == [("freiwillig", 2), ("gemeinwohl", 1), ("nicht_profit", 1), ("beitrag", 1)]
    assert [(a.respondent.index, a.position) for a in results.not_counted_list] == [
        (1, 2),
        (4, 2),
        (5, 2),
        (7, 2),
    ]
    assert results.definition_version == 1


def test_small_cells_two_respondents_suppressed_three_shown():
    results, _ = sample_results()
    assert results.by_mode["indirect"].respondents == SMALL_CELL == 3
    assert not results.by_mode["indirect"].suppressed
    assert results.by_kind["stiftung"].respondents == 1 and results.by_kind["stiftung"].suppressed

    # Without respondent 7 indirect engagement has only two respondents left.
    respondents, activities = classified(SAMPLE[:6])
    fewer = summarize(respondents, activities, DEFINITION)
    assert fewer.by_mode["indirect"].respondents == 2
    assert fewer.by_mode["indirect"].suppressed
    assert not fewer.total.suppressed


def test_one_respondent_with_many_activities_is_still_a_small_cell():
    respondents, activities = classified(
        [response(activities=[{"mode": "direct", "hours": h} for h in (1, 2, 3, 4)])]
    )
    results = summarize(respondents, activities, DEFINITION)
    assert results.by_mode["direct"].activities == 4
    assert results.by_mode["direct"].suppressed
    assert not results.total.suppressed and results.total.hours == 10


def test_no_responses():
    results = summarize([], [], DEFINITION)
    assert (results.respondents, results.counted, results.by_mode, results.failed) == (0, 0, {}, [])
    assert results.total.hours == 0 and results.total.hours_median is None


# Reading cells -------------------------------------------------------------------------------


def test_cell_text_keeps_the_small_cell_rule():
    results, _ = sample_results()
    de, en = Translator("de"), Translator("en")
    small = results.by_kind["stiftung"]
    assert {cell_text(small, attribute, de) for attribute in FIGURES} == {"< 3"}
    total = results.total
    assert cell_text(total, "hours", de) == "58,5"
    assert cell_text(total, "hours", en) == "58.5"
    assert cell_text(total, "money", de) == "6.550"
    assert cell_text(total, "hours_median", de) == "11,25"
    assert cell_text(total, "respondents", en) == "7"
    assert cell_text(results.by_mode["indirect"], "hours_median", de) == "–"
    assert cell_text(None, "hours", de) == "–"
    with pytest.raises(ValueError):
        cell_text(total, "description", de)


def test_labels():
    de, en = Translator("de"), Translator("en")
    assert kind_label("stiftung", de) == "Stiftung"
    assert kind_label("stiftung", en) == "Foundation"
    assert kind_label("genossenschaft", de) == "genossenschaft"
    assert mode_label("indirect", de) == "indirekt"
    assert mode_label(None, de) == ""
    assert (
        reasons(DEFINITION, ("gemeinwohl", "nicht_profit"), "de")
        == "nicht gemeinwohlorientiert, profitorientiert"
    )
    assert reasons(DEFINITION, ("freiwillig",), "en") == "not voluntary"


# Comparison ----------------------------------------------------------------------------------


def changed_definition() -> Definition:
    """Version 2: "freiwillig" has a new reason, "gemeinschaftlich" is gone, "inklusiv" is new,
    and "oeffentlich" only has a new explanation (not a change that matters to the figures)."""
    criteria = []
    for c in DEFINITION.criteria:
        if c.id == "freiwillig":
            c = dataclasses.replace(c, failed=Text("nicht aus freien Stücken"))
        elif c.id == "oeffentlich":
            c = dataclasses.replace(c, explanation=Text("Niemand darf ausgeschlossen werden."))
        elif c.id == "gemeinschaftlich":
            continue
        criteria.append(c)
    new = dataclasses.replace(criterion("gemeinwohl"), id="inklusiv")
    return dataclasses.replace(DEFINITION, criteria=(*criteria, new), version=2)


def test_definition_changes():
    v2 = changed_definition()
    assert definition_changes(DEFINITION, v2) == ["freiwillig", "gemeinschaftlich", "inklusiv"]
    assert definition_changes(DEFINITION, DEFINITION) == []
    moved = dataclasses.replace(
        DEFINITION, criteria=(*DEFINITION.criteria[:-1], criterion("beitrag", Check.ASK)), version=3
    )
    assert definition_changes(DEFINITION, moved) == ["beitrag"]


def test_compare_sets_two_surveys_side_by_side():
    a, _ = sample_results()
    v2 = changed_definition()
    later = [
        *SAMPLE[:2],
        response("organisation", "schule", "Schule Z", activities=[{"mode": "direct", "hours": 3}]),
    ]
    respondents, activities = classified(later, v2)
    b = summarize(respondents, activities, v2)
    comparison = compare(a, b, DEFINITION, v2)
    assert comparison.definition_changes == ["freiwillig", "gemeinschaftlich", "inklusiv"]
    rows = {(row.section, row.key): row for row in comparison.rows}
    assert list(rows) == [
        ("total", None),
        ("mode", "direct"),
        ("mode", "indirect"),
        *[("kind", k) for k in ("person", "stiftung", "kommune", "verein", "schule")],
    ]
    assert rows[("total", None)].a.hours == pytest.approx(58.5)
    # Survey b: respondent 1 (10 h; 4 h not voluntary), 2 (6 h), the school (3 h).
    assert rows[("total", None)].b.hours == pytest.approx(19)
    assert rows[("mode", "indirect")].b is None
    assert rows[("kind", "schule")].a is None and rows[("kind", "schule")].b.suppressed
    de = Translator("de")
    assert cell_text(rows[("kind", "schule")].b, "hours", de) == "< 3"
    assert cell_text(rows[("kind", "schule")].a, "hours", de) == "–"
    assert [row_label(row, de) for row in comparison.rows[:3]] == [
        "alle gezählten Tätigkeiten",
        "direkt",
        "indirekt",
    ]
    assert compare(a, a, DEFINITION, DEFINITION).definition_changes == []


def _cell(respondents: int, activities: int | None = None) -> Figures:
    n = activities if activities is not None else respondents
    return Figures(respondents, n, float(n), None, n, 0.0, None, 0.0, None)


def test_one_small_cell_hides_the_smallest_other_cell_too():
    """Total minus the shown cells would give a lone small cell away (secondary suppression)."""
    from bot.services.survey_results import _complement

    cells = _complement({"verein": _cell(2), "stiftung": _cell(3), "kommune": _cell(4)})
    assert [key for key, cell in cells.items() if cell.suppressed] == ["verein", "stiftung"]
    assert cells["stiftung"].complementary and not cells["kommune"].suppressed
    # Two small cells protect each other; none, or only small ones, need nothing more.
    two = _complement({"a": _cell(1), "b": _cell(2), "c": _cell(5)})
    assert [key for key, cell in two.items() if cell.suppressed] == ["a", "b"]
    assert not any(cell.suppressed for cell in _complement({"a": _cell(3), "b": _cell(9)}).values())
    assert all(cell.suppressed for cell in _complement({"a": _cell(2)}).values())
