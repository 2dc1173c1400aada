"""When things happen: the time grammar of reminders, meetings, poll deadlines and date answers.

``parse_when("jeden Dienstag 18 Uhr", now=..., tz="Europe/Berlin")`` turns what a person typed
into a :class:`When`: the first moment (aware UTC) and, for recurring ones, an RFC 5545 RRULE
anchored to a naive local start. Everything here is pure: no database, no clock, no I/O.

Who does what:

- **Our own small grammar** (the regular expressions below) reads everything structured: times
  ("18 Uhr", "18:30", "18.30 Uhr", "18h", "6pm"), parts of the day ("heute Abend", "übermorgen
  früh"), relative days and offsets ("morgen", "in 2 Stunden", "in einer Woche"), weekdays
  ("Freitag", "nächsten Montag"), numeric and month-name dates ("am 3.12.", "3.12.2026",
  "3. Dezember", "1 March"), "Ende des Monats", and every recurrence ("jeden ersten Dienstag im
  Monat", "alle 2 Wochen freitags", "monatlich am 15.", "bis 31.3.2027"). dateparser gets
  German relative weekdays and "morgen 18 Uhr" wrong (it reads "Freitag 9 Uhr" as the 9th of the
  month and drops the hour of "morgen 18 Uhr"), and it cannot tell an impossible date ("30.2.")
  from an unknown one, so none of these go through it.
- **dateparser** is the fallback for free-form absolute dates the grammar does not know
  ("3/12/2026", "03-Dec-2026", "Thursday, December the 3rd, 2026"): it gets only what is left
  after the grammar took the time, only when that is made of numbers and month or weekday names
  (it silently drops words it does not know), and its answer counts only when it has a day and a
  month (``REQUIRE_PARTS``).
- **python-dateutil's rrule** computes the occurrences of a rule (:meth:`When.next_after`) in
  local wall time, which is what keeps "jeden Dienstag 18 Uhr" at 18:00 across the changes of
  daylight saving time; :mod:`zoneinfo` converts each occurrence to UTC. Its ``relativedelta``
  does the calendar arithmetic of "in 2 Monaten" (31 January + 1 month = 28/29 February).

Both languages are always understood: the AG's language is tried first, the other one when the
first does not understand the text (so "tomorrow 6pm" also works in a German AG). Numeric dates
are day first (3.12.2026) in both.
"""

from __future__ import annotations

import calendar
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.core.errors import UserError
from bot.services.text import fold

__all__ = [
    "DEFAULT_TIME",
    "MAX_YEARS",
    "WEEKDAY_CODES",
    "RuleSummary",
    "When",
    "WhenError",
    "parse_when",
    "split_when",
]

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


# --------------------------------------------------------------------------------------------
# Splitting "<wann>: <Text>"


def split_when(text: str) -> tuple[str, str]:
    """Split ``"<wann>: <Text>"`` (or ``"<wann> | <Text>"``) into the time and the text.

    The first ``|`` separates if there is one; otherwise the first colon that is not inside a
    time like ``17:30``, so ``"am 3.12. um 17:30: Sitzung vorbereiten"`` gives
    ``("am 3.12. um 17:30", "Sitzung vorbereiten")``.

    Raises:
        WhenError: ``when.no_text`` without a separator or text after it; ``when.missing``
            when nothing stands before it.
    """
    if "|" in text:
        head, _, tail = text.partition("|")
    else:
        match = next((m for m in re.finditer(":", text) if not _inside_time(text, m.start())), None)
        if match is None:
            raise WhenError("when.no_text")
        head, tail = text[: match.start()], text[match.end() :]
    head, tail = head.strip(), tail.strip()
    if not tail:
        raise WhenError("when.no_text")
    if not head:
        raise WhenError("when.missing")
    return head, tail


def _inside_time(text: str, index: int) -> bool:
    # A colon between two digits belongs to a time ("17:30"); any other colon separates.
    return 0 < index < len(text) - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()


# --------------------------------------------------------------------------------------------
# The grammar: vocabularies and patterns per language, applied to folded text (casefolded,
# ä → ae, ß → ss, accents dropped, single spaces), so "Nächsten", "naechsten" and "nächsten" match.


@dataclass(frozen=True)
class _Words:
    """What one language calls things; the patterns are built from it."""

    weekdays: dict[str, int]
    weekdays_plural: dict[str, int]
    months: dict[str, int]
    numbers: dict[str, int]
    ordinals: dict[str, int]
    days: dict[str, int]  # heute/morgen/übermorgen → offset in days
    parts: dict[str, str]  # words for parts of the day → PART_TIMES key
    units: dict[str, str]  # unit words → relativedelta field
    fillers: frozenset[str]


