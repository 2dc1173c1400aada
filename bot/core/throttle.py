"""Sliding-window rate limits for sending, per chat and per platform."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` sends in any window of ``period`` seconds."""

    count: int
    period: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.period <= 0:
            raise ValueError("a rate limit needs count >= 1 and period > 0")


@dataclass(frozen=True, slots=True)
class SendLimits:
    """A platform's limits; ``None`` means unlimited.

    Attributes:
        overall: All chats together (Telegram: 30 per second).
        group: Each group chat (Telegram: 20 per minute).
        private: Each private chat.
    """

    overall: RateLimit | None = None
    group: RateLimit | None = None
    private: RateLimit | None = None


UNLIMITED = SendLimits()


class SlidingWindow:
    """Remembers recent sends and tells how long to wait before the next one.

    A sliding window (rather than a token bucket) is used because Telegram's group limit is
    "20 per minute": a bucket refilling at 1/3 s would allow 40 in the first minute.

    Args:
        limit: The limit to keep.
        now: Monotonic time source in seconds.
    """

    def __init__(self, limit: RateLimit, now: Callable[[], float]) -> None:
        self.limit = limit
        self._now = now
        self._sent: deque[float] = deque()

    def delay(self) -> float:
        """Seconds until one more send keeps the limit (0 when it may go now)."""
        now = self._now()
        while self._sent and self._sent[0] <= now - self.limit.period:
            self._sent.popleft()
        if len(self._sent) < self.limit.count:
            return 0.0
        return self._sent[0] + self.limit.period - now

    def record(self) -> None:
        """Count one send at the current time."""
        self._sent.append(self._now())
