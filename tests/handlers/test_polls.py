"""Polls through the harness: starting them (every syntax, every error), votes by ``/stimme`` and
by native poll answers (changed, withdrawn, as a reply), the close (deadline, by hand, everyone
voted) with its chart and what it records (decision, replacement, goal), quorum and ties, one
tally across linked chats, reminders of non-voters, anonymity, and who may start polls.

The clock starts on Saturday, 21 November 2026, 10:00 in Berlin; "bis: Montag 18 Uhr" is the
23rd, 17:00 UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Integer, select

from bot.core.events import (
    ChatKind,
    ChatRef,
    IncomingMessage,
    Platform,
    PollAnswered,
    QuotedMessage,
    SentMessage,
)
from bot.core.i18n import Translator
from bot.handlers.hints import hint_message
from bot.services import charts
from bot.services.reopen import SettledItem
from storage.models import (
    REDACTED_PAYLOAD,
    Base,
    Decision,
    DecisionStatus,
    Goal,
    OutboxMessage,
    Person,
    Poll,
    PollEffect,
    PollMessage,
    PollStatus,
    PollVote,
    ScheduledJob,
)
from tests.harness import BotHarness

MONDAY_18 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")
MEMBERS = ("mia", "kurt", "bodo")


@pytest.fixture
async def ag(bot: BotHarness) -> BotHarness:
    """AG Bildung: anna coordinates; mia, kurt and bodo are members; decision 1 is in force."""
    await bot.setup_group("AG Bildung", user="anna")
    await bot.say("/beschluss Die Treffen finden vierteljährlich statt", user="anna")
    for name in MEMBERS:
        await bot.send("Hallo zusammen", user=name)
    return bot


async def start(bot: BotHarness, text: str, *, user: str = "anna", chat: str = "ag") -> list[str]:
    return await bot.send(f"/abstimmung {text}", user=user, chat=chat)


async def close(bot: BotHarness, number: int = 1, user: str = "anna") -> str:
    """``/abstimmung schliessen``; returns the result as posted (not the end of the native poll)."""
    before = len(bot.messenger.sent)
    await bot.send(f"/abstimmung schliessen {number}", user=user)
    return "\n".join(m.markup.plain() for m in bot.messenger.sent[before:] if m.close_poll is None)


async def the_poll(bot: BotHarness, number: int = 1) -> Poll:
    [poll] = await bot.rows(Poll, Poll.number == number)
    return poll


async def natives(bot: BotHarness, poll: Poll) -> list[PollMessage]:
    return await bot.rows(
        PollMessage,
        PollMessage.poll_id == poll.id,
        PollMessage.native_poll_id.is_not(None),
        order_by=[PollMessage.id],
    )


async def answer(bot: BotHarness, native: PollMessage, user: str, *options: int) -> None:
    """A native poll answer, as the Telegram and Matrix adapters report it."""
    assert native.native_poll_id is not None
    await bot.app.handle(PollAnswered(bot.platform, native.native_poll_id, bot.user(user), options))
    await bot.settle()


async def ballots(bot: BotHarness, poll: Poll) -> dict[str, list[int]]:
    """Current votes by username (an open poll that records voters)."""
    votes = await bot.rows(PollVote, PollVote.poll_id == poll.id)
    people = {p.id: p.username for p in await bot.rows(Person)}
    return {people[v.person_id]: list(v.choices) for v in votes}


async def open_private(bot: BotHarness, user: str) -> ChatRef:
    """The person writes to the bot privately, as on a real platform (the chat is their id)."""
    chat = ChatRef(bot.platform, bot.user(user).external_id, ChatKind.PRIVATE, user)
    await bot.app.handle(IncomingMessage(chat, bot.user(user), "/hilfe"))
    await bot.settle()
    return chat


async def send_in(bot: BotHarness, chat: ChatRef, user: str, text: str) -> list[str]:
    before = len(bot.messenger.sent)
    await bot.app.handle(IncomingMessage(chat, bot.user(user), text))
    await bot.settle()
    return [m.markup.plain() for m in bot.messenger.sent[before:] if m.chat.external_id == chat.external_id]


# Starting -------------------------------------------------------------------------------------


async def test_a_yes_no_poll_runs_with_its_settings_and_a_native_poll(ag: BotHarness) -> None:
    replies = await start(
        ag, "Machen wir im Juni ein Sommerfest? | bis: Montag 18 Uhr | quorum: 3 | beschluss"
    )
    assert len(replies) == 2, replies  # the text with the numbered options, then the native poll
    text = replies[0]
    assert "Abstimmung Nr. 1: Machen wir im Juni ein Sommerfest?" in text
    assert "1. ja\n" in text and "2. nein\n" in text and "3. Enthaltung\n" in text
    assert "Läuft bis Mo, 23.11.2026 um 18:00." in text
    assert "Quorum: 3 Stimmen · Ergebnis wird Beschluss" in text
    assert "/stimme 1: <Nr>" in text
    spec = ag.last.poll
    assert spec is not None and spec.question == "Nr. 1: Machen wir im Juni ein Sommerfest?"
    assert spec.options == ("ja", "nein", "Enthaltung") and not spec.anonymous and not spec.allows_multiple

    poll = await the_poll(ag)
    assert (poll.deadline, poll.quorum_count, poll.effect, poll.yes_no) == (
        MONDAY_18,
        3,
        PollEffect.DECISION,
        True,
    )
    jobs = {j.kind: j.due_at for j in await ag.rows(ScheduledJob, ScheduledJob.ref_id == poll.id)}
    assert jobs == {"poll.close": MONDAY_18, "poll.remind": MONDAY_18 - timedelta(hours=24)}
    # The outbox reported both delivered parts; the native poll's id maps answers to the poll.
    messages = await ag.rows(PollMessage, PollMessage.poll_id == poll.id, order_by=[PollMessage.id])
    assert [m.native_poll_id is not None for m in messages] == [False, True]
    assert {m.chat_id for m in messages} == {ag.chat("ag").external_id}


async def test_one_option_per_line_and_until_everyone_voted(ag: BotHarness) -> None:
    replies = await start(
        ag, "Wohin geht der Ausflug?\nZeche Zollverein\nLandschaftspark\nbis: alle\nmehrfach"
    )
    assert "Endet, sobald alle Mitglieder abgestimmt haben" in replies[0]
    assert "/stimme 1: 1,3" in replies[0]  # how to tick several
    poll = await the_poll(ag)
    assert poll.options == ["Zeche Zollverein", "Landschaftspark"] and poll.until_all and poll.multiple
    assert poll.deadline == ag.app.clock.now() + timedelta(days=7)  # at the latest
    assert ag.last.poll is not None and ag.last.poll.allows_multiple


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sommerfest? | nur eine", "Nur eine Option („nur eine“) ist keine Wahl"),
        (
            "Sommerfest? | " + " | ".join(f"Tag {i}" for i in range(1, 12)),
            "11 Optionen sind zu viele – höchstens 10",
        ),
        ("Sommerfest? | Juni || Juli", "Option 2 ist leer"),
        ("Sommerfest? | Juni | Juli | bis: heute 8 Uhr", "das ist schon vorbei"),
        ("Sommerfest? | Juni | Juli | bis: 20.11.2026", "das ist schon vorbei"),
        ("Sommerfest? | Juni | Juli | bis: jeden Montag", "wiederholt sich"),
        ("Sommerfest? | Juni | Juli | quorum: die Hälfte", "„die Hälfte“ verstehe ich nicht als Quorum"),
        ("Sommerfest? | Juni | Juli | anonym | schnell", "„schnell“ ist keine Einstellung"),
        ("Sommerfest? | Juni | Juni", "„Juni“ steht doppelt"),
        ("S" * 300, "Die Frage ist zu lang: 300 Zeichen, höchstens 250"),
        ("Neue Fassung? | beschluss ersetzen 9", "Beschluss Nr. 9 gibt es in dieser AG nicht"),
    ],
)
async def test_mistakes_are_explained_and_nothing_starts(ag: BotHarness, text: str, expected: str) -> None:
    replies = await start(ag, text)
    assert len(replies) == 1 and expected in replies[0], replies
    assert await ag.count(Poll) == 0


async def test_replacing_a_decision_that_no_longer_applies_is_refused(ag: BotHarness) -> None:
    await ag.say("/beschluss ersetzen 1 Die Treffen finden monatlich statt", user="anna")
    [reply] = await start(ag, "Neue Fassung? | beschluss ersetzen 1")
    assert "Beschluss Nr. 1 gilt nicht mehr" in reply
    assert await ag.count(Poll) == 0


# Voting ---------------------------------------------------------------------------------------


async def test_votes_are_changed_and_withdrawn_by_command_and_natively(ag: BotHarness) -> None:
    await start(ag, "Sommerfest? | ja | nein")
    poll = await the_poll(ag)
    assert "gezählt: „ja“" in await ag.say("/stimme 1", user="mia")
    assert "geändert: „nein“" in await ag.say("/stimme nein", user="mia")
    assert "war schon „nein“" in await ag.say("/stimme 2", user="mia")
    assert await ballots(ag, poll) == {"mia": [1]}
    assert "zurückgezogen" in await ag.say("/stimme zurueck", user="mia")
    assert await ballots(ag, poll) == {}
    assert "hattest du nicht abgestimmt" in await ag.say("/stimme zurück 1", user="mia")

    [native] = await natives(ag, poll)
    await answer(ag, native, "kurt", 0)
    assert await ballots(ag, poll) == {"kurt": [0]}
    await answer(ag, native, "kurt", 1)  # the last vote counts
    assert await ballots(ag, poll) == {"kurt": [1]}
    await answer(ag, native, "kurt")  # Telegram's retraction: no options
    assert await ballots(ag, poll) == {}
    await ag.app.handle(PollAnswered(ag.platform, "unknown-poll", ag.user("kurt"), (0,)))
    assert await ag.count(PollVote) == 0

    assert "nur eine Antwort" in await ag.say("/stimme 1,2", user="mia")
    assert "die Optionen 1 bis 2" in await ag.say("/stimme vielleicht", user="mia")
    assert "von 1 bis 2" in await ag.say("/stimme 3", user="mia")
    assert await ag.count(PollVote) == 0


async def test_which_poll_by_number_or_as_a_reply(ag: BotHarness) -> None:
    await start(ag, "Sommerfest? | ja | nein")
    await start(ag, "Ausflug? | Zeche | Halde")
    assert "Es laufen mehrere Abstimmungen (Nr. 1, 2)" in await ag.say("/stimme 1", user="mia")
    second = await the_poll(ag, 2)
    [announcement, _native] = await ag.rows(
        PollMessage, PollMessage.poll_id == second.id, order_by=[PollMessage.id]
    )
    assert announcement.message_id is not None
    quoted = QuotedMessage(announcement.message_id, "🗳 Abstimmung Nr. 2: Ausflug?")
    assert "gezählt: „Halde“" in await ag.say("/stimme 2", user="mia", reply_to=quoted)
    assert "Abstimmung Nr. 1 gezählt: „nein“" in await ag.say("/stimme 1: 2", user="mia")
    assert await ballots(ag, second) == {"mia": [1]}
    assert await ballots(ag, await the_poll(ag, 1)) == {"mia": [1]}


async def test_the_standing_names_voters_and_the_list_shows_polls(ag: BotHarness) -> None:
    await start(ag, "Sommerfest? | ja | nein")
    await ag.say("/stimme 1", user="mia")
    await ag.say("/stimme 2", user="kurt")
    shown = await ag.say("/abstimmung 1", user="bodo")
    assert "• ja: 1 (50 %)" in shown and "• nein: 1 (50 %)" in shown
    assert "Abgestimmt: 2 von 4 Mitgliedern." in shown and "Bisher: Kurt, Mia" in shown
    listing = await ag.say("/abstimmungen", user="bodo", chat="bodo", private=True)
    assert "Laufend:" in listing and "Nr. 1: Sommerfest? (bis " in listing and "2 Stimmen)" in listing
    assert "Eine Abstimmung Nr. 7 gibt es in dieser AG nicht" in await ag.say("/abstimmung 7")


# Closing --------------------------------------------------------------------------------------


async def test_the_deadline_closes_with_chart_decision_and_ended_native_polls(ag: BotHarness) -> None:
    await start(ag, "Machen wir im Juni ein Sommerfest? | bis: Montag 18 Uhr | beschluss")
    poll = await the_poll(ag)
    [native] = await natives(ag, poll)
    await ag.say("/stimme 1", user="mia")
    await answer(ag, native, "kurt", 0)
    await ag.say("/stimme 2", user="bodo")
    assert "Vote" not in await ag.say("/abstimmung 1")  # still open: the standing

    sent = await ag.advance(to=MONDAY_18)
    [ended] = [m for m in sent if m.close_poll is not None]
    assert ended.close_poll == native.message_id and ended.chat.external_id == ag.chat("ag").external_id
    [result] = [m for m in sent if m.attachment is not None]
    assert result.attachment.mime_type == "image/png" and result.attachment.data.startswith(b"\x89PNG")
    text = result.markup.plain()  # short enough to be the picture's caption
    assert "Ergebnis der Abstimmung Nr. 1: Machen wir im Juni ein Sommerfest?" in text
    assert "• ja: 2 (67 %)" in text and "• nein: 1 (33 %)" in text and "• Enthaltung: 0 (0 %)" in text
    assert "Abgestimmt: 3 von 4 Mitgliedern." in text
    assert "Mehrheit für „ja“ (2 von 3 Stimmen)." in text
    assert "Als Beschluss Nr. 2 festgehalten" in text

    poll = await the_poll(ag)
    assert poll.status is PollStatus.CLOSED and poll.counts == [2, 1, 0] and poll.recorded_number == 2
    [decision] = await ag.rows(Decision, Decision.number == 2)
    assert decision.text == "Machen wir im Juni ein Sommerfest? – ja (Abstimmung Nr. 1, 2 von 3 Stimmen)"
    assert decision.poll_id == poll.id and decision.status is DecisionStatus.ACTIVE
    shown = await ag.say("/beschluss 2", user="mia")
    assert "Beschlossen mit Abstimmung Nr. 1:" in shown and "• ja: 2 (67 %)" in shown
    assert "schon beendet" in await ag.say("/stimme 1: 1", user="anna")
    assert "keine Abstimmung" in await ag.say("/stimme 1", user="anna")
    await answer(ag, native, "anna", 1)  # too late natively, too
    assert (await the_poll(ag)).counts == [2, 1, 0]
    assert "Mehrheit für „ja“" in await ag.say("/abstimmung 1")
    # Nothing left to fire.
    assert await ag.advance(timedelta(days=30)) == []


async def test_quorum_missed_records_nothing_and_says_why(ag: BotHarness) -> None:
    await start(ag, "Sommerfest? | quorum: 3 | beschluss")
    await ag.say("/stimme 1", user="mia")
    await ag.say("/stimme 1", user="kurt")
    text = await close(ag)
    assert "Quorum: 2 von 3 nötigen Stimmen." in text
    assert "Quorum verfehlt: 2 von 3 nötigen Stimmen." in text
    assert "Kein Beschluss festgehalten: das Quorum wurde verfehlt." in text
    assert await ag.count(Decision) == 1
    assert await ag.count(ScheduledJob, ScheduledJob.status == "pending") == 0  # close and reminder cancelled


async def test_quorum_as_a_share_of_the_members_is_met(ag: BotHarness) -> None:
    await start(ag, "Sommerfest? | quorum: 50 % | beschluss")
    await ag.say("/stimme 1", user="mia")
    await ag.say("/stimme 1", user="kurt")  # 2 of 4 members
    text = await close(ag, 1)
    assert "Quorum (2) erreicht." in text and "Als Beschluss Nr. 2 festgehalten" in text


async def test_a_tie_is_named_and_decides_nothing(ag: BotHarness) -> None:
    await start(ag, "Wohin? | Zeche | Halde | Park | beschluss")
    await ag.say("/stimme 1", user="mia")
    await ag.say("/stimme 2", user="kurt")
    text = await close(ag, 1)
    assert "Gleichstand zwischen „Zeche“ und „Halde“ (je 1 Stimme) – keine Mehrheit." in text
    assert "Kein Beschluss festgehalten: Gleichstand." in text
    assert "• Zeche: 1 (50 %)" in text and "• Park: 0 (0 %)" in text
    assert await ag.count(Decision) == 1


async def test_the_reopen_command_replaces_the_decision_when_the_majority_says_yes(ag: BotHarness) -> None:
    command = "/abstimmung Soll Beschluss Nr. 1 geändert werden? | ja | nein | beschluss ersetzen 1"
    await ag.send(command, user="anna")
    poll = await the_poll(ag)
    assert (poll.effect, poll.replaces_number, poll.yes_no) == (PollEffect.REPLACE, 1, True)
    for name in ("mia", "kurt"):
        await ag.say("/stimme ja", user=name)
    await ag.say("/stimme nein", user="bodo")
    text = await close(ag, 1)
    assert "Beschluss Nr. 1 ist ersetzt durch Beschluss Nr. 2" in text
    old, new = await ag.rows(Decision, order_by=[Decision.number])
    assert old.status is DecisionStatus.REPLACED and new.replaces_id == old.id and new.poll_id == poll.id
    assert new.text == "Soll Beschluss Nr. 1 geändert werden? – ja (Abstimmung Nr. 1, 2 von 3 Stimmen)"

    # A majority for "no" keeps the decision as it is.
    await ag.send(command.replace("Nr. 1", "Nr. 2").replace("ersetzen 1", "ersetzen 2"), user="anna")
    await ag.say("/stimme 2: nein", user="mia")
    text = await close(ag, 2)
    assert (
        "Mehrheit für „nein“" in text
        and "Beschluss Nr. 2 bleibt, wie er ist: die Mehrheit war dagegen." in text
    )
    assert [d.status for d in await ag.rows(Decision, order_by=[Decision.number])] == [
        DecisionStatus.REPLACED,
        DecisionStatus.ACTIVE,
    ]


async def test_a_goal_from_a_poll(ag: BotHarness) -> None:
    await start(ag, "Planen wir 2027 einen Fortbildungstag? | ziel")
    await ag.say("/stimme 1", user="mia")
    text = await close(ag, 1)
    assert "Als Ziel 1 festgehalten" in text
    [goal] = await ag.rows(Goal)
    assert goal.text == "Planen wir 2027 einen Fortbildungstag? – ja (Abstimmung Nr. 1, 1 von 1 Stimmen)"


async def test_until_everyone_voted(ag: BotHarness) -> None:
    await start(ag, "Sommerfest? | bis: alle")
    poll = await the_poll(ag)
    [native] = await natives(ag, poll)
    for name in ("anna", "mia", "kurt"):
        await ag.say("/stimme 1", user=name)
    assert (await the_poll(ag)).status is PollStatus.OPEN
    before = len(ag.messenger.sent)
    await answer(ag, native, "bodo", 1)  # the last member, natively
    assert (await the_poll(ag)).status is PollStatus.CLOSED
    [result] = [m for m in ag.messenger.sent[before:] if m.attachment is not None]
    assert "Abgestimmt: 4 von 4 Mitgliedern." in result.markup.plain()


async def test_a_long_result_goes_after_a_short_caption(ag: BotHarness) -> None:
    options = " | ".join(f"Option {i}: " + "sehr lang " * 9 for i in range(10))
    await start(ag, f"Welche? | {options}")
    text = await close(ag)
    chart, full = ag.messenger.sent[-2:]  # the full result after the chart
    assert chart.attachment is not None and "Niemand hat abgestimmt." in chart.markup.plain()
    assert full.attachment is None and full.markup.plain() in text and "Option 9" in text


async def test_a_native_poll_delivered_after_the_close_is_ended(ag: BotHarness) -> None:
    await start(ag, "Sommerfest? | ja | nein")
    await ag.send("/abstimmung schliessen 1", user="anna")
    before = len(ag.messenger.sent)
    await ag.app.outbox.on_sent("poll:1", SentMessage(ag.chat("ag2"), "77", "late-native"))
    await ag.settle()
    [ended] = ag.messenger.sent[before:]
    assert ended.close_poll == "77" and ended.chat.external_id == ag.chat("ag2").external_id


# Linked chats ---------------------------------------------------------------------------------


async def test_one_poll_and_one_tally_across_linked_chats(ag: BotHarness) -> None:
    code = CODE.search(await ag.say("/ag verknuepfen", user="anna")).group(0)
    assert "gehört jetzt zu" in await ag.say(f"/ag verknuepfen {code}", user="anna", chat="ag2")
    await start(ag, "Sommerfest? | ja | nein | bis: Montag 18 Uhr")
    poll = await the_poll(ag)
    # Each chat got its own native poll (delivered by each chat's outbox worker, in any order).
    by_chat = {m.chat_id: m for m in await natives(ag, poll)}
    here, there = by_chat.pop(ag.chat("ag").external_id), by_chat.pop(ag.chat("ag2").external_id)
    assert not by_chat
    await answer(ag, here, "mia", 0)
    await answer(ag, there, "carla", 0)  # somebody only in the other chat
    await ag.say("/stimme 2", user="kurt", chat="ag2")
    assert "• ja: 2 (67 %)" in await ag.say("/abstimmung 1", chat="ag2")

    sent = await ag.advance(to=MONDAY_18)
    results = [m for m in sent if m.attachment is not None]
    assert {m.chat.external_id for m in results} == {ag.chat("ag").external_id, ag.chat("ag2").external_id}
    assert all("• ja: 2 (67 %)" in m.markup.plain() for m in results)
    assert {m.close_poll for m in sent if m.close_poll} == {here.message_id, there.message_id}


# Reminders ------------------------------------------------------------------------------------


async def test_non_voters_are_reminded_privately_or_in_the_group_without_names(ag: BotHarness) -> None:
    await open_private(ag, "mia")
    await open_private(ag, "kurt")  # bodo never wrote to the bot privately
    await start(ag, "Sommerfest? | bis: Montag 18 Uhr | erinnern: 2h")
    await ag.say("/stimme 1", user="anna")
    await ag.say("/stimme 1", user="kurt")
    assert [m for m in await ag.advance(to=MONDAY_18 - timedelta(hours=2, minutes=1))] == []

    sent = await ag.advance(timedelta(minutes=1))
    private = {m.chat.external_id: m for m in sent if m.chat.is_private}
    assert set(private) == {ag.user("mia").external_id}  # never to those who voted
    note = private[ag.user("mia").external_id]
    assert (
        "Du hast bei Abstimmung Nr. 1 der AG Bildung noch nicht abgestimmt: Sommerfest?"
        in note.markup.plain()
    )
    assert note.buttons[0][0].command == "/stimme 1: 1"
    [group_note] = [m for m in sent if not m.chat.is_private]  # for bodo, whom the bot cannot write to
    text = group_note.markup.plain()
    assert "Abstimmung Nr. 1 läuft noch bis Mo, 23.11.2026 um 18:00" in text
    assert not any(name in text for name in ("Mia", "Bodo", "Kurt", "Anna"))
    # The reminder's button works in the private chat.
    assert (
        "gezählt: „ja“"
        in (await send_in(ag, await open_private(ag, "mia"), "mia", note.buttons[0][0].command))[0]
    )


async def test_an_anonymous_poll_gets_one_general_reminder(ag: BotHarness) -> None:
    await open_private(ag, "mia")
    await start(ag, "Geheim? | A | B | anonym | bis: Montag 18 Uhr")
    sent = await ag.advance(to=MONDAY_18 - timedelta(hours=1))
    reminders = [m for m in sent if "noch" in m.markup.plain()]
    assert [m.chat.external_id for m in reminders] == [ag.chat("ag").external_id]
    assert "geheime Abstimmung Nr. 1" in reminders[0].markup.plain()


# Anonymity ------------------------------------------------------------------------------------


async def test_an_anonymous_poll_keeps_no_voter_identity_once_closed(ag: BotHarness) -> None:
    kurt_chat = await open_private(ag, "kurt")
    voters = {p.username: p for p in await ag.rows(Person) if p.username in MEMBERS}
    before = {}
    async with ag.app.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and isinstance(table.c.id.type, Integer):
                before[table.name] = (
                    await session.scalar(select(table.c.id).order_by(table.c.id.desc()).limit(1)) or 0
                )

    replies = await start(
        ag, "Wen laden wir ein? | Presse | Stadtrat | Schulen | anonym | bis: Montag 18 Uhr"
    )
    assert len(replies) == 1 and "Geheime Abstimmung" in replies[0]  # no native poll: it would show voters
    assert ag.last.buttons[0][0].start_payload == f"poll-{(await the_poll(ag)).id}"
    poll = await the_poll(ag)
    # In the group chat a vote counts, and the reply names nobody and no choice.
    [reply] = await ag.send("/stimme 1", user="mia")
    assert "Eine Stimme zu Abstimmung Nr. 1 ist gezählt" in reply and "Presse" not in reply
    # Privately: the ballot from the button, then the vote; both replies are redacted once sent.
    ballot = await send_in(ag, kurt_chat, "kurt", f"/start poll-{poll.id}")
    assert "Geheime Abstimmung Nr. 1" in ballot[0] and "1. Presse" in ballot[0]
    assert "gezählt: „Stadtrat“" in (await send_in(ag, kurt_chat, "kurt", ag.last.buttons[0][1].command))[0]
    assert "gezählt" in await ag.say("/stimme 1: 2", user="bodo", chat="bodo", private=True)
    votes = await ag.rows(PollVote)
    assert len(votes) == 3 and all(v.person_id is None and v.cast_at is None for v in votes)
    shown = await ag.say("/abstimmung 1")
    assert "Stadtrat: 2 (67 %)" in shown and "Geheim" in shown and "Bisher" not in shown

    await ag.advance(to=MONDAY_18)
    poll = await the_poll(ag)
    assert poll.status is PollStatus.CLOSED and poll.counts == [1, 2, 0] and poll.secret is None
    assert await ag.count(PollVote) == 0

    needles = [v.external_id for v in voters.values()] + [v.display_name for v in voters.values()]
    ids = {v.id for v in voters.values()}
    found = []
    async with ag.app.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in ("people", "memberships", "chats"):
                continue  # who is in the AG at all, not how anybody voted
            query = select(table)
            if table.name in before:
                query = query.where(table.c.id > before[table.name])  # written since the poll began
            for row in (await session.execute(query)).mappings():
                for column in table.columns:
                    value = row[column.name]
                    if value is None:
                        continue
                    if any(fk.column.table.name == "people" for fk in column.foreign_keys) and value in ids:
                        found.append(f"{table.name}.{column.name}")
                    elif any(n in str(value) for n in needles):
                        # A private reply's address stays; its content (the vote) is redacted.
                        if (
                            table.name == "outbox"
                            and column.name == "chat_id"
                            and row["payload"] == REDACTED_PAYLOAD
                        ):
                            continue
                        found.append(f"{table.name}.{column.name}={str(value)[:80]}")
    assert found == []
    redacted = await ag.rows(
        OutboxMessage, OutboxMessage.chat_id == kurt_chat.external_id, OutboxMessage.secret
    )
    assert len(redacted) == 2 and all(r.payload == REDACTED_PAYLOAD for r in redacted)


# Who may start polls --------------------------------------------------------------------------


async def test_only_the_koordination_starts_polls_unless_opened(ag: BotHarness) -> None:
    refused = await start(ag, "Grillen? | ja | nein", user="mia")
    assert "Abstimmungen startet in dieser AG die Koordination" in refused[0] and await ag.count(Poll) == 0
    assert "startet in dieser AG die Koordination" in await ag.say("/ag abstimmungen", user="mia")
    assert "Das darf nur die Koordination" in await ag.say("/ag abstimmungen offen", user="mia")
    assert "jedes Mitglied" in await ag.say("/ag abstimmungen offen", user="anna")
    await start(ag, "Grillen? | ja | nein", user="mia")
    assert await ag.count(Poll) == 1
    assert "Das darf nur die Koordination" in await ag.say("/abstimmung schliessen 1", user="mia")
    assert "nur die Koordination" in await ag.say("/ag abstimmungen koordination", user="anna")
    await start(ag, "Noch eins? | ja | nein", user="mia")
    assert await ag.count(Poll) == 1
    private = await ag.say("/abstimmung Grillen? | ja | nein", user="anna", chat="anna", private=True)
    assert "nur im Gruppenchat" in private


async def test_the_hint_offers_a_working_poll_for_whoever_may_start_it() -> None:
    tr = Translator("de")
    item = SettledItem(7, "decision", 2, "Die Treffen finden vierteljährlich statt")
    chat = ChatRef(Platform.CONSOLE, "group:ag")
    closed = hint_message(tr, chat, item, 5, None)
    command = "/abstimmung Soll Beschluss Nr. 2 geändert werden? | ja | nein | beschluss ersetzen 2"
    assert command in closed.markup.plain() and closed.buttons[1][0].command == command
    assert closed.buttons[1][0].label == "🗳 Abstimmung starten (Koordination)"
    opened = hint_message(tr, chat, item, 5, None, polls_open=True)
    assert "Wer das ändern möchte, kann es zur Abstimmung stellen:" in opened.markup.plain()
    assert opened.buttons[1][0].label == "🗳 Abstimmung starten"
    goal = hint_message(tr, chat, SettledItem(8, "goal", 3, "Ein Fortbildungstag"), 5, None)
    assert "/abstimmung Soll Ziel 3 aufgegeben werden? | ja | nein | beschluss" in goal.markup.plain()


async def test_english_polls(ag: BotHarness) -> None:
    await ag.say("/group language en", user="anna")
    replies = await ag.send("/poll Summer party? | until: Monday 6pm | decision", user="anna")
    assert "Poll no. 1: Summer party?" in replies[0] and "1. yes" in replies[0]
    await ag.say("/vote yes", user="mia")
    before = len(ag.messenger.sent)
    await ag.send("/poll close 1", user="anna")
    text = "\n".join(m.markup.plain() for m in ag.messenger.sent[before:] if m.close_poll is None)
    assert "Majority for “yes” (1 of 1 votes)." in text and "Recorded as decision no. 2" in text
    [decision] = await ag.rows(Decision, Decision.number == 2)
    assert decision.text == "Summer party? – yes (poll no. 1, 1 of 1 votes)"


async def test_a_question_starting_with_the_subcommand_word_is_a_poll(ag: BotHarness) -> None:
    replies = await start(ag, "Schließen wir das Büro im August? | ja | nein")
    assert "Abstimmung Nr. 1: Schließen wir das Büro im August?" in replies[0]
    assert "keine" in await ag.say("/abstimmung schliessen Sommerfest", user="anna")  # a number is expected
    assert await ag.count(Poll) == 1


async def test_a_chart_that_fails_costs_only_the_picture(
    ag: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(charts, "bar_chart", broken)
    await start(ag, "Sommerfest? | beschluss")
    await ag.say("/stimme 1", user="mia")
    text = await close(ag)
    assert "Mehrheit für „ja“" in text and "Als Beschluss Nr. 2 festgehalten" in text
    assert ag.last.attachment is None and (await the_poll(ag)).status is PollStatus.CLOSED
