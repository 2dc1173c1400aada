"""``/ag``: show, create and describe the AG of this chat; link chats into one AG."""

from __future__ import annotations

from bot.core.addressing import chat_ref
from bot.core.context import Context
from bot.core.errors import UsageError, UserError
from bot.core.events import Button, Platform
from bot.core.i18n import Translator
from bot.core.markup import Markup, bold, code
from bot.core.router import Args, Router, as_number, normalise_name, parse_command
from bot.handlers import ag_lifecycle
from bot.handlers.format import person_name
from bot.services.linking import CodeRejection, minutes
from storage.models import Chat, Role

router = Router()

PLATFORM_KEYS = {
    Platform.CONSOLE.value: "platform.console",
    Platform.TELEGRAM.value: "platform.telegram",
    Platform.MATRIX.value: "platform.matrix",
}

REJECTION_KEYS = {
    CodeRejection.UNKNOWN: "ag.link.code_unknown",
    CodeRejection.EXPIRED: "ag.link.code_expired",
    CodeRejection.USED: "ag.link.code_used",
    CodeRejection.REPLACED: "ag.link.code_replaced",
}


def chat_label(tr: Translator, chat: Chat) -> str:
    """``Telegram: AG Bildung`` – the platform and the title (or id) of a stored chat."""
    key = PLATFORM_KEYS.get(chat.platform)
    platform = tr.text(key) if key else chat.platform
    return f"{platform}: {chat.title or chat.external_id}"


@router.on.on_bot_added
async def introduce(ctx: Context) -> None:
    """The bot was added to a chat: say what it does (and which AG, if the chat has one)."""
    tr = ctx.tr
    if ctx.group is not None:
        markup = tr.markup("bot.added_known", name=ctx.group.name)
    else:
        markup = tr.markup("bot.added")
    ctx.reply(markup.blank().extend(tr.lines("privacy.link")))


@router.command("ag", aliases=("group",), private=True)
async def show(ctx: Context, args: Args) -> None:
    """Show the AG: name, topic, description, people, figures, linked chats."""
    if args.text:
        raise UsageError("error.subcommand_unknown", given=args.words[0])
    tr = ctx.tr
    summary = await ctx.services.groups.summary(ctx.require_group())
    group = summary.group
    markup = Markup().line(bold(tr.text("ag.title", name=group.name)))
    if group.delete_after is not None:
        day = tr.date(group.delete_after.astimezone(tr.zone).date())
        markup.extend(tr.lines("ag.state_deleting", date=day))
    elif group.closed_at is not None:
        markup.extend(tr.lines("ag.state_closed"))
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
        markup.blank().line(tr.text("ag.chats_label"), ":")
        for chat in summary.chats:
            here = " " + tr.text("ag.this_chat") if chat.id == ctx.chat.id else ""
            markup.bullet(chat_label(tr, chat), here)
    markup.blank().extend(tr.lines("ag.hint"))
    ctx.reply(markup)


@router.subcommand("ag", "wechseln", aliases=("switch", "waehlen"), needs_group=False, private=True)
async def switch(ctx: Context, args: Args) -> None:
    """In a private chat: choose the AG this chat acts on (``/ag wechseln <Nr>``); without a
    number, list the person's AGs. A command after the number runs right away in that AG (the
    "which AG?" buttons use this)."""
    if not ctx.is_private:
        raise UserError("ag.switch.only_private")
    groups = await ctx.services.groups.groups_of(ctx.person)
    if not groups:
        raise UserError("ag.switch.none")
    word, rest = args.split_first()
    if not word:
        markup = ctx.tr.markup("ag.switch.list")
        for group in groups:
            here = " " + ctx.tr.text("ag.switch.current") if ctx.group and group.id == ctx.group.id else ""
            markup.bullet(f"{group.name}: ", code(f"/ag wechseln {group.id}"), here)
        buttons = [[Button(g.name, command=f"/ag wechseln {g.id}")] for g in groups]
        ctx.reply(markup, buttons=buttons)
        return
    number = as_number(word)
    chosen = next((g for g in groups if g.id == number), None)
    if chosen is None:
        raise UserError("ag.switch.unknown", given=word, options=", ".join(str(g.id) for g in groups))
    scope = await ctx.services.groups.switch_private(ctx.chat, ctx.person, chosen)
    ctx.group, ctx.membership, ctx.choices = scope.group, scope.membership, []
    if scope.membership is not None:
        ctx.role = ctx.services.groups.effective_role(scope.membership, scope.membership.chat_admin)
    ctx.tr = Translator(chosen.language, chosen.timezone)
    ctx.say("ag.switch.done", name=chosen.name)
    again = parse_command(rest.text) if rest.text else None
    if again is not None and ctx.router is not None:
        if normalise_name(again.name) == "ag" and again.rest.split()[:1] in (["wechseln"], ["switch"]):
            return  # no loops through nested switches
        await ctx.router.dispatch(ctx, again)


@router.subcommand("ag", "anlegen", aliases=("create", "new"), needs_group=False, group_only=True)
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


@router.subcommand("ag", "zeitzone", aliases=("timezone",))
async def timezone(ctx: Context, args: Args) -> None:
    """``/ag zeitzone <IANA-Name>`` (koordination): the AG's timezone for reminders and meetings;
    without a name, show it."""
    group = ctx.require_group()
    if not args.text:
        ctx.say("ag.timezone_current", timezone=group.timezone, now=ctx.tr.datetime(ctx.clock.now()))
        return
    ctx.require_group_chat()
    ctx.require_role(Role.KOORDINATION)
    if len(args.words) != 1:
        raise UsageError()
    await ctx.services.groups.set_timezone(group, args.words[0], ctx.person)
    ctx.tr = Translator(group.language, group.timezone)
    ctx.say("ag.timezone_set", timezone=group.timezone, now=ctx.tr.datetime(ctx.clock.now()))


