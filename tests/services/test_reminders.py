"""Reminders across restarts: pending ones survive and fire once; what fell due while the bot was
down is delivered late within the grace period and reported as missed beyond it (one-offs to the
AG's koordination, once; series skip to their next time and say how many were missed; private
reminders tell their person). Also the service's firing arithmetic on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import Application
from bot.core.events import ChatKind, ChatRef, Platform
from bot.core.ports import ManualClock
from bot.jobs.retention import JOB_KIND as RETENTION_JOB
from bot.services.outbox import Outbox
from bot.services.reminders import JOB_KIND, ReminderService
from bot.services.reopen import ReopenGuard
from bot.services.schedule import ScheduleService
from storage import Database
from storage.models import JobStatus, Person, Reminder, ReminderStatus, ScheduledJob
from tests.harness import BotHarness, RecordingMessenger

BERLIN = ZoneInfo("Europe/Berlin")
GROUP = "group:ag"


def berlin(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Berlin wall time in November 2026 (winter time), as aware UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def make_app(database: Database, clock: ManualClock, guard: ReopenGuard) -> Application:
    outbox = Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep)
    return Application(
        database,
        clock=clock,
        outbox=outbox,
        options={"reopen.guard": guard, "scheduler.timer": False},
    )


Restart = Callable[[], Awaitable[BotHarness]]


@pytest.fixture
async def run(
    database: Database, clock: ManualClock, messenger: RecordingMessenger, guard: ReopenGuard
) -> AsyncIterator[tuple[BotHarness, Restart]]:
    """A bot, and a function that stops it and starts a new process on the same database."""
    apps: list[Application] = []

    def start() -> BotHarness:
        app = make_app(database, clock, guard)
        app.attach(messenger)
        apps.append(app)
        return BotHarness(app, messenger)

    async def restart() -> BotHarness:
        await apps[-1].stop()
        bot = start()
        await bot.app.resume()  # the scheduler catches up here
        await bot.settle()
        return bot

    yield start(), restart
    await apps[-1].stop()


def texts(messages: list, chat: str | None = None) -> list[str]:
    return [m.markup.plain() for m in messages if chat is None or m.chat.external_id == chat]


async def set_up(bot: BotHarness) -> None:
    """AG Bildung in chat "ag": anna coordinates, mia is a member."""
    await bot.setup_group()
    await bot.send("Hallo", user="mia")


# --------------------------------------------------------------------------------------------
# Restarts


async def test_pending_reminders_survive_a_restart_and_fire_once(run, clock: ManualClock) -> None:
    bot, restart = run
    await set_up(bot)
    await bot.say("/erinnerung in 10 Minuten: Kaffee")
    await bot.say("/erinnerung täglich 18 Uhr: Abendrunde")
    clock.advance(timedelta(minutes=5))
    bot = await restart()  # nothing due yet
    assert texts(await bot.advance(timedelta(minutes=5)), GROUP) == ["⏰ Erinnerung: Kaffee"]
    clock.advance(timedelta(minutes=1))
    before = len(bot.messenger.sent)
    bot = await restart()
    bot = await restart()
    assert len(bot.messenger.sent) == before  # restarts send nothing again
    sent = await bot.advance(to=berlin(21, 18))
    assert texts(sent, GROUP) == ["⏰ Erinnerung: Abendrunde\nNächste: So 22.11., 18:00"]
    assert (
        await bot.count(
            ScheduledJob, ScheduledJob.status == JobStatus.PENDING, ScheduledJob.kind != RETENTION_JOB
        )
        == 1
    )


async def test_down_two_hours_delivers_late_with_a_note(run, clock: ManualClock) -> None:
    bot, restart = run
    await set_up(bot)
    await bot.say("/erinnerung heute 18 Uhr: Protokoll schicken")
    await bot.say("/erinnerung täglich 18 Uhr: Abendrunde")
    await bot.say("/erinnerung heute 18 Uhr: Tee", user="mia", chat="mia", private=True)
    clock.set(berlin(21, 20))  # the bot was down from before 18:00 until 20:00
    bot = await restart()
    assert texts(bot.messenger.sent, GROUP)[-2:] == [
        "⏰ Erinnerung: Protokoll schicken\n(verspätet, fällig war 18:00)",
        "⏰ Erinnerung: Abendrunde\n(verspätet, fällig war 18:00)\nNächste: So 22.11., 18:00",
    ]
    assert texts(bot.messenger.sent, "id-mia")[-1] == "⏰ Erinnerung: Tee\n(verspätet, fällig war 18:00)"
    assert bot.sent_to("anna") == []  # nothing missed, nothing to report
    # The series goes on at its time, on time.
    sent = await bot.advance(to=berlin(22, 18))
    assert texts(sent, GROUP) == ["⏰ Erinnerung: Abendrunde\nNächste: Mo 23.11., 18:00"]


async def test_late_after_midnight_names_the_day(run, clock: ManualClock) -> None:
    bot, restart = run
    await set_up(bot)
    await bot.say("/erinnerung heute 23 Uhr: Licht aus")
    clock.set(berlin(22, 1))
    bot = await restart()
    assert texts(bot.messenger.sent, GROUP)[-1] == (
        "⏰ Erinnerung: Licht aus\n(verspätet, fällig war Sa 21.11., 23:00)"
    )


async def test_down_eight_hours_reports_missed_items_to_the_koordination_once(
    run, clock: ManualClock
) -> None:
    bot, restart = run
    await set_up(bot)
    await bot.say("/erinnerung heute 12 Uhr: Raum buchen", user="mia")
    await bot.say("/erinnerung täglich 12 Uhr: Mittagsrunde")
    await bot.say("/erinnerung heute 12 Uhr: Zahnarzt", user="mia", chat="mia", private=True)
    group_before = len(texts(bot.messenger.sent, GROUP))
    clock.set(berlin(21, 20))  # 8 hours after 12:00
    bot = await restart()
    assert len(texts(bot.messenger.sent, GROUP)) == group_before  # not sent to the group
    [report] = texts(bot.sent_to("anna"))
    assert report == "\n".join(
        [
            "⚠️ AG Bildung: Während ich offline war, sind 2 Termine ausgefallen:",
            "• Erinnerung Nr. 1 (fällig war Sa 21.11., 12:00): Raum buchen",
            "• Erinnerung Nr. 2 (täglich um 12:00): 1 Termin ausgefallen, nächste: So 22.11., 12:00 – "
            "Mittagsrunde",
        ]
    )
    # The private one is told to its person, not to the koordination.
    assert texts(bot.messenger.sent, "id-mia")[-1] == "\n".join(
        [
            "⚠️ Während ich offline war, ist deine Erinnerung ausgefallen:",
            "• Erinnerung Nr. 1 (fällig war Sa 21.11., 12:00): Zahnarzt",
        ]
    )
    statuses = {(r.chat_kind, r.number): r.status for r in await bot.rows(Reminder)}
    assert statuses == {
        ("group", 1): ReminderStatus.MISSED,
        ("group", 2): ReminderStatus.ACTIVE,
        ("private", 1): ReminderStatus.MISSED,
    }
    assert await bot.count(ScheduledJob, ScheduledJob.status == JobStatus.MISSED) == 3
    # Listed once: another restart reports nothing; the series fires on time tomorrow.
    bot = await restart()
    assert len(texts(bot.sent_to("anna"))) == 1
    sent = await bot.advance(to=berlin(22, 12))
    assert texts(sent) == ["⏰ Erinnerung: Mittagsrunde\nNächste: Mo 23.11., 12:00"]
    assert len(texts(bot.sent_to("anna"))) == 1


async def test_after_days_down_a_series_delivers_its_latest_time_and_counts_the_rest(
    run, clock: ManualClock
) -> None:
    bot, restart = run
    await set_up(bot)
    await bot.say("/erinnerung täglich 18 Uhr: Abendrunde")
    clock.set(berlin(25, 19))  # Saturday 18:00 … Wednesday 18:00 fell due; 18:00 today is in grace
    bot = await restart()
    assert texts(bot.messenger.sent, GROUP)[-1] == "\n".join(
        [
            "⏰ Erinnerung: Abendrunde",
            "(verspätet, fällig war 18:00)",
            "(4 Termine davor sind ausgefallen, während ich offline war.)",
            "Nächste: Do 26.11., 18:00",
        ]
    )
    assert bot.sent_to("anna") == []
    [reminder] = await bot.rows(Reminder)
    assert reminder.fired_count == 1 and reminder.next_due == berlin(26, 18)


async def test_a_series_that_ended_while_the_bot_was_down(run, clock: ManualClock) -> None:
    bot, restart = run
    await set_up(bot)
    await bot.say("/erinnerung täglich 9 Uhr bis 23.11.2026: Kaffee")
    clock.set(berlin(24, 12))
    bot = await restart()
    [report] = texts(bot.sent_to("anna"))
    assert (
        "Erinnerung Nr. 1 (täglich um 09:00 bis 23.11.2026): 2 Termine ausgefallen, die Reihe ist zu Ende"
        in (report)
    )
    [reminder] = await bot.rows(Reminder)
    assert reminder.status is ReminderStatus.MISSED and reminder.next_due is None
    assert (
        await bot.count(
            ScheduledJob, ScheduledJob.status == JobStatus.PENDING, ScheduledJob.kind != RETENTION_JOB
        )
        == 0
    )


async def test_a_deleted_reminder_whose_job_fires_anyway_sends_nothing(run) -> None:
    """A job left over (say, committed by a firing while the reminder was deleted) is a no-op."""
    bot, _ = run
    await set_up(bot)
    await bot.say("/erinnerung in 10 Minuten: Kaffee")
    async with bot.app.unit() as unit:
        [reminder] = await unit.session.scalars(select(Reminder))
        reminder.status = ReminderStatus.DELETED  # behind the service's back: the job stays
    assert await bot.advance(timedelta(hours=1)) == []
    [job] = await bot.rows(ScheduledJob)
    assert job.status is JobStatus.DONE


# --------------------------------------------------------------------------------------------
# The service on its own


async def test_fire_advances_a_series_and_closes_a_one_off(session, clock: ManualClock) -> None:
    service = ReminderService(session, clock, ScheduleService(session, clock))
    person = Person(
        platform="console", external_id="p", display_name="P", first_seen=clock.now(), last_seen=clock.now()
    )
    session.add(person)
    await session.flush()
    chat = ChatRef(Platform.CONSOLE, "private:p", ChatKind.PRIVATE)
    series, _ = await service.create(
        chat=chat,
        owner=person,
        group=None,
        when_text="werktags 8 Uhr",
        text="Kaffee",
        language="de",
        timezone="Europe/Berlin",
    )
    once, _ = await service.create(
        chat=chat,
        owner=person,
        group=None,
        when_text="morgen 8 Uhr",
        text="Zug",
        language="de",
        timezone="Europe/Berlin",
    )
    assert (series.number, once.number) == (1, 2)
    grace = timedelta(hours=6)
    # Monday 8:00 on time: delivered, next Tuesday 8:00.
    firing = await service.fire(series.id, now=berlin(23, 8), grace=grace)
    assert firing is not None and firing.deliver and not firing.late and firing.missed == 0
    assert firing.next_due == berlin(24, 8) and series.fired_count == 1
    # Early (not due yet): nothing.
    assert await service.fire(series.id, now=berlin(24, 7), grace=grace) is None
    # The one-off (Sunday 8:00), 7 hours late: missed and closed.
    firing = await service.fire(once.id, now=berlin(22, 15), grace=grace)
    assert firing is not None and not firing.deliver and firing.missed == 1 and firing.next_due is None
    assert once.status is ReminderStatus.MISSED
    assert await service.fire(once.id, now=berlin(22, 16), grace=grace) is None
    jobs = await service.schedule.pending(JOB_KIND, series.id)
    # The scheduler, not the service, closes the job that fired; the service added the next one.
    assert [job.due_at for job in jobs] == [berlin(23, 8), berlin(24, 8)]
