"""Date polls through the harness: ``/abstimmung termin`` with its dates, answers per date by typed
``/stimme`` and by the buttons' commands (changed, merged), the standing as a table, the result
ranked by yes then maybe, choosing a date that becomes a meeting with its notices, the errors,
who may do what, English AGs and secret date polls.

The clock starts on Saturday, 21 November 2026, 10:00 in Berlin; Thursday 3 December 18:00 in
Berlin is 17:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.markup import render_html
from bot.services.date_answers import Answer, DateCounts, merge, parse_answers
from storage.models import Meeting, Person, Poll, PollKind, PollStatus, PollVote, ScheduledJob
from tests.handlers.test_polls import open_private
from tests.harness import BotHarness

DATES = "Sommerfest | Do 3.12. 18 Uhr | Fr 4.12. 18 Uhr | Sa 5.12. 15 Uhr"
THURSDAY = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)


def squeeze(text: str) -> str:
    """Each line with single ordinary spaces (tables are padded with no-break spaces, English
    times have a narrow one before "PM")."""
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


@pytest.fixture
async def ag(bot: BotHarness) -> BotHarness:
    """AG Bildung: anna coordinates; mia, kurt and bodo are members."""
    await bot.setup_group("AG Bildung", user="anna")
    for name in ("mia", "kurt", "bodo"):
        await bot.send("Hallo zusammen", user=name)
    return bot


async def the_poll(bot: BotHarness, number: int = 1) -> Poll:
    [poll] = await bot.rows(Poll, Poll.number == number)
    return poll


async def answers(bot: BotHarness, poll: Poll) -> dict[str, list[str | None]]:
    """Current answers by username."""
    votes = await bot.rows(PollVote, PollVote.poll_id == poll.id)
    people = {p.id: p.username for p in await bot.rows(Person)}
    return {people[v.person_id]: list(v.answers or ()) for v in votes}


async def everywhere(bot: BotHarness, text: str, user: str = "anna") -> str:
    """Send a command; returns everything the bot sent in the AG's chat because of it."""
    before = len(bot.messenger.sent)
    await bot.send(text, user=user)
    return "\n".join(squeeze(m.markup.plain()) for m in bot.messenger.sent[before:])


# Starting -------------------------------------------------------------------------------------


async def test_a_date_poll_lists_its_dates_with_buttons(ag: BotHarness) -> None:
    [text] = await ag.send(f"/abstimmung termin {DATES} | ort: Bürgerhaus", user="anna")
    assert "Terminabstimmung Nr. 1: Sommerfest" in text and "📍 Bürgerhaus" in text
    assert "1. Do 3.12., 18:00\n2. Fr 4.12., 18:00\n3. Sa 5.12., 15:00" in text
    assert "Läuft bis Sa, 28.11.2026 um 10:00." in text  # a week, unless date 1 is sooner
    assert "/stimme 1: 1 ja, 2 vielleicht, 3 nein" in text and "Knöpfen" in text
    buttons = ag.last.buttons
    assert [[b.command for b in row] for row in buttons][1] == [
        "/stimme 1: 2 ja",
        "/stimme 1: 2 vielleicht",
        "/stimme 1: 2 nein",
    ]
    assert sum(len(row) for row in buttons) == 9  # what Matrix can show as reactions
    poll = await the_poll(ag)
    assert (poll.kind, poll.starts, poll.location) == (
        PollKind.DATES,
        [THURSDAY, FRIDAY, SATURDAY],
        "Bürgerhaus",
    )
    assert poll.deadline == ag.app.clock.now() + timedelta(days=7)
    jobs = {j.kind for j in await ag.rows(ScheduledJob, ScheduledJob.ref_id == poll.id)}
    assert jobs == {"poll.close", "poll.remind"}


async def test_more_than_three_dates_are_typed(ag: BotHarness) -> None:
    text = await ag.say(
        "/abstimmung termin Klausur\nMo 7.12. 18 Uhr\nDi 8.12. 18 Uhr\nMi 9.12. 18 Uhr\nDo 10.12. 18 Uhr"
        "\nbis: Sonntag",
        user="anna",
    )
    assert "4. Do 10.12., 18:00" in text
    assert "Knöpfe gibt es nur bis 3 Termine – hier bitte tippen." in text and ag.last.buttons == []
    assert "Läuft bis So, 22.11.2026 um 23:59." in text