def _alt(words: dict[str, Any] | frozenset[str]) -> str:
    # Longest first, so "uebermorgen" wins over "morgen" and "sept" over "sep".
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# The vocabularies are tables; one entry per line would make them ten times as long.
# fmt: off
_DE = _Words(
    weekdays={
        "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5,
        "sonnabend": 5, "sonntag": 6, "mo": 0, "di": 1, "mi": 2, "do": 3, "fr": 4, "sa": 5,
        # "so" alone is an everyday word ("so gegen 18 Uhr"), so Sunday is abbreviated with a dot.
        "so.": 6, "mo.": 0, "di.": 1, "mi.": 2, "do.": 3, "fr.": 4, "sa.": 5,
    },
    weekdays_plural={
        "montags": 0, "dienstags": 1, "mittwochs": 2, "donnerstags": 3, "freitags": 4,
        "samstags": 5, "sonnabends": 5, "sonntags": 6,
    },
    months={
        "januar": 1, "jaenner": 1, "jan": 1, "februar": 2, "feb": 2, "maerz": 3, "marz": 3,
        "mrz": 3, "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
        "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10,
        "november": 11, "nov": 11, "dezember": 12, "dez": 12,
    },
    numbers={
        "ein": 1, "eine": 1, "einer": 1, "einem": 1, "einen": 1, "zwei": 2, "drei": 3, "vier": 4,
        "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11,
        "zwoelf": 12, "vierzehn": 14, "fuenfzehn": 15, "zwanzig": 20, "dreissig": 30,
    },
    ordinals={
        "ersten": 1, "erster": 1, "erste": 1, "zweiten": 2, "zweiter": 2, "zweite": 2,
        "dritten": 3, "dritter": 3, "dritte": 3, "vierten": 4, "vierter": 4, "vierte": 4,
        "fuenften": 5, "fuenfter": 5, "fuenfte": 5, "letzten": -1, "letzter": -1, "letzte": -1,
        "vorletzten": -2, "vorletzter": -2, "vorletzte": -2,
        "1.": 1, "2.": 2, "3.": 3, "4.": 4, "5.": 5,
    },
    days={"heute": 0, "morgen": 1, "uebermorgen": 2},
    parts={
        "frueh": "morning", "in der frueh": "morning", "morgens": "morning", "am morgen": "morning",
        "vormittags": "forenoon", "vormittag": "forenoon", "mittags": "noon", "mittag": "noon",
        "nachmittags": "afternoon", "nachmittag": "afternoon", "abends": "evening",
        "abend": "evening", "nachts": "night", "nacht": "night", "in der nacht": "night",
    },
    units={
        "minuten": "minutes", "minute": "minutes", "min": "minutes", "min.": "minutes",
        "stunden": "hours", "stunde": "hours", "std": "hours", "std.": "hours", "h": "hours",
        "tagen": "days", "tage": "days", "tag": "days", "wochen": "weeks", "woche": "weeks",
        "monaten": "months", "monate": "months", "monat": "months", "jahren": "years",
        "jahre": "years", "jahr": "years",
    },
    fillers=frozenset({
        "um", "am", "an", "den", "der", "dem", "die", "zum", "zur", "gegen", "ca", "ca.", "etwa",
        "so", "uhr", "ab", "jeweils", "immer", "und", ".", "-",
    }),
)

_EN = _Words(
    weekdays={
        "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
        "sunday": 6, "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
        "fri": 4, "sat": 5, "sun": 6,
    },
    weekdays_plural={
        "mondays": 0, "tuesdays": 1, "wednesdays": 2, "thursdays": 3, "fridays": 4,
        "saturdays": 5, "sundays": 6,
    },
    months={
        "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
        "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
        "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
        "nov": 11, "december": 12, "dec": 12,
    },
    numbers={
        "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
        "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
        "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
    },
    ordinals={
        "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1,
        "second to last": -2, "second last": -2, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
    },
    days={"today": 0, "tomorrow": 1, "the day after tomorrow": 2, "day after tomorrow": 2},
    parts={
        "in the morning": "morning", "morning": "morning", "in the afternoon": "afternoon",
        "afternoon": "afternoon", "in the evening": "evening", "evening": "evening",
        "at night": "night", "night": "night", "tonight": "evening", "this morning": "morning",
        "this afternoon": "afternoon", "this evening": "evening",
    },
    units={
        "minutes": "minutes", "minute": "minutes", "mins": "minutes", "min": "minutes",
        "hours": "hours", "hour": "hours", "hrs": "hours", "hr": "hours", "h": "hours",
        "days": "days", "day": "days", "weeks": "weeks", "week": "weeks", "months": "months",
        "month": "months", "years": "years", "year": "years",
    },
    fillers=frozenset({"at", "on", "the", "of", "around", "about", "by", "and", "from", ".", "-"}),
)
# fmt: on


