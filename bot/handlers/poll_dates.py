"""``/abstimmung termin``: finding a date, answered yes / maybe / no per date, ending in a meeting.

The subcommand is registered on the polls router (``bot/handlers/polls.py``), which also routes
``/stimme`` and ``/abstimmung <Nr>`` of a date poll here; everything else about a date poll (its
deadline, reminder, close, listing) is the ordinary poll machinery.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.addressing import chat_ref
from bot.core.context import Context
from bot.core.errors import PermissionDenied, UsageError
from bot.core.events import OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup
from bot.core.router import Args, normalise_name
from bot.handlers.meetings import created
from bot.jobs import poll_dates_format as fmt
from bot.services.date_answers import parse_answers
from bot.services.poll_input import MAX_DATES, parse_date_poll
from bot.services.polls import VoteChange
from bot.services.when import WhenError, parse_when
from storage.models import Poll, Role, WorkingGroup

CHOOSE = frozenset({"waehlen", "wahl", "festlegen", "choose", "pick"})
"""``/abstimmung termin waehlen <Nr> <Termin>`` (folded spellings)."""


def reads_as_question(group: WorkingGroup, text: str, now: datetime) -> bool:
    """Whether ``/abstimmung Termin …`` is an ordinary poll about a date ("Termin verschieben? |
    ja | nein"): the first part is a question and none of the others reads as a time."""
    parts = [p.strip() for p in text.replace("\n", "|").split("|")]
    if len(parts) < 2 or not parts[0].endswith("?"):
        return False
    return not any(_is_time(group, part, now) for part in parts[1 : 1 + MAX_DATES] if part)


def _is_time(group: WorkingGroup, text: str, now: datetime) -> bool:
    try:
        parse_when(text, now=now, tz=group.timezone, language=group.language)
    except WhenError as error:  # understood but wrong (past, ambiguous, …) is a time all the same
        return error.key != "when.unknown"
    return True


async def dates(ctx: Context, args: Args) -> None:
    """``/abstimmung termin <Titel> | <Termin> | …`` starts a date poll; ``/abstimmung termin
    waehlen <Nr> <Termin>`` fixes the date as a meeting (koordination)."""
    first, rest = args.split_first()
    if first and normalise_name(first) in CHOOSE:
        await choose(ctx, rest)
        return
    await start(ctx, args.text)


async def start(ctx: Context, text: str) -> None:
    """Start a date poll in every chat of the AG (who may: as for any poll)."""
    group = ctx.require_group()
    ctx.require_group_chat()
    if not group.polls_open and (ctx.role is None or ctx.role.rank < Role.KOORDINATION.rank):
        raise PermissionDenied("polls.start_denied")
    if not text.strip():
        raise UsageError()
    draft, place = parse_date_poll(text)
    poll = await ctx.services.poll_dates.create(group, draft, place, ctx.person)
    chats = await ctx.services.groups.repo.chats(group.id)
    ctx.outgoing.extend(fmt.announcement(ctx.tr, poll, chats, ctx.clock.now()))


async def choose(ctx: Context, args: Args) -> None:
    """``/abstimmung termin waehlen <Nr> <Termin>``: close the poll and plan the meeting; the
    announcement goes to every chat of the AG."""
    group = ctx.require_group()
    ctx.require_group_chat()
    ctx.require_role(Role.KOORDINATION)
    number, rest = args.take_number()
    if not rest.text:
        raise UsageError("polls.dates.choose_which", number=number)
    position, rest = rest.take_number()
    if rest.text:
        raise UsageError()
    chosen = await ctx.services.poll_dates.choose(group, number, position, ctx.person)
    poll, tr, now = chosen.poll, ctx.tr, ctx.clock.now()
    if chosen.closed_now:  # the result nobody has seen yet, with the choice as its outcome
        markup = (await _result(ctx, tr, poll)).blank()
    else:
        markup = tr.markup("polls.dates.chosen", number=poll.number, date=position)
    markup.extend(created(tr, group, chosen.meeting, now))
    ctx.outgoing.extend(await _everywhere(ctx, group, markup))


async def _result(ctx: Context, tr: Translator, poll: Poll) -> Markup:
    services = ctx.services
    counts = await services.poll_dates.counts(poll)
    members = (await services.polls.tally(poll)).members
    by_person = await services.poll_dates.answers_by_person(poll)
    return fmt.result(tr, poll, counts, members, by_person, ctx.clock.now())


async def _everywhere(ctx: Context, group: WorkingGroup, markup: Markup) -> list[OutgoingMessage]:
    chats = await ctx.services.groups.repo.chats(group.id)
    return [OutgoingMessage(chat_ref(chat), markup) for chat in chats]


async def show(ctx: Context, poll: Poll) -> None:
    """``/abstimmung <Nr>`` of a date poll: the table, who answered what, the best date."""
    services = ctx.services
    counts = await services.poll_dates.counts(poll)
    members = (await services.polls.tally(poll)).members
    by_person = await services.poll_dates.answers_by_person(poll)
    ctx.reply(fmt.standing(ctx.tr, poll, counts, members, by_person, ctx.clock.now()))


async def answer(ctx: Context, group: WorkingGroup, poll: Poll, text: str) -> VoteChange:
    """``/stimme [<Nr>:] 1 ja, 2 vielleicht, 3 nein`` in a date poll; returns what it changed."""
    answers = parse_answers(text, len(poll.options), poll.number)
    change = await ctx.services.poll_dates.answer(poll, ctx.person, answers)
    tr = ctx.tr = Translator(group.language, group.timezone)
    if poll.anonymous and not ctx.is_private:
        ctx.say("polls.voted_secret_group", number=poll.number)
        return change
    mine = await ctx.services.poll_dates.mine(poll, ctx.person)
    key = {VoteChange.NEW: "polls.dates.answered", VoteChange.CHANGED: "polls.dates.answer_changed"}.get(
        change, "polls.dates.answer_same"
    )
    ctx.reply(fmt.answered(tr, poll, mine, key, ctx.clock.now()), secret=poll.anonymous)
    return change
