"""Fixtures for end-to-end tests of the Telegram adapter against the fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from telegram import Update

from bot.adapters.telegram import TelegramAdapter
from bot.app import Application
from bot.config import TelegramSection
from bot.core.ports import Clock, SystemClock
from bot.services.outbox import Outbox
from storage import Database
from tests.fakes.telegram_api import FakeTelegramServer

GROUP = -1001000
OTHER_GROUP = -1002000
ADMIN, MEMBER, NEWCOMER = 11, 22, 33


@dataclass
class RecordingSleep:
    """An outbox sleep that records the requested waits and only yields (no real waiting)."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(allowed_updates=Update.ALL_TYPES) as fake:
        fake.add_user(ADMIN, "Anna", username="anna")
        fake.add_user(MEMBER, "Bernd", username="bernd")
        fake.add_user(NEWCOMER, "Carla", username="carla")
        fake.add_chat(GROUP, type="supergroup", title="AG Bildung")
        fake.add_chat(OTHER_GROUP, type="supergroup", title="AG Engagement")
        fake.set_admins(GROUP, [ADMIN], creator_id=ADMIN)
        fake.set_admins(OTHER_GROUP, [ADMIN], creator_id=ADMIN)
        for user in (ADMIN, MEMBER, NEWCOMER):
            fake.add_chat(user, type="private")
        yield fake


@dataclass
class Running:
    """A started bot: application, adapter and the outbox's recorded waits."""

    app: Application
    adapter: TelegramAdapter
    sleep: RecordingSleep


@pytest.fixture
async def make_bot(
    database: Database, server: FakeTelegramServer
) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """Factory for a started bot on the fake server; every bot is stopped after the test."""
    started: list[Running] = []

    async def make(*, real_sleep: bool = False, clock: Clock | None = None, **settings: object) -> Running:
        sleep = RecordingSleep()
        clock = clock or SystemClock()
        outbox = Outbox(database, clock) if real_sleep else Outbox(database, clock, sleep=sleep)
        app = Application(database, clock=clock, outbox=outbox)
        await app.start()
        settings.setdefault("rate_limits", False)
        config = TelegramSection(token="123456:TEST", base_url=server.base_url, poll_timeout=1, **settings)
        adapter = TelegramAdapter(app, config)
        await adapter.start()
        await app.outbox.resume()
        running = Running(app, adapter, sleep)
        started.append(running)
        return running

    yield make
    for running in started:
        await stop(running)


async def stop(running: Running) -> None:
    """Stop a bot the way the CLI does (idempotent)."""
    if not running.adapter._closed.is_set():
        await running.adapter.stop()
        await running.app.stop()
