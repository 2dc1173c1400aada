"""The application: turns events into transactions, commands into replies.

One instance runs per process, inside the single asyncio loop that also runs every adapter
(and the features' components). Adapters call :meth:`Application.handle` for each event and
register a :class:`~bot.core.ports.Messenger` for their platform. The application resolves chat,
person, AG and role, opens one transaction per event, dispatches commands through the router and
every other event to the observers features registered (:mod:`bot.core.observers`), and writes
the replies to the durable outbox in the same transaction; they are delivered after the commit.
It knows no feature by name.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import Context
from bot.core.errors import UserError, error_buttons, error_markup
from bot.core.events import (
    BotAdded,
    Event,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    OutgoingMessage,
    Platform,
    PollAnswered,
)
from bot.core.i18n import Translator
from bot.core.logsafe import describe_event
from bot.core.observers import Component, Joined, sent_hook, take_signals
from bot.core.ports import Clock, Messenger, SystemClock
from bot.core.router import Invocation, Router, parse_command
from bot.core.sanitize import clean_event
from bot.core.throttle import UNLIMITED, SendLimits
from bot.handlers import build_router
from bot.services import Services
from bot.services.outbox import Outbox
from storage import Database
from storage.engine import wrote
from storage.models import OutboxMessage
from storage.repositories import GroupRepository, OutboxRepository, StateRepository
from storage.repositories.people import LAST_SEEN_RESOLUTION

log = logging.getLogger(__name__)


SEEN_CACHE_SIZE = 10_000


class _Checkpoint(NamedTuple):
    key: str
    value: str
    # The key names this one event (a Matrix event id): stored with its first reply when it has
    # one, which saves the separate state write on the path of every answered command.
    per_event: bool = False


@dataclass
class _Unit:
    """A transaction opened by a feature outside an event (see :meth:`Application.unit`)."""

    session: AsyncSession
    services: Services
    outbox: Outbox
    rows: list[OutboxMessage] = field(default_factory=list)

    async def enqueue(self, messages: Sequence[OutgoingMessage]) -> list[OutboxMessage]:
        rows = await self.outbox.enqueue(self.session, list(messages))
        self.rows += rows
        return rows


class Application:
    """Wires storage, services, the features' router and components, the outbox and adapters.

    Args:
        database: The database (source of truth).
        clock: Source of time; tests and the console may pass a manual clock.
        language: Language for chats outside any AG and for new AGs.
        timezone: Timezone for new AGs.
        outbox: The outbox to deliver through (default: a new one on ``database``).
        options: Settings features read when they build their components, keyed by feature
            (e.g. ``{"reopen.guard": ReopenGuard(...)}``).
        router: The commands and observers (default: every feature of :mod:`bot.handlers`).
    """

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        language: str = "de",
        timezone: str = "Europe/Berlin",
        outbox: Outbox | None = None,
        options: dict[str, Any] | None = None,
        router: Router | None = None,
    ) -> None:
        self.db = database
        self.clock = clock or SystemClock()
        self.language = language
        self.timezone = timezone
        self.options = dict(options or {})
        self.router = router or build_router()
        self.observers = self.router.on
        self.outbox = outbox or Outbox(database, self.clock)
        self.outbox.on_sent = sent_hook(self)
        self._bot_names: dict[Platform, frozenset[str]] = {}
        # (platform, chat, person) of plain messages recently registered in an AG, with when and
        # the AG: a further plain message within LAST_SEEN_RESOLUTION has nothing to read or
        # write, so it skips the database and goes straight to the watchers.
        self._recently_seen: OrderedDict[tuple[str, str, str], tuple[datetime, int]] = OrderedDict()
        self._components: dict[str, Component] = {
            name: factory(self) for name, factory in self.observers.components.items()
        }

    def attach(
        self, messenger: Messenger, bot_names: Iterable[str] = (), limits: SendLimits = UNLIMITED
    ) -> None:
        """Register the messenger of a platform, the bot's usernames there and its send limits.

        Args:
            messenger: Sends messages on ``messenger.platform``.
            bot_names: Names a command may be addressed to (``/cmd@name``); others are ignored.
            limits: Rate limits the outbox keeps for this platform.
        """
        self.outbox.register(messenger, limits)
        self._bot_names[messenger.platform] = frozenset(n.lower().lstrip("@") for n in bot_names)

    # Life cycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bring the database schema up to date."""
        await self.db.upgrade()

    async def resume(self) -> None:
        """Once the adapters are connected: deliver what an earlier run left, start components."""
        await self.outbox.resume()
        for component in self._components.values():
            await component.start()

    async def stop(self) -> None:
        """Stop the components and delivery; unsent messages stay in the outbox for the next start."""
        for component in reversed(self._components.values()):
            await component.stop()
        await self.outbox.stop()

    async def drain(self) -> None:
        """Wait until replies went out and the components finished what they were given."""
        await self.outbox.drain()
        for component in self._components.values():
            await component.drain()
        await self.outbox.drain()

    def component(self, name: str) -> Any:
        """The component a feature registered under ``name`` (e.g. ``"reopen"``)."""
        return self._components[name]

    # For features ----------------------------------------------------------------------------------

    def services(self, session: AsyncSession) -> Services:
        """Services bound to a session, configured like this application."""
        return Services(session, self.clock, default_timezone=self.timezone, default_language=self.language)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[_Unit]:
        """One transaction with services and the outbox, outside an event (a hint, a due job).

        Messages enqueued in it are delivered after the commit; signals noted in it reach the
        ``on_committed`` observers then.
        """
        async with self.db.transaction() as session:
            unit = _Unit(session, self.services(session), self.outbox)
            yield unit
            signals = take_signals(session)
        self.outbox.submit(unit.rows)
        self._committed(signals)

    # Events --------------------------------------------------------------------------------------

    async def handle(
        self, event: Event, *, checkpoint: tuple[str, str] | None = None, per_event: bool = False
    ) -> None:
        """Handle one event in one transaction and queue the replies for delivery.

        Never raises for a bad update: user errors become a clear message, anything else is
        logged with an error id that the reply quotes.

        Args:
            event: What happened.
            checkpoint: ``(key, value)`` stored in the same transaction, so an adapter can tell
                after a restart which updates were already handled (e.g. the Telegram update id).
            per_event: The checkpoint's key identifies this one event; ask :meth:`handled`
                whether it was handled (it may be stored with the event's reply).
        """
        mark = _Checkpoint(*checkpoint, per_event=per_event) if checkpoint is not None else None
        # Text enters the core here, once: nothing downstream sees unpaired surrogates or NULs.
        event = clean_event(event)
        if isinstance(event, IncomingMessage):
            await self._on_message(event, mark)
        else:
            await self._on_other(event, mark)

    async def handle_checkpoint(self, checkpoint: tuple[str, str]) -> None:
        """Record that an update needed no handling (so it is not looked at again)."""
        await self._commit_safely([], _Checkpoint(*checkpoint))

    async def handled(self, key: str) -> bool:
        """Whether the event with this per-event checkpoint key was handled with an effect."""
        async with self.db.transaction() as session:
            if await StateRepository(session).get(key) is not None:
                return True
            return await OutboxRepository(session).has_source(key)

    async def _finish(
        self, session: AsyncSession, outgoing: list[OutgoingMessage], checkpoint: _Checkpoint | None
    ) -> list[OutboxMessage]:
        # Only updates with an effect need a checkpoint: handling one without effect twice is
        # harmless, and skipping the write keeps plain chat messages read-only.
        source = None
        if checkpoint is not None and checkpoint.per_event and outgoing:
            source = checkpoint.key
        elif checkpoint is not None and (outgoing or wrote(session)):
            await StateRepository(session).set(checkpoint.key, checkpoint.value, self.clock.now())
        return await self.outbox.enqueue(session, outgoing, source=source)

    async def _commit(self, outgoing: list[OutgoingMessage], checkpoint: _Checkpoint | None) -> None:
        async with self.db.transaction() as session:
            rows = await self._finish(session, outgoing, checkpoint)
        self.outbox.submit(rows)

    async def _commit_safely(self, outgoing: list[OutgoingMessage], checkpoint: _Checkpoint | None) -> None:
        try:
            await self._commit(outgoing, checkpoint)
        except Exception:
            # Even the error reply could not be stored (database down): log, never crash.
            log.exception("could not store the reply to an update")

    def _committed(self, signals: list[Any]) -> None:
        if not signals:
            return
        for handler in self.observers.committed:
            try:
                handler(self, signals)
            except Exception:
                log.exception("error in an observer of committed changes")

    def _seen_recently(self, event: IncomingMessage) -> int | None:
        """The AG of a sender whose plain message was registered there a moment ago."""
        key = (event.chat.platform.value, event.chat.external_id, event.sender.external_id)
        seen = self._recently_seen.get(key)
        if seen is not None and self.clock.now() - seen[0] < LAST_SEEN_RESOLUTION:
            return seen[1]
        return None

    def _remember_seen(self, event: IncomingMessage, group_id: int) -> None:
        key = (event.chat.platform.value, event.chat.external_id, event.sender.external_id)
        self._recently_seen[key] = (self.clock.now(), group_id)
        self._recently_seen.move_to_end(key)
        while len(self._recently_seen) > SEEN_CACHE_SIZE:
            self._recently_seen.popitem(last=False)

    def _watch(self, event: IncomingMessage, group_id: int) -> None:
        """Hand a plain group message to the watchers (e.g. the reopen guard's first stage)."""
        for handler in self.observers.watch_group_text:
            try:
                handler(self, event, group_id)
            except Exception:
                log.exception("error in a watcher of %s", describe_event(event))

    async def _context(
        self, session: AsyncSession, event: IncomingMessage, invocation: Invocation | None
    ) -> tuple[Context, datetime | None]:
        """Resolve chat, person, AG, membership and role; returns the context and when the
        sender was last seen in the AG before this message."""
        services = self.services(session)
        chat = await services.groups.chat(event.chat)
        person = await services.groups.person(event.sender)
        ctx = Context(
            event=event,
            services=services,
            tr=Translator(self.language, self.timezone),
            clock=self.clock,
            chat=chat,
            person=person,
            router=self.router,
            invocation=invocation,
            runtime=self,
        )
        previous_seen = None
        if event.chat.is_private:
            scope = await services.groups.private_scope(chat, person)
            ctx.group, ctx.membership, ctx.choices = scope.group, scope.membership, scope.choices
            if scope.membership is not None:
                ctx.role = services.groups.effective_role(scope.membership, scope.membership.chat_admin)
        else:
            group = await services.groups.group_of(chat)
            if group is not None:
                known = await services.groups.people.membership(group.id, person.id)
                previous_seen = known.last_seen if known is not None else None
                # Adapters check admin rights for commands only (Telegram's admin list is a
                # request), so only a command's flag says anything about them.
                admin = event.sender_is_admin if invocation is not None else None
                membership, _ = await services.groups.seen(group, person, admin=admin)
                ctx.group, ctx.membership = group, membership
                ctx.role = services.groups.effective_role(membership, event.sender_is_admin)
        if ctx.group is not None:
            ctx.tr = Translator(ctx.group.language, ctx.group.timezone)
        return ctx, previous_seen

    async def _on_message(self, event: IncomingMessage, checkpoint: _Checkpoint | None) -> None:
        invocation = parse_command(event.text, self._bot_names.get(event.chat.platform, frozenset()))
        private = event.chat.is_private
        if invocation is None and not private and not self.observers.group_text:
            group_id = self._seen_recently(event)
            if group_id is not None:
                self._watch(event, group_id)
                return
        tr = Translator(self.language, self.timezone)
        ctx: Context | None = None
        try:
            async with self.db.transaction() as session:
                ctx, previous_seen = await self._context(session, event, invocation)
                tr = ctx.tr
                if ctx.group is not None and not private:
                    for handler in self.observers.activity:
                        await handler(ctx, previous_seen)
                try:
                    if invocation is not None:
                        await self.router.dispatch(ctx, invocation)
                    elif private:
                        await self._private_text(ctx)
                    elif ctx.group is not None:
                        for handler in self.observers.group_text:
                            await handler(ctx)
                finally:
                    tr = ctx.tr
                rows = await self._finish(session, ctx.outgoing, checkpoint)
                signals = take_signals(session)
            self.outbox.submit(rows)
            self._committed(signals)
            if invocation is None and ctx.group is not None and not private:
                self._remember_seen(event, ctx.group.id)
                self._watch(event, ctx.group.id)
            return
        except UserError as error:
            command = ctx.command if ctx is not None else None
            reply = OutgoingMessage(
                event.chat,
                error_markup(error, tr, command, private=private),
                buttons=error_buttons(error),
            )
        except Exception:
            error_id = secrets.token_hex(4)
            log.exception("error %s while handling %s", error_id, describe_event(event))
            reply = OutgoingMessage(event.chat, tr.markup("error.internal", error_id=error_id))
        await self._commit_safely([reply], checkpoint)

    async def _private_text(self, ctx: Context) -> None:
        """A plain message in a private chat: an answer to an open conversation, or a pointer."""
        for handler in self.observers.private_text:
            if await handler(ctx):
                return
        ctx.say("private.plain_text")

    async def _on_other(self, event: Event, checkpoint: _Checkpoint | None) -> None:
        """Joins, leaves, the bot being added, poll answers: to the observers, in one transaction."""
        try:
            async with self.db.transaction() as session:
                services = self.services(session)
                ctx = await self._event_context(services, event)
                if ctx is not None:
                    await self._observe(ctx, event)
                outgoing = ctx.outgoing if ctx is not None else []
                rows = await self._finish(session, outgoing, checkpoint)
                signals = take_signals(session)
            self.outbox.submit(rows)
            self._committed(signals)
        except Exception:
            # Such an event has nobody to answer; losing it must not stop the bot.
            log.exception("error while handling %s", describe_event(event))
            await self._commit_safely([], checkpoint)

    async def _event_context(self, services: Services, event: Event) -> Context | None:
        tr = Translator(self.language, self.timezone)
        if isinstance(event, PollAnswered):
            person = await services.groups.person(event.voter)
            return Context(event, services, tr, self.clock, None, person, router=self.router, runtime=self)  # type: ignore[arg-type]
        assert isinstance(event, MemberJoined | MemberLeft | BotAdded)
        chat = await services.groups.chat(event.chat)
        group = await services.groups.group_of(chat)
        if group is not None:
            tr = Translator(group.language, group.timezone)
        actor = event.by if isinstance(event, BotAdded) else None
        person = await services.groups.person(actor) if actor is not None else None
        return Context(
            event,
            services,
            tr,
            self.clock,
            chat,
            person,
            group=group,
            router=self.router,
            runtime=self,  # type: ignore[arg-type]
        )

    async def _observe(self, ctx: Context, event: Event) -> None:
        services, group = ctx.services, ctx.group
        if isinstance(event, PollAnswered):
            for handler in self.observers.poll_answer:
                await handler(ctx)
        elif isinstance(event, BotAdded):
            for handler in self.observers.bot_added:
                await handler(ctx)
        elif isinstance(event, MemberJoined) and group is not None:
            joined = []
            for member in event.members:
                person = await services.groups.person(member)
                known = await services.groups.people.membership(group.id, person.id)
                previous_seen = known.last_seen if known is not None else None
                returning = known is not None and known.left_at is not None
                membership, _ = await services.groups.seen(group, person)
                joined.append(Joined(person, membership, returning, previous_seen))
            for handler in self.observers.joined:
                await handler(ctx, joined)
        elif isinstance(event, MemberLeft) and group is not None:
            person = await services.groups.person(event.member)
            membership = await services.groups.leave(group, person)
            for handler in self.observers.left:
                await handler(ctx, person, membership)

    async def migrate_chat(self, platform: Platform, old_id: str, new_id: str) -> None:
        """Follow a chat to its new id (a Telegram group upgraded to a supergroup)."""
        async with self.db.transaction() as session:
            groups = GroupRepository(session)
            old = await groups.chat(platform.value, old_id)
            new = await groups.chat(platform.value, new_id)
            if old is not None and new is None:
                old.external_id = new_id
            elif old is not None and new is not None and new.group_id is None:
                new.group_id = old.group_id
            await OutboxRepository(session).rechat(platform.value, old_id, new_id)
