"""Reading typed survey answers (bot/services/survey_input.py): numbers, yes/no, choices, dates,
text, and the messages shown when an answer does not fit.

Everything is pure: a fixed ``now`` and the AG's timezone go in; messages are checked as the
engine shows them, rendered through the catalog (``Translator(language).text(key, **params)``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.i18n import Translator
from bot.services.survey_input import (
    SKIP_WORDS,
    AnswerError,
    format_number,
    is_skip,
    parse_answer,
    parse_german_number,
    parse_yes_no,
)
from bot.services.survey_model import Option, Question, QuestionType, Text

TZ = "Europe/Berlin"
# Saturday, 21 November 2026, 10:00 in Berlin.
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def question(qtype: QuestionType, **kwargs) -> Question:
    return Question(id="q", type=qtype, text=Text("Frage?", "Question?"), **kwargs)


NUMBER = question(QuestionType.NUMBER)
HOURS = question(QuestionType.HOURS)
MONEY = question(QuestionType.MONEY)
PEOPLE = question(QuestionType.NUMBER, integer=True, minimum=1, maximum=500, unit=Text("Personen", "people"))
KINDS = question(
    QuestionType.CHOICE,
    options=tuple(
        Option(option_id, Text(de, en))
        for option_id, de, en in [
            ("stiftung", "Stiftung", "Foundation"),
            ("kommune", "Kommune", "Municipality"),
            ("verein", "Verein", "Association"),
            ("verband", "Verband", "Federation"),
            ("schule", "Schule / Hochschule", "School / university"),
            ("buergerstiftung", "Bürgerstiftung", "Community foundation"),
        ]
    ),
)
CONTRIBUTIONS = question(
    QuestionType.MULTI,
    options=(
        Option("time", Text("Zeit", "Time")),
        Option("money", Text("Geld", "Money")),
        Option("goods", Text("Sachgüter", "Goods")),
        Option("culture", Text("Kunst und Kultur", "Arts and culture")),
    ),
)


def answer(q: Question, text: str, language: str = "de"):
    return parse_answer(q, text, language=language, now=NOW, tz=TZ)


def error(q: Question, text: str, language: str = "de") -> AnswerError:
    with pytest.raises(AnswerError) as caught:
        answer(q, text, language)
    return caught.value


def message(err: AnswerError, language: str = "de") -> str:
    return Translator(language).text(err.key, **err.params)


# --------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,5", 12.5),
        ("12.5", 12.5),
        ("12,50 €", 12.5),
        ("1.200", 1200),
        ("1.200,50", 1200.5),
        ("1 200", 1200),
        ("1\u202f200", 1200),
        ("1'200", 1200),
        ("1.234.567", 1234567),
        ("ca. 20", 20),
        ("ca.20", 20),
        ("Ca 20 Std", 20),
        ("etwa 20", 20),
        ("~20", 20),
        ("ungefähr 20", 20),
        ("20 Std.", 20),
        ("20 Stunden", 20),
        ("20 h", 20),
        ("20h", 20),
        ("150 EUR", 150),
        ("150 Euro", 150),
        ("€ 150", 150),
        ("150€", 150),
        ("150,-", 150),
        ("5 Personen", 5),
        ("0.500", 0.5),  # a first group "0" is no thousands grouping
        ("1.2345", 1.2345),
        (",5", 0.5),
        ("20.", 20),
        ("+7", 7),
        ("-3", -3),  # negative numbers are read; the question's range refuses them
        ("１２,５", 12.5),  # full-width digits
    ],
)
def test_german_numbers(text, expected):
    assert parse_german_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,200.50", 1200.5), ("1,200", 1200), ("12,5", 12.5), ("1.200", 1.2), ("€1,200.50", 1200.5)],
)
def test_english_numbers(text, expected):
    assert parse_german_number(text, language="en") == expected


def test_english_thousands_are_not_german_decimals():
    assert parse_german_number("1,200") == 1.2  # German: a decimal comma
    assert parse_german_number("1,200", language="en") == 1200
    # Both separators are unambiguous in either language.
    assert parse_german_number("1,200.50") == parse_german_number("1.200,50", language="en") == 1200.5


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("5-10", "survey.input.range_given"),
        ("5 – 10", "survey.input.range_given"),
        ("5 bis 10", "survey.input.range_given"),
        ("zwischen 5 und 10", "survey.input.range_given"),
        ("5 und 10", "survey.input.one_number"),
        ("20:30", "survey.input.one_number"),
        ("1e5", "survey.input.not_a_number"),
        ("NaN", "survey.input.not_a_number"),
        ("inf", "survey.input.not_a_number"),
        ("abc", "survey.input.not_a_number"),
        ("zwanzig", "survey.input.not_a_number"),
        ("5 Tsd.", "survey.input.not_a_number"),  # an unknown word may change the number
        ("1.2.3", "survey.input.not_a_number"),
        ("1.20.300", "survey.input.not_a_number"),
        ("", "survey.input.empty"),
        ("   ", "survey.input.empty"),
    ],
)
def test_rejected_numbers(text, key):
    with pytest.raises(AnswerError) as caught:
        parse_german_number(text)
    assert caught.value.key == key


def test_range_message_asks_for_one_number():
    err = error(HOURS, "5-10")
    assert message(err) == (
        "Bitte gib eine einzelne Zahl an statt eines Bereichs („5-10“) – zum Beispiel den Durchschnitt."
    )


def test_huge_input_is_refused_quickly():
    for text in ("1" * 100_000, "1." * 50_000, "1 " * 50_000, "a" * 100_000, "," * 100_000):
        started = time.perf_counter()
        with pytest.raises(AnswerError) as caught:
            answer(NUMBER, text)
        assert time.perf_counter() - started < 0.05
        assert caught.value.key == "survey.input.not_a_number"
        assert len(caught.value.params["given"]) <= 100  # the message quotes it short


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(
    st.text(max_size=60) | st.from_regex(r"[-+~ ]?[0-9.,' ]{1,20}( ?(€|EUR|Std\.|h|ca\.))?", fullmatch=True)
)
def test_parse_german_number_raises_only_answer_errors(text):
    try:
        value = parse_german_number(text)
    except AnswerError as err:
        assert err.key.startswith("survey.input.")
        assert message(err)  # every error renders
    else:
        assert value == value and abs(value) != float("inf")


# --------------------------------------------------------------------------------------------
# Number questions: ranges, units, integers


def test_hours_range_with_unit():
    err = error(HOURS, "-3")
    assert message(err) == "Bitte eine Zahl zwischen 0 und 744 Stunden angeben."
    assert message(error(HOURS, "-3", "en"), "en") == "Please enter a number between 0 and 744 hours."
    assert message(error(HOURS, "745")) == "Bitte eine Zahl zwischen 0 und 744 Stunden angeben."
    assert answer(HOURS, "744") == 744.0
    assert answer(HOURS, "20 Std. pro Monat") == 20.0
    assert answer(HOURS, "12,5") == 12.5


def test_hours_per_week_is_not_taken_as_per_month():
    assert error(HOURS, "5 Stunden pro Woche").key == "survey.input.not_a_number"


def test_hours_range_is_only_narrowed_by_the_template():
    narrow = question(QuestionType.HOURS, minimum=1, maximum=100)
    assert message(error(narrow, "0")) == "Bitte eine Zahl zwischen 1 und 100 Stunden angeben."
    wide = question(QuestionType.HOURS, minimum=-5, maximum=2000)
    assert message(error(wide, "800")) == "Bitte eine Zahl zwischen 0 und 744 Stunden angeben."


def test_number_range_without_unit():
    q = question(QuestionType.NUMBER, minimum=0, maximum=744)
    assert message(error(q, "800")) == "Bitte eine Zahl zwischen 0 und 744 angeben."
    assert message(error(q, "1.000")) == "Bitte eine Zahl zwischen 0 und 744 angeben."


def test_number_range_with_question_unit():
    assert message(error(PEOPLE, "0")) == "Bitte eine Zahl zwischen 1 und 500 Personen angeben."
    assert message(error(PEOPLE, "0", "en"), "en") == "Please enter a number between 1 and 500 people."
    assert message(error(PEOPLE, "1.200")) == "Bitte eine Zahl zwischen 1 und 500 Personen angeben."


def test_one_sided_ranges():
    low = question(QuestionType.NUMBER, minimum=1)
    assert message(error(low, "0")) == "Bitte eine Zahl ab 1 angeben."
    high = question(QuestionType.NUMBER, maximum=10, unit=Text("km"))
    assert message(error(high, "11 km")) == "Bitte eine Zahl bis 10 km angeben."
    assert answer(high, "-4 km") == -4.0  # no lower bound given


def test_unbounded_number_is_capped():
    assert answer(NUMBER, "-3") == -3.0
    assert message(error(NUMBER, "10000000000000")) == "Bitte eine Zahl bis 1.000.000.000.000 angeben."


def test_integer_questions():
    assert answer(PEOPLE, "5 Personen") == 5
    assert type(answer(PEOPLE, "5")) is int
    assert answer(PEOPLE, "5,0") == 5
    err = error(PEOPLE, "2,5")
    assert err.key == "survey.input.whole_number"
    assert message(err) == "Bitte eine ganze Zahl angeben."
    assert message(err, "en") == "Please enter a whole number."
    assert type(answer(NUMBER, "5")) is float


def test_question_unit_words_are_allowed():
    q = question(QuestionType.NUMBER, unit=Text("km pro Woche", "km per week"))
    assert answer(q, "12 km pro Woche") == 12.0
    assert answer(q, "12 km per week") == 12.0
    assert error(question(QuestionType.NUMBER), "12 km").key == "survey.input.not_a_number"
    percent = question(QuestionType.NUMBER, unit=Text("%"))
    assert answer(percent, "30 %") == 30.0


def test_money():
    assert answer(MONEY, "12,50 €") == 12.5
    assert answer(MONEY, "1.200") == 1200.0
    assert answer(MONEY, "12,345") == 12.35  # rounded to cents, half up
    assert answer(MONEY, "150,-") == 150.0
    assert answer(MONEY, "€1,200.50", "en") == 1200.5
    assert message(error(MONEY, "-3")) == "Bitte einen Betrag ab 0 € angeben."
    assert message(error(MONEY, "-3", "en"), "en") == "Please enter an amount of at least €0."
    capped = question(QuestionType.MONEY, maximum=5000)
    assert message(error(capped, "6.000 €")) == "Bitte einen Betrag zwischen 0 € und 5.000 € angeben."
    assert error(MONEY, "2000000000000").key == "survey.input.money_range"


@pytest.mark.parametrize(
    ("value", "language", "money", "expected"),
    [
        (1200.5, "de", False, "1.200,5"),
        (1200.5, "en", False, "1,200.5"),
        (1200.5, "de", True, "1.200,50 €"),
        (1200.5, "en", True, "€1,200.50"),
        (744, "de", False, "744"),
        (0.25, "de", False, "0,25"),
    ],
)
def test_format_number(value, language, money, expected):
    assert format_number(value, language, money=money) == expected


# --------------------------------------------------------------------------------------------
# Yes / no


@pytest.mark.parametrize(
    "text",
    [
        "ja",
        "Ja",
        "JA!",
        "j",
        "jo",
        "jep",
        "yes",
        "y",
        "stimmt",
        "genau",
        "👍",
        "👍🏽",
        "✅",
        "klar",
        "ja, meistens",
    ],
)
def test_yes(text):
    assert parse_yes_no(text) is True
    assert answer(question(QuestionType.YESNO), text) is True


@pytest.mark.parametrize(
    "text", ["nein", "Nein.", "n", "no", "nö", "ne", "nee", "👎", "❌", "nicht", "nein, nie"]
)
def test_no(text):
    assert parse_yes_no(text) is False


@pytest.mark.parametrize("text", ["vielleicht", "jein", "2", "ok?", "x" * 5000])
def test_neither_yes_nor_no(text):
    with pytest.raises(AnswerError) as caught:
        parse_yes_no(text)
    assert caught.value.key == "survey.input.yes_no"
    assert "ja" in message(caught.value) and "nein" in message(caught.value)
    assert "yes" in message(caught.value, "en")


def test_criteria_are_asked_with_parse_yes_no():
    with pytest.raises(ValueError):
        answer(question(QuestionType.CRITERIA), "ja")


# --------------------------------------------------------------------------------------------
# Choice and multi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", "kommune"),
        ("Nr. 2", "kommune"),
        ("#3", "verein"),
        ("3.", "verein"),
        ("verein", "verein"),  # the id
        ("buergerstiftung", "buergerstiftung"),
        ("Bürgerstiftung", "buergerstiftung"),  # the label
        ("BUERGERSTIFTUNG!", "buergerstiftung"),
        ("Burgerstiftung", "buergerstiftung"),  # umlaut typed without dots
        ("Stift", "stiftung"),  # a unique beginning
        ("Kommu", "kommune"),
        ("Hochschule", "schule"),  # a word of the label
        ("Municipality", "kommune"),  # the English label
    ],
)
def test_choice(text, expected):
    assert answer(KINDS, text) == expected


def test_choice_unknown_lists_the_numbers():
    for text in ("7", "0", "xyz", "Nr. 12"):
        err = error(KINDS, text)
        assert err.key == "survey.input.unknown_option"
        assert message(err) == (
            f"„{text}“ ist keine der Antworten. "
            "Bitte schreib die Nummer (1 bis 6) oder den Text einer Antwort."
        )


def test_choice_ambiguous_prefix_names_the_options():
    err = error(KINDS, "Ver")
    assert err.key == "survey.input.ambiguous_option"
    assert message(err) == (
        "„Ver“ passt zu mehreren Antworten: Verein, Verband. Bitte schreib etwas genauer oder die Nummer."
    )
    assert "Association, Federation" in message(error(KINDS, "Ver", "en"), "en")


def test_choice_prefix_needs_three_characters():
    assert error(KINDS, "Ko").key == "survey.input.unknown_option"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 3", ["time", "goods"]),
        ("1 3", ["time", "goods"]),
        ("3,1,1", ["time", "goods"]),  # template order, no duplicates
        ("Zeit und Geld", ["time", "money"]),
        ("Geld & Zeit", ["time", "money"]),
        ("1;2/3", ["time", "money", "goods"]),
        ("alle", ["time", "money", "goods", "culture"]),
        ("All", ["time", "money", "goods", "culture"]),
        ("4", ["culture"]),
        ("Kunst und Kultur", ["culture"]),  # a label with "und" in it stays whole
        ("Kunst und Kultur, Zeit", ["time", "culture"]),
        ("Sachgueter, 1,", ["time", "goods"]),
        ("time and money", ["time", "money"]),
    ],
)
def test_multi(text, expected):
    assert answer(CONTRIBUTIONS, text) == expected


def test_multi_names_the_unknown_part():
    err = error(CONTRIBUTIONS, "Zeit, Blumen")
    assert err.key == "survey.input.unknown_part"
    assert err.params["given"] == "Blumen"
    assert message(err) == (
        "„Blumen“ ist keine der Antworten. "
        "Bitte gib die Nummern (1 bis 4) durch Komma getrennt an, z. B. 1, 3."
    )
    assert error(CONTRIBUTIONS, "1, 9").params["given"] == "9"
    assert error(CONTRIBUTIONS, ", ;").key == "survey.input.empty"


# --------------------------------------------------------------------------------------------
# Dates

DATE = question(QuestionType.DATE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seit März 2024", "2024-03-01"),
        ("Mai 2024", "2024-05-01"),
        ("im Mai 2024", "2024-05-01"),
        ("05/2024", "2024-05-01"),
        ("Ende Februar 2024", "2024-02-29"),
        ("2024", "2024-01-01"),
        ("3.12.2025", "2025-12-03"),
        ("15.01.2024", "2024-01-15"),
        ("am 15.01.24", "2024-01-15"),
        ("2024-05-01", "2024-05-01"),
        ("gestern", "2026-11-20"),
        ("heute", "2026-11-21"),
        ("yesterday", "2026-11-20"),
        # Future dates too.
        ("morgen", "2026-11-22"),
        ("nächsten Freitag", "2026-11-27"),
        ("3.12.2027", "2027-12-03"),
        ("in 2 Tagen", "2026-11-23"),
        # Without a year: the nearest such date; with "seit" the latest one not after today.
        ("1.12.", "2026-12-01"),
        ("1.10.", "2026-10-01"),
        ("15.3.", "2027-03-15"),
        ("seit 15.3.", "2026-03-15"),
        ("seit Dezember", "2025-12-01"),
        ("3. Oktober", "2026-10-03"),
    ],
)
def test_dates(text, expected):
    assert answer(DATE, text) == expected


def test_date_is_the_local_calendar_day():
    # 23:30 UTC on 20 November is already 21 November in Berlin.
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert parse_answer(DATE, "heute", now=late, tz=TZ) == "2026-11-21"
    assert parse_answer(DATE, "heute", now=late, tz="UTC") == "2026-11-20"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("blabla", "survey.input.not_a_date"),
        ("jeden Dienstag", "survey.input.not_a_date"),
        ("30.2.2024", "survey.input.no_such_date"),
        ("31.2.", "survey.input.no_such_date"),
        ("13/2024", "survey.input.no_such_date"),
        ("3.12.2099", "survey.input.date_too_far"),
        ("2099", "survey.input.date_too_far"),
        ("", "survey.input.empty"),
        ("1" * 10_000, "survey.input.not_a_date"),
    ],
)
def test_bad_dates(text, key):
    assert error(DATE, text).key == key


def test_date_message_gives_an_example():
    assert message(error(DATE, "blabla")) == (
        "„blabla“ kann ich nicht als Datum lesen. "
        "So geht es zum Beispiel: 15.01.2024, März 2024 oder gestern."
    )


# --------------------------------------------------------------------------------------------
# Text


def test_text_is_cleaned():
    q = question(QuestionType.TEXT, max_length=200)
    assert answer(q, "  Hausaufgabenhilfe\x00 im\u200b Stadtteil  ") == "Hausaufgabenhilfe im Stadtteil"
    assert answer(q, "Zeile 1\n\n\n\nZeile 2") == "Zeile 1\n\nZeile 2"


def test_text_limits():
    q = question(QuestionType.TEXT, max_length=200)
    assert answer(q, "x" * 200) == "x" * 200
    err = error(q, "x" * 250)
    assert err.key == "survey.input.too_long"
    assert message(err) == "Bitte höchstens 200 Zeichen (du hast 250 geschrieben)."
    assert message(err, "en") == "Please use at most 200 characters (you wrote 250)."
    for empty in ("", "   ", "\x00\u200b"):
        assert error(q, empty).key == "survey.input.empty"


@pytest.mark.parametrize(
    "q",
    [
        NUMBER,
        HOURS,
        MONEY,
        KINDS,
        CONTRIBUTIONS,
        DATE,
        question(QuestionType.YESNO),
        question(QuestionType.TEXT),
    ],
)
def test_empty_input_for_every_type(q):
    err = error(q, " \n ")
    assert err.key == "survey.input.empty"
    assert message(err) == "Da fehlt noch deine Antwort – bitte schreib etwas."


# --------------------------------------------------------------------------------------------
# Skipping


@pytest.mark.parametrize(
    "text",
    ["-", "–", "weiter", "Weiter!", "skip", "überspringen", "Ueberspringen", "keine Angabe", "k.A.", "K. A."],
)
def test_skip_words(text):
    assert is_skip(text)


@pytest.mark.parametrize("text", ["ja", "0", "nein", "Weiterbildung", "-3", "x" * 1000])
def test_not_skip_words(text):
    assert not is_skip(text)


def test_every_skip_word_is_recognised():
    assert all(is_skip(word) and is_skip(word.upper()) for word in SKIP_WORDS)
