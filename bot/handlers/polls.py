"""``/abstimmung``, ``/abstimmungen`` and ``/stimme``: polls that can end in recorded decisions.

A poll is started in a group chat and runs in every chat of the AG. Votes come from the
platforms' native polls (``PollAnswered``, mapped through the messages the outbox reported as
delivered) and from ``/stimme``, which works everywhere, also privately and as a reply to the
poll. The close (deadline, ``/abstimmung schliessen``, everyone voted) is
:func:`bot.jobs.polls.finish`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from bot.core.addressing import private_chat
from bot.core.context import Context
from bot.core.errors import ChooseGroup, NoGroup, NotFound, PermissionDenied, UsageError, UserError
from bot.core.events import PollAnswered, SentMessage
from bot.core.i18n import Translator
from bot.core.observers import Runtime, Unit
from bot.core.router import Args, Router, as_number
from bot.handlers import poll_dates
from bot.jobs import poll_dates_format, poll_format
from bot.jobs import polls as jobs
from bot.services import charts
from bot.services.poll_input import parse_poll
from bot.services.polls import JOB_CLOSE, JOB_REMIND, VoteChange
from bot.services.text import fold
from storage.models import Poll, PollKind, PollStatus, Role, WorkingGroup

log = logging.getLogger(__name__)

router = Router()
router.on.job(JOB_CLOSE)(jobs.close)
router.on.job(JOB_REMIND)(jobs.remind)

_CHOICE_SPLIT = re.compile(r"[,;\s]+")
LIST_LIMIT = 8
"""Running and recently closed polls ``/abstimmungen`` shows each (one message on every platform)."""


# Starting and showing -------------------------------------------------------------------------


@router.command("abstimmung", aliases=("poll",), private=True)
async def start_or_show(ctx: Context, args: Args) -> None:
    """``/abstimmung <Frage> | <Option> | …`` starts a poll in every chat of the AG (koordination,
    or everybody after ``/ag abstimmungen offen``); ``/abstimmung <Nr>`` shows its standing."""
    group = ctx.require_group()
    if not args.text:
        raise UsageError()
    number = as_number(args.text)
    if number is not None:
        await _show(ctx, group, number)
        return
    await _start(ctx, group, args.text)


async def _start(ctx: Context, group: WorkingGroup, text: str) -> None:
    ctx.require_group_chat()
    if not group.polls_open and (ctx.role is None or ctx.role.rank < Role.KOORDINATION.rank):
        raise PermissionDenied("polls.start_denied")
    draft = parse_poll(text)
    tr = ctx.tr
    labels = (tr.text("polls.yes"), tr.text("polls.no"), tr.text("polls.abstain"))
    poll = await ctx.services.polls.create(group, draft, ctx.person, yes_no=labels)
    chats = await ctx.services.groups.repo.chats(group.id)
    ctx.outgoing.extend(poll_format.announcement(tr, poll, chats))


async def _show(ctx: Context, group: WorkingGroup, number: int) -> None:
    polls = ctx.services.polls
    poll = await polls.get(group, number)
    if poll.kind is PollKind.DATES:
        await poll_dates.show(ctx, poll)
        return
    tally = await polls.tally(poll)
    voters = await polls.voters(poll)
    ctx.reply(poll_format.standing(ctx.tr, poll, tally, voters, ctx.clock.now()))


@router.subcommand("abstimmung", "schliessen", aliases=("close", "beenden"))
async def close(ctx: Context, args: Args) -> None:
    """``/abstimmung schliessen <Nr>`` (koordination): close a poll now, with its result."""
    first = args.words[0] if args.words else ""
    rest = ctx.invocation.rest if ctx.invocation is not None else ""
    if first and as_number(first) is None and ("|" in rest or "\n" in rest or rest.rstrip().endswith("?")):
        # "/abstimmung Schließen wir das Büro? | ja | nein" is a poll, not the subcommand.
        await _start(ctx, ctx.require_group(), rest)
        return
    group = ctx.require_group()
    ctx.require_group_chat()
    ctx.require_role(Role.KOORDINATION)
    number, _ = args.take_number()
    poll = await ctx.services.polls.get(group, number)
    if poll.status is not PollStatus.OPEN:
        raise UserError("polls.closed", number=number)
    ctx.outgoing.extend(await jobs.finish(ctx.services, ctx.tr, group, poll, actor=ctx.person))


@router.subcommand("abstimmung", "termin", aliases=("dates", "termine", "terminfindung"))
async def dates(ctx: Context, args: Args) -> None:
    """``/abstimmung termin <Titel> | <Termin> | …``: a date poll, answered yes / maybe / no per
    date; ``/abstimmung termin waehlen <Nr> <Termin>`` (koordination) makes it a meeting."""
    group = ctx.require_group()
    if poll_dates.reads_as_question(group, args.text, ctx.clock.now()):
        # "/abstimmung Termin verschieben? | ja | nein" is an ordinary poll.
        await _start(ctx, group, ctx.invocation.rest if ctx.invocation is not None else args.text)
        return
    await poll_dates.dates(ctx, args)


@router.command("abstimmungen", aliases=("polls",), private=True)
async def overview(ctx: Context, args: Args) -> None:
    """The open polls and those closed in the last 30 days."""
    group = ctx.require_group()
    polls = ctx.services.polls
    running, recent = await polls.overview(group, LIST_LIMIT)
    tr = ctx.tr
    if not running and not recent:
        ctx.say("polls.list_none")
        return
    markup = tr.markup("polls.list_title", ag=tr.group_phrase(group.name))
    for title, listed in (("polls.list_running", running), ("polls.list_recent", recent)):
        if listed:
            markup.blank().line(tr.text(title))
        for poll in listed:
            if poll.kind is PollKind.DATES:
                counts = await polls.date_counts(poll)
                markup.bullet(*poll_dates_format.list_line(tr, poll, counts, ctx.clock.now()))
            else:
                markup.bullet(*poll_format.list_line(tr, poll, await polls.tally(poll)))
    markup.blank().extend(tr.lines("polls.list_footer"))
    ctx.reply(markup)


# Voting ---------------------------------------------------------------------------------------


@router.command("stimme", aliases=("vote",), needs_group=False)
async def vote(ctx: Context, args: Args) -> None:
    """``/stimme <Nr>[,<Nr>…]`` or ``/stimme <Poll-Nr>: <Nr>``: vote (again, to change it), in the
    group chat, privately, or as a reply to the poll; the last vote before the deadline counts."""
    if not args.text:
        raise UsageError()
    number, rest = _split_vote(args.text)
    group, poll = await _poll_for(ctx, number)
    if poll.kind is PollKind.DATES:
        if await poll_dates.answer(ctx, group, poll, rest) is VoteChange.NEW:
            await _finish_if_everyone_voted(ctx, group, poll)
        return
    choices = _choices(poll, rest)
    change = await ctx.services.polls.vote(poll, ctx.person, choices)
    tr = ctx.tr = Translator(group.language, group.timezone)
    until = poll_format.deadline_text(tr, poll)
    if poll.anonymous and not ctx.is_private:
        ctx.say("polls.voted_secret_group", number=poll.number)
    else:
        key = {VoteChange.NEW: "polls.voted", VoteChange.CHANGED: "polls.vote_changed"}.get(
            change, "polls.vote_same"
        )
        markup = tr.markup(
            key, number=poll.number, choice=poll_format.vote_choice(poll, choices), until=until
        )
        # A secret vote's confirmation is deleted from the outbox once it went out.
        ctx.reply(markup, secret=poll.anonymous)
    if change is VoteChange.NEW:
        await _finish_if_everyone_voted(ctx, group, poll)


@router.subcommand("stimme", "zurueck", aliases=("retract", "withdraw"), needs_group=False)
async def retract(ctx: Context, args: Args) -> None:
    """``/stimme zurueck [<Poll-Nr>]``: withdraw one's vote."""
    number = as_number(args.text) if args.text else None
    if args.text and number is None:
        raise UsageError()
    group, poll = await _poll_for(ctx, number)
    withdrawn = await ctx.services.polls.retract(poll, ctx.person)
    ctx.tr = Translator(group.language, group.timezone)
    ctx.reply(
        ctx.tr.markup("polls.retracted" if withdrawn else "polls.no_vote", number=poll.number),
        secret=poll.anonymous,
    )


