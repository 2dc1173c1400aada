"""Polls end to end over HTTP (issue 11): the real adapter and PTB against the fake Bot API server.

A coordinator starts a poll, members answer in Telegram's own poll (``sendPoll`` → ``poll_answer``
updates, changed and withdrawn), the deadline passes on a travelling clock, the poll is stopped
(``stopPoll``), the result arrives with its chart (``sendPhoto``) and becomes a decision. An
anonymous poll has no native poll: its votes are cast privately through the deep link.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.core.ports import TravelClock
from tests.adapters.telegram.conftest import ADMIN, GROUP, MEMBER, NEWCOMER
from tests.fakes.telegram_api import FakeTelegramServer, UploadedFile

QUESTION = "Machen wir im Juni ein Sommerfest?"
CHALLENGE = "Müssen wir uns wirklich nur alle drei Monate treffen? Ich fände monatliche Treffen viel besser."
PNG = b"\x89PNG\r\n\x1a\n"
WAIT = 30.0  # the first chart imports matplotlib
# The guard's first check after a first start (the seed embedded with both models).
COLD_GUARD = 180.0


async def send(
    server: FakeTelegramServer, chat: int, user: int, text: str, count: int = 1, *, wait: float = WAIT
) -> list[dict[str, Any]]:
    """Inject a message; return the next ``count`` messages the bot sent to that chat."""
    before = len(server.sent_messages(chat))
    server.inject_message(chat, user, text)
    return (await server.wait_for_messages(chat, before + count, timeout=wait))[before:]


async def say(server: FakeTelegramServer, chat: int, user: int, text: str) -> str:
    """Inject a message; return the text of the bot's next message in that chat."""
    [reply] = await send(server, chat, user, text)
    return reply.get("text") or reply.get("caption") or ""


async def members(server: FakeTelegramServer) -> None:
    """An AG in the group: Anna creates it, Bernd and Carla join it (members from then on)."""
    assert "angelegt" in await say(server, GROUP, ADMIN, "/ag anlegen AG Bildung")
    server.inject_new_members(GROUP, [MEMBER, NEWCOMER], by_user_id=ADMIN)
    before = len(server.sent_messages(GROUP))
    server.inject_message(GROUP, ADMIN, "/ag")
    # Updates are handled in order: once this is answered, the joins were (welcomes come first).
    await server.wait_for(
        lambda: any("Mitglieder: 3" in (m.get("text") or "") for m in server.sent_messages(GROUP)[before:]),
        WAIT,
        "the AG with three members",
    )


async def test_a_native_poll_round_trip_ends_in_a_decision(server, make_bot) -> None:
    clock = TravelClock()
    running = await make_bot(clock=clock)
    await members(server)

    text, native = await send(
        server, GROUP, ADMIN, f"/abstimmung {QUESTION} | ja | nein | bis: morgen 18 Uhr | beschluss", 2
    )
    assert f"Abstimmung Nr. 1: {QUESTION}" in text["text"] and "1. ja\n2. nein" in text["text"]
    assert "Ergebnis wird Beschluss" in text["text"] and "/stimme 1: <Nr>" in text["text"]
    [call] = server.calls_to("sendPoll")
    assert call.params["chat_id"] == GROUP and call.params["is_anonymous"] is False
    poll = native["poll"]
    assert poll["question"] == f"Nr. 1: {QUESTION}"
    assert [o["text"] for o in poll["options"]] == ["ja", "nein"]
    assert not poll["is_anonymous"] and not poll["allows_multiple_answers"]
    # The outbox reported the delivery (the poll id is known) before anybody answers.
    await running.app.outbox.drain()

    server.inject_poll_answer(poll["id"], ADMIN, [0])
    server.inject_poll_answer(poll["id"], MEMBER, [1])
    server.inject_poll_answer(poll["id"], MEMBER, [0])  # Bernd changes his mind
    server.inject_poll_answer(poll["id"], NEWCOMER, [1])
    server.inject_poll_answer(poll["id"], NEWCOMER, [])  # Carla withdraws her answer
    standing = await say(server, GROUP, NEWCOMER, "/abstimmung 1")
    assert "• ja: 2 (100 %)" in standing and "• nein: 0 (0 %)" in standing, standing
    assert "Abgestimmt: 2 von 3 Mitgliedern." in standing and "Bisher: Anna, Bernd" in standing
    # Carla votes again, by command this time: one tally for both ways of voting.
    assert "gezählt: „nein“" in await say(server, GROUP, NEWCOMER, "/stimme 2")

    before = len(server.sent_messages(GROUP))
    await running.app.component("scheduler").advance_to(clock.now() + timedelta(days=2))
    [stop] = await server.wait_for_calls("stopPoll", 1, timeout=WAIT)
    assert stop.params["chat_id"] == GROUP and stop.params["message_id"] == native["message_id"]
    assert server.poll(poll["id"])["is_closed"]
    [result] = (await server.wait_for_messages(GROUP, before + 1, timeout=WAIT))[before:]
    caption = result["caption"]
    assert result["photo"] and f"Ergebnis der Abstimmung Nr. 1: {QUESTION}" in caption
    assert "• ja: 2 (67 %)" in caption and "• nein: 1 (33 %)" in caption
    assert "Abgestimmt: 3 von 3 Mitgliedern." in caption
    assert "Mehrheit für „ja“ (2 von 3 Stimmen)." in caption
    assert "Als Beschluss Nr. 1 festgehalten" in caption
    [photo] = server.calls_to("sendPhoto")
    upload = photo.params["photo"]
    assert isinstance(upload, UploadedFile) and upload.data.startswith(PNG)

    listing = await say(server, GROUP, MEMBER, "/beschluesse")
    assert f"{QUESTION} – ja (Abstimmung Nr. 1, 2 von 3 Stimmen)" in listing
    assert "schon beendet" in await say(server, GROUP, MEMBER, "/stimme 1: 2")
    await running.app.outbox.drain()
    assert len(server.calls_to("stopPoll")) == 1 and len(server.calls_to("sendPhoto")) == 1


