"""``/konto``: link a person's accounts on several platforms, so that ``/meine_daten`` and
``/daten_loeschen`` cover all of them."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.router import Args, Router
from bot.core.when_format import moment_short
from bot.handlers.ag import PLATFORM_KEYS
from bot.handlers.datenschutz import only_private
from bot.services.accounts import AccountService
from bot.services.linking import minutes
from storage.models import Person

router = Router()


def account_line(ctx: Context, person: Person) -> str:
    """``Telegram: Anna`` (the platform's name and how the account is called there)."""
    platform = ctx.tr.text(PLATFORM_KEYS.get(person.platform, "platform.console"))
    return f"{platform}: {person.display_name}"


@router.command("konto", aliases=("account",), needs_group=False)
async def show(ctx: Context, args: Args) -> None:
    """Which accounts are linked with this one."""
    if args.text:
        raise UsageError("error.subcommand_unknown", given=args.words[0])
    if not only_private(ctx, "konto"):
        return
    accounts = await AccountService(ctx.services.session, ctx.clock).identities(ctx.person)
    others = [a for a in accounts if a.id != ctx.person.id]
    if not others:
        ctx.say("account.alone")
        return
    markup = ctx.tr.markup("account.linked_title", len(others))
    for other in others:
        markup.bullet(account_line(ctx, other))
    markup.blank().extend(ctx.tr.lines("account.linked_footer"))
    ctx.reply(markup)


@router.subcommand("konto", "verknuepfen", aliases=("link",), needs_group=False)
async def link(ctx: Context, args: Args) -> None:
    """Without a code: a code to type on the other account. With one: link the two."""
    if not only_private(ctx, "konto verknuepfen"):
        return
    service = AccountService(ctx.services.session, ctx.clock)
    if not args.text:
        issued = await service.issue(ctx.person)
        when = moment_short(ctx.tr, issued.expires_at, now=ctx.clock.now())
        # Secret: the outbox keeps the code only until it was delivered.
        ctx.reply(ctx.tr.markup("account.code", code=issued.code, until=when), secret=True)
        return
    result = await service.redeem(ctx.chat, args.text, ctx.person)
    if result.rejected:
        if result.attempts_left == 0 and result.retry_in is not None:
            ctx.say("account.rejected_locked", minutes=minutes(result.retry_in))
        else:
            ctx.say("account.rejected", left=result.attempts_left)
        return
    markup = ctx.tr.markup("account.linked_done")
    for account in result.accounts:
        markup.bullet(account_line(ctx, account))
    markup.blank().extend(ctx.tr.lines("account.linked_footer"))
    ctx.reply(markup)


@router.subcommand("konto", "trennen", aliases=("unlink",), needs_group=False)
async def unlink(ctx: Context, args: Args) -> None:
    """Take this account out of its links."""
    if args.text:
        raise UsageError()
    if not only_private(ctx, "konto trennen"):
        return
    if await AccountService(ctx.services.session, ctx.clock).unlink(ctx.person):
        ctx.say("account.unlinked")
    else:
        ctx.say("account.alone")
