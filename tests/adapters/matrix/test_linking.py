"""One AG across Matrix and Telegram: a Matrix room and a Telegram group share the register."""

from __future__ import annotations

import re

from bot.core.events import ChatKind, ChatRef, IncomingMessage, Platform, UserRef
from tests.harness import RecordingMessenger


async def test_matrix_room_and_telegram_group_share_one_register(matrix_bot, people) -> None:
    bot = await matrix_bot()
    telegram = RecordingMessenger(platform=Platform.TELEGRAM)
    bot.app.attach(telegram)
    group_chat = ChatRef(Platform.TELEGRAM, "-100123", ChatKind.GROUP, "AG Bildung (Telegram)")
    carla = UserRef(Platform.TELEGRAM, "77", "Carla", "carla")

    async def on_telegram(text: str, admin: bool = True) -> str:
        before = len(telegram.sent)
        await bot.app.handle(IncomingMessage(group_chat, carla, text, sender_is_admin=admin))
        await bot.app.outbox.drain()
        return "\n".join(m.markup.plain() for m in telegram.sent[before:])

    anna = await people("anna")
    room = await anna.create_room(bot.user_id)
    await anna.wait_joined(room, bot.user_id)
    await anna.command(room, "!ag anlegen AG Bildung")
    await anna.command(room, "!beschluss In Matrix beschlossen")
    code_message = await anna.command(room, "!ag verknuepfen")
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code_message).group(0)

    linked = await on_telegram(f"/ag verknuepfen {code}")
    assert "AG Bildung" in linked
    # The room is told that a chat joined its AG.
    await anna.wait_for(lambda: any("verknüpft" in n.body for n in anna.notices(room)), "the link notice")
    assert "In Matrix beschlossen" in await on_telegram("/beschluesse")
    assert "Beschluss Nr. 2" in await on_telegram("/beschluss In Telegram beschlossen")

    listing = await anna.command(room, "!beschluesse")
    assert "In Telegram beschlossen" in listing and "In Matrix beschlossen" in listing
    shown = await anna.command(room, "!ag")
    assert "Telegram" in shown and "Matrix" in shown
