"""Times in words: moments, recurrence rules and understood time expressions.

Reminders, meetings and polls repeat what the bot understood ("jeden Dienstag um 18:00
(nächste: Di 24.11., Di 1.12., Di 8.12.)"), so a misunderstanding is visible at once. The wording
comes from the catalogs (``when.*``); dates, times and weekday names from Babel in the
Translator's language, moments in its timezone.

This lives in ``bot.core`` rather than ``bot.handlers`` because job functions (``bot.jobs``, which
may not import handlers) word their messages with it too; ``bot.handlers.when_format`` offers the
same functions to handlers. It reads :class:`~bot.services.when.When` and
:class:`~bot.services.when.RuleSummary` only by their attributes, so the core does not depend on
the services.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from babel.dates import format_skeleton, format_time, get_day_names, get_month_names

from bot.core.i18n import Translator

if TYPE_CHECKING:
    from bot.services.when import RuleSummary, When

NEXT_SHOWN = 3
"""How many coming occurrences a recurring time lists."""

# Catalog keys of the ordinals of a monthly "n-th weekday" rule (BYDAY=1TU … 5TU, -1FR, -2FR).
_ORDINALS = {
    1: "when.ordinal.first",
    2: "when.ordinal.second",
    3: "when.ordinal.third",
    4: "when.ordinal.fourth",
    5: "when.ordinal.fifth",
    -1: "when.ordinal.last",
    -2: "when.ordinal.second_last",
}
# Date skeletons per language: German day-first numbers ("24.11."), English a month name, since
# "11/24" reads the other way round to half of the bot's users ("Nov 24").
_SHORT = {"de": "Md", "en": "MMMd"}
_SHORT_YEAR = {"de": "yMd", "en": "yMMMd"}


def time_text(tr: Translator, value: time | datetime) -> str:
    """A clock time as the language writes it (``18:00`` / ``6:00 PM``); an aware moment is shown
    in the Translator's timezone."""
    if isinstance(value, datetime):
        value = value.astimezone(tr.zone).time() if value.tzinfo is not None else value.time()
    return format_time(value, format="short", locale=tr.language)


def weekday_short(tr: Translator, day: date) -> str:
    """The abbreviated weekday (``Di`` / ``Tue``); Babel's German abbreviations end in a dot,
    which reads oddly before a date (``Di., 24.11.``)."""
    return str(get_day_names("abbreviated", locale=tr.language)[day.weekday()]).rstrip(".")


def date_short(tr: Translator, day: date, *, with_year: bool = False) -> str:
    """A date without weekday: ``24.11.`` / ``Nov 24``, with the year when asked."""
    skeleton = (_SHORT_YEAR if with_year else _SHORT)[tr.language]
    return format_skeleton(skeleton, day, locale=tr.language)


def moment_text(tr: Translator, moment: datetime) -> str:
    """A moment in full: ``Di, 24.11.2026 um 18:00`` / ``Tue, Nov 24, 2026 at 6:00 PM``."""
    local = moment.astimezone(tr.zone)
    return tr.text(
        "when.moment",
        weekday=weekday_short(tr, local.date()),
        date=tr.date(local.date()),
        time=time_text(tr, local),
    )


def moment_short(tr: Translator, moment: datetime, *, now: datetime | None = None) -> str:
    """A moment in short: ``Di 24.11., 18:00`` / ``Tue Nov 24, 6:00 PM``, with the year when it
    lies in another year than ``now`` (without ``now`` the year is left out)."""
    local = moment.astimezone(tr.zone)
    with_year = now is not None and now.astimezone(tr.zone).year != local.year
    return tr.text(
        "when.moment_short",
        weekday=weekday_short(tr, local.date()),
        date=date_short(tr, local.date(), with_year=with_year),
        time=time_text(tr, local),
    )


def day_short(tr: Translator, moment: datetime, *, now: datetime | None = None) -> str:
    """The local day of a moment in short: ``Di 24.11.`` (year as in :func:`moment_short`)."""
    local = moment.astimezone(tr.zone)
    with_year = now is not None and now.astimezone(tr.zone).year != local.year
    return f"{weekday_short(tr, local.date())} {date_short(tr, local.date(), with_year=with_year)}"


