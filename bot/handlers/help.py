"""``/hilfe`` (``/help``) and ``/start``: generated from the router's metadata."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.context import Context
from bot.core.errors import UserError, command_name
from bot.core.markup import code
from bot.core.router import Args, Command, Router
from bot.handlers.onboarding import START_PREFIX, onboarding
from bot.handlers.polls import open_ballot
from bot.jobs.poll_format import START_PREFIX as POLL_PREFIX

router = Router()

StartHandler = Callable[[Context, int], Awaitable[None]]
START_HANDLERS: dict[str, StartHandler] = {}
"""``/start <prefix><id>`` payloads that features handle (deep links and their buttons)."""


def on_start(prefix: str) -> Callable[[StartHandler], StartHandler]:
    """Register what ``/start <prefix><id>`` does (decorator), e.g. ``umfrage-`` for surveys."""

    def decorate(handler: StartHandler) -> StartHandler:
        if prefix in START_HANDLERS:
            raise ValueError(f"start payload {prefix} registered twice")
        START_HANDLERS[prefix] = handler
        return handler

    return decorate


def _variants(command: Command) -> list[Command]:
    """The command itself (if callable) and its distinct subcommands, in registration order."""
    seen: dict[int, Command] = {}
    if command.handler is not None:
        seen[id(command)] = command
    for sub in command.subcommands.values():
        seen.setdefault(id(sub), sub)
    return list(seen.values())


def usage_line(ctx: Context, command: Command) -> str:
    """The usage line of a command in the AG's language."""
    return ctx.tr.text(f"{command.key}.usage")


@router.command("hilfe", aliases=("help",), needs_group=False)
async def hilfe(ctx: Context, args: Args) -> None:
    """List all commands, or explain one (``/hilfe beschluss``)."""
    root = ctx.router
    assert root is not None, "the application sets ctx.router"
    tr = ctx.tr
    if args.text:
        name = args.words[0].lstrip("/!")
        command = root.resolve(name)
        if command is None or command.hidden:
            suggestion = root.suggest(name)
            raise UserError(
                "error.unknown_command_suggest" if suggestion else "error.unknown_command",
                command=name,
                suggestion=suggestion,
            )
        # English AGs see the English name first and the German one among the aliases.
        primary = command_name(command, tr.language)
        markup = tr.markup("help.command_title", command=primary)
        for variant in _variants(command):
            markup.bullet(code(usage_line(ctx, variant)), " – ", tr.text(f"{variant.key}.help"))
            if variant.role is not None:
                markup.line("   ", tr.text("help.needs_role", role=tr.text(f"role.{variant.role.value}")))
        others = [name for name in command.names if name != primary]
        if others:
            markup.blank().extend(tr.lines("help.aliases", aliases=", ".join("/" + a for a in others)))
        ctx.reply(markup)
        return
    markup = tr.markup("help.title")
    private = ctx.is_private
    if private:
        intro = "help.private" if ctx.group or ctx.choices else "help.first_step_private"
        markup.blank().extend(tr.lines(intro))
    elif ctx.group is None:
        markup.blank().extend(tr.lines("help.first_step"))
    markup.blank()
    # One line per command, its subcommands by name: the whole list fits one message on every
    # platform; /hilfe <Befehl> explains one in full.
    for command in root:
        if command.hidden:
            continue
        # A private chat lists what works there: reading the AG's register, not changing it.
        variants = [v for v in _variants(command) if not private or v.works_in_private()]
        if not variants:
            continue
        subs = [command_name(v, tr.language) for v in variants if v.parent is not None]
        more = (" (" + tr.text("help.subcommands", names=", ".join(subs)) + ")",) if subs else ()
        lock = (" 🔒",) if all(v.role is not None for v in variants) else ()
        name = code("/" + command_name(command, tr.language))
        markup.bullet(name, " – ", tr.text(f"{command.key}.summary"), *more, *lock)
    markup.blank().extend(tr.lines("help.footer"))
    ctx.reply(markup)


@router.command("start", needs_group=False, hidden=True)
async def start(ctx: Context, args: Args) -> None:
    """Greeting for a private chat; ``/start brief-<AG>`` (a deep link) sends that AG's brief,
    ``/start poll-<id>`` the secret ballot of a poll, other prefixes what :func:`on_start`
    registered."""
    payload = args.text.strip()
    if payload.startswith(START_PREFIX) and payload[len(START_PREFIX) :].isdigit():
        await onboarding(ctx, Args(payload[len(START_PREFIX) :]))
        return
    poll_id = payload[len(POLL_PREFIX) :] if payload.startswith(POLL_PREFIX) else ""
    if poll_id.isascii() and poll_id.isdigit() and len(poll_id) <= 9:
        await open_ballot(ctx, int(poll_id))
        return
    for prefix, handler in START_HANDLERS.items():
        rest = payload[len(prefix) :] if payload.startswith(prefix) else ""
        if rest.isascii() and rest.isdigit() and len(rest) <= 9:
            await handler(ctx, int(rest))
            return
    ctx.reply(ctx.tr.markup("start.welcome"))
