"""Platform-neutral events that adapters feed into the application.

Adapters translate every update of their platform into one of these frozen dataclasses, so that
handlers and services never see a platform type. Identifiers stay strings because Telegram uses
integers and Matrix uses ``@user:server`` / ``!room:server`` ids.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

# Application.handle scrubs every event with it where events enter the core (lone surrogates,
# NUL and other controls); it lives with the other text rules and is offered here beside the
# events it cleans.
from bot.core.sanitize import clean_event as clean_event

if TYPE_CHECKING:
    from bot.core.markup import Markup


class Platform(enum.StrEnum):
    """Chat platforms the bot can be reached on."""

    CONSOLE = "console"
    TELEGRAM = "telegram"
    MATRIX = "matrix"


class ChatKind(enum.StrEnum):
    """Whether a chat is a one-to-one conversation with the bot or a group/room."""

    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on one platform.

    Attributes:
        platform: The platform the chat lives on.
        external_id: The platform's id of the chat (Telegram chat id, Matrix room id).
        kind: Private chat or group chat.
        title: Human-readable title, if the platform tells one.
    """

    platform: Platform
    external_id: str
    kind: ChatKind = ChatKind.GROUP
    title: str | None = None

    @property
    def is_private(self) -> bool:
        """Whether this is a one-to-one chat with the bot."""
        return self.kind is ChatKind.PRIVATE


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person on one platform.

    Attributes:
        platform: The platform the person was seen on.
        external_id: The platform's id of the person.
        display_name: Name to show; never used for identification.
        username: Handle such as a Telegram ``@username`` or a Matrix user id, if any.
    """

    platform: Platform
    external_id: str
    display_name: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class QuotedMessage:
    """The message an incoming message replies to."""

    message_id: str
    text: str | None
    sender: UserRef | None = None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A text message written by a person in a chat.

    Attributes:
        chat: Where the message was written.
        sender: Who wrote it.
        text: The text as written (commands included).
        message_id: The platform's id of the message, used to reply to it.
        sender_is_admin: The adapter's finding that the sender administers this chat; an admin
            counts as koordination of the chat's AG.
        reply_to: The message this one replies to, if any.
        timestamp: When the platform says the message was sent (UTC); ``None`` means now.
    """

    chat: ChatRef
    sender: UserRef
    text: str
    message_id: str | None = None
    sender_is_admin: bool = False
    reply_to: QuotedMessage | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """One or more people joined a group chat (several when an admin adds many at once)."""

    chat: ChatRef
    members: tuple[UserRef, ...]
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """A person left or was removed from a group chat."""

    chat: ChatRef
    member: UserRef
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class BotAdded:
    """The bot was added to a group chat (it introduces itself)."""

    chat: ChatRef
    by: UserRef | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class PollAnswered:
    """Someone answered a native poll the bot sent (Telegram poll, Matrix MSC3381 poll)."""

    platform: Platform
    poll_id: str
    voter: UserRef
    option_ids: tuple[int, ...]
    timestamp: datetime | None = None


Event = IncomingMessage | MemberJoined | MemberLeft | BotAdded | PollAnswered
"""Every event type the application accepts."""


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button.

    Exactly one action is set: ``command`` is sent as if the presser had typed it (so it is
    checked for permissions like any typed command); ``url`` opens a link; ``start_payload``
    opens the private chat with the bot and hands it the payload (Telegram deep link).
    """

    label: str
    command: str | None = None
    url: str | None = None
    start_payload: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send (CSV, XLSX, PNG, ICS, …)."""

    filename: str
    mime_type: str
    data: bytes
    caption: str | None = None

    @property
    def is_image(self) -> bool:
        """Whether platforms should show it as a picture."""
        return self.mime_type.startswith("image/")


@dataclass(frozen=True, slots=True)
class PollSpec:
    """A native poll."""

    question: str
    options: tuple[str, ...]
    allows_multiple: bool = False
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What an adapter reports back after delivering a message."""

    chat: ChatRef
    message_id: str | None
    poll_id: str | None = None


@dataclass(slots=True)
class OutgoingMessage:
    """A message the bot wants to send.

    Attributes:
        chat: Destination chat.
        markup: The content (text, or the caption of an attachment), rendered by the adapter.
        reply_to: Platform message id to reply to, if any.
        buttons: Rows of inline buttons.
        attachment: A file to send with the markup as its caption.
        poll: A native poll to send instead of text.
        fallback: What to send instead when a private message cannot be delivered because the
            person never opened a chat with the bot (e.g. a short note in the group with a
            deep-link button).
    """

    chat: ChatRef
    markup: Markup
    reply_to: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    attachment: Attachment | None = None
    poll: PollSpec | None = None
    fallback: OutgoingMessage | None = None
    key: str | None = None
    """Stable id of this message across retries (set by the outbox); platforms with
    idempotent sends (Matrix transaction ids) use it so a retry never duplicates."""
    secret: bool = False
    """The content carries a secret (a link code): the outbox keeps it only until the message
    was delivered or given up, then stores a redacted payload instead."""
    tag: str | None = None
    """What the message is, for the feature that sent it (``"poll:12"``): stored on the outbox
    row, and after a successful send the observer registered for its prefix
    (``router.on.on_sent("poll")``) gets the :class:`SentMessage` (the platform's message and
    poll ids are known only then)."""
    close_poll: str | None = None
    """Instead of sending content, end the native poll with this platform message id (Telegram
    stopPoll, a Matrix poll end event whose fallback text is ``markup``); durable and retried
    like any message."""

    def split_text(self, limit: int, measure: Callable[[Markup], int]) -> list[OutgoingMessage]:
        """Parts of a text message within ``limit`` as ``measure`` counts it.

        The reply reference and the fallback stay with the first part, the buttons with the last.
        """
        from bot.core.markup import split  # events must not depend on markup at import time

        parts = split(self.markup, limit, measure)
        if len(parts) == 1:
            return [self]
        last = len(parts) - 1
        return [
            replace(
                self,
                markup=part,
                reply_to=self.reply_to if i == 0 else None,
                fallback=self.fallback if i == 0 else None,
                buttons=self.buttons if i == last else [],
            )
            for i, part in enumerate(parts)
        ]
