"""``/ag``: show, create and describe the AG of this chat."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.i18n import Translator
from bot.core.markup import Markup, bold
from bot.core.router import Args, Router
from bot.handlers.format import person_name
from storage.models import Role

router = Router()


@router.command("ag", aliases=("group",))
async def show(ctx: Context, args: Args) -> None:
    """Show the AG: name, topic, description, people, figures, linked chats."""
    if args.text:
        raise UsageError("error.subcommand_unknown", given=args.words[0])
    tr = ctx.tr
    summary = await ctx.services.groups.summary(ctx.require_group())
    group = summary.group
    markup = Markup().line(bold(tr.text("ag.title", name=group.name)))
    markup.line(tr.text("ag.topic_label"), ": ", group.topic or tr.text("ag.unset"))
    if group.description:
        markup.line(tr.text("ag.description_label"), ": ", group.description)
    markup.blank()
    names = ", ".join(person_name(p) for p in summary.coordinators) or tr.text("ag.nobody")
    markup.line(tr.text("role.koordination"), ": ", names)
    if summary.kuemmerer:
        markup.line(tr.text("role.kuemmerer"), ": ", ", ".join(person_name(p) for p in summary.kuemmerer))
    markup.extend(
        tr.lines(
            "ag.figures",
            members=summary.members,
            goals=summary.active_goals,
            decisions=summary.active_decisions,
        )
    )
    if len(summary.chats) > 1:
        markup.line(
            tr.text("ag.chats_label"),
            ": ",
            ", ".join(f"{c.title or c.external_id} ({c.platform})" for c in summary.chats),
        )
    markup.blank().extend(tr.lines("ag.hint"))
    ctx.reply(markup)


@router.subcommand("ag", "anlegen", aliases=("create", "new"), needs_group=False)
async def create(ctx: Context, args: Args) -> None:
    """Create an AG for this chat; the creator becomes koordination."""
    group = await ctx.services.groups.create(ctx.chat, args.text, ctx.person)
    ctx.group, ctx.role = group, Role.KOORDINATION
    ctx.say("ag.created", name=group.name)


@router.subcommand("ag", "thema", aliases=("topic",), role=Role.KOORDINATION)
async def topic(ctx: Context, args: Args) -> None:
    """Set the Schwerpunktthema."""
    group = ctx.require_group()
    await ctx.services.groups.set_topic(group, args.text, ctx.person)
    ctx.say("ag.topic_set", topic=group.topic)


@router.subcommand("ag", "beschreibung", aliases=("description",), role=Role.KOORDINATION)
async def description(ctx: Context, args: Args) -> None:
    """Set the description."""
    await ctx.services.groups.set_description(ctx.require_group(), args.text, ctx.person)
    ctx.say("ag.description_set")


@router.subcommand("ag", "name", aliases=("rename", "umbenennen"), role=Role.KOORDINATION)
async def rename(ctx: Context, args: Args) -> None:
    """Rename the AG."""
    group = ctx.require_group()
    await ctx.services.groups.rename(group, args.text, ctx.person)
    ctx.say("ag.renamed", name=group.name)


@router.subcommand("ag", "sprache", aliases=("language",), role=Role.KOORDINATION)
async def language(ctx: Context, args: Args) -> None:
    """Switch the AG's language (``de`` or ``en``)."""
    group = ctx.require_group()
    if len(args.words) != 1:
        raise UsageError()
    await ctx.services.groups.set_language(group, args.words[0], ctx.person)
    # Answer in the language just chosen, so the switch is visible at once.
    ctx.tr = Translator(group.language, group.timezone)
    ctx.say("ag.language_set")
