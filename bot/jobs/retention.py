"""The daily retention job: removes or pseudonymises personal data whose period is over."""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.services.retention import RetentionPolicy, RetentionService

if TYPE_CHECKING:
    from bot.services.scheduler import JobRun

log = logging.getLogger(__name__)

JOB_KIND = "datenschutz.retention"
# A run that stopped at its limit comes back after this pause rather than the next day.
AGAIN_AFTER = timedelta(minutes=5)


def job_data(policy: RetentionPolicy, at: tuple[int, int], timezone: str) -> dict[str, Any]:
    """What the job carries: the periods (seconds) and when it runs, so a pending job keeps the
    settings it was scheduled with until the next start writes the current ones."""
    periods = {name: int(value.total_seconds()) for name, value in asdict(policy).items()}
    return {"periods": periods, "hour": at[0], "minute": at[1], "timezone": timezone}


def policy_of(data: dict[str, Any]) -> RetentionPolicy:
    """The periods in ``data``; a missing or broken one takes its default."""
    periods = data.get("periods") or {}
    values: dict[str, timedelta] = {}
    for spec in fields(RetentionPolicy):
        seconds = periods.get(spec.name)
        if isinstance(seconds, int) and seconds > 0:
            values[spec.name] = timedelta(seconds=seconds)
    return RetentionPolicy(**values)


def next_run(data: dict[str, Any], after: datetime) -> datetime:
    """The next daily run time (local time of ``data``'s timezone) after ``after``."""
    zone = ZoneInfo(str(data.get("timezone") or "Europe/Berlin"))
    at = time(int(data.get("hour", 3)), int(data.get("minute", 30)))
    local = after.astimezone(zone)
    candidate = datetime.combine(local.date(), at, zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, zone)
    return candidate.astimezone(after.tzinfo)


async def run_retention(run: JobRun) -> None:
    """Apply the retention periods, then schedule the next run (sooner when more is due)."""
    services = run.unit.services
    data = dict(run.job.data or {})
    result = await RetentionService(run.unit.session, services.clock, policy_of(data)).run()
    # AGs whose grace period after /ag loeschen is over go now, with everything they own.
    deleted = await services.lifecycle.purge_due()
    if deleted:
        log.info("deleted %d AG(s) after their grace period", len(deleted))
        result.counts["ag_geloescht"] = len(deleted)
    if result.total:
        # Counts only: which rows went is nobody's business any more.
        log.info("retention: %s", ", ".join(f"{k} {v}" for k, v in result.counts.items() if v))
    due = run.now + AGAIN_AFTER if result.more else next_run(data, run.now)
    await services.schedule.schedule(JOB_KIND, 0, due, group_id=None, data=data)
