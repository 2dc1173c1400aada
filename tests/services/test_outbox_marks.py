"""Sent marks: the deliveries confirmed meanwhile in several chats are recorded in one transaction,
a chat's next message goes out only once the previous one is recorded, and a failing write is
retried until it succeeds (the platform has the message: it must not be sent again)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from bot.core.events import ChatKind, ChatRef, OutgoingMessage, Platform, SentMessage
from bot.core.markup import Markup
from bot.core.ports import ManualClock
from bot.services.outbox import Outbox
from storage import Database
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories import OutboxRepository

CHATS = [ChatRef(Platform.CONSOLE, f"group:{n}", ChatKind.GROUP) for n in range(3)]


@dataclass
class Messenger:
    platform: Platform = Platform.CONSOLE
    sent: list[str] = field(default_factory=list)

    def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        return [message]

    async def send(self, message: OutgoingMessage) -> SentMessage:
        self.sent.append(message.markup.plain())
        return SentMessage(message.chat, f"ext-{len(self.sent)}")


async def rows(database: Database) -> list[OutboxMessage]:
    async with database.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_marks_of_many_chats_are_written_together_and_each_chat_keeps_its_order(
    database: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[list[int]] = []
    original = OutboxRepository.mark_sent_many
    sent_before_write: list[int] = []
    messenger = Messenger()

    async def counting(self, marks):  # type: ignore[no-untyped-def]
        writes.append([message_id for message_id, *_ in marks])
        sent_before_write.append(len(messenger.sent))
        await original(self, marks)

    monkeypatch.setattr(OutboxRepository, "mark_sent_many", counting)
    outbox = Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep)
    outbox.register(messenger)
    await outbox.send_now(
        [OutgoingMessage(c, Markup().line(f"{c.external_id} {k}")) for k in (1, 2) for c in CHATS]
    )
    await outbox.drain()
    stored = await rows(database)
    assert all(r.status is OutboxStatus.SENT for r in stored)
    assert sorted(r.external_id for r in stored) == sorted(f"ext-{n}" for n in range(1, 7))
    # One write for the first message of each chat, one for the second: never more than one
    # message per chat ahead of its mark.
    assert len(writes) == 2 and sorted(len(w) for w in writes) == [3, 3]
    assert sent_before_write == [3, 6]
    by_chat = {c.external_id: [m for m in messenger.sent if m.startswith(c.external_id)] for c in CHATS}
    assert all(sent == [f"{chat} 1", f"{chat} 2"] for chat, sent in by_chat.items())


async def test_a_failing_mark_is_retried_and_nothing_is_sent_twice(
    database: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = OutboxRepository.mark_sent_many
    failures = [RuntimeError("database hiccup")] * 2

    async def flaky(self, marks):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        await original(self, marks)

    monkeypatch.setattr(OutboxRepository, "mark_sent_many", flaky)
    messenger = Messenger()
    outbox = Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep)
    outbox.register(messenger)
    await outbox.send_now([OutgoingMessage(CHATS[0], Markup().line(f"m{k}")) for k in (1, 2)])
    await outbox.drain()
    assert messenger.sent == ["m1", "m2"]
    assert [(r.status, r.external_id) for r in await rows(database)] == [
        (OutboxStatus.SENT, "ext-1"),
        (OutboxStatus.SENT, "ext-2"),
    ]
