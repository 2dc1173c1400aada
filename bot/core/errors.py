"""Errors that carry a translatable message for the person who caused them.

Handlers and services raise these; the router turns them into a clear reply in the AG's
language. Anything else that escapes a handler is a bug: it is logged with an error id.
"""

from __future__ import annotations

from typing import Any


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
