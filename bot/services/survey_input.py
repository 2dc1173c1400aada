"""Reading typed survey answers: numbers the way a German reader means them, yes/no, choices,
dates and free text (pure: no database, no clock).

The survey engine asks one question at a time; whatever the person types goes through
:func:`parse_answer` (or :func:`parse_yes_no` for the criteria of the definition), which returns
the JSON-friendly value stored with the response or raises :class:`AnswerError`, whose message
the engine shows before asking again. Skipping an optional question (:func:`is_skip`) is decided
by the engine before it calls this module.

Who does what: our own small grammar (:mod:`re`) reads numbers, because no library reads
"1.200" as 1200 and "12.5" as 12.5 in one German answer; :mod:`decimal` keeps the digits exact
until the value is stored; **babel** formats numbers and amounts; dates are read by
:mod:`bot.services.survey_dates` (the bot's time grammar, plus past dates and months).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, format_decimal

from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.sanitize import echo, scrub
from bot.services.survey_model import Option, Question, QuestionType
from bot.services.text import clean, fold

Answer = str | list[str] | bool | float | int
"""A stored answer: option id, option ids, yes/no, number, ISO date or text."""

MAX_INPUT = 200
"""Longest answer read as a number, choice, yes/no or date; longer is refused before any pattern
runs (free text has its own limit, ``Question.max_length``)."""
HOURS_PER_MONTH = 744
"""The most hours a month has (31 × 24): the upper bound of every hours question."""
CAP = Decimal(10) ** 12
"""Largest amount or number taken at all, so a slip of the finger cannot make totals absurd."""

SKIP_WORDS = frozenset(
    {
        "-", "–", "—", "/weiter", "weiter", "skip", "/skip", "überspringen", "keine angabe",
        "k.a.", "k. a.", "ka", "n/a", "n.a.", "weiß nicht", "keine ahnung", "pass", "next",
        "no answer", "don't know", "dont know",
    }
)  # fmt: skip
"""Typed words meaning "skip this optional question" (compared folded, so "Überspringen!" and
"ueberspringen" count too)."""


class AnswerError(UserError):
    """A typed answer that does not fit its question; ``key`` and ``params`` make the message
    (``tr.text(error.key, **error.params)``) shown before the question is asked again."""


# --------------------------------------------------------------------------------------------
# Skipping and yes/no


_SKIP_FOLDED = frozenset(fold(word) for word in SKIP_WORDS)


def is_skip(text: str) -> bool:
    """Whether ``text`` asks to skip an optional question ("-", "weiter", "k.A.", "skip")."""
    if len(text) > 40:
        return False
    folded = fold(text)
    return folded in _SKIP_FOLDED or folded.rstrip(".!") in _SKIP_FOLDED


# Folded spellings in both languages (a German member of an English AG types "ja").
_YES = frozenset(
    {
        "ja", "j", "jo", "joa", "jep", "jap", "jup", "jawohl", "jupp", "stimmt", "genau", "klar",
        "sicher", "richtig", "korrekt", "natuerlich", "auf jeden fall", "na klar", "yes", "y",
        "yep", "yeah", "yup", "sure", "true", "👍", "✅", "✔", "☑", "✓",
    }
)  # fmt: skip
_NO = frozenset(
    {
        "nein", "n", "noe", "ne", "nee", "nicht", "keinesfalls", "auf keinen fall", "no", "nope",
        "nah", "false", "not", "👎", "❌", "✖", "✗",
    }
)  # fmt: skip
# Emoji variation selectors and skin tones: "👍🏽" is "👍".
_EMOJI_MODIFIERS = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")
_EDGE_PUNCTUATION = " .,;:!?()\"'„“”‚‘’«»-"
_FIRST_WORD = re.compile(r"[^\s.,;:!?()]+")


def parse_yes_no(text: str) -> bool:
    """Read a yes/no answer: "ja", "j", "jep", "stimmt", "👍", "ja, meistens" are yes; "nein",
    "nö", "nee", "nicht", "👎" are no (case and punctuation do not matter).

    Raises:
        AnswerError: ``survey.input.empty``, or ``survey.input.yes_no`` for anything else.
    """
    value = prepared(text)
    if len(value) <= MAX_INPUT:
        folded = _EMOJI_MODIFIERS.sub("", fold(value)).strip(_EDGE_PUNCTUATION)
        first = _FIRST_WORD.match(folded)
        for candidate in (folded, first.group(0) if first else ""):
            if candidate in _YES:
                return True
            if candidate in _NO:
                return False
    raise AnswerError("survey.input.yes_no", given=echo(value))


def prepared(text: str) -> str:
    """``text`` scrubbed and stripped; empty input is an error for every type."""
    value = scrub(text or "").strip()
    if not value:
        raise AnswerError("survey.input.empty")
    return value


# --------------------------------------------------------------------------------------------
# Numbers

# One number: digits with "." and "," inside, or a leading separator (",5", but not the dot of
# "ca.20"); a sign right before.
_NUMBER = re.compile(r"(?P<sign>[-+])?(?P<body>[0-9](?:[0-9.,]*[0-9])?|(?<![^\W\d_])[.,][0-9]+)")
# "1 200", "1'200", "1 200" (non-breaking spaces are plain spaces after folding).
_GROUP_SPACE = re.compile(r"(?<=[0-9])[ '’](?=[0-9]{3}(?![0-9]))")
# The dash of "150,-" (money without cents).
_NO_CENTS = re.compile(r"(?<=[0-9])[.,]-+")
_RANGE = re.compile(r"[0-9]\s*(?:-|bis|to|until)\s*[-+]?[.,]?[0-9]|\b(?:zwischen|between)\b")
_TOKEN = re.compile(r"[^\W\d_]+|\S")
_GLUED = re.compile(r"[0-9][^\W\d_]+[0-9]")  # "1e5", "2x3": no number a person writes

# Words and signs that may stand around a number; all folded.
_APPROXIMATE = {"ca", "circa", "zirka", "cirka", "etwa", "ungefaehr", "ungef", "rund", "about", "approx"}
_APPROXIMATE |= {"approximately", "around", "roughly", "~", "≈"}
_CURRENCY = {"€", "eur", "euro", "euros"}
_HOURS = {"h", "std", "stdn", "stunden", "stunde", "hours", "hour", "hrs", "hr"}
_PEOPLE = {"personen", "person", "pers", "leute", "menschen", "people", "persons"}
_PUNCTUATION = set(".,:;!?()/")
_COMMON = frozenset(_APPROXIMATE | _CURRENCY | _HOURS | _PEOPLE | _PUNCTUATION)
# An hours question is per month: saying so is fine (not "pro Woche", which changes the number).
_PER_MONTH = frozenset({"pro", "im", "je", "per", "a", "monat", "monatlich", "mtl", "month", "monthly"})


def parse_german_number(text: str, *, language: str = "de") -> float:
    """Read one number the way a German reader means it.

    "12,5" and "12.5" are 12.5; a dot followed by exactly three digits separates thousands
    ("1.200" is 1200, "1.234.567" too), as do spaces ("1 200"); "1.200,50" is 1200.5; "ca. 20",
    "~20", "20 Std.", "150 EUR", "€ 150", "150,-", "5 Personen" are just the number. With
    ``language="en"`` a comma followed by three digits separates thousands and a single dot is
    the decimal point ("1,200.50"), but "12,5" is still 12.5. Negative numbers are returned
    as such (the question's range refuses them).

    Raises:
        AnswerError: ``survey.input.empty``, ``survey.input.not_a_number`` (words only, an
            unknown word, "1e5", "NaN", too long), ``survey.input.range_given`` ("5-10") or
            ``survey.input.one_number`` (several numbers).
    """
    return float(_read_number(text, language, frozenset()))


def _read_number(text: str, language: str, extra_words: frozenset[str]) -> Decimal:
    """The number in ``text`` (see :func:`parse_german_number`); ``extra_words`` may also stand
    around it (the question's unit)."""
    value = prepared(text)
    given = echo(value)
    if len(value) > MAX_INPUT:
        raise AnswerError("survey.input.not_a_number", given=given)
    normalized = fold(value).replace("−", "-").replace("–", "-").replace("—", "-")
    normalized = _NO_CENTS.sub("", _GROUP_SPACE.sub("", normalized))
    numbers = list(_NUMBER.finditer(normalized))
    if not numbers or _GLUED.search(normalized):
        raise AnswerError("survey.input.not_a_number", given=given)
    if len(numbers) > 1 or _RANGE.search(normalized):
        if _RANGE.search(normalized):
            raise AnswerError("survey.input.range_given", given=given)
        raise AnswerError("survey.input.one_number", given=given)
    match = numbers[0]
    rest = normalized[: match.start()] + " " + normalized[match.end() :]
    allowed = _COMMON | extra_words
    number = _decimal(match.group("body"), language)
    if number is None or any(token not in allowed for token in _TOKEN.findall(rest)):
        raise AnswerError("survey.input.not_a_number", given=given)
    if match.group("sign") == "-":
        number = -number
    return number + 0  # "+ 0" turns "-0" into 0


def _decimal(body: str, language: str) -> Decimal | None:
    """The digits of one number with its separators read; ``None`` if they make no number."""
    if body[0] in ".,":
        body = "0" + body
    if "," in body and "." in body:
        # Both separators: the last one is the decimal point, in either language ("1.200,50").
        point = "," if body.rfind(",") > body.rfind(".") else "."
        whole, _, fraction = body.rpartition(point)
        group = "." if point == "," else ","
        if not _grouped(whole, group):
            return None
        return Decimal(f"{whole.replace(group, '')}.{fraction}")
    separator = "," if "," in body else "." if "." in body else None
    if separator is None:
        return Decimal(body)
    parts = body.split(separator)
    if len(parts) > 2:  # several separators of one kind can only be thousands ("1.234.567")
        return Decimal(body.replace(separator, "")) if _grouped(body, separator) else None
    whole, fraction = parts
    thousands = "," if language == "en" else "."
    if separator == thousands and len(fraction) == 3 and _grouped(body, separator):
        return Decimal(whole + fraction)
    return Decimal(f"{whole}.{fraction}")


def _grouped(whole: str, separator: str) -> bool:
    """Whether ``whole`` is digits in groups of three after a first group of one to three
    ("1.234.567"); a first group "0" or "012" is no thousands grouping ("0.500" is a half)."""
    groups = whole.split(separator)
    first, others = groups[0], groups[1:]
    if not (1 <= len(first) <= 3 and first.isdigit()) or (others and first.startswith("0")):
        return False
    return all(len(g) == 3 and g.isdigit() for g in others)


def format_number(value: float, language: str, *, money: bool = False) -> str:
    """A number as the person's language writes it: "1.200,5" / "1,200.5"; with ``money``
    "1.200,50 €" / "€1,200.50" (a plain space before the euro sign)."""
    locale = "en" if language == "en" else "de"
    if money:
        return format_currency(value, "EUR", locale=locale).replace("\xa0", " ")
    return format_decimal(value, locale=locale)


def _number_answer(question: Question, text: str, language: str) -> float | int:
    """A number, money or hours answer, checked against the question's range."""
    qtype = question.type
    extra = _unit_words(question)
    if qtype is QuestionType.HOURS:
        extra |= _PER_MONTH
    value = _read_number(text, language, extra)
    low = None if question.minimum is None else Decimal(str(question.minimum))
    high = None if question.maximum is None else Decimal(str(question.maximum))
    if qtype is QuestionType.HOURS:
        # The template may narrow the hours, never widen them past a month's.
        low = max(low, Decimal(0)) if low is not None else Decimal(0)
        high = min(high, Decimal(HOURS_PER_MONTH)) if high is not None else Decimal(HOURS_PER_MONTH)
    elif qtype is QuestionType.MONEY:
        low = max(low, Decimal(0)) if low is not None else Decimal(0)
    too_low = (low is not None and value < low) or value < -CAP
    too_high = (high is not None and value > high) or value > CAP
    if too_low or too_high:
        # A bound that is only the sanity cap is named when the value broke it.
        shown_low = low if low is not None else (-CAP if value < -CAP else None)
        shown_high = high if high is not None else (CAP if value > CAP else None)
        raise _range_error(question, language, shown_low, shown_high)
    if question.integer and value != value.to_integral_value():
        raise AnswerError("survey.input.whole_number")
    if qtype is QuestionType.MONEY:
        return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if qtype is QuestionType.NUMBER and question.integer:
        return int(value)
    return float(value)


def _unit_words(question: Question) -> frozenset[str]:
    """The folded words and signs of the question's unit, in both languages."""
    if question.unit is None:
        return frozenset()
    texts = (question.unit.de, question.unit.en or "")
    return frozenset(token for t in texts for token in _TOKEN.findall(fold(t)))


# Range messages by (kind, lower bound shown, upper bound shown); "unit" names the unit.
_RANGE_KEYS = {
    ("money", True, True): "survey.input.money_range",
    ("money", True, False): "survey.input.money_min",
    ("money", False, True): "survey.input.money_max",
    ("unit", True, True): "survey.input.number_range_unit",
    ("unit", True, False): "survey.input.number_min_unit",
    ("unit", False, True): "survey.input.number_max_unit",
    ("plain", True, True): "survey.input.number_range",
    ("plain", True, False): "survey.input.number_min",
    ("plain", False, True): "survey.input.number_max",
}


def _range_error(question: Question, language: str, low: Decimal | None, high: Decimal | None) -> AnswerError:
    """``Bitte eine Zahl zwischen 0 und 744 Stunden angeben.`` and its siblings."""
    params: dict[str, str] = {}
    if low is not None:
        params["minimum"] = format_number(float(low), language)
    if high is not None:
        params["maximum"] = format_number(float(high), language)
    unit = question.unit.get(language) if question.unit else None
    if unit is None and question.type is QuestionType.HOURS:
        unit = Translator(language).text("survey.input.unit_hours")
    kind = "money" if question.type is QuestionType.MONEY else "unit" if unit else "plain"
    if kind == "unit":
        params["unit"] = unit or ""
    return AnswerError(_RANGE_KEYS[kind, low is not None, high is not None], **params)


# --------------------------------------------------------------------------------------------
# Choices

_OPTION_NUMBER = re.compile(r"(?:nr|nummer|no|number|option|#)?\s*\.?\s*#?\s*([0-9]{1,4})\s*[.)]?")
_SEPARATOR = re.compile(r"(\s*(?:[,;&/+]|\b(?:und|and|sowie)\b)\s*)", re.IGNORECASE)
_NUMBERS_BY_SPACES = re.compile(r"[0-9]+(?:\s+[0-9]+)+")
_ALL = frozenset({"alle", "all", "alles"})
# A label with separators in it ("Kunst und Kultur") is found among up to this many parts.
_LABEL_PARTS = 4


def variants(text: str) -> set[str]:
    """How a text may be typed: folded with "ä" as "ae" (:func:`fold`) and as "a"."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = " ".join("".join(c for c in plain if not unicodedata.combining(c)).split())
    return {fold(text), plain}


def _names(option: Option) -> set[str]:
    """The option's id and labels in every typed form."""
    names = variants(option.id) | variants(option.label.de)
    return names | variants(option.label.en) if option.label.en else names


def _exact(question: Question, text: str) -> Option | None:
    """The option whose number, id or label ``text`` is (no prefixes)."""
    typed = variants(text.strip().strip(_EDGE_PUNCTUATION))
    if (m := _OPTION_NUMBER.fullmatch(fold(text).strip(" !"))) is not None:
        number = int(m.group(1))
        return question.options[number - 1] if 1 <= number <= len(question.options) else None
    return next((o for o in question.options if typed & _names(o)), None)


def _option(question: Question, text: str, language: str, unknown_key: str) -> Option:
    """The option ``text`` names: its number, id, label, or a unique beginning of at least three
    characters of the label or of one of its words ("Stift" for "Stiftung")."""
    found = _exact(question, text)
    if found is not None:
        return found
    typed = {t for t in variants(text.strip().strip(_EDGE_PUNCTUATION)) if len(t) >= 3}
    if typed and not _OPTION_NUMBER.fullmatch(fold(text).strip(" !")):
        # The beginning of a label first, then of one of its words ("Hoch" for "Schule / Hochschule").
        for words in (False, True):
            matches = [o for o in question.options if _begins(o, typed, words)]
            if len(matches) == 1:
                return matches[0]
            if matches:
                labels = ", ".join(o.label.get(language) for o in matches)
                raise AnswerError("survey.input.ambiguous_option", given=echo(text.strip()), options=labels)
    raise AnswerError(unknown_key, given=echo(text.strip()), last=len(question.options))


def _begins(option: Option, typed: set[str], words: bool) -> bool:
    """Whether the option's id or a label (or with ``words`` one of their words) begins with one
    of the ``typed`` forms."""
    names = {w for n in _names(option) for w in re.split(r"[\s/()-]+", n)} if words else _names(option)
    return any(name.startswith(t) for name in names for t in typed)


def _choice_answer(question: Question, text: str, language: str) -> str:
    value = prepared(text)
    if len(value) > MAX_INPUT:
        raise AnswerError("survey.input.unknown_option", given=echo(value), last=len(question.options))
    return _option(question, value, language, "survey.input.unknown_option").id


def _multi_answer(question: Question, text: str, language: str) -> list[str]:
    """Several options, separated by commas, "und", "&", "/", ";" (numbers also by spaces)."""
    value = prepared(text)
    if len(value) > MAX_INPUT:
        raise AnswerError("survey.input.unknown_part", given=echo(value), last=len(question.options))
    if fold(value).strip(" .!") in _ALL:
        return [o.id for o in question.options]
    whole = _exact(question, value)
    chosen: set[str] = {whole.id} if whole is not None else set()
    parts = _SEPARATOR.split(value)  # parts at even indexes, the separators between them
    i = 0
    while whole is None and i < len(parts):
        # Longest run of parts first, so a label with a separator in it wins over its pieces.
        for j in range(min(len(parts) - 1, i + 2 * _LABEL_PARTS), i, -2):
            if (found := _exact(question, "".join(parts[i : j + 1]))) is not None:
                chosen.add(found.id)
                i = j + 2
                break
        else:
            piece = parts[i].strip()
            if _NUMBERS_BY_SPACES.fullmatch(piece):
                pieces = piece.split()
            else:
                pieces = [piece] if piece.strip(_EDGE_PUNCTUATION) else []
            for p in pieces:
                chosen.add(_option(question, p, language, "survey.input.unknown_part").id)
            i += 2
    if not chosen:
        raise AnswerError("survey.input.empty")
    return [o.id for o in question.options if o.id in chosen]


# --------------------------------------------------------------------------------------------
# Text and the entry point


def _text_answer(question: Question, text: str) -> str:
    """Free text, cleaned like every text the bot stores, up to ``max_length`` characters."""
    try:
        value = clean(text, limit=sys.maxsize)
    except UserError:  # the only error without a limit: nothing left after cleaning
        raise AnswerError("survey.input.empty") from None
    if len(value) > question.max_length:
        raise AnswerError("survey.input.too_long", limit=question.max_length, length=len(value))
    return value


def parse_answer(question: Question, text: str, *, language: str = "de", now: datetime, tz: str) -> Answer:
    """Read a typed answer to ``question`` into the value stored with the response.

    Choice: the option id. Multi: the option ids in the template's order, no duplicates.
    Yes/no: a bool. Number: an int if ``question.integer``, else a float. Money: a float
    rounded to cents. Hours: a float (per month). Date: an ISO date ("2024-05-01"). Text: the
    cleaned text.

    Args:
        question: The question asked.
        text: What the person typed (not a skip word: the engine handles those first).
        language: The respondent's language (``de``/``en``): English numbers use "," for
            thousands, and messages name units in it.
        now: The current moment (aware), for relative dates ("gestern").
        tz: IANA timezone of the AG, for the local calendar date.

    Raises:
        AnswerError: The answer does not fit; its message says what would.
        ValueError: A criteria question (the engine asks each criterion with
            :func:`parse_yes_no`).
    """
    qtype = question.type
    if qtype is QuestionType.CHOICE:
        return _choice_answer(question, text, language)
    if qtype is QuestionType.MULTI:
        return _multi_answer(question, text, language)
    if qtype is QuestionType.YESNO:
        return parse_yes_no(text)
    if qtype in (QuestionType.NUMBER, QuestionType.MONEY, QuestionType.HOURS):
        return _number_answer(question, text, language)
    if qtype is QuestionType.DATE:
        # Imported here: survey_dates builds on this module's errors and helpers.
        from bot.services.survey_dates import date_answer

        return date_answer(text, language, now, tz)
    if qtype is QuestionType.TEXT:
        return _text_answer(question, text)
    raise ValueError(f"{qtype} questions are asked criterion by criterion with parse_yes_no")
