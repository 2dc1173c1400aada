"""The dateparser fallback: free-form absolute dates the grammar does not know.

Who does what: **dateparser** reads what the grammar leaves over ("3/12/2026", "03-Dec-2026",
"Thursday, December the 3rd, 2026"), but only when that is made of numbers, date punctuation
and month or weekday names (:func:`_date_words`: dateparser silently drops words it does not
know, so "morgen 2 Stunden" would become tomorrow at 9:00), and its answer counts only when it
has a day and a month (``REQUIRE_PARTS``). It is never asked about times, relative days or
weekdays, which it gets wrong in German ("Freitag 9 Uhr" as the 9th of the month); those are the
grammar's (:mod:`.reading`). dateparser is slow to import, so it is imported on first use.
"""

from __future__ import annotations

import re
import warnings
from datetime import date
from typing import TYPE_CHECKING

from bot.services.when.lexicon import _DE, _EN, _alt, _languages
from bot.services.when.values import _NotUnderstood

if TYPE_CHECKING:
    from bot.services.when.resolve import _Context


# What the dateparser fallback may see: numbers, date punctuation, month and weekday names.
_NAMES = _alt({**_DE.months, **_EN.months, **_DE.weekdays, **_EN.weekdays})
_DATE_TOKEN = re.compile(rf"\d{{1,4}}(?:st|nd|rd|th|\.)?|[\d/.-]+|(?:{_NAMES})\.?|of|the|den|der|-")
_MONTH_OR_NUMERIC = re.compile(rf"\b(?:{_alt({**_DE.months, **_EN.months})})\b|\d[/.-]\d")


def _date_words(text: str) -> bool:
    """Whether ``text`` is only the stuff of an absolute date (numbers, month and weekday names),
    so dateparser may arrange it. dateparser accepts a lot and silently drops what it does not
    know ("morgen 2 Stunden" would become tomorrow at 9:00), so nothing else goes to it."""
    tokens = re.split(r"[\s-]+", text)
    return bool(_MONTH_OR_NUMERIC.search(text)) and all(_DATE_TOKEN.fullmatch(t) for t in tokens if t)


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
