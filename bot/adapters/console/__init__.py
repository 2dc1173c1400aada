"""Console adapter: try the bot without any chat account, or drive it from a script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.adapters.console.adapter import ConsoleAdapter

if TYPE_CHECKING:
    from bot.app import Application
    from bot.config import Config


def create(app: Application, config: Config, **options: Any) -> ConsoleAdapter:
    """Build the console adapter (options: ``script``, ``stdin``, ``stdout``, ``interactive``)."""
    return ConsoleAdapter(app, **options)


__all__ = ["ConsoleAdapter", "create"]
