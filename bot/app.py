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

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import Context
from bot.core.errors import NoGroup, UserError
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
from bot.core.markup import Markup, code
from bot.core.ports import Clock, Messenger, SystemClock
from bot.core.router import Command, Invocation, normalise_name, parse_command
from bot.core.throttle import UNLIMITED, SendLimits
from bot.handlers import build_router, onboarding
from bot.services import Services
from bot.services.outbox import Outbox
from storage import Database
from storage.engine import wrote
from storage.models import Membership, OutboxMessage, Person, Role, WorkingGroup
from storage.repositories import GroupRepository, OutboxRepository, StateRepository
from storage.repositories.people import LAST_SEEN_RESOLUTION

log = logging.getLogger(__name__)

SEEN_CACHE_SIZE = 10_000


class Application:
    """Wires storage, services, handlers, the outbox and the adapters together.

    Args:
        database: The database (source of truth).
        clock: Source of time; tests and the console may pass a manual clock.
        language: Language for chats outside any AG and for new AGs.
        timezone: Timezone for new AGs.
        outbox: The outbox to deliver through (default: a new one on ``database``).
    """

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        language: str = "de",
        timezone: str = "Europe/Berlin",
        outbox: Outbox | None = None,
    ) -> None:
        self.db = database
        self.clock = clock or SystemClock()
        self.language = language
        self.timezone = timezone
        self.router = build_router()
        self.outbox = outbox or Outbox(database, self.clock)
        self._bot_names: dict[Platform, frozenset[str]] = {}
        # (platform, chat, person) of plain messages recently registered in an AG: a further plain
        # message within LAST_SEEN_RESOLUTION has nothing to read or write, so it skips the database.
        self._recently_seen: OrderedDict[tuple[str, str, str], datetime] = OrderedDict()

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
        await self.outbox.stop()

    async def handle(self, event: Event, *, checkpoint: tuple[str, str] | None = None) -> None:
        """Handle one event in one transaction and queue the replies for delivery.

        Never raises for a bad update: user errors become a clear message, anything else is
        logged with an error id that the reply quotes.

        Args:
            event: What happened.
            checkpoint: ``(key, value)`` stored in the same transaction, so an adapter can tell
                after a restart which updates were already handled (e.g. the Telegram update id).
        """
        if isinstance(event, IncomingMessage):
            await self._on_message(event, checkpoint)
        elif isinstance(event, MemberJoined | MemberLeft):
            await self._on_membership(event, checkpoint)
        elif isinstance(event, BotAdded):
            await self._on_bot_added(event, checkpoint)
        elif isinstance(event, PollAnswered):
            # Polls arrive with the scheduling issue; until then an answer has nothing to count.
            log.debug("poll answer without a poll feature: %r", event)
            await self._commit([], checkpoint)
        else:  # pragma: no cover - the Event union is closed
            raise TypeError(f"unknown event {event!r}")

    async def handle_checkpoint(self, checkpoint: tuple[str, str]) -> None:
        """Record that an update needed no handling (so it is not looked at again)."""
        await self._commit_safely([], checkpoint)

    def services(self, session: AsyncSession) -> Services:
        """Services bound to a session, configured like this application."""
        return Services(session, self.clock, default_timezone=self.timezone, default_language=self.language)

    async def _finish(
        self, session: AsyncSession, outgoing: list[OutgoingMessage], checkpoint: tuple[str, str] | None
    ) -> list[OutboxMessage]:
        # Only updates with an effect need a checkpoint: handling one without effect twice is
        # harmless, and skipping the write keeps plain chat messages read-only.
        if checkpoint is not None and (outgoing or wrote(session)):
            await StateRepository(session).set(*checkpoint, self.clock.now())
        return await self.outbox.enqueue(session, outgoing)

    async def _commit(self, outgoing: list[OutgoingMessage], checkpoint: tuple[str, str] | None) -> None:
        async with self.db.transaction() as session:
            rows = await self._finish(session, outgoing, checkpoint)
        self.outbox.submit(rows)

    def _seen_recently(self, event: IncomingMessage) -> bool:
        key = (event.chat.platform.value, event.chat.external_id, event.sender.external_id)
        seen = self._recently_seen.get(key)
        return seen is not None and self.clock.now() - seen < LAST_SEEN_RESOLUTION

    def _remember_seen(self, event: IncomingMessage) -> None:
        key = (event.chat.platform.value, event.chat.external_id, event.sender.external_id)
        self._recently_seen[key] = self.clock.now()
        self._recently_seen.move_to_end(key)
        while len(self._recently_seen) > SEEN_CACHE_SIZE:
            self._recently_seen.popitem(last=False)

    async def _on_message(self, event: IncomingMessage, checkpoint: tuple[str, str] | None) -> None:
        invocation = parse_command(event.text, self._bot_names.get(event.chat.platform, frozenset()))
        if invocation is None and self._seen_recently(event):
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
            self.outbox.submit(rows)
            if invocation is None and group is not None:
                self._remember_seen(event)
            return
        except UserError as error:
            reply = OutgoingMessage(event.chat, self._error_markup(error, tr, command, event))
        except Exception:
            error_id = secrets.token_hex(4)
            log.exception("error %s while handling %r", error_id, event)
            reply = OutgoingMessage(event.chat, tr.markup("error.internal", error_id=error_id))
        await self._commit_safely([reply], checkpoint)

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

    async def _commit_safely(
        self, outgoing: list[OutgoingMessage], checkpoint: tuple[str, str] | None
    ) -> None:
        try:
            await self._commit(outgoing, checkpoint)
        except Exception:
            # Even the error reply could not be stored (database down): log, never crash.
            log.exception("could not store the reply to an update")

    async def _on_membership(
        self, event: MemberJoined | MemberLeft, checkpoint: tuple[str, str] | None
    ) -> None:
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

    async def _on_bot_added(self, event: BotAdded, checkpoint: tuple[str, str] | None) -> None:
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

    def _error_markup(
        self, error: UserError, tr: Translator, command: Command | None, event: IncomingMessage
    ) -> Markup:
        key = error.key
        if isinstance(error, NoGroup) and event.chat.is_private:
            key = "error.no_group_private"
        params = {
            name: tr.text(f"role.{value.value}") if isinstance(value, Role) else value
            for name, value in error.params.items()
        }
        markup = tr.markup(key, **params)
        if error.show_usage and command is not None:
            markup.line(tr.text("error.usage_label"), " ", code(tr.text(f"{command.key}.usage")))
            markup.line(tr.text("error.help_hint", command=_help_target(command)))
        return markup


ONBOARDING_COMMANDS = frozenset({"onboarding", "brief", "gelesen", "read", "ack", "start"})


def _is_onboarding_command(invocation: Invocation | None) -> bool:
    """Commands that handle the brief themselves (no automatic brief on top)."""
    return invocation is not None and normalise_name(invocation.name) in ONBOARDING_COMMANDS


def _help_target(command: Command) -> str:
    root = command
    while root.parent is not None:
        root = root.parent
    return root.name
