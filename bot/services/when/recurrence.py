"""Resolving a series: the recurrence rule of the slots, its first occurrence and its end.

:func:`_resolve_rule` completes the rule's parts from the slots (a weekly rule without a weekday
repeats today's, a date with "jährlich" gives the day of a yearly rule, …), finds the first
occurrence after now and anchors the rule there; :func:`_resolve_until` reads the "bis …" of a
series as a date of the same grammar.

Who does what: the rule is written as an RFC 5545 RRULE by :class:`~.values.RuleSummary`, and
its occurrences are computed by **python-dateutil's rrule** in local wall time
(:meth:`~.values.When.next_after`), so the first occurrence is found the same way every later one
is, across changes of daylight saving time.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time

from bot.services.when.lexicon import _PATTERNS, _languages, _normalize
from bot.services.when.reading import _read, _Slots
from bot.services.when.resolve import _check_range, _Context, _format_date, _format_moment, _resolve_date
from bot.services.when.values import RuleSummary, When, WhenError, _NotUnderstood


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
