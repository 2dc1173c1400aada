"""When things happen: the time grammar of reminders, meetings, poll deadlines and date answers.

``parse_when("jeden Dienstag 18 Uhr", now=..., tz="Europe/Berlin")`` turns what a person typed
into a :class:`When`: the first moment (aware UTC) and, for recurring ones, an RFC 5545 RRULE
anchored to a naive local start. Everything here is pure: no database, no clock, no I/O.

Who does what:

- **Our own small grammar** (the regular expressions of :mod:`.lexicon`) reads everything structured: times
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

The package, lowest layer first (at run time no module imports one listed after it):

- :mod:`.values`: :class:`When`, :class:`RuleSummary`, :class:`WhenError`, the constants, and
  the occurrences of a rule (dateutil's rrule, DST handling).
- :mod:`.lexicon`: folding, the vocabularies and compiled patterns of both languages.
- :mod:`.fallback`: the dateparser fallback for free-form absolute dates.
- :mod:`.reading`: the patterns fill slots (one-off and recurring phrases alike).
- :mod:`.resolve`: the slots of a one-off resolved against now (dates, offsets, clock times).
- :mod:`.recurrence`: the slots of a series made a rule, its first occurrence and its end.
- :mod:`.parse`: :func:`parse_when` and :func:`split_when`, the entry points.
"""

from bot.services.when.parse import parse_when, split_when
from bot.services.when.values import (
    DEFAULT_TIME,
    MAX_YEARS,
    WEEKDAY_CODES,
    RuleSummary,
    When,
    WhenError,
)
from bot.services.when.values import FREQUENCIES as FREQUENCIES  # importable as before; not in __all__
from bot.services.when.values import PART_TIMES as PART_TIMES

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
