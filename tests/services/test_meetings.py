"""Meeting rules without the chat: notice offsets, the command's parts, the calendar file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil.rrule import rruleset, rrulestr

from bot.core.errors import UserError
from bot.services.calendar import build_calendar, meeting_uid
from bot.services.meetings import parse_offsets, split_meeting
from bot.services.when import WhenError, parse_when
from storage.models import Meeting, MeetingStatus

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d 1h", ("1d", "1h")),
        ("1h 1d", ("1d", "1h")),
        ("2 d, 30m", ("2d", "30m")),
        ("2T 1W", ("1w", "2d")),  # German "Tag", any case
        ("1d 24h", ("1d",)),  # the same time twice
        ("aus", ()),
        ("off", ()),
        ("4w", ("4w",)),
    ],
)
def test_offsets(text: str, expected: tuple[str, ...]) -> None:
    assert parse_offsets(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2x", "meetings.offset_invalid"),
        ("morgen", "meetings.offset_invalid"),
        ("", "meetings.offset_invalid"),
        ("0h", "meetings.offset_range"),
        ("29d", "meetings.offset_range"),
        ("5w", "meetings.offset_range"),
        ("99999w", "meetings.offset_range"),
        ("1m 2m 3m 4m 5m", "meetings.offset_too_many"),
    ],
)
def test_bad_offsets(text: str, key: str) -> None:
    with pytest.raises(UserError) as error:
        parse_offsets(text)
    assert error.value.key == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morgen 18 Uhr: Plenum", ("morgen 18 Uhr", "Plenum", None)),
        ("am 3.12. um 17:30: Klausur | Rathaus, Raum 2", ("am 3.12. um 17:30", "Klausur", "Rathaus, Raum 2")),
        (
            "jeden Dienstag 18 Uhr | Plenum | https://meet.example.org/ag",
            (
                "jeden Dienstag 18 Uhr",
                "Plenum",
                "https://meet.example.org/ag",
            ),
        ),
        ("18:00: Plenum |  ", ("18:00", "Plenum", None)),
    ],
)
def test_split_meeting(text: str, expected: tuple[str, str, str | None]) -> None:
    assert split_meeting(text) == expected


@pytest.mark.parametrize(("text", "key"), [("morgen 18 Uhr", "when.no_text"), (": Plenum", "when.missing")])
def test_split_meeting_refuses(text: str, key: str) -> None:
    with pytest.raises(WhenError) as error:
        split_meeting(text)
    assert error.value.key == key


# The calendar file ---------------------------------------------------------------------------------


def meeting(number: int, text: str, *, location: str | None = None) -> Meeting:
    """An unsaved meeting of AG 7 parsed at NOW, as the service stores one."""
    when = parse_when(text, now=NOW, tz="Europe/Berlin")
    return Meeting(
        id=number * 10,
        group_id=7,
        number=number,
        title=f"Treffen {number}",
        location=location,
        rule=when.rule,
        timezone=when.tz,
        local_start=when.local_start,
        first_start=when.first,
        next_start=when.first,
        status=MeetingStatus.ACTIVE,
    )


def events(data: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def expand(event: icalendar.Event, until: datetime) -> list[datetime]:
    """The occurrences a calendar computes from DTSTART, RRULE and EXDATE (dateutil)."""
    start = event.decoded("dtstart")
    rules = rruleset()
    rules.rrule(rrulestr(event["rrule"].to_ical().decode(), dtstart=start))
    exdates = event.get("exdate")
    for group in exdates if isinstance(exdates, list) else [exdates] if exdates else []:
        for value in group.dts:
            rules.exdate(value.dt)
    return list(rules.between(start - timedelta(seconds=1), until))


def test_calendar_series_with_cancelled_occurrence_across_daylight_saving() -> None:
    weekly = meeting(1, "jeden Dienstag 18 Uhr")
    cancelled = datetime(2026, 12, 1, 18, tzinfo=BERLIN).astimezone(UTC)
    data = build_calendar(
        "AG Bildung", [(weekly, {cancelled})], now=NOW, describe=lambda m: f"Nr. {m.number}"
    )
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["prodid"]) and str(calendar["version"]) == "2.0"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    event = events(data)[meeting_uid(weekly)]
    assert event["dtstart"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=2)
    assert event["rrule"].to_ical() == b"FREQ=WEEKLY;BYDAY=TU"
    assert str(event["description"]) == "Nr. 1"
    assert event["exdate"].params["TZID"] == "Europe/Berlin"

    found = expand(event, datetime(2027, 4, 7, tzinfo=UTC))
    local = [o.astimezone(BERLIN) for o in found]
    assert local[0] == datetime(2026, 11, 24, 18, tzinfo=BERLIN)
    assert datetime(2026, 12, 1, 18, tzinfo=BERLIN) not in local  # the EXDATE
    assert datetime(2026, 12, 8, 18, tzinfo=BERLIN) in local
    # 18:00 on both sides of the start of summer time (28 March 2027): UTC 17:00, then 16:00.
    assert {(o.hour, o.minute) for o in local} == {(18, 0)}
    utc = {o.date().isoformat(): o.astimezone(UTC).hour for o in found}
    assert (utc["2027-03-23"], utc["2027-03-30"]) == (17, 16)
    assert len(found) == 19  # 20 Tuesdays from 24 November to 6 April, one cancelled


def test_calendar_one_off_with_link_and_a_series_that_ends() -> None:
    once = meeting(1, "am 3.12. um 17:30", location="Online: https://meet.example.org/ag-bildung")
    ending = meeting(2, "jeden ersten Dienstag im Monat 19 Uhr bis 31.3.2027")
    data = build_calendar("AG Bildung", [(once, set()), (ending, set())], now=NOW)
    found = events(data)
    event = found[meeting_uid(once)]
    assert event.decoded("dtstart") == datetime(2026, 12, 3, 17, 30, tzinfo=BERLIN)
    assert "rrule" not in event and "exdate" not in event
    assert str(event["url"]) == "https://meet.example.org/ag-bildung"
    assert "meet.example.org" in str(event["location"])
    series = found[meeting_uid(ending)]
    # UNTIL is UTC with a TZID start (RFC 5545): the end of 31 March in Berlin.
    assert series["rrule"]["UNTIL"] == [datetime(2027, 3, 31, 21, 59, 59, tzinfo=UTC)]
    local = [o.astimezone(BERLIN) for o in expand(series, datetime(2028, 1, 1, tzinfo=UTC))]
    assert [o.strftime("%d.%m.%Y %H:%M") for o in local] == [
        "01.12.2026 19:00",
        "05.01.2027 19:00",
        "02.02.2027 19:00",
        "02.03.2027 19:00",
    ]


def test_uids_are_stable_and_distinct() -> None:
    first, second = meeting(1, "jeden Dienstag 18 Uhr"), meeting(2, "jeden Mittwoch 18 Uhr")
    once = build_calendar("AG", [(first, set()), (second, set())], now=NOW)
    again = build_calendar("AG", [(first, set())], now=NOW + timedelta(days=3))
    assert set(events(once)) == {meeting_uid(first), meeting_uid(second)}
    assert set(events(again)) == {meeting_uid(first)}
    assert meeting_uid(first) == "meeting-10.ag-7@kuemmerer.invalid"
