"""Command registry and dispatch.

Commands are registered per feature module on a :class:`Router` (like aiogram's routers) with a
German primary name, English aliases, a required role and catalog keys for the usage line and the
help text (``cmd.<path>.usage`` / ``cmd.<path>.help``), from which ``/hilfe`` is generated. The
root router normalises ``/cmd@botname`` and ``!cmd`` to the same command.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.errors import NoGroup, PermissionDenied, UsageError, UserError
from storage.models.enums import Role

if TYPE_CHECKING:
    from bot.core.context import Context

Handler = Callable[["Context", "Args"], Awaitable[None]]

# A command is a prefix, a word starting with a letter, an optional @botname and the rest.
_COMMAND = re.compile(r"^[/!](?P<name>[^\W\d_][\w]*)(?:@(?P<bot>[\w.:-]+))?(?:\s+(?P<rest>.*))?$", re.DOTALL)
_NUMBER = re.compile(r"^(?:nr\.?|no\.?|#)?\s*(\d+)\.?$", re.IGNORECASE)


def normalise_name(name: str) -> str:
    """Fold a command word: lower case, umlauts to ae/oe/ue, ß to ss, no accents.

    Telegram allows only ASCII in commands, so ``/beschluesse`` and ``!beschlüsse`` must meet.
    """
    folded = name.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    folded = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in folded if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Invocation:
    """A parsed command line: the command word as typed and the rest of the text."""

    name: str
    rest: str


def parse_command(text: str, bot_names: frozenset[str] = frozenset()) -> Invocation | None:
    """Recognise a command in a message.

    Args:
        text: The message text.
        bot_names: This bot's usernames (lower case); ``/cmd@other_bot`` is not for us. Empty
            means the platform has no such addressing (console).

    Returns:
        The invocation, or ``None`` if the text is no command for this bot.
    """
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    addressed = match.group("bot")
    if addressed and bot_names and addressed.lower() not in bot_names:
        return None
    return Invocation(match.group("name"), (match.group("rest") or "").strip())


@dataclass(slots=True)
class Args:
    """The text after a command (and subcommand), with small parsing helpers."""

    text: str

    @property
    def words(self) -> list[str]:
        """The text split on white space."""
        return self.text.split()

    def split_first(self) -> tuple[str, Args]:
        """The first word and the remaining arguments."""
        parts = self.text.split(maxsplit=1)
        if not parts:
            return "", Args("")
        return parts[0], Args(parts[1].strip() if len(parts) > 1 else "")

    def take_number(self) -> tuple[int, Args]:
        """Parse a leading item number (``3``, ``Nr. 3``, ``#3``).

        Raises:
            UsageError: The text does not start with a number.
        """
        first, rest = self.split_first()
        if first.lower() in ("nr", "nr.", "no", "no.") and rest.text:
            second, rest = rest.split_first()
            first = second
        number = as_number(first)
        if number is None:
            raise UsageError("error.number_expected", given=first or "–")
        return number, rest


def as_number(token: str) -> int | None:
    """The item number in ``token``, or ``None`` if it is not one."""
    match = _NUMBER.match(token.strip())
    return int(match.group(1)) if match else None


@dataclass(eq=False)
class Command:
    """A registered command or subcommand.

    Attributes:
        name: German primary name (what ``/hilfe`` shows).
        aliases: Further names, typically English.
        handler: Coroutine called with the context and the arguments.
        role: Role required in the chat's AG; ``None`` means everyone.
        needs_group: Whether the chat must belong to an AG.
        parent: The command this one is a subcommand of.
        hidden: Left out of ``/hilfe`` (e.g. ``/start``).
    """

    name: str
    aliases: tuple[str, ...] = ()
    handler: Handler | None = None
    role: Role | None = None
    needs_group: bool = True
    parent: Command | None = None
    hidden: bool = False
    subcommands: dict[str, Command] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Catalog key prefix, e.g. ``cmd.beschluss.ersetzen``."""
        return f"{self.parent.key}.{self.name}" if self.parent else f"cmd.{self.name}"

    @property
    def names(self) -> tuple[str, ...]:
        """Primary name and aliases."""
        return (self.name, *self.aliases)

    def sub(self, word: str) -> Command | None:
        """The subcommand called ``word`` (any alias, folded), if any."""
        return self.subcommands.get(normalise_name(word))


class Router:
    """A set of commands; feature modules each own one, the application includes them all."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._ordered: list[Command] = []

    def command(
        self,
        name: str,
        *,
        aliases: tuple[str, ...] = (),
        role: Role | None = None,
        needs_group: bool = True,
        hidden: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register a top-level command (decorator)."""

        def decorate(handler: Handler) -> Handler:
            existing = self._commands.get(normalise_name(name))
            if existing is not None and existing.handler is None:
                # Subcommands were registered first; attach the main handler now.
                existing.handler, existing.aliases = handler, aliases
                existing.role, existing.needs_group, existing.hidden = role, needs_group, hidden
                self._index(existing)
                return handler
            self._add(Command(name, aliases, handler, role, needs_group, hidden=hidden))
            return handler

        return decorate

    def subcommand(
        self,
        parent: str,
        name: str,
        *,
        aliases: tuple[str, ...] = (),
        role: Role | None = None,
        needs_group: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Register a subcommand such as ``/beschluss ersetzen`` (decorator)."""

        def decorate(handler: Handler) -> Handler:
            owner = self._commands.get(normalise_name(parent))
            if owner is None:
                owner = Command(parent)
                self._add(owner)
            sub = Command(name, aliases, handler, role, needs_group, parent=owner)
            for alias in sub.names:
                key = normalise_name(alias)
                if key in owner.subcommands:
                    raise ValueError(f"subcommand {parent} {alias} registered twice")
                owner.subcommands[key] = sub
            return handler

        return decorate

    def include(self, other: Router) -> None:
        """Take over all commands of another router."""
        for command in other._ordered:
            self._add(command)

    def _add(self, command: Command) -> None:
        self._ordered.append(command)
        self._index(command)

    def _index(self, command: Command) -> None:
        for alias in command.names:
            key = normalise_name(alias)
            if self._commands.get(key, command) is not command:
                raise ValueError(f"command {alias} registered twice")
            self._commands[key] = command

    def resolve(self, word: str) -> Command | None:
        """The command called ``word`` (any alias, folded)."""
        return self._commands.get(normalise_name(word))

    def suggest(self, word: str) -> str | None:
        """The known command name closest to a mistyped one."""
        close = difflib.get_close_matches(normalise_name(word), list(self._commands), n=1, cutoff=0.6)
        if not close:
            return None
        command = self._commands[close[0]]
        # Suggest the spelling that was matched (an English alias for an English typo).
        return close[0] if close[0] in map(normalise_name, command.names) else command.name

    def __iter__(self) -> Iterator[Command]:
        return iter(self._ordered)

    def find(self, invocation: Invocation) -> tuple[Command, Args]:
        """Resolve an invocation to the command or subcommand to run and its arguments.

        Raises:
            UserError: The command is unknown.
        """
        command = self.resolve(invocation.name)
        if command is None:
            suggestion = self.suggest(invocation.name)
            if suggestion:
                raise UserError(
                    "error.unknown_command_suggest", command=invocation.name, suggestion=suggestion
                )
            raise UserError("error.unknown_command", command=invocation.name)
        args = Args(invocation.rest)
        first, rest = args.split_first()
        sub = command.sub(first) if first else None
        return (sub, rest) if sub is not None else (command, args)

    async def dispatch(self, ctx: Context, invocation: Invocation) -> None:
        """Run the command an invocation names, after the group and role checks."""
        command, args = self.find(invocation)
        ctx.command = command
        if command.handler is None:
            # Only subcommands exist; a bare or unknown one gets the usage lines.
            raise UsageError("error.subcommand_expected")
        if command.needs_group and ctx.group is None:
            raise NoGroup()
        if command.role is not None:
            ctx.require_role(command.role)
        await command.handler(ctx, args)


def check_role(actual: Role | None, required: Role) -> None:
    """Raise :class:`PermissionDenied` unless ``actual`` is at least ``required``."""
    if actual is None or actual.rank < required.rank:
        raise PermissionDenied("error.permission", required=required, actual=actual or Role.MITGLIED)
