"""``/onboarding``, ``/gelesen``, ``/einfuehrung`` and the briefs sent automatically on joining."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.addressing import private_chat
from bot.core.context import Context
from bot.core.errors import UsageError, UserError
from bot.core.events import Button, ChatRef, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup, bold
from bot.core.observers import Joined
from bot.core.router import Args, Router, as_number, normalise_name
from bot.handlers.format import coordination_names, decision_line, goal_line, person_name, quote_block
from bot.jobs.meetings import meeting_line
from bot.jobs.poll_format import reopen_command
from bot.services import Services
from bot.services.onboarding import Brief, Change
from bot.services.text import shorten
from storage.models import Membership, Person, Role, WorkingGroup

router = Router()

START_PREFIX = "brief-"
# Generous room below Telegram's 4,096 characters for HTML tags and the button.
BRIEF_LIMIT = 3800
MAX_NAMES = 10


def brief_markup(tr: Translator, brief: Brief, *, goals: int = 5, decisions: int = 6) -> Markup:
    """The newcomer's brief; shortened until it fits one Telegram message."""
    markup = _brief(tr, brief, goals, decisions)
    while len(markup.plain()) > BRIEF_LIMIT and (goals or decisions):
        goals, decisions = max(0, goals - 1), max(0, decisions - 1)
        markup = _brief(tr, brief, goals, decisions)
    return markup


def _brief(tr: Translator, brief: Brief, goals: int, decisions: int) -> Markup:
    group = brief.group
    markup = tr.markup("onboarding.title", ag=tr.group_phrase(group.name))
    if group.topic:
        markup.line(tr.text("ag.topic_label"), ": ", shorten(group.topic, 300))
    if group.description:
        markup.line(shorten(group.description, 400))
    if group.welcome_text:
        markup.blank().extend(quote_block(shorten(group.welcome_text, 800)))
    markup.blank().extend(tr.lines("onboarding.goals_title", brief.goal_count))
    for goal in brief.goals[:goals]:
        markup.bullet(*goal_line(tr, goal))
    if brief.goal_count > min(goals, len(brief.goals)):
        markup.line(tr.text("onboarding.more_goals"))
    markup.blank().extend(tr.lines("onboarding.decisions_title", brief.decision_count))
    shown = (brief.important + brief.recent)[:decisions]
    for decision in shown:
        marker = ("⭐ ",) if decision.important else ()
        markup.bullet(*marker, *decision_line(tr, decision))
    if brief.decision_count > len(shown):
        markup.line(tr.text("onboarding.more_decisions", others=brief.decision_count - len(shown)))
    markup.blank()
    if brief.next_meeting is not None:
        start = brief.next_meeting.start
        markup.line(
            bold(tr.text("onboarding.next_meeting")),
            ": ",
            *meeting_line(tr, brief.next_meeting.meeting, start),
        )
    names = ", ".join(person_name(p) for p in brief.coordinators) or tr.text("ag.nobody")
    markup.line(bold(tr.text("role.koordination")), ": ", names)
    if brief.kuemmerer:
        markup.line(bold(tr.text("role.kuemmerer")), ": ", ", ".join(person_name(p) for p in brief.kuemmerer))
    markup.blank().extend(tr.lines("onboarding.take_part"))
    markup.blank().extend(tr.lines("onboarding.settled", names=coordination_names(brief.coordinators)))
    # The way to reopen a point, with a real one filled in (the first decision shown, else the
    # first goal): a newcomer sees a command that works, not a placeholder.
    example = None
    if shown:
        example = reopen_command(tr, "decision", shown[0].number)
    elif brief.goals[:goals]:
        example = reopen_command(tr, "goal", brief.goals[0].number)
    if example is not None:
        markup.extend(tr.lines("onboarding.settled_example", command=example))
    markup.blank().extend(tr.lines("privacy.link"))
    return markup


def changes_markup(tr: Translator, group: WorkingGroup, changes: Sequence[Change], total: int) -> Markup:
    """“Seit deinem letzten Besuch”: what changed in the register while someone was away."""
    markup = tr.markup("onboarding.since_title", ag=tr.group_phrase(group.name))
    for change in changes:
        markup.bullet(
            tr.text(f"onboarding.change.{change.action}", number=change.number or "?"),
            ": ",
            shorten(change.text, 160),
        )
    if total > len(changes):
        markup.line(tr.text("onboarding.more_changes", total - len(changes)))
    markup.blank().extend(tr.lines("onboarding.since_footer"))
    return markup


def read_button(tr: Translator, group: WorkingGroup) -> list[list[Button]]:
    """The “Gelesen” button (a reaction on Matrix)."""
    return [[Button(tr.text("onboarding.read_button"), command=f"/gelesen {group.id}")]]