class _Patterns:
    """The compiled patterns of one language (built once at import)."""

    def __init__(self, w: _Words, de: bool) -> None:
        wd, wdp, mon = _alt(w.weekdays), _alt(w.weekdays_plural), _alt(w.months)
        num, ordn = _alt(w.numbers) + r"|\d{1,4}", _alt(w.ordinals)
        # A weekday name must not run on into letters ("mo" in "morgen"), but may end in a dot.
        wd_ = rf"(?:{wd})(?![\w])"
        wdp_ = rf"(?:{wdp})\b"
        joiner = r"(?:\s*(?:,|und|&|sowie|u\.)\s*|\s+)" if de else r"(?:\s*(?:,|and|&)\s*|\s+)"
        each = r"(?:jede[nrs]?|an\s+jedem|immer)" if de else r"(?:every|each)"
        month_suffix = (
            r"(?:\s+(?:im|des|eines|jeden|jedes|pro)\s+monats?)"
            if de
            else r"(?:\s+(?:of|in)\s+(?:the|each|every|a)\s+month)"
        )
        self.words = w
        self.deadline = re.compile(
            r"^\s*(?:bis|spaetestens)(?:\s+(?:zum|zur|am|um))?\b" if de else r"^\s*(?:by|until)\b"
        )
        self.until = re.compile(
            r"\s(?:bis\s+einschliesslich|bis\s+inklusive|bis)(?:\s+(?:zum|zur|am))?\s+(?=\S)"
            if de
            else r"\s(?:until|till|through|thru)(?:\s+the)?\s+(?=\S)"
        )
        self.until_keyword = re.compile(r"\s(?:bis|until|till|through|thru)\s")
        # "montags bis freitags", "Montag - Freitag", "monday to friday"
        self.weekday_range = re.compile(
            rf"(?:\b(?:von|from)\s+)?\b(?P<a>{wd_}|{wdp_})\s*(?:bis|-|to|through|thru)\s*(?P<b>{wd_}|{wdp_})"
        )
        self.relative = re.compile(rf"\bin\s+(?P<n>{num})\s+(?P<unit>{_alt(w.units)})(?![\w])")
        self.relative_half = re.compile(
            r"\bin\s+(?:einer\s+halben\s+stunde|einer\s+viertelstunde|anderthalb\s+stunden|"
            r"eineinhalb\s+stunden|half\s+an\s+hour|an\s+hour\s+and\s+a\s+half|a\s+quarter\s+of\s+an\s+hour)\b"
        )
        if de:
            self.interval = re.compile(
                rf"\balle\s+(?P<n>{num})\s+(?P<unit>tage|wochen|monate|jahre)\b"
                rf"|\bjede[nrs]?\s+(?P<ord>zweiten|zweite|dritten|dritte|vierten|vierte)\s+(?P<unit2>tag|woche|monat|jahr)\b"
            )
            self.biweekly = re.compile(
                r"\b(?:zweiwoechentlich|zweiwoechig|vierzehntaegig|vierzehntaeglich|14-taegig|14-taeglich)\b"
            )
            self.freq_words = [
                (re.compile(r"\b(?:taeglich|jeden\s+tag|an\s+jedem\s+tag|alltaeglich)\b"), "DAILY"),
                (
                    re.compile(
                        r"\b(?:werktags|wochentags|an\s+werktagen|jeden\s+werktag|an\s+jedem\s+werktag)\b"
                    ),
                    "WORKDAYS",
                ),
                (re.compile(r"\b(?:woechentlich|jede\s+woche)\b"), "WEEKLY"),
                (re.compile(r"\b(?:monatlich|jeden\s+monat)\b"), "MONTHLY"),
                (re.compile(r"\b(?:jaehrlich|alljaehrlich|jedes\s+jahr)\b"), "YEARLY"),
            ]
        else:
            self.interval = re.compile(
                rf"\bevery\s+(?P<n>{num}|other)\s+(?P<unit>days?|weeks?|months?|years?)\b"
                r"|\bevery\s+(?P<ord>second|third|fourth)\s+(?P<unit2>day|week|month|year)\b"
            )
            self.biweekly = re.compile(r"\b(?:biweekly|fortnightly|every\s+fortnight|every\s+two\s+weeks)\b")
            self.freq_words = [
                (re.compile(r"\b(?:daily|every\s+day|each\s+day)\b"), "DAILY"),
                (
                    re.compile(
                        r"\b(?:(?:on\s+)?weekdays|every\s+weekday|each\s+weekday|on\s+workdays|every\s+workday)\b"
                    ),
                    "WORKDAYS",
                ),
                (re.compile(r"\b(?:weekly|every\s+week|each\s+week)\b"), "WEEKLY"),
                (re.compile(r"\b(?:monthly|every\s+month|each\s+month)\b"), "MONTHLY"),
                (re.compile(r"\b(?:yearly|annually|every\s+year|each\s+year)\b"), "YEARLY"),
            ]
        # "jeden ersten Dienstag im Monat", "every last Friday of the month", "every other Friday"
        other = r"|other" if not de else ""
        self.ordinal_weekday = re.compile(
            rf"(?:\b(?P<prefix>{each}|am|on\s+the|the|on)\s+)?(?<![\w.])(?P<ord>{ordn}{other})\s+(?P<wd>{wd_})"
            rf"(?P<month>{month_suffix})?"
        )
        # "jeden letzten Tag im Monat", "on the last day of the month"
        self.last_day = re.compile(
            rf"(?:\b(?P<prefix>{each}|am|on\s+the|the|on)\s+)?\b(?:letzten\s+tag|last\s+day|monatsletzten)"
            rf"(?P<month>{month_suffix})?"
        )
        # "jeden 15.", "am 15. jeden Monats", "on the 15th of every month"
        if de:
            self.monthday_each = re.compile(
                rf"\b(?:{each}\s+(?P<d1>\d{{1,2}})\.(?:{month_suffix})?|am\s+(?P<d2>\d{{1,2}})\.?{month_suffix})"
            )
        else:
            self.monthday_each = re.compile(
                rf"\b(?:{each}\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)(?:{month_suffix})?"
                rf"|(?:on\s+)?the\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?{month_suffix})"
            )
        self.weekday_each = re.compile(rf"\b{each}\s+(?P<list>{wd_}(?:{joiner}{wd_})*)")
        self.weekday_plural = re.compile(rf"(?:\b(?:on|am)\s+)?\b(?P<list>{wdp_}(?:{joiner}{wdp_})*)")
        self.weekday_token = re.compile(wd_)
        self.weekday_plural_token = re.compile(wdp_)
        # Times. A "." between hour and minutes only with "Uhr"/"h" after it, else it is a date.
        self.time_clock = re.compile(
            r"(?:\b(?:um|gegen|ab|at|around)\s+)?(?<![\d.:])(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?:uhr|h)(?![\w])"
            r"(?:\s*(?P<m2>\d{2})(?![\d.:]))?"
            if de
            else r"(?:\b(?:at|around)\s+)?(?<![\d.:])(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?"
            r"\s*(?:o'?clock|h)(?![\w])(?P<m2>)"
        )
        self.time_colon = re.compile(
            r"(?:\b(?:um|gegen|ab|at|around)\s+)?(?<![\d.:])(?P<h>\d{1,2}):(?P<m>\d{2})(?![\d:])"
        )
        # In German "am" is a word ("um 9 am Freitag"), so only "a.m." with its dots is a.m. there.
        am = r"a\.m\b\.?" if de else r"a\.?m\b\.?"
        self.time_meridiem = re.compile(
            rf"(?:\b(?:at|around)\s+)?(?<![\d.:])(?P<h>\d{{1,2}})(?:[:.](?P<m>\d{{2}}))?\s*(?P<ap>{am}|p\.?m\b\.?)"
        )
        self.time_dotted = re.compile(r"\b(?:um|gegen|at|around)\s+(?P<h>\d{1,2})\.(?P<m>\d{2})(?![\d.:])")
        self.time_bare = re.compile(
            r"\b(?:um|gegen)\s+(?P<h>\d{1,2})(?![\d.:]|\s*(?:uhr|h)\b)"
            if de
            else r"\b(?:at|around)\s+(?P<h>\d{1,2})(?![\d.:])"
        )
        self.noon = re.compile(r"\b(?:um\s+|at\s+)?(?:mitternacht|midnight|noon|midday)\b")
        # Dates.
        self.iso = re.compile(r"(?<![\d.])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d])")
        self.numeric = re.compile(
            r"(?<![\d.:])(?P<d>\d{1,2})\.(?P<m>\d{1,2})(?:(?P<dot>\.)(?P<y>\d{4}|\d{2})?)?(?![\d:]|\.\d)"
        )
        self.month_name = re.compile(
            rf"(?<![\d.])(?P<d>\d{{1,2}})(?:\.|st|nd|rd|th)?\s*(?:of\s+)?(?P<mon>{mon})\b\.?(?:\s*(?P<y>\d{{4}})\b)?"
            rf"|\b(?P<mon2>{mon})\b\.?\s*(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th|\.)?(?![\d:.]\d)(?:\s*(?P<y2>\d{{4}})\b)?"
        )
        self.end = re.compile(
            rf"\b(?:(?:am|zum|gegen|at|by)\s+)?(?:the\s+)?(?:"
            rf"(?P<month_end>ende\s+(?:des\s+)?monats|ende\s+monat|monatsende|end\s+of\s+(?:the\s+)?month)"
            rf"|(?P<year_end>ende\s+(?:des\s+)?jahres|jahresende|end\s+of\s+(?:the\s+)?year)"
            rf"|(?:ende|end\s+of)\s+(?P<mon>{mon})\b\.?(?:\s*(?P<y>\d{{4}})\b)?)"
        )
        self.monthday = re.compile(
            r"\b(?:am|den)\s+(?P<d>\d{1,2})\.?(?![\d.:]|\s*(?:uhr|h)\b)"
            if de
            else r"\b(?:on\s+)?the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b"
        )
        self.day_word = re.compile(rf"\b(?P<w>{_alt(w.days)})\b")
        self.weekday = re.compile(
            rf"(?:\b(?P<mod>naechste[nrs]?|kommende[nrs]?|uebernaechste[nrs]?|diese[nrs]?|am)\s+)?(?<![\w.])(?P<wd>{wd_})"
            if de
            else rf"(?:\b(?P<mod>next|this|coming|on|a\s+week\s+on)\s+)?(?<![\w.])(?P<wd>{wd_})"
        )
        self.part = re.compile(rf"\b(?P<p>{_alt(w.parts)})\b")
        self.morning_word = re.compile(r"\bmorgen\b")


