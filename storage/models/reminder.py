"""A reminder: a text sent to a chat at a time, once or by a recurrence rule."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import enum_column


class ReminderStatus(enum.StrEnum):
    """Lifecycle of a reminder."""

    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    MISSED = "missed"
    DELETED = "deleted"


class Reminder(Base):
    """``/erinnerung <wann>: <Text>``.

    The time is kept the way it was meant: a recurrence rule in the local time of ``timezone``
    anchored at ``local_start`` (so "jeden Dienstag 18 Uhr" stays 18:00 across daylight-saving
    changes), and the next due time in UTC, which its scheduled job mirrors.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_scope", "group_id", "owner_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A reminder set in an AG's group chat belongs to the AG; one set in a private chat belongs
    # to its person (owner) and may have no AG.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    # Running number within its scope (the AG, or the person's private reminders).
    number: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    chat_kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    rule: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    local_start: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    next_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus), default=ReminderStatus.ACTIVE)
    fired_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
