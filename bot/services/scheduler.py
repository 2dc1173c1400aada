"""The scheduler: fires the jobs in ``scheduled_jobs`` when they fall due.

The database is the source of truth; this component keeps only a wake-up timer derived from it.
APScheduler 3's ``AsyncIOScheduler`` runs in the bot's one asyncio loop and holds two jobs: a
one-off *wake* at the earliest pending due time (re-armed after every run and whenever a commit
adds an earlier job) and a periodic *poll* that picks up jobs other bot processes added. Neither
carries feature data: both just call :meth:`Scheduler.run_due`, which claims what fell due in
the database and runs the feature's job function for each row, by its id. So 100,000 pending
reminders cost one row each in the database and nothing in memory, and a restart rebuilds the
timer with one query.

Time comes only from the :class:`~bot.core.ports.Clock` port. APScheduler merely sleeps until the
clock's due time (its delay is computed from the port, so a moved clock moves the wake-up too);
tests and the console's ``:zeit`` move the clock and call :meth:`Scheduler.advance_to`, which fires
everything in between in order, each at its own due time, without sleeping.

Exactly once: a job is claimed (``SELECT … FOR UPDATE SKIP LOCKED``), run and marked done in one
transaction, together with the messages it writes to the outbox. Two processes that wake at the
same moment skip each other's rows; a crash before the commit leaves the job pending and nothing
sent. Jobs run in batches (one transaction per batch, a savepoint per job), so a thousand
reminders due in the same minute are out within a fraction of a second and one failing job does
not take the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.core.observers import Runtime, Unit
from bot.services.schedule import JobsChanged
from storage.models import JobStatus, ScheduledJob
from storage.repositories import JobRepository

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=6)
BATCH = 200
POLL_INTERVAL = timedelta(seconds=60)
MAX_ATTEMPTS = 5
# Something is due but this process could claim none of it (another process holds the rows):
# look again after this pause instead of at once.
BUSY_PAUSE = timedelta(seconds=1)
# A job fired later than this says so ("verspätet, fällig war 18:00").
LATE_AFTER = timedelta(minutes=2)


class MovableClock(Protocol):
    """A clock that can be moved forward (``ManualClock``, ``TravelClock``)."""

    def now(self) -> datetime: ...

    def set(self, when: datetime) -> None: ...


@dataclass
class JobRun:
    """What a job function gets: the claimed row, the transaction, and how late it is.

    Attributes:
        unit: The firing transaction (services, outbox).
        job: The claimed job; its ``ref_id`` names the feature's row.
        now: The time of the run.
        grace: How late a job may still be delivered (``[scheduler] grace``).
    """

    unit: Unit
    job: ScheduledJob
    now: datetime
    grace: timedelta
    _missed: dict[int | None, list[str]] = field(default_factory=dict)

    @property
    def late(self) -> timedelta:
        """How long after its due time the job runs."""
        return max(timedelta(0), self.now - self.job.due_at)

    @property
    def is_late(self) -> bool:
        """Late enough to say so in the message."""
        return self.late > LATE_AFTER

    @property
    def overdue(self) -> bool:
        """Later than the grace period: not delivered any more, reported as missed instead."""
        return self.late > self.grace

    def missed(self, group_id: int | None, line: str) -> None:
        """Report an item that was not delivered; the AG's koordination gets one list per run."""
        self._missed.setdefault(group_id, []).append(line)
        self.job.status = JobStatus.MISSED


JobFunction = Callable[[JobRun], Awaitable[None]]
MissedReport = Callable[[Unit, int | None, list[str]], Awaitable[None]]