# Answering ------------------------------------------------------------------------------------


async def test_answers_by_typing_and_by_button_change_and_merge(ag: BotHarness) -> None:
    await ag.send(f"/abstimmung termin {DATES}", user="anna")
    poll = await the_poll(ag)
    reply = squeeze(await ag.say("/stimme 1 ja, 2 vielleicht, 3 nein", user="mia"))
    assert "Deine Antworten zu Terminabstimmung Nr. 1:" in reply
    assert "• 1. Do 3.12., 18:00: ja\n• 2. Fr 4.12., 18:00: vielleicht\n• 3. Sa 5.12., 15:00: nein" in reply
    # A button sends its command as typed; it changes only the date it names.
    [announcement] = [m for m in ag.messenger.sent if m.tag == f"poll:{poll.id}"]
    command = announcement.buttons[2][0].command
    assert command == "/stimme 1: 3 ja"
    reply = squeeze(await ag.say(command, user="mia"))
    assert "geändert" in reply and "3. Sa 5.12., 15:00: ja" in reply and "1. Do 3.12., 18:00: ja" in reply
    assert "waren schon so" in await ag.say("/stimme 3j", user="mia")
    await ag.say("/stimme 1j 2v", user="kurt")  # short forms; date 3 stays open
    await ag.say("/stimme 1: alle nein", user="bodo")
    assert await answers(ag, poll) == {
        "mia": ["yes", "maybe", "yes"],
        "kurt": ["yes", "maybe", None],
        "bodo": ["no", "no", "no"],
    }
    mias = (await ag.rows(PollVote, PollVote.poll_id == poll.id, order_by=[PollVote.id]))[0]
    assert mias.choices == [0, 2]  # the dates answered yes
    assert "zurückgezogen" in await ag.say("/stimme zurueck", user="bodo")
    assert set(await answers(ag, poll)) == {"mia", "kurt"}


async def test_the_standing_is_a_table_with_names(ag: BotHarness) -> None:
    await ag.send(f"/abstimmung termin {DATES}", user="anna")
    await ag.say("/stimme 1 ja, 2 vielleicht, 3 nein", user="mia")
    await ag.say("/stimme 1 ja, 2 ja", user="kurt")
    await ag.say("/stimme 1 vielleicht, 2 ja, 3 nein", user="bodo")
    shown = await ag.say("/abstimmung 1", user="mia")
    table = squeeze(shown)
    assert "Nr Termin ja vielleicht nein" in table
    assert "1. Do 3.12., 18:00 2 1 0" in table
    assert "2. Fr 4.12., 18:00 2 1 0" in table
    assert "3. Sa 5.12., 15:00 0 0 2" in table
    assert "• 1. ja: Kurt, Mia · vielleicht: Bodo" in table
    assert "• 3. nein: Bodo, Mia" in table
    assert "Abgestimmt: 3 von 4 Mitgliedern." in table
    assert "Gleichauf vorn: Termin 1 und 2 (je 2× ja, 1× vielleicht)." in table
    assert "/abstimmung termin waehlen 1 <Termin>" in table
    # Monospace where the platform has it; every date line is one code span.
    html = render_html(ag.last.markup)
    assert "<code>1.\u00a0Do 3.12., 18:00\u00a0" in html and "<b><code>" in html  # the leaders in bold
    listing = squeeze(await ag.say("/abstimmungen", user="mia"))
    assert "📅 Nr. 1: Sommerfest (bis Sa, 28.11.2026 um 10:00, 3 Stimmen)" in listing


