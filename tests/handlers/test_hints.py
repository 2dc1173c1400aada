"""The reopen guard in the chat: hints, cool-down, settings and coordinators' feedback.

These tests run the real models (e5 and USE combined, loaded once per module), as the bot does by default.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.core.events import IncomingMessage, QuotedMessage
from bot.core.ports import ManualClock
from bot.services.embeddings import load_embedder
from bot.services.reopen import ReopenGuard
from bot.services.reopen_watch import Candidate
from storage.models import OutboxMessage, ReopenExample, ReopenHint, WorkingGroup
from tests.harness import BotHarness

CHALLENGE = "Müssen wir uns wirklich nur alle drei Monate treffen? Ich fände monatliche Treffen viel besser."
WORKING = "Ich bringe zum nächsten Treffen Kuchen mit."


@pytest.fixture(scope="module")
def use_guard() -> ReopenGuard:
    guard = ReopenGuard(load_embedder("e5+use"))
    guard.warm_up()
    return guard


@pytest.fixture
def guard(use_guard: ReopenGuard) -> ReopenGuard:
    return use_guard


@pytest.fixture
async def ag(bot: BotHarness) -> BotHarness:
    """An AG with settled decisions and a goal; anna coordinates, ben is a member."""
    await bot.setup_group("AG Bildung")
    for text in (
        "Die Treffen finden vierteljährlich statt, reihum bei den Mitgliedern.",
        "Protokolle der AG sind intern; veröffentlicht wird nur mit Zustimmung aller Mitglieder.",
        "Wir entwickeln kein gemeinsames Großprojekt; Kooperationen entstehen bilateral.",
    ):
        await bot.say(f"/beschluss {text}")
    await bot.say("/ziel Bis Ende 2027 erstellen wir eine Übersicht der Bildungsangebote.")
    await bot.send("Hallo zusammen!", user="ben")  # ben's first message: he gets his brief
    return bot


def hint_rows(bot: BotHarness):
    return bot.rows(ReopenHint, order_by=[ReopenHint.id])


async def test_a_challenge_gets_one_hint_naming_the_decision(ag: BotHarness) -> None:
    replies = await ag.send(CHALLENGE, user="ben")
    assert len(replies) == 1, replies
    hint = replies[0]
    assert "Beschluss Nr. 1" in hint
    assert "21.11.2026" in hint  # when it was settled
    assert "vierteljährlich" in hint
    # The way to reopen: the koordination, named, puts it to a vote; the command is filled in and
    # is a button too (labelled for the koordination, who alone starts polls by default).
    assert "spricht die Koordination an (Anna); sie kann es neu zur Abstimmung stellen" in hint
    command = "/abstimmung Soll Beschluss Nr. 1 geändert werden? | ja | nein | beschluss ersetzen 1"
    assert command in hint
    assert ag.last.buttons[1][0].command == command
    assert ag.last.buttons[1][0].label == "🗳 Abstimmung starten (Koordination)"
    message = ag.last
    assert message.reply_to == str(ag._counter)  # answers the very message
    [row] = await hint_rows(ag)
    assert (row.item_kind, row.item_number, row.message_text) == ("decision", 1, CHALLENGE)
    assert message.buttons[0][0].command == f"/hinweis falsch {row.id}"
    [outbox] = await ag.rows(OutboxMessage, OutboxMessage.id == row.outbox_id)
    assert outbox.chat_id == ag.chat().external_id


async def test_working_on_a_decision_gets_no_hint(ag: BotHarness) -> None:
    assert await ag.send(WORKING, user="ben") == []
    assert await ag.send("Wer übernimmt das Protokoll beim nächsten Treffen?", user="ben") == []
    assert await hint_rows(ag) == []


async def test_private_chats_get_no_hints(ag: BotHarness) -> None:
    # Only the general pointer for plain private messages, no hint.
    replies = await ag.send(CHALLENGE, user="ben", private=True)
    assert len(replies) == 1 and "/hilfe" in replies[0] and "Beschluss" not in replies[0]
    assert await hint_rows(ag) == []


async def test_cool_down_per_item_and_chat(ag: BotHarness, clock: ManualClock) -> None:
    assert len(await ag.send(CHALLENGE, user="ben")) == 1
    again = "Vierteljährlich ist zu selten, lasst uns das mit den Treffen nochmal ändern."
    assert await ag.send(again, user="carla") == []
    clock.advance(timedelta(days=6))
    assert await ag.send(again, user="ben") == []
    clock.advance(timedelta(days=2))
    assert len(await ag.send(again, user="ben")) == 1
    assert len(await hint_rows(ag)) == 2


async def test_the_cool_down_is_a_setting(ag: BotHarness, clock: ManualClock) -> None:
    assert "2 Tage" in await ag.say("/hinweise abstand 2")
    assert len(await ag.send(CHALLENGE, user="ben")) == 1
    clock.advance(timedelta(days=2, minutes=1))
    assert len(await ag.send(CHALLENGE, user="ben")) == 1


async def test_the_cool_down_is_counted_in_proper_plurals(ag: BotHarness) -> None:
    assert "frühestens nach 7 Tagen wieder erwähnt" in await ag.say("/hinweise")
    assert "frühestens nach 1 Tag wieder erwähnt" in await ag.say("/hinweise abstand 1")
    assert "frühestens nach 1 Tag wieder erwähnt" in await ag.say("/hinweise")
    await ag.say("/ag sprache en")
    assert "after 1 day at the earliest" in await ag.say("/hints")
    assert "after 3 days at the earliest" in await ag.say("/hints cooldown 3")


async def test_messages_on_the_fast_path_are_checked_too(ag: BotHarness) -> None:
    # ben was seen a moment ago: this message skips the database but not the guard.
    assert ag.app._seen_recently(IncomingMessage(ag.chat(), ag.user("ben"), "x", "m", False)) is not None
    assert len(await ag.send(CHALLENGE, user="ben")) == 1


async def test_switching_hints_off_and_on(ag: BotHarness) -> None:
    assert "nicht mehr" in await ag.say("/hinweise aus")
    assert await ag.send(CHALLENGE, user="ben") == []
    status = await ag.say("/hinweise", user="ben")
    assert "aus" in status and "normal" in status
    assert "wieder" in await ag.say("/hinweise an")
    assert len(await ag.send(CHALLENGE, user="ben")) == 1


async def test_hints_privately_to_the_writer(ag: BotHarness) -> None:
    """``/hinweise privat``: the hint goes to the writer's private chat, quoting the message;
    the group sees nothing; ``/hinweise gruppe`` switches back."""
    assert "privat" in await ag.say("/hinweise privat")
    status = await ag.say("/hinweise", user="ben")
    assert "privat an die Schreibenden" in status
    # which one runs
    assert "Sprachmodell: multilingual-e5-small und Universal Sentence Encoder kombiniert" in status
    before = len(ag.sent_to("ben"))
    assert await ag.send(CHALLENGE, user="ben") == []
    [hint] = ag.sent_to("ben")[before:]
    text = hint.markup.plain()
    assert text.startswith("💬 Zu deiner Nachricht in der AG Bildung:")
    assert "monatliche Treffen" in text and "Beschluss Nr. 1" in text and "21.11.2026" in text
    assert hint.reply_to is None
    assert hint.fallback is not None and hint.fallback.chat == ag.chat()  # if it can't go privately
    assert hint.buttons[1][0].command.startswith("/abstimmung Soll Beschluss Nr. 1")
    [row] = await hint_rows(ag)
    assert row.message_text == CHALLENGE
    assert "Gruppenchat" in await ag.say("/hinweise gruppe")
    [group] = await ag.rows(WorkingGroup)
    assert not group.hints_private
    assert "Koordination" in await ag.say("/hinweise privat", user="ben")  # refused
    [group] = await ag.rows(WorkingGroup)
    assert not group.hints_private


async def test_only_koordination_changes_the_settings(ag: BotHarness) -> None:
    reply = await ag.say("/hinweise aus", user="ben")
    assert "Koordination" in reply
    [group] = await ag.rows(WorkingGroup)
    assert group.hints_enabled


async def test_sensitivity_and_bad_settings(ag: BotHarness) -> None:
    assert "hoch" in await ag.say("/hinweise hoch")
    [group] = await ag.rows(WorkingGroup)
    assert group.hint_sensitivity == "hoch"
    assert "niedrig" in await ag.say("/hinweise niedrig")
    assert "Tage" in await ag.say("/hinweise abstand viele")
    assert "365" in await ag.say("/hinweise abstand 1000")
    assert "„laut“" in await ag.say("/hinweise laut")
    [group] = await ag.rows(WorkingGroup)
    assert (group.hint_sensitivity, group.hint_cooldown_days) == ("niedrig", 7)


async def test_a_hint_marked_wrong_is_learned(ag: BotHarness, clock: ManualClock) -> None:
    text = "Sollen wir das Treffen im Dezember ausnahmsweise online machen, statt vierteljährlich reihum?"
    assert len(await ag.send(text, user="ben")) == 1
    [row] = await hint_rows(ag)
    external_id = str(len(ag.messenger.sent))  # the recording messenger numbers what it sent
    quoted = QuotedMessage(external_id, ag.last.markup.plain(), None)
    reply = await ag.say("/hinweis falsch", reply_to=quoted)
    assert "nicht infrage" in reply and "Beschluss Nr. 1" in reply
    [example] = await ag.rows(ReopenExample)
    assert (example.reopens, example.item_id, example.source, example.hint_id) == (
        False,
        row.item_id,
        "wrong",
        row.id,
    )
    assert "schon" in await ag.say(f"/hinweis falsch {row.id}")
    clock.advance(timedelta(days=8))
    assert await ag.send(text, user="ben") == []  # learned for this AG


async def test_wrong_without_reply_asks_which_hint(ag: BotHarness, clock: ManualClock) -> None:
    assert "noch keinen Hinweis" in await ag.say("/hinweis falsch")
    challenges = [
        CHALLENGE,
        "Protokolle sollten wir doch besser öffentlich machen, oder? Warum eigentlich intern?",
        "Lasst uns doch ein gemeinsames Großprojekt aller Mitglieder starten statt bilateral.",
        "Monatliche Treffen statt vierteljährlich wären wirklich besser, finde ich.",
    ]
    for text in challenges:
        clock.advance(timedelta(days=8))  # past the cool-down, so every challenge gets its hint
        assert len(await ag.send(text, user="ben")) == 1, text
    hints = await hint_rows(ag)
    assert len(hints) == 4
    # Nothing is guessed: a bare command lists the last three hints and learns nothing.
    question = await ag.say("/hinweis falsch")
    assert await ag.count(ReopenExample) == 0
    assert "Welchen Hinweis meinst du?" in question
    newest = hints[-3:][::-1]
    for hint in newest:
        assert f"/hinweis falsch {hint.id} – Beschluss Nr. {hint.item_number}, " in question
    assert f"/hinweis falsch {hints[0].id} " not in question  # only three
    assert question.index(f"falsch {newest[0].id}") < question.index(f"falsch {newest[2].id}")
    assert "„Monatliche Treffen statt vierteljährlich wären wirklich besser, finde ich.“" in question
    assert "„Lasst uns doch ein gemeinsames Großprojekt" in question and "…“" in question  # a short quote
    assert "23.12.2026, 10:00" in question  # when the newest hint was given (32 days on)
    buttons = ag.last.buttons
    assert [row[0].command for row in buttons] == [f"/hinweis falsch {h.id}" for h in newest]
    assert buttons[0][0].label == f"👎 {newest[0].id}: Beschluss Nr. 1"
    # The chosen one (the button's command) is learned; it is then shown as done, without a button.
    assert "nicht infrage" in await ag.say(buttons[1][0].command)
    [example] = await ag.rows(ReopenExample)
    assert example.hint_id == newest[1].id
    again = await ag.say("/hinweis falsch")
    assert f"/hinweis falsch {newest[1].id} – " in again and "(schon als unpassend markiert)" in again
    assert [row[0].command for row in ag.last.buttons] == [
        f"/hinweis falsch {h.id}" for h in (newest[0], newest[2])
    ]


async def test_wrong_without_reply_in_english(ag: BotHarness) -> None:
    await ag.send(CHALLENGE, user="ben")
    await ag.say("/ag sprache en")
    [hint] = await hint_rows(ag)
    question = await ag.say("/hint wrong")
    assert "Which hint do you mean?" in question
    # CLDR puts a narrow no-break space before "AM".
    assert f"/hint wrong {hint.id} – Decision no. 1, Nov 21, 2026, 10:00\u202fAM: “Müssen wir" in question
    assert ag.last.buttons[0][0].command == f"/hinweis falsch {hint.id}"


async def test_wrong_as_reply_to_something_else(ag: BotHarness) -> None:
    await ag.send(CHALLENGE, user="ben")
    reply = await ag.say("/hinweis falsch", reply_to=QuotedMessage("nope", "Hallo", None))
    assert "keiner meiner Hinweise" in reply
    assert "Zahl" in await ag.say("/hinweis falsch abc") or "Nummer" in await ag.say("/hinweis falsch abc")


async def test_members_cannot_mark_hints(ag: BotHarness) -> None:
    await ag.send(CHALLENGE, user="ben")
    assert "Koordination" in await ag.say("/hinweis falsch", user="ben")
    assert await ag.count(ReopenExample) == 0


async def test_a_missed_message_pointed_out_is_learned(ag: BotHarness, clock: ManualClock) -> None:
    missed = "Was haltet ihr davon, wenn alle Stiftungen zusammen einen Fonds auflegen?"
    assert await ag.send(missed, user="ben") == []  # the model alone does not see decision 3 here
    reply = await ag.say("/hinweis 3", reply_to=(missed, "ben"))
    assert "Beschluss Nr. 3" in reply
    [example] = await ag.rows(ReopenExample)
    assert (example.reopens, example.source, example.item_kind) == (True, "missed", "decision")
    replies = await ag.send(missed, user="carla")
    assert len(replies) == 1 and "Beschluss Nr. 3" in replies[0]


async def test_pointing_out_the_same_message_twice_is_already_known(ag: BotHarness) -> None:
    missed = ("Brauchen wir diese Übersicht überhaupt?", "ben")
    assert "Danke" in await ag.say("/hinweis ziel 1", reply_to=missed)
    again = await ag.say("/hinweis ziel 1", reply_to=missed)
    assert "Das weiß ich schon" in again and "Ziel 1" in again and "Danke" not in again
    assert await ag.count(ReopenExample) == 1
    # The same message for another item is something new.
    assert "Danke" in await ag.say("/hinweis 1", reply_to=missed)
    assert "Das weiß ich schon" in await ag.say("/hinweis Nr. 1", reply_to=missed)
    assert await ag.count(ReopenExample) == 2


async def test_pointing_out_needs_a_reply_and_an_active_item(ag: BotHarness) -> None:
    assert "antworte" in await ag.say("/hinweis 1")
    assert "Nr. 99" in await ag.say("/hinweis 99", reply_to=("Etwas", "ben"))
    assert "Ziel 5" in await ag.say("/hinweis ziel 5", reply_to=("Etwas", "ben"))
    assert "Ziel 1" in await ag.say(
        "/hinweis ziel 1", reply_to=("Brauchen wir diese Übersicht überhaupt?", "ben")
    )
    assert await ag.count(ReopenExample) == 1


async def test_new_and_revoked_decisions_reach_the_guard(ag: BotHarness) -> None:
    await ag.send(WORKING, user="ben")  # the guard loads the AG now
    await ag.say("/beschluss Unsere Sitzungssprache ist Deutsch; Folien dürfen englisch sein.")
    replies = await ag.send("Können wir die Sitzungen künftig komplett auf Englisch abhalten?", user="ben")
    assert len(replies) == 1 and "Beschluss Nr. 4" in replies[0]
    await ag.say("/beschluss aufheben 1 Wir treffen uns jetzt monatlich.")
    assert await ag.send(CHALLENGE, user="ben") == []


async def test_english_ag_gets_english_hints(ag: BotHarness) -> None:
    await ag.say("/ag sprache en")
    [hint] = await ag.send(CHALLENGE, user="ben")
    assert "settled" in hint and "Decision" in hint


async def test_a_full_queue_skips_with_a_log_line(ag: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    watcher = ag.app.component("reopen")
    [group] = await ag.rows(WorkingGroup)
    candidate = Candidate(group.id, ag.chat(), "1", CHALLENGE, ag.user("ben"))
    with caplog.at_level(logging.WARNING):
        results = [watcher.offer(candidate) for _ in range(watcher.queue.maxsize + 5)]
    assert results.count(False) == 5 and watcher.skipped == 5
    assert caplog.text.count("reopen guard busy") == 1  # one line, not one per message
    # Commands are answered meanwhile (and the queued messages give one hint: the cool-down).
    replies = await ag.send("/beschluss 1")
    assert len(replies) == 2  # in either order: the worker runs beside the command
    assert sum(r.startswith("Nr. 1 ·") for r in replies) == 1
    assert sum(r.startswith("💡") for r in replies) == 1


async def test_a_failing_guard_costs_a_hint_not_the_bot(
    ag: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("model exploded")

    await ag.send(WORKING, user="ben")
    monkeypatch.setattr(ag.app.component("reopen").guard, "check", broken)
    with caplog.at_level(logging.ERROR):
        assert await ag.send(CHALLENGE, user="ben") == []
    assert "reopen guard failed" in caplog.text
    assert (await ag.say("/beschluss 1")).startswith("Nr. 1 ·")
