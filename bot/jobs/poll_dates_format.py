"""How date polls read: the announcement with its buttons, the standing as a table, the result
ranked by yes and maybe, the reminder, the private ballot.

The table is monospace (code spans padded with no-break spaces, which no renderer collapses):

    Nr Termin           ja vielleicht nein
    1. Do 3.12., 18:00   3          1    0
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.addressing import chat_ref
from bot.core.events import Button, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup, Span, bold
from bot.core.when_format import moment_short, moment_text
from bot.jobs import poll_format
from bot.services.date_answers import ANSWERS, Answer, DateCounts
from bot.services.text import shorten
from storage.models import Chat, Person, Poll, PollStatus

BUTTON_DATES = 3
"""Dates that get buttons (three each): Matrix shows buttons as at most nine reactions."""
NAMES_PER_CELL = 8
"""Names listed per date and answer; the rest are counted."""
NAME_PREVIEW = 30
PAD = "\u00a0"
_ANSWER_KEYS = {
    Answer.YES: "polls.dates.yes",
    Answer.MAYBE: "polls.dates.maybe",
    Answer.NO: "polls.dates.no",
}


def word(tr: Translator, answer: Answer | str | None) -> str:
    """``ja`` / ``vielleicht`` / ``nein`` in the AG's language; ``–`` for no answer."""
    return tr.text(_ANSWER_KEYS[Answer(answer)]) if answer else "–"


def date_label(tr: Translator, start: datetime, now: datetime | None = None) -> str:
    """``Do 3.12., 18:00`` (with the year when it is another year's)."""
    return moment_short(tr, start, now=now)


def title(tr: Translator, poll: Poll, key: str = "polls.dates.title") -> Markup:
    """``📅 Terminabstimmung Nr. 2: <Titel>`` with the place below it, if any."""
    markup = tr.markup(key, number=poll.number, question=poll.question)
    if poll.location:
        markup.line(tr.text("meetings.location", location=poll.location))
    return markup


def date_lines(tr: Translator, markup: Markup, poll: Poll, now: datetime | None = None) -> Markup:
    """The dates, numbered as ``/stimme`` takes them."""
    for position, start in enumerate(poll.starts, start=1):
        markup.line(bold(f"{position}."), " ", date_label(tr, start, now))
    return markup


def has_buttons(poll: Poll) -> bool:
    """Whether the dates are answered with buttons too (few enough for Matrix's reactions)."""
    return len(poll.options) <= BUTTON_DATES


def answer_buttons(tr: Translator, poll: Poll) -> list[list[Button]]:
    """Per date a row ja / vielleicht / nein, each ``/stimme <Nr>: <Termin> <Antwort>``; none for
    more than :data:`BUTTON_DATES` dates."""
    if not has_buttons(poll):
        return []
    rows = []
    for position in range(1, len(poll.options) + 1):
        row = []
        for answer in ANSWERS:
            label = tr.text("polls.dates.button", date=position, answer=word(tr, answer))
            row.append(Button(label, command=f"/stimme {poll.number}: {position} {word(tr, answer)}"))
        rows.append(row)
    return rows


def announcement(tr: Translator, poll: Poll, chats: Sequence[Chat], now: datetime) -> list[OutgoingMessage]:
    """The date poll in every chat of the AG: the dates, how to answer, buttons where they fit
    (a secret poll: the button that opens the private ballot)."""
    markup = date_lines(tr, title(tr, poll), poll, now)
    markup.line(poll_format.deadline_text(tr, poll))
    if poll.anonymous:
        markup.line(tr.text("polls.setting.anonymous"))
    markup.blank()
    buttons: list[list[Button]]
    if poll.anonymous:
        markup.extend(tr.lines("polls.dates.how_secret", number=poll.number))
        start = f"{poll_format.START_PREFIX}{poll.id}"
        buttons = [[Button(tr.text("polls.ballot_button"), start_payload=start)]]
    else:
        markup.extend(tr.lines("polls.dates.how", number=poll.number))
        key = "polls.dates.how_buttons" if has_buttons(poll) else "polls.dates.how_no_buttons"
        markup.extend(tr.lines(key, limit=BUTTON_DATES))
        buttons = answer_buttons(tr, poll)
    return [OutgoingMessage(chat_ref(c), markup, buttons=buttons, tag=poll_format.tag(poll)) for c in chats]


