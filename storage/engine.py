"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage import inline_sqlite

log = logging.getLogger(__name__)

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///data/kuemmerer.sqlite3"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Pick the async driver for plain ``sqlite://`` and ``postgresql://`` URLs.

    Operators copy URLs from other tools; accepting them saves a confusing driver error.
    """
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the bundled migrations and the given database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Database:
    """Owns the async engine and hands out sessions.

    Args:
        url: SQLAlchemy URL; ``sqlite+aiosqlite`` and ``postgresql+asyncpg`` are supported.
        echo: Log every SQL statement (debugging only).
    """

    def __init__(self, url: str = DEFAULT_SQLITE_URL, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Every session ends in an explicit commit or rollback, so the pool's extra rollback on
        # return only costs a round trip per transaction.
        # SQL parameters are texts and names: they must not appear in the error of a failed
        # statement, which the bot logs at ERROR (echo is for debugging and shows them anyway).
        options: dict = {"echo": echo, "pool_reset_on_return": None, "hide_parameters": not echo}
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            path = parsed.database
            options["async_creator"] = lambda: inline_sqlite.connect(path)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=TrackedSession
        )
        # SQLite has one writer at a time; when two connections of this process collide, its
        # busy handler sleeps in steps of up to 100 ms. Taking turns in the loop costs nothing.
        self._turn = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        Transactions must not be nested (on SQLite the inner one would wait for the outer).
        """
        if self._turn is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._turn, self.sessions() as session, session.begin():
            yield session

    async def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision`` on this database."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_upgrade, self.url, revision)

    async def dispose(self) -> None:
        """Close all pooled connections."""
        await self.engine.dispose()


class TrackedSession(Session):
    """A session that remembers whether its transaction wrote anything (see :func:`wrote`)."""


def wrote(session: AsyncSession) -> bool:
    """Whether the session's transaction has written anything so far (or is about to)."""
    sync = session.sync_session
    return bool(sync.info.get("wrote") or sync.new or sync.dirty or sync.deleted)


def _note_flush(session: Session, _context: UOWTransaction) -> None:
    session.info["wrote"] = True


def _note_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


event.listen(TrackedSession, "after_flush", _note_flush)
event.listen(TrackedSession, "do_orm_execute", _note_dml)


def _run_upgrade(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless asked, and WAL lets readers work while a write commits.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL loses no committed data when the process dies, only (rarely) on power
    # loss; it spares an fsync per transaction, which is most of the cost of a small update.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Apply migrations from synchronous code (the CLI)."""

    async def _go() -> None:
        db = Database(url)
        try:
            await db.upgrade(revision)
        finally:
            await db.dispose()

    asyncio.run(_go())
