"""Tagged outbox messages: the tag is stored with the row, survives a restart, and after delivery
the feature's ``on_sent`` observer learns the platform's ids (a native poll's id exists only then).
Ending a native poll (``close_poll``) is an outbox message like any other."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from bot.core.codec import decode_message, encode_message
from bot.core.errors import TransientDeliveryError
from bot.core.events import ChatKind, ChatRef, OutgoingMessage, Platform, PollSpec, SentMessage
from bot.core.markup import Markup
from bot.core.observers import Observers, sent_hook
from bot.core.ports import ManualClock
from bot.services.outbox import Outbox
from storage import Database
from storage.models import OutboxMessage, OutboxStatus

CHAT = ChatRef(Platform.CONSOLE, "group:ag", ChatKind.GROUP)


@dataclass
class Messenger:
    platform: Platform = Platform.CONSOLE
    failures: int = 0
    sent: list[OutgoingMessage] = field(default_factory=list)

    def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        return [message]

    async def send(self, message: OutgoingMessage) -> SentMessage:
        if self.failures:
            self.failures -= 1
            raise TransientDeliveryError("network down")
        self.sent.append(message)
        poll_id = f"native-{len(self.sent)}" if message.poll else None
        return SentMessage(message.chat, str(len(self.sent)), poll_id)


def outbox_for(database: Database, clock: ManualClock, messenger: Messenger | None) -> Outbox:
    outbox = Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep)
    if messenger is not None:
        outbox.register(messenger)
    return outbox


def poll_message(tag: str | None = "poll:12") -> OutgoingMessage:
    return OutgoingMessage(CHAT, Markup().line("Umfrage"), poll=PollSpec("Frage?", ("ja", "nein")), tag=tag)


async def test_the_sent_observer_gets_the_tag_and_the_platform_ids(
    database: Database, clock: ManualClock
) -> None:
    seen: list[tuple[str, SentMessage]] = []

    async def on_sent(tag: str, sent: SentMessage) -> None:
        seen.append((tag, sent))

    outbox = outbox_for(database, clock, Messenger(failures=1))  # delivered on the second try
    outbox.on_sent = on_sent
    await outbox.send_now([poll_message(), OutgoingMessage(CHAT, Markup().line("ohne Tag"))])
    await outbox.drain()
    assert seen == [("poll:12", SentMessage(CHAT, "1", "native-1"))]  # once, and only for the tagged one
    async with database.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.tag, r.status) for r in rows] == [("poll:12", OutboxStatus.SENT), (None, OutboxStatus.SENT)]


async def test_a_failing_observer_does_not_resend(database: Database, clock: ManualClock) -> None:
    async def broken(tag: str, sent: SentMessage) -> None:
        raise RuntimeError("feature bug")

    messenger = Messenger()
    outbox = outbox_for(database, clock, messenger)
    outbox.on_sent = broken
    await outbox.send_now([poll_message()])
    await outbox.drain()
    assert len(messenger.sent) == 1


async def test_the_tag_survives_a_restart(database: Database, clock: ManualClock) -> None:
    await outbox_for(database, clock, None).send_now([poll_message("poll:3")])
    messenger = Messenger()
    restarted = outbox_for(database, clock, messenger)
    tags: list[str] = []

    async def on_sent(tag: str, sent: SentMessage) -> None:
        tags.append(tag)

    restarted.on_sent = on_sent
    assert await restarted.resume() == 1
    await restarted.drain()
    assert tags == ["poll:3"] and messenger.sent[0].tag == "poll:3"


async def test_the_hook_runs_the_observer_of_the_prefix_in_a_unit() -> None:
    calls: list[tuple[object, str, SentMessage]] = []
    observers = Observers()

    @observers.on_sent("poll")
    async def remember(unit: object, tag: str, sent: SentMessage) -> None:
        calls.append((unit, tag, sent))

    class Unit:
        pass

    class Runtime:
        def __init__(self) -> None:
            self.observers = observers
            self.units = 0

        def unit(self):
            runtime = self

            class Context:
                async def __aenter__(self) -> Unit:
                    runtime.units += 1
                    return Unit()

                async def __aexit__(self, *exc: object) -> None:
                    return None

            return Context()

    runtime = Runtime()
    hook = sent_hook(runtime)  # type: ignore[arg-type]
    sent = SentMessage(CHAT, "5", "p")
    await hook("poll:7", sent)
    await hook("survey:1", sent)  # nobody registered: nothing happens, no transaction
    assert [(tag, s) for _, tag, s in calls] == [("poll:7", sent)] and runtime.units == 1


def test_close_poll_is_stored_and_read_back() -> None:
    message = OutgoingMessage(CHAT, Markup().line("Abstimmung Nr. 1 ist beendet."), close_poll="1001")
    again = decode_message(CHAT, encode_message(message))
    assert again.close_poll == "1001" and again.markup.plain() == "Abstimmung Nr. 1 ist beendet."
    assert decode_message(CHAT, encode_message(poll_message())).close_poll is None