_PATTERNS = {"de": _Patterns(_DE, True), "en": _Patterns(_EN, False)}


# --------------------------------------------------------------------------------------------
# Reading: the patterns fill slots, then the slots are resolved against now.


# First letter of "Tage/Wochen/Monate/Jahre", "days/weeks/months/years" → frequency.
_UNIT_FREQ = {"t": "DAILY", "d": "DAILY", "w": "WEEKLY", "m": "MONTHLY", "j": "YEARLY", "y": "YEARLY"}
_ORDINAL_INTERVALS = {
    "zweiten": 2, "zweite": 2, "dritten": 3, "dritte": 3, "vierten": 4, "vierte": 4,
    "second": 2, "third": 3, "fourth": 4,
}  # fmt: skip


# Words that tell the fractional offsets apart ("in einer Viertelstunde"); "half" alone is 30.
_HALVES = {"viertel": 15, "quarter": 15, "anderthalb": 90, "eineinhalb": 90, "and a half": 90}


# What the dateparser fallback may see: numbers, date punctuation, month and weekday names.
_NAMES = _alt({**_DE.months, **_EN.months, **_DE.weekdays, **_EN.weekdays})
_DATE_TOKEN = re.compile(rf"\d{{1,4}}(?:st|nd|rd|th|\.)?|[\d/.-]+|(?:{_NAMES})\.?|of|the|den|der|-")
_MONTH_OR_NUMERIC = re.compile(rf"\b(?:{_alt({**_DE.months, **_EN.months})})\b|\d[/.-]\d")
_LONE_HOUR = re.compile(r"(?<![\w.:])(?P<h>\d{1,2})(?![\w.:])")


class _NotUnderstood(Exception):
    """The text is not in this language's grammar (try the other one, then ``when.unknown``)."""


@dataclass
class _Clock:
    hour: int
    minute: int
    kind: str  # "exact" (18 Uhr, 18:30), "am"/"pm" (6pm), "bare" (um 6)


@dataclass
class _Slots:
    freq: str | None = None
    interval: int = 1
    weekdays: list[int] | None = None
    setpos: int | None = None
    monthday: int | None = None
    date: tuple | None = None  # see _resolve_date
    weekday: tuple[int, str] | None = None  # one-off weekday and its modifier
    clock: _Clock | None = None
    part: str | None = None
    offset: tuple[str, float] | None = None
    until_text: str | None = None


class _Reader:
    """Takes matches out of the text one pattern at a time; what is left must be filler."""

    def __init__(self, text: str) -> None:
        self.rest = f" {text} "

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.search(self.rest)
        if match is not None:
            self.rest = self.rest[: match.start()] + " " + self.rest[match.end() :]
        return match

    def leftover(self, fillers: frozenset[str]) -> str:
        return " ".join(t for t in self.rest.split() if t not in fillers)


def _normalize(text: str) -> str:
    value = fold(text)
    # Commas (not decimal ones), semicolons and ! ? only separate; long dashes become "-".
    value = re.sub(r",(?!\d)|(?<!\d),|[;!?]", " ", value).replace("–", "-").replace("—", "-")
    value = value.replace("’", "'")
    return " ".join(value.split())


def _number(token: str, words: _Words) -> int:
    return int(token) if token.isdigit() else words.numbers[token]


def _weekday_list(text: str, pattern: re.Pattern[str], names: dict[str, int]) -> list[int]:
    return [names[m.group(0)] for m in pattern.finditer(text)]


