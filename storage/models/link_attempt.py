"""A rejected attempt to redeem a link code, for the brute-force limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class LinkAttempt(Base):
    """One code that a person tried in a chat and that was not accepted.

    Kept in the database rather than in memory so that the limits survive restarts and hold
    across several bot processes; rows older than the limits' window are deleted as new ones
    arrive. The limits count per person and overall, not per chat (see
    ``GroupService.link_chat``), hence the two indexes; the chat is kept for the record.
    """

    __tablename__ = "link_attempts"
    __table_args__ = (
        Index("ix_link_attempts_person_id_created_at", "person_id", "created_at"),
        Index("ix_link_attempts_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