def open_button(tr: Translator, group: WorkingGroup) -> list[list[Button]]:
    """A button that opens the private chat with the bot and asks for the brief."""
    return [[Button(tr.text("onboarding.open_button"), start_payload=f"{START_PREFIX}{group.id}")]]


async def private_brief(
    services: Services,
    tr: Translator,
    group: WorkingGroup,
    person: Person,
    membership: Membership,
    group_chat: ChatRef | None,
) -> OutgoingMessage:
    """The brief as a private message; if the person cannot be written to, a note in ``group_chat``."""
    brief = await services.onboarding.brief(group)
    services.onboarding.mark_briefed(membership)
    fallback = None
    if group_chat is not None:
        fallback = OutgoingMessage(
            group_chat,
            tr.markup("onboarding.greeting_one", person=person.display_name),
            buttons=open_button(tr, group),
        )
    return OutgoingMessage(
        private_chat(person), brief_markup(tr, brief), buttons=read_button(tr, group), fallback=fallback
    )


async def welcome_joined(
    services: Services,
    tr: Translator,
    group: WorkingGroup,
    chat: ChatRef,
    joined: Sequence[tuple[Person, Membership]],
) -> list[OutgoingMessage]:
    """Briefs for people who joined a group chat: privately, and one greeting for many."""
    due = [(p, m) for p, m in joined if services.onboarding.needs_brief(group, m)]
    if not due:
        return []
    if len(due) == 1:
        person, membership = due[0]
        return [await private_brief(services, tr, group, person, membership, chat)]
    # Many at once (someone added a list of people): every brief goes privately, and the group
    # gets one greeting instead of one per person.
    messages = [await private_brief(services, tr, group, p, m, None) for p, m in due]
    names = ", ".join(p.display_name for p, _ in due[:MAX_NAMES])
    if len(due) > MAX_NAMES:
        names += " " + tr.text("onboarding.and_more", others=len(due) - MAX_NAMES)
    greeting = tr.markup("onboarding.greeting_many", people=names)
    messages.append(OutgoingMessage(chat, greeting, buttons=open_button(tr, group)))
    return messages


ONBOARDING_COMMANDS = frozenset({"onboarding", "brief", "gelesen", "read", "ack", "start"})
"""Commands that handle the brief themselves (no automatic brief on top)."""


@router.on.on_activity
async def arrival(ctx: Context, previous_seen: datetime | None) -> None:
    """Briefs triggered by a message: a newcomer's first one, or a return after a long absence.

    The fallback for platforms (or missed updates) without a join event is the first message.
    """
    if ctx.invocation is not None and normalise_name(ctx.invocation.name) in ONBOARDING_COMMANDS:
        return
    group, membership = ctx.group, ctx.membership
    assert group is not None and membership is not None  # activity is observed in AG chats only
    if ctx.services.onboarding.needs_brief(group, membership):
        ctx.outgoing.append(
            await private_brief(ctx.services, ctx.tr, group, ctx.person, membership, ctx.event.chat)
        )
        return
    await _changes_since(ctx, ctx.person, membership, previous_seen)


async def _changes_since(
    ctx: Context, person: Person, membership: Membership, previous_seen: datetime | None
) -> None:
    """“Seit deinem letzten Besuch”, privately, for a member back after the AG's absence threshold."""
    group = ctx.group
    assert group is not None
    if previous_seen is None or not ctx.services.onboarding.is_returning(
        group, membership, previous_seen, ctx.clock.now()
    ):
        return
    changes, total = await ctx.services.onboarding.changes_since(group, previous_seen)
    if changes:
        ctx.send(private_chat(person), changes_markup(ctx.tr, group, changes, total))


@router.on.on_joined
async def joined(ctx: Context, people: Sequence[Joined]) -> None:
    """People joined a group chat of the AG: briefs for newcomers, news for those who come back."""
    group = ctx.group
    assert group is not None
    ctx.outgoing += await welcome_joined(
        ctx.services, ctx.tr, group, ctx.event.chat, [(j.person, j.membership) for j in people]
    )
    for person in people:
        if person.returning:
            await _changes_since(ctx, person.person, person.membership, person.previous_seen)


