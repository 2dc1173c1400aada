"""The scheduler: due jobs fire once, in order, at their own time; late, missed and failing jobs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import Application
from bot.core.events import ChatRef, OutgoingMessage, Platform
from bot.core.markup import Markup
from bot.core.ports import ManualClock
from bot.core.router import Router
from bot.handlers import build_router
from bot.services.outbox import Outbox
from bot.services.reopen import ReopenGuard
from bot.services.scheduler import JobRun, Scheduler
from storage import Database
from storage.models import JobStatus, OutboxMessage, ScheduledJob
from tests.conftest import BACKENDS
from tests.harness import BotHarness, RecordingMessenger

CHAT = ChatRef(Platform.CONSOLE, "group:ag")


def probe_feature(log: list[tuple[int, datetime, bool, bool]]) -> Router:
    """A feature whose job sends one message per job and records when it ran."""
    router = Router()

    @router.on.job("probe")
    async def probe(run: JobRun) -> None:
        log.append((run.job.ref_id, run.now, run.is_late, run.overdue))
        if run.job.data.get("fail"):
            raise RuntimeError("probe failed")
        if run.overdue:
            run.missed(run.job.group_id, f"probe {run.job.ref_id}")
            return
        message = OutgoingMessage(CHAT, Markup().line(f"probe {run.job.ref_id}"))
        if run.job.data.get("send"):
            run.send([message])  # stored by the scheduler, with those of the batch's other jobs
        else:
            await run.unit.enqueue([message])

    return router


def make_app(database: Database, clock: ManualClock, guard: ReopenGuard, log: list, **options) -> Application:
    router = build_router()
    router.include(probe_feature(log))
    outbox = Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep)
    return Application(
        database,
        clock=clock,
        outbox=outbox,
        router=router,
        options={"reopen.guard": guard, "scheduler.timer": False, **options},
    )


@pytest.fixture
async def probe_bot(
    database: Database, clock: ManualClock, messenger: RecordingMessenger, guard: ReopenGuard
) -> AsyncIterator[tuple[BotHarness, list]]:
    log: list = []
    app = make_app(database, clock, guard, log)
    app.attach(messenger)
    yield BotHarness(app, messenger), log
    await app.stop()


async def schedule(app: Application, ref_id: int, due: datetime, **data) -> None:
    async with app.unit() as unit:
        await unit.services.schedule.schedule("probe", ref_id, due, group_id=None, data=data or None)


async def test_due_jobs_fire_in_order_each_at_its_own_time(probe_bot) -> None:
    bot, log = probe_bot
    start = bot.app.clock.now()
    for ref_id, minutes in [(3, 90), (1, 10), (2, 30), (4, 60 * 24 * 3)]:
        await schedule(bot.app, ref_id, start + timedelta(minutes=minutes))
    sent = await bot.advance(timedelta(hours=2))
    assert [m.markup.plain() for m in sent] == ["probe 1", "probe 2", "probe 3"]
    assert [(ref, at - start) for ref, at, _, _ in log] == [
        (1, timedelta(minutes=10)),
        (2, timedelta(minutes=30)),
        (3, timedelta(minutes=90)),
    ]
    assert not any(late for _, _, late, _ in log)
    assert bot.app.clock.now() == start + timedelta(hours=2)
    # Fired once: nothing more when time moves on, until the last one is due.
    assert await bot.advance(timedelta(hours=1)) == []
    assert [m.markup.plain() for m in await bot.advance(timedelta(days=3))] == ["probe 4"]


async def test_late_and_overdue_jobs(probe_bot, clock: ManualClock) -> None:
    bot, log = probe_bot
    now = clock.now()
    await schedule(bot.app, 1, now - timedelta(minutes=1))
    await schedule(bot.app, 2, now - timedelta(hours=3))
    await schedule(bot.app, 3, now - timedelta(hours=7))
    assert await bot.app.component("scheduler").run_due() == 3
    flags = {ref: (late, overdue) for ref, _, late, overdue in log}
    assert flags == {1: (False, False), 2: (True, False), 3: (True, True)}
    statuses = {j.ref_id: j.status for j in await bot.rows(ScheduledJob)}
    assert statuses == {1: JobStatus.DONE, 2: JobStatus.DONE, 3: JobStatus.MISSED}


async def test_a_failing_job_is_retried_then_given_up_others_go_on(probe_bot, clock: ManualClock) -> None:
    bot, log = probe_bot
    await schedule(bot.app, 1, clock.now(), fail=True)
    await schedule(bot.app, 2, clock.now())
    await bot.app.component("scheduler").run_due()
    await bot.settle()
    assert [m.markup.plain() for m in bot.messenger.sent] == ["probe 2"]
    [failing] = await bot.rows(ScheduledJob, ScheduledJob.ref_id == 1)
    assert failing.status is JobStatus.PENDING and failing.attempts == 1
    await bot.advance(timedelta(hours=1))
    [failing] = await bot.rows(ScheduledJob, ScheduledJob.ref_id == 1)
    assert failing.status is JobStatus.FAILED and failing.attempts == 5
    # Five attempts (each runs the job twice: in its batch, then alone in a savepoint).
    assert len({at for ref, at, *_ in log if ref == 1}) == 5


async def test_a_failing_job_in_a_batch_costs_only_itself(probe_bot, clock: ManualClock) -> None:
    """The batch runs without savepoints; a failure rolls it back and runs it job by job, so
    the others are fired (and their messages stored) exactly once."""
    bot, log = probe_bot
    for ref_id, data in [
        (1, {"send": True}),
        (2, {"send": True, "fail": True}),
        (3, {}),
        (4, {"send": True}),
    ]:
        await schedule(bot.app, ref_id, clock.now(), **data)
    assert await bot.app.component("scheduler").run_due() == 4
    await bot.settle()
    assert [m.markup.plain() for m in bot.messenger.sent] == ["probe 1", "probe 3", "probe 4"]
    assert len(await bot.rows(OutboxMessage)) == 3
    statuses = {j.ref_id: (j.status, j.attempts) for j in await bot.rows(ScheduledJob)}
    assert statuses == {
        1: (JobStatus.DONE, 0),
        2: (JobStatus.PENDING, 1),
        3: (JobStatus.DONE, 0),
        4: (JobStatus.DONE, 0),
    }
    # Without failures the same batch runs once, each job once.
    log.clear()
    for ref_id, data in [(5, {"send": True}), (6, {}), (7, {"send": True})]:
        await schedule(bot.app, ref_id, clock.now() + timedelta(seconds=1), **data)
    await bot.advance(timedelta(seconds=1))
    assert [ref for ref, *_ in log] == [5, 6, 7]
    assert [m.markup.plain() for m in bot.messenger.sent][-3:] == ["probe 5", "probe 6", "probe 7"]


async def test_pending_jobs_survive_a_restart_and_fire_once(
    database: Database, clock: ManualClock, messenger: RecordingMessenger, guard: ReopenGuard
) -> None:
    log: list = []
    first = make_app(database, clock, guard, log)
    first.attach(messenger)
    await schedule(first, 1, clock.now() + timedelta(minutes=5))
    await first.stop()
    clock.advance(timedelta(minutes=10))  # the bot was down when it fell due
    second = make_app(database, clock, guard, log)
    second.attach(messenger)
    await second.resume()  # start: catch up
    await second.drain()
    assert [m.markup.plain() for m in messenger.sent] == ["probe 1"]
    await second.component("scheduler").run_due()
    await second.stop()
    assert len(log) == 1 and log[0][2] is True  # late, within grace


async def test_the_timer_is_armed_for_the_earliest_job_and_rearmed_by_commits(probe_bot, clock) -> None:
    bot, _ = probe_bot
    scheduler: Scheduler = bot.app.component("scheduler")
    scheduler.use_timer = True
    await schedule(bot.app, 1, clock.now() + timedelta(days=2))
    await scheduler.start()
    try:
        assert scheduler.armed_for == clock.now() + timedelta(days=2)
        await schedule(bot.app, 2, clock.now() + timedelta(hours=1))
        await scheduler.drain()
        assert scheduler.armed_for == clock.now() + timedelta(hours=1)
        wake = scheduler._aps.get_job("wake")
        delay = wake.next_run_time - datetime.now(UTC)
        assert timedelta(minutes=59) < delay <= timedelta(hours=1)
    finally:
        await scheduler.stop()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs KUEMMERER_TEST_DATABASE_URL")
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_two_schedulers_racing_fire_each_job_exactly_once(
    database: Database, clock: ManualClock, guard: ReopenGuard
) -> None:
    """Two bot processes on one PostgreSQL database, 1,000 jobs due at once."""
    log_a: list = []
    log_b: list = []
    second_db = Database(database.url)
    try:
        a = make_app(database, clock, guard, log_a)
        b = make_app(second_db, clock, guard, log_b)
        async with a.unit() as unit:
            for ref_id in range(1000):
                await unit.services.schedule.schedule("probe", ref_id, clock.now(), group_id=None)
        # Small batches make the two interleave many times.
        a.component("scheduler").batch = 25
        b.component("scheduler").batch = 25
        ran = await asyncio.gather(a.component("scheduler").run_due(), b.component("scheduler").run_due())
        assert sum(ran) == 1000 and min(ran) > 0, ran
        async with database.transaction() as session:
            texts = list(await session.scalars(select(OutboxMessage.payload)))
            done = await session.scalar(
                select(func.count()).select_from(ScheduledJob).where(ScheduledJob.status == JobStatus.DONE)
            )
        assert len(texts) == 1000 and done == 1000
        refs = sorted(ref for ref, *_ in log_a + log_b)
        assert refs == list(range(1000))
    finally:
        await second_db.dispose()