async def test_the_deadline_ranks_the_dates_by_yes_then_maybe(ag: BotHarness) -> None:
    await ag.send(f"/abstimmung termin {DATES} | bis: Montag 18 Uhr", user="anna")
    await ag.say("/stimme 1 ja, 2 vielleicht, 3 ja", user="mia")
    await ag.say("/stimme 1 nein, 2 ja, 3 ja", user="kurt")
    await ag.say("/stimme 2 ja, 3 nein", user="bodo")
    sent = await ag.advance(to=datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    [result] = [squeeze(m.markup.plain()) for m in sent if "Ergebnis" in m.markup.plain()]
    assert result.index("2. Fr 4.12.") < result.index("3. Sa 5.12.") < result.index("1. Do 3.12.")
    assert "Sortiert nach ja, dann vielleicht." in result
    assert "Am besten passt Termin 2: Fr 4.12., 18:00 (2× ja, 1× vielleicht)." in result
    assert "/abstimmung termin waehlen 1 <Termin>" in result
    poll = await the_poll(ag)
    assert poll.status is PollStatus.CLOSED and poll.answer_counts == [[1, 0, 1], [2, 1, 0], [2, 0, 1]]
    assert poll.counts == [1, 2, 2] and poll.voter_count == 3
    assert "schon beendet" in await ag.say("/stimme 1: 1 ja", user="bodo")


async def test_those_who_have_not_answered_are_reminded_with_the_buttons(ag: BotHarness) -> None:
    await open_private(ag, "mia")  # the bot can write to mia privately
    await ag.send(f"/abstimmung termin {DATES} | bis: Montag 18 Uhr | erinnern: 2h", user="anna")
    for name in ("anna", "kurt", "bodo"):
        await ag.say("/stimme 2 nein", user=name)
    sent = await ag.advance(to=datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    [note] = [m for m in sent if m.chat.is_private]  # nobody else is missing
    assert note.chat.external_id == ag.user("mia").external_id
    assert "noch nicht geantwortet: Sommerfest" in note.markup.plain()
    assert note.buttons[0][0].command == "/stimme 1: 1 ja" and len(note.buttons) == 3


# Choosing -------------------------------------------------------------------------------------


async def test_choosing_a_date_creates_the_meeting_with_its_notices(ag: BotHarness) -> None:
    await ag.send(f"/abstimmung termin {DATES} | ort: Bürgerhaus", user="anna")
    await ag.say("/stimme 1 ja, 2 ja", user="mia")
    await ag.say("/stimme 2 ja", user="kurt")
    assert "nur die Koordination" in await ag.say("/abstimmung termin waehlen 1 2", user="mia")
    text = await everywhere(ag, "/abstimmung termin waehlen 1 2")
    assert "Ergebnis der Terminabstimmung Nr. 1: Sommerfest" in text  # closed by the choice
    assert "Gewählt: Termin 2, Fr 4.12., 18:00 – Treffen Nr. 1." in text
    assert "Treffen Nr. 1 geplant: Sommerfest\nFr, 04.12.2026 um 18:00\n📍 Bürgerhaus" in text
    assert "Erinnerungen gehen 1 Tag und 1 Stunde vor jedem Treffen" in text
    [meeting] = await ag.rows(Meeting)
    assert (meeting.title, meeting.location, meeting.first_start, meeting.rule) == (
        "Sommerfest",
        "Bürgerhaus",
        FRIDAY,
        None,
    )
    poll = await the_poll(ag)
    assert poll.status is PollStatus.CLOSED and (poll.chosen_position, poll.meeting_number) == (1, 1)
    assert (
        await ag.count(ScheduledJob, ScheduledJob.kind.like("poll.%"), ScheduledJob.status == "pending") == 0
    )
    # /treffen lists it; the standing says what was chosen; a second choice is refused.
    assert "Fr, 04.12.2026 um 18:00 – Sommerfest (Bürgerhaus)" in squeeze(
        await ag.say("/treffen", user="kurt")
    )
    assert "Gewählt: Termin 2" in await ag.say("/abstimmung 1", user="kurt")
    assert "schon gewählt: Treffen Nr. 1" in await ag.say("/abstimmung termin waehlen 1 3")
    # The AG's notices: a day before, then an hour before.
    assert [m for m in await ag.advance(to=FRIDAY - timedelta(days=1, minutes=1))] == []
    [notice] = await ag.advance(to=FRIDAY - timedelta(days=1))
    assert "Erinnerung: Treffen der AG Bildung" in notice.markup.plain()
    assert "Sommerfest" in notice.markup.plain()
    assert len(await ag.advance(to=FRIDAY - timedelta(hours=1))) == 1


async def test_a_closed_poll_can_still_be_chosen_once(ag: BotHarness) -> None:
    await ag.send(f"/abstimmung termin {DATES}", user="anna")
    await ag.send("/abstimmung schliessen 1", user="anna")
    text = await everywhere(ag, "/abstimmung termin waehlen Nr. 1 3")
    assert "Ergebnis" not in text and "Termin 3 der Terminabstimmung Nr. 1 steht." in text
    assert "Treffen Nr. 1 geplant: Sommerfest" in text
    assert [m.first_start for m in await ag.rows(Meeting)] == [SATURDAY]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/abstimmung termin waehlen 1 4", "hat die Termine 1 bis 3"),
        ("/abstimmung termin waehlen 1", "Welcher Termin?"),
        ("/abstimmung termin waehlen 2 1", "keine Terminabstimmung"),
        ("/abstimmung termin waehlen 9 1", "Eine Abstimmung Nr. 9 gibt es in dieser AG nicht"),
    ],
)
async def test_choosing_what_does_not_exist_is_refused(ag: BotHarness, command: str, expected: str) -> None:
    await ag.send(f"/abstimmung termin {DATES}", user="anna")
    await ag.send("/abstimmung Grillen? | ja | nein", user="anna")
    assert expected in await ag.say(command)
    assert await ag.count(Meeting) == 0 and (await the_poll(ag)).status is PollStatus.OPEN


