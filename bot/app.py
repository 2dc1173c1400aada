"""The application: turns events into transactions, commands into replies.

One instance runs per process, inside the single asyncio loop that also runs every adapter
(and, with the scheduling issue, the scheduler). Adapters call :meth:`Application.handle` for
each event and register a :class:`~bot.core.ports.Messenger` for their platform.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable

from bot.core.context import Context
from bot.core.errors import NoGroup, UserError
from bot.core.events import (
    Event,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    OutgoingMessage,
    Platform,
    SentMessage,
)
from bot.core.i18n import Translator
from bot.core.markup import Markup, code
from bot.core.ports import Clock, Messenger, SystemClock
from bot.core.router import Command, parse_command
from bot.handlers import build_router
from bot.services import Services
from storage import Database
from storage.models import Role

log = logging.getLogger(__name__)


class Application:
    """Wires storage, services, handlers and adapters together.

    Args:
        database: The database (source of truth).
        clock: Source of time; tests and the console may pass a manual clock.
        language: Language for chats outside any AG and for new AGs.
        timezone: Timezone for new AGs.
    """

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        language: str = "de",
        timezone: str = "Europe/Berlin",
    ) -> None:
        self.db = database
        self.clock = clock or SystemClock()
        self.language = language
        self.timezone = timezone
        self.router = build_router()
        self.messengers: dict[Platform, Messenger] = {}
        self._bot_names: dict[Platform, frozenset[str]] = {}

    def attach(self, messenger: Messenger, bot_names: Iterable[str] = ()) -> None:
        """Register the messenger of a platform and the bot's usernames there.

        Args:
            messenger: Sends messages on ``messenger.platform``.
            bot_names: Names a command may be addressed to (``/cmd@name``); others are ignored.
        """
        self.messengers[messenger.platform] = messenger
        self._bot_names[messenger.platform] = frozenset(n.lower().lstrip("@") for n in bot_names)

    async def start(self) -> None:
        """Bring the database schema up to date."""
        await self.db.upgrade()

    async def handle(self, event: Event) -> list[SentMessage]:
        """Handle one event in one transaction and deliver the replies afterwards.

        Never raises for a bad update: user errors become a clear message, anything else is
        logged with an error id that the reply quotes.

        Returns:
            What the messengers reported for each delivered message.
        """
        if isinstance(event, IncomingMessage):
            outgoing = await self._on_message(event)
        elif isinstance(event, MemberJoined | MemberLeft):
            outgoing = await self._on_membership(event)
        else:  # pragma: no cover - the Event union is closed
            raise TypeError(f"unknown event {event!r}")
        return await self.deliver(outgoing)

    def services(self, session) -> Services:
        """Services bound to a session, configured like this application."""
        return Services(session, self.clock, default_timezone=self.timezone, default_language=self.language)

    async def _on_message(self, event: IncomingMessage) -> list[OutgoingMessage]:
        invocation = parse_command(event.text, self._bot_names.get(event.chat.platform, frozenset()))
        tr = Translator(self.language, self.timezone)
        command: Command | None = None
        try:
            async with self.db.transaction() as session:
                services = self.services(session)
                chat = await services.groups.chat(event.chat)
                person = await services.groups.person(event.sender)
                group = await services.groups.group_of(chat)
                role: Role | None = None
                if group is not None:
                    membership, _ = await services.groups.seen(group, person)
                    role = services.groups.effective_role(membership, event.sender_is_admin)
                    tr = Translator(group.language, group.timezone)
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
                return ctx.outgoing
        except UserError as error:
            return [OutgoingMessage(event.chat, self._error_markup(error, tr, command, event))]
        except Exception:
            error_id = secrets.token_hex(4)
            log.exception("error %s while handling %r", error_id, event)
            return [OutgoingMessage(event.chat, tr.markup("error.internal", error_id=error_id))]

    async def _on_membership(self, event: MemberJoined | MemberLeft) -> list[OutgoingMessage]:
        try:
            async with self.db.transaction() as session:
                services = self.services(session)
                chat = await services.groups.chat(event.chat)
                group = await services.groups.group_of(chat)
                members = event.members if isinstance(event, MemberJoined) else (event.member,)
                for member in members:
                    person = await services.groups.person(member)
                    if group is not None and isinstance(event, MemberJoined):
                        await services.groups.seen(group, person)
        except Exception:
            # A membership event has nobody to answer; losing it must not stop the bot.
            log.exception("error while handling %r", event)
        return []

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

    async def deliver(self, messages: Iterable[OutgoingMessage]) -> list[SentMessage]:
        """Send messages through their platform's messenger; a failed send is logged, not raised."""
        sent: list[SentMessage] = []
        for message in messages:
            messenger = self.messengers.get(message.chat.platform)
            if messenger is None:
                log.error("no messenger for %s; dropping %r", message.chat.platform, message)
                continue
            try:
                sent.append(await messenger.send(message))
            except Exception:
                log.exception("sending to %s failed", message.chat)
        return sent


def _help_target(command: Command) -> str:
    root = command
    while root.parent is not None:
        root = root.parent
    return root.name
