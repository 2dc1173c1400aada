"""``/erinnerung`` and ``/erinnerungen``: reminders for an AG's group or for one person.

In a group chat a reminder goes to that chat and belongs to the AG: anybody may set one, its
person and the koordination may change it. In a private chat it goes to the person alone (and
belongs to the AG that chat acts on, if any, whose language and timezone it uses).
"""

from __future__ import annotations

from datetime import datetime

from bot.core.context import Context
from bot.core.errors import UsageError, UserError
from bot.core.i18n import Translator
from bot.core.markup import Markup, Span, bold
from bot.core.router import Args, Router
from bot.core.sanitize import shorten
from bot.handlers.format import PREVIEW
from bot.handlers.when_format import day_short, describe_rule, describe_when, moment_text
from bot.jobs.reminders import fire_reminder
from bot.services.reminders import JOB_KIND, Resumption, scope_of, when_of
from bot.services.when import WhenError, split_when
from storage.models import Person, Reminder, ReminderStatus, Role
from storage.repositories.reminders import ReminderScope

router = Router()
router.on.job(JOB_KIND)(fire_reminder)

LIST_LIMIT = 20
"""Reminders a listing shows (the rest are counted), so it stays one message."""
LIST_PREVIEW = 100


def _scope(ctx: Context) -> tuple[ReminderScope, bool]:
    """The reminders this chat works on, and whether the sender may change any of them (the
    koordination in the group chat; in a private chat all of them are the sender's own)."""
    if ctx.is_private:
        return scope_of(None, ctx.person, private=True), True
    group = ctx.require_group()
    return scope_of(group, ctx.person, private=False), ctx.role is Role.KOORDINATION


@router.command("erinnerung", aliases=("reminder",), needs_group=False)
async def set_reminder(ctx: Context, args: Args) -> None:
    """``/erinnerung <wann>: <Text>``: confirm with the understood time in words and dates."""
    if not args.text:
        raise UsageError()
    group = ctx.group if ctx.is_private else ctx.require_group()
    try:
        when_text, text = split_when(args.text)
    except WhenError as error:
        error.show_usage = True  # the format itself was missed: show the usage line too
        raise
    reminder, when = await ctx.services.reminders.create(
        chat=ctx.event.chat,
        owner=ctx.person,
        group=group,
        when_text=when_text,
        text=text,
        language=ctx.tr.language,
        timezone=ctx.tr.zone.key,
    )
    ctx.say(
        "reminder.created_private" if ctx.is_private else "reminder.created",
        number=reminder.number,
        when=describe_when(ctx.tr, when, now=ctx.clock.now()),
        text=shorten(reminder.text, PREVIEW),
    )


@router.subcommand("erinnerung", "loeschen", aliases=("delete",), needs_group=False)
async def delete(ctx: Context, args: Args) -> None:
    """Delete a reminder: one's own, or any of the AG as its koordination."""
    scope, may_any = _scope(ctx)
    number, _ = args.take_number()
    reminder = await ctx.services.reminders.delete(scope, number, ctx.person, may_any=may_any)
    ctx.say("reminder.deleted", number=reminder.number, text=shorten(reminder.text, PREVIEW))


@router.subcommand("erinnerung", "pause", aliases=("stop", "anhalten"), needs_group=False)
async def pause(ctx: Context, args: Args) -> None:
    """Stop a reminder until ``/erinnerung weiter``."""
    scope, may_any = _scope(ctx)
    number, _ = args.take_number()
    reminder = await ctx.services.reminders.pause(scope, number, ctx.person, may_any=may_any)
    ctx.say("reminder.paused", number=reminder.number)


@router.subcommand("erinnerung", "weiter", aliases=("resume",), needs_group=False)
async def resume(ctx: Context, args: Args) -> None:
    """Let a stopped reminder run again from its next time after now."""
    scope, may_any = _scope(ctx)
    number, _ = args.take_number()
    resumed = await ctx.services.reminders.resume(scope, number, ctx.person, may_any=may_any)
    reminder, tr = resumed.reminder, ctx.tr
    if resumed.outcome is Resumption.PAST:
        raise UserError("reminder.resume_past", number=number, when=moment_text(tr, resumed.when.first))
    if resumed.outcome is Resumption.ENDED:
        summary = resumed.when.summary
        rule = describe_rule(tr, summary) if summary is not None else ""
        ctx.say("reminder.resume_ended", number=number, rule=rule)
        return
    ctx.say(
        "reminder.resumed",
        number=number,
        when=describe_when(tr, resumed.when, now=ctx.clock.now()),
        text=shorten(reminder.text, PREVIEW),
    )


@router.command("erinnerungen", aliases=("reminders",), needs_group=False, private=True)
async def list_reminders(ctx: Context, args: Args) -> None:
    """The open reminders with their numbers: the AG's in a group chat; in a private chat the
    person's own, and below them those of the AG the chat acts on (changed in its group chat)."""
    now = ctx.clock.now()
    if not ctx.is_private:
        group = ctx.require_group()
        markup = await _listing(ctx, ReminderScope.of_group(group.id), group.name, now)
        ctx.reply(markup if markup is not None else ctx.tr.markup("reminder.none"))
        return
    markup = await _listing(ctx, ReminderScope.private(ctx.person.id), None, now)
    if markup is None:
        markup = ctx.tr.markup("reminder.none_private")
    if ctx.group is not None:
        shared = await _listing(ctx, ReminderScope.of_group(ctx.group.id), ctx.group.name, now)
        if shared is not None:
            markup.blank().extend(shared).extend(ctx.tr.lines("reminder.list_group_footer"))
    ctx.reply(markup)


async def _listing(ctx: Context, scope: ReminderScope, name: str | None, now: datetime) -> Markup | None:
    """A titled list of a scope's open reminders, or ``None`` when there are none."""
    rows, total = await ctx.services.reminders.open_in(scope, LIST_LIMIT)
    if not rows:
        return None
    tr = ctx.tr
    if name is None:
        markup = tr.markup("reminder.list_private", total)
    else:
        markup = tr.markup("reminder.list_group", total, name=name)
    for reminder, owner in rows:
        markup.bullet(*_line(tr, reminder, owner if name is not None else None, now))
    if total > len(rows):
        markup.line(tr.text("reminder.list_more", total - len(rows)))
    return markup


def _line(tr: Translator, reminder: Reminder, owner: Person | None, now: datetime) -> list[Span | str]:
    """``Nr. 3 · jeden Dienstag um 18:00 (nächste: Di 24.11.): Text (von Mia)``."""
    parts: list[Span | str] = [bold(tr.text("reminder.label", number=reminder.number)), " · "]
    paused = reminder.status is ReminderStatus.PAUSED
    if paused:
        parts += [tr.text("reminder.paused_label"), " · "]
    when = when_of(reminder)
    summary = when.summary
    if summary is None:
        parts.append(moment_text(tr, when.first))
    elif paused or reminder.next_due is None:
        parts.append(describe_rule(tr, summary))
    else:
        dates = day_short(tr, reminder.next_due, now=now)
        parts.append(tr.text("when.recurring", rule=describe_rule(tr, summary), dates=dates))
    parts += [": ", shorten(reminder.text, LIST_PREVIEW)]
    if owner is not None:
        by = tr.text("reminder.by", name=owner.display_name)
        parts.append(f" ({by})")
    return parts
