"""Idempotency keys of the outbox stay unique when SQLite gives a deleted row's id again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from bot.core.ports import ManualClock
from storage.models import OutboxMessage
from tests.harness import BotHarness


async def test_a_reused_row_id_gets_a_new_key(bot: BotHarness, clock: ManualClock) -> None:
    await bot.send("/hilfe", private=True)
    first = bot.last
    # Retention or an erasure deletes the rows; the next message may get the same id.
    async with bot.app.db.transaction() as session:
        await session.execute(delete(OutboxMessage))
    clock.advance(timedelta(seconds=1))
    await bot.send("/hilfe", private=True)
    second = bot.last
    assert first.key and second.key and first.key != second.key
    assert second.markup.plain() == first.markup.plain()  # delivered, not taken for a retry