def _split_vote(text: str) -> tuple[int | None, str]:
    """``3: 1,2`` → ``(3, "1,2")``; ``1,2`` → ``(None, "1,2")``."""
    head, colon, tail = text.partition(":")
    if not colon:
        return None, text
    number = as_number(head)
    if number is None:
        raise UserError("polls.vote_invalid", given=head.strip())
    return number, tail


def _choices(poll: Poll, text: str) -> list[int]:
    """Option numbers (1-based, as shown) or option texts → 0-based positions."""
    text = text.strip()
    if not text:
        raise UsageError("polls.vote_missing", number=poll.number)
    by_text = {fold(option): position for position, option in enumerate(poll.options)}
    if fold(text) in by_text:
        return [by_text[fold(text)]]
    positions = []
    for token in _CHOICE_SPLIT.split(text):
        if not token:
            continue
        number = as_number(token, high=len(poll.options)) if token[:1].isdigit() else None
        if number is None:
            position = by_text.get(fold(token))
            if position is None:
                raise UserError("polls.option_unknown", count=len(poll.options), number=poll.number)
            positions.append(position)
        else:
            positions.append(number - 1)
    return positions


async def _poll_for(ctx: Context, number: int | None) -> tuple[WorkingGroup, Poll]:
    """The AG and poll a ``/stimme`` means.

    In a group chat: the chat's AG. In a private chat: the poll with that number among the open
    polls of the person's AGs (a reminder's button names only the number), else the AG the
    private chat acts on.
    """
    polls = ctx.services.polls
    if not ctx.is_private:
        group = ctx.require_group()
        quoted = ctx.message.reply_to
        replied = (
            (ctx.event.chat.platform.value, ctx.event.chat.external_id, quoted.message_id) if quoted else None
        )
        return group, await polls.find_for_vote(group, number, replied)
    if number is not None:
        hits: list[tuple[WorkingGroup, Poll]] = []
        for group in await ctx.services.groups.groups_of(ctx.person):
            with contextlib.suppress(NotFound):
                poll = await polls.get(group, number)
                if poll.status is PollStatus.OPEN:
                    hits.append((group, poll))
        here = [hit for hit in hits if ctx.group is not None and hit[0].id == ctx.group.id]
        if here or len(hits) == 1:
            return (here or hits)[0]
        if len(hits) > 1:
            raise ChooseGroup([(g.id, g.name) for g, _ in hits], retry=ctx.message.text)
    if ctx.group is None:
        if ctx.choices:
            raise ChooseGroup(ctx.choices, retry=ctx.message.text)
        raise NoGroup()
    return ctx.group, await polls.find_for_vote(ctx.group, number, None)


