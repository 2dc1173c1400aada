"""Answering a survey in the private chat, through the harness: every question type with German
number formats and the validation messages that ask again, optional questions skipped with "-"
and ``/weiter``, a condition, a repeating group, ``/zurueck``, ``/abbrechen``, ``/umfrage
weiter`` (also after a restart of the bot), and ``/umfrage aendern`` until the deadline.

The survey is a custom template imported through the service, started with ``/umfrage starten``.
The clock starts on Saturday, 21 November 2026, 10:00 in Berlin.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import Application
from bot.core.ports import ManualClock
from bot.services.outbox import Outbox
from bot.services.reopen import ReopenGuard
from bot.services.survey_template import load_template
from storage import Database
from storage.models import Person, ResponseStatus, SurveyResponse, SurveyTemplate
from tests.handlers.survey_support import answer_all, commands, dm, say
from tests.harness import BotHarness

TEMPLATE = """
key = "alltypen"
title = { de = "Alle Fragetypen", en = "All question types" }
intro = "Eine Umfrage, die jede Art von Frage stellt."

[[item]]
id = "rolle"
type = "choice"
text = "Welche Rolle hast du?"
options = [
    { id = "vorstand", de = "Vorstand" },
    { id = "mitglied", de = "Mitglied" },
    { id = "gast", de = "Gast" },
]

[[item]]
id = "themen"
type = "multi"
text = "Welche Themen interessieren dich?"
options = [
    { id = "bildung", de = "Bildung" },
    { id = "kunst", de = "Kunst und Kultur" },
    { id = "sport", de = "Sport" },
]

[[item]]
id = "ehrenamt"
type = "yesno"
text = "Engagierst du dich ehrenamtlich?"

[[item]]
id = "stunden"
type = "hours"
when = { question = "ehrenamt", equals = "yes" }
text = "Wie viele Stunden im Monat?"

[[item]]
id = "helfer"
type = "number"
integer = true
min = 1
max = 50
unit = { de = "Personen", en = "people" }
text = "Mit wie vielen Personen?"

[[item]]
id = "strecke"
type = "number"
min = 0
max = 100
unit = { de = "km" }
required = false
text = "Wie weit ist dein Weg zum Treffpunkt?"

[[item]]
id = "spende"
type = "money"
required = false
text = "Wie viel spendest du im Jahr?"

[[item]]
id = "seit"
type = "date"
text = "Seit wann bist du dabei?"

[[item]]
id = "projekt"
type = "group"
title = "Projekt"
more = "Noch ein Projekt?"
max = 3

[[item.question]]
id = "name"
type = "text"
max_length = 30
text = "Wie heißt das Projekt?"

[[item.question]]
id = "budget"
type = "yesno"
text = "Hat es ein Budget?"

[[item.question]]
id = "betrag"
type = "money"
when = { question = "budget", equals = "yes" }
text = "Wie hoch ist das Budget?"

