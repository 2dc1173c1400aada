"""``/hinweise`` (settings of the reopen guard), ``/hinweis`` (feedback) and the hint message."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.events import Button, ChatRef, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.router import Args, Router, as_number
from bot.handlers.format import quote_block
from bot.services.hints import sensitivity_of
from bot.services.reopen import Sensitivity, SettledItem
from bot.services.text import shorten
from storage.models import Role

router = Router()

SENSITIVITY_WORDS = {
    "niedrig": Sensitivity.LOW,
    "low": Sensitivity.LOW,
    "normal": Sensitivity.NORMAL,
    "hoch": Sensitivity.HIGH,
    "high": Sensitivity.HIGH,
}
GOAL_WORDS = frozenset({"ziel", "goal", "z"})
HINT_PREVIEW = 300


def item_label(tr: Translator, kind: str, number: int) -> str:
    """``Beschluss Nr. 3`` or ``Ziel 2``."""
    return tr.text(f"hints.item.{kind}", number=number)


def hint_message(
    tr: Translator, chat: ChatRef, item: SettledItem, hint_id: int, reply_to: str | None
) -> OutgoingMessage:
    """The guard's reply: which item, since when it is settled, and how to reopen it properly."""
    settled = tr.date(item.date) if item.date is not None else "–"
    key = "hints.hint_decision" if item.kind == "decision" else "hints.hint_goal"
    markup = tr.markup(key, item=item_label(tr, item.kind, item.number), date=settled)
    markup.extend(quote_block(shorten(item.text, HINT_PREVIEW)))
    markup.extend(tr.lines("hints.how_to_reopen"))
    buttons = [[Button(tr.text("hints.wrong_button"), command=f"/hinweis falsch {hint_id}")]]
    return OutgoingMessage(chat, markup, reply_to=reply_to, buttons=buttons)


@router.command("hinweise", aliases=("hints",))
async def settings(ctx: Context, args: Args) -> None:
    """``/hinweise`` shows the guard's settings; koordination: ``an|aus``, ``niedrig|normal|hoch``,
    ``abstand <Tage>``."""
    group = ctx.require_group()
    word, rest = args.split_first()
    word = word.lower()
    if not word or word == "status":
        state = ctx.tr.text("hints.state_on" if group.hints_enabled else "hints.state_off")
        level = ctx.tr.text(f"hints.level.{sensitivity_of(group).value}")
        ctx.say("hints.status", state=state, level=level, days=group.hint_cooldown_days)
        return
    ctx.require_role(Role.KOORDINATION)
    if word in ("an", "on", "aus", "off"):
        enabled = word in ("an", "on")
        await ctx.services.hints.set_enabled(group, enabled, ctx.person)
        ctx.say("hints.switched_on" if enabled else "hints.switched_off")
    elif word in SENSITIVITY_WORDS:
        level = SENSITIVITY_WORDS[word]
        await ctx.services.hints.set_sensitivity(group, level, ctx.person)
        ctx.say("hints.sensitivity_set", level=ctx.tr.text(f"hints.level.{level.value}"))
    elif word in ("abstand", "pause", "cooldown"):
        days = as_number(rest.text) if rest.text else None
        if days is None:
            raise UsageError("hints.cooldown_number")
        await ctx.services.hints.set_cooldown(group, days, ctx.person)
        ctx.say("hints.cooldown_set", days=days)
    else:
        raise UsageError("hints.unknown_setting", given=word)


@router.command("hinweis", aliases=("hint",), role=Role.KOORDINATION)
async def point_out(ctx: Context, args: Args) -> None:
    """``/hinweis <Nr>`` (or ``/hinweis ziel <Nr>``) as a reply to a message the guard missed:
    that message questions the decision (goal); the guard learns it for this AG."""
    group = ctx.require_group()
    kind = "decision"
    first, rest = args.split_first()
    if first.lower() in GOAL_WORDS:
        kind, args = "goal", rest
    number, _ = args.take_number()
    quoted = ctx.event.reply_to
    item = await ctx.services.hints.point_out(
        group, kind, number, quoted.text if quoted is not None else None, ctx.person
    )
    markup = ctx.tr.markup("hints.learned_missed", item=item_label(ctx.tr, item.kind, item.number))
    ctx.reply(markup)


@router.subcommand("hinweis", "falsch", aliases=("wrong",), role=Role.KOORDINATION)
async def wrong(ctx: Context, args: Args) -> None:
    """``/hinweis falsch`` as a reply to a hint (or the hint's button; without either: the newest
    hint in this chat): the message did not question the item; the guard learns it for this AG."""
    group = ctx.require_group()
    hint_id = as_number(args.text) if args.text else None
    if args.text and hint_id is None:
        raise UsageError("error.number_expected", given=args.words[0])
    quoted = ctx.event.reply_to
    hint = await ctx.services.hints.find_hint(
        group,
        ctx.event.chat.platform.value,
        ctx.event.chat.external_id,
        hint_id=hint_id,
        reply_to=quoted.message_id if quoted is not None and hint_id is None else None,
    )
    item = item_label(ctx.tr, hint.item_kind, hint.item_number)
    if not await ctx.services.hints.mark_wrong(group, hint, ctx.person):
        ctx.say("hints.already_wrong", item=item)
        return
    markup = ctx.tr.markup("hints.learned_wrong", item=item)
    markup.extend(quote_block(shorten(hint.message_text, HINT_PREVIEW)))
    ctx.reply(markup)
