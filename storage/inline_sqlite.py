"""An aiosqlite connection that runs SQLite calls in the event loop's own thread.

aiosqlite hands every call to a worker thread and back; SQLAlchemy's adapter makes about four such
calls per statement (cursor, execute, fetch, close). For the bot's small transactions these
hand-overs cost several times the SQLite work itself (measured: ~6 ms → see DEVELOPERS.md for
the figures), so the embedded database calls SQLite directly. That blocks the loop only for the
duration of each statement (microseconds for the bot's indexed queries); one process uses the
file, and :class:`storage.engine.Database` serialises its transactions, so SQLite never waits on
a lock. PostgreSQL keeps its truly asynchronous driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite


class InlineConnection(aiosqlite.Connection):
    """``aiosqlite.Connection`` without the worker thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return partial(fn, *args, **kwargs)()

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect().__await__()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        """Close the SQLite connection."""
        self.stop()


def connect(database: str) -> InlineConnection:
    """An inline connection to a SQLite file, with the arguments SQLAlchemy gives aiosqlite."""
    return InlineConnection(partial(sqlite3.connect, database, check_same_thread=False))
