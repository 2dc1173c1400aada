"""One person on Matrix (a real Synapse) and on Telegram links both accounts with ``/konto`` and
erases them together from Telegram (issue 14: "works across linked platforms")."""

from __future__ import annotations

import re

from bot.core.events import ChatKind, ChatRef, IncomingMessage, OutgoingMessage, Platform, UserRef
from bot.core.markup import Markup
from tests.adapters.matrix.test_e2e_polls import ask
from tests.harness import RecordingMessenger
from tests.privacy_scan import Needles, traces


async def test_accounts_on_two_platforms_are_linked_and_erased_together(matrix_bot, people, database) -> None:
    bot = await matrix_bot()
    telegram = RecordingMessenger(platform=Platform.TELEGRAM)
    bot.app.attach(telegram)
    bernd_tg = UserRef(Platform.TELEGRAM, "4711", "Bernd T", "bernd_t")
    private_tg = ChatRef(Platform.TELEGRAM, "4711", ChatKind.PRIVATE, "Bernd T")

    async def on_telegram(text: str) -> str:
        before = len(telegram.sent)
        await bot.app.handle(IncomingMessage(private_tg, bernd_tg, text))
        await bot.app.outbox.drain()
        return "\n".join(m.markup.plain() for m in telegram.sent[before:])

    bernd = await people("bernd")
    # The bot's first private message creates the direct room.
    chat = ChatRef(Platform.MATRIX, bernd.user_id, ChatKind.PRIVATE)
    await bot.app.outbox.send_now([OutgoingMessage(chat, Markup().line("Hallo!"))])
    await bernd.wait_for(lambda: bool(bernd.client.invited_rooms), "the invitation")
    [dm] = list(bernd.client.invited_rooms)
    await bernd.join(dm)
    assert "Erinnerung Nr. 1" in await ask(bernd, dm, "!erinnerung morgen 9 Uhr: Matrix-Termin")

    reply = await ask(bernd, dm, "!konto verknuepfen")
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", reply).group(0)
    linked = await on_telegram(f"/konto verknuepfen {code}")
    assert "Verknüpft" in linked and "Bernd T" in linked
    assert "Erinnerung Nr. 1" in await on_telegram("/erinnerung morgen 10 Uhr: Telegram-Termin")

    needles = Needles(
        strings=frozenset({bernd.user_id, "Matrix-Termin", "Telegram-Termin"}),
        words=frozenset({"Bernd T"}),
        values=frozenset({"4711"}),
    )
    assert await traces(database, needles)
    question = await on_telegram("/daten_loeschen")
    confirm = re.search(r"/daten_loeschen ja (\d{4})", question).group(1)
    assert "Deine Daten sind gelöscht" in await on_telegram(f"/daten_loeschen ja {confirm}")

    # The Matrix account went with it: the bot leaves its direct room, and nothing is left.
    def left() -> bool:
        return bot.user_id not in (bernd.client.rooms[dm].users if dm in bernd.client.rooms else {})

    await bernd.wait_for(left, "the bot leaving the direct room")
    await bot.adapter._save_position()
    assert await traces(database, needles) == set()
