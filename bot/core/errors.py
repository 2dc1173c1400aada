"""Errors that carry a translatable message for the person who caused them.

Handlers and services raise these; the router turns them into a clear reply in the AG's
language. Anything else that escapes a handler is a bug: it is logged with an error id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.sanitize import echo

if TYPE_CHECKING:
    from bot.core.events import Button
    from bot.core.i18n import Translator
    from bot.core.markup import Markup
    from bot.core.router import Command


# Longest command line a "which AG?" button repeats after switching (buttons carry the command).
MAX_RETRY = 200


class UserError(Exception):
    """Something the person can fix; ``key`` names the catalog message shown to them.

    Args:
        key: Catalog key of the message.
        show_usage: Append the command's usage line to the message.
        count: Chooses the plural form of a counted message and fills its ``{n}``.
        **params: Values for the message's placeholders.
    """

    def __init__(
        self, key: str, *, show_usage: bool = False, count: int | None = None, **params: Any
    ) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
        self.show_usage = show_usage
        self.count = count


class UsageError(UserError):
    """The command's arguments are missing or malformed; the usage line is shown."""

    def __init__(self, key: str = "error.usage", **params: Any) -> None:
        super().__init__(key, show_usage=True, **params)


class NotFound(UserError):
    """A numbered item or a person does not exist in this AG."""


class PermissionDenied(UserError):
    """The person's role in the AG does not allow the command."""


class NoGroup(UserError):
    """The chat does not belong to an AG yet."""

    def __init__(self) -> None:
        super().__init__("error.no_group")


class ChooseGroup(UserError):
    """A private chat of a person in several AGs, and the command needs one: which?

    Args:
        choices: ``(AG id, name)`` of the person's AGs.
        retry: The command as typed; the choice buttons run it again in the chosen AG.
    """

    def __init__(self, choices: list[tuple[int, str]], retry: str | None = None) -> None:
        super().__init__("error.choose_group")
        self.choices = choices
        self.retry = retry


class DeliveryError(Exception):
    """A messenger could not deliver a message; subclasses tell the outbox what to do."""


class RetryLater(DeliveryError):
    """The platform asked to wait (Telegram 429, Matrix M_LIMIT_EXCEEDED).

    Args:
        seconds: How long to wait before the next attempt.
    """

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds:g} s")
        self.seconds = seconds


class TransientDeliveryError(DeliveryError):
    """A network error or a server error: retried with backoff."""


class PermanentDeliveryError(DeliveryError):
    """The message can never be delivered (chat gone, bot removed or blocked, bad request).

    Args:
        reason: Short machine-readable reason stored with the failed message.
        blocked_private: The person never started a private chat with the bot, so the
            message's ``fallback`` should be sent instead.
    """

    def __init__(self, reason: str, *, blocked_private: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.blocked_private = blocked_private


def error_markup(error: UserError, tr: Translator, command: Command | None, *, private: bool) -> Markup:
    """The reply to a :class:`UserError`: its catalog message, plus the usage line if asked for.

    Args:
        error: What went wrong.
        tr: Translator of the chat's AG (or the bot's default).
        command: The command that was run, if it was recognised.
        private: The message came from a private chat (some messages read differently there).
    """
    from bot.core.markup import code
    from storage.models.enums import Role

    key = error.key
    if isinstance(error, NoGroup) and private:
        key = "error.no_group_private"
    params = {
        name: tr.text(f"role.{value.value}") if isinstance(value, Role) else _quoted(name, value)
        for name, value in error.params.items()
    }
    markup = tr.markup(key, error.count, **params)
    if isinstance(error, ChooseGroup):
        for group_id, name in error.choices:
            markup.bullet(f"{name}: ", code(f"/ag wechseln {group_id}"))
    if error.show_usage and command is not None:
        markup.line(tr.text("error.usage_label"), " ", code(tr.text(f"{command.key}.usage")))
        markup.line(tr.text("error.help_hint", command=help_target(command, tr.language)))
    return markup


# Parameters that code composes from stored data (lists of people or AGs), not one piece of input:
# they are kept longer than a quote, but still bounded.
_LISTS = frozenset({"candidates", "options"})
LIST_LIMIT = 600


def _quoted(name: str, value: Any) -> Any:
    """A string parameter as the reply shows it: most of them repeat what the person typed
    (an unknown word, a search, a name), so a 4,096-character command line must not come back
    whole; one line of at most :data:`~bot.core.sanitize.ECHO_LIMIT` characters is enough to recognise it."""
    if not isinstance(value, str):
        return value
    return echo(value, LIST_LIMIT) if name in _LISTS else echo(value)


def error_buttons(error: UserError) -> list[list[Button]]:
    """Buttons that resolve an error in one tap (which AG a private chat should act on)."""
    from bot.core.events import Button

    if not isinstance(error, ChooseGroup):
        return []
    # The button switches and runs the command again, so the person does not have to retype it.
    again = f" {error.retry}" if error.retry and len(error.retry) <= MAX_RETRY else ""
    return [[Button(name, command=f"/ag wechseln {group_id}{again}")] for group_id, name in error.choices]


def help_target(command: Command, language: str = "de") -> str:
    """The top-level command name that ``/hilfe <name>`` explains for a (sub)command, as
    :func:`command_name` shows it in ``language`` (``/help goal`` in English AGs)."""
    root = command
    while root.parent is not None:
        root = root.parent
    return command_name(root, language)


def command_path(command: Command, language: str = "de") -> str:
    """The whole command as typed, e.g. ``ag thema`` (``group topic`` in English AGs)."""
    names = []
    current: Command | None = command
    while current is not None:
        names.append(command_name(current, language))
        current = current.parent
    return " ".join(reversed(names))


def command_name(command: Command, language: str) -> str:
    """The name a command goes by in ``language``: its German name, or in English its first alias.

    By convention the first alias is the English name (``ziel`` → ``goal``, ``gelesen`` → ``read``),
    the one the English catalog's usage lines use; a command without aliases keeps its name.
    """
    if language == "en" and command.aliases:
        return command.aliases[0]
    return command.name
