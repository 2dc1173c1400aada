"""Scheduled jobs: adding, cancelling and claiming what fell due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobStatus, ScheduledJob


class JobRepository:
    """Reads and writes :class:`ScheduledJob` rows."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        kind: str,
        ref_id: int,
        due_at: datetime,
        *,
        group_id: int | None,
        created_at: datetime,
        data: dict[str, Any] | None = None,
        flush: bool = True,
    ) -> ScheduledJob:
        """A new pending job (flushed, so its id is known; else written with the next flush)."""
        job = ScheduledJob(
            kind=kind,
            ref_id=ref_id,
            group_id=group_id,
            due_at=due_at,
            status=JobStatus.PENDING,
            data=data or {},
            attempts=0,
            created_at=created_at,
        )
        self.session.add(job)
        if flush:
            await self.session.flush()
        return job

    async def claim_due(self, now: datetime, limit: int) -> list[ScheduledJob]:
        """Pending jobs due at ``now`` or before, oldest first, locked for this transaction.

        ``SKIP LOCKED`` lets several bot processes on one PostgreSQL database share the work:
        a row another transaction holds is skipped, not waited for, and once that transaction
        committed the row is no longer pending. SQLite ignores the clause; there one process
        owns the file and transactions take turns.
        """
        query = (
            select(ScheduledJob)
            .where(ScheduledJob.status == JobStatus.PENDING, ScheduledJob.due_at <= now)
            .order_by(ScheduledJob.due_at, ScheduledJob.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(query))

    async def next_due(self) -> datetime | None:
        """When the earliest pending job falls due."""
        return await self.session.scalar(
            select(func.min(ScheduledJob.due_at)).where(ScheduledJob.status == JobStatus.PENDING)
        )

    async def pending(self, kind: str, ref_id: int) -> list[ScheduledJob]:
        """The pending jobs of one item, earliest first."""
        return list(
            await self.session.scalars(
                select(ScheduledJob)
                .where(
                    ScheduledJob.kind == kind,
                    ScheduledJob.ref_id == ref_id,
                    ScheduledJob.status == JobStatus.PENDING,
                )
                .order_by(ScheduledJob.due_at)
            )
        )

    async def cancel_group(
        self, group_id: int, keep: tuple[str, ...], at: datetime, *, keep_refs: tuple[str, Any] | None = None
    ) -> int:
        """Cancel the pending jobs of an AG except those of the ``keep`` kinds and, with
        ``keep_refs`` = ``(kind, ids)``, those of that kind for the ids the selection ``ids``
        finds; returns how many."""
        spared = ScheduledJob.kind.not_in(keep)
        if keep_refs is not None:
            kind, ids = keep_refs
            spared = spared & ~((ScheduledJob.kind == kind) & ScheduledJob.ref_id.in_(ids))
        result = await self.session.execute(
            update(ScheduledJob)
            .where(
                ScheduledJob.group_id == group_id,
                ScheduledJob.status == JobStatus.PENDING,
                spared,
            )
            .values(status=JobStatus.CANCELLED, fired_at=at)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0  # type: ignore[attr-defined]

    async def cancel(self, kinds: tuple[str, ...], ref_id: int, at: datetime) -> int:
        """Cancel the pending jobs of an item; returns how many there were."""
        result = await self.session.execute(
            update(ScheduledJob)
            .where(
                ScheduledJob.kind.in_(kinds),
                ScheduledJob.ref_id == ref_id,
                ScheduledJob.status == JobStatus.PENDING,
            )
            .values(status=JobStatus.CANCELLED, fired_at=at)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0  # type: ignore[attr-defined]
