"""Resolving the slots of a one-off time against now, and the error messages' formatting.

:class:`_Context` holds what resolution needs (the moment, the zone, the language, the input).
:func:`_clock_time` turns the clock and part of the day into a time of day (or
``when.ambiguous``), :func:`_resolve_date` a date spec into the next local date and time ahead
(rolling forward what the person left open, keeping what they did not), :func:`_resolve_offset`
handles "in 2 Stunden"/"in 3 Tagen", and :func:`_one_off` makes the :class:`~.values.When`.

Who does what: the standard library's :mod:`calendar`/:mod:`datetime` and :mod:`zoneinfo` do the
dates and zones; **python-dateutil's relativedelta** does the calendar arithmetic of "in 2
Monaten" (31 January + 1 month = 28/29 February); a ``("free", …)`` date goes to **dateparser**
(:mod:`.fallback`). Error messages show dates as the bot does, through
:class:`bot.core.i18n.Translator` and **babel** (imported lazily).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.services.when.fallback import _dateparser_date
from bot.services.when.reading import _Slots
from bot.services.when.values import MAX_YEARS, PART_TIMES, When, WhenError, _NotUnderstood, _to_utc


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
