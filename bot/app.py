"""The application: turns events into transactions, commands into replies.

One instance runs per process, inside the single asyncio loop that also runs every adapter
(and, with the scheduling issue, the scheduler). Adapters call :meth:`Application.handle` for
each event and register a :class:`~bot.core.ports.Messenger` for their platform. Replies are
written to the durable outbox in the update's own transaction and delivered after the commit.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import Context
from bot.core.errors import UserError, error_markup
from bot.core.events import (
    BotAdded,
    ChatRef,
    Event,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    OutgoingMessage,
    Platform,
    PollAnswered,
)
from bot.core.i18n import Translator
from bot.core.ports import Clock, Messenger, SystemClock
from bot.core.router import Command, Invocation, normalise_name, parse_command
from bot.core.throttle import UNLIMITED, SendLimits
from bot.handlers import build_router, hints, onboarding
from bot.services import Services
from bot.services.embeddings import load_embedder
from bot.services.hints import sensitivity_of, take_signals
from bot.services.outbox import Outbox
from bot.services.reopen import Hint, ReopenGuard
from bot.services.reopen_watch import Candidate, ReopenWatcher
from storage import Database
from storage.engine import wrote
from storage.models import Membership, OutboxMessage, Person, Role, WorkingGroup
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


class Application:
    """Wires storage, services, handlers, the outbox and the adapters together.

    Args:
        database: The database (source of truth).
        clock: Source of time; tests and the console may pass a manual clock.
        language: Language for chats outside any AG and for new AGs.
        timezone: Timezone for new AGs.
        outbox: The outbox to deliver through (default: a new one on ``database``).
        guard: The reopen guard (default: one with the best installed embedder, loaded lazily).
    """

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        language: str = "de",
        timezone: str = "Europe/Berlin",
        outbox: Outbox | None = None,
        guard: ReopenGuard | None = None,
    ) -> None:
        self.db = database
        self.clock = clock or SystemClock()
        self.language = language
        self.timezone = timezone
        self.router = build_router()
        self.outbox = outbox or Outbox(database, self.clock)
        self.reopen = ReopenWatcher(
            guard or ReopenGuard(load_embedder("auto")), database, self.clock, self._deliver_hint
        )
        self._bot_names: dict[Platform, frozenset[str]] = {}
        # (platform, chat, person) of plain messages recently registered in an AG, with when and
        # the AG: a further plain message within LAST_SEEN_RESOLUTION has nothing to read or
        # write, so it skips the database and goes straight to the reopen guard.
        self._recently_seen: OrderedDict[tuple[str, str, str], tuple[datetime, int]] = OrderedDict()

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

    async def start(self) -> None:
        """Bring the database schema up to date."""
        await self.db.upgrade()

    async def stop(self) -> None:
        """Stop delivering; unsent messages stay in the outbox for the next start."""
        await self.reopen.stop()
        await self.outbox.stop()

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
        if isinstance(event, IncomingMessage):
            await self._on_message(event, mark)
        elif isinstance(event, MemberJoined | MemberLeft):
            await self._on_membership(event, mark)
        elif isinstance(event, BotAdded):
            await self._on_bot_added(event, mark)
        elif isinstance(event, PollAnswered):
            # Polls arrive with the scheduling issue; until then an answer has nothing to count.
            log.debug("poll answer without a poll feature: %r", event)
            await self._commit([], mark)
        else:  # pragma: no cover - the Event union is closed
            raise TypeError(f"unknown event {event!r}")

    async def handle_checkpoint(self, checkpoint: tuple[str, str]) -> None:
        """Record that an update needed no handling (so it is not looked at again)."""
        await self._commit_safely([], _Checkpoint(*checkpoint))

    async def handled(self, key: str) -> bool:
        """Whether the event with this per-event checkpoint key was handled with an effect."""
        async with self.db.transaction() as session:
            if await StateRepository(session).get(key) is not None:
                return True
            return await OutboxRepository(session).has_source(key)

    def services(self, session: AsyncSession) -> Services:
        """Services bound to a session, configured like this application."""
        return Services(session, self.clock, default_timezone=self.timezone, default_language=self.language)

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

    async def _on_message(self, event: IncomingMessage, checkpoint: _Checkpoint | None) -> None:
        invocation = parse_command(event.text, self._bot_names.get(event.chat.platform, frozenset()))
        if invocation is None:
            group_id = self._seen_recently(event)
            if group_id is not None:
                self._watch(event, group_id)
                return
        tr = Translator(self.language, self.timezone)
        command: Command | None = None
        try:
            async with self.db.transaction() as session:
                services = self.services(session)
                chat = await services.groups.chat(event.chat)
                person = await services.groups.person(event.sender)
                group = await services.groups.group_of(chat)
                role: Role | None = None
                arrival: list[OutgoingMessage] = []
                if group is not None:
                    known = await services.groups.people.membership(group.id, person.id)
                    previous_seen = known.last_seen if known is not None else None
                    membership, _ = await services.groups.seen(group, person)
                    role = services.groups.effective_role(membership, event.sender_is_admin)
                    tr = Translator(group.language, group.timezone)
                    self.reopen.configure(group.id, group.hints_enabled, sensitivity_of(group))
                    if not _is_onboarding_command(invocation):
                        arrival = await self._arrival(
                            services, tr, group, event.chat, person, membership, previous_seen
                        )
                ctx = Context(
                    event=event,
                    services=services,
                    tr=tr,
                    clock=self.clock,
                    chat=chat,
                    person=person,
                    group=group,
                    role=role,
                    router=self.router,
                )
                if invocation is not None:
                    try:
                        await self.router.dispatch(ctx, invocation)
                    finally:
                        command, tr = ctx.command, ctx.tr
                rows = await self._finish(session, [*ctx.outgoing, *arrival], checkpoint)
                signals = take_signals(session)
            self.outbox.submit(rows)
            self.reopen.apply(signals)
            if invocation is None and group is not None and not event.chat.is_private:
                self._remember_seen(event, group.id)
                self._watch(event, group.id)
            return
        except UserError as error:
            markup = error_markup(error, tr, command, private=event.chat.is_private)
            reply = OutgoingMessage(event.chat, markup)
        except Exception:
            error_id = secrets.token_hex(4)
            log.exception("error %s while handling %r", error_id, event)
            reply = OutgoingMessage(event.chat, tr.markup("error.internal", error_id=error_id))
        await self._commit_safely([reply], checkpoint)

    def _watch(self, event: IncomingMessage, group_id: int) -> None:
        """Offer a plain group message to the reopen guard (its cheap first stage runs here)."""
        self.reopen.offer(Candidate(group_id, event.chat, event.message_id, event.text, event.sender))

    async def _deliver_hint(self, candidate: Candidate, hint: Hint) -> None:
        """Send a hint unless the AG switched the guard off meanwhile or the item is cooling down."""
        chat_ref = candidate.chat
        async with self.db.transaction() as session:
            services = self.services(session)
            chat = await services.groups.chat(chat_ref)
            group = await services.groups.group_of(chat)
            # The chat may have left the AG, or the AG switched hints off, since the message came.
            if group is None or group.id != candidate.group_id or not group.hints_enabled:
                return
            platform, chat_id = chat_ref.platform.value, chat_ref.external_id
            if await services.hints.cooling_down(group, platform, chat_id, hint.item):
                return
            sender = await services.groups.person(candidate.sender)
            row = await services.hints.record(
                group,
                platform,
                chat_id,
                hint.item,
                message_id=candidate.message_id,
                text=candidate.text,
                sender=sender,
                score=hint.score,
            )
            tr = Translator(group.language, group.timezone)
            message = hints.hint_message(tr, chat_ref, hint.item, row.id, candidate.message_id)
            rows = await self.outbox.enqueue(session, [message])
            row.outbox_id = rows[0].id if rows else None
        self.outbox.submit(rows)

    async def _arrival(
        self,
        services: Services,
        tr: Translator,
        group: WorkingGroup,
        chat: ChatRef,
        person: Person,
        membership: Membership,
        previous_seen: datetime | None,
    ) -> list[OutgoingMessage]:
        """Briefs triggered by a message: a newcomer's first one, or a return after a long absence."""
        if chat.is_private:
            return []
        if services.onboarding.needs_brief(group, membership):
            # Fallback for platforms (or missed updates) without a join event: the first message.
            return [await onboarding.private_brief(services, tr, group, person, membership, chat)]
        now = self.clock.now()
        if previous_seen is not None and services.onboarding.is_returning(
            group, membership, previous_seen, now
        ):
            changes, total = await services.onboarding.changes_since(group, previous_seen)
            if changes:
                markup = onboarding.changes_markup(tr, group, changes, total)
                return [OutgoingMessage(onboarding.private_chat(person), markup)]
        return []

    async def _commit_safely(self, outgoing: list[OutgoingMessage], checkpoint: _Checkpoint | None) -> None:
        try:
            await self._commit(outgoing, checkpoint)
        except Exception:
            # Even the error reply could not be stored (database down): log, never crash.
            log.exception("could not store the reply to an update")

    async def _on_membership(self, event: MemberJoined | MemberLeft, checkpoint: _Checkpoint | None) -> None:
        try:
            async with self.db.transaction() as session:
                services = self.services(session)
                chat = await services.groups.chat(event.chat)
                group = await services.groups.group_of(chat)
                members = event.members if isinstance(event, MemberJoined) else (event.member,)
                joined = []
                for member in members:
                    person = await services.groups.person(member)
                    if group is not None and isinstance(event, MemberJoined):
                        membership, _ = await services.groups.seen(group, person)
                        joined.append((person, membership))
                outgoing: list[OutgoingMessage] = []
                if group is not None and joined:
                    tr = Translator(group.language, group.timezone)
                    outgoing = await onboarding.welcome_joined(services, tr, group, event.chat, joined)
                rows = await self._finish(session, outgoing, checkpoint)
            self.outbox.submit(rows)
        except Exception:
            # A membership event has nobody to answer; losing it must not stop the bot.
            log.exception("error while handling %r", event)
            await self._commit_safely([], checkpoint)

    async def _on_bot_added(self, event: BotAdded, checkpoint: _Checkpoint | None) -> None:
        try:
            async with self.db.transaction() as session:
                services = self.services(session)
                chat = await services.groups.chat(event.chat)
                group = await services.groups.group_of(chat)
                if group is not None:
                    tr = Translator(group.language, group.timezone)
                    intro = tr.markup("bot.added_known", name=group.name)
                else:
                    intro = Translator(self.language, self.timezone).markup("bot.added")
                rows = await self._finish(session, [OutgoingMessage(event.chat, intro)], checkpoint)
            self.outbox.submit(rows)
        except Exception:
            log.exception("error while handling %r", event)
            await self._commit_safely([], checkpoint)

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


ONBOARDING_COMMANDS = frozenset({"onboarding", "brief", "gelesen", "read", "ack", "start"})


def _is_onboarding_command(invocation: Invocation | None) -> bool:
    """Commands that handle the brief themselves (no automatic brief on top)."""
    return invocation is not None and normalise_name(invocation.name) in ONBOARDING_COMMANDS
