"""How polls read: the announcement, the standing, the result with its chart, the reminder.

Shared by the poll commands (``bot/handlers/polls.py``) and the poll jobs (``bot/jobs/polls.py``),
and by the register's texts that suggest a poll (the reopen guard's hint, the newcomer's brief).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from bot.core.addressing import chat_ref
from bot.core.events import Attachment, Button, ChatKind, ChatRef, OutgoingMessage, Platform, PollSpec
from bot.core.i18n import Translator
from bot.core.markup import Markup, Span, bold, render_html
from bot.core.when_format import moment_text
from bot.services import charts
from bot.services.polls import FAILED, REJECTED, Closing
from bot.services.tally import Outcome, Tally
from bot.services.text import shorten
from storage.models import Chat, Person, Poll, PollEffect, PollMessage, PollStatus

log = logging.getLogger(__name__)

START_PREFIX = "poll-"
"""``/start poll-<id>`` (a Telegram deep link) opens the secret ballot of a poll privately."""
CAPTION_LIMIT = 1000
"""Longest result that goes as the chart's caption (Telegram: 1,024 characters of caption)."""
NATIVE_QUESTION = 300
"""Characters Telegram takes for a native poll's question."""
MAX_NAMES = 30
"""Voters named in a standing; the rest are counted."""
NAME_PREVIEW = 40
QUESTION_PREVIEW = 120
LIST_PREVIEW = 80
LIST_OUTCOME = 160


def tag(poll: Poll) -> str:
    """The outbox tag of a poll's announcement (its delivery is reported to the polls feature)."""
    return f"poll:{poll.id}"


def title(tr: Translator, poll: Poll, key: str = "polls.title") -> Markup:
    """``🗳 Abstimmung Nr. 3: <Frage>``."""
    return tr.markup(key, number=poll.number, question=poll.question)


def option_lines(markup: Markup, poll: Poll) -> Markup:
    """The options, numbered as ``/stimme`` takes them."""
    for position, option in enumerate(poll.options, start=1):
        markup.line(bold(f"{position}."), " ", option)
    return markup


def settings_text(tr: Translator, poll: Poll) -> str:
    """``Mehrfachauswahl · Quorum: 5 Stimmen · Ergebnis wird Beschluss`` (empty without any)."""
    parts = []
    if poll.multiple:
        parts.append(tr.text("polls.setting.multiple"))
    if poll.anonymous:
        parts.append(tr.text("polls.setting.anonymous"))
    if poll.quorum_count is not None:
        parts.append(tr.text("polls.setting.quorum_count", poll.quorum_count))
    if poll.quorum_percent is not None:
        parts.append(tr.text("polls.setting.quorum_percent", percent=poll.quorum_percent))
    if poll.effect is PollEffect.DECISION:
        parts.append(tr.text("polls.setting.decision"))
    elif poll.effect is PollEffect.REPLACE:
        parts.append(tr.text("polls.setting.replace", number=poll.replaces_number))
    elif poll.effect is PollEffect.GOAL:
        parts.append(tr.text("polls.setting.goal"))
    return " · ".join(parts)


def deadline_text(tr: Translator, poll: Poll) -> str:
    """``Läuft bis Fr, 27.11.2026 um 18:00.`` (or until everyone voted)."""
    when = moment_text(tr, poll.deadline)
    return tr.text("polls.until_all" if poll.until_all else "polls.deadline", when=when)


def announcement(tr: Translator, poll: Poll, chats: Sequence[Chat]) -> list[OutgoingMessage]:
    """The poll in every chat of the AG: a text with the numbered options and how to vote, then
    (unless it is anonymous) the platform's native poll.

    An anonymous poll gets no native poll: Telegram tells the bot nobody's answer in an
    anonymous poll (so one vote per person and reminders were impossible), and Telegram's public
    polls and Matrix poll answers show every voter to the whole chat. Its votes are cast
    privately with ``/stimme`` instead (a button opens the private chat on Telegram).
    """
    markup = option_lines(title(tr, poll), poll)
    markup.line(deadline_text(tr, poll))
    settings = settings_text(tr, poll)
    if settings:
        markup.line(settings)
    markup.blank()
    buttons: list[list[Button]] = []
    if poll.anonymous:
        markup.extend(tr.lines("polls.how_to_vote_secret", number=poll.number))
        buttons = [[Button(tr.text("polls.ballot_button"), start_payload=f"{START_PREFIX}{poll.id}")]]
    else:
        markup.extend(tr.lines("polls.how_to_vote", number=poll.number))
        if poll.multiple:
            markup.extend(tr.lines("polls.how_to_vote_multiple", number=poll.number))
    messages = []
    for chat in chats:
        ref = chat_ref(chat)
        messages.append(OutgoingMessage(ref, markup, buttons=buttons, tag=tag(poll)))
        if not poll.anonymous:
            messages.append(native_poll(tr, poll, ref))
    return messages