async def test_a_date_that_passed_is_not_chosen(ag: BotHarness) -> None:
    await ag.send("/abstimmung termin Frühstück | morgen 8 Uhr | übermorgen 8 Uhr | bis: alle", user="anna")
    await ag.advance(to=datetime(2026, 11, 22, 8, 0, tzinfo=UTC))  # the poll closed at date 1
    assert "Termin 1 (So, 22.11.2026 um 08:00) ist schon vorbei" in await ag.say(
        "/abstimmung termin waehlen 1 1"
    )
    assert "Treffen Nr. 1 geplant" in "\n".join(await ag.send("/abstimmung termin waehlen 1 2"))


# Mistakes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sommerfest | Fr 18 Uhr", "Mit 1 Termin gibt es nichts abzustimmen"),
        ("Sommerfest", "Mit 0 Terminen gibt es nichts abzustimmen"),
        ("Sommerfest | Fr 18 Uhr | 20.11.2026 18 Uhr", "das ist schon vorbei"),
        (
            "Sommerfest | Fr 4.12. 18 Uhr | 4.12.2026 um 18:00",
            "Termin 1 und Termin 2 sind derselbe Zeitpunkt",
        ),
        ("Sommerfest | Fr 18 Uhr | irgendwann mal", "Die Zeitangabe „irgendwann mal“ verstehe ich nicht"),
        ("Sommerfest | Fr 18 Uhr | jeden Montag 18 Uhr", "wiederholt sich"),
        ("Sommerfest | Fr 18 Uhr | Sa 18 Uhr | quorum: 3", "gibt es bei der Terminsuche nicht"),
        ("Sommerfest | Fr 18 Uhr | Sa 18 Uhr | ort: Park | schnell", "„schnell“ ist keine Einstellung"),
        ("Sommerfest | Fr 18 Uhr || Sa 18 Uhr", "Termin 2 ist leer"),
    ],
)
async def test_mistakes_are_explained_and_nothing_starts(ag: BotHarness, text: str, expected: str) -> None:
    reply = await ag.say(f"/abstimmung termin {text}", user="anna")
    assert expected in reply, reply
    assert await ag.count(Poll) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/stimme 1", "Und Termin 1: ja, vielleicht oder nein?"),
        ("/stimme ja", "zu welchem Termin?"),
        ("/stimme 4 ja", "von 1 bis 3"),
        ("/stimme 1 gern", "„gern“ verstehe ich nicht als Antwort"),
        ("/stimme 1:", "Was passt dir?"),
    ],
)
async def test_answers_that_are_not_understood(ag: BotHarness, text: str, expected: str) -> None:
    await ag.send(f"/abstimmung termin {DATES}", user="anna")
    assert expected in await ag.say(text, user="mia")
    assert await ag.count(PollVote) == 0


# Who may, languages, secrecy --------------------------------------------------------------------


async def test_members_answer_and_start_only_when_polls_are_open(ag: BotHarness) -> None:
    assert "startet in dieser AG die Koordination" in await ag.say(f"/abstimmung termin {DATES}", user="mia")
    assert "nur im Gruppenchat" in await ag.say(
        f"/abstimmung termin {DATES}", user="anna", chat="anna", private=True
    )
    await ag.say("/ag abstimmungen offen", user="anna")
    await ag.send(f"/abstimmung termin {DATES}", user="mia")
    assert "Deine Antworten" in await ag.say("/stimme 1 ja", user="kurt")
    assert "Deine Antworten" in await ag.say("/stimme 2 nein", user="kurt", chat="kurt", private=True)
    assert "nur die Koordination" in await ag.say("/abstimmung termin waehlen 1 1", user="mia")
    assert await ag.count(Meeting) == 0


