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

from bot.core.errors import ChooseGroup, NoGroup, PermissionDenied, UsageError, UserError, command_path
from bot.core.observers import Observers
from storage.models.enums import Role
from storage.repositories.register import MAX_NUMBER  # numbers and ids are 32-bit integer columns

if TYPE_CHECKING:
    from bot.core.context import Context

Handler = Callable[["Context", "Args"], Awaitable[None]]

# A command is a prefix, a word starting with a letter, an optional @botname and the rest.
_COMMAND = re.compile(r"^[/!](?P<name>[^\W\d_][\w]*)(?:@(?P<bot>[\w.:-]+))?(?:\s+(?P<rest>.*))?$", re.DOTALL)
# An item number as people write it: 3, 3., Nr. 3, Nr.3, No 3, #3.
_NUMBER = re.compile(r"^(?:nr\.?|no\.?|#)?\s*(\d+)\.?$", re.IGNORECASE)
# What reads as a number but is none the bot accepts: signed, with decimals or separators, an
# exponent ("-1", "+2", "1.5", "1,5", "1e9", "Nr. -3"). No two adjacent unbounded repeats of
# the same characters, so a long input costs one pass, never a backtracking search.
_NUMBERISH = re.compile(
    r"^(?:nr\.?|no\.?|#)?\s*(?:[-+\u2212\u2013]\s*)?\d[\d.,_'\u2019]*(?:e[-+]?\d+)?$", re.IGNORECASE
)
# Typed command words longer than this get no "did you mean" (the longest command has 13 letters).
MAX_SUGGESTED = 40


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
            UserError: The number is missing, the text does not start with one, or it is out of
                range (see :func:`as_number`).
        """
        first, rest = self.split_first()
        if first.lower() in ("nr", "nr.", "no", "no.") and rest.text:
            second, rest = rest.split_first()
            first = second
        if not first:
            raise UsageError("error.number_missing")
        number = as_number(first)
        if number is None:
            raise UsageError("error.number_expected", given=first)
        return number, rest


def as_number(token: str, *, low: int = 1, high: int = MAX_NUMBER) -> int | None:
    """The number in ``token`` (``3``, ``Nr. 3``, ``#3``), or ``None`` if ``token`` is no number.

    The one checked parser for numbers typed by people: every handler reads item numbers, ids,
    days and the like through it, so none of them reaches the database out of range or makes
    ``int()`` convert a 100,000-digit string.

    Args:
        token: A word or the whole argument text.
        low: Smallest accepted value.
        high: Largest accepted value; the default is the largest running number or id there is.

    Returns:
        The number, or ``None`` for a word or a text (``/beschluss Wir treffen uns …``).

    Raises:
        UserError: ``token`` reads as a number but is none in ``low``–``high``: negative, with
            decimals, zero or too large (``/beschluss -1`` must not become a decision "-1").
    """
    token = token.strip()
    match = _NUMBER.match(token)
    if match is None:
        if _NUMBERISH.match(token) is None:
            return None
        raise _out_of_range(token, low, high)
    digits = match.group(1).lstrip("0") or "0"
    # Lengths first: int() of a long digit string is slow, and refused beyond 4,300 digits.
    if len(digits) > len(str(high)) or int(digits) > high:
        raise _out_of_range(match.group(1), low, high, too_large=True)
    if int(digits) < low:
        raise _out_of_range(match.group(1), low, high, too_small=True)
    return int(digits)


def _out_of_range(
    token: str, low: int, high: int, *, too_large: bool = False, too_small: bool = False
) -> UserError:
    if high != MAX_NUMBER:  # a range of its own (days): say it
        return UsageError("error.number_range", given=token, low=low, high=high)
    if too_large:  # a number no item or AG has: as "not found", with why
        return UserError("error.number_too_large", given=token)
    if too_small:
        return UserError("error.number_too_small", given=token, low=low)
    return UsageError("error.number_invalid", given=token, low=low)


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
        private: Also works in a person's private chat, on the AG that chat acts on (reading
            commands); other commands that need an AG are refused there with a clear message.
        group_only: Offered only in group chats (``/ag anlegen``), even though it needs no AG.
    """

    name: str
    aliases: tuple[str, ...] = ()
    handler: Handler | None = None
    role: Role | None = None
    needs_group: bool = True
    parent: Command | None = None
    hidden: bool = False
    private: bool = False
    group_only: bool = False
    subcommands: dict[str, Command] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Catalog key prefix, e.g. ``cmd.beschluss.ersetzen``."""
        return f"{self.parent.key}.{self.name}" if self.parent else f"cmd.{self.name}"

    @property
    def names(self) -> tuple[str, ...]:
        """Primary name and aliases."""
        return (self.name, *self.aliases)

    def works_in_private(self) -> bool:
        """Whether the command does anything in a private chat (``/hilfe`` there lists only these)."""
        return not self.group_only and (self.private or not self.needs_group)

    def sub(self, word: str) -> Command | None:
        """The subcommand called ``word`` (any alias, folded), if any."""
        return self.subcommands.get(normalise_name(word))


class Router:
    """A set of commands; feature modules each own one, the application includes them all."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._ordered: list[Command] = []
        self.on = Observers()
        """The feature's handlers for events that are not commands (joins, plain messages, …)."""

    def command(
        self,
        name: str,
        *,
        aliases: tuple[str, ...] = (),
        role: Role | None = None,
        needs_group: bool = True,
        hidden: bool = False,
        private: bool = False,
        group_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register a top-level command (decorator)."""

        def decorate(handler: Handler) -> Handler:
            existing = self._commands.get(normalise_name(name))
            if existing is not None and existing.handler is None:
                # Subcommands were registered first; attach the main handler now.
                existing.handler, existing.aliases = handler, aliases
                existing.role, existing.needs_group, existing.hidden = role, needs_group, hidden
                existing.private, existing.group_only = private, group_only
                self._index(existing)
                return handler
            command = Command(name, aliases, handler, role, needs_group, hidden=hidden)
            command.private, command.group_only = private, group_only
            self._add(command)
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
        private: bool = False,
        group_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register a subcommand such as ``/beschluss ersetzen`` (decorator)."""

        def decorate(handler: Handler) -> Handler:
            owner = self._commands.get(normalise_name(parent))
            if owner is None:
                owner = Command(parent)
                self._add(owner)
            sub = Command(name, aliases, handler, role, needs_group, parent=owner)
            sub.private, sub.group_only = private, group_only
            for alias in sub.names:
                key = normalise_name(alias)
                if key in owner.subcommands:
                    raise ValueError(f"subcommand {parent} {alias} registered twice")
                owner.subcommands[key] = sub
            return handler

        return decorate

    def include(self, other: Router) -> None:
        """Take over all commands and event observers of another router."""
        for command in other._ordered:
            self._add(command)
        self.on.include(other.on)

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
        if len(word) > MAX_SUGGESTED:
            return None  # no command is nearly that long; spares difflib a pointless comparison
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
        private = ctx.event.chat.is_private
        if private and command.group_only:
            raise UserError("error.group_only", command=command_path(command, ctx.tr.language))
        if command.needs_group and private and not command.private:
            raise UserError("error.not_in_private", command=command_path(command, ctx.tr.language))
        if command.needs_group and ctx.group is None:
            if private and ctx.choices:
                raise ChooseGroup(ctx.choices, retry=ctx.event.text)
            raise NoGroup()
        if command.role is not None:
            ctx.require_role(command.role)
        await command.handler(ctx, args)


def check_role(actual: Role | None, required: Role) -> None:
    """Raise :class:`PermissionDenied` unless ``actual`` is at least ``required``."""
    if actual is None or actual.rank < required.rank:
        raise PermissionDenied("error.permission", required=required, actual=actual or Role.MITGLIED)