POLLS_OPEN = frozenset({"offen", "open", "alle", "all", "mitglieder", "members"})
POLLS_KOORDINATION = frozenset({"koordination", "coordination", "coordinators"})


@router.subcommand("ag", "abstimmungen", aliases=("polls",), private=True)
async def polls_setting(ctx: Context, args: Args) -> None:
    """``/ag abstimmungen offen|koordination`` (koordination): who may start polls; without a
    word, show it."""
    group = ctx.require_group()
    word = normalise_name(args.text.strip())
    if not word:
        ctx.say("ag.polls_state_open" if group.polls_open else "ag.polls_state_koordination")
        return
    ctx.require_group_chat()
    ctx.require_role(Role.KOORDINATION)
    if word not in POLLS_OPEN | POLLS_KOORDINATION:
        raise UsageError("ag.polls_unknown", given=args.text.strip())
    open_ = word in POLLS_OPEN
    await ctx.services.polls.set_open(group, open_, ctx.person)
    ctx.say("ag.polls_set_open" if open_ else "ag.polls_set_koordination")


@router.subcommand("ag", "verknuepfen", aliases=("link",), needs_group=False, group_only=True)
async def link(ctx: Context, args: Args) -> None:
    """Link chats into one AG, also across platforms.

    ``/ag verknuepfen`` in a chat of the AG (koordination only) answers a one-time code,
    valid for 24 hours; a newer code replaces older open ones. ``/ag verknuepfen <Code>`` in
    another chat adds that chat to the AG; the AG's other chats are told, so an unexpected link
    does not go unnoticed.

    Who may redeem a code: anybody in a group chat or room that belongs to no AG yet – the same
    people who could ``/ag anlegen`` there. The koordination of the AG gave its consent by
    handing out the code; demanding platform admin rights on top would make linking harder than
    founding an AG in that chat, which protects nothing. A chat that already belongs to an AG
    is refused, whatever the code and whoever asks (platform admins included): it must first
    leave its AG with ``/ag trennen``, which only that AG's koordination can do, and an AG
    never loses its last chat – so nobody can pull a chat away from an AG with a code. Private
    chats are never linked: they belong to one person, not to an AG.

    Wrong, expired, used or replaced codes are answered precisely and count towards the limits
    of ``GroupService.link_chat``: five per person and hour across all chats (only the person
    who failed is held up, never the others in the chat), and a short cooldown for everybody
    while unusually many wrong codes arrive overall. A text that cannot be a code at all does
    not count.
    """
    groups = ctx.services.groups
    if not args.text:
        if ctx.group is None:
            raise UsageError("ag.link.code_missing")
        ctx.require_role(Role.KOORDINATION)
        issued = await ctx.services.links.create_link_code(ctx.group, ctx.person)
        markup = ctx.tr.markup(
            "ag.link.code", name=ctx.group.name, code=issued.code, expires=ctx.tr.datetime(issued.expires_at)
        )
        # The database keeps only the code's hash; the reply's outbox row must not keep the
        # plain code either once it is delivered.
        ctx.reply(markup, secret=True)
        return

    result = await ctx.services.links.link_chat(ctx.chat, args.text, ctx.person)
    if result.group is None:
        # Answered, not raised: the rejected attempt must be committed to count (see link_chat).
        assert result.rejection is not None
        markup = ctx.tr.markup(REJECTION_KEYS[result.rejection])
        if result.retry_in is not None:
            markup.extend(ctx.tr.lines("ag.link.attempts_used_up", minutes=minutes(result.retry_in)))
        else:
            markup.extend(ctx.tr.lines("ag.link.attempts_left", result.attempts_left))
        ctx.reply(markup)
        return

    group = result.group
    membership, _ = await groups.seen(group, ctx.person)
    ctx.group, ctx.role = group, groups.effective_role(membership, ctx.event.sender_is_admin)
    ctx.tr = Translator(group.language, group.timezone)
    ctx.say("ag.link.linked", name=group.name)
    notice = ctx.tr.markup(
        "ag.link.notice", person=person_name(ctx.person), chat=chat_label(ctx.tr, ctx.chat)
    )
    for other in result.other_chats:
        ctx.send(chat_ref(other), notice)


@router.subcommand("ag", "trennen", aliases=("unlink",), role=Role.KOORDINATION)
async def unlink(ctx: Context, args: Args) -> None:
    """Remove this chat from its AG (koordination only).

    The AG keeps its register, its people and its other chats, which are told; the last chat
    of an AG cannot leave, or the AG could no longer be reached.
    """
    if args.text:
        raise UsageError()
    group = ctx.require_group()
    remaining = await ctx.services.links.unlink_chat(group, ctx.chat, ctx.person)
    ctx.say("ag.unlink.done", name=group.name)
    notice = ctx.tr.markup(
        "ag.unlink.notice", person=person_name(ctx.person), chat=chat_label(ctx.tr, ctx.chat)
    )
    for other in remaining:
        ctx.send(chat_ref(other), notice)


# Closing and deleting live in their own module, on this command's router.
ag_lifecycle.register(router)
