"""The time grammar (bot/services/when/): German and English, one-off and recurring, errors, DST.

Everything is pure: a fixed ``now`` and the AG's timezone go in, local wall times come out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import UserError
from bot.services.when import RuleSummary, When, WhenError, parse_when, split_when

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
# Saturday, 21 November 2026, 10:00 in Berlin.
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=BERLIN).astimezone(UTC)
# Friday, 27 November 2026, 8:00 in Berlin.
FRIDAY_MORNING = datetime(2026, 11, 27, 8, 0, tzinfo=BERLIN).astimezone(UTC)


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute)


def parse(text: str, now: datetime = NOW, language: str = "de", **kwargs) -> When:
    return parse_when(text, now=now, tz=TZ, language=language, **kwargs)


def first_local(when: When) -> datetime:
    return when.first.astimezone(BERLIN).replace(tzinfo=None)


def locals_of(moments: list[datetime]) -> list[datetime]:
    return [m.astimezone(BERLIN).replace(tzinfo=None) for m in moments]


def error_of(text: str, now: datetime = NOW, language: str = "de") -> WhenError:
    with pytest.raises(WhenError) as caught:
        parse(text, now, language)
    return caught.value


# --------------------------------------------------------------------------------------------
# One-off times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morgen 18 Uhr", local(2026, 11, 22, 18)),
        ("heute Abend", local(2026, 11, 21, 19)),
        ("übermorgen früh", local(2026, 11, 23, 8)),
        ("in 2 Stunden", local(2026, 11, 21, 12)),
        ("in 10 Minuten", local(2026, 11, 21, 10, 10)),
        ("am 3.12. um 17:30", local(2026, 12, 3, 17, 30)),
        ("3.12.2026 17:30", local(2026, 12, 3, 17, 30)),
        ("Freitag 9 Uhr", local(2026, 11, 27, 9)),
        # "nächsten Montag" is the next Monday after today: from this Saturday, the day after tomorrow.
        ("nächsten Montag", local(2026, 11, 23)),
        ("übernächsten Montag", local(2026, 11, 30)),
        ("Ende des Monats", local(2026, 11, 30)),
        ("Monatsende 17 Uhr", local(2026, 11, 30, 17)),
        ("Ende März", local(2027, 3, 31)),
        ("Ende des Jahres", local(2026, 12, 31)),
        ("am 3.12.", local(2026, 12, 3)),
        ("am 3.12", local(2026, 12, 3)),
        ("am 1.3.", local(2027, 3, 1)),  # the next 1 March ahead
        ("3.12.26 18 Uhr", local(2026, 12, 3, 18)),
        ("3. Dezember 2026 18 Uhr", local(2026, 12, 3, 18)),
        ("am 1. März", local(2027, 3, 1)),
        ("2026-12-03", local(2026, 12, 3)),
        ("am 15.", local(2026, 12, 15)),
        ("in 3 Tagen", local(2026, 11, 24, 10)),
        ("in einer Woche", local(2026, 11, 28, 10)),
        ("in einer Woche 18 Uhr", local(2026, 11, 28, 18)),
        ("in einer halben Stunde", local(2026, 11, 21, 10, 30)),
        ("in zwei Monaten", local(2027, 1, 21, 10)),
        ("übermorgen", local(2026, 11, 23)),
        ("morgen", local(2026, 11, 22)),
        ("morgen Mittag", local(2026, 11, 22, 12)),
        ("morgen nachmittags", local(2026, 11, 22, 15)),
        ("Freitag morgen", local(2026, 11, 27, 8)),
        ("Freitag vormittag", local(2026, 11, 27, 10)),
        ("am Freitag um 9", local(2026, 11, 27, 9)),
        ("Fr 9:00", local(2026, 11, 27, 9)),
        ("So. 10 Uhr", local(2026, 11, 22, 10)),
        ("Samstag", local(2026, 11, 28)),  # today's 9:00 has passed: next week's
        ("Samstag 18 Uhr", local(2026, 11, 21, 18)),  # still ahead today
        ("abends", local(2026, 11, 21, 19)),
        ("18 Uhr", local(2026, 11, 21, 18)),  # a time alone: today if ahead ...
        ("8 Uhr", local(2026, 11, 22, 8)),  # ... else tomorrow
    ],
)
def test_german_one_off(text: str, expected: datetime) -> None:
    assert first_local(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morgen 18 Uhr", (18, 0)),
        ("morgen 18:30", (18, 30)),
        ("morgen 18.30 Uhr", (18, 30)),
        ("morgen 18.30", (18, 30)),
        ("morgen 18.00", (18, 0)),
        ("morgen 18h", (18, 0)),
        ("morgen 18 h", (18, 0)),
        ("morgen um 18 Uhr 30", (18, 30)),
        ("morgen um 10", (10, 0)),
        ("morgen um 10.10", (10, 10)),
        ("morgen 6 Uhr", (6, 0)),  # "6 Uhr" is 06:00
        ("morgen um 6 abends", (18, 0)),
        ("morgen 6 Uhr abends", (18, 0)),
        ("morgen um 3 nachmittags", (15, 0)),
        ("morgen um 9 nachts", (21, 0)),
        ("morgen um 2 nachts", (2, 0)),
        ("morgen 0:15", (0, 15)),
        ("morgen 12 Uhr mittags", (12, 0)),
        ("morgen gegen 17 Uhr", (17, 0)),
    ],
)
def test_german_times(text: str, expected: tuple[int, int]) -> None:
    assert first_local(parse(text)) == local(2026, 11, 22, *expected)


@pytest.mark.parametrize(
    "text",
    [
        "Morgen 18 Uhr",
        "MORGEN 18 UHR",
        "  morgen    18   uhr  ",
        "morgen 18 Uhr.",
        "morgen, 18 Uhr!",
        "morgen um 18:00",
    ],
)
def test_case_spaces_and_punctuation_do_not_matter(text: str) -> None:
    assert first_local(parse(text)) == local(2026, 11, 22, 18)


@pytest.mark.parametrize(
    ("umlaut", "plain"),
    [
        ("nächsten Montag", "naechsten Montag"),
        ("übermorgen früh", "uebermorgen frueh"),
        ("Ende März", "Ende Maerz"),
    ],
)
def test_umlauts_may_be_written_out(umlaut: str, plain: str) -> None:
    assert parse(umlaut).first == parse(plain).first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 6pm", local(2026, 11, 22, 18)),
        ("tonight", local(2026, 11, 21, 19)),
        ("in 2 hours", local(2026, 11, 21, 12)),
        ("in an hour", local(2026, 11, 21, 11)),
        ("in half an hour", local(2026, 11, 21, 10, 30)),
        ("on 3 Dec at 17:30", local(2026, 12, 3, 17, 30)),
        ("Friday 9am", local(2026, 11, 27, 9)),
        ("friday 9 a.m.", local(2026, 11, 27, 9)),
        ("next Monday", local(2026, 11, 23)),
        ("end of month", local(2026, 11, 30)),
        ("end of the month 5pm", local(2026, 11, 30, 17)),
        ("end of March", local(2027, 3, 31)),
        ("tomorrow morning", local(2026, 11, 22, 8)),
        ("tomorrow at noon", local(2026, 11, 22, 12)),
        ("the day after tomorrow", local(2026, 11, 23)),
        ("December 3rd, 2026", local(2026, 12, 3)),
        ("3rd of December 5:30pm", local(2026, 12, 3, 17, 30)),
        ("in 3 days", local(2026, 11, 24, 10)),
        ("at 12am tomorrow", local(2026, 11, 22, 0)),
        ("3.12.2026 17:30", local(2026, 12, 3, 17, 30)),  # numeric dates are day first in English too
    ],
)
def test_english_one_off(text: str, expected: datetime) -> None:
    assert first_local(parse(text, language="en")) == expected


def test_the_other_language_is_understood_as_well() -> None:
    assert first_local(parse("tomorrow 6pm", language="de")) == local(2026, 11, 22, 18)
    assert first_local(parse("morgen 18 Uhr", language="en")) == local(2026, 11, 22, 18)
    # A German time is not dropped when the date part is English ("Dec" is not German).
    assert first_local(parse("3 Dec 2026 18 Uhr", language="en")) == local(2026, 12, 3, 18)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3/12/2026", local(2026, 12, 3)),  # day first, as in German
        ("2026/12/03", local(2026, 12, 3)),
        ("03-Dec-2026", local(2026, 12, 3)),
        ("3rd Dec. 17:30", local(2026, 12, 3, 17, 30)),  # the time still comes from the grammar
        ("Thursday, December the 3rd, 2026", local(2026, 12, 3)),
    ],
)
def test_other_absolute_dates_fall_back_to_dateparser(text: str, expected: datetime) -> None:
    assert first_local(parse(text)) == expected


@pytest.mark.parametrize("text", ["morgen 2 Stunden", "18 Monat 6", "heute übermorgen", "tomorrow tomorrow"])
def test_dateparser_does_not_get_what_it_would_half_read(text: str) -> None:
    # dateparser reads "morgen 2 Stunden" as tomorrow and drops the rest; the grammar refuses.
    assert error_of(text).key == "when.unknown"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morgen 18", local(2026, 11, 22, 18)),
        ("Freitag 18", local(2026, 11, 27, 18)),
        ("am 3.12. 10", local(2026, 12, 3, 10)),
    ],
)
def test_a_lone_number_after_a_day_is_the_hour(text: str, expected: datetime) -> None:
    assert first_local(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Freitag 9 Uhr", "de", local(2026, 11, 27, 9)),  # today, 9:00 is still ahead
        ("Freitag", "de", local(2026, 11, 27, 9)),
        ("Freitag 7 Uhr", "de", local(2026, 12, 4, 7)),  # passed today: next week's
        ("nächsten Freitag", "de", local(2026, 12, 4, 9)),  # never today
        ("heute 9 Uhr", "de", local(2026, 11, 27, 9)),
        ("heute Abend", "de", local(2026, 11, 27, 19)),
        ("Friday 9am", "en", local(2026, 11, 27, 9)),
        ("next Friday", "en", local(2026, 12, 4, 9)),
        ("Ende des Monats", "de", local(2026, 11, 30)),
    ],
)
def test_on_a_friday_morning(text: str, language: str, expected: datetime) -> None:
    assert first_local(parse(text, FRIDAY_MORNING, language)) == expected


def test_default_time_is_a_parameter_and_reported() -> None:
    when = parse("am 3.12.", default_time=time(12, 0))
    assert first_local(when) == local(2026, 12, 3, 12)
    assert when.time_given is False
    assert parse("am 3.12. 18 Uhr").time_given is True
    assert parse("jeden Dienstag").time_given is False


def test_one_off_when() -> None:
    when = parse("morgen 18 Uhr")
    assert not when.is_recurring and when.rule is None and when.summary is None
    assert when.first == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
    assert when.first.tzinfo is not None and when.first.utcoffset() == timedelta(0)
    assert when.local_start == local(2026, 11, 22, 18)
    assert when.weekday == 6  # Sunday
    assert when.tz == TZ
    assert when.next_after(NOW) == when.first
    assert when.next_after(when.first) is None
    assert when.occurrences(3) == [when.first]
    assert when.occurrences(3, after=when.first) == []


def test_in_hours_is_elapsed_time_across_the_clock_change() -> None:
    # 31 Oct 2027, 1:30 summer time; two hours later the clocks have gone back: 2:30 winter time.
    now = datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    assert parse("in 2 Stunden", now).first == now + timedelta(hours=2)


# --------------------------------------------------------------------------------------------
# Recurring times


@pytest.mark.parametrize(
    ("text", "rule", "expected"),
    [
        (
            "jeden Dienstag 18 Uhr",
            "FREQ=WEEKLY;BYDAY=TU",
            [local(2026, 11, 24, 18), local(2026, 12, 1, 18), local(2026, 12, 8, 18)],
        ),
        (
            "dienstags 18 Uhr",
            "FREQ=WEEKLY;BYDAY=TU",
            [local(2026, 11, 24, 18), local(2026, 12, 1, 18), local(2026, 12, 8, 18)],
        ),
        (
            "montags und donnerstags 19:30",
            "FREQ=WEEKLY;BYDAY=MO,TH",
            [local(2026, 11, 23, 19, 30), local(2026, 11, 26, 19, 30), local(2026, 11, 30, 19, 30)],
        ),
        (
            "jeden Montag, Mittwoch und Freitag 7 Uhr",
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            [local(2026, 11, 23, 7), local(2026, 11, 25, 7), local(2026, 11, 27, 7)],
        ),
        (
            "jeden ersten Dienstag im Monat 17 Uhr",
            "FREQ=MONTHLY;BYDAY=1TU",
            [local(2026, 12, 1, 17), local(2027, 1, 5, 17), local(2027, 2, 2, 17)],
        ),
        (
            "jeden dritten Donnerstag im Monat 18 Uhr",
            "FREQ=MONTHLY;BYDAY=3TH",
            [local(2026, 12, 17, 18), local(2027, 1, 21, 18), local(2027, 2, 18, 18)],
        ),
        (
            "jeden letzten Freitag im Monat",
            "FREQ=MONTHLY;BYDAY=-1FR",
            [local(2026, 11, 27), local(2026, 12, 25), local(2027, 1, 29)],
        ),
        (
            "alle 2 Wochen freitags 9 Uhr",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
            [local(2026, 11, 27), local(2026, 12, 11), local(2026, 12, 25)],
        ),
        (
            "jeden zweiten Dienstag 18 Uhr",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
            [local(2026, 11, 24, 18), local(2026, 12, 8, 18), local(2026, 12, 22, 18)],
        ),
        (
            "14-tägig donnerstags 19 Uhr",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
            [local(2026, 11, 26, 19), local(2026, 12, 10, 19), local(2026, 12, 24, 19)],
        ),
        (
            "werktags 8 Uhr",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            [local(2026, 11, 23, 8), local(2026, 11, 24, 8), local(2026, 11, 25, 8)],
        ),
        (
            "montags bis freitags 8 Uhr",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            [local(2026, 11, 23, 8), local(2026, 11, 24, 8), local(2026, 11, 25, 8)],
        ),
        (
            "täglich 9 Uhr",
            "FREQ=DAILY",
            [local(2026, 11, 22), local(2026, 11, 23), local(2026, 11, 24)],
        ),
        (
            "jeden Tag 18 Uhr",
            "FREQ=DAILY",
            [local(2026, 11, 21, 18), local(2026, 11, 22, 18), local(2026, 11, 23, 18)],
        ),
        (
            "alle 3 Tage 9 Uhr",
            "FREQ=DAILY;INTERVAL=3",
            [local(2026, 11, 22), local(2026, 11, 25), local(2026, 11, 28)],
        ),
        (
            "monatlich am 15. um 10 Uhr",
            "FREQ=MONTHLY;BYMONTHDAY=15",
            [local(2026, 12, 15, 10), local(2027, 1, 15, 10), local(2027, 2, 15, 10)],
        ),
        (
            "jeden 15. des Monats 10 Uhr",
            "FREQ=MONTHLY;BYMONTHDAY=15",
            [local(2026, 12, 15, 10), local(2027, 1, 15, 10), local(2027, 2, 15, 10)],
        ),
        (
            "monatlich am letzten Tag",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            [local(2026, 11, 30), local(2026, 12, 31), local(2027, 1, 31)],
        ),
        (
            "jährlich am 1.3.",
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1",
            [local(2027, 3, 1), local(2028, 3, 1), local(2029, 3, 1)],
        ),
        (
            "jedes Jahr am 1. März 12 Uhr",
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1",
            [local(2027, 3, 1, 12), local(2028, 3, 1, 12), local(2029, 3, 1, 12)],
        ),
        (
            "täglich 9 Uhr bis 31.3.2027",
            "FREQ=DAILY;UNTIL=20270331T235959",
            [local(2026, 11, 22), local(2026, 11, 23), local(2026, 11, 24)],
        ),
        (
            "jeden Dienstag 18 Uhr bis Ende März",
            "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270331T235959",
            [local(2026, 11, 24, 18), local(2026, 12, 1, 18), local(2026, 12, 8, 18)],
        ),
    ],
)
def test_german_recurring(text: str, rule: str, expected: list[datetime]) -> None:
    when = parse(text)
    assert when.is_recurring
    assert when.rule == rule
    assert locals_of(when.occurrences(3)) == expected
    assert when.local_start == expected[0]
    assert when.first == when.occurrences(1)[0]


@pytest.mark.parametrize(
    ("text", "rule", "expected"),
    [
        (
            "every Tuesday 6pm",
            "FREQ=WEEKLY;BYDAY=TU",
            [local(2026, 11, 24, 18), local(2026, 12, 1, 18), local(2026, 12, 8, 18)],
        ),
        (
            "on Tuesdays and Thursdays 7pm",
            "FREQ=WEEKLY;BYDAY=TU,TH",
            [local(2026, 11, 24, 19), local(2026, 11, 26, 19), local(2026, 12, 1, 19)],
        ),
        (
            "every first Tuesday of the month 5pm",
            "FREQ=MONTHLY;BYDAY=1TU",
            [local(2026, 12, 1, 17), local(2027, 1, 5, 17), local(2027, 2, 2, 17)],
        ),
        (
            "every last Friday of the month",
            "FREQ=MONTHLY;BYDAY=-1FR",
            [local(2026, 11, 27), local(2026, 12, 25), local(2027, 1, 29)],
        ),
        (
            "every 2 weeks on Friday 9am",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
            [local(2026, 11, 27), local(2026, 12, 11), local(2026, 12, 25)],
        ),
        (
            "every other Friday",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
            [local(2026, 11, 27), local(2026, 12, 11), local(2026, 12, 25)],
        ),
        (
            "weekdays 8am",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            [local(2026, 11, 23, 8), local(2026, 11, 24, 8), local(2026, 11, 25, 8)],
        ),
        ("daily 9am", "FREQ=DAILY", [local(2026, 11, 22), local(2026, 11, 23), local(2026, 11, 24)]),
        (
            "monthly on the 15th at 10am",
            "FREQ=MONTHLY;BYMONTHDAY=15",
            [local(2026, 12, 15, 10), local(2027, 1, 15, 10), local(2027, 2, 15, 10)],
        ),
        (
            "yearly on 1 March",
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1",
            [local(2027, 3, 1), local(2028, 3, 1), local(2029, 3, 1)],
        ),
        (
            "daily 9am until 31 March 2027",
            "FREQ=DAILY;UNTIL=20270331T235959",
            [local(2026, 11, 22), local(2026, 11, 23), local(2026, 11, 24)],
        ),
        (
            "every Tuesday 6pm until 31.3.2027",
            "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270331T235959",
            [local(2026, 11, 24, 18), local(2026, 12, 1, 18), local(2026, 12, 8, 18)],
        ),
    ],
)
def test_english_recurring(text: str, rule: str, expected: list[datetime]) -> None:
    when = parse(text, language="en")
    assert when.rule == rule
    assert locals_of(when.occurrences(3)) == expected


def test_a_series_without_a_day_repeats_todays() -> None:
    assert parse("wöchentlich 18 Uhr").rule == "FREQ=WEEKLY;BYDAY=SA"
    assert parse("monatlich 18 Uhr").rule == "FREQ=MONTHLY;BYMONTHDAY=21"
    assert parse("jährlich 18 Uhr").rule == "FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=21"
    # "alle 14 Tage" reads as every other week.
    assert parse("alle 14 Tage 18 Uhr").rule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA"


def test_monthly_on_the_31st_skips_shorter_months() -> None:
    when = parse("monatlich am 31.")
    assert when.summary is not None and when.summary.skips
    assert locals_of(when.occurrences(3)) == [local(2026, 12, 31), local(2027, 1, 31), local(2027, 3, 31)]
    assert not parse("monatlich am 15.").summary.skips  # type: ignore[union-attr]


def test_summary_has_the_parts_to_describe_a_rule() -> None:
    summary = parse("jeden ersten Dienstag im Monat 17 Uhr bis 31.3.2027").summary
    assert summary == RuleSummary(
        freq="MONTHLY", local_time=time(17, 0), weekdays=(1,), setpos=1, until=date(2027, 3, 31)
    )
    workdays = parse("werktags 8 Uhr").summary
    assert workdays is not None and workdays.workdays and workdays.local_time == time(8, 0)
    yearly = parse("jährlich am 1.3.").summary
    assert yearly is not None and (yearly.freq, yearly.month, yearly.monthday) == ("YEARLY", 3, 1)
    biweekly = parse("alle 2 Wochen freitags 9 Uhr").summary
    assert biweekly is not None and (biweekly.interval, biweekly.weekdays) == (2, (4,))
    last = parse("jeden letzten Freitag im Monat").summary
    assert last is not None and (last.setpos, last.weekdays) == (-1, (4,))


@pytest.mark.parametrize(
    "text",
    [
        "jeden Dienstag 18 Uhr",
        "jeden letzten Freitag im Monat",
        "alle 2 Wochen freitags 9 Uhr",
        "monatlich am letzten Tag",
        "jährlich am 1.3.",
        "täglich 9 Uhr bis 31.3.2027",
    ],
)
def test_a_stored_when_gives_the_same_occurrences(text: str) -> None:
    when = parse(text)
    assert when.rule is not None
    stored = When(first=when.first, rule=when.rule, tz=when.tz, local_start=when.local_start)
    assert stored.occurrences(5) == when.occurrences(5)
    assert RuleSummary.from_rrule(when.rule, when.local_start.time()).to_rrule() == when.rule


def test_until_ends_the_series_with_that_whole_day() -> None:
    when = parse("täglich 9 Uhr bis 31.3.2027")
    last = datetime(2027, 3, 31, 9, 0, tzinfo=BERLIN).astimezone(UTC)
    assert when.next_after(last - timedelta(seconds=1)) == last
    assert when.next_after(last) is None
    everything = when.occurrences(1000)
    assert len(everything) == 130  # 22 Nov 2026 … 31 Mar 2027
    assert everything[-1] == last
    # 9:00 before and after the clocks change on 28 March.
    assert {m.astimezone(BERLIN).time() for m in everything} == {time(9, 0)}
    assert {m.utcoffset() for m in everything} == {timedelta(0)}


def test_until_without_a_year_is_the_next_such_day() -> None:
    assert parse("täglich 9 Uhr bis 31.3.").rule == "FREQ=DAILY;UNTIL=20270331T235959"
    assert parse("täglich 9 Uhr bis Ende des Monats").summary.until == date(2026, 11, 30)  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------
# Daylight saving time: rules run in local wall time


def test_weekly_rule_stays_at_18_local_across_both_changes() -> None:
    when = parse("jeden Dienstag 18 Uhr", now=datetime(2027, 3, 1, tzinfo=UTC))
    moments = when.occurrences(40)  # March 2027 to December 2027: both changes
    assert {m.astimezone(BERLIN).time() for m in moments} == {time(18, 0)}
    assert {m.astimezone(BERLIN).weekday() for m in moments} == {1}
    utc_hours = [m.hour for m in moments]
    assert utc_hours[:5] == [17, 17, 17, 17, 16]  # 23 March: winter time (+1); 30 March: summer (+2)
    assert utc_hours[-7:] == [16, 16, 17, 17, 17, 17, 17]  # 26 October summer, 2 November winter
    assert moments[4] == datetime(2027, 3, 30, 16, 0, tzinfo=UTC)
    assert moments[-5] == datetime(2027, 11, 2, 17, 0, tzinfo=UTC)


def test_a_wall_time_in_the_spring_gap_is_shifted_forward() -> None:
    # 28 March 2027, the clocks jump from 2:00 to 3:00: 2:30 does not exist that day.
    when = parse("jeden Sonntag 2:30", now=datetime(2027, 3, 20, 12, tzinfo=UTC))
    before, gap, after = when.occurrences(3)
    assert before == datetime(2027, 3, 21, 1, 30, tzinfo=UTC)  # 2:30 winter time
    assert gap == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 3:30 summer time
    assert gap.astimezone(BERLIN).time() == time(3, 30)
    assert after == datetime(2027, 4, 4, 0, 30, tzinfo=UTC)  # 2:30 summer time again
    assert when.local_start.time() == time(2, 30)
    # Just after 3:00 summer time on that day, the shifted 3:30 is still to come.
    assert when.next_after(datetime(2027, 3, 28, 1, 5, tzinfo=UTC)) == gap


def test_an_ambiguous_wall_time_in_autumn_is_the_first_of_the_two() -> None:
    # 31 October 2027, the clocks go back from 3:00 to 2:00: 2:30 happens twice.
    when = parse("jeden Sonntag 2:30", now=datetime(2027, 10, 24, 12, tzinfo=UTC))
    first, second = when.occurrences(2)
    assert first == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 2:30 summer time (fold=0)
    assert first.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert second == datetime(2027, 11, 7, 1, 30, tzinfo=UTC)
    # During the second 2:00–3:00 hour the first 2:30 is over: next week's comes next.
    assert when.next_after(datetime(2027, 10, 31, 1, 10, tzinfo=UTC)) == second


def test_a_one_off_time_in_the_gap_is_shifted_forward() -> None:
    when = parse("28.3.2027 2:30", now=NOW)
    assert when.first == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert when.local_start == local(2027, 3, 28, 2, 30)


@pytest.mark.parametrize(
    "text",
    ["jeden Dienstag 18 Uhr", "täglich 2:30", "jeden letzten Sonntag im Monat 2:30", "werktags 8 Uhr"],
)
def test_next_after_is_strictly_increasing(text: str) -> None:
    when = parse(text)
    moment = NOW
    seen = []
    for _ in range(400):
        nxt = when.next_after(moment)
        assert nxt is not None and nxt > moment
        seen.append(nxt)
        moment = nxt
    assert seen == sorted(set(seen))
    # Asking from any moment in between gives the next one of the same list.
    assert when.next_after(seen[10] - timedelta(minutes=1)) == seen[10]
    assert when.next_after(seen[10] + timedelta(minutes=1)) == seen[11]


def test_next_after_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError):
        parse("täglich 9 Uhr").next_after(datetime(2026, 11, 22, 9))
    with pytest.raises(ValueError):
        parse_when("morgen", now=datetime(2026, 11, 21, 10), tz=TZ)


def test_other_timezones() -> None:
    when = parse_when("morgen 18 Uhr", now=NOW, tz="America/New_York", language="de")
    assert when.first == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Errors


def test_errors_are_user_errors() -> None:
    assert issubclass(WhenError, UserError)


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("heute 8 Uhr", "21.11.2026, 08:00"),
        ("heute morgen", "21.11.2026, 08:00"),
        ("3.12.2025", "03.12.2025, 09:00"),
        ("heute", "21.11.2026, 09:00"),
        ("in 0 Minuten", "21.11.2026, 10:00"),
        ("gestern 18 Uhr", "20.11.2026, 18:00"),
        ("vorgestern", "19.11.2026, 09:00"),
    ],
)
def test_past(text: str, when: str) -> None:
    error = error_of(text)
    assert error.key == "when.past"
    assert error.params == {"text": text, "when": when}
    assert error.moment is not None and error.moment <= NOW


def test_past_in_english() -> None:
    error = error_of("today 8am", language="en")
    assert error.key == "when.past"
    assert error.params["when"].startswith("Nov 21, 2026, 8:00")
    assert error_of("yesterday 6pm", language="en").key == "when.past"


@pytest.mark.parametrize(
    "text", ["30.2.", "31.4.2027", "25 Uhr", "24:00", "18:75", "32.1.", "3.13.2027", "30. Februar", "13pm"]
)
def test_impossible(text: str) -> None:
    error = error_of(text)
    assert (error.key, error.params) == ("when.impossible", {"text": text})


def test_impossible_series() -> None:
    assert error_of("jährlich am 30.2.").key == "when.impossible"
    assert error_of("monatlich am 32.").key == "when.impossible"


@pytest.mark.parametrize(
    ("text", "morning", "evening"), [("um 6", "06:00", "18:00"), ("morgen um 7", "07:00", "19:00")]
)
def test_a_bare_early_hour_is_ambiguous(text: str, morning: str, evening: str) -> None:
    error = error_of(text)
    assert (error.key, error.params) == (
        "when.ambiguous",
        {"text": text, "morning": morning, "evening": evening},
    )


@pytest.mark.parametrize(
    "text", ["", "   ", "blabla", "Sitzung vorbereiten", "morgen Sitzung", "letzten Freitag", "9"]
)
def test_unknown(text: str) -> None:
    error = error_of(text)
    assert (error.key, error.params) == ("when.unknown", {"text": text.strip()})


def test_weekday_and_date_must_agree() -> None:
    error = error_of("Mittwoch, 3.12.2026 18 Uhr")
    assert error.key == "when.weekday_mismatch"
    assert error.params == {
        "text": "Mittwoch, 3.12.2026 18 Uhr",
        "date": "03.12.2026",
        "weekday": "Donnerstag",
    }
    assert first_local(parse("Donnerstag, 3.12.2026 18 Uhr")) == local(2026, 12, 3, 18)


def test_until() -> None:
    error = error_of("täglich 9 Uhr bis 1.11.2026")
    assert (error.key, error.params) == (
        "when.until_before_start",
        {"until": "01.11.2026", "first": "22.11.2026, 09:00"},
    )
    assert error_of("morgen 18 Uhr bis Freitag").key == "when.until_one_off"
    # A leading "bis" is a deadline (a poll's "bis: Freitag 18 Uhr"), not the end of a series.
    assert first_local(parse("bis Freitag 18 Uhr")) == local(2026, 11, 27, 18)


def test_too_far() -> None:
    error = error_of("3.12.2099")
    assert (error.key, error.params) == ("when.too_far", {"text": "3.12.2099", "years": 10})
    assert error_of("in 9999 Jahren").key == "when.too_far"


# --------------------------------------------------------------------------------------------
# split_when


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morgen 18 Uhr: Text", ("morgen 18 Uhr", "Text")),
        ("am 3.12. um 17:30: Sitzung vorbereiten", ("am 3.12. um 17:30", "Sitzung vorbereiten")),
        ("3.12.2026 17:30 : Protokoll: lesen", ("3.12.2026 17:30", "Protokoll: lesen")),
        ("jeden Dienstag 18 Uhr | Treffen um 18:00", ("jeden Dienstag 18 Uhr", "Treffen um 18:00")),
        ("morgen 18 Uhr:Text", ("morgen 18 Uhr", "Text")),
    ],
)
def test_split_when(text: str, expected: tuple[str, str]) -> None:
    assert split_when(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("morgen 18 Uhr", "when.no_text"),
        ("17:30", "when.no_text"),
        ("morgen:  ", "when.no_text"),
        (": Text", "when.missing"),
    ],
)
def test_split_when_errors(text: str, key: str) -> None:
    with pytest.raises(WhenError) as caught:
        split_when(text)
    assert caught.value.key == key
