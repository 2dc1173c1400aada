"""Ports: the interfaces the core needs from the outside world.

Adapters implement :class:`Messenger`; tests and the console may swap the :class:`Clock`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from bot.core.events import OutgoingMessage, Platform, SentMessage


@runtime_checkable
class Messenger(Protocol):
    """Sends messages on one platform; implemented by each adapter."""

    platform: Platform

    def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        """Split a message into parts the platform accepts in one call each (long texts)."""
        ...

    async def send(self, message: OutgoingMessage) -> SentMessage:
        """Deliver one prepared part.

        Raises:
            RetryLater: The platform asks to wait.
            TransientDeliveryError: Network or server trouble; worth retrying.
            PermanentDeliveryError: The message can never be delivered.
        """
        ...


class Clock(Protocol):
    """Source of the current time, so tests and the console can move time."""

    def now(self) -> datetime:
        """The current time, timezone-aware in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware in UTC."""
        return datetime.now(UTC)


class TravelClock:
    """The wall clock, which can be moved forward (the console's ``:zeit``).

    Time keeps running from wherever it was moved to, so a console session behaves like the
    real bot a few hours or days later.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The current time plus how far it was moved."""
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and return the new time."""
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self._offset += delta
        return self.now()

    def set(self, when: datetime) -> None:
        """Jump forward to a given (timezone-aware) time; earlier times are ignored."""
        if when.tzinfo is None:
            raise ValueError("need a timezone-aware time")
        self._offset = max(self._offset, when - datetime.now(UTC))


class ManualClock:
    """A clock that moves only when told to (tests, console time travel).

    Args:
        start: The initial time; must be timezone-aware.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")

    def now(self) -> datetime:
        """The current fake time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and return the new time."""
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to a given (timezone-aware) time."""
        if when.tzinfo is None:
            raise ValueError("need a timezone-aware time")
        self._now = when

    def monotonic(self) -> float:
        """Seconds on this clock, for code that measures intervals (rate limits, backoff)."""
        return self._now.timestamp()

    async def sleep(self, seconds: float) -> None:
        """Virtual sleep: move the clock forward instead of waiting, then let others run."""
        if seconds > 0:
            self._now += timedelta(seconds=seconds)
        await asyncio.sleep(0)