def _and(tr: Translator, items: list[str]) -> str:
    """``Montag``, ``Montag und Donnerstag``, ``Montag, Mittwoch und Freitag``."""
    if len(items) <= 1:
        return "".join(items)
    return tr.text("when.and", items=", ".join(items[:-1]), last=items[-1])


def _monthday(tr: Translator, day: int) -> str:
    """A day of the month as an ordinal: ``15.`` / ``15th``, or the last day."""
    if day < 0:
        return tr.text("when.day.last")
    if tr.language == "en":
        suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        return f"{day}{suffix}"
    return f"{day}."


def _month_day(tr: Translator, month: int, day: int) -> str:
    """``1. März`` / ``March 1`` (no year: the rule repeats every year)."""
    name = str(get_month_names("wide", locale=tr.language)[month])
    return f"{name} {day}" if tr.language == "en" else f"{day}. {name}"


def describe_rule(tr: Translator, summary: RuleSummary) -> str:
    """A recurrence rule in words: ``jeden Dienstag um 18:00``, ``werktags um 8:00``,
    ``jeden ersten Dienstag im Monat um 17:00 bis 31.03.2027`` (English in English AGs).

    Rules that skip months without their day (``monatlich am 31.``) say so.
    """
    at = time_text(tr, summary.local_time)
    n = summary.interval
    days = _and(tr, [str(get_day_names("wide", locale=tr.language)[d]) for d in summary.weekdays])
    if summary.freq == "DAILY":
        text = tr.text("when.rule.daily", time=at) if n == 1 else tr.text("when.rule.days", n=n, time=at)
    elif summary.freq == "WEEKLY":
        if not days:
            text = tr.text("when.rule.weekly_any", time=at)
        elif summary.workdays:
            text = tr.text("when.rule.workdays", time=at)
        elif n == 1:
            text = tr.text("when.rule.weekly", days=days, time=at)
        elif n == 2:
            text = tr.text("when.rule.every_other_week", days=days, time=at)
        else:
            text = tr.text("when.rule.weeks", n=n, days=days, time=at)
    elif summary.freq == "MONTHLY":
        if summary.setpos is not None and summary.weekdays:
            ordinal = tr.text(_ORDINALS.get(summary.setpos, "when.ordinal.first"))
            if n == 1:
                text = tr.text("when.rule.monthly_weekday", ordinal=ordinal, weekday=days, time=at)
            else:
                text = tr.text("when.rule.months_weekday", n=n, ordinal=ordinal, weekday=days, time=at)
        elif summary.monthday is not None:
            day = _monthday(tr, summary.monthday)
            if n == 1:
                text = tr.text("when.rule.monthly_day", day=day, time=at)
            else:
                text = tr.text("when.rule.months_day", n=n, day=day, time=at)
        else:
            text = tr.text("when.rule.monthly_any", time=at)
    elif summary.month is not None and summary.monthday is not None:
        day = _month_day(tr, summary.month, summary.monthday)
        if n == 1:
            text = tr.text("when.rule.yearly", date=day, time=at)
        else:
            text = tr.text("when.rule.years", n=n, date=day, time=at)
    else:
        text = tr.text("when.rule.yearly_any", time=at)
    if summary.until is not None:
        text = tr.text("when.rule.until", rule=text, until=tr.date(summary.until))
    if summary.skips:
        text = tr.text("when.rule.skips", rule=text)
    return text


def describe_when(tr: Translator, when: When, *, count: int = NEXT_SHOWN, now: datetime | None = None) -> str:
    """What was understood, for a confirmation: a one-off moment in full (``Di, 24.11.2026 um
    18:00``), a series in words with its next ``count`` days (``jeden Dienstag um 18:00
    (nächste: Di 24.11., Di 1.12., Di 8.12.)``).

    Args:
        tr: Translator of the AG (language and timezone).
        when: The understood time (occurrences are listed from ``when.first`` on).
        count: How many coming occurrences a series lists.
        now: The current moment; dates in another year than this one show their year.
    """
    summary = when.summary
    if summary is None:
        return moment_text(tr, when.first)
    rule = describe_rule(tr, summary)
    coming = when.occurrences(count)
    if not coming:
        return rule
    reference = now if now is not None else when.first
    dates = ", ".join(day_short(tr, moment, now=reference) for moment in coming)
    return tr.text("when.recurring", rule=rule, dates=dates)
