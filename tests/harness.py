"""A maubot-style test bot: send a command, get the replies, look at the database.

Example:
    replies = await bot.send("/beschluss Wir treffen uns vierteljährlich", admin=True)
    assert "Beschluss Nr. 1" in replies[0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app import Application
from bot.core.events import (
    ChatKind,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    OutgoingMessage,
    Platform,
    QuotedMessage,
    SentMessage,
    UserRef,
)
from bot.core.markup import render_html


@dataclass
class RecordingMessenger:
    """A messenger that keeps everything it is asked to send."""

    platform: Platform = Platform.CONSOLE
    sent: list[OutgoingMessage] = field(default_factory=list)
    fail: bool = False

    def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        return [message]

    async def send(self, message: OutgoingMessage) -> SentMessage:
        if self.fail:
            raise ConnectionError("messenger down")
        self.sent.append(message)
        # A native poll gets an id of its own, as on Telegram (Matrix uses the event id), so the
        # polls feature's sent observer can map answers to it.
        poll_id = f"native-{len(self.sent)}" if message.poll is not None else None
        return SentMessage(message.chat, str(len(self.sent)), poll_id)


class BotHarness:
    """Drives an :class:`Application` the way a chat platform would.

    Args:
        app: The application under test.
        messenger: Where replies end up.
    """

    def __init__(self, app: Application, messenger: RecordingMessenger) -> None:
        self.app = app
        self.messenger = messenger
        self.platform = messenger.platform
        self._counter = 0

    def chat(self, name: str = "ag", private: bool = False) -> ChatRef:
        """A chat reference by name."""
        kind = ChatKind.PRIVATE if private else ChatKind.GROUP
        return ChatRef(self.platform, f"{kind.value}:{name}", kind, name)

    def user(self, name: str) -> UserRef:
        """A user reference by name (the name doubles as username)."""
        return UserRef(self.platform, f"id-{name}", name.capitalize(), name)

    async def send(
        self,
        text: str,
        *,
        user: str = "anna",
        chat: str = "ag",
        private: bool = False,
        admin: bool = False,
        reply_to: tuple[str, str | None] | QuotedMessage | None = None,
    ) -> list[str]:
        """Send a message and return the plain texts of the bot's answers in that chat.

        Messages the bot sends elsewhere because of it (a newcomer's private brief) are in
        :meth:`sent_to`.

        Args:
            text: The message.
            user: Sender name.
            chat: Chat name.
            private: Send in a private chat.
            admin: The sender administers the chat.
            reply_to: ``(text, sender name or None)`` of a message this one replies to, or the
                quoted message itself (to answer one of the bot's messages by its id).
        """
        self._counter += 1
        quoted = reply_to if isinstance(reply_to, QuotedMessage) else None
        if reply_to is not None and not isinstance(reply_to, QuotedMessage):
            quoted_text, quoted_user = reply_to
            quoted = QuotedMessage(
                f"q{self._counter}", quoted_text, self.user(quoted_user) if quoted_user else None
            )
        before = len(self.messenger.sent)
        # A private chat is addressed by the person's id, as on every platform (the bot writes
        # to a person privately by that id, so both directions meet in one chat).
        where = (
            ChatRef(
                self.platform, self.user(user).external_id, ChatKind.PRIVATE, self.user(user).display_name
            )
            if private
            else self.chat(chat)
        )
        await self.app.handle(
            IncomingMessage(
                chat=where,
                sender=self.user(user),
                text=text,
                message_id=str(self._counter),
                sender_is_admin=admin,
                reply_to=quoted,
            )
        )
        await self.settle()
        return [
            m.markup.plain() for m in self.messenger.sent[before:] if m.chat.external_id == where.external_id
        ]

    async def settle(self) -> None:
        """Wait until the reopen guard checked every message and every reply went out."""
        await self.app.drain()

    def sent_to(self, user: str) -> list[OutgoingMessage]:
        """Messages the bot sent privately to a person (their private chat is addressed by id)."""
        person_id = self.user(user).external_id
        return [m for m in self.messenger.sent if m.chat.is_private and m.chat.external_id == person_id]

    async def say(self, text: str, **kwargs: Any) -> str:
        """Send and return the single reply (fails if there is not exactly one)."""
        replies = await self.send(text, **kwargs)
        assert len(replies) == 1, replies
        return replies[0]

    async def join(self, *names: str, chat: str = "ag") -> list[str]:
        """People join a group chat; returns what the bot said in that chat."""
        before = len(self.messenger.sent)
        where = self.chat(chat)
        await self.app.handle(MemberJoined(where, tuple(self.user(n) for n in names)))
        await self.app.outbox.drain()
        return [
            m.markup.plain() for m in self.messenger.sent[before:] if m.chat.external_id == where.external_id
        ]

    async def advance(
        self, delta: timedelta | None = None, *, to: datetime | None = None
    ) -> list[OutgoingMessage]:
        """Move time forward (by ``delta`` or to ``to``); everything due fires on the way.

        Returns:
            The messages the bot sent meanwhile.
        """
        before = len(self.messenger.sent)
        target = to if to is not None else self.app.clock.now() + (delta or timedelta(0))
        await self.app.component("scheduler").advance_to(target, settle=self.app.outbox.drain)
        await self.settle()
        return self.messenger.sent[before:]

    async def leave(self, name: str, *, chat: str = "ag") -> list[str]:
        """A person leaves a group chat; returns what the bot said in that chat."""
        before = len(self.messenger.sent)
        where = self.chat(chat)
        await self.app.handle(MemberLeft(where, self.user(name)))
        await self.app.outbox.drain()
        return [
            m.markup.plain() for m in self.messenger.sent[before:] if m.chat.external_id == where.external_id
        ]

    @property
    def last(self) -> OutgoingMessage:
        """The last message sent."""
        return self.messenger.sent[-1]

    def last_html(self) -> str:
        """The last message as Telegram HTML."""
        return render_html(self.last.markup)

    async def rows(self, model: type, *where: Any, order_by: Sequence[Any] = ()) -> list[Any]:
        """Rows of a model matching the conditions."""
        async with self.app.db.transaction() as session:
            query = select(model).where(*where)
            if order_by:
                query = query.order_by(*order_by)
            return list(await session.scalars(query))

    async def count(self, model: type, *where: Any) -> int:
        """Number of rows of a model matching the conditions."""
        async with self.app.db.transaction() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    async def setup_group(self, name: str = "AG Bildung", *, user: str = "anna", chat: str = "ag") -> None:
        """Create an AG in a chat; ``user`` becomes its koordination."""
        reply = await self.say(f"/ag anlegen {name}", user=user, chat=chat)
        assert "angelegt" in reply, reply