def native_poll(tr: Translator, poll: Poll, chat: ChatRef) -> OutgoingMessage:
    """The platform's own poll: answers come back as ``PollAnswered`` events."""
    question = shorten(
        tr.text("polls.native_question", number=poll.number, question=poll.question), NATIVE_QUESTION
    )
    spec = PollSpec(question, tuple(poll.options), allows_multiple=poll.multiple, anonymous=False)
    return OutgoingMessage(
        chat, tr.markup("polls.native_caption", number=poll.number), poll=spec, tag=tag(poll)
    )


def end_natives(tr: Translator, poll: Poll, messages: Sequence[PollMessage]) -> list[OutgoingMessage]:
    """Messages that end the native polls on their platforms (through the outbox, retried)."""
    text = tr.markup("polls.native_closed", number=poll.number)
    return [
        OutgoingMessage(
            ChatRef(Platform(m.platform), m.chat_id, ChatKind.GROUP), text, close_poll=m.message_id
        )
        for m in messages
        if m.message_id is not None
    ]


def ballot(tr: Translator, poll: Poll, group_name: str) -> Markup:
    """The private ballot of an anonymous poll."""
    markup = tr.markup(
        "polls.ballot", number=poll.number, ag=tr.group_phrase(group_name), question=poll.question
    )
    option_lines(markup, poll)
    return markup.line(deadline_text(tr, poll))


def ballot_buttons(poll: Poll) -> list[list[Button]]:
    """One button per option: ``/stimme <Nr>: <Option>``."""
    labels = [f"{i}. {shorten(option, 40)}" for i, option in enumerate(poll.options, start=1)]
    buttons = [Button(label, command=f"/stimme {poll.number}: {i}") for i, label in enumerate(labels, 1)]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


# Standing and result --------------------------------------------------------------------------


def count_lines(tr: Translator, markup: Markup, poll: Poll, tally: Tally) -> Markup:
    """``- ja: 5 (63 %)`` per option; the winner of a passed result in bold."""
    winner = tally.winner if poll.status is PollStatus.CLOSED else None
    for position, (option, count, percent) in enumerate(
        zip(poll.options, tally.counts, tally.percentages, strict=True)
    ):
        text = tr.text("polls.count_line", option=option, votes=count, percent=percent)
        markup.bullet(bold(text) if position == winner else text)
    return markup


def turnout_text(tr: Translator, tally: Tally) -> str:
    """``8 von 12 Mitgliedern haben abgestimmt.`` with the quorum's state."""
    text = tr.text("polls.turnout", tally.members, voters=tally.voters)
    if tally.quorum is None:
        return text
    key = "polls.quorum_met" if tally.quorum_met else "polls.quorum_missing"
    return f"{text} {tr.text(key, quorum=tally.quorum, voters=tally.voters)}"


def standing(tr: Translator, poll: Poll, tally: Tally, voters: Sequence[Person], now: datetime) -> Markup:
    """``/abstimmung <Nr>``: counts, percentages, who voted so far (not in an anonymous poll)."""
    markup = count_lines(tr, title(tr, poll), poll, tally)
    markup.line(turnout_text(tr, tally))
    if voters:
        names = [shorten(v.display_name, NAME_PREVIEW) for v in voters[:MAX_NAMES]]
        if len(voters) > MAX_NAMES:
            names.append(tr.text("polls.and_more", others=len(voters) - MAX_NAMES))
        markup.line(tr.text("polls.voters", names=", ".join(names)))
    elif poll.anonymous:
        markup.line(tr.text("polls.anonymous_note"))
    if poll.status is PollStatus.OPEN:
        markup.line(deadline_text(tr, poll))
        settings = settings_text(tr, poll)
        if settings:
            markup.line(settings)
    else:
        assert poll.closed_at is not None
        markup.line(tr.text("polls.closed_on", when=moment_text(tr, poll.closed_at)))
        markup.line(outcome_text(tr, poll, tally))
        if poll.recorded_number is not None:
            markup.line(recorded_text(tr, poll))
    return markup


