"""``/ziel`` and ``/ziele``: the AG's goals."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.markup import Markup, bold
from bot.core.router import Args, Router, as_number
from bot.handlers.format import goal_line, quote_block
from storage.models import GoalStatus, Role

router = Router()


@router.command("ziel", aliases=("goal",), private=True)
async def add_or_show(ctx: Context, args: Args) -> None:
    """``/ziel <Text>`` adds a goal (koordination); ``/ziel <Nr>`` shows one."""
    group = ctx.require_group()
    number = as_number(args.text) if args.text else None
    if number is not None:
        goal = await ctx.services.register.goal(group, number)
        tr = ctx.tr
        markup = Markup().line(
            bold(tr.text("goal.label", number=goal.number)),
            " – ",
            tr.text(f"goal.status.{goal.status.value}"),
        )
        markup.extend(quote_block(goal.text))
        if goal.closed_at is not None:
            markup.blank().line(tr.text("goal.closed_on", date=tr.datetime(goal.closed_at)))
        if goal.close_reason:
            markup.line(tr.text("goal.reason_label"), ": ", goal.close_reason)
        ctx.reply(markup)
        return
    ctx.require_group_chat()
    ctx.require_role(Role.KOORDINATION)
    goal = await ctx.services.register.add_goal(group, args.text, ctx.person)
    ctx.say("goal.created", number=goal.number, text=goal.text)


@router.subcommand("ziel", "erreicht", aliases=("achieved", "done"), role=Role.KOORDINATION)
async def achieved(ctx: Context, args: Args) -> None:
    """Mark a goal achieved."""
    number, _ = args.take_number()
    goal = await ctx.services.register.close_goal(
        ctx.require_group(), number, GoalStatus.ACHIEVED, ctx.person
    )
    ctx.say("goal.achieved", number=goal.number, text=goal.text)


@router.subcommand("ziel", "verwerfen", aliases=("discard", "drop"), role=Role.KOORDINATION)
async def discard(ctx: Context, args: Args) -> None:
    """Discard a goal, with a reason."""
    number, rest = args.take_number()
    goal = await ctx.services.register.close_goal(
        ctx.require_group(), number, GoalStatus.DISCARDED, ctx.person, rest.text
    )
    ctx.say("goal.discarded", number=goal.number, reason=goal.close_reason or "")


@router.command("ziele", aliases=("goals",), private=True)
async def list_goals(ctx: Context, args: Args) -> None:
    """List the active goals."""
    goals = await ctx.services.register.active_goals(ctx.require_group())
    if not goals:
        ctx.say("goal.none")
        return
    markup = ctx.tr.markup("goal.list_title", count=len(goals))
    for goal in goals:
        markup.bullet(*goal_line(ctx.tr, goal))
    ctx.reply(markup)