class Scheduler:
    """Fires due jobs (a component; one per process).

    Args:
        runtime: The running application (clock, transactions).
        jobs: The job function for each job kind (``router.on.job``).
        report_missed: Sends the list of missed items of an AG to its koordination.
        grace: How late a job may still be delivered.
        batch: Jobs per transaction.
        poll: How often to look for jobs other processes added.
        use_timer: Start APScheduler (off where time only moves through ``advance_to``).
    """

    def __init__(
        self,
        runtime: Runtime,
        jobs: Mapping[str, JobFunction],
        report_missed: MissedReport | None = None,
        *,
        grace: timedelta = DEFAULT_GRACE,
        batch: int = BATCH,
        poll: timedelta = POLL_INTERVAL,
        use_timer: bool = True,
    ) -> None:
        self.runtime = runtime
        self.jobs = jobs
        self.report_missed = report_missed
        self.grace = grace
        self.batch = batch
        self.poll = poll
        self.use_timer = use_timer
        self.fired = 0
        self._lock = asyncio.Lock()
        self._aps: Any = None
        self._armed_for: datetime | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # Life cycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Catch up with what fell due while the bot was down, then arm the timer."""
        await self.run_due()
        if not self.use_timer:
            return
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.add_job(
            self._wake,
            IntervalTrigger(seconds=self.poll.total_seconds()),
            id="poll",
            coalesce=True,
            max_instances=1,
        )
        self._aps.start()
        await self._arm()

    async def stop(self) -> None:
        """Stop the timer and wait for a run in progress; pending jobs stay in the database."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        async with self._lock:
            pass

    async def drain(self) -> None:
        """Wait until a run in progress and re-arming requested so far are done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        async with self._lock:
            pass

    def changed(self, signals: list[object]) -> None:
        """Committed jobs: wake earlier if one is due before the armed time."""
        earliest = min((s.due_at for s in signals if isinstance(s, JobsChanged)), default=None)
        if earliest is None or self._aps is None:
            return
        if self._armed_for is None or earliest < self._armed_for:
            self._spawn(self._arm())

    @property
    def armed_for(self) -> datetime | None:
        """The due time the timer wakes up for (``None``: nothing pending, or no timer)."""
        return self._armed_for

    # Running -----------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Fire every job due now, oldest first; returns how many ran."""
        async with self._lock:
            return await self._run_due()

    async def advance_to(self, target: datetime) -> int:
        """Move a movable clock to ``target``, firing everything due in between in order.

        The clock stops at each due time on the way, so each job runs at its own time (not
        late) and sees the clock a real run would see.
        """
        clock: MovableClock = self.runtime.clock  # type: ignore[assignment]
        fired = 0
        async with self._lock:
            while True:
                async with self.runtime.unit() as unit:
                    due = await JobRepository(unit.session).next_due()
                if due is None or due > target:
                    break
                if due > clock.now():
                    clock.set(due)
                ran = await self._run_due()
                fired += ran
                if ran == 0:  # pragma: no cover - a job due now that nobody could claim
                    break
            if target > clock.now():
                clock.set(target)
        return fired

    async def _run_due(self) -> int:
        fired = 0
        missed: dict[int | None, list[str]] = {}
        while True:
            now = self.runtime.clock.now()
            async with self.runtime.unit() as unit:
                claimed = await JobRepository(unit.session).claim_due(now, self.batch)
                for job in claimed:
                    await self._fire(unit, job, now, missed)
            fired += len(claimed)
            if len(claimed) < self.batch:
                break
        self.fired += fired
        if missed and self.report_missed is not None:
            try:
                async with self.runtime.unit() as unit:
                    for group_id, lines in missed.items():
                        await self.report_missed(unit, group_id, lines)
            except Exception:
                log.exception("scheduler: could not report missed items")
        return fired

    async def _fire(
        self, unit: Unit, job: ScheduledJob, now: datetime, missed: dict[int | None, list[str]]
    ) -> None:
        function = self.jobs.get(job.kind)
        job_id, kind = job.id, job.kind
        try:
            if function is None:
                raise LookupError(f"no job function for kind {kind!r}")
            # A savepoint per job: a failing job is rolled back alone, the batch goes on.
            async with unit.session.begin_nested():
                await function(JobRun(unit, job, now, self.grace, missed))
            if job.status is JobStatus.PENDING:
                job.status = JobStatus.DONE
            job.fired_at = now
        except Exception:
            log.exception("scheduler: job %s (%s) failed", job_id, kind)
            await unit.session.refresh(job)
            job.attempts += 1
            if job.attempts >= MAX_ATTEMPTS or function is None:
                job.status = JobStatus.FAILED
                job.fired_at = now
            else:
                # Try again a little later: 1, 2, 4, 8 minutes.
                job.due_at = now + timedelta(minutes=2 ** (job.attempts - 1))

    # The timer ---------------------------------------------------------------------------------

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wake(self) -> None:
        started = self.runtime.clock.now()
        try:
            await self.run_due()
        except Exception:
            log.exception("scheduler: run failed")
            # Not again at once (and again): what is due now waits as long as the poll would.
            await self._arm(held_since=self.runtime.clock.now(), pause=self.poll)
            return
        # A job due when the run started and still pending is another process's (locked).
        await self._arm(held_since=started, pause=BUSY_PAUSE)

    async def _arm(self, *, held_since: datetime | None = None, pause: timedelta = timedelta(0)) -> None:
        """Set the wake-up to the earliest pending job (one indexed query).

        Args:
            held_since: A job due by then is not this process's to run right now (another
                process holds it, or the run failed): wake for it after ``pause`` at the earliest.
            pause: See ``held_since``.
        """
        if self._aps is None:
            return
        try:
            async with self.runtime.unit() as unit:
                due = await JobRepository(unit.session).next_due()
        except Exception:
            log.exception("scheduler: could not read the next due time; the poll retries")
            return
        self._armed_for = due
        with contextlib.suppress(Exception):
            self._aps.remove_job("wake")
        if due is None:
            return
        from apscheduler.triggers.date import DateTrigger

        # The delay comes from the clock port; APScheduler only sleeps it off in real time.
        delay = max(timedelta(0), due - self.runtime.clock.now())
        if held_since is not None and due <= held_since:
            delay = max(delay, pause)
        # The wake is re-armed from inside the running one, and is due at once when jobs fell due
        # during the run. APScheduler would skip (and drop) it while the running instance counts
        # (max_instances=1; the count drops only after the new wake was looked at), leaving those
        # jobs to the poll a minute later. Runs take turns on the lock, so allow the overlap.
        self._aps.add_job(
            self._wake,
            DateTrigger(run_date=datetime.now(UTC) + delay),
            id="wake",
            misfire_grace_time=None,
            coalesce=True,
            max_instances=2,
        )
