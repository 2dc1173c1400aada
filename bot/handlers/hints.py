"""``/hinweise`` (settings of the reopen guard), ``/hinweis`` (feedback) and the hint message."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.core.addressing import private_chat
from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.events import Button, ChatRef, IncomingMessage, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup
from bot.core.observers import Runtime
from bot.core.router import Args, Router, as_number
from bot.handlers.format import coordination_names, quote_block
from bot.jobs.poll_format import reopen_command
from bot.services.embeddings import COMBINATIONS, EMBEDDERS, load_embedder
from bot.services.hints import MAX_COOLDOWN_DAYS, hints_active, sensitivity_of
from bot.services.reopen import Hint, ReopenGuard, Sensitivity, SettledItem
from bot.services.reopen_watch import Candidate, ReopenWatcher
from bot.services.text import shorten
from storage.models import Person, ReopenHint, Role

log = logging.getLogger(__name__)
router = Router()

PRIVATE_WORDS = frozenset({"privat", "private", "persoenlich", "persönlich"})
GROUP_WORDS = frozenset({"gruppe", "group", "oeffentlich", "öffentlich", "public"})

SENSITIVITY_WORDS = {
    "niedrig": Sensitivity.LOW,
    "low": Sensitivity.LOW,
    "normal": Sensitivity.NORMAL,
    "hoch": Sensitivity.HIGH,
    "high": Sensitivity.HIGH,
}
GOAL_WORDS = frozenset({"ziel", "goal", "z"})
HINT_PREVIEW = 300
CHOICE_QUOTE = 80


def item_label(tr: Translator, kind: str, number: int) -> str:
    """``Beschluss Nr. 3`` or ``Ziel 2``."""
    return tr.text(f"hints.item.{kind}", number=number)


def hint_message(
    tr: Translator,
    chat: ChatRef,
    item: SettledItem,
    hint_id: int,
    reply_to: str | None,
    coordinators: Sequence[Person] = (),
    *,
    polls_open: bool = False,
) -> OutgoingMessage:
    """The guard's reply: which item, since when it is settled, and how to reopen it properly:
    a poll about it, with the command filled in and as a button. Only the koordination (named
    if ``coordinators`` are given) starts polls unless the AG opened them to every member
    (``polls_open``), so the text and the button say who it is for."""
    settled = tr.date(item.date) if item.date is not None else "–"
    key = "hints.hint_decision" if item.kind == "decision" else "hints.hint_goal"
    markup = tr.markup(key, item=item_label(tr, item.kind, item.number), date=settled)
    markup.extend(quote_block(shorten(item.text, HINT_PREVIEW)))
    command = reopen_command(tr, item.kind, item.number)
    if polls_open:
        markup.extend(tr.lines("hints.how_to_reopen_open", command=command))
        label = tr.text("hints.poll_button")
    else:
        markup.extend(
            tr.lines("hints.how_to_reopen", names=coordination_names(coordinators), command=command)
        )
        label = tr.text("hints.poll_button_koordination")
    buttons = [
        [Button(tr.text("hints.wrong_button"), command=f"/hinweis falsch {hint_id}")],
        [Button(label, command=command)],
    ]
    return OutgoingMessage(chat, markup, reply_to=reply_to, buttons=buttons)


def privately_to_writer(
    tr: Translator, message: OutgoingMessage, writer: Person, text: str, group_name: str
) -> OutgoingMessage:
    """``/hinweise privat``: the hint goes to the writer's private chat, quoting what it is
    about; where the bot cannot write privately yet (Telegram), to the group as usual."""
    markup = tr.markup("hints.private_intro", ag=tr.group_phrase(group_name))
    markup.extend(quote_block(shorten(text, HINT_PREVIEW)))
    markup.blank().extend(message.markup)
    return OutgoingMessage(private_chat(writer), markup, buttons=message.buttons, fallback=message)


@router.on.component("reopen")
def reopen_watcher(runtime: Runtime) -> ReopenWatcher:
    """The process's reopen guard beside the update path (option ``reopen.guard`` to pass one)."""
    guard = runtime.options.get("reopen.guard") or ReopenGuard(load_embedder("auto"))
    # Which model decides matters for what the guard gets right (docs/reopen-guard.md).
    log.info("reopen guard: embedder %s", getattr(guard.embedder, "key", guard.embedder.name))

    async def deliver(candidate: Candidate, hint: Hint) -> None:
        await deliver_hint(runtime, candidate, hint)

    return ReopenWatcher(guard, runtime.db, runtime.clock, deliver)


@router.on.on_activity
async def keep_settings(ctx: Context, previous_seen: object) -> None:
    """Tell the watcher the AG's switch and sensitivity (it must not read the database itself)."""
    group = ctx.group
    assert group is not None
    watcher(ctx.runtime).configure(group.id, hints_active(group), sensitivity_of(group))


@router.on.watch
def offer(runtime: Runtime, message: IncomingMessage, group_id: int) -> None:
    """Every plain group message goes to the guard's cheap first stage."""
    candidate = Candidate(group_id, message.chat, message.message_id, message.text, message.sender)
    watcher(runtime).offer(candidate)


@router.on.on_committed
def learn(runtime: Runtime, signals: list[object]) -> None:
    """Committed changes to items, examples and settings reach the guard."""
    watcher(runtime).apply(signals)


def watcher(runtime: Runtime | None) -> ReopenWatcher:
    """The reopen watcher of the running application."""
    assert runtime is not None
    return runtime.component("reopen")


