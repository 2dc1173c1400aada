"""Checkpoints: how adapters tell after a restart which updates were already handled."""

from __future__ import annotations

from bot.app import Application
from bot.core.events import IncomingMessage
from storage.models import OutboxMessage, PlatformState
from tests.harness import BotHarness


def message(bot: BotHarness, text: str, number: int) -> IncomingMessage:
    return IncomingMessage(bot.chat(), bot.user("anna"), text, f"$e{number}", True)


async def test_a_per_event_mark_is_stored_with_the_reply(bot: BotHarness, app: Application) -> None:
    await app.handle(message(bot, "/ag anlegen AG", 1), checkpoint=("m:event:$e1", "1"), per_event=True)
    await app.outbox.drain()
    [row] = await bot.rows(OutboxMessage)
    assert row.source == "m:event:$e1"
    assert await bot.count(PlatformState) == 0  # no separate state row for an answered event
    assert await app.handled("m:event:$e1")
    assert not await app.handled("m:event:$e2")


async def test_a_per_event_mark_without_reply_is_stored_as_state(bot: BotHarness, app: Application) -> None:
    await bot.setup_group()
    # ben's first plain message changes the database (membership) without an answer in the chat
    # … but with his private brief; a second member's message after him has no reply at all.
    await bot.send("Hallo", user="ben")
    event = IncomingMessage(bot.chat(), bot.user("carla"), "Hallo", "$e9", False)
    await app.handle(event, checkpoint=("m:event:$e9", "1"), per_event=True)
    await app.outbox.drain()
    assert await app.handled("m:event:$e9")


async def test_an_update_without_effect_needs_no_mark(bot: BotHarness, app: Application) -> None:
    # Once chat and person are known, a plain message outside any AG changes nothing: handling
    # it twice is harmless, so it is not marked (and plain chat stays read-only).
    first = IncomingMessage(bot.chat("elsewhere"), bot.user("dora"), "Hallo", "$e4", False)
    await app.handle(first, checkpoint=("m:event:$e4", "1"), per_event=True)
    assert await app.handled("m:event:$e4")  # it created the chat and the person
    event = IncomingMessage(bot.chat("elsewhere"), bot.user("dora"), "Hallo", "$e5", False)
    await app.handle(event, checkpoint=("m:event:$e5", "1"), per_event=True)
    assert await bot.count(OutboxMessage) == 0
    assert not await app.handled("m:event:$e5")


async def test_a_value_checkpoint_is_stored_even_with_replies(bot: BotHarness, app: Application) -> None:
    await app.handle(message(bot, "/ag anlegen AG", 1), checkpoint=("telegram:update_id", "41"))
    [state] = await bot.rows(PlatformState)
    assert (state.key, state.value) == ("telegram:update_id", "41")
    [row] = await bot.rows(OutboxMessage)
    assert row.source is None
