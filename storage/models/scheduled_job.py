"""A dated job: the one table the scheduler reads (reminders, meeting notices, deadlines …)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import enum_column


class JobStatus(enum.StrEnum):
    """Where a job stands."""

    PENDING = "pending"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ScheduledJob(Base):
    """Something that falls due at a time: the feature's job function of ``kind`` runs for
    ``ref_id`` then.

    The scheduler is derived from these rows (it keeps nothing of its own), so a restart loses
    nothing, and a row is claimed inside the transaction that fires it, so it fires once even
    when several bot processes share the database.
    """

    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        # The scheduler's one query: pending jobs by due time.
        Index("ix_scheduled_jobs_status_due_at", "status", "due_at"),
        Index("ix_scheduled_jobs_kind_ref_id", "kind", "ref_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus), default=JobStatus.PENDING)
    # Small kind-specific facts (the occurrence a meeting notice is for, …); never personal data.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
