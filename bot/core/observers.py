"""Registration of features for events that are not commands.

Commands reach a feature through the :class:`~bot.core.router.Router`; everything else — people
joining and leaving, plain messages in a group or a private chat, answers to native polls, the
bot being added somewhere, changes committed to the database, due jobs, the delivery of its
tagged messages, long-running components — reaches it through the observers a feature registers
on its router (``router.on``), like aiogram's per-router observers. The application resolves
chat, person, AG and role once per event, opens the transaction and calls the registered
handlers in registration order; it has no branch per feature.

Handlers that get a :class:`~bot.core.context.Context` run inside the event's transaction: what
they write and send commits together. Handlers that get the :class:`Runtime` run outside any
transaction (after the commit, or on the fast path that skips the database).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.events import IncomingMessage, OutgoingMessage, SentMessage
from bot.core.ports import Clock

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.services import Services
    from storage.models import Membership, OutboxMessage, Person


class Component(Protocol):
    """A long-running part of a feature (the reopen guard's worker, later the scheduler)."""

    async def start(self) -> None:
        """Start working; called once every adapter is connected."""

    async def stop(self) -> None:
        """Stop; whatever must survive is in the database."""

    async def drain(self) -> None:
        """Wait until the work queued so far is done (tests, the console, benchmarks)."""


class Unit(Protocol):
    """One transaction outside the handling of an event (a hint, a due job).

    Messages enqueued here are stored in the outbox in the same transaction and delivered after
    the commit, exactly like replies to an event.
    """

    session: Any
    services: Services

    async def enqueue(self, messages: Sequence[OutgoingMessage]) -> list[OutboxMessage]:
        """Store messages in the outbox; returns their rows (ids are known before the commit)."""
        ...


class Runtime(Protocol):
    """What features see of the running application outside an event's transaction."""

    clock: Clock
    db: Any
    options: dict[str, Any]
    observers: Observers

    def unit(self) -> AbstractAsyncContextManager[Unit]:
        """Open a transaction with services and an outbox, committed and delivered on exit."""
        ...

    def component(self, name: str) -> Any:
        """The component a feature registered under ``name``."""
        ...


@dataclass(frozen=True, slots=True)
class Joined:
    """A person who joined a chat of the AG, with their membership (already stored)."""

    person: Person
    membership: Membership
    returning: bool
    """The person had left the AG before (``left_at`` was set) and is back now."""
    previous_seen: datetime | None


ContextHandler = Callable[["Context"], Awaitable[None]]
JoinHandler = Callable[["Context", Sequence[Joined]], Awaitable[None]]
LeaveHandler = Callable[["Context", "Person", "Membership | None"], Awaitable[None]]
ActivityHandler = Callable[["Context", "datetime | None"], Awaitable[None]]
PrivateTextHandler = Callable[["Context"], Awaitable[bool]]
WatchHandler = Callable[[Runtime, IncomingMessage, int], None]
CommittedHandler = Callable[[Runtime, list[Any]], None]
ComponentFactory = Callable[[Runtime], Component]
JobFunction = Callable[[Any], Awaitable[None]]
SentHandler = Callable[[Unit, str, SentMessage], Awaitable[None]]


@dataclass
class Observers:
    """The non-command events a router's feature takes part in (``router.on``).

    Each attribute is a list of handlers; the decorators below append to them. See the module
    docstring for which run inside the event's transaction.
    """

    joined: list[JoinHandler] = field(default_factory=list)
    left: list[LeaveHandler] = field(default_factory=list)
    bot_added: list[ContextHandler] = field(default_factory=list)
    activity: list[ActivityHandler] = field(default_factory=list)
    group_text: list[ContextHandler] = field(default_factory=list)
    private_text: list[PrivateTextHandler] = field(default_factory=list)
    poll_answer: list[ContextHandler] = field(default_factory=list)
    watch_group_text: list[WatchHandler] = field(default_factory=list)
    committed: list[CommittedHandler] = field(default_factory=list)
    components: dict[str, ComponentFactory] = field(default_factory=dict)
    jobs: dict[str, JobFunction] = field(default_factory=dict)
    sent: dict[str, SentHandler] = field(default_factory=dict)

    def on_joined(self, handler: JoinHandler) -> JoinHandler:
        """People joined a group chat of an AG (their memberships are stored already)."""
        self.joined.append(handler)
        return handler

    def on_left(self, handler: LeaveHandler) -> LeaveHandler:
        """A person left a group chat of an AG (the membership is marked as left already)."""
        self.left.append(handler)
        return handler

    def on_bot_added(self, handler: ContextHandler) -> ContextHandler:
        """The bot was added to a chat (``ctx.group`` is set when the chat is in an AG already)."""
        self.bot_added.append(handler)
        return handler

    def on_activity(self, handler: ActivityHandler) -> ActivityHandler:
        """A member wrote in a group chat of an AG (command or not), before the command runs.

        The handler gets when the member was last seen before this message. Plain messages of a
        member seen within the last few minutes may skip the database altogether (the fast
        path), so an activity handler must have nothing to do for them.
        """
        self.activity.append(handler)
        return handler

    def on_group_text(self, handler: ContextHandler) -> ContextHandler:
        """A plain (non-command) message in a group chat of an AG, inside the transaction.

        Registering one turns the database-free fast path for plain messages off: use
        :meth:`watch_group_text` for work that needs no transaction.
        """
        self.group_text.append(handler)
        return handler

    def on_private_text(self, handler: PrivateTextHandler) -> PrivateTextHandler:
        """A plain message in a private chat (an answer in an open conversation).

        Handlers are asked in registration order; the first that returns ``True`` took it.
        """
        self.private_text.append(handler)
        return handler

    def on_poll_answer(self, handler: ContextHandler) -> ContextHandler:
        """Somebody answered a native poll (``ctx.event`` is the :class:`PollAnswered`)."""
        self.poll_answer.append(handler)
        return handler

    def watch(self, handler: WatchHandler) -> WatchHandler:
        """A plain group message of an AG, after its transaction (or without one, on the fast
        path): ``handler(runtime, message, group_id)``. Must be quick and must not block."""
        self.watch_group_text.append(handler)
        return handler

    def on_committed(self, handler: CommittedHandler) -> CommittedHandler:
        """Signals that services noted on a session (:func:`note_signal`), after its commit."""
        self.committed.append(handler)
        return handler

    def component(self, name: str) -> Callable[[ComponentFactory], ComponentFactory]:
        """Register a factory for a long-running component (decorator)."""

        def decorate(factory: ComponentFactory) -> ComponentFactory:
            if name in self.components:
                raise ValueError(f"component {name} registered twice")
            self.components[name] = factory
            return factory

        return decorate

    def job(self, kind: str) -> Callable[[JobFunction], JobFunction]:
        """Register the function the scheduler runs for due jobs of ``kind`` (decorator).

        The function gets a :class:`~bot.services.scheduler.JobRun` (the claimed row with the
        feature's id, the firing transaction, how late it is).
        """

        def decorate(function: JobFunction) -> JobFunction:
            if kind in self.jobs:
                raise ValueError(f"job kind {kind} registered twice")
            self.jobs[kind] = function
            return function

        return decorate

    def on_sent(self, prefix: str) -> Callable[[SentHandler], SentHandler]:
        """Register what runs after a message tagged ``<prefix>:…`` was delivered (decorator).

        The handler gets a fresh transaction (``handler(unit, tag, sent)``) with the platform's
        ids of the delivered message; a message split into parts reports each part. It runs
        after the outbox recorded the delivery; delivery is at least once, so a handler may see
        the same message twice after a crash and must tolerate that.
        """

        def decorate(handler: SentHandler) -> SentHandler:
            if prefix in self.sent:
                raise ValueError(f"sent handler {prefix} registered twice")
            self.sent[prefix] = handler
            return handler

        return decorate

    def include(self, other: Observers) -> None:
        """Take over another router's observers (after this one's)."""
        self.joined += other.joined
        self.left += other.left
        self.bot_added += other.bot_added
        self.activity += other.activity
        self.group_text += other.group_text
        self.private_text += other.private_text
        self.poll_answer += other.poll_answer
        self.watch_group_text += other.watch_group_text
        self.committed += other.committed
        for name, factory in other.components.items():
            self.component(name)(factory)
        for kind, function in other.jobs.items():
            self.job(kind)(function)
        for prefix, handler in other.sent.items():
            self.on_sent(prefix)(handler)


def sent_hook(runtime: Runtime) -> Callable[[str, SentMessage], Awaitable[None]]:
    """What the outbox calls after delivering a tagged message: the ``on_sent`` handler of the
    tag's prefix, in a transaction of its own (messages it enqueues go out after its commit)."""

    async def deliver(tag: str, sent: SentMessage) -> None:
        handler = runtime.observers.sent.get(tag.split(":", 1)[0])
        if handler is None:
            return
        async with runtime.unit() as unit:
            await handler(unit, tag, sent)

    return deliver


SIGNALS = "kuemmerer.signals"
"""Key of the signal list in ``session.info``."""


def note_signal(session: Any, signal: object) -> None:
    """Remember something for the ``on_committed`` observers, once the transaction committed.

    Only committed changes may reach long-lived state (e.g. the reopen guard's index); a
    rolled-back transaction's signals are dropped with its session.
    """
    session.info.setdefault(SIGNALS, []).append(signal)


def take_signals(session: Any) -> list[Any]:
    """The signals noted in a transaction (and forget them)."""
    return list(session.info.pop(SIGNALS, ()))