async def _finish_if_everyone_voted(ctx: Context, group: WorkingGroup, poll: Poll) -> None:
    if poll.until_all and await ctx.services.polls.everyone_voted(poll):
        tr = Translator(group.language, group.timezone)
        ctx.outgoing.extend(await jobs.finish(ctx.services, tr, group, poll))


async def open_ballot(ctx: Context, poll_id: int) -> None:
    """``/start poll-<id>`` (the button of an anonymous poll): the ballot, privately; the private
    chat then acts on the poll's AG, so ``/stimme`` there finds it."""
    poll = await ctx.services.polls.by_id(poll_id)
    group = await ctx.services.groups.repo.get(poll.group_id) if poll is not None else None
    if poll is None or group is None:
        raise UserError("polls.ballot_unknown")
    membership = await ctx.services.groups.people.membership(group.id, ctx.person.id)
    if membership is None or membership.left_at is not None:
        raise UserError("polls.ballot_not_member")
    if ctx.is_private:
        await ctx.services.groups.switch_private(ctx.chat, ctx.person, group)
    tr = ctx.tr = Translator(group.language, group.timezone)
    if poll.status is not PollStatus.OPEN:
        raise UserError("polls.closed", number=poll.number)
    # From a group chat (a Matrix reaction standing for the deep link) the ballot still goes to
    # the private chat, where a vote is not seen by the others.
    target = ctx.event.chat if ctx.is_private else private_chat(ctx.person)
    if poll.kind is PollKind.DATES:
        ballot = poll_dates_format.ballot(tr, poll, group.name, ctx.clock.now())
        ctx.send(target, ballot, buttons=poll_dates_format.answer_buttons(tr, poll), secret=True)
    else:
        ballot = poll_format.ballot(tr, poll, group.name)
        ctx.send(target, ballot, buttons=poll_format.ballot_buttons(poll), secret=True)
    if not ctx.is_private:
        ctx.say("polls.ballot_sent_privately", person=ctx.person.display_name)


