"""The per-event context handed to command handlers and event observers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.errors import NoGroup, UserError, command_path
from bot.core.events import Button, ChatRef, IncomingMessage, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup
from bot.core.ports import Clock
from bot.core.router import Command, Invocation, Router, check_role
from storage.models import Chat, Membership, Person, Role, WorkingGroup

if TYPE_CHECKING:
    from bot.core.observers import Runtime
    from bot.services import Services


@dataclass(eq=False)
class Context:
    """Everything a handler needs for one event (a message, a join, a poll answer, …).

    Replies are collected rather than sent at once: they leave only after the update's
    transaction committed, so nobody is told about a change that was rolled back.

    Attributes:
        event: The event (an :class:`IncomingMessage` for commands and plain messages).
        services: Domain services bound to this update's database session.
        tr: Translator in the AG's language (or the bot's default outside an AG).
        clock: The clock of the application.
        chat: The stored chat the message came from.
        person: The stored sender.
        group: The AG of the chat, if it belongs to one.
        role: The sender's effective role in that AG (platform admins count as koordination).
        router: The application's root router (``/hilfe`` describes it).
        command: The command being run, set by the router.
        outgoing: Messages to send once the transaction committed.
        membership: The sender's membership in ``group``, if any.
        choices: In a private chat of a person in several AGs without a chosen one: the
            ``(id, name)`` of those AGs (a command that needs an AG asks which).
        invocation: The command line, if the message is a command.
        runtime: The running application (components, options) for handlers that need it.
    """

    event: Any
    services: Services
    tr: Translator
    clock: Clock
    chat: Chat
    person: Person
    group: WorkingGroup | None = None
    role: Role | None = None
    router: Router | None = None
    command: Command | None = None
    outgoing: list[OutgoingMessage] = field(default_factory=list)
    membership: Membership | None = None
    choices: list[tuple[int, str]] = field(default_factory=list)
    invocation: Invocation | None = None
    runtime: Runtime | None = None

    @property
    def message(self) -> IncomingMessage:
        """The event as the incoming message it is for commands and plain messages."""
        assert isinstance(self.event, IncomingMessage), self.event
        return self.event

    @property
    def is_private(self) -> bool:
        """Whether the event happened in a private chat with the bot."""
        return self.event.chat.is_private

    def reply(
        self, markup: Markup, *, buttons: list[list[Button]] | None = None, secret: bool = False
    ) -> None:
        """Answer in the chat the event came from (``secret``: see :meth:`send`)."""
        self.send(self.event.chat, markup, buttons=buttons, secret=secret)

    def send(
        self,
        chat: ChatRef,
        markup: Markup,
        *,
        buttons: list[list[Button]] | None = None,
        secret: bool = False,
    ) -> None:
        """Queue a message to any chat (e.g. a private brief).

        ``secret`` marks content that must not stay in the database once delivered (a link
        code): the outbox redacts the stored message when it is sent or given up.
        """
        self.outgoing.append(OutgoingMessage(chat, markup, buttons=buttons or [], secret=secret))

    def say(self, key: str, count: int | None = None, **params: object) -> None:
        """Reply with the catalog message ``key``."""
        self.reply(self.tr.markup(key, count, **params))

    def require_group(self) -> WorkingGroup:
        """The chat's AG.

        Raises:
            NoGroup: The chat does not belong to an AG.
        """
        if self.group is None:
            raise NoGroup()
        return self.group

    def require_group_chat(self) -> None:
        """Refuse a change from a private chat: the AG's register changes where everybody sees it.

        Raises:
            UserError: The command was written in a private chat.
        """
        if self.event.chat.is_private:
            name = command_path(self.command, self.tr.language) if self.command is not None else ""
            raise UserError("error.not_in_private", command=name)

    def require_role(self, role: Role) -> None:
        """Raise ``PermissionDenied`` unless the sender has at least ``role`` in the AG."""
        check_role(self.role, role)