[[item]]
id = "kommentar"
type = "text"
max_length = 20
required = false
text = "Noch ein kurzer Kommentar?"
"""

DEADLINE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

# (typed, what the reply must say): an error re-asks the same question with its message.
CONVERSATION: list[tuple[str, str]] = [
    ("4", "„4“ ist keine der Antworten. Bitte schreib die Nummer (1 bis 3) oder den Text einer Antwort."),
    ("Vorst", "Welche Themen interessieren dich?"),
    (
        "Bildung, Tanz",
        "„Tanz“ ist keine der Antworten. Bitte gib die Nummern (1 bis 3) durch Komma getrennt an",
    ),
    ("1, Kunst und Kultur", "Engagierst du dich ehrenamtlich?"),
    ("vielleicht", "„vielleicht“ verstehe ich hier nicht – bitte antworte mit ja oder nein."),
    ("jep", "Wie viele Stunden im Monat?"),  # the condition: shown after "yes"
    ("800", "Bitte eine Zahl zwischen 0 und 744 Stunden angeben."),
    ("5-10", "Bitte gib eine einzelne Zahl an statt eines Bereichs („5-10“)"),
    ("ca. 12,5 Std.", "Mit wie vielen Personen?"),
    ("2,5", "Bitte eine ganze Zahl angeben."),
    ("0", "Bitte eine Zahl zwischen 1 und 50 Personen angeben."),
    ("3 Personen", "Wie weit ist dein Weg zum Treffpunkt?"),
    ("101", "Bitte eine Zahl zwischen 0 und 100 km angeben."),
    ("12.5", "Wie viel spendest du im Jahr?"),  # a dot and one digit: a decimal point
    ("-5", "Bitte einen Betrag ab 0 € angeben."),
    ("-", "Seit wann bist du dabei?"),  # optional: skipped
    ("31.02.2024", "„31.02.2024“ gibt es im Kalender nicht."),
    ("März 2024", "Wie heißt das Projekt?"),
    ("Lesepaten", "Hat es ein Budget?"),
    ("ja", "Wie hoch ist das Budget?"),
    ("1.200,50 €", "Noch ein Projekt?"),
    ("ja", "Projekt 2"),
    ("Ein Projektname, der viel zu lang ist", "Bitte höchstens 30 Zeichen (du hast 37 geschrieben)."),
    ("Sommerfest", "Hat es ein Budget?"),
    ("nein", "Noch ein Projekt?"),  # no budget: its amount is not asked
    ("nein", "Noch ein kurzer Kommentar?"),
    ("Das ist ein zu langer Kommentar", "Bitte höchstens 20 Zeichen"),
    ("/weiter", "✅ Danke! Deine Antworten zu „Alle Fragetypen“ sind abgeschickt."),
]
ANSWERS: dict[str, Any] = {
    "rolle": "vorstand",
    "themen": ["bildung", "kunst"],
    "ehrenamt": True,
    "stunden": 12.5,
    "helfer": 3,
    "strecke": 12.5,
    "spende": None,
    "seit": "2024-03-01",
    "projekt.0.name": "Lesepaten",
    "projekt.0.budget": True,
    "projekt.0.betrag": 1200.5,
    "projekt.0._more": True,
    "projekt.1.name": "Sommerfest",
    "projekt.1.budget": False,
    "projekt.1._more": False,
    "kommentar": None,
}
"""What the conversation above stores."""
SHORT = ["2", "Sport", "nein", "2", "-", "-", "01.06.2025", "Chor", "nein", "nein", "-"]
"""A quick complete response: no volunteering (so no hours), one project without budget."""


@pytest.fixture
async def survey(bot: BotHarness) -> BotHarness:
    """AG Vielfalt: anna coordinates, paul and mia are members; the template is imported and
    the survey runs until Tuesday 10:00."""
    await bot.setup_group("AG Vielfalt", user="anna")
    for name in ("paul", "mia"):
        await bot.send("Hallo", user=name)
    async with bot.app.unit() as unit:
        replaced = await unit.services.surveys.import_template(load_template(TEMPLATE), source="test")
        assert not replaced
    assert await bot.count(SurveyTemplate) == 1
    assert "• alltypen – Alle Fragetypen" in await bot.say("/umfrage vorlagen", user="anna")
    [announcement] = await bot.send("/umfrage starten alltypen bis in 3 Tagen", user="anna")
    assert announcement.startswith("📋 Umfrage Nr. 1 der AG Vielfalt: Alle Fragetypen")
    return bot


async def response(bot: BotHarness, user: str = "paul") -> SurveyResponse:
    [row] = [r for r in await bot.rows(SurveyResponse) if r.person_id == await person_id(bot, user)]
    return row


async def person_id(bot: BotHarness, user: str) -> int:
    [person] = await bot.rows(Person, Person.username == user)
    return person.id


# Every question type ----------------------------------------------------------------------------


async def test_every_question_type_with_german_formats_and_validation(survey: BotHarness) -> None:
    bot = survey
    [invitation, first] = await dm(bot, "paul", "/umfrage weiter")
    assert "Eine Umfrage, die jede Art von Frage stellt." in invitation.markup.plain()
    assert first.markup.plain().startswith("📋 Alle Fragetypen · Frage 1 von")
    assert commands(first) == ["/antwort 1", "/antwort 2", "/antwort 3", "/zurueck"]
    asked = first.markup.plain()
    for typed, expected in CONVERSATION:
        replies = await dm(bot, "paul", typed)
        text = "\n---\n".join(m.markup.plain() for m in replies)
        assert expected in text, (typed, text)
        if expected.startswith(("„", "Bitte")):
            # An error: the same question is asked again.
            assert len(replies) == 2 and replies[1].markup.plain() == asked, text
        else:
            asked = replies[-1].markup.plain()
    row = await response(bot)
    assert row.status is ResponseStatus.FINISHED and row.draft is None and row.cursor is None
    assert row.answers == ANSWERS


async def test_question_texts_show_hints_buttons_and_how_to_skip(survey: BotHarness) -> None:
    bot = survey
    await dm(bot, "paul", "/umfrage weiter")
    questions = {}
    for typed in ["1", "Sport", "ja", "10", "2"]:
        [question] = await dm(bot, "paul", typed)
        questions[typed] = question
    hours, people, distance = questions["ja"], questions["10"], questions["2"]
    assert "Stunden pro Monat, z. B. 12,5." in hours.markup.plain()
    assert "Eine Zahl von 1 bis 50 Personen." in people.markup.plain()
    assert "Freiwillig: - oder /weiter überspringt." in distance.markup.plain()
    assert commands(distance) == ["/zurueck", "/weiter"]
    for _ in range(2):
        await dm(bot, "paul", "/zurueck")
    [yes_no] = await dm(bot, "paul", "/zurueck")
    assert "Engagierst du dich ehrenamtlich?" in yes_no.markup.plain()
    assert commands(yes_no) == ["/antwort ja", "/antwort nein", "/zurueck", "/weiter"]


async def test_a_condition_hides_a_question_and_a_hidden_answer_is_never_submitted(
    survey: BotHarness,
) -> None:
    bot = survey
    await dm(bot, "paul", "/umfrage weiter")
    await answer_all(bot, "paul", ["1", "1", "ja", "20"])
    # Back to the condition's question: "nein" now skips the hours.
    assert "Wie viele Stunden" in await say(bot, "paul", "/zurueck")
    assert "Bisher: Ja" in await say(bot, "paul", "/zurueck")
    assert "Mit wie vielen Personen?" in await say(bot, "paul", "nein")
    assert (await response(bot)).draft["stunden"] == 20.0  # kept while hidden…
    await answer_all(bot, "paul", ["4", "-", "-", "2020", "Chor", "nein", "nein", "-"])
    row = await response(bot)
    assert row.status is ResponseStatus.FINISHED
    assert row.answers["ehrenamt"] is False and "stunden" not in row.answers  # …but not submitted
    assert row.answers["seit"] == "2020-01-01"


# Back, pause, resume, restart -----------------------------------------------------------------


async def test_back_shows_the_answer_so_far_and_weiter_keeps_it(survey: BotHarness) -> None:
    bot = survey
    await dm(bot, "paul", "/umfrage weiter")
    assert (await say(bot, "paul", "/zurueck")).startswith(
        "Das ist schon die erste Frage.\n---\n📋 Alle Fragetypen · Frage 1 von"
    )
    await answer_all(bot, "paul", ["1", "1, 3", "ja"])
    back = await say(bot, "paul", "/zurueck")
    assert "Engagierst du dich ehrenamtlich?" in back and "Bisher: Ja" in back
    assert "/weiter behält die Antwort." in back
    back = await say(bot, "paul", "/zurueck")
    assert "Welche Themen interessieren dich?" in back and "Bisher: Bildung, Sport" in back
    kept = await say(bot, "paul", "/weiter")
    assert "Engagierst du dich ehrenamtlich?" in kept and "Bisher: Ja" in kept
    assert "Wie viele Stunden im Monat?" in await say(bot, "paul", "/weiter")
    back = await say(bot, "paul", "/zurueck")
    assert "Bisher: Ja" in back
    changed = await say(bot, "paul", "nein")  # a new answer replaces the one shown
    assert "Mit wie vielen Personen?" in changed
    assert (await response(bot)).draft == {
        "rolle": "vorstand",
        "themen": ["bildung", "sport"],
        "ehrenamt": False,
    }


async def test_cancel_keeps_the_draft_and_resume_asks_exactly_the_same_question(survey: BotHarness) -> None:
    bot = survey
    await dm(bot, "paul", "/umfrage weiter")
    [question] = await answer_all(bot, "paul", ["1", "2", "ja", "8"])
    asked = question.markup.plain()
    assert "Mit wie vielen Personen?" in asked
    paused = await say(bot, "paul", "/abbrechen")
    assert paused == (
        "⏸ Pausiert. Deine Antworten zu „Alle Fragetypen“ sind gespeichert; /umfrage weiter macht "
        "dort weiter (bis 24.11.2026, 10:00)."
    )
    row = await response(bot)
    assert not row.active and row.cursor == "helfer" and row.status is ResponseStatus.DRAFT
    draft = dict(row.draft)
    # Plain messages are no answers now, and the conversation's commands say so.
    assert await say(bot, "paul", "3") == "Ich reagiere auf Befehle. Was hier geht, zeigt /hilfe."
    for command in ("/zurueck", "/weiter", "/abbrechen", "/antwort 3"):
        assert (
            await say(bot, "paul", command) == "Gerade ist keine Umfrage offen. /umfrage weiter öffnet eine."
        )
    assert (await response(bot)).draft == draft
    # Resuming asks the same question again, without the invitation.
    [resumed] = await dm(bot, "paul", "/umfrage weiter")
    assert resumed.markup.plain() == asked
    assert "Wie weit ist dein Weg" in await say(bot, "paul", "3")


async def test_a_restart_in_the_middle_of_the_conversation(
    survey: BotHarness, database: Database, clock: ManualClock, guard: ReopenGuard
) -> None:
    bot = survey
    await dm(bot, "paul", "/umfrage weiter")
    [question] = await answer_all(bot, "paul", ["3", "Kunst", "ja", "12,5", "3", "7"])
    asked = question.markup.plain()
    assert "Wie viel spendest du im Jahr?" in asked
    await bot.app.stop()

    app = Application(
        database,
        clock=clock,
        outbox=Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep),
        options={"reopen.guard": guard},
    )
    app.attach(bot.messenger)
    await app.resume()
    restarted = BotHarness(app, bot.messenger)
    try:
        # /umfrage weiter asks exactly the question asked before the restart.
        [again] = await dm(restarted, "paul", "/umfrage weiter")
        assert again.markup.plain() == asked
        # The conversation is still open: a plain message answers it.
        assert "Seit wann bist du dabei?" in await say(restarted, "paul", "1.200")
        assert "Bisher: 1.200,00 €" in await say(restarted, "paul", "/zurueck")
        assert (await say(restarted, "paul", "/abbrechen")).startswith("⏸ Pausiert.")
        [again] = await dm(restarted, "paul", "/umfrage weiter")
        assert (
            "Wie viel spendest du im Jahr?" in again.markup.plain()
            and "Bisher: 1.200,00 €" in again.markup.plain()
        )
        await answer_all(restarted, "paul", ["/weiter", "heute", "Chor", "nein", "nein", "Weiter so!"])
        row = await response(restarted)
        assert row.status is ResponseStatus.FINISHED
        assert (row.answers["spende"], row.answers["seit"], row.answers["kommentar"]) == (
            1200.0,
            "2026-11-21",
            "Weiter so!",
        )
        assert row.answers["themen"] == ["kunst"] and row.answers["strecke"] == 7.0
    finally:
        await app.stop()


# Changing a response ----------------------------------------------------------------------------


async def test_changing_a_finished_response_until_the_deadline(survey: BotHarness) -> None:
    bot = survey
    await dm(bot, "paul", "/umfrage weiter")
    await answer_all(bot, "paul", SHORT)
    submitted = dict((await response(bot)).answers)
    assert submitted["ehrenamt"] is False and "stunden" not in submitted

    listing = await say(bot, "paul", "/umfrage aendern")
    lines = listing.splitlines()
    assert lines[0] == "✏️ Alle Fragetypen – deine Antworten:"
    assert lines[1:4] == [
        "1 Welche Rolle hast du? → Mitglied",
        "2 Welche Themen interessieren dich? → Sport",
        "3 Engagierst du dich ehrenamtlich? → Nein",
    ]
    assert "6 Wie viel spendest du im Jahr? → (übersprungen)" in lines
    assert "8 Projekt 1: Wie heißt das Projekt? → Chor" in lines
    assert "Bitte eine Nummer von 1 bis 11." in await say(bot, "paul", "12")
    # Changing "nein" to "ja" shows the hours question, which is then asked before submitting.
    picked = await say(bot, "paul", "3")
    assert "Engagierst du dich ehrenamtlich?" in picked and "Bisher: Nein" in picked
    assert "Wie viele Stunden im Monat?" in await say(bot, "paul", "ja")
    assert (await response(bot)).answers == submitted  # nothing submitted yet
    done = await say(bot, "paul", "6")
    assert done.startswith("✅ Geändert. Deine Antworten zu „Alle Fragetypen“ sind neu abgeschickt")
    row = await response(bot)
    assert row.status is ResponseStatus.FINISHED and not row.editing and row.draft is None
    assert row.answers == {**submitted, "ehrenamt": True, "stunden": 6.0}
    assert await bot.count(SurveyResponse) == 1

    # /abbrechen in the middle of a change leaves the submitted answers as they were: here the
    # project gets a budget, whose amount is asked next, and then the change is cancelled.
    listing = await say(bot, "paul", "/umfrage aendern")
    [budget] = [line.split()[0] for line in listing.splitlines() if "Projekt 1: Hat es ein Budget?" in line]
    assert "Bisher: Nein" in await say(bot, "paul", budget)
    assert "Wie hoch ist das Budget?" in await say(bot, "paul", "ja")
    assert (await response(bot)).draft["projekt.0.budget"] is True
    cancelled = await say(bot, "paul", "/abbrechen")
    assert cancelled == "Nichts geändert – deine Antworten zu „Alle Fragetypen“ bleiben, wie sie waren."
    row = await response(bot)
    assert row.answers == {**submitted, "ehrenamt": True, "stunden": 6.0}
    assert not row.editing and not row.active and row.draft is None
    assert await say(bot, "paul", "500") == "Ich reagiere auf Befehle. Was hier geht, zeigt /hilfe."
    # Changing a response that was never submitted is not possible.
    assert await say(bot, "mia", "/umfrage aendern") == "Du hast keine Umfrage abgeschickt, die noch läuft."

    # After the deadline nothing can be changed; a change open at the close is dropped.
    await dm(bot, "paul", "/umfrage aendern")
    await say(bot, "paul", "2")
    await bot.advance(to=DEADLINE)
    assert await say(bot, "paul", "Bildung") == "Ich reagiere auf Befehle. Was hier geht, zeigt /hilfe."
    assert await say(bot, "paul", "/umfrage aendern") == "Du hast keine Umfrage abgeschickt, die noch läuft."
    assert await say(bot, "paul", "/umfrage aendern 1") == "Umfrage Nr. 1 ist schon beendet."
    row = await response(bot)
    assert row.answers["themen"] == ["sport"] and not row.editing and row.draft is None


async def test_a_template_without_classification_is_counted_per_answer_and_not_compared(
    survey: BotHarness,
) -> None:
    bot = survey
    for user in ("paul", "mia"):
        await dm(bot, user, "/umfrage weiter")
        await answer_all(bot, user, SHORT)
    await bot.send("/umfrage schliessen", user="anna")
    [result] = await bot.send("/umfrage ergebnis", user="mia")  # no chart: nothing is classified
    assert result.startswith("📊 Ergebnis der Umfrage Nr. 1: Alle Fragetypen")
    assert "Antworten: 2 von 3 Mitgliedern." in result
    assert "Welche Rolle hast du?\n• Mitglied: < 3" in result
    await bot.send("/umfrage starten Engagement-Erhebung", user="anna")
    assert "haben verschiedene Vorlagen" in await bot.say("/umfrage vergleich 1 2", user="anna")


def test_the_conversation_covers_every_question_type() -> None:
    template = load_template(TEMPLATE)
    types = {q.type.value for q in template.items if hasattr(q, "type")}
    types |= {q.type.value for item in template.items if hasattr(item, "questions") for q in item.questions}
    assert types == {"choice", "multi", "yesno", "number", "money", "hours", "date", "text"}
