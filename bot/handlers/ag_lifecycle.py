"""``/ag schliessen``, ``/ag oeffnen``, ``/ag loeschen``, ``/ag wiederherstellen``.

Subcommands of ``/ag`` (registered on its router by :mod:`bot.handlers.ag`): closing ends what
the bot does by itself for the AG; deleting happens after a grace period, after the koordination
got the register as files (Markdown and JSON) in the private chat.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.addressing import private_chat
from bot.core.context import Context
from bot.core.errors import UsageError, UserError
from bot.core.events import Attachment, Button, OutgoingMessage
from bot.core.router import Args, Router
from bot.handlers.format import day_code
from bot.services.group_lifecycle import DEFAULT_GRACE
from bot.services.register_export import export_register
from storage.models import Role, WorkingGroup

CONFIRM_WORDS = frozenset({"ja", "yes", "bestaetigen", "bestätigen", "confirm"})


def grace(ctx: Context) -> timedelta:
    """How long a deleted AG can be restored (``[datenschutz] ag_loeschfrist``)."""
    section = ctx.runtime.options.get("datenschutz") if ctx.runtime is not None else None
    return section.period("ag_loeschfrist") if section is not None else DEFAULT_GRACE


def register(router: Router) -> None:
    """Add the subcommands to ``/ag``'s router."""
    router.subcommand("ag", "schliessen", aliases=("close",), role=Role.KOORDINATION)(close)
    router.subcommand("ag", "oeffnen", aliases=("open", "reopen"), role=Role.KOORDINATION)(reopen)
    router.subcommand("ag", "loeschen", aliases=("delete",), role=Role.KOORDINATION)(delete)
    router.subcommand("ag", "wiederherstellen", aliases=("restore",), role=Role.KOORDINATION)(restore)


def _this_group(ctx: Context, args: Args) -> WorkingGroup:
    """The AG of a group chat, for a subcommand that takes no arguments."""
    if args.text:
        raise UsageError()
    ctx.require_group_chat()
    return ctx.require_group()


async def close(ctx: Context, args: Args) -> None:
    """Close the AG: no more reminders, meeting notices or hints; the register stays readable."""
    group = _this_group(ctx, args)
    cancelled = await ctx.services.lifecycle.close(group, ctx.person)
    ctx.say("ag.close.done", cancelled, name=group.name)


async def reopen(ctx: Context, args: Args) -> None:
    """Open a closed AG again."""
    group = _this_group(ctx, args)
    await ctx.services.lifecycle.reopen(group, ctx.person)
    ctx.say("ag.open.done", name=group.name)


async def delete(ctx: Context, args: Args) -> None:
    """``/ag loeschen``: the register privately as files and the question; ``/ag loeschen ja
    <Code>``: delete after the grace period."""
    ctx.require_group_chat()
    group = ctx.require_group()
    tr = ctx.tr
    code = day_code(ctx, "ag-loeschen", group.id)
    words = [w.lower() for w in args.words]
    if group.delete_after is not None:
        raise UserError("ag.delete.already", name=group.name)
    if not words:
        export = await export_register(ctx.services.session, group.id, clock=ctx.clock)
        files = (
            Attachment(export.filename("md"), "text/markdown", export.markdown.encode("utf-8")),
            Attachment(export.filename("json"), "application/json", export.json.encode("utf-8")),
        )
        for attachment in files:
            ctx.outgoing.append(
                OutgoingMessage(
                    private_chat(ctx.person),
                    tr.markup("ag.delete.export_caption", name=group.name),
                    attachment=attachment,
                    secret=True,
                )
            )
        days = max(1, round(grace(ctx).total_seconds() / 86400))
        command = f"/ag loeschen ja {code}"
        ctx.reply(
            tr.markup("ag.delete.ask", name=group.name, days=days, code=code),
            buttons=[[Button(tr.text("ag.delete.button"), command=command)]],
        )
        return
    if words[0] not in CONFIRM_WORDS:
        raise UsageError()
    if len(words) < 2 or words[1] != code:
        raise UserError("ag.delete.wrong_code", code=code)
    when = await ctx.services.lifecycle.request_deletion(group, ctx.person, grace(ctx))
    ctx.say("ag.delete.scheduled", name=group.name, date=tr.date(when.astimezone(tr.zone).date()))


async def restore(ctx: Context, args: Args) -> None:
    """Take back a pending deletion."""
    group = _this_group(ctx, args)
    await ctx.services.lifecycle.restore(group, ctx.person)
    ctx.say("ag.restore.done", name=group.name)
