"""The values of the time grammar: what an understood time is, and when it happens.

:class:`When` is the result of :func:`~bot.services.when.parse_when`: the first moment (aware
UTC) and, for a series, an RFC 5545 RRULE anchored to a naive local start. :class:`RuleSummary`
is the rule taken apart (for describing it in words, and the only writer and reader of the RRULE
strings this package produces). :class:`WhenError` is what a person is told when a time cannot
be used.

Who does what: **python-dateutil's rrule** computes the occurrences of a rule
(:meth:`When.next_after`) in local wall time, which is what keeps "jeden Dienstag 18 Uhr" at
18:00 across the changes of daylight saving time; :mod:`zoneinfo` converts each occurrence to
UTC (:func:`_to_utc`, with PEP 495's ``fold=0`` for the spring gap and the autumn repeat).
Nothing here parses text; everything is pure (no database, no clock, no I/O).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.errors import UserError

DEFAULT_TIME = time(9, 0)
"""The time of a date given without one ("morgen", "am 3.12.", "Ende des Monats")."""

MAX_YEARS = 10
"""How far ahead a time may lie; further is a typo (and would overflow ``datetime`` soon after)."""

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
"""RRULE weekday codes, indexed like :meth:`datetime.weekday` (0 = Monday)."""

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")

# Default times of the parts of the day. "früh"/"morgens" is 8:00, not 9:00: someone who says
# "früh" means before the working day starts, and 9:00 is already the default for a bare date.
PART_TIMES = {
    "morning": time(8, 0),
    "forenoon": time(10, 0),
    "noon": time(12, 0),
    "afternoon": time(15, 0),
    "evening": time(19, 0),
    "night": time(22, 0),
}

# Longest time the occurrences of a rule are searched back from a moment: a wall time in the
# spring gap is shifted forward by the gap, so an occurrence "before" the moment in wall time may
# lie after it in UTC. Gaps are one hour in Europe; a day covers every zone there has been.
_GAP_SLACK = timedelta(days=1)


class WhenError(UserError):
    """A time expression that cannot be used; ``key`` names the catalog message.

    Keys and their placeholders (every message shows two examples):

    - ``when.unknown`` (``text``): not understood (also empty).
    - ``when.missing`` (): :func:`split_when` found a text but no time before the separator.
    - ``when.no_text`` (): :func:`split_when` found no text after ``<wann>:``.
    - ``when.past`` (``text``, ``when``): a one-off time that has already passed; ``when`` is the
      understood time, formatted in the AG's language and timezone.
    - ``when.impossible`` (``text``): a date or time that does not exist ("30.2.", "25 Uhr").
    - ``when.ambiguous`` (``text``, ``morning``, ``evening``): a bare hour ("um 6") that could be
      either; ``morning``/``evening`` are the two readings as times ("06:00", "18:00").
    - ``when.weekday_mismatch`` (``text``, ``date``, ``weekday``): a weekday and a date that do not
      agree ("Mittwoch, 3.12.2026"); ``weekday`` is the date's real weekday.
    - ``when.until_one_off`` (``text``): "bis …" after a time that does not repeat.
    - ``when.until_before_start`` (``until``, ``first``): the end of a series lies before its
      first occurrence (both formatted).
    - ``when.too_far`` (``text``, ``years``): more than :data:`MAX_YEARS` ahead.

    Attributes:
        moment: For ``when.past`` the understood moment (aware UTC), for callers that format it
            themselves; otherwise ``None``.
    """

    def __init__(self, key: str, *, moment: datetime | None = None, **params: Any) -> None:
        super().__init__(key, **params)
        self.moment = moment


class _NotUnderstood(Exception):
    """The text is not in this language's grammar (try the other one, then ``when.unknown``)."""


