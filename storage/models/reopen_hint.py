"""A hint of the reopen guard: the bot pointed out that a message questions a settled item."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class ReopenHint(Base):
    """One hint given in a chat, kept for the cool-down and for ``/hinweis falsch``.

    The message text is stored because marking the hint wrong turns exactly that text into a
    labelled example of the AG.
    """

    __tablename__ = "reopen_hints"
    __table_args__ = (
        # The cool-down asks for the newest hint on an item in a chat.
        Index("ix_reopen_hints_chat_item", "platform", "chat_id", "item_kind", "item_id", "created_at"),
        # The retention job removes hints (they quote a member's message) by age.
        Index("ix_reopen_hints_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    item_kind: Mapped[str] = mapped_column(String(16))  # "goal" | "decision"
    item_id: Mapped[int] = mapped_column(Integer)
    item_number: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str | None] = mapped_column(String(255))
    message_text: Mapped[str] = mapped_column(Text)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    score: Mapped[float] = mapped_column(Float)
    # The outbox row of the hint's reply: its platform message id identifies the hint when a
    # coordinator answers it with ``/hinweis falsch``.
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    wrong_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    wrong_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
