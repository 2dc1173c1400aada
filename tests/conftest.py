"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when configured),
a manual clock, the application and the :class:`~tests.harness.BotHarness`.

Set ``KUEMMERER_TEST_DATABASE_URL`` (e.g. ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``)
to run every database test against PostgreSQL as well; `.ci/run` does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import Application
from bot.core.ports import ManualClock
from bot.services.embeddings import load_embedder
from bot.services.outbox import Outbox
from bot.services.reopen import ReopenGuard
from storage import Database
from storage.models import Base
from tests.harness import BotHarness, RecordingMessenger

# PTB 22 warns about integer time periods unless this is set; warnings are errors here.
os.environ.setdefault("PTB_TIMEDELTA", "true")

PG_URL = os.environ.get("KUEMMERER_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def run_blocking(coroutine_function) -> None:
    """Run a coroutine function to completion on a private loop in a worker thread.

    Session fixtures are first requested from inside a test's running loop, where
    ``asyncio.run`` is not allowed.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(coroutine_function())).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        async with db.engine.begin() as conn:
            # Fold the WAL into the main file so a plain copy is complete.
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        await db.dispose()

    run_blocking(build)
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    """Reset the PostgreSQL test database once per session and migrate it."""
    assert PG_URL is not None

    async def reset() -> None:
        db = Database(PG_URL)
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await db.upgrade()
        await db.dispose()

    run_blocking(reset)
    return PG_URL


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database on each configured backend."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kuemmerer.sqlite3"
        shutil.copy(template, path)
        db = Database(f"sqlite+aiosqlite:///{path}")
    else:
        db = Database(request.getfixturevalue("postgres_ready"))
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    """A clock at a fixed, known time: Saturday 21 November 2026, 10:00 in Berlin."""
    return ManualClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


@pytest.fixture
def messenger() -> RecordingMessenger:
    """Records what the bot sends."""
    return RecordingMessenger()


@pytest.fixture(scope="session")
def lexical_guard() -> ReopenGuard:
    """A reopen guard without a model (fast); tests of the guard's quality use the USE model."""
    return ReopenGuard(load_embedder("lexical"))


@pytest.fixture
def guard(lexical_guard: ReopenGuard) -> ReopenGuard:
    """The reopen guard of the test application (override in a module to use another one)."""
    return lexical_guard


@pytest.fixture
async def app(
    database: Database, clock: ManualClock, messenger: RecordingMessenger, guard: ReopenGuard
) -> AsyncIterator[Application]:
    """The application on the test database, with a recording messenger attached."""
    # Virtual time: backoff and rate-limit waits move the manual clock instead of sleeping.
    outbox = Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep)
    application = Application(database, clock=clock, outbox=outbox, options={"reopen.guard": guard})
    application.attach(messenger)
    yield application
    await application.stop()


@pytest.fixture
def bot(app: Application, messenger: RecordingMessenger) -> BotHarness:
    """The test bot."""
    return BotHarness(app, messenger)


@pytest.fixture
async def session(database: Database):
    """A session inside a transaction that is rolled back at the end."""
    async with database.sessions() as s, s.begin():
        yield s
        await s.rollback()