@dataclass(frozen=True)
class RuleSummary:
    """The parts of a recurrence rule, for describing it in words without re-parsing the RRULE.

    Attributes:
        freq: ``DAILY``, ``WEEKLY``, ``MONTHLY`` or ``YEARLY``.
        interval: Every how many days/weeks/months/years (``alle 2 Wochen`` → 2).
        weekdays: Weekdays (0 = Monday) of a weekly rule, or the one weekday of a monthly
            ``setpos`` rule.
        setpos: Which of the month's ``weekdays[0]`` (1–5, or -1 for the last, -2 for the one
            before): ``jeden ersten Dienstag im Monat`` → 1 (``BYDAY=1TU``).
        monthday: Day of the month (1–31, or -1 for the last day) of a monthly or yearly rule.
        month: Month (1–12) of a yearly rule.
        until: Last local day of the series (inclusive), if it ends.
        local_time: The local wall-clock time of every occurrence.
    """

    freq: str
    local_time: time
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    setpos: int | None = None
    monthday: int | None = None
    month: int | None = None
    until: date | None = None

    @property
    def workdays(self) -> bool:
        """Monday to Friday every week (``werktags``)."""
        return self.freq == "WEEKLY" and self.interval == 1 and self.weekdays == (0, 1, 2, 3, 4)

    @property
    def skips(self) -> bool:
        """Some months (or years) have no occurrence: ``monatlich am 31.``, the fifth Tuesday,
        the 29 February. RFC 5545 skips them rather than moving to another day, and so do we;
        the confirmation should say so."""
        return (
            (self.monthday is not None and self.monthday > 28)
            or (self.setpos is not None and self.setpos == 5)
            or (self.month == 2 and self.monthday == 29)
        )

    def to_rrule(self) -> str:
        """The RRULE value (without ``RRULE:``), parts in a fixed order; ``UNTIL`` is local
        (floating) like the start it belongs to, 23:59:59 of the last day."""
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.month is not None:
            parts.append(f"BYMONTH={self.month}")
        if self.monthday is not None:
            parts.append(f"BYMONTHDAY={self.monthday}")
        if self.weekdays:
            prefix = str(self.setpos) if self.setpos is not None else ""
            parts.append("BYDAY=" + ",".join(prefix + WEEKDAY_CODES[d] for d in self.weekdays))
        if self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}T235959")
        return ";".join(parts)

    @classmethod
    def from_rrule(cls, rule: str, local_time: time) -> RuleSummary:
        """Read back a rule written by :meth:`to_rrule` (as stored with a reminder).

        Raises:
            ValueError: The rule uses parts this module never writes.
        """
        fields = dict(part.split("=", 1) for part in rule.removeprefix("RRULE:").split(";") if part)
        known = {"FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "UNTIL"}
        if not fields.keys() <= known or fields.get("FREQ") not in FREQUENCIES:
            raise ValueError(f"unsupported RRULE {rule!r}")
        weekdays: list[int] = []
        setpos = None
        for day in filter(None, fields.get("BYDAY", "").split(",")):
            match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", day)
            if match is None:
                raise ValueError(f"unsupported BYDAY {day!r}")
            weekdays.append(WEEKDAY_CODES.index(match.group(2)))
            setpos = int(match.group(1)) if match.group(1) else None
        until = fields.get("UNTIL")
        return cls(
            freq=fields["FREQ"],
            local_time=local_time,
            interval=int(fields.get("INTERVAL", 1)),
            weekdays=tuple(weekdays),
            setpos=setpos,
            monthday=int(fields["BYMONTHDAY"]) if "BYMONTHDAY" in fields else None,
            month=int(fields["BYMONTH"]) if "BYMONTH" in fields else None,
            until=datetime.strptime(until[:8], "%Y%m%d").date() if until else None,
        )


@dataclass(frozen=True)
class When:
    """An understood time: once, or a series.

    Store ``first``, ``rule``, ``tz`` and ``local_start``; constructing a ``When`` from them gives
    back the same occurrences.

    Attributes:
        first: The first occurrence (aware UTC), strictly after the ``now`` it was parsed at.
        rule: RFC 5545 RRULE value (``FREQ=WEEKLY;BYDAY=TU``) in local wall time, or ``None``.
        tz: IANA timezone the rule's wall times are in.
        local_start: Naive local start the rule is anchored to (its first occurrence as written,
            even when that wall time does not exist and ``first`` was shifted forward).
        time_given: The person named a time; ``False`` when :data:`DEFAULT_TIME` (or the
            caller's default) was used, e.g. for "morgen" or "am 3.12.".
    """

    first: datetime
    rule: str | None
    tz: str
    local_start: datetime
    time_given: bool = True

    def __post_init__(self) -> None:
        if self.first.tzinfo is None or self.local_start.tzinfo is not None:
            raise ValueError("first must be aware, local_start naive")

    @cached_property
    def zone(self) -> ZoneInfo:
        """The timezone as a :class:`~zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.tz)

    @property
    def is_recurring(self) -> bool:
        """Whether there is more than one occurrence (a rule)."""
        return self.rule is not None

    @property
    def local_first(self) -> datetime:
        """The first occurrence as an aware datetime in the AG's timezone."""
        return self.first.astimezone(self.zone)

    @property
    def weekday(self) -> int:
        """Local weekday of the first occurrence (0 = Monday)."""
        return self.local_first.weekday()

    @cached_property
    def summary(self) -> RuleSummary | None:
        """The rule's parts for describing it in words; ``None`` for a one-off."""
        if self.rule is None:
            return None
        return RuleSummary.from_rrule(self.rule, self.local_start.time())

    @cached_property
    def _rrule(self) -> Any:
        from dateutil.rrule import rrulestr

        return rrulestr(self.rule, dtstart=self.local_start, cache=True)

    def next_after(self, moment: datetime) -> datetime | None:
        """The next occurrence strictly after ``moment`` (aware), as aware UTC; ``None`` when
        there is none (a one-off that is over, a series past its ``UNTIL``).

        Occurrences are generated in local wall time and then converted, so the clock time
        stays the same across daylight-saving changes. A wall time that does not exist (the
        spring gap) is shifted forward by the gap (2:30 → 3:30); one that exists twice (autumn)
        is the first of the two (``fold=0``).
        """
        if moment.tzinfo is None:
            raise ValueError("moment must be aware")
        if self.rule is None:
            return self.first if self.first > moment else None
        # Search from a little earlier in wall time: see _GAP_SLACK.
        cursor = moment.astimezone(self.zone).replace(tzinfo=None) - _GAP_SLACK
        while True:
            candidate = self._rrule.after(cursor)
            if candidate is None:
                return None
            utc = _to_utc(candidate, self.zone)
            if utc > moment:
                return utc
            cursor = candidate

    def occurrences(self, n: int, after: datetime | None = None) -> list[datetime]:
        """Up to ``n`` occurrences (aware UTC) strictly after ``after``, or from ``first`` on.

        The confirmation of a recurring time shows ``occurrences(3)``.
        """
        found: list[datetime] = []
        moment = after if after is not None else self.first - timedelta(microseconds=1)
        while len(found) < n:
            nxt = self.next_after(moment)
            if nxt is None:
                break
            found.append(nxt)
            moment = nxt
        return found


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall time as aware UTC.

    ``fold=0`` is what PEP 495 defines for both odd cases, and what we want: an ambiguous time
    (autumn) is its first occurrence (summer time), and a nonexistent one (spring gap) gets the
    offset from before the change, which lands it as far after the gap's start as it was
    written (2:30 → 3:30 summer time).
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)