def ballot(tr: Translator, poll: Poll, group_name: str, now: datetime) -> Markup:
    """The private ballot of a secret date poll."""
    markup = tr.markup(
        "polls.dates.ballot", number=poll.number, ag=tr.group_phrase(group_name), question=poll.question
    )
    date_lines(tr, markup, poll, now)
    markup.line(poll_format.deadline_text(tr, poll))
    return markup.extend(tr.lines("polls.dates.how", number=poll.number))


def answered(tr: Translator, poll: Poll, mine: Sequence[str | None], key: str, now: datetime) -> Markup:
    """The confirmation of ``/stimme``: the person's answer to every date."""
    markup = tr.markup(key, number=poll.number)
    for position, (start, answer) in enumerate(zip(poll.starts, mine, strict=True), start=1):
        markup.bullet(bold(f"{position}."), " ", date_label(tr, start, now), ": ", word(tr, answer))
    return markup.line(poll_format.deadline_text(tr, poll))


# The table ------------------------------------------------------------------------------------


def table(
    tr: Translator, poll: Poll, counts: DateCounts, order: Sequence[int], now: datetime, best: Sequence[int]
) -> list[list[Span]]:
    """The answers as monospace lines: a header, then one line per date in ``order``; the dates
    in ``best`` in bold."""
    heads = [tr.text("polls.dates.col_number"), tr.text("polls.dates.col_date")]
    heads += [word(tr, answer) for answer in ANSWERS]
    rows = [
        [f"{i + 1}.", date_label(tr, poll.starts[i], now), *(str(c) for c in counts.rows[i])] for i in order
    ]
    widths = [max(len(r[col]) for r in [heads, *rows]) for col in range(len(heads))]

    def cells(values: Sequence[str]) -> str:
        left = [values[0].ljust(widths[0], PAD), values[1].ljust(widths[1], PAD)]
        right = [v.rjust(w, PAD) for v, w in zip(values[2:], widths[2:], strict=True)]
        return PAD.join(left + right)

    lines = [[Span(cells(heads), code=True)]]
    for position, row in zip(order, rows, strict=True):
        lines.append([Span(cells(row), code=True, bold=position in best)])
    return lines


def name_lines(
    tr: Translator, markup: Markup, poll: Poll, by_person: Sequence[tuple[Person, Sequence[str | None]]]
) -> Markup:
    """Who answered what, per date (a poll that records names)."""
    for position in range(len(poll.options)):
        parts = []
        for answer in ANSWERS:
            names = [shorten(p.display_name, NAME_PREVIEW) for p, a in by_person if a[position] == answer]
            if len(names) > NAMES_PER_CELL:
                extra = tr.text("polls.and_more", others=len(names) - NAMES_PER_CELL)
                names = [*names[:NAMES_PER_CELL], extra]
            if names:
                parts.append(f"{word(tr, answer)}: {', '.join(names)}")
        if parts:
            markup.bullet(bold(f"{position + 1}."), " ", " · ".join(parts))
    return markup


