"""The reopen guard's work per message is bounded, whatever a message contains (issue 9, point 1).

Its first stage runs on the update path for every plain group message: a quadratic pattern there
let one 60,000-character message block every chat for seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.services.embeddings import MAX_WORD, LexicalEmbedder, content_terms, words
from bot.services.reopen import _NOISE, MAX_READ, ReopenGuard, SettledItem

AG = 7
ITEMS = [
    SettledItem(11, "decision", 1, "Das Nachbarschaftscafé öffnet jeden Donnerstag von 15 bis 18 Uhr."),
    SettledItem(12, "goal", 2, "Bis Ende 2026 gründen wir eine Fahrgemeinschaft für Arztbesuche."),
]
LONG = 100_000


def repeat(unit: str) -> str:
    return (unit * (LONG // len(unit) + 1))[:LONG]


# Shapes that made a backtracking pattern or a per-word loop quadratic: one endless word, words
# joined by dots (every letter a word boundary), endless @ and dots without an address,
# zero-width spaces (no white space to split at), and ordinary prose.
HOSTILE = {
    "one word": repeat("a"),
    "dotted": repeat("a."),
    "at signs": repeat("x@"),
    "at then dots": "a@" + repeat("b")[2:],
    "scheme-like": repeat("a:/"),
    "zero-width spaces": repeat("\u200b"),
    "RTL and combining": repeat("\u202e\u0301"),
    "prose": repeat("Ich finde den Donnerstag für das Café ungünstig. "),
}


def fastest(run: Callable[[], object], repeat: int = 5) -> float:
    """The fastest of a few runs in seconds (noise from other processes only adds time)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.fixture(scope="module")
def guard() -> ReopenGuard:
    guard = ReopenGuard(LexicalEmbedder())
    guard.set_items(AG, ITEMS)
    return guard


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_screen_takes_at_most_5_ms_for_100000_characters(guard: ReopenGuard, text: str) -> None:
    assert len(text) == LONG
    assert fastest(lambda: guard.screen(AG, text)) <= 0.005


def test_screen_reads_the_prefix_that_check_reads(guard: ReopenGuard) -> None:
    challenge = "Warum eigentlich donnerstags? Das Nachbarschaftscafé sollte lieber samstags öffnen."
    assert guard.screen(AG, challenge + " 👍" * 10_000) is True
    assert guard.screen(AG, "👍 " * (MAX_READ // 2) + challenge) is False  # beyond what check reads


@pytest.mark.parametrize("shape", ["one word", "dotted", "prose"])
def test_check_reads_a_bounded_prefix(guard: ReopenGuard, shape: str) -> None:
    guard.check(AG, "Warm-up: Seed einbetten.")
    assert fastest(lambda: guard.check(AG, HOSTILE[shape]), repeat=3) <= 0.05


def test_noise_pattern_is_linear() -> None:
    # Twice the text, about twice the time (a quadratic pattern takes four times as long).
    for text in (HOSTILE["dotted"], HOSTILE["at signs"], HOSTILE["zero-width spaces"]):
        short = fastest(lambda t=text[: LONG // 4]: _NOISE.sub(" ", t), repeat=3)
        long = fastest(lambda t=text: _NOISE.sub(" ", t), repeat=3)
        assert long <= 0.1 and long <= 8 * short + 0.002


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Hier: https://cloud.example.org/s/AbC123 morgen", "Hier: morgen"),
        ("siehe www.example.de/termine bitte", "siehe bitte"),
        ("schreib an anna@example.org oder @bernd (@carla)", "schreib an oder ("),
        ("a@b ohne Punkt bleibt", "a@b ohne Punkt bleibt"),
        ("x.https://y z", "z"),
    ],
)
def test_noise_pattern_still_finds_links_addresses_and_mentions(text: str, kept: str) -> None:
    assert " ".join(_NOISE.sub(" ", text).split()) == kept


def test_overlong_words_are_no_words() -> None:
    assert words("Kinder- und Jugendhilfeausschuss " + "x" * (MAX_WORD + 1)) == [
        "kinder",
        "und",
        "jugendhilfeausschuss",
    ]
    assert content_terms("y" * 100_000) == []
