"""Date polls (``/abstimmung termin``), the pure part: answers per date, reading them as typed,
counting and ranking (no database, no clock).

Every member answers each date with yes, maybe or no (``/stimme 1 ja, 2 vielleicht, 3 nein``);
a later answer changes only the dates it names. The dates rank by their yes answers, then by
their maybes, then in the order they were offered.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.errors import UsageError, UserError
from bot.core.router import as_number
from bot.services.text import fold


class Answer(enum.StrEnum):
    """One person's answer to one date (stored as its value)."""

    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


ANSWERS = (Answer.YES, Answer.MAYBE, Answer.NO)
"""The answers in the order the tables and buttons show them."""
# Folded spellings, both languages always (a German member of an English AG types "ja").
_WORDS = {
    "ja": Answer.YES,
    "j": Answer.YES,
    "yes": Answer.YES,
    "y": Answer.YES,
    "vielleicht": Answer.MAYBE,
    "v": Answer.MAYBE,
    "evtl": Answer.MAYBE,
    "eventuell": Answer.MAYBE,
    "maybe": Answer.MAYBE,
    "m": Answer.MAYBE,
    "nein": Answer.NO,
    "n": Answer.NO,
    "no": Answer.NO,
}
_ALL = frozenset({"alle", "all"})
_TOKEN = re.compile(r"\d+|[^\W\d_]+|\S")
_IGNORED = frozenset(",;.:#/")
MAX_TOKENS = 100
"""More words than ten dates with their answers and separators ever need."""


def parse_answers(text: str, options: int, number: int) -> dict[int, Answer]:
    """Read ``1 ja, 2 vielleicht, 3 nein`` (also ``1j 2v 3n``, ``1 2 ja``, ``alle ja``).

    A number (or ``alle``) names dates; the answer word after it applies to every date named
    since the last answer. The same date named twice keeps the last answer.

    Args:
        text: What followed ``/stimme`` (and the poll number, if given).
        options: How many dates the poll has.
        number: The poll's number (for the messages).

    Returns:
        0-based positions → answer.

    Raises:
        UserError: Nothing given, a date without an answer or an answer without a date, a date
            the poll does not have, a word that is no answer.
    """
    tokens = [t for t in _TOKEN.findall(fold(text)) if t not in _IGNORED]
    if not tokens:
        raise UsageError("polls.dates.answer_missing", number=number)
    if len(tokens) > MAX_TOKENS:
        raise UserError("polls.dates.answer_too_long", number=number)
    found: dict[int, Answer] = {}
    pending: list[int] = []
    for token in tokens:
        if token.isdigit():
            position = as_number(token, high=options)
            assert position is not None  # digits only: a number, or the range error
            pending.append(position - 1)
        elif token in _ALL:
            pending.extend(range(options))
        elif token in _WORDS:
            if not pending:
                raise UserError("polls.dates.answer_which", number=number, given=token)
            found.update(dict.fromkeys(pending, _WORDS[token]))
            pending = []
        else:
            raise UserError("polls.dates.answer_unknown", number=number, given=token)
    if pending:
        raise UserError("polls.dates.answer_missing_for", number=number, date=pending[-1] + 1)
    return found


def merge(
    previous: Sequence[str | None] | None, answers: dict[int, Answer], options: int
) -> list[str | None]:
    """A person's answers after a new ``/stimme``: the named dates changed, the others kept."""
    merged: list[str | None] = [*(previous or ()), *([None] * options)][:options]
    for position, answer in answers.items():
        merged[position] = answer.value
    return merged


def yes_positions(answers: Sequence[str | None]) -> list[int]:
    """The dates answered yes (a vote's ``choices``)."""
    return [i for i, answer in enumerate(answers) if answer == Answer.YES.value]


@dataclass(frozen=True)
class DateCounts:
    """The answers to a date poll.

    Attributes:
        rows: Per date, in the options' order: (yes, maybe, no).
        voters: People who answered at least one date.
    """

    rows: tuple[tuple[int, int, int], ...]
    voters: int

    @classmethod
    def of_answers(cls, options: int, ballots: Iterable[Sequence[str | None] | None]) -> DateCounts:
        """Count each person's answers (a list per person in the options' order)."""
        counts = [[0, 0, 0] for _ in range(options)]
        voters = 0
        index = {answer.value: column for column, answer in enumerate(ANSWERS)}
        for ballot in ballots:
            given = [(i, index[a]) for i, a in enumerate(ballot or ()) if i < options and a in index]
            if not given:
                continue
            voters += 1
            for position, column in given:
                counts[position][column] += 1
        return cls(tuple((y, m, n) for y, m, n in counts), voters)

    @classmethod
    def frozen(cls, stored: Sequence[Sequence[int]], voters: int) -> DateCounts:
        """The counts frozen on a closed poll."""
        return cls(tuple((int(r[0]), int(r[1]), int(r[2])) for r in stored), voters)

    @property
    def yes(self) -> tuple[int, ...]:
        """Yes answers per date."""
        return tuple(row[0] for row in self.rows)

    def ranking(self) -> list[int]:
        """Positions, best first: most yes, then most maybe, then as offered."""
        return sorted(range(len(self.rows)), key=lambda i: (-self.rows[i][0], -self.rows[i][1], i))

    def leaders(self) -> list[int]:
        """The best dates (level on yes and maybe); empty while no date has a yes or maybe."""
        ranked = self.ranking()
        if not ranked:
            return []
        top = self.rows[ranked[0]][:2]
        if top == (0, 0):
            return []
        return [i for i in ranked if self.rows[i][:2] == top]
