"""Times in words for handlers: see :mod:`bot.core.when_format` (where job functions, which may
not import handlers, find the same functions)."""

from __future__ import annotations

from bot.core.when_format import (
    date_short,
    day_short,
    describe_rule,
    describe_when,
    moment_short,
    moment_text,
    time_text,
    weekday_short,
)

__all__ = [
    "date_short",
    "day_short",
    "describe_rule",
    "describe_when",
    "moment_short",
    "moment_text",
    "time_text",
    "weekday_short",
]
