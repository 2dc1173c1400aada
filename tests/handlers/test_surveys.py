"""Surveys through the harness, coordination side: the Engagement-Erhebung from the start in the
group to the export files (the issue's "done when" story) with results whose totals are computed
here from the answers, one response per person, ``/definition`` and the "?" button, the reminder
and the close at the deadline, and who may do what.

Answering itself (every question type, going back, pausing, restarts, changes) is
tests/handlers/test_survey_answers.py; the small-cell rule, comparisons and a person in two AGs
are tests/handlers/test_survey_results_flow.py; anonymity is tests/handlers/test_survey_privacy.py.
The clock starts on Saturday, 21 November 2026, 10:00 in Berlin.
"""

from __future__ import annotations

import io
import statistics
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from bot.jobs.retention import JOB_KIND as RETENTION_JOB
from bot.services.survey_model import Text
from bot.services.surveys import JOB_CLOSE, JOB_REMIND, shipped_definition
from storage.models import (
    EngagementDefinition,
    JobStatus,
    ResponseStatus,
    ScheduledJob,
    Survey,
    SurveyResponse,
    SurveyStatus,
)
from tests.handlers.survey_support import (
    DEADLINE,
    FAILED,
    NOT_VOLUNTARY,
    PAUL,
    START,
    STIFTUNG,
    Respondent,
    adopt,
    answer_all,
    attachments,
    commands,
    dm,
    expected_totals,
    german,
    german_number,
    in_group,
    plain,
    read_csv,
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


# The story ------------------------------------------------------------------------------------


async def test_the_engagement_survey_from_the_start_to_the_export(ag: BotHarness) -> None:
    bot = ag
    [announcement] = await bot.send(START, user="anna")
    assert announcement.startswith(
        "📋 Umfrage Nr. 1 der AG Engagement: Engagement-Erhebung – bis 24.11.2026, 10:00."
    )
    assert commands(in_group(bot)[-1]) == ["umfrage-1"]  # the open button (a deep link)
    [survey] = await bot.rows(Survey)
    assert (survey.number, survey.status, survey.anonymous, survey.deadline) == (
        1,
        SurveyStatus.OPEN,
        False,
        DEADLINE,
    )
    [definition] = await bot.rows(EngagementDefinition)
    assert survey.definition_id == definition.id and definition.version == 1
    jobs = await bot.rows(ScheduledJob, ScheduledJob.ref_id == survey.id, order_by=[ScheduledJob.due_at])
    assert [(j.kind, j.due_at) for j in jobs] == [
        (JOB_REMIND, DEADLINE - timedelta(days=1)),
        (JOB_CLOSE, DEADLINE),
    ]
    # Each member, the koordination too, is invited privately, with a button that opens it.
    for name in ("anna", "stiftung", "paul"):
        [invitation] = bot.sent_to(name)
        text = invitation.markup.plain()
        assert text.startswith("📋 Die AG Engagement lädt dich zur Umfrage Engagement-Erhebung ein")
        assert "Datenschutz: Deine Antworten werden mit deinem Namen gespeichert." in text
        assert commands(invitation) == ["/start umfrage-1"]

    # The Stiftung follows the deep link and answers: an indirect funding activity that counts.
    thanks = await respond(bot, "stiftung", STIFTUNG, opener="/start umfrage-1")
    assert "Danke! Deine Antworten zu „Engagement-Erhebung“ sind abgeschickt." in thanks
    assert "Tätigkeiten: 1, davon zählen 1 als Engagement im Sinne der Definition." in thanks

    # Paul's first activity is not voluntary: he is told at once, with the reason and example.
    answers = PAUL.typed()
    voluntary = 1 + len(PAUL.activities[0].typed()) - 4  # "1", the activity, then criterion 2
    assert (answers[voluntary - 1], answers[voluntary]) == ("ja", "nein")
    assert "Frage 1 von" in await say(bot, "paul", "/umfrage weiter")
    await answer_all(bot, "paul", answers[:voluntary])
    notice, question = await dm(bot, "paul", answers[voluntary])
    assert notice.markup.plain().startswith(NOT_VOLUNTARY)
    assert "Kriterium: Im öffentlichen Raum" in question.markup.plain()
    thanks = plain(await answer_all(bot, "paul", answers[voluntary + 1 :]))
    assert "Tätigkeiten: 2, davon zählen 1 als Engagement im Sinne der Definition." in thanks
    assert "„Pflichtstunden im Verein“ zählt nicht: nicht freiwillig" in thanks

    responses = await bot.rows(SurveyResponse, order_by=[SurveyResponse.id])
    assert [r.status for r in responses] == [ResponseStatus.FINISHED] * 2
    assert all(r.person_id is not None and r.draft is None and not r.active for r in responses)
    stiftung, paul = (r.answers for r in responses)
    assert (stiftung["respondent"], stiftung["org_name"], stiftung["org_kind"]) == (
        "organisation",
        "Bürgerstiftung Musterstadt",
        "stiftung",
    )
    assert (stiftung["activity.0.mode"], stiftung["activity.0.money"]) == ("indirect", 5000.0)
    assert stiftung["activity.0.contributions"] == ["money", "goods"]
    assert stiftung["activity.0.goods_value"] == 1200.5 and "activity.0.hours" not in stiftung
    assert paul["activity.0.crit.freiwillig"] is False and paul["activity.1.hours"] == 12.5
    assert paul["activity.1.people"] == 2 and paul["activity.1._more"] is False

    assert "Mitglieder: 3 · begonnen: 2 · davon abgeschlossen: 2" in await bot.say(
        "/umfrage status", user="anna"
    )

    # Results: the totals are those of the counted activities, computed here from the data.
    expected = expected_totals([STIFTUNG, PAUL])
    assert (expected["counted"], expected["not_counted"]) == (2, 1)
    before = len(bot.messenger.sent)
    result, chart = await bot.send("/umfrage ergebnis", user="anna")
    assert "Zwischenstand der Umfrage Nr. 1: Engagement-Erhebung (läuft noch)" in result
    assert "Gezählt nach der Definition von Engagement, Version 1" in result
    assert "Antworten: 2 von 3 Mitgliedern." in result
    assert "Tätigkeiten: 3 – gezählt: 2, nicht gezählt: 1." in result
    assert (
        f"Zeit: {german(expected['hours'])} Std./Monat (Median 12,5), {expected['people']} Personen" in result
    )
    assert f"Geld: {german(expected['money'], money=True)} € pro Jahr (Median 5.000)" in result
    assert f"Sachgüter: Wert {german(expected['goods_value'], money=True)} € (Median 1.200,50)" in result
    assert "• Pflichtstunden im Verein – nicht freiwillig" in result
    assert "Häufigste Gründe: nicht freiwillig (1)" in result
    # Two respondents: no breakdown may show figures.
    assert "• indirekt: < 3" in result and "• direkt: < 3" in result
    assert "• Stiftung: < 3" in result and "• Person: < 3" in result
    assert chart == "📊 Umfrage Nr. 1"
    [png] = [m.attachment for m in bot.messenger.sent[before:] if m.attachment is not None]
    assert png.filename == "umfrage-1.png" and png.mime_type == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")

    # The export goes privately to the koordination: a CSV and an XLSX.
    before_private = len(bot.sent_to("anna"))
    assert await bot.say("/umfrage export", user="anna") == "📎 Ich habe dir die Dateien privat geschickt."
    files = attachments(bot.sent_to("anna")[before_private:])
    assert sorted(files) == ["umfrage-1.csv", "umfrage-1.xlsx"]
    check_csv(files["umfrage-1.csv"], [STIFTUNG, PAUL])
    check_xlsx(files["umfrage-1.xlsx"], [STIFTUNG, PAUL])

    # The deadline closes it; the group is told, and members may see the result now.
    sent = await bot.advance(to=DEADLINE + timedelta(minutes=1))
    group = [m.markup.plain() for m in sent if m.chat.external_id == "group:ag"]
    assert group == [
        "📋 Umfrage Nr. 1: Engagement-Erhebung ist beendet – 2 von 3 Mitgliedern haben geantwortet. "
        "Ergebnis: /umfrage ergebnis 1."
    ]
    [survey] = await bot.rows(Survey)
    assert survey.status is SurveyStatus.CLOSED and survey.closed_at == DEADLINE
    assert survey.member_count == 3
    result, _ = await bot.send("/umfrage ergebnis 1", user="paul")
    assert "Ergebnis der Umfrage Nr. 1: Engagement-Erhebung" in result
    assert "Tätigkeiten: 3 – gezählt: 2, nicht gezählt: 1." in result


def check_csv(data: bytes, respondents: list[Respondent]) -> None:
    """One row per activity, in response order, with its classification and failed criteria."""
    rows = read_csv(data)
    expected = [(n, r, a) for n, r in enumerate(respondents, 1) for a in r.activities]
    assert len(rows) == len(expected)
    for row, (number, respondent, activity) in zip(rows, expected, strict=True):
        assert row["Befragte Nr."] == str(number)
        assert row["Art"] == ("Person" if respondent.organisation is None else respondent.organisation[1])
        assert row["Organisation"] == (respondent.organisation[0] if respondent.organisation else "")
        assert row["Tätigkeit Nr."] == str(respondent.activities.index(activity) + 1)
        assert row["Beschreibung"] == activity.description
        assert row["Form"] == ("direkt" if activity.direct else "indirekt")
        assert german_number(row["Stunden pro Monat"]) == activity.hours_value
        assert german_number(row["Personen"]) == activity.people_value
        assert german_number(row["EUR pro Jahr"]) == activity.money_value
        assert row["Sachgüter"] == (activity.goods[0] if activity.goods else "")
        assert german_number(row["Sachwert in EUR"]) == activity.goods_value
        assert row["Zählt"] == ("ja" if activity.counts else "nein")
        assert row["Nicht erfüllt"] == ", ".join(FAILED[c] for c in activity.failed)
    # Decimals are written with a comma and without grouping (Excel with German settings).
    assert "12,5" in data.decode("utf-8-sig") and "1200,5" in data.decode("utf-8-sig")


def check_xlsx(data: bytes, respondents: list[Respondent]) -> None:
    """The activities sheet as in the CSV (numbers as numbers), the totals, the definition."""
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tätigkeiten", "Summen", "Definition"]
    header, *rows = [list(r) for r in book["Tätigkeiten"].iter_rows(values_only=True)]
    assert header[0] == "Befragte Nr." and header[-2:] == ["Zählt", "Nicht erfüllt"]
    activities = [a for r in respondents for a in r.activities]
    assert [r[4] for r in rows] == [a.description for a in activities]
    assert [r[6] for r in rows] == [a.hours_value for a in activities]
    assert [r[8] for r in rows] == [a.money_value for a in activities]
    assert [r[10] for r in rows] == [a.goods_value for a in activities]
    assert [r[11] for r in rows] == ["ja" if a.counts else "nein" for a in activities]

    totals = [list(r) for r in book["Summen"].iter_rows(values_only=True)]
    facts = {r[0]: r[1] for r in totals if r and r[0] is not None and len(r) > 1}
    expected = expected_totals(respondents)
    assert facts["Umfrage"] == "Nr. 1: Engagement-Erhebung" and facts["AG"] == "AG Engagement"
    assert facts["Version der Definition"] == 1 and facts["Anonym"] == "nein"
    assert facts["Befragte (abgeschlossene Antworten)"] == len(respondents)
    assert facts["Tätigkeiten insgesamt"] == len(activities)
    assert (facts["davon gezählt"], facts["davon nicht gezählt"]) == (
        expected["counted"],
        expected["not_counted"],
    )
    header = next(r for r in totals if r[0] == "Aufschlüsselung")
    [total] = [dict(zip(header, r, strict=False)) for r in totals if r[0] == "Gesamt"]
    counted = [a for a in activities if a.counts]
    assert total["Gezählte Tätigkeiten"] == expected["counted"]
    assert total["Stunden pro Monat"] == pytest.approx(expected["hours"])
    assert total["Personen"] == expected["people"]
    assert total["EUR pro Jahr"] == pytest.approx(expected["money"])
    assert total["Sachwert in EUR"] == pytest.approx(expected["goods_value"])
    assert total["Median Stunden pro Monat"] == statistics.median(
        a.hours_value for a in counted if a.hours_value
    )
    # Every breakdown row has fewer than three respondents here: "< 3" in every figure.
    breakdowns = [r for r in totals if r[0] in ("Form des Engagements", "Art der Befragten")]
    assert breakdowns and all(set(r[2:11]) == {"< 3"} for r in breakdowns)
    heading = next(i for i, r in enumerate(totals) if r[0] == "Nicht erfülltes Kriterium")
    assert {r[0]: r[1] for r in totals[heading + 1 :] if r[0]} == {"Freiwillig": 1}

    definition = [list(r) for r in book["Definition"].iter_rows(values_only=True)]
    assert definition[0] == ["Version der Definition", 1, None, None, None, None]
    ids = [r[0] for r in definition if r[0] in {c.id for c in shipped_definition().criteria}]
    assert ids == [c.id for c in shipped_definition().criteria]


# One response per person ----------------------------------------------------------------------


async def test_one_response_per_person_however_it_is_opened_again(ag: BotHarness) -> None:
    bot = ag
    await bot.send(START, user="anna")
    await respond(bot, "paul", PAUL)
    for opener in ("/umfrage weiter", "/start umfrage-1", "/umfrage weiter 1"):
        reply = await say(bot, "paul", opener)
        assert reply == (
            "Umfrage Nr. 1 hast du schon beantwortet. Ändern bis zum Ende: /umfrage aendern 1."
        ), opener
    # Plain messages are no answers any more.
    assert await say(bot, "paul", "ja") == "Ich reagiere auf Befehle. Was hier geht, zeigt /hilfe."
    [response] = await bot.rows(SurveyResponse)
    assert response.status is ResponseStatus.FINISHED and response.draft is None
    assert await bot.count(SurveyResponse) == 1
    # From the group chat too: paul's response is in; stiftung's conversation starts privately.
    assert await bot.say("/umfrage weiter", user="paul") == (
        "Umfrage Nr. 1 hast du schon beantwortet. Ändern bis zum Ende: /umfrage aendern 1."
    )
    before = len(bot.sent_to("stiftung"))
    assert await bot.say("/umfrage weiter", user="stiftung") == (
        "📬 Stiftung, ich habe dir die Umfrage privat geschickt."
    )
    assert "Frage 1 von" in plain(bot.sent_to("stiftung")[before:])
    assert await bot.count(SurveyResponse) == 2


# /definition and the "?" button -----------------------------------------------------------------


async def test_the_definition_and_one_criterion(ag: BotHarness) -> None:
    bot = ag
    overview = await bot.say("/definition", user="paul")
    assert overview.startswith("Zivilgesellschaftliches Engagement im Sinne des Netzwerks (Version 1)")
    for criterion in shipped_definition().criteria:
        assert f"• {criterion.name.de}: {criterion.explanation.de}" in overview
    assert "Ein Kriterium im Detail: /definition freiwillig." in overview
    assert await bot.say("/definition 1", user="paul") == overview
    assert await bot.say("/definition 2", user="paul") == (
        "Version 2 der Definition gibt es nicht; die neueste ist 1."
    )
    voluntary = (
        "Freiwillig\nNiemand ist zu der Tätigkeit verpflichtet; sie geschieht aus eigenem Entschluss.\n"
        "Zählt nicht: z. B. Pflichtstunden im Rahmen des Arbeitsvertrags\n\n"
        "Definition Version 1 · alle Kriterien: /definition"
    )
    assert await bot.say("/definition freiwillig", user="paul") == voluntary
    assert await bot.say("/definition Freiw", user="paul") == voluntary  # the start of its name
    assert await bot.say("/definition Spaß", user="paul") == (
        "Das Kriterium „Spaß“ kenne ich nicht. Es gibt: gemeinwohl, freiwillig, oeffentlich, "
        "nicht_profit, gemeinschaftlich, beitrag."
    )
    # The definition works without an AG, too.
    assert (await say(bot, "fremd", "/definition")).startswith("Zivilgesellschaftliches Engagement")


async def test_the_question_mark_button_explains_the_criterion_and_the_question_stays(
    ag: BotHarness,
) -> None:
    bot = ag
    await bot.send(START, user="anna")
    await say(bot, "paul", "/umfrage weiter")
    activity = PAUL.activities[1]
    [question] = await answer_all(bot, "paul", ["1", *activity.typed()[:-5]])
    assert "Kriterium: Gemeinwohlorientierung" in question.markup.plain()
    assert commands(question) == ["/antwort ja", "/antwort nein", "/definition gemeinwohl", "/zurueck"]
    # A newer definition is adopted meanwhile: the button explains the survey's version.
    await adopt(bot, "gemeinwohl", explanation=Text("Neu formuliert."))
    explained = await say(bot, "paul", "/definition gemeinwohl")
    assert "Die Tätigkeit kommt der Allgemeinheit" in explained and "Version 1" in explained
    assert "Neu formuliert." in await bot.say("/definition gemeinwohl", user="paul")  # the group: newest
    # The conversation is where it was: the button's "ja" answers the same criterion.
    [following] = await dm(bot, "paul", "/antwort ja")
    assert "Kriterium: Freiwillig" in following.markup.plain()


# Reminder and close ---------------------------------------------------------------------------


async def test_the_reminder_goes_to_those_who_have_not_finished_and_the_close_drops_drafts(
    ag: BotHarness,
) -> None:
    bot = ag
    await bot.send("Hallo", user="mia")
    await bot.send(START, user="anna")
    await respond(bot, "stiftung", STIFTUNG)
    await say(bot, "paul", "/umfrage weiter")
    await answer_all(bot, "paul", PAUL.typed()[:3])  # a draft, not finished
    invited = {name: len(bot.sent_to(name)) for name in ("anna", "stiftung", "paul", "mia")}

    sent = await bot.advance(to=DEADLINE - timedelta(days=1, minutes=1))
    assert sent == []
    sent = await bot.advance(to=DEADLINE - timedelta(hours=23))
    assert all(m.chat.is_private for m in sent)
    reminded = {m.chat.external_id for m in sent}
    assert reminded == {"id-anna", "id-paul", "id-mia"}
    for message in sent:
        assert message.markup.plain() == (
            "⏰ Erinnerung: Die Umfrage „Engagement-Erhebung“ der AG Engagement endet am "
            "24.11.2026, 10:00, und deine Antworten fehlen noch. Knopf unten oder /umfrage weiter."
        )
        assert commands(message) == ["/start umfrage-1"]
    assert len(bot.sent_to("stiftung")) == invited["stiftung"]

    # Paul's conversation is still open; the reminder's button takes him to where he was.
    assert "Frage 4 von" in await say(bot, "paul", "/start umfrage-1")
    sent = await bot.advance(to=DEADLINE)
    assert [m.markup.plain() for m in sent] == [
        "📋 Umfrage Nr. 1: Engagement-Erhebung ist beendet – 1 von 4 Mitgliedern haben geantwortet. "
        "Ergebnis: /umfrage ergebnis 1."
    ]
    assert sent[0].chat.external_id == "group:ag"
    [response] = await bot.rows(SurveyResponse)  # paul's draft is gone
    assert response.status is ResponseStatus.FINISHED and response.answers["org_kind"] == "stiftung"
    jobs = await bot.rows(ScheduledJob, ScheduledJob.kind.in_((JOB_CLOSE, JOB_REMIND)))
    assert {j.status for j in jobs} == {JobStatus.DONE}
    # Paul's next message is no answer, and the survey cannot be opened any more.
    assert await say(bot, "paul", "Zeit") == "Ich reagiere auf Befehle. Was hier geht, zeigt /hilfe."
    assert await say(bot, "paul", "/umfrage weiter") == (
        "Gerade gibt es keine Umfrage, die du noch beantworten kannst."
    )
    assert await say(bot, "paul", "/start umfrage-1") == "Umfrage Nr. 1 ist schon beendet."
    assert "Umfrage Nr. 1 ist schon beendet." in await bot.say("/umfrage schliessen", user="anna")
    assert await bot.advance(timedelta(days=3)) == []


async def test_closing_by_hand_cancels_the_jobs(ag: BotHarness) -> None:
    bot = ag
    await bot.send(START, user="anna")
    await respond(bot, "paul", PAUL)
    [note] = await bot.send("/umfrage schliessen", user="anna")
    assert note.startswith("📋 Umfrage Nr. 1: Engagement-Erhebung ist beendet – 1 von 3 Mitgliedern")
    [survey] = await bot.rows(Survey)
    assert survey.status is SurveyStatus.CLOSED
    assert (
        await bot.count(
            ScheduledJob, ScheduledJob.status == JobStatus.PENDING, ScheduledJob.kind != RETENTION_JOB
        )
        == 0
    )
    assert await bot.advance(timedelta(days=4)) == []
    status = await bot.say("/umfrage status", user="paul")
    assert status.startswith("📋 Umfrage Nr. 1: Engagement-Erhebung – beendet am 21.11.2026")
    assert "Mitglieder: 3 · begonnen: 1 · davon abgeschlossen: 1" in status


# Permissions ----------------------------------------------------------------------------------


async def test_members_cannot_start_close_or_export_and_see_results_only_after_the_close(
    ag: BotHarness,
) -> None:
    bot = ag
    only_koordination = "Das darf nur die Koordination. Deine Rolle in dieser AG: Mitglied."
    assert await bot.say(START, user="paul") == only_koordination
    assert await bot.count(Survey) == 0
    assert (await say(bot, "anna", START)).startswith("Das geht nur im Gruppenchat der AG")
    assert await bot.count(Survey) == 0

    await bot.send(START, user="anna")
    await respond(bot, "paul", PAUL)
    for line in ("/umfrage schliessen", "/umfrage schliessen 1", "/umfrage export"):
        assert await bot.say(line, user="paul") == only_koordination, line
    assert await say(bot, "paul", "/umfrage export") == only_koordination
    assert not any(m.attachment for m in bot.sent_to("paul"))
    not_yet = (
        "Das Ergebnis gibt es nach dem Ende der Umfrage (24.11.2026, 10:00); "
        "einen Zwischenstand sieht die Koordination."
    )
    assert await bot.say("/umfrage ergebnis", user="paul") == not_yet
    assert await say(bot, "paul", "/umfrage ergebnis") == not_yet
    assert await bot.say("/umfrage vergleich 1 1", user="paul") == not_yet
    [survey] = await bot.rows(Survey)
    assert survey.status is SurveyStatus.OPEN

    # The koordination sees interim results anywhere, and exports from the private chat too.
    assert "Zwischenstand der Umfrage Nr. 1" in await say(bot, "anna", "/umfrage ergebnis")
    before = len(bot.sent_to("anna"))
    await dm(bot, "anna", "/umfrage export")
    assert sorted(attachments(bot.sent_to("anna")[before:])) == ["umfrage-1.csv", "umfrage-1.xlsx"]

    await bot.send("/umfrage schliessen", user="anna")
    result, _ = await bot.send("/umfrage ergebnis", user="paul")
    assert result.startswith("📊 Ergebnis der Umfrage Nr. 1")
    assert await bot.say("/umfrage export", user="paul") == only_koordination