def outcome_text(tr: Translator, poll: Poll, counts: DateCounts, now: datetime) -> str:
    """The best date (most yes, then most maybe), dates level at the top, or nobody answered."""
    if poll.chosen_position is not None:
        start = poll.starts[poll.chosen_position]
        return tr.text(
            "polls.dates.outcome_chosen",
            date=poll.chosen_position + 1,
            when=date_label(tr, start, now),
            meeting=poll.meeting_number,
        )
    leaders = counts.leaders()
    if counts.voters == 0 or not leaders:
        return tr.text("polls.dates.outcome_none")
    first = leaders[0]
    yes, maybe, _ = counts.rows[first]
    if len(leaders) > 1:
        dates = ", ".join(str(i + 1) for i in leaders[:-1])
        return tr.text("polls.dates.outcome_level", dates=dates, last=leaders[-1] + 1, yes=yes, maybe=maybe)
    label = date_label(tr, poll.starts[first], now)
    return tr.text("polls.dates.outcome_best", date=first + 1, when=label, yes=yes, maybe=maybe)


def _body(
    tr: Translator,
    markup: Markup,
    poll: Poll,
    counts: DateCounts,
    members: int,
    by_person: Sequence[tuple[Person, Sequence[str | None]]],
    now: datetime,
    *,
    ranked: bool,
) -> Markup:
    chosen = [poll.chosen_position] if poll.chosen_position is not None else counts.leaders()
    order = counts.ranking() if ranked else range(len(poll.options))
    for line in table(tr, poll, counts, list(order), now, chosen):
        markup.line(*line)
    if ranked:
        markup.line(tr.text("polls.dates.ranked"))
    if by_person:
        name_lines(tr, markup, poll, by_person)
    elif poll.anonymous:
        markup.line(tr.text("polls.anonymous_note"))
    markup.line(tr.text("polls.turnout", members, voters=counts.voters))
    return markup


def standing(
    tr: Translator,
    poll: Poll,
    counts: DateCounts,
    members: int,
    by_person: Sequence[tuple[Person, Sequence[str | None]]],
    now: datetime,
) -> Markup:
    """``/abstimmung <Nr>`` of a date poll: the table in the dates' order, who answered what."""
    markup = _body(tr, title(tr, poll), poll, counts, members, by_person, now, ranked=False)
    if poll.status is PollStatus.OPEN:
        markup.line(poll_format.deadline_text(tr, poll))
        markup.line(outcome_text(tr, poll, counts, now))
    else:
        assert poll.closed_at is not None
        markup.line(tr.text("polls.closed_on", when=moment_text(tr, poll.closed_at)))
        markup.line(bold(outcome_text(tr, poll, counts, now)))
    if poll.meeting_number is None:
        markup.line(tr.text("polls.dates.how_to_choose", number=poll.number))
    return markup


def result(
    tr: Translator,
    poll: Poll,
    counts: DateCounts,
    members: int,
    by_person: Sequence[tuple[Person, Sequence[str | None]]],
    now: datetime,
) -> Markup:
    """The result at the close: the dates ranked, the best one, how the koordination fixes it."""
    markup = _body(
        tr, title(tr, poll, "polls.dates.result_title"), poll, counts, members, by_person, now, ranked=True
    )
    markup.blank().line(bold(outcome_text(tr, poll, counts, now)))
    if poll.meeting_number is None:
        markup.line(tr.text("polls.dates.how_to_choose", number=poll.number))
    return markup


def list_line(tr: Translator, poll: Poll, counts: DateCounts, now: datetime) -> tuple[Span | str, ...]:
    """One date poll in ``/abstimmungen``."""
    label = bold(tr.text("polls.dates.label", number=poll.number))
    question = shorten(poll.question, poll_format.LIST_PREVIEW)
    if poll.status is PollStatus.OPEN:
        when = moment_text(tr, poll.deadline)
        return (label, ": ", question, " ", tr.text("polls.list_open", counts.voters, when=when))
    outcome = shorten(outcome_text(tr, poll, counts, now), poll_format.LIST_OUTCOME)
    return (label, ": ", question, " – ", outcome)


def reminder(tr: Translator, poll: Poll, group_name: str, *, private: bool) -> Markup:
    """The note to those who have not answered, before the deadline."""
    keys = ("polls.dates.remind_private", "polls.dates.remind_group", "polls.dates.remind_group_secret")
    return poll_format.reminder(tr, poll, group_name, private=private, keys=keys)