def _read(text: str, p: _Patterns) -> _Slots:
    """Fill the slots from ``text`` (already normalised) with the patterns of one language.

    The order matters: recurrences before single weekdays, "bis …" before anything can take
    its date, times before dates (the colon and "Uhr" say which numbers are times), the
    remaining numbers as dates, the words for parts of the day last.
    """
    w = p.words
    s = _Slots()
    r = _Reader(p.deadline.sub(" ", text, count=1))

    # Weekday ranges first: their "bis" is not the end of a series.
    if m := r.take(p.weekday_range):
        a = w.weekdays.get(m.group("a"), w.weekdays_plural.get(m.group("a")))
        b = w.weekdays.get(m.group("b"), w.weekdays_plural.get(m.group("b")))
        assert a is not None and b is not None
        s.freq, s.weekdays = "WEEKLY", list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]

    # "bis 31.3.2027": the rest of the text is the last day of the series.
    if m := p.until.search(r.rest):
        s.until_text = r.rest[m.end() :].strip()
        r.rest = r.rest[: m.start()] + " "
    elif p.until_keyword.search(r.rest):
        raise _NotUnderstood

    if m := r.take(p.relative_half):
        phrase = m.group(0)
        minutes = next((n for word, n in _HALVES.items() if word in phrase), 30)
        s.offset = ("minutes", minutes)
    elif m := r.take(p.relative):
        s.offset = (w.units[m.group("unit")], _number(m.group("n"), w))

    # Recurrence.
    if m := r.take(p.interval):
        if m.group("unit"):
            n = 2 if m.group("n") == "other" else _number(m.group("n"), w)
            unit = m.group("unit")
        else:
            n = _ORDINAL_INTERVALS[m.group("ord")]
            unit = m.group("unit2")
        if n < 1:
            raise _NotUnderstood
        freq = _UNIT_FREQ[unit[0]]
        if freq == "DAILY" and n % 7 == 0:
            # "alle 14 Tage" is every other week (and reads so in the confirmation).
            freq, n = "WEEKLY", n // 7
        s.freq, s.interval = freq, n
    elif r.take(p.biweekly):
        s.freq, s.interval = "WEEKLY", 2
    for pattern, freq in p.freq_words:
        if r.take(pattern):
            if s.freq is not None and not (s.freq == "WEEKLY" and freq == "WEEKLY"):
                raise _NotUnderstood
            if freq == "WORKDAYS":
                s.freq, s.weekdays = "WEEKLY", [0, 1, 2, 3, 4]
            else:
                s.freq = freq
    if m := r.take(p.ordinal_weekday):
        ordinal = 2 if m.group("ord") == "other" else w.ordinals[m.group("ord")]
        weekday = w.weekdays[m.group("wd")]
        prefix = (m.group("prefix") or "").split(" ")[0]
        each = prefix in ("jeden", "jede", "jeder", "jedes", "an", "immer", "every", "each")
        if m.group("month") or s.freq == "MONTHLY":
            if s.freq not in (None, "MONTHLY"):
                raise _NotUnderstood
            s.freq, s.setpos, s.weekdays = "MONTHLY", ordinal, [weekday]
        elif each and ordinal == 2 and s.freq is None:
            # "jeden zweiten Dienstag" / "every other Tuesday": every other week. Every first,
            # third, fourth or last Tuesday can only be meant within the month.
            s.freq, s.interval, s.weekdays = "WEEKLY", 2, [weekday]
        elif each and s.freq is None:
            s.freq, s.setpos, s.weekdays = "MONTHLY", ordinal, [weekday]
        else:
            raise _NotUnderstood
    if m := r.take(p.last_day):
        each = (m.group("prefix") or "").split(" ")[0] in ("jeden", "jede", "an", "immer", "every", "each")
        if each or s.freq == "MONTHLY":
            if s.freq not in (None, "MONTHLY"):
                raise _NotUnderstood
            s.freq, s.monthday = "MONTHLY", -1
        else:
            _set_date(s, ("end_month", None, None))  # "am letzten Tag des Monats": once
    if m := r.take(p.monthday_each):
        if s.freq not in (None, "MONTHLY"):
            raise _NotUnderstood
        s.freq, s.monthday = "MONTHLY", int(m.group("d1") or m.group("d2"))
    if m := r.take(p.weekday_each):
        _set_weekdays(s, _weekday_list(m.group("list"), p.weekday_token, w.weekdays))
    if m := r.take(p.weekday_plural):
        _set_weekdays(s, _weekday_list(m.group("list"), p.weekday_plural_token, w.weekdays_plural))

    # Times: explicit forms first, a bare "um 6" last.
    if m := r.take(p.time_meridiem):
        s.clock = _Clock(int(m.group("h")), int(m.group("m") or 0), "am" if "a" in m.group("ap") else "pm")
    elif m := r.take(p.time_colon) or r.take(p.time_clock) or r.take(p.time_dotted):
        s.clock = _Clock(int(m.group("h")), int(m.group("m") or m.group("m2") or 0), "exact")
    elif m := r.take(p.noon):
        s.clock = _Clock(0 if "mitternacht" in m.group(0) or "midnight" in m.group(0) else 12, 0, "exact")

    # Dates.
    if m := r.take(p.iso):
        _set_date(s, ("abs", int(m.group("y")), int(m.group("m")), int(m.group("d"))))
    if m := r.take(p.end):
        if m.group("month_end"):
            _set_date(s, ("end_month", None, None))
        elif m.group("year_end"):
            _set_date(s, ("end_year", None, None))
        else:
            _set_date(s, ("end_month", w.months[m.group("mon")], _year(m.group("y"))))
    while m := r.take(p.numeric):
        day, month, year = int(m.group("d")), int(m.group("m")), m.group("y")
        two_digits = len(m.group("m")) == 2
        if not m.group("dot") and two_digits and (month > 12 or month == 0) and s.clock is None:
            # "morgen 18.30", "18.00": there is no month 30 (or 0), so hours and minutes.
            s.clock = _Clock(day, month, "exact")
            continue
        _set_date(s, ("abs", _year(year), month, day))
    if m := r.take(p.month_name):
        mon, day, year = m.group("mon", "d", "y") if m.group("mon") else m.group("mon2", "d2", "y2")
        _set_date(s, ("abs", _year(year), w.months[mon], int(day)))
    if s.clock is None and (m := r.take(p.time_bare)):
        s.clock = _Clock(int(m.group("h")), 0, "bare")
    if s.date is None and (m := r.take(p.monthday)):
        _set_date(s, ("dom", int(m.group("d"))))
    # Weekdays before "heute/morgen": in "Freitag morgen" the "morgen" is the morning.
    while m := r.take(p.weekday):
        weekday = w.weekdays[m.group("wd")]
        if s.freq is not None:
            _set_weekdays(s, [weekday])
        elif s.weekday is not None and s.weekday[0] != weekday:
            raise _NotUnderstood
        else:
            s.weekday = (weekday, _weekday_mode(m.group("mod") or ""))
    while m := p.day_word.search(r.rest):
        word = m.group("w")
        if word == "morgen" and (s.date is not None or s.weekday is not None):
            break  # "heute morgen", "Freitag morgen": the morning, read below
        _set_date(s, ("days", w.days[word]))
        r.rest = r.rest[: m.start()] + " " + r.rest[m.end() :]
    # "morgen 18", "Freitag 18": a lone number after a day is its hour (1–7 stay ambiguous).
    day_known = s.date is not None or s.weekday is not None or s.freq is not None
    if s.clock is None and day_known and (m := r.take(_LONE_HOUR)):
        s.clock = _Clock(int(m.group("h")), 0, "bare")
    if (s.date is not None or s.weekday is not None) and r.take(p.morning_word):
        s.part = "morning"
    if m := r.take(p.part):
        if s.part is not None:
            raise _NotUnderstood
        s.part = w.parts[m.group("p")]
        if m.group("p") == "tonight" or m.group("p").startswith("this "):
            _set_date(s, ("days", 0))

    leftover = r.leftover(w.fillers)
    if leftover:
        if s.date is not None or s.offset is not None or s.freq is not None or not _date_words(leftover):
            raise _NotUnderstood
        s.date = ("free", leftover)
    return s


