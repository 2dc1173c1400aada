"""The calendar file (.ics, RFC 5545) of an AG's meetings, for ``/kalender``.

One VEVENT per meeting: a series keeps its rule (RRULE) with the cancelled occurrences as
EXDATEs, so a calendar shows every future occurrence without the bot listing them; times carry
the AG's TZID with a VTIMEZONE (icalendar's ``add_missing_timezones``), which Thunderbird and
Google Calendar need to keep 18:00 at 18:00 across daylight-saving changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from bot.services.meetings import DURATION
from storage.models import Meeting

PRODID = "-//Kuemmerer//Treffen//DE"
# UIDs must be globally unique and stable across exports, so that importing the file again
# updates the events instead of duplicating them. ".invalid" is reserved (RFC 2606): the suffix
# can never collide with a real domain's UIDs.
UID_DOMAIN = "kuemmerer.invalid"
_URL = re.compile(r"https?://\S+")
# The embedded time zone covers until then at least (icalendar's own default end).
_TZ_UNTIL = date(2038, 1, 1)


def meeting_uid(meeting: Meeting) -> str:
    """The stable UID of a meeting's VEVENT."""
    return f"meeting-{meeting.id}.ag-{meeting.group_id}@{UID_DOMAIN}"


def build_calendar(
    name: str,
    meetings: Iterable[tuple[Meeting, set[datetime]]],
    *,
    now: datetime,
    describe: Callable[[Meeting], str] | None = None,
) -> bytes:
    """The .ics file of meetings.

    Args:
        name: The calendar's name (the AG's), shown by clients that import it as a calendar.
        meetings: Each meeting with its cancelled occurrences (aware UTC starts).
        now: The export's time (DTSTAMP).
        describe: The DESCRIPTION of a meeting's event, if any (in the AG's language).
    """
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    starts: list[date] = []
    for meeting, cancelled in meetings:
        event = _event(meeting, cancelled, now)
        if describe is not None:
            event.add("description", describe(meeting))
        cal.add_component(event)
        starts.append(event.decoded("dtstart").date())
    if starts:
        # From the earliest start on: a VTIMEZONE from 1970 on would be mostly dead weight.
        first = min(starts) - timedelta(days=1)
        cal.add_missing_timezones(
            first_date=first, last_date=max(_TZ_UNTIL, now.date() + timedelta(days=3650))
        )
    return cal.to_ical()


def _event(meeting: Meeting, cancelled: set[datetime], now: datetime) -> icalendar.Event:
    zone = ZoneInfo(meeting.timezone)
    event = icalendar.Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", now.astimezone(UTC))
    # The series is anchored at its local wall time (RRULEs are expanded in local time, like
    # bot/services/when/ does); a one-off at the moment it was understood as.
    start = meeting.local_start.replace(tzinfo=zone) if meeting.rule else meeting.first_start.astimezone(zone)
    event.add("dtstart", start)
    event.add("dtend", start + DURATION)
    event.add("summary", meeting.title)
    # Importing the file again should replace an older copy: each cancellation raises SEQUENCE.
    event.add("sequence", len(cancelled))
    if meeting.location:
        event.add("location", meeting.location)
        link = _URL.search(meeting.location)
        if link is not None:
            event.add("url", link.group(0))
    if meeting.rule:
        rule = icalendar.vRecur.from_ical(meeting.rule)
        if "UNTIL" in rule:
            # RFC 5545: with a TZID start, UNTIL must be UTC; ours is the local end of a day.
            until = rule["UNTIL"][0]
            local_end = datetime.combine(
                until.date() if isinstance(until, datetime) else until, time(23, 59, 59)
            )
            rule["UNTIL"] = [local_end.replace(tzinfo=zone).astimezone(UTC)]
        event.add("rrule", rule)
        if cancelled:
            event.add("exdate", [c.astimezone(zone) for c in sorted(cancelled)])
    return event