async def test_an_ordinary_poll_about_a_date_stays_one(ag: BotHarness) -> None:
    [text, _native] = await ag.send("/abstimmung Termin verschieben? | ja | nein", user="anna")
    assert "Abstimmung Nr. 1: Termin verschieben?" in text
    assert (await the_poll(ag)).kind is PollKind.STANDARD


async def test_english_date_polls(ag: BotHarness) -> None:
    await ag.say("/group language en", user="anna")
    text = squeeze(
        await ag.say("/poll dates Summer party | Dec 3 6pm | Dec 4 6pm | place: park", user="anna")
    )
    assert "Date poll no. 1: Summer party" in text and "1. Thu Dec 3, 6:00 PM" in text
    assert ag.last.buttons[0][1].command == "/stimme 1: 1 maybe"
    assert "Your answers" in await ag.say("/vote 1 yes, 2 maybe", user="mia")
    await ag.say("/vote 1y 2n", user="kurt")
    assert "2. Fri Dec 4, 6:00 PM: no" in squeeze(await ag.say("/vote 1 ja, 2 n", user="bodo"))
    shown = squeeze(await ag.say("/poll 1", user="mia"))
    assert (
        "No Date yes maybe no" in shown
        and "Date 1 suits best: Thu Dec 3, 6:00 PM (3× yes, 0× maybe)." in shown
    )
    text = await everywhere(ag, "/poll dates choose 1 1")
    assert "Chosen: date 1, Thu Dec 3, 6:00 PM – meeting no. 1." in text
    assert "Meeting no. 1" in text or "meeting no. 1" in text


async def test_a_secret_date_poll_is_answered_privately(ag: BotHarness) -> None:
    [text] = await ag.send(f"/abstimmung termin {DATES} | anonym", user="anna")
    assert "Geheime Terminabstimmung" in text
    poll = await the_poll(ag)
    assert ag.last.buttons[0][0].start_payload == f"poll-{poll.id}"
    assert "Eine Stimme zu Abstimmung Nr. 1 ist gezählt" in await ag.say("/stimme 1 ja", user="mia")
    ballot = await ag.send(f"/start poll-{poll.id}", user="kurt", chat="kurt", private=True)
    assert "Geheime Terminabstimmung Nr. 1" in ballot[0]
    assert ag.last.buttons[0][0].command == "/stimme 1: 1 ja"
    await ag.say("/stimme 1: 1 vielleicht, 2 ja", user="kurt", chat="kurt", private=True)
    votes = await ag.rows(PollVote)
    assert len(votes) == 2 and all(v.person_id is None for v in votes)
    shown = squeeze(await ag.say("/abstimmung 1"))
    assert "Geheim: wer wie gestimmt hat" in shown and "Kurt" not in shown and "Mia" not in shown
    await ag.send("/abstimmung schliessen 1", user="anna")
    assert await ag.count(PollVote) == 0
    assert (await the_poll(ag)).answer_counts == [[1, 1, 0], [1, 0, 0], [0, 0, 0]]


# The pure part --------------------------------------------------------------------------------


def test_reading_answers() -> None:
    assert parse_answers("1 ja, 2 vielleicht; 3 nein", 3, 1) == {0: Answer.YES, 1: Answer.MAYBE, 2: Answer.NO}
    assert parse_answers("1 2 j 3n", 3, 1) == {0: Answer.YES, 1: Answer.YES, 2: Answer.NO}
    assert parse_answers("alle maybe, 2 yes", 3, 1) == {0: Answer.MAYBE, 1: Answer.YES, 2: Answer.MAYBE}
    assert merge(["yes", None], {1: Answer.NO}, 3) == ["yes", "no", None]


def test_ranking_by_yes_then_maybe() -> None:
    counts = DateCounts.of_answers(3, [["yes", "maybe", "yes"], ["no", "yes", "maybe"], None, ["no"]])
    assert counts.rows == ((1, 0, 2), (1, 1, 0), (1, 1, 0)) and counts.voters == 3
    assert counts.ranking() == [1, 2, 0] and counts.leaders() == [1, 2]
    assert DateCounts.of_answers(2, [["no", "no"]]).leaders() == []
