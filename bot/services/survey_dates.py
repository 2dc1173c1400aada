"""Reading a date typed as a survey answer (pure): past and future dates, a month or a year for
its first day, dates without a year for the nearest such day.

The bot's time grammar (:func:`bot.services.when.parse_when`) reads what it can ("15.01.2024",
"gestern", "nächsten Freitag"); it looks ahead, so a survey date may also lie in the past ("seit
März 2024"), and months and years stand for their first day, which this module adds.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import get_month_names

from bot.core.sanitize import echo
from bot.services.survey_input import MAX_INPUT, AnswerError, prepared, variants
from bot.services.text import fold
from bot.services.when import MAX_YEARS, WhenError, parse_when

# Leading words of a date answer ("seit März 2024", "am 3.12.", "in May 2024"); "seit"/"since"
# also say the date lies in the past. The time grammar gets the text without the words it does
# not know (_START_WORDS): it reads "am", "den", "in 2 Tagen" itself.
_DATE_PREFIX = re.compile(r"(?:(?:seit|since|ab|from|am|on|vom|von|im|in|den|dem|zum|the|of)\s+)+")
_START_WORDS = re.compile(r"(?:seit|since|ab|from|vom|von)\s+")
_YEAR_ONLY = re.compile(r"(?P<y>[0-9]{4})")
_MONTH_YEAR_NUMERIC = re.compile(r"(?P<m>[0-9]{1,2})\s*[./-]\s*(?P<y>[0-9]{4})")
_DAY_MONTH = re.compile(r"(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.?")
_PART_DAYS = {"anfang": 1, "beginning of": 1, "start of": 1, "mitte": 15, "mid": 15, "ende": -1, "end of": -1}


@cache
def _months() -> dict[str, int]:
    """Folded month names of both languages (babel's CLDR data), full and abbreviated."""
    names: dict[str, int] = {}
    for locale in ("de", "en"):
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for month, name in get_month_names(width, context, locale).items():
                    for variant in variants(str(name).rstrip(".")):
                        names[variant] = month
    names["sept"] = 9
    return names


@cache
def _month_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    months = "|".join(re.escape(m) for m in sorted(_months(), key=len, reverse=True))
    parts = "|".join(sorted(_PART_DAYS, key=len, reverse=True))
    month_year = re.compile(rf"(?:(?P<part>{parts})\s+)?(?P<mon>{months})\.?(?:\s*(?P<y>[0-9]{{4}}))?")
    day_month = re.compile(
        rf"(?P<d>[0-9]{{1,2}})(?:\.|st|nd|rd|th)?\s*(?:of\s+)?(?P<mon>{months})\.?"
        rf"|(?P<mon2>{months})\.?\s+(?P<d2>[0-9]{{1,2}})(?:st|nd|rd|th|\.)?"
    )
    return month_year, day_month


def _day(year: int, month: int, day: int) -> date | None:
    """The date, or ``None`` if it does not exist; ``day`` -1 is the month's last."""
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        return None
    if day == -1:
        day = calendar.monthrange(year, month)[1]
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest(make: Callable[[int], date | None], today: date, past: bool) -> date | None:
    """A date typed without a year: the nearest such date to today, or with "seit" the latest
    one not after today (asked in January, "seit März" is last March)."""
    candidates = [d for year in range(today.year - 4, today.year + 5) if (d := make(year))]
    if past:
        candidates = [d for d in candidates if d <= today]
    return min(candidates, key=lambda d: (abs((d - today).days), d), default=None)


def date_answer(text: str, language: str, now: datetime, tz: str) -> str:
    """A calendar date as ISO string: past and future dates, a month for its first day."""
    value = prepared(text)
    given = echo(value)
    if len(value) > MAX_INPUT:
        raise AnswerError("survey.input.not_a_date", given=given)
    today = now.astimezone(ZoneInfo(tz)).date()
    folded = fold(value).rstrip(" !?")
    prefix = _DATE_PREFIX.match(folded)
    past = prefix is not None and re.search(r"\b(?:seit|since)\b", prefix.group(0)) is not None
    found, matched = _own_date(folded[prefix.end() :] if prefix else folded, today, past)
    if not matched:
        start = _START_WORDS.match(folded)
        found = _grammar_date(folded[start.end() :] if start else folded, language, now, tz, given)
    if found is None:
        raise AnswerError("survey.input.no_such_date", given=given)
    if found.year > today.year + MAX_YEARS:
        raise AnswerError("survey.input.date_too_far", given=given, years=MAX_YEARS)
    return found.isoformat()


def _own_date(text: str, today: date, past: bool) -> tuple[date | None, bool]:
    """What the time grammar reads differently in a survey: a month ("Mai 2024", "05/2024",
    "Anfang März"), a year, and dates without a year (the nearest, not the next). Returns the
    date (``None`` if it does not exist) and whether ``text`` was one of these at all."""
    month_year, day_month = _month_patterns()
    if m := _YEAR_ONLY.fullmatch(text):
        return _day(int(m["y"]), 1, 1), True
    if m := _MONTH_YEAR_NUMERIC.fullmatch(text):
        return _day(int(m["y"]), int(m["m"]), 1), True
    if m := month_year.fullmatch(text):
        month, day = _months()[m["mon"]], _PART_DAYS.get(m["part"] or "", 1)
        if m["y"]:
            return _day(int(m["y"]), month, day), True
        return _nearest(lambda y: _day(y, month, day), today, past), True
    if m := _DAY_MONTH.fullmatch(text):
        day, month = int(m["d"]), int(m["m"])
        return _nearest(lambda y: _day(y, month, day), today, past), True
    if m := day_month.fullmatch(text):
        day, month = int(m["d"] or m["d2"]), _months()[m["mon"] or m["mon2"]]
        return _nearest(lambda y: _day(y, month, day), today, past), True
    return None, False


def _grammar_date(text: str, language: str, now: datetime, tz: str, given: str) -> date | None:
    """A date through the time grammar ("15.01.2024", "gestern", "heute", "2024-05-01",
    "nächsten Freitag"); a past date is what the grammar refuses as ``when.past``."""
    try:
        when = parse_when(text, now=now, tz=tz, language=language)
    except WhenError as error:
        if error.key == "when.past" and error.moment is not None:
            return error.moment.astimezone(ZoneInfo(tz)).date()
        if error.key == "when.impossible":
            return None
        if error.key == "when.too_far":
            raise AnswerError("survey.input.date_too_far", given=given, years=MAX_YEARS) from None
        raise AnswerError("survey.input.not_a_date", given=given) from None
    if when.rule is not None:  # "jeden Dienstag" is no date
        raise AnswerError("survey.input.not_a_date", given=given)
    return when.local_start.date()
