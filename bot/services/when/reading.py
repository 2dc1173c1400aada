"""Reading a time expression: the patterns of one language fill slots.

:func:`_read` takes the matches of :mod:`.lexicon`'s patterns out of the folded text one at a
time, in an order that matters (weekday ranges, "bis …", offsets, recurrences, times, dates,
weekdays, day words, parts of the day), and records what it found in :class:`_Slots` — for
one-off times and series alike, because one phrase can hold both ("jeden Dienstag 18 Uhr").
Nothing is resolved against a date here; that is :mod:`.resolve` (one-offs) and
:mod:`.recurrence` (series). Text the grammar does not know but that looks like an absolute
date is handed on as a ``("free", text)`` date for the dateparser fallback (:mod:`.fallback`).

Who does what: only our own grammar (:mod:`re`); no date library is used while reading.
A text that is not in this language's grammar raises :class:`~.values._NotUnderstood`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.services.when.fallback import _date_words
from bot.services.when.lexicon import (
    _HALVES,
    _LONE_HOUR,
    _ORDINAL_INTERVALS,
    _UNIT_FREQ,
    _number,
    _Patterns,
    _weekday_list,
)
from bot.services.when.values import _NotUnderstood


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
