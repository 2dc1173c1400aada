"""A decision (Beschluss) of an AG."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import DecisionStatus, enum_column


class Decision(Base):
    """A decision with a running number per AG.

    Replacing a decision creates a new one whose ``replaces_id`` points to the old one, and marks
    the old one replaced; revoking keeps the text with a reason. Nothing is deleted.
    """

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        Index("ix_decisions_group_id_status", "group_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # Case-, umlaut- and ß-folded copy of text and tags, so search works with a LIKE on any backend.
    search_text: Mapped[str] = mapped_column(Text)
    status: Mapped[DecisionStatus] = mapped_column(enum_column(DecisionStatus), default=DecisionStatus.ACTIVE)
    decided_on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("decisions.id", ondelete="SET NULL"), index=True
    )
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(Text)
    # Important decisions come first in a newcomer's brief.
    important: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The poll whose result this decision is (``/beschluss <Nr>`` shows its tally).
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("polls.id", ondelete="SET NULL"))
