"""Telegram adapter on python-telegram-bot 22 (manual lifecycle inside the bot's one loop)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# PTB 22 warns on every RetryAfter unless time periods are datetime.timedelta; opting in here
# keeps logs clean and lets the messenger read retry_after as a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.adapters.telegram.adapter import TelegramAdapter  # noqa: E402

if TYPE_CHECKING:
    from bot.app import Application
    from bot.config import Config


def create(app: Application, config: Config, **options: Any) -> TelegramAdapter:
    """Build the Telegram adapter from the ``[telegram]`` section."""
    return TelegramAdapter(app, config.telegram, **options)


__all__ = ["TelegramAdapter", "create"]
