"""The pure parts of polls: reading ``/abstimmung`` and counting (percentages, quorum, ties)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.core.errors import UserError
from bot.services.poll_input import MAX_OPTIONS, parse_poll, parse_quorum, parse_remind
from bot.services.tally import Outcome, Tally, largest_remainder, quorum_needed
from storage.models import PollEffect

# Reading --------------------------------------------------------------------------------------


def test_pipe_form_with_every_setting() -> None:
    draft = parse_poll(
        "Wohin geht der Ausflug? | Zeche | Landschaftspark | Halde | bis: Freitag 18 Uhr | quorum: 50 % "
        "| erinnern: 2h | anonym | mehrfach | beschluss"
    )
    assert draft.question == "Wohin geht der Ausflug?"
    assert draft.options == ("Zeche", "Landschaftspark", "Halde")
    assert draft.deadline == "Freitag 18 Uhr" and not draft.until_all
    assert (draft.quorum_count, draft.quorum_percent) == (None, 50)
    assert draft.remind == timedelta(hours=2)
    assert draft.anonymous and draft.multiple and not draft.yes_no
    assert draft.effect is PollEffect.DECISION


def test_line_form_equals_pipe_form() -> None:
    lines = parse_poll("Wohin geht der Ausflug?\nZeche\n\nLandschaftspark\nbis: alle\nziel")
    pipes = parse_poll("Wohin geht der Ausflug? | Zeche | Landschaftspark | bis: alle | ziel")
    assert lines == pipes
    assert lines.until_all and lines.deadline is None and lines.effect is PollEffect.GOAL


@pytest.mark.parametrize(
    ("text", "yes_no"),
    [
        ("Sommerfest? | bis: morgen", True),  # no options: ja / nein / Enthaltung
        ("Sommerfest? | ja | nein", True),
        ("Sommerfest? | Ja | Nein | Enthaltung", True),
        ("Summer party? | yes | no | abstain", True),
        ("Sommerfest? | nein | ja", False),
        ("Sommerfest? | ja | vielleicht", False),
    ],
)
def test_yes_no_polls(text: str, yes_no: bool) -> None:
    assert parse_poll(text).yes_no is yes_no


def test_replace_and_english_settings() -> None:
    draft = parse_poll("Neue Fassung? | ja | nein | beschluss ersetzen Nr. 2 | remind: off | until: all")
    assert (draft.effect, draft.replaces_number) == (PollEffect.REPLACE, 2)
    assert draft.remind is None and draft.until_all
    assert parse_poll("New? | decision replace 3").replaces_number == 3
    # A trailing separator is forgiven; defaults: reminder a day before, no quorum.
    draft = parse_poll("Sommerfest? | ja | nein |")
    assert draft.options == ("ja", "nein") and draft.remind == timedelta(hours=24)
    assert draft.quorum_count is None and draft.quorum_percent is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "polls.question_missing"),
        ("Frage | nur eine", "polls.one_option"),
        ("Frage | " + " | ".join(f"O{i}" for i in range(MAX_OPTIONS + 1)), "polls.too_many_options"),
        ("Frage | a || b", "polls.option_empty"),
        ("Frage | a | A", "polls.option_duplicate"),
        ("F" * 251, "polls.question_too_long"),
        ("Frage | " + "x" * 101 + " | b", "polls.option_too_long"),
        ("Frage | a | b | quorum: viele", "polls.quorum_invalid"),
        ("Frage | a | b | quorum: 0", "polls.quorum_invalid"),
        ("Frage | a | b | quorum: 120 %", "polls.quorum_invalid"),
        ("Frage | a | b | erinnern: bald", "polls.remind_invalid"),
        ("Frage | a | b | anonym | flott", "polls.unknown_setting"),
        ("Frage | a | b | quorom: 5", "polls.unknown_setting"),
        ("Frage | a | b | bis: morgen | bis: Freitag", "polls.setting_twice"),
        ("Frage | a | b | beschluss | ziel", "polls.setting_twice"),
        ("Frage | beschluss ersetzen", "polls.replace_number"),
        ("Frage | mehrfach", "polls.multiple_needs_options"),
        ("Frage | a | b | bis:", "polls.deadline_missing"),
    ],
)
def test_errors_name_what_is_wrong(text: str, key: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_poll(text)
    assert raised.value.key == key


def test_unknown_setting_names_it() -> None:
    with pytest.raises(UserError) as raised:
        parse_poll("Frage | a | b | anonym | flott")
    assert raised.value.params["given"] == "flott"


@pytest.mark.parametrize(("text", "quorum"), [("5", (5, None)), ("50%", (None, 50)), ("50 %", (None, 50))])
def test_quorum_forms(text: str, quorum: tuple[int | None, int | None]) -> None:
    assert parse_quorum(text) == quorum


@pytest.mark.parametrize(
    ("text", "minutes"), [("2h", 120), ("30 min", 30), ("1d", 1440), ("1 Woche", 10080), ("2 Stunden", 120)]
)
def test_remind_forms(text: str, minutes: int) -> None:
    assert parse_remind(text) == timedelta(minutes=minutes)


# Counting -------------------------------------------------------------------------------------


def test_percentages_sum_to_100_for_many_count_vectors() -> None:
    rng = random.Random(11)
    vectors = [[0, 0, 0], [1, 1, 1], [2, 1, 1], [1, 0], [5, 3, 0, 1], [1] * 7, [1] * 10]
    vectors += [
        [rng.randrange(0, rng.choice((3, 20, 1000))) for _ in range(rng.randrange(2, 11))]
        for _ in range(3000)
    ]
    for counts in vectors:
        shares = largest_remainder(counts)
        total = sum(counts)
        if total == 0:
            assert shares == [0] * len(counts)
            continue
        assert sum(shares) == 100, counts
        for count, share in zip(counts, shares, strict=True):
            assert abs(share - count * 100 / total) < 1, (counts, shares)  # never off by a point or more
            assert share >= 0


def test_largest_remainder_examples() -> None:
    assert largest_remainder([1, 1, 1]) == [34, 33, 33]  # the earlier option gets the spare point
    assert largest_remainder([5, 2, 1]) == [63, 25, 12]
    assert largest_remainder([2, 1]) == [67, 33]


def test_tally_rules() -> None:
    # Ballots with positions out of range or empty do not count; multiple choice ticks several.
    tally = Tally.of_ballots(3, [[0], [0, 2], [7], []], members=10)
    assert tally.counts == (2, 0, 1) and tally.voters == 2
    assert tally.outcome is Outcome.PASSED and tally.winner == 0
    # A tie is a tie, never a winner.
    tie = Tally.of_ballots(2, [[0], [1]], members=4)
    assert tie.outcome is Outcome.TIE and tie.leaders == [0, 1] and tie.winner is None
    # Abstentions take part (quorum) but never win.
    abstained = Tally.of_ballots(3, [[2], [2], [1]], members=3, abstain=2, quorum=3)
    assert abstained.quorum_met and abstained.winner == 1
    only_abstentions = Tally.of_ballots(3, [[2]], members=3, abstain=2)
    assert only_abstentions.outcome is Outcome.ABSTAINED
    assert Tally.of_ballots(2, [], members=3).outcome is Outcome.NO_VOTES
    assert Tally.of_ballots(2, [[0]], members=3, quorum=2).outcome is Outcome.NO_QUORUM


def test_quorum_needed() -> None:
    assert quorum_needed(8, 5, None) == 5
    assert quorum_needed(8, None, 50) == 4
    assert quorum_needed(7, None, 50) == 4  # rounded up
    assert quorum_needed(0, None, 50) == 1
    assert quorum_needed(8, None, None) is None