def _date_words(text: str) -> bool:
    """Whether ``text`` is only the stuff of an absolute date (numbers, month and weekday names),
    so dateparser may arrange it. dateparser accepts a lot and silently drops what it does not
    know ("morgen 2 Stunden" would become tomorrow at 9:00), so nothing else goes to it."""
    tokens = re.split(r"[\s-]+", text)
    return bool(_MONTH_OR_NUMERIC.search(text)) and all(_DATE_TOKEN.fullmatch(t) for t in tokens if t)


def _weekday_mode(mod: str) -> str:
    """How far a one-off weekday lies: ``plain`` (the next one ahead, possibly today), ``next``
    (the next one after today), ``after_next`` (a week after that)."""
    if mod.startswith("uebernaechst") or mod == "a week on":
        return "after_next"
    if mod.startswith(("naechst", "kommend")) or mod in ("next", "coming"):
        return "next"
    return "plain"


def _set_weekdays(s: _Slots, weekdays: list[int]) -> None:
    """Weekdays of a weekly series (one makes it weekly). Weekdays with a daily or monthly
    series ("alle 3 Tage dienstags") would need a rule nobody reads right: not supported."""
    s.freq = s.freq or "WEEKLY"
    if s.freq != "WEEKLY" or s.setpos is not None:
        raise _NotUnderstood
    s.weekdays = sorted(set(s.weekdays or []) | set(weekdays))


def _set_date(s: _Slots, spec: tuple) -> None:
    if s.date is not None:
        raise _NotUnderstood
    s.date = spec


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    return 2000 + year if year < 100 else year


# --------------------------------------------------------------------------------------------
# Resolving the slots against now.


class _Context:
    """Everything the resolution needs: the moment, the zone, the language, the input."""

    def __init__(self, text: str, now: datetime, tz: str, language: str, default_time: time) -> None:
        self.text = text
        self.now = now.astimezone(UTC)
        self.tz = tz
        self.zone = ZoneInfo(tz)
        self.local_now = now.astimezone(self.zone).replace(tzinfo=None)
        self.today = self.local_now.date()
        self.language = language
        self.default_time = default_time

    def impossible(self) -> WhenError:
        return WhenError("when.impossible", text=self.text)

    def utc(self, local: datetime) -> datetime:
        return _to_utc(local, self.zone)

    def after_now(self, local: datetime) -> bool:
        return self.utc(local) > self.now


def _clock_time(s: _Slots, ctx: _Context) -> time | None:
    """The time of day the person named (with the part of the day), or ``None``."""
    clock, part = s.clock, s.part
    if clock is None:
        return PART_TIMES[part] if part else None
    hour, minute = clock.hour, clock.minute
    if minute > 59:
        raise ctx.impossible()
    if clock.kind in ("am", "pm"):
        if not 1 <= hour <= 12:
            raise ctx.impossible()
        hour = hour % 12 + (12 if clock.kind == "pm" else 0)
    elif part is not None and hour < 12:
        # "6 Uhr abends", "um 3 nachmittags", "um 9 nachts" (21:00; "um 2 nachts" stays 2:00).
        late = part in ("afternoon", "evening") or (part == "noon" and hour <= 5)
        late = late or (part == "night" and hour >= 8)
        hour += 12 if late else 0
    elif clock.kind == "bare" and 1 <= hour <= 7:
        # "um 6" alone: 6:00 or 18:00? Both are plausible for an AG, so ask. From "um 8" on the
        # morning reading is the usual one ("um 10" is 10:00), and "6 Uhr" is always 06:00.
        morning, evening = time(hour, minute), time(hour + 12, minute)
        raise WhenError(
            "when.ambiguous",
            text=ctx.text,
            morning=_format_time(morning, ctx),
            evening=_format_time(evening, ctx),
        )
    if hour > 23:
        raise ctx.impossible()
    return time(hour, minute)


def _resolve(s: _Slots, ctx: _Context) -> When:
    clock = _clock_time(s, ctx)
    if s.freq is not None:
        return _resolve_rule(s, ctx, clock)
    if s.until_text is not None:
        raise WhenError("when.until_one_off", text=ctx.text)
    if s.offset is not None:
        return _resolve_offset(s, ctx, clock)
    at = clock or ctx.default_time
    if s.date is None and s.weekday is None:
        if clock is None:
            raise _NotUnderstood
        # A time alone is the next such time: today if still ahead, else tomorrow.
        local = datetime.combine(ctx.today, at)
        if not ctx.after_now(local):
            local += timedelta(days=1)
        return _one_off(local, ctx, clock is not None)
    local = _resolve_date(s, ctx, at)
    return _one_off(local, ctx, clock is not None)


def _resolve_offset(s: _Slots, ctx: _Context, clock: time | None) -> When:
    unit, amount = s.offset or ("", 0)
    if s.date is not None or s.weekday is not None:
        raise _NotUnderstood
    if unit in ("minutes", "hours"):
        if clock is not None:
            raise _NotUnderstood
        # Elapsed time: "in 2 Stunden" is two real hours, even across a change of the clocks.
        moment = ctx.now + timedelta(**{unit: amount})
        if moment <= ctx.now:
            raise WhenError("when.past", moment=moment, text=ctx.text, when=_format_moment(moment, ctx))
        _check_range(moment, ctx)
        local = moment.astimezone(ctx.zone).replace(tzinfo=None)
        return When(first=moment, rule=None, tz=ctx.tz, local_start=local)
    # Calendar time: "in 3 Tagen" is the same wall time three days later (or the time named).
    try:
        local = ctx.local_now + relativedelta(**{unit: int(amount)})
    except (ValueError, OverflowError) as error:
        raise WhenError("when.too_far", text=ctx.text, years=MAX_YEARS) from error
    if clock is not None:
        local = datetime.combine(local.date(), clock)
    return _one_off(local, ctx, True)


