"""``/beschluss`` and ``/beschluesse``: the AG's decisions."""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.events import Button
from bot.core.markup import Markup, bold, italic
from bot.core.router import Args, Router, as_number
from bot.core.sanitize import echo
from bot.handlers.format import decision_line, quote_block
from bot.jobs.poll_format import count_lines, turnout_text
from bot.services.register import SearchQuery
from storage.models import DecisionStatus, Role

router = Router()

_PAGE = re.compile(r"(?:^|\s)(?:seite|page|s\.)\s*(\d{1,6})\s*$", re.IGNORECASE)


@router.command("beschluss", aliases=("decision",), private=True)
async def record_or_show(ctx: Context, args: Args) -> None:
    """``/beschluss <Text>`` records (koordination); ``/beschluss <Nr>`` shows with history.

    Sent as a reply without text, the replied-to message is recorded.
    """
    group = ctx.require_group()
    number = as_number(args.text) if args.text else None
    if number is not None:
        await _show(ctx, number)
        return
    text = args.text
    if not text and ctx.event.reply_to is not None:
        text = ctx.event.reply_to.text or ""
        if not text.strip():
            raise UsageError("decision.reply_without_text")
    if not text:
        raise UsageError("error.empty_text")
    ctx.require_group_chat()
    ctx.require_role(Role.KOORDINATION)
    decision = await ctx.services.register.record(group, text, ctx.person)
    tr = ctx.tr
    markup = tr.markup("decision.recorded", number=decision.number, date=tr.date(decision.decided_on))
    markup.extend(quote_block(decision.text))
    ctx.reply(markup)


async def _show(ctx: Context, number: int) -> None:
    tr = ctx.tr
    history = await ctx.services.register.history(ctx.require_group(), number)
    decision = history.decision
    markup = Markup().line(
        bold(tr.text("decision.label", number=decision.number)),
        " · ",
        tr.date(decision.decided_on),
        " – ",
        tr.text(f"decision.status.{decision.status.value}"),
    )
    markup.extend(quote_block(decision.text))
    if history.tags:
        markup.line(tr.text("decision.tags_label"), ": ", " ".join("#" + t for t in history.tags))
    found = await ctx.services.polls.result_of(decision.poll_id) if decision.poll_id is not None else None
    if found is not None:
        # A decision taken by a poll shows how the AG voted.
        poll, tally = found
        markup.blank().line(tr.text("decision.from_poll", number=poll.number))
        count_lines(tr, markup, poll, tally).line(turnout_text(tr, tally))
    if decision.status is DecisionStatus.REVOKED:
        markup.blank().extend(
            tr.lines(
                "decision.revoked_on",
                date=tr.datetime(decision.closed_at),
                reason=decision.close_reason or "",
            )
        )
    if history.successor is not None:
        markup.blank().line(tr.text("decision.replaced_by"), " ", *decision_line(tr, history.successor))
    if history.predecessors:
        markup.blank().line(tr.text("decision.history_title"))
        for previous in reversed(history.predecessors):
            status = tr.text(f"decision.status.{previous.status.value}")
            markup.bullet(*decision_line(tr, previous), " ", italic(f"({status})"))
    ctx.reply(markup)


@router.subcommand("beschluss", "ersetzen", aliases=("replace",), role=Role.KOORDINATION)
async def replace(ctx: Context, args: Args) -> None:
    """Replace a decision by a new text; both stay in the register, linked."""
    number, rest = args.take_number()
    if not rest.text:
        raise UsageError("error.empty_text")
    old, new = await ctx.services.register.replace(ctx.require_group(), number, rest.text, ctx.person)
    markup = ctx.tr.markup("decision.replaced", old=old.number, new=new.number)
    markup.extend(quote_block(new.text))
    ctx.reply(markup)


@router.subcommand("beschluss", "aufheben", aliases=("revoke",), role=Role.KOORDINATION)
async def revoke(ctx: Context, args: Args) -> None:
    """Revoke a decision with a reason; its text stays in the register."""
    number, rest = args.take_number()
    decision = await ctx.services.register.revoke(ctx.require_group(), number, rest.text, ctx.person)
    ctx.say("decision.revoked", number=decision.number, reason=decision.close_reason or "")


@router.subcommand("beschluss", "wichtig", aliases=("important",), role=Role.KOORDINATION)
async def important(ctx: Context, args: Args) -> None:
    """Mark a decision as important: newcomers' briefs show it first."""
    number, _ = args.take_number()
    decision, changed = await ctx.services.register.mark_important(
        ctx.require_group(), number, True, ctx.person
    )
    ctx.say("decision.marked_important" if changed else "decision.already_important", number=decision.number)


@router.subcommand("beschluss", "unwichtig", aliases=("unimportant",), role=Role.KOORDINATION)
async def unimportant(ctx: Context, args: Args) -> None:
    """Take the important mark off a decision."""
    number, _ = args.take_number()
    decision, changed = await ctx.services.register.mark_important(
        ctx.require_group(), number, False, ctx.person
    )
    ctx.say("decision.unmarked_important" if changed else "decision.not_important", number=decision.number)


@router.command("beschluesse", aliases=("decisions",), private=True)
async def list_decisions(ctx: Context, args: Args) -> None:
    """List active decisions, newest first, in pages; optional search words and ``#tags``."""
    group = ctx.require_group()
    text, page = args.text, 1
    match = _PAGE.search(text)
    if match:
        page, text = int(match.group(1)), text[: match.start()].strip()
    query = SearchQuery.parse(text)
    result = await ctx.services.register.search(group, query, page)
    tr = ctx.tr
    if not result.total:
        ctx.say("decision.search_none" if query else "decision.none", query=echo(text))
        return
    if query:
        markup = tr.markup("decision.search_title", result.total, query=echo(text))
    else:
        markup = tr.markup("decision.list_title", result.total, name=group.name)
    if result.pages > 1:
        markup.line(tr.text("decision.page", page=result.page, pages=result.pages))
    markup.blank()
    for decision in result.decisions:
        markup.bullet(*decision_line(tr, decision))
    buttons: list[Button] = []
    base = f"/beschluesse {text}".rstrip()
    if result.page > 1:
        buttons.append(Button(tr.text("decision.previous"), f"{base} seite {result.page - 1}"))
    if result.page < result.pages:
        buttons.append(Button(tr.text("decision.next"), f"{base} seite {result.page + 1}"))
    markup.blank()
    if result.page < result.pages:
        # Typed fallback for platforms without buttons (and for people who prefer typing).
        markup.extend(tr.lines("decision.more_hint", command=f"{base} seite {result.page + 1}"))
    markup.extend(tr.lines("decision.detail_hint"))
    ctx.reply(markup, buttons=[buttons] if buttons else None)
