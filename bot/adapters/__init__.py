"""Platform adapters: the only place that imports ``telegram`` or ``nio``.

Adapters are imported lazily by name, so a console session never loads a chat library and a
missing optional dependency only matters for the adapter that needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.app import Application
    from bot.config import Config

KNOWN = ("console", "telegram", "matrix")


class Adapter(Protocol):
    """Connects one platform to the application (like opsdroid's connectors)."""

    name: str

    async def start(self) -> None:
        """Connect and begin feeding events into the application."""
        ...

    async def wait_closed(self) -> None:
        """Return when the adapter has finished on its own (e.g. the console's input ended)."""
        ...

    async def stop(self) -> None:
        """Disconnect; pending work is finished or left in the database for the next start."""
        ...


def load_adapter(name: str, app: Application, config: Config, **options: object) -> Adapter:
    """Import ``bot.adapters.<name>`` and build its adapter.

    Raises:
        ValueError: The name is not a known adapter.
    """
    if name not in KNOWN:
        raise ValueError(f"unknown adapter {name!r}")
    module = importlib.import_module(f"bot.adapters.{name}")
    return module.create(app, config, **options)