def _one_off(local: datetime, ctx: _Context, time_given: bool) -> When:
    moment = ctx.utc(local)
    if moment <= ctx.now:
        raise WhenError("when.past", moment=moment, text=ctx.text, when=_format_moment(moment, ctx))
    _check_range(moment, ctx)
    return When(first=moment, rule=None, tz=ctx.tz, local_start=local, time_given=time_given)


def _check_range(moment: datetime, ctx: _Context) -> None:
    if moment > ctx.now + timedelta(days=366 * MAX_YEARS):
        raise WhenError("when.too_far", text=ctx.text, years=MAX_YEARS)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve_date(s: _Slots, ctx: _Context, at: time) -> datetime:
    """The local date and time of a one-off date, rolled into the future where the person left
    it open (no year, a bare weekday, a day of the month) and kept where they did not ("heute",
    "3.12.2026": if that has passed, :func:`_one_off` says so)."""
    spec = s.date
    today = ctx.today
    local: datetime | None = None
    if spec is None:
        local = None
    elif spec[0] == "abs":
        _, year, month, day = spec
        if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(2024, month)[1]):
            raise ctx.impossible()  # 2024: a leap year, so 29.2. is possible (in leap years)
        if year is not None:
            found = _valid(year, month, day)
            if found is None:
                raise ctx.impossible()
            local = datetime.combine(found, at)
        else:
            local = _first_future(
                (
                    datetime.combine(d, at)
                    for y in range(today.year, today.year + 9)
                    if (d := _valid(y, month, day))
                ),
                ctx,
            )
    elif spec[0] == "dom":
        day = spec[1]
        if not 1 <= day <= 31:
            raise ctx.impossible()
        months = (today.replace(day=1) + relativedelta(months=i) for i in range(25))
        local = _first_future(
            (datetime.combine(d, at) for m in months if (d := _valid(m.year, m.month, day))), ctx
        )
    elif spec[0] == "days":
        local = datetime.combine(today + timedelta(days=spec[1]), at)
    elif spec[0] == "end_month":
        _, month, year = spec
        if month is None:
            local = datetime.combine(_month_end(today.year, today.month), at)
        elif year is not None:
            local = datetime.combine(_month_end(year, month), at)
        else:
            local = _first_future(
                (datetime.combine(_month_end(y, month), at) for y in range(today.year, today.year + 2)), ctx
            )
    elif spec[0] == "end_year":
        local = datetime.combine(date(today.year, 12, 31), at)
    elif spec[0] == "free":
        local = datetime.combine(_dateparser_date(spec[1], ctx), at)
    if s.weekday is not None:
        weekday, mode = s.weekday
        if local is None:
            start = {"plain": 0, "next": 1, "after_next": 8}[mode]
            local = _first_future(
                (
                    datetime.combine(d, at)
                    for i in range(start, start + 8)
                    if (d := today + timedelta(days=i)).weekday() == weekday
                ),
                ctx,
            )
        elif local.weekday() != weekday:
            raise WhenError(
                "when.weekday_mismatch",
                text=ctx.text,
                date=_format_date(local.date(), ctx),
                weekday=_format_weekday(local.date(), ctx),
            )
    assert local is not None
    return local


def _first_future(candidates: Any, ctx: _Context) -> datetime:
    found = next((c for c in candidates if ctx.after_now(c)), None)
    if found is None:
        raise WhenError("when.too_far", text=ctx.text, years=MAX_YEARS)
    return found


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _resolve_rule(s: _Slots, ctx: _Context, clock: time | None) -> When:
    """A series: the rule's parts from the slots, its first occurrence after now, and the rule
    anchored there (so "alle 2 Wochen freitags" starts on the next Friday, not on a Friday two
    weeks from the week of today)."""
    if s.offset is not None or s.weekday is not None:
        raise _NotUnderstood
    at = clock or ctx.default_time
    today = ctx.today
    freq, weekdays, monthday, month = s.freq or "", tuple(s.weekdays or ()), s.monthday, None
    spec = s.date
    if spec is not None:
        # A date with a series gives the day of a yearly or monthly rule ("jährlich am 1.3.").
        if spec[0] == "abs" and spec[1] is None and freq == "YEARLY":
            _, _, month, monthday = spec
            if not (1 <= month <= 12 and 1 <= monthday <= calendar.monthrange(2024, month)[1]):
                raise ctx.impossible()
        elif spec[0] == "dom" and freq in ("MONTHLY", "YEARLY"):
            monthday = spec[1]
        else:
            raise _NotUnderstood
    if monthday is not None and not (1 <= monthday <= 31 or monthday == -1):
        raise ctx.impossible()
    if freq == "WEEKLY" and not weekdays:
        weekdays = (today.weekday(),)
    elif freq == "MONTHLY" and monthday is None and s.setpos is None:
        monthday = today.day
    elif freq == "YEARLY" and monthday is None:
        month, monthday = today.month, today.day
    elif freq == "YEARLY" and month is None:
        month = today.month
    if freq == "MONTHLY" and weekdays and s.setpos is None:
        raise _NotUnderstood
    until = _resolve_until(s.until_text, ctx) if s.until_text is not None else None
    # First occurrence: the rule without interval and end, from today on.
    probe = RuleSummary(freq, at, 1, weekdays, s.setpos, monthday, month)
    probe_when = When(
        first=ctx.utc(datetime.combine(today, at)),
        rule=probe.to_rrule(),
        tz=ctx.tz,
        local_start=datetime.combine(today, at),
    )
    first = probe_when.next_after(ctx.now)
    if first is None:
        raise ctx.impossible()  # e.g. "jährlich am 30.2." never happens
    # Anchored at the rule's wall time (2:30 even when this first one was shifted out of the gap).
    start = datetime.combine(first.astimezone(ctx.zone).date(), at)
    _check_range(first, ctx)
    if until is not None and until < start.date():
        raise WhenError(
            "when.until_before_start", until=_format_date(until, ctx), first=_format_moment(first, ctx)
        )
    summary = RuleSummary(freq, at, s.interval, weekdays, s.setpos, monthday, month, until)
    return When(
        first=first, rule=summary.to_rrule(), tz=ctx.tz, local_start=start, time_given=clock is not None
    )


