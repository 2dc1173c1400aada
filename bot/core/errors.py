"""Errors that carry a translatable message for the person who caused them.

Handlers and services raise these; the router turns them into a clear reply in the AG's
language. Anything else that escapes a handler is a bug: it is logged with an error id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.i18n import Translator
    from bot.core.markup import Markup
    from bot.core.router import Command


class UserError(Exception):
    """Something the person can fix; ``key`` names the catalog message shown to them.

    Args:
        key: Catalog key of the message.
        show_usage: Append the command's usage line to the message.
        **params: Values for the message's placeholders.
    """

    def __init__(self, key: str, *, show_usage: bool = False, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
        self.show_usage = show_usage


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
        name: tr.text(f"role.{value.value}") if isinstance(value, Role) else value
        for name, value in error.params.items()
    }
    markup = tr.markup(key, **params)
    if error.show_usage and command is not None:
        markup.line(tr.text("error.usage_label"), " ", code(tr.text(f"{command.key}.usage")))
        markup.line(tr.text("error.help_hint", command=help_target(command)))
    return markup


def help_target(command: Command) -> str:
    """The top-level command name that ``/hilfe <name>`` explains for a (sub)command."""
    root = command
    while root.parent is not None:
        root = root.parent
    return root.name
