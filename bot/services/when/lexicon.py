"""The lexical layer of the time grammar: words and patterns per language, and folding.

Everything the grammar matches is built here once, at import: per language (German and
English) a vocabulary (:class:`_Words`: weekday and month names, number words, ordinals, the
words for days, parts of the day and units, fillers) and the compiled regular expressions made
from it (:class:`_Patterns`). They are applied to folded text (:func:`_normalize`: casefolded,
ä → ae, ß → ss, accents dropped, single spaces, via :func:`bot.services.text.fold`), so
"Nächsten", "naechsten" and "nächsten" match alike.

Who does what: only :mod:`re` (the standard library) — these patterns are our own grammar,
used instead of dateparser for everything structured (see :mod:`bot.services.when`). Which
pattern is tried when is decided in :mod:`.reading`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.services.text import fold


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
    days={"vorgestern": -2, "gestern": -1, "heute": 0, "morgen": 1, "uebermorgen": 2},
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
    days={"yesterday": -1, "today": 0, "tomorrow": 1, "the day after tomorrow": 2, "day after tomorrow": 2},
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


# First letter of "Tage/Wochen/Monate/Jahre", "days/weeks/months/years" → frequency.
_UNIT_FREQ = {"t": "DAILY", "d": "DAILY", "w": "WEEKLY", "m": "MONTHLY", "j": "YEARLY", "y": "YEARLY"}
_ORDINAL_INTERVALS = {
    "zweiten": 2, "zweite": 2, "dritten": 3, "dritte": 3, "vierten": 4, "vierte": 4,
    "second": 2, "third": 3, "fourth": 4,
}  # fmt: skip


# Words that tell the fractional offsets apart ("in einer Viertelstunde"); "half" alone is 30.
_HALVES = {"viertel": 15, "quarter": 15, "anderthalb": 90, "eineinhalb": 90, "and a half": 90}


_LONE_HOUR = re.compile(r"(?<![\w.:])(?P<h>\d{1,2})(?![\w.:])")


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


def _languages(language: str) -> tuple[str, str]:
    return ("en", "de") if language == "en" else ("de", "en")
