"""The scheduler as a feature: its component and the report of missed items.

Reminders, meetings, polls and surveys register their job functions with ``router.on.job``;
this module owns the one :class:`~bot.services.scheduler.Scheduler` that runs them.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.addressing import privately
from bot.core.i18n import Translator
from bot.core.observers import Runtime, Unit
from bot.core.router import Router
from bot.services.scheduler import DEFAULT_GRACE, Scheduler

router = Router()


@router.on.component("scheduler")
def scheduler(runtime: Runtime) -> Scheduler:
    """The process's scheduler (options ``scheduler.grace``, ``scheduler.timer``)."""
    grace = runtime.options.get("scheduler.grace", DEFAULT_GRACE)
    return Scheduler(
        runtime,
        runtime.observers.jobs,
        report_missed,
        grace=grace if isinstance(grace, timedelta) else DEFAULT_GRACE,
        use_timer=bool(runtime.options.get("scheduler.timer", True)),
    )


@router.on.on_committed
def wake_earlier(runtime: Runtime, signals: list[object]) -> None:
    """New jobs may fall due before the time the scheduler sleeps until."""
    runtime.component("scheduler").changed(signals)


async def report_missed(unit: Unit, group_id: int | None, lines: list[str]) -> None:
    """One list of what was missed while the bot was down, privately to the AG's koordination
    (in the AG's chats when nobody can be written to privately)."""
    if group_id is None:
        return  # private items tell their person themselves
    services = unit.services
    group = await services.groups.repo.get(group_id)
    if group is None:
        return
    tr = Translator(group.language, group.timezone)
    markup = tr.markup("schedule.missed_title", len(lines), name=group.name)
    for line in lines:
        markup.bullet(line)
    coordinators = await services.groups.people.coordinators(group.id)
    await unit.enqueue(privately(coordinators, markup, await services.groups.repo.chats(group.id)))
