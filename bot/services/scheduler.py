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
sent. Jobs run in batches (one transaction per batch), so a thousand reminders due in the same
minute are out within a fraction of a second. A job function sees the whole batch
(:attr:`JobRun.batch`) and a per-batch cache, so it can load the rows of all its kind's jobs in
one query. Savepoints are for the slow path only: when a job of a batch fails, the batch is rolled
back and run again with a savepoint per job, so one failing job does not take the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.core.events import OutgoingMessage
from bot.core.observers import Runtime, Unit
from bot.services.schedule import JobsChanged
from storage.models import JobStatus, OutboxMessage, ScheduledJob
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
        batch: Every job claimed with this one (this one included), in firing order: a job
            function may load the rows of all jobs of its kind at once.
        cache: Shared by the job functions of one batch run (e.g. what was loaded already).
        outgoing: Messages of :meth:`send`, stored by the scheduler (see there).
    """

    unit: Unit
    job: ScheduledJob
    now: datetime
    grace: timedelta
    _missed: dict[int | None, list[str]] = field(default_factory=dict)
    batch: Sequence[ScheduledJob] = ()
    cache: dict[str, Any] = field(default_factory=dict)
    outgoing: list[OutgoingMessage] = field(default_factory=list)

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

    def send(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send messages like ``unit.enqueue``, for a job that does not need their rows: the
        scheduler stores those of a batch's jobs together, with one statement, when the batch
        ends or something calls ``unit.enqueue`` (so the order of all messages is kept)."""
        self.outgoing.extend(messages)

    def missed(self, group_id: int | None, line: str) -> None:
        """Report an item that was not delivered; the AG's koordination gets one list per run."""
        self._missed.setdefault(group_id, []).append(line)
        self.job.status = JobStatus.MISSED


JobFunction = Callable[[JobRun], Awaitable[None]]
MissedReport = Callable[[Unit, int | None, list[str]], Awaitable[None]]


class _BatchFailed(Exception):
    """A job of a batch run without savepoints failed: roll the batch back, run it job by job."""


class _SendingUnit:
    """The firing unit as job functions see it: ``enqueue`` first stores what
    :meth:`JobRun.send` deferred, so the messages keep the order they were sent in."""

    def __init__(self, unit: Unit, outgoing: list[OutgoingMessage]) -> None:
        self._unit = unit
        self._outgoing = outgoing
        self.session = unit.session
        self.services = unit.services

    def __getattr__(self, name: str) -> Any:
        return getattr(self._unit, name)

    async def enqueue(self, messages: Sequence[OutgoingMessage]) -> list[OutboxMessage]:
        await self.store_deferred()
        return await self._unit.enqueue(messages)

    async def store_deferred(self) -> None:
        """Store the deferred messages (one statement for all)."""
        if self._outgoing:
            messages = list(self._outgoing)
            self._outgoing.clear()
            await self._unit.enqueue(messages)


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
        aps, self._aps = self._aps, None  # from now on nothing re-arms (see _arm)
        if aps is not None:
            aps.remove_all_jobs()
            # A wake already running finishes its run (cancelling it mid-transaction would
            # only roll it back and log an error), then the timer goes.
            async with self._lock:
                pass
            await asyncio.sleep(0)
            aps.shutdown(wait=False)
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

    async def advance_to(
        self, target: datetime, *, settle: Callable[[], Awaitable[None]] | None = None
    ) -> int:
        """Move a movable clock to ``target``, firing everything due in between in order.

        The clock stops at each due time on the way, so each job runs at its own time (not
        late) and sees the clock a real run would see.

        Args:
            target: Where the clock ends.
            settle: Awaited after each stop (e.g. the outbox's ``drain``), so what fired is
                delivered before the clock moves on, as it would be in real time.
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
                if settle is not None:
                    await settle()
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
            try:
                claimed = await self._run_batch(now, missed, guarded=False)
            except _BatchFailed as failure:
                log.debug("scheduler: a job failed (%r); running the batch job by job", failure.__cause__)
                claimed = await self._run_batch(now, missed, guarded=True)
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

    async def _run_batch(
        self, now: datetime, missed: dict[int | None, list[str]], *, guarded: bool
    ) -> list[ScheduledJob]:
        """Claim and run one batch in one transaction.

        Unguarded (the fast path), the jobs run without savepoints and any failure raises
        :class:`_BatchFailed` after the transaction was rolled back (nothing of the batch is
        committed or sent). Guarded, each job runs in a savepoint of its own and a failure costs
        only that job (retried later, or given up).
        """
        lines: dict[int | None, list[str]] = {}
        async with self.runtime.unit() as unit:
            claimed = await JobRepository(unit.session).claim_due(now, self.batch)
            cache: dict[str, Any] = {}
            if guarded:
                for job in claimed:
                    await self._fire(unit, job, now, lines, claimed, cache)
            else:
                await self._fire_batch(unit, claimed, now, lines, cache)
        for group_id, items in lines.items():
            missed.setdefault(group_id, []).extend(items)
        return claimed

    async def _fire_batch(
        self,
        unit: Unit,
        batch: list[ScheduledJob],
        now: datetime,
        missed: dict[int | None, list[str]],
        cache: dict[str, Any],
    ) -> None:
        """The fast path: the batch's jobs without savepoints; raises :class:`_BatchFailed`."""
        outgoing: list[OutgoingMessage] = []
        sending = _SendingUnit(unit, outgoing)
        try:
            for job in batch:
                function = self.jobs.get(job.kind)
                if function is None:
                    raise LookupError(f"no job function for kind {job.kind!r}")
                await function(JobRun(sending, job, now, self.grace, missed, batch, cache, outgoing))
                if job.status is JobStatus.PENDING:
                    job.status = JobStatus.DONE
                job.fired_at = now
            await sending.store_deferred()
            # What the jobs changed is written here, not at the commit: a failing write takes
            # the slow path too, which finds the job it belongs to.
            await unit.session.flush()
        except Exception as error:
            raise _BatchFailed from error

    async def _fire(
        self,
        unit: Unit,
        job: ScheduledJob,
        now: datetime,
        missed: dict[int | None, list[str]],
        batch: list[ScheduledJob],
        cache: dict[str, Any],
    ) -> None:
        function = self.jobs.get(job.kind)
        job_id, kind = job.id, job.kind
        try:
            if function is None:
                raise LookupError(f"no job function for kind {kind!r}")
            # A savepoint per job: a failing job is rolled back alone, the batch goes on.
            async with unit.session.begin_nested():
                outgoing: list[OutgoingMessage] = []
                sending = _SendingUnit(unit, outgoing)
                await function(JobRun(sending, job, now, self.grace, missed, batch, cache, outgoing))
                await sending.store_deferred()
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
