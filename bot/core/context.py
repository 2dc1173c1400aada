"""The per-update context handed to command handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.errors import NoGroup
from bot.core.events import Button, ChatRef, IncomingMessage, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup
from bot.core.ports import Clock
from bot.core.router import Command, Router, check_role
from storage.models import Chat, Person, Role, WorkingGroup

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(eq=False)
class Context:
    """Everything a handler needs for one incoming message.

    Replies are collected rather than sent at once: they leave only after the update's
    transaction committed, so nobody is told about a change that was rolled back.

    Attributes:
        event: The incoming message.
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
    """

    event: IncomingMessage
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

    def reply(self, markup: Markup, *, buttons: list[list[Button]] | None = None) -> None:
        """Answer in the chat the message came from."""
        self.send(self.event.chat, markup, buttons=buttons)

    def send(self, chat: ChatRef, markup: Markup, *, buttons: list[list[Button]] | None = None) -> None:
        """Queue a message to any chat (e.g. a private brief)."""
        self.outgoing.append(OutgoingMessage(chat, markup, buttons=buttons or []))

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

    def require_role(self, role: Role) -> None:
        """Raise ``PermissionDenied`` unless the sender has at least ``role`` in the AG."""
        check_role(self.role, role)