def outcome_text(tr: Translator, poll: Poll, tally: Tally) -> str:
    """How it ended: the majority, a tie (named), the quorum missed, no votes."""
    outcome = tally.outcome
    if outcome is Outcome.PASSED:
        winner = tally.winner
        assert winner is not None
        return tr.text(
            "polls.outcome.passed",
            option=poll.options[winner],
            votes=tally.counts[winner],
            voters=tally.voters,
        )
    if outcome is Outcome.TIE:
        leaders = tally.leaders
        names = ", ".join(f"„{poll.options[i]}“" for i in leaders[:-1])
        both = tr.text("polls.outcome.tie_names", first=names, last=f"„{poll.options[leaders[-1]]}“")
        return tr.text("polls.outcome.tie", tally.counts[leaders[0]], options=both)
    if outcome is Outcome.NO_QUORUM:
        return tr.text("polls.outcome.no_quorum", voters=tally.voters, quorum=tally.quorum)
    if outcome is Outcome.ABSTAINED:
        return tr.text("polls.outcome.abstained")
    return tr.text("polls.outcome.no_votes")


def recorded_text(tr: Translator, poll: Poll) -> str:
    """What the result became in the register."""
    if poll.effect is PollEffect.GOAL:
        return tr.text("polls.recorded_goal", number=poll.recorded_number)
    if poll.effect is PollEffect.REPLACE:
        return tr.text("polls.recorded_replace", old=poll.replaces_number, number=poll.recorded_number)
    return tr.text("polls.recorded_decision", number=poll.recorded_number)


REASONS = {
    Outcome.TIE.value: "polls.reason.tie",
    Outcome.NO_QUORUM.value: "polls.reason.no_quorum",
    Outcome.NO_VOTES.value: "polls.reason.no_votes",
    Outcome.ABSTAINED.value: "polls.reason.abstained",
    REJECTED: "polls.reason.rejected",
}


def not_recorded_text(tr: Translator, poll: Poll, closing: Closing) -> str | None:
    """Why a poll meant to decide recorded nothing (``None`` when it recorded, or was not meant to)."""
    if poll.not_recorded is None:
        return None
    if poll.not_recorded == FAILED and closing.error is not None:
        reason = tr.text(closing.error.key, closing.error.count, **closing.error.params)
    else:
        reason = tr.text(REASONS.get(poll.not_recorded, "polls.reason.no_votes"))
    if poll.effect is PollEffect.GOAL:
        return tr.text("polls.not_recorded_goal", reason=reason)
    if poll.effect is PollEffect.REPLACE:
        return tr.text("polls.not_recorded_replace", number=poll.replaces_number, reason=reason)
    return tr.text("polls.not_recorded_decision", reason=reason)


def result(tr: Translator, poll: Poll, closing: Closing) -> Markup:
    """The result message: counts, turnout and quorum, outcome, what was recorded or why not."""
    tally = closing.tally
    markup = count_lines(tr, title(tr, poll, "polls.result_title"), poll, tally)
    markup.line(turnout_text(tr, tally))
    markup.blank().line(bold(outcome_text(tr, poll, tally)))
    if poll.recorded_number is not None:
        markup.line(recorded_text(tr, poll))
    failure = not_recorded_text(tr, poll, closing)
    if failure is not None:
        markup.line(failure)
    return markup


def decision_text(tr: Translator, poll: Poll, tally: Tally) -> str:
    """The decision a passed result becomes; it reads on its own: ``Machen wir im Juni ein
    Sommerfest? – ja (Abstimmung Nr. 3, 5 von 8 Stimmen)``."""
    winner = tally.winner
    if winner is None:
        return ""
    return tr.text(
        "polls.decision_text",
        question=poll.question,
        option=poll.options[winner],
        number=poll.number,
        votes=tally.counts[winner],
        voters=tally.voters,
    )


