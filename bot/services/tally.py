"""Counting a poll (pure): counts, percentages that sum to 100, quorum, winner or tie.

Rules, as the AG reads them in the result:

- Every person has one current ballot; with ``mehrfach`` a ballot may tick several options.
- Percentages are shares of all ticks and always sum to 100 (largest remainder: each option
  gets its rounded-down share, the points still missing go to the largest remainders).
- The quorum counts people who voted: ``quorum: 5`` needs five ballots, ``quorum: 50 %`` half
  of the AG's members (rounded up).
- In a yes / no / abstain poll abstentions count as taking part (towards the quorum) but never
  towards a majority.
- A result passes with a clear plurality: one option with more ticks than every other
  (abstentions aside) and the quorum met. Two or more options level at the top are a tie.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    """How a poll ended (stored on the closed poll)."""

    PASSED = "passed"
    TIE = "tie"
    NO_QUORUM = "no_quorum"
    NO_VOTES = "no_votes"
    ABSTAINED = "abstained"
    """Only abstentions (a yes / no / abstain poll)."""


def largest_remainder(counts: Sequence[int], total: int = 100) -> list[int]:
    """Integer shares of ``total`` proportional to ``counts`` that sum to exactly ``total``.

    All zero when nothing was counted. Ties between equal remainders go to the larger count,
    then to the earlier option, so the same counts always give the same shares.
    """
    whole = sum(counts)
    if whole <= 0:
        return [0] * len(counts)
    exact = [count * total / whole for count in counts]
    shares = [math.floor(value) for value in exact]
    missing = total - sum(shares)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - shares[i]), -counts[i], i))
    for index in order[:missing]:
        shares[index] += 1
    return shares


def quorum_needed(members: int, count: int | None, percent: int | None) -> int | None:
    """How many people must vote: a number, or a share of ``members`` rounded up."""
    if count is not None:
        return count
    if percent is not None:
        return max(1, math.ceil(members * percent / 100))
    return None


@dataclass(frozen=True)
class Tally:
    """The standing of a poll (or its frozen result).

    Attributes:
        counts: Ticks per option, in the options' order.
        voters: People who voted.
        members: Members of the AG (at the close for a frozen result).
        abstain: Position of the abstain option of a yes / no / abstain poll.
        quorum: People who must vote; ``None``: no quorum.
    """

    counts: tuple[int, ...]
    voters: int
    members: int
    abstain: int | None = None
    quorum: int | None = None

    @classmethod
    def of_ballots(
        cls,
        options: int,
        ballots: Iterable[Sequence[int]],
        members: int,
        *,
        abstain: int | None = None,
        quorum: int | None = None,
    ) -> Tally:
        """Count ballots (each the chosen positions); positions outside the options are ignored."""
        counts = [0] * options
        voters = 0
        for ballot in ballots:
            chosen = {position for position in ballot if 0 <= position < options}
            if not chosen:
                continue
            voters += 1
            for position in chosen:
                counts[position] += 1
        return cls(tuple(counts), voters, members, abstain, quorum)

    @property
    def percentages(self) -> list[int]:
        """Each option's share of all ticks, summing to 100 (all 0 without votes)."""
        return largest_remainder(self.counts)

    @property
    def quorum_met(self) -> bool:
        """Whether enough people voted (always, without a quorum)."""
        return self.quorum is None or self.voters >= self.quorum

    @property
    def leaders(self) -> list[int]:
        """The positions with the most ticks (abstentions aside); empty without any."""
        contenders = [i for i in range(len(self.counts)) if i != self.abstain and self.counts[i] > 0]
        if not contenders:
            return []
        top = max(self.counts[i] for i in contenders)
        return [i for i in contenders if self.counts[i] == top]

    @property
    def outcome(self) -> Outcome:
        """How the poll stands (or ended)."""
        if self.voters == 0:
            return Outcome.NO_VOTES
        if not self.quorum_met:
            return Outcome.NO_QUORUM
        leaders = self.leaders
        if not leaders:
            return Outcome.ABSTAINED
        return Outcome.PASSED if len(leaders) == 1 else Outcome.TIE

    @property
    def winner(self) -> int | None:
        """The passing option's position, if the result passes."""
        return self.leaders[0] if self.outcome is Outcome.PASSED else None
