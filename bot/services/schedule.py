"""Scheduling inside an update's transaction: features add and cancel dated jobs here.

The process-wide :class:`~bot.services.scheduler.Scheduler` learns about new jobs through a
signal noted on the session, after the commit (a job of a rolled-back transaction never fires).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.observers import note_signal
from bot.core.ports import Clock
from storage.models import ScheduledJob
from storage.repositories import JobRepository


@dataclass(frozen=True, slots=True)
class JobsChanged:
    """A job was added for ``due_at``: the scheduler may have to wake earlier."""

    due_at: datetime


class ScheduleService:
    """Adds, lists and cancels the dated jobs of features."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.jobs = JobRepository(session)

    async def schedule(
        self,
        kind: str,
        ref_id: int,
        due_at: datetime,
        *,
        group_id: int | None,
        data: dict[str, Any] | None = None,
        flush: bool = True,
    ) -> ScheduledJob:
        """Have the job function registered for ``kind`` run for ``ref_id`` at ``due_at``.

        Args:
            kind: The job function's name (``router.on.job(kind)``).
            ref_id: The id of the feature's row (reminder, meeting, poll …).
            due_at: When (timezone-aware).
            group_id: The AG it belongs to (jobs go with a deleted AG), if any.
            data: Small facts the job needs besides the id (no personal data).
            flush: Write the row now (its id is known); ``False`` leaves it to the next flush,
                so a batch of jobs (the scheduler's) writes its rows together.
        """
        job = await self.jobs.add(
            kind, ref_id, due_at, group_id=group_id, created_at=self.clock.now(), data=data, flush=flush
        )
        note_signal(self.session, JobsChanged(due_at))
        return job

    async def cancel(self, kinds: tuple[str, ...], ref_id: int) -> int:
        """Cancel the pending jobs of an item (e.g. a deleted reminder); returns how many."""
        return await self.jobs.cancel(kinds, ref_id, self.clock.now())

    async def pending(self, kind: str, ref_id: int) -> list[ScheduledJob]:
        """The pending jobs of an item, earliest first."""
        return await self.jobs.pending(kind, ref_id)
