"""A meeting of an AG: once, or a series by a recurrence rule."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import enum_column


class MeetingStatus(enum.StrEnum):
    """Lifecycle of a meeting (of the whole series)."""

    ACTIVE = "active"
    CANCELLED = "cancelled"
    DONE = "done"


class Meeting(Base):
    """``/treffen <wann>: <Titel> [| <Ort oder Link>]``.

    The time is kept like a reminder's: a recurrence rule in the local time of ``timezone``
    anchored at ``local_start`` (so "jeden Dienstag 18 Uhr" stays 18:00 across daylight-saving
    changes). ``next_start`` is the occurrence whose notices are scheduled (the one coming up,
    or the one under way until its follow-up ran); ``None`` once the meeting is over or cancelled.
    """

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    # Running number within the AG (working_groups.meeting_seq).
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(500))
    rule: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    local_start: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    # The first occurrence as parsed (UTC): with rule, timezone and local_start it rebuilds the
    # series exactly, also for a one-off whose local time is ambiguous (the autumn hour).
    first_start: Mapped[datetime] = mapped_column(UTCDateTime())
    next_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[MeetingStatus] = mapped_column(enum_column(MeetingStatus), default=MeetingStatus.ACTIVE)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