async def deliver_hint(runtime: Runtime, candidate: Candidate, hint: Hint) -> None:
    """Send a hint unless the AG switched the guard off meanwhile or the item is cooling down."""
    chat_ref = candidate.chat
    async with runtime.unit() as unit:
        services = unit.services
        chat = await services.groups.chat(chat_ref)
        group = await services.groups.group_of(chat)
        # The chat may have left the AG, or the AG switched hints off, since the message came.
        if group is None or group.id != candidate.group_id or not group.hints_enabled:
            return
        platform, chat_id = chat_ref.platform.value, chat_ref.external_id
        if await services.hints.cooling_down(group, platform, chat_id, hint.item):
            return
        sender = await services.groups.person(candidate.sender)
        row = await services.hints.record(
            group,
            platform,
            chat_id,
            hint.item,
            message_id=candidate.message_id,
            text=candidate.text,
            sender=sender,
            score=hint.score,
        )
        tr = Translator(group.language, group.timezone)
        coordinators = await services.groups.people.with_role(group.id, Role.KOORDINATION)
        message = hint_message(
            tr, chat_ref, hint.item, row.id, candidate.message_id, coordinators, polls_open=group.polls_open
        )
        if group.hints_private:
            message = privately_to_writer(tr, message, sender, candidate.text, group.name)
        rows = await unit.enqueue([message])
        row.outbox_id = rows[0].id if rows else None


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
        cooldown = ctx.tr.text("hints.cooldown", group.hint_cooldown_days)
        where = ctx.tr.text("hints.where_private" if group.hints_private else "hints.where_group")
        model = ctx.tr.text(f"hints.model.{_embedder_name(ctx)}")
        ctx.say("hints.status", state=state, level=level, cooldown=cooldown, where=where, model=model)
        return
    ctx.require_role(Role.KOORDINATION)
    if word in ("an", "on", "aus", "off"):
        enabled = word in ("an", "on")
        await ctx.services.hints.set_enabled(group, enabled, ctx.person)
        ctx.say("hints.switched_on" if enabled else "hints.switched_off")
    elif word in PRIVATE_WORDS or word in GROUP_WORDS:
        private = word in PRIVATE_WORDS
        await ctx.services.hints.set_private(group, private, ctx.person)
        ctx.say("hints.private_on" if private else "hints.private_off")
    elif word in SENSITIVITY_WORDS:
        level = SENSITIVITY_WORDS[word]
        await ctx.services.hints.set_sensitivity(group, level, ctx.person)
        ctx.say("hints.sensitivity_set", level=ctx.tr.text(f"hints.level.{level.value}"))
    elif word in ("abstand", "pause", "cooldown"):
        days = as_number(rest.text, high=MAX_COOLDOWN_DAYS) if rest.text else None
        if days is None:
            raise UsageError("hints.cooldown_number")
        await ctx.services.hints.set_cooldown(group, days, ctx.person)
        ctx.say("hints.cooldown_set", cooldown=ctx.tr.text("hints.cooldown", days))
    else:
        raise UsageError("hints.unknown_setting", given=word)


def _embedder_name(ctx: Context) -> str:
    """The name of the model the process's guard runs on (``e5+use``, ``use``, ``e5``, ``lexical``)."""
    watcher = ctx.runtime.component("reopen") if ctx.runtime is not None else None
    name = watcher.guard.embedder.name if watcher is not None else "lexical"
    return name if name in EMBEDDERS or name in COMBINATIONS else "lexical"


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
    item, new = await ctx.services.hints.point_out(
        group, kind, number, quoted.text if quoted is not None else None, ctx.person
    )
    ctx.say(
        "hints.learned_missed" if new else "hints.already_missed",
        item=item_label(ctx.tr, item.kind, item.number),
    )


@router.subcommand("hinweis", "falsch", aliases=("wrong",), role=Role.KOORDINATION)
async def wrong(ctx: Context, args: Args) -> None:
    """``/hinweis falsch`` as a reply to a hint, or with its number (the hint's button): the
    message did not question the item; the guard learns it for this AG. Without either, it asks
    which of the chat's last hints is meant."""
    group = ctx.require_group()
    hint_id = as_number(args.text) if args.text else None
    if args.text and hint_id is None:
        raise UsageError("error.number_expected", given=args.words[0])
    quoted = ctx.event.reply_to
    platform, chat_id = ctx.event.chat.platform.value, ctx.event.chat.external_id
    if hint_id is None and quoted is None:
        # Guessing the newest hint once unlearned a correct one in a trial: ask instead.
        markup, buttons = which_hint(ctx.tr, await ctx.services.hints.recent_hints(group, platform, chat_id))
        ctx.reply(markup, buttons=buttons)
        return
    hint = await ctx.services.hints.find_hint(
        group,
        platform,
        chat_id,
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


def which_hint(tr: Translator, hints: Sequence[ReopenHint]) -> tuple[Markup, list[list[Button]]]:
    """The question a bare ``/hinweis falsch`` gets: the chat's last hints, each with the number
    its button and ``/hinweis falsch <Nr>`` use, the item and a short quote of the message."""
    markup = tr.markup("hints.which")
    buttons: list[list[Button]] = []
    for hint in hints:
        item = item_label(tr, hint.item_kind, hint.item_number)
        [choice] = tr.lines(
            "hints.choice",
            id=hint.id,
            item=item,
            date=tr.datetime(hint.created_at),
            quote=shorten(hint.message_text, CHOICE_QUOTE),
        )
        if hint.wrong_at is not None:
            markup.bullet(choice.spans, " ", tr.text("hints.choice_done"))
            continue
        markup.bullet(choice.spans)
        label = tr.text("hints.choice_button", id=hint.id, item=item)
        buttons.append([Button(label, command=f"/hinweis falsch {hint.id}")])
    markup.blank().extend(tr.lines("hints.which_footer"))
    return markup, buttons
