"""Matrix adapter on matrix-nio, tested against a real Synapse homeserver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.adapters.matrix.adapter import MatrixAdapter

if TYPE_CHECKING:
    from bot.app import Application
    from bot.config import Config


def create(app: Application, config: Config, **options: Any) -> MatrixAdapter:
    """Build the Matrix adapter from the ``[matrix]`` section."""
    return MatrixAdapter(app, config.matrix, **options)


__all__ = ["MatrixAdapter", "create"]
