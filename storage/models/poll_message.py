"""Where a poll was posted: the platform's ids of its messages and native polls."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class PollMessage(Base):
    """One delivered message of a poll's announcement in one group chat.

    Written after delivery (the outbox's ``on_sent`` observer), because the platform's ids
    exist only then. ``native_poll_id`` (Telegram's poll id, the Matrix poll start event id)
    maps a platform's poll answer to the poll; ``message_id`` maps ``/stimme`` sent as a reply
    and is what ending the native poll refers to.
    """

    __tablename__ = "poll_messages"
    __table_args__ = (
        Index("ix_poll_messages_native", "platform", "native_poll_id"),
        Index("ix_poll_messages_message", "platform", "chat_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(255))
    native_poll_id: Mapped[str | None] = mapped_column(String(255))
    # The native poll was ended (or its end is queued in the outbox).
    closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
