"""Times in words (bot/core/when_format.py): rules, moments and understood times, German and English."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.i18n import Translator
from bot.core.when_format import describe_rule, describe_when, moment_short, moment_text
from bot.services.when import parse_when

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # Saturday, 10:00 in Berlin
DE = Translator("de", "Europe/Berlin")
EN = Translator("en", "Europe/Berlin")


def rule_of(text: str, tr: Translator) -> str:
    summary = parse_when(text, now=NOW, tz="Europe/Berlin", language=tr.language).summary
    assert summary is not None
    return describe_rule(tr, summary)


@pytest.mark.parametrize(
    ("text", "german", "english"),
    [
        ("täglich 9 Uhr", "täglich um 09:00", "daily at 9:00\u202fAM"),
        ("alle 3 Tage 9 Uhr", "alle 3 Tage um 09:00", "every 3 days at 9:00\u202fAM"),
        ("jeden Dienstag 18 Uhr", "jeden Dienstag um 18:00", "every Tuesday at 6:00\u202fPM"),
        (
            "jeden Montag, Mittwoch und Freitag 7 Uhr",
            "jeden Montag, Mittwoch und Freitag um 07:00",
            "every Monday, Wednesday and Friday at 7:00\u202fAM",
        ),
        ("werktags 8 Uhr", "werktags um 08:00", "on weekdays at 8:00\u202fAM"),
        (
            "jeden zweiten Dienstag 18 Uhr",
            "jeden zweiten Dienstag um 18:00",
            "every other Tuesday at 6:00\u202fPM",
        ),
        (
            "alle 3 Wochen montags 9 Uhr",
            "alle 3 Wochen am Montag um 09:00",
            "every 3 weeks on Monday at 9:00\u202fAM",
        ),
        (
            "jeden ersten Dienstag im Monat 17 Uhr",
            "jeden ersten Dienstag im Monat um 17:00",
            "every first Tuesday of the month at 5:00\u202fPM",
        ),
        (
            "jeden letzten Freitag im Monat",
            "jeden letzten Freitag im Monat um 09:00",
            "every last Friday of the month at 9:00\u202fAM",
        ),
        ("monatlich am 15. um 10 Uhr", "monatlich am 15. um 10:00", "monthly on the 15th at 10:00\u202fAM"),
        (
            "monatlich am letzten Tag",
            "monatlich am letzten Tag um 09:00",
            "monthly on the last day at 9:00\u202fAM",
        ),
        (
            "monatlich am 31.",
            "monatlich am 31. um 09:00, außer wo es den Tag nicht gibt",
            "monthly on the 31st at 9:00\u202fAM, except where that day does not exist",
        ),
        ("jährlich am 1.3.", "jährlich am 1. März um 09:00", "yearly on March 1 at 9:00\u202fAM"),
        (
            "jeden Dienstag 18 Uhr bis 31.3.2027",
            "jeden Dienstag um 18:00 bis 31.03.2027",
            "every Tuesday at 6:00\u202fPM until Mar 31, 2027",
        ),
    ],
)
def test_rules_in_words(text: str, german: str, english: str) -> None:
    assert rule_of(text, DE) == german
    assert rule_of(text, EN) == english


def test_moments() -> None:
    moment = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert moment_text(DE, moment) == "Di, 01.12.2026 um 18:00"
    assert moment_text(EN, moment) == "Tue, Dec 1, 2026 at 6:00\u202fPM"
    assert moment_short(DE, moment) == "Di 1.12., 18:00"
    assert moment_short(DE, moment, now=datetime(2025, 12, 1, tzinfo=UTC)) == "Di 1.12.2026, 18:00"
    assert moment_short(EN, moment) == "Tue Dec 1, 6:00\u202fPM"


def test_understood_times() -> None:
    once = parse_when("morgen 18 Uhr", now=NOW, tz="Europe/Berlin")
    assert describe_when(DE, once) == "So, 22.11.2026 um 18:00"
    series = parse_when("montags und donnerstags 19:30", now=NOW, tz="Europe/Berlin")
    assert describe_when(DE, series) == (
        "jeden Montag und Donnerstag um 19:30 (nächste: Mo 23.11., Do 26.11., Mo 30.11.)"
    )
    assert describe_when(EN, series, count=2) == (
        "every Monday and Thursday at 7:30\u202fPM (next: Mon Nov 23, Thu Nov 26)"
    )
