"""Survey results through the harness: the small-cell rule (two organisations of a kind read
"< 3", three show figures), ``/umfrage vergleich`` of two surveys of one template with the note
when their definition versions differ, and a person in two AGs with open surveys, who is asked
which one to answer.

The clock starts on Saturday, 21 November 2026, 10:00 in Berlin.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from bot.services.survey_model import Text
from storage.models import (
    ResponseStatus,
    Survey,
    SurveyResponse,
)
from tests.handlers.survey_support import (
    PAUL,
    START,
    STIFTUNG,
    Activity,
    Respondent,
    adopt,
    answer_all,
    attachments,
    dm,
    expected_totals,
    german,
    plain,
    respond,
    say,
)
from tests.harness import BotHarness


@pytest.fixture
async def ag(bot: BotHarness) -> BotHarness:
    """AG Engagement: anna coordinates; stiftung and paul are members."""
    await bot.setup_group("AG Engagement", user="anna")
    for name in ("stiftung", "paul"):
        await bot.send("Hallo zusammen", user=name)
    return bot


# Small cells ----------------------------------------------------------------------------------


def foundation(number: int, kind: str = "Stiftung") -> Respondent:
    return Respondent(
        organisation=(f"{kind} {number}", kind),
        activities=(
            Activity(
                f"Förderprogramm {number}",
                direct=False,
                money=(f"{number}.000", number * 1000.0),
                hours=(f"{number * 2}", number * 2.0),
                people=("1", 1),
            ),
        ),
    )


async def test_breakdowns_of_fewer_than_three_respondents_show_no_figures(bot: BotHarness) -> None:
    """Two Vereine read "< 3"; so do the three Stiftungen, the smallest other cell, or the total
    minus the Kommunen and Stiftungen would give the Vereine away; four Kommunen are shown."""
    await bot.setup_group("AG Engagement", user="anna")
    stiftungen = {f"stiftung{n}": foundation(n) for n in (1, 2, 3)}
    vereine = {f"verein{n}": foundation(n + 3, "Verein") for n in (1, 2)}
    kommunen = {f"kommune{n}": foundation(n + 5, "Kommune") for n in (1, 2, 3, 4)}
    everyone = {**stiftungen, **vereine, **kommunen}
    for name in everyone:
        await bot.send("Hallo", user=name)
    await bot.send(START, user="anna")
    for name, respondent in everyone.items():
        await respond(bot, name, respondent)
    await bot.send("/umfrage schliessen", user="anna")

    result, _ = await bot.send("/umfrage ergebnis", user="verein1")
    four = list(kommunen.values())
    hours = sum(r.activities[0].hours_value or 0 for r in four)
    money = sum(r.activities[0].money_value or 0 for r in four)
    assert (
        f"• Kommune: 4 Tätigkeiten, {german(hours)} Std./Monat, {german(money, money=True)} €, Sachgüter 0 €"
        in result
    )
    assert [line for line in result.splitlines() if line.startswith("• Verein")] == ["• Verein: < 3"]
    assert [line for line in result.splitlines() if line.startswith("• Stiftung")] == ["• Stiftung: < 3"]
    totals = expected_totals(list(everyone.values()))
    total_hours, total_money = german(totals["hours"]), german(totals["money"], money=True)
    assert f"• indirekt: 9 Tätigkeiten, {total_hours} Std./Monat, {total_money} €" in result

    before = len(bot.sent_to("anna"))
    await bot.send("/umfrage export", user="anna")
    files = attachments(bot.sent_to("anna")[before:])
    totals_sheet = list(
        load_workbook(io.BytesIO(files["umfrage-1.xlsx"]))["Summen"].iter_rows(values_only=True)
    )
    [kommune] = [r for r in totals_sheet if r[:2] == ("Art der Befragten", "Kommune")]
    [stiftung] = [r for r in totals_sheet if r[:2] == ("Art der Befragten", "Stiftung")]
    [verein] = [r for r in totals_sheet if r[:2] == ("Art der Befragten", "Verein")]
    assert kommune[2:4] == (4, 4) and kommune[7] == money
    assert set(verein[2:11]) == {"< 3"}
    assert set(stiftung[2:11]) == {"< 3"}


# Comparisons ----------------------------------------------------------------------------------


async def run_survey(bot: BotHarness, answers: dict[str, Respondent]) -> None:
    """Start the Engagement-Erhebung, let these people answer, close it."""
    await bot.send(START, user="anna")
    for name, respondent in answers.items():
        await respond(bot, name, respondent)
    await bot.send("/umfrage schliessen", user="anna")


async def test_two_surveys_side_by_side_and_where_their_definitions_differ(ag: BotHarness) -> None:
    bot = ag
    await run_survey(bot, {"paul": PAUL})
    await run_survey(bot, {"paul": PAUL, "stiftung": STIFTUNG})
    one, two = expected_totals([PAUL]), expected_totals([PAUL, STIFTUNG])
    comparison = await bot.say("/umfrage vergleich 1 2", user="paul")
    assert comparison.startswith("📊 Vergleich: Umfrage Nr. 1 und Nr. 2 (Engagement-Erhebung)")
    assert f"Antwortende / gezählte Tätigkeiten: 1 / {one['counted']} → 2 / {two['counted']}" in comparison
    assert (
        f"• alle gezählten Tätigkeiten: Std./Monat {german(one['hours'])} → {german(two['hours'])} · "
        f"€ {german(one['money'], money=True)} → {german(two['money'], money=True)} · "
        f"Sachgüter € {german(one['goods_value'], money=True)} → {german(two['goods_value'], money=True)}"
    ) in comparison
    assert "• Stiftung: Std./Monat – → < 3" in comparison  # none in 1, one Stiftung in 2
    assert comparison.endswith("Beide nutzen die Definition Version 1.")

    # The network adopts a changed criterion; the next survey asks and counts by it.
    assert await adopt(bot, "freiwillig", question=Text("Machst du das ohne jede Verpflichtung?")) == 2
    await bot.send(START, user="anna")
    await say(bot, "paul", "/umfrage weiter")
    replies = await answer_all(bot, "paul", ["1", *PAUL.activities[1].typed()[:-4]])
    assert "Machst du das ohne jede Verpflichtung?" in plain(replies)
    await answer_all(bot, "paul", PAUL.activities[1].typed()[-4:] + ["nein"])
    await bot.send("/umfrage schliessen", user="anna")
    [first, _, third] = await bot.rows(Survey, order_by=[Survey.number])
    assert first.definition_id != third.definition_id

    comparison = await bot.say("/umfrage vergleich 1 3", user="paul")
    assert comparison.endswith(
        "⚠️ Unterschiedliche Definitionen: Version 1 und 2 – geändert: Freiwillig. "
        "Die Zahlen sind nur eingeschränkt vergleichbar."
    )
    result, _ = await bot.send("/umfrage ergebnis 3", user="paul")
    assert "Gezählt nach der Definition von Engagement, Version 2 (/definition 2)." in result
    result, _ = await bot.send("/umfrage ergebnis 1", user="paul")
    assert "Version 1 (/definition 1)." in result

    assert "Umfrage Nr. 9 gibt es in dieser AG nicht." in await bot.say("/umfrage vergleich 1 9", user="paul")
    assert "/umfrage vergleich" in await bot.say("/umfrage vergleich 1", user="paul")  # the usage


# A person in two AGs --------------------------------------------------------------------------


async def test_a_person_in_two_ags_with_open_surveys_is_asked_which(ag: BotHarness) -> None:
    bot = ag
    await bot.setup_group("AG Umwelt", user="bodo", chat="umwelt")
    await bot.send("Hallo", user="paul", chat="umwelt")
    await bot.send(START, user="anna")
    await bot.send(START, user="bodo", chat="umwelt")
    engagement, umwelt = await bot.rows(Survey, order_by=[Survey.id])

    [which] = await dm(bot, "paul", "/umfrage weiter")
    assert which.markup.plain() == "Welche Umfrage? Tipp auf eine:"
    assert [(b.label, b.command) for row in which.buttons for b in row] == [
        ("Engagement-Erhebung (AG Engagement)", f"/umfrage weiter umfrage-{engagement.id}"),
        ("Engagement-Erhebung (AG Umwelt)", f"/umfrage weiter umfrage-{umwelt.id}"),
    ]
    opened = await say(bot, "paul", f"/umfrage weiter umfrage-{umwelt.id}")
    assert "Die AG Umwelt lädt dich zur Umfrage" in opened and "Frage 1 von" in opened
    await answer_all(bot, "paul", ["1"])
    # While it is open, /umfrage weiter goes on with it; after a pause it asks again.
    assert "Frage 2 von" in await say(bot, "paul", "/umfrage weiter")
    assert (await say(bot, "paul", "/abbrechen")).startswith("⏸ Pausiert.")
    [which] = await dm(bot, "paul", "/umfrage weiter")
    assert which.markup.plain() == "Welche Umfrage? Tipp auf eine:"
    await say(bot, "paul", f"/umfrage weiter umfrage-{engagement.id}")
    await answer_all(bot, "paul", STIFTUNG.typed())
    # Only the other one is left: no question any more.
    assert "Frage 2 von" in await say(bot, "paul", "/umfrage weiter")
    responses = {r.survey_id: r for r in await bot.rows(SurveyResponse)}
    assert responses[engagement.id].status is ResponseStatus.FINISHED
    assert responses[umwelt.id].status is ResponseStatus.DRAFT
    assert responses[umwelt.id].draft == {"respondent": "person"}