def _resolve_until(text: str, ctx: _Context) -> date:
    """The last day of a series ("bis 31.3.2027", "bis Ende März"): a date of the same grammar,
    without a time; a date without a year is the next such day from today."""
    for language in _languages(ctx.language):
        try:
            s = _read(_normalize(text), _PATTERNS[language])
        except _NotUnderstood:
            continue
        if s.freq is not None or s.clock is not None or s.part is not None or s.offset is not None:
            continue
        if s.date is None and s.weekday is None:
            continue
        # Resolved like a one-off date at the end of its day (UNTIL includes the whole day), so
        # "bis 31.3." is the next 31 March that has not ended.
        try:
            return _resolve_date(s, ctx, time(23, 59, 59)).date()
        except _NotUnderstood:
            continue
    raise _NotUnderstood


def _dateparser_date(text: str, ctx: _Context) -> date:
    """A free-form absolute date through dateparser (the grammar's fallback).

    Only accepted when it names a day and a month (``REQUIRE_PARTS``): otherwise a stray number
    ("9") would become the 9th of this month. The time it might find is ignored: the grammar has
    already taken the time.
    """
    import dateparser  # slow to import and to warm up: only when the grammar cannot help

    settings = {
        "RELATIVE_BASE": ctx.local_now,
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "REQUIRE_PARTS": ["day", "month"],
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    languages = list(_languages(ctx.language))
    with warnings.catch_warnings():
        # dateparser calls strptime for day-and-month without a year, which Python 3.13 deprecates
        # ("...without a year specified is ambiguous..."); its own regex/pytz use has raised
        # DeprecationWarnings in some releases too. Both are its business, and warnings are errors
        # in our tests, so they are silenced here only, around this call.
        warnings.filterwarnings(
            "ignore", category=DeprecationWarning, message=r".*day of month without a year"
        )
        warnings.filterwarnings(
            "ignore", category=DeprecationWarning, module=r"(dateparser|regex|pytz)(\.|$)"
        )
        found = dateparser.parse(text, languages=languages, settings=settings)
        if found is None and re.search(r"ae|oe|ue", text):
            # The grammar reads folded text ("naechste"); dateparser knows the umlauts.
            umlauts = text.replace("ae", "ä").replace("oe", "ö").replace("ue", "ü")
            found = dateparser.parse(umlauts, languages=languages, settings=settings)
    if found is None:
        raise _NotUnderstood
    return found.date()


def _languages(language: str) -> tuple[str, str]:
    return ("en", "de") if language == "en" else ("de", "en")


# --------------------------------------------------------------------------------------------
# Formatting for the error messages (in the AG's language and timezone, as the bot shows dates).


def _format_moment(moment: datetime, ctx: _Context) -> str:
    from bot.core.i18n import Translator

    return Translator(ctx.language, ctx.tz).datetime(moment)


def _format_date(value: date, ctx: _Context) -> str:
    from bot.core.i18n import Translator

    return Translator(ctx.language, ctx.tz).date(value)


def _format_time(value: time, ctx: _Context) -> str:
    from babel.dates import format_time

    return format_time(value, format="short", locale=ctx.language if ctx.language == "en" else "de")


def _format_weekday(value: date, ctx: _Context) -> str:
    from babel.dates import format_date

    return format_date(value, format="EEEE", locale=ctx.language if ctx.language == "en" else "de")


# --------------------------------------------------------------------------------------------


def parse_when(
    text: str, *, now: datetime, tz: str, language: str = "de", default_time: time = DEFAULT_TIME
) -> When:
    """Understand a time expression like "morgen 18 Uhr" or "jeden ersten Dienstag im Monat".

    Rules people rely on (and the tests pin down):

    - A date without a time is at ``default_time`` (9:00); "früh"/"morgens" 8:00, "vormittags"
      10:00, "mittags" 12:00, "nachmittags" 15:00, "abends"/"heute Abend"/"tonight" 19:00,
      "nachts" 22:00.
    - A time alone ("18 Uhr") is today if still ahead, else tomorrow. "18 Uhr", "18:30",
      "18.30 Uhr", "18h", "6pm" are exact; "6 Uhr" is 06:00; "6 Uhr abends" and "um 6 abends"
      are 18:00; a bare "um 1" … "um 7" (or "morgen 6") without a part of the day is
      ``when.ambiguous``; "um 8" … "um 23" and "morgen 18" are that hour.
    - "Freitag" is the next Friday whose time is still ahead (today if it is Friday and the
      time has not passed). "nächsten Freitag"/"next Friday" is the next Friday after today
      (never today), "übernächsten Freitag" a week later.
    - "am 3.12." without a year is the next 3 December ahead; "am 15." the next 15th.
    - "Ende des Monats" is the last day of this month, "Ende März" of the next March.
    - "in 2 Stunden"/"in 10 Minuten" are elapsed time; "in 3 Tagen"/"in einer Woche" the same
      wall time that many days later (or the time named).
    - "heute 8 Uhr" at 10:00, "3.12.2025": ``when.past``; dates given in full are never moved.
    - Series are computed in local wall time; "jeden zweiten Dienstag" is every other week,
      "jeden ersten/dritten/letzten Dienstag" is within the month. "monatlich am 31." skips
      months without a 31st, as RFC 5545 does (:attr:`RuleSummary.skips`); "monatlich am
      letzten Tag" is ``BYMONTHDAY=-1``. "bis …" ends a series with that whole local day.
      A series without a weekday or day ("wöchentlich", "monatlich") repeats today's.

    Args:
        text: What the person typed (the part before ``:`` of ``/erinnerung``).
        now: The current moment (aware).
        tz: IANA timezone of the AG.
        language: The AG's language (``de``/``en``); tried first, the other one after it.
        default_time: Time of a date given without one.

    Raises:
        WhenError: See its docstring for the keys.
    """
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    ctx = _Context(text.strip(), now, tz, language, default_time)
    normalized = _normalize(text)
    if normalized:
        for lang in _languages(language):
            try:
                return _resolve(_read(normalized, _PATTERNS[lang]), ctx)
            except _NotUnderstood:
                continue  # a WhenError means it was understood and is wrong: that is the answer
    raise WhenError("when.unknown", text=ctx.text)