def fits_caption(markup: Markup) -> bool:
    """Whether a text can be the caption of a picture on every platform."""
    html = render_html(markup)
    return len(html.encode("utf-16-le", "surrogatepass")) // 2 <= CAPTION_LIMIT


async def chart(tr: Translator, poll: Poll, tally: Tally) -> Attachment:
    """The result as a bar chart (PNG), rendered off the event loop."""
    values = [f"{c} ({p} %)" for c, p in zip(tally.counts, tally.percentages, strict=True)]
    subtitle = turnout_text(tr, tally)
    highlight = tally.winner
    png = await asyncio.to_thread(
        charts.bar_chart,
        poll.question,
        list(poll.options),
        list(tally.counts),
        value_labels=values,
        subtitle=subtitle,
        highlight=highlight,
    )
    return Attachment(tr.text("polls.chart_filename", number=poll.number), "image/png", png)


async def result_messages(
    tr: Translator, poll: Poll, closing: Closing, chats: Sequence[Chat]
) -> list[OutgoingMessage]:
    """The result in every chat: the chart with the result as its caption, or with a short
    caption and the full result after it when that is too long for a caption. A chart that
    cannot be drawn costs only the picture, never the result."""
    full = result(tr, poll, closing)
    try:
        attachment = await chart(tr, poll, closing.tally)
    except Exception:
        log.exception("poll %s: the result chart could not be drawn; sending the text alone", poll.id)
        return [OutgoingMessage(chat_ref(chat), full) for chat in chats]
    caption = (
        full
        if fits_caption(full)
        else title(tr, poll, "polls.result_title").line(bold(outcome_text(tr, poll, closing.tally)))
    )
    if not fits_caption(caption):  # an unusually long question: the title alone, shortened
        caption = tr.markup("polls.result_short", number=poll.number)
    messages = []
    for chat in chats:
        ref = chat_ref(chat)
        messages.append(OutgoingMessage(ref, caption, attachment=attachment))
        if caption is not full:
            messages.append(OutgoingMessage(ref, full))
    return messages


# Reminders and suggestions --------------------------------------------------------------------


def reminder(
    tr: Translator,
    poll: Poll,
    group_name: str,
    *,
    private: bool,
    keys: tuple[str, str, str] = ("polls.remind_private", "polls.remind_group", "polls.remind_group_secret"),
) -> Markup:
    """The note to non-voters before the deadline: personal, or to the whole group (no names).

    Args:
        keys: Catalog keys of the private, the group and the secret poll's group note (date
            polls have their own).
    """
    when = moment_text(tr, poll.deadline)
    question = shorten(poll.question, QUESTION_PREVIEW)
    personal, public, secret = keys
    if private:
        return tr.markup(
            personal, number=poll.number, ag=tr.group_phrase(group_name), question=question, when=when
        )
    key = secret if poll.anonymous else public
    return tr.markup(key, number=poll.number, question=question, when=when)


def reopen_command(tr: Translator, kind: str, number: int) -> str:
    """The poll that reopens a settled item properly, with the item filled in:
    ``/abstimmung Soll Beschluss Nr. 2 geändert werden? | ja | nein | beschluss ersetzen 2``."""
    key = "polls.reopen_decision" if kind == "decision" else "polls.reopen_goal"
    return tr.text(key, number=number)


def vote_choice(poll: Poll, choices: Sequence[int]) -> str:
    """The chosen options as a reply repeats them: ``„ja“`` or ``„A“, „C“``."""
    return ", ".join(f"„{shorten(poll.options[c], 60)}“" for c in choices if 0 <= c < len(poll.options))


def list_line(tr: Translator, poll: Poll, tally: Tally) -> tuple[Span | str, ...]:
    """One poll in ``/abstimmungen``."""
    label = bold(tr.text("polls.label", number=poll.number))
    question = shorten(poll.question, LIST_PREVIEW)
    if poll.status is PollStatus.OPEN:
        when = moment_text(tr, poll.deadline)
        return (label, ": ", question, " ", tr.text("polls.list_open", tally.voters, when=when))
    return (label, ": ", question, " – ", shorten(outcome_text(tr, poll, tally), LIST_OUTCOME))
