"""The outbox keeps a secret (a link code) only until its message is finished."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from bot.core.errors import PermanentDeliveryError, TransientDeliveryError
from bot.core.events import ChatKind, ChatRef, OutgoingMessage, Platform, SentMessage
from bot.core.markup import Markup
from bot.core.ports import ManualClock
from bot.services.outbox import Outbox
from storage import Database
from storage.models import REDACTED_PAYLOAD, Base, OutboxMessage, OutboxStatus

CODE = "K7QX-2M9P"
CHAT = ChatRef(Platform.CONSOLE, "group:ag", ChatKind.GROUP)


async def rows_containing(database: Database, *needles: str) -> list[str]:
    """``table.column`` of every stored value, in every table, that contains one of ``needles``.

    Every value is compared as text (JSON payloads as their Python form), so a new table or
    column is covered without changing this test.
    """
    found = []
    async with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is not None and any(n in str(value) for n in needles):
                        found.append(f"{table.name}.{column}")
    return found


def code_message(text: str = f"Code: {CODE}") -> OutgoingMessage:
    return OutgoingMessage(CHAT, Markup().line(text), secret=True)


@dataclass
class FlakyMessenger:
    """Fails the first ``failures`` sends transiently, then delivers; checks the stored row meanwhile."""

    database: Database
    failures: int = 0
    permanent: bool = False
    platform: Platform = Platform.CONSOLE
    sent: list[str] = field(default_factory=list)
    stored_while_retrying: list[list[str]] = field(default_factory=list)

    def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        return [message]

    async def send(self, message: OutgoingMessage) -> SentMessage:
        # What the database holds at each attempt: a retry must still find the whole message.
        self.stored_while_retrying.append(await rows_containing(self.database, CODE))
        if self.permanent:
            raise PermanentDeliveryError("chat is gone")
        if self.failures:
            self.failures -= 1
            raise TransientDeliveryError("network down")
        self.sent.append(message.markup.plain())
        return SentMessage(message.chat, str(len(self.sent)))


def outbox_for(database: Database, clock: ManualClock, messenger: FlakyMessenger | None) -> Outbox:
    outbox = Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep)
    if messenger is not None:
        outbox.register(messenger)
    return outbox


async def stored(database: Database) -> list[OutboxMessage]:
    async with database.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_secret_is_redacted_when_sent_after_retries(database: Database, clock: ManualClock) -> None:
    messenger = FlakyMessenger(database, failures=2)
    outbox = outbox_for(database, clock, messenger)
    await outbox.send_now([code_message(), OutgoingMessage(CHAT, Markup().line(f"Kein Geheimnis {CODE}"))])
    await outbox.drain()

    assert messenger.sent == [f"Code: {CODE}", f"Kein Geheimnis {CODE}"]
    # Both rows held the code at every attempt of the secret one (two failures, one success).
    assert messenger.stored_while_retrying[:3] == [["outbox.payload", "outbox.payload"]] * 3
    secret, plain = await stored(database)
    assert secret.status is OutboxStatus.SENT and secret.attempts == 3 and secret.secret
    assert secret.payload == REDACTED_PAYLOAD
    assert plain.status is OutboxStatus.SENT and not plain.secret and CODE in str(plain.payload)


async def test_a_secret_is_redacted_when_given_up(database: Database, clock: ManualClock) -> None:
    outbox = outbox_for(database, clock, FlakyMessenger(database, permanent=True))
    await outbox.send_now([code_message()])
    await outbox.drain()
    [row] = await stored(database)
    assert row.status is OutboxStatus.FAILED and row.error == "chat is gone"
    assert await rows_containing(database, CODE, CODE.replace("-", "")) == []


async def test_a_secret_survives_a_restart_until_it_is_sent(database: Database, clock: ManualClock) -> None:
    # Written while no messenger of the platform runs (or just before a crash).
    offline = outbox_for(database, clock, None)
    await offline.send_now([code_message()])
    assert await rows_containing(database, CODE) == ["outbox.payload"]

    messenger = FlakyMessenger(database)
    restarted = outbox_for(database, clock, messenger)
    assert await restarted.resume() == 1
    await restarted.drain()
    assert messenger.sent == [f"Code: {CODE}"]
    assert await rows_containing(database, CODE) == []
    [row] = await stored(database)
    assert row.status is OutboxStatus.SENT and row.payload == REDACTED_PAYLOAD


async def test_parts_of_a_split_secret_are_all_redacted(database: Database, clock: ManualClock) -> None:
    @dataclass
    class Splitting(FlakyMessenger):
        def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
            return message.split_text(20, lambda markup: len(markup.plain()))

    messenger = Splitting(database)
    outbox = outbox_for(database, clock, messenger)
    message = OutgoingMessage(CHAT, Markup().line("Erster Absatz").blank().line(CODE), secret=True)
    await outbox.send_now([message])
    await outbox.drain()
    assert len(messenger.sent) == 2 and CODE in messenger.sent[-1]
    assert {r.secret for r in await stored(database)} == {True}
    assert await rows_containing(database, CODE) == []