async def test_an_anonymous_poll_is_voted_privately_through_the_deep_link(server, make_bot) -> None:
    running = await make_bot()
    await members(server)
    [announcement] = await send(
        server, GROUP, ADMIN, "/abstimmung Wen laden wir ein? | Presse | Stadtrat | geheim"
    )
    assert "Geheime Abstimmung" in announcement["text"]
    [[button]] = announcement["reply_markup"]["inline_keyboard"]
    link = re.fullmatch(r"https://t\.me/kuemmerer_test_bot\?start=(poll-\d+)", button["url"])
    assert link, button

    # Bernd opens the link: Telegram sends /start with the payload in his private chat.
    [ballot] = await send(server, MEMBER, MEMBER, f"/start {link.group(1)}")
    assert "Geheime Abstimmung Nr. 1" in ballot["text"] and "1. Presse" in ballot["text"]
    rows = ballot["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in rows for b in row] == ["/stimme 1: 1", "/stimme 1: 2"]
    before = len(server.sent_messages(MEMBER))
    server.inject_callback_query(MEMBER, MEMBER, ballot["message_id"], "/stimme 1: 2")
    [voted] = (await server.wait_for_messages(MEMBER, before + 1, timeout=WAIT))[before:]
    assert "gezählt: „Stadtrat“" in voted["text"]
    # Anna votes by typing, privately, too; in the group a vote names nobody and no option.
    assert "gezählt: „Stadtrat“" in await say(server, ADMIN, ADMIN, "/stimme 1: 2")
    secret = await say(server, GROUP, NEWCOMER, "/stimme 1")
    assert "Eine Stimme zu Abstimmung Nr. 1 ist gezählt" in secret and "Presse" not in secret

    before = len(server.sent_messages(GROUP))
    server.inject_message(GROUP, ADMIN, "/abstimmung schliessen 1")
    [result] = (await server.wait_for_messages(GROUP, before + 1, timeout=WAIT))[before:]
    assert "• Stadtrat: 2 (67 %)" in result["caption"] and "• Presse: 1 (33 %)" in result["caption"]
    await running.app.outbox.drain()
    assert not server.calls_to("sendPoll") and not server.calls_to("stopPoll")
    group_texts = " ".join(m.get("text") or m.get("caption") or "" for m in server.sent_messages(GROUP))
    assert "Bisher:" not in group_texts


async def test_the_hint_offers_a_poll_that_starts_with_its_button(server, make_bot) -> None:
    await make_bot()
    await members(server)
    assert "Beschluss Nr. 1" in await say(
        server,
        GROUP,
        ADMIN,
        "/beschluss Die Treffen finden vierteljährlich statt, reihum bei den Mitgliedern.",
    )
    # Bernd questions the decision; the reopen guard (the real model) answers with a hint. A first
    # start embeds the guard's seed with both models (≈ 20 s on an idle 2-core machine, more
    # under load): the first answer may take that long.
    [hint] = await send(server, GROUP, MEMBER, CHALLENGE, wait=COLD_GUARD)
    command = "/abstimmung Soll Beschluss Nr. 1 geändert werden? | ja | nein | beschluss ersetzen 1"
    assert "Beschluss Nr. 1" in hint["text"] and command in hint["text"]
    [_wrong], [start] = hint["reply_markup"]["inline_keyboard"]
    assert start["text"] == "🗳 Abstimmung starten (Koordination)"
    assert start["callback_data"].startswith("cb:")  # too long for callback_data: stored

    before = len(server.sent_messages(GROUP))
    server.inject_callback_query(GROUP, ADMIN, hint["message_id"], start["callback_data"])
    text, native = (await server.wait_for_messages(GROUP, before + 2, timeout=WAIT))[before:]
    assert "Abstimmung Nr. 1: Soll Beschluss Nr. 1 geändert werden?" in text["text"]
    assert "Ergebnis ersetzt Beschluss Nr. 1" in text["text"]
    assert [o["text"] for o in native["poll"]["options"]] == ["ja", "nein"]