@router.command("onboarding", aliases=("brief",), needs_group=False)
async def onboarding(ctx: Context, args: Args) -> None:
    """The brief: privately from a group chat; in a private chat for the chosen AG."""
    word = args.words[0].lower() if args.words else ""
    if word in ("aus", "off", "an", "on"):
        group = ctx.require_group()
        # A setting of the AG: changed where everybody sees it, like the register.
        ctx.require_group_chat()
        ctx.require_role(Role.KOORDINATION)
        await ctx.services.onboarding.set_enabled(group, word in ("an", "on"), ctx.person)
        ctx.say("onboarding.switched_on" if group.onboarding_enabled else "onboarding.switched_off")
        return
    if word == "status":
        await _status(ctx)
        return
    group_id = as_number(word) if word else None
    if word and group_id is None:
        # Silently sending the brief for "/onboarding foo" would hide a typo of aus/an/status.
        raise UsageError("error.subcommand_unknown", given=args.words[0])
    if ctx.group is not None and not ctx.event.chat.is_private:
        membership = await ctx.services.groups.people.membership(ctx.group.id, ctx.person.id)
        assert membership is not None  # the application registers every sender
        ctx.outgoing.append(
            await private_brief(ctx.services, ctx.tr, ctx.group, ctx.person, membership, ctx.event.chat)
        )
        ctx.say("onboarding.sent_privately")
        return
    await _brief_in_private(ctx, group_id)


async def _brief_in_private(ctx: Context, group_id: int | None) -> None:
    memberships = await ctx.services.groups.people.groups_of(ctx.person.id)
    if ctx.group is not None and group_id is None:
        memberships = [(m, g) for m, g in memberships if g.id == ctx.group.id] or memberships
    if group_id is not None:
        memberships = [(m, g) for m, g in memberships if g.id == group_id]
        if not memberships:
            raise UserError("onboarding.not_a_member")
    if not memberships:
        ctx.say("onboarding.no_groups")
        return
    if len(memberships) > 1:
        markup = ctx.tr.markup("onboarding.which_group")
        buttons = [[Button(g.name, command=f"/onboarding {g.id}")] for _, g in memberships]
        for _, g in memberships:
            markup.bullet(f"{g.name}: ", f"/onboarding {g.id}")
        ctx.reply(markup, buttons=buttons)
        return
    membership, group = memberships[0]
    tr = Translator(group.language, group.timezone)
    brief = await ctx.services.onboarding.brief(group)
    ctx.services.onboarding.mark_briefed(membership)
    ctx.reply(brief_markup(tr, brief), buttons=read_button(tr, group))


async def _status(ctx: Context) -> None:
    group = ctx.require_group()
    ctx.require_role(Role.KOORDINATION)
    lines = await ctx.services.onboarding.status(group)
    tr = ctx.tr
    if not lines:
        ctx.say("onboarding.status_none")
        return
    markup = tr.markup("onboarding.status_title", len(lines), ag=tr.group_phrase(group.name))
    for line in lines:
        read = (
            tr.text("onboarding.status_read", date=tr.datetime(line.acknowledged_at))
            if line.acknowledged_at
            else tr.text("onboarding.status_unread")
        )
        markup.bullet(
            person_name(line.person),
            ": ",
            tr.text("onboarding.status_briefed", date=tr.datetime(line.briefed_at)),
            " · ",
            read,
        )
    ctx.reply(markup)


@router.command("gelesen", aliases=("read", "ack"), needs_group=False)
async def acknowledge(ctx: Context, args: Args) -> None:
    """Confirm having read the brief (also the “Gelesen” button)."""
    group = ctx.group
    number = as_number(args.words[0]) if args.words else None
    if args.words and number is None:
        raise UsageError("error.subcommand_unknown", given=args.words[0])
    if number is not None:
        candidates = [
            g for _, g in await ctx.services.groups.people.groups_of(ctx.person.id) if g.id == number
        ]
        group = candidates[0] if candidates else None
    elif group is None or ctx.event.chat.is_private:
        briefed = [
            (m, g)
            for m, g in await ctx.services.groups.people.groups_of(ctx.person.id)
            if m.briefed_at is not None and m.acknowledged_at is None
        ]
        group = max(briefed, key=lambda pair: pair[0].briefed_at)[1] if briefed else group
    if group is None:
        raise UserError("onboarding.nothing_to_acknowledge", name="–")
    first = await ctx.services.onboarding.acknowledge(group, ctx.person)
    ctx.say(
        "onboarding.acknowledged" if first else "onboarding.already_acknowledged",
        ag=ctx.tr.group_phrase(group.name),
    )


@router.command("einfuehrung", aliases=("welcome",))
async def welcome_text(ctx: Context, args: Args) -> None:
    """``/einfuehrung <Text>`` sets the welcome text of the brief; without text it shows it."""
    group = ctx.require_group()
    if not args.text:
        if group.welcome_text:
            ctx.reply(ctx.tr.markup("onboarding.welcome_current").extend(quote_block(group.welcome_text)))
        else:
            raise UsageError("onboarding.welcome_none")
        return
    ctx.require_role(Role.KOORDINATION)
    await ctx.services.onboarding.set_welcome(group, args.text, ctx.person)
    ctx.say("onboarding.welcome_set")
