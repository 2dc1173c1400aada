"""An item on the agenda of one occurrence of a meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class AgendaItem(Base):
    """``/tagesordnung <Punkt>``: numbered per meeting occurrence; deleting only marks it."""

    __tablename__ = "agenda_items"
    __table_args__ = (Index("ix_agenda_items_occurrence", "meeting_id", "occurrence", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    # The occurrence (UTC start) the item belongs to; moved on when that occurrence is cancelled.
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime())
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