# Native polls ---------------------------------------------------------------------------------


@router.on.on_poll_answer
async def native_answer(ctx: Context) -> None:
    """An answer in a platform's poll: the same as ``/stimme`` (no option: withdrawn)."""
    event: PollAnswered = ctx.event
    polls = ctx.services.polls
    poll = await polls.of_native(event.platform.value, event.poll_id)
    if poll is None or poll.status is not PollStatus.OPEN:
        return
    group = await ctx.services.groups.repo.get(poll.group_id)
    if group is None:
        return
    # Whoever answers in one of the AG's chats is a member (as when writing there).
    await ctx.services.groups.seen(group, ctx.person)
    chosen = [o for o in event.option_ids if 0 <= o < len(poll.options)]
    if not poll.multiple:
        chosen = chosen[:1]  # Matrix clients may send more than max_selections; the first counts
    try:
        if not event.option_ids:
            await polls.retract(poll, ctx.person)
            return
        if not chosen:
            return
        change = await polls.vote(poll, ctx.person, chosen)
    except UserError as error:  # past the deadline: the close job is about to run
        log.info("poll %s: native answer not counted (%s)", poll.id, error.key)
        return
    if change is VoteChange.NEW:
        await _finish_if_everyone_voted(ctx, group, poll)


@router.on.on_sent("poll")
async def delivered(unit: Unit, tag: str, sent: SentMessage) -> None:
    """A part of a poll's announcement went out: remember its ids; a native poll delivered after
    the poll closed (a slow outbox) is ended at once."""
    poll_id = as_number(tag.partition(":")[2])
    if poll_id is None:
        return
    found = await unit.services.polls.delivered(poll_id, sent)
    if found is None:
        return
    poll, message = found
    if poll.status is PollStatus.CLOSED and message.native_poll_id is not None:
        group = await unit.services.groups.repo.get(poll.group_id)
        tr = Translator(group.language, group.timezone) if group else Translator()
        message.closed = True
        await unit.enqueue(poll_format.end_natives(tr, poll, [message]))


# Charts ---------------------------------------------------------------------------------------


class ChartWarmUp:
    """Imports matplotlib and renders one chart in a thread at start-up, so the first result of
    a poll does not wait for it (about a second, longer while it builds its font cache)."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._warm(), name="chart warm-up")

    async def _warm(self) -> None:
        try:
            await asyncio.to_thread(charts.warm_up)
        except Exception:  # charts still render, only the first one is slower
            log.exception("charts: warm-up failed")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def drain(self) -> None:
        return None


@router.on.component("polls")
def chart_warm_up(runtime: Runtime) -> ChartWarmUp:
    """The polls feature's component: only the chart warm-up."""
    return ChartWarmUp()
