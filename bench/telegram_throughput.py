"""Throughput of the Telegram path: bare PTB echo bot vs. Kümmerer, against the fake Bot API.

Prints updates per second for
  * a bare python-telegram-bot echo bot (the baseline),
  * Kümmerer handling (a) plain group text messages in an AG with 2,000 decisions and
    (b) ``/beschluesse`` commands spread over many chats,
with send limits switched off, over several runs, and the ratio of the medians to the baseline.
Target: (a) ≥ 0.8 × bare PTB.

Usage: .venv/bin/python bench/telegram_throughput.py [--updates 1000] [--runs 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update  # noqa: E402
from telegram.ext import Application as PTBApplication  # noqa: E402
from telegram.ext import ContextTypes, MessageHandler, filters  # noqa: E402

from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.app import Application  # noqa: E402
from bot.config import TelegramSection  # noqa: E402
from bot.core.events import ChatKind, ChatRef, Platform, UserRef  # noqa: E402
from storage import Database  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramServer  # noqa: E402

GROUP = -100777
MEMBERS = range(1000, 1050)


def world(server: FakeTelegramServer, chats: int) -> None:
    for user in MEMBERS:
        server.add_user(user, f"Mitglied {user}", username=f"m{user}")
    server.add_chat(GROUP, type="supergroup", title="AG Bildung")
    for n in range(chats):
        server.add_chat(GROUP - 1 - n, type="supergroup", title=f"AG {n}")
    server.set_admins(GROUP, [MEMBERS[0]])


async def bare_ptb(updates: int) -> float:
    """A PTB echo bot: every text message is answered with its text."""
    async with FakeTelegramServer() as server:
        world(server, 0)
        for n in range(updates):
            server.inject_message(GROUP, MEMBERS[n % len(MEMBERS)], f"Nachricht {n} zum Thema Bildung")

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await update.effective_chat.send_message(update.effective_message.text)

        ptb = PTBApplication.builder().token("1:BENCH").base_url(server.base_url).job_queue(None).build()
        ptb.add_handler(MessageHandler(filters.TEXT, echo))
        await ptb.initialize()
        await ptb.start()
        started = time.perf_counter()
        await ptb.updater.start_polling(timeout=timedelta(seconds=1))
        await server.wait_for_messages(GROUP, updates, timeout=600)
        elapsed = time.perf_counter() - started
        await ptb.updater.stop()
        await ptb.stop()
        await ptb.shutdown()
        return updates / elapsed


async def seed(app: Application, decisions: int, chats: int) -> None:
    """An AG with ``decisions`` decisions in GROUP, and ``chats`` small AGs in other chats."""
    async with app.db.transaction() as session:
        services = app.services(session)
        founder = await services.groups.person(UserRef(Platform.TELEGRAM, str(MEMBERS[0]), "Gründerin"))
        chat = await services.groups.chat(ChatRef(Platform.TELEGRAM, str(GROUP), ChatKind.GROUP))
        group = await services.groups.create(chat, "AG Bildung", founder)
        for n in range(decisions):
            await services.register.record(group, f"Beschluss {n}: Thema {n % 37} #tag{n % 11}", founder)
        for n in range(chats):
            other = await services.groups.chat(ChatRef(Platform.TELEGRAM, str(GROUP - 1 - n), ChatKind.GROUP))
            small = await services.groups.create(other, f"AG {n}", founder)
            for k in range(15):
                await services.register.record(small, f"Beschluss {k} der AG {n}", founder)


async def kuemmerer(updates: int, scenario: str, url: str | None) -> float:
    chats = 50
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
        if url:  # a clean PostgreSQL schema for every run
            from sqlalchemy import text

            async with database.engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        app = Application(database)
        await app.start()
        await seed(app, 2000, chats if scenario == "b" else 0)
        handled = 0
        done = asyncio.Event()
        original = app.handle

        async def counting(event, **kwargs):
            nonlocal handled
            await original(event, **kwargs)
            handled += 1
            if handled == updates:
                done.set()

        app.handle = counting  # type: ignore[method-assign]
        async with FakeTelegramServer() as server:
            world(server, chats)
            for n in range(updates):
                user = MEMBERS[n % len(MEMBERS)]
                if scenario == "a":
                    server.inject_message(GROUP, user, f"Nachricht {n} zum Thema Bildung")
                else:
                    server.inject_message(GROUP - 1 - (n % chats), user, "/beschluesse")
            adapter = TelegramAdapter(
                app,
                TelegramSection(token="1:BENCH", base_url=server.base_url, poll_timeout=1, rate_limits=False),
            )
            started = time.perf_counter()
            await adapter.start()
            if scenario == "a":
                await asyncio.wait_for(done.wait(), 600)
            else:
                per_chat = updates // chats
                for n in range(chats):
                    await server.wait_for_messages(GROUP - 1 - n, per_chat, timeout=600)
            elapsed = time.perf_counter() - started
            await adapter.stop()
            await app.stop()
        await database.dispose()
        return updates / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="default: a fresh SQLite file per run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    results: dict[str, list[float]] = {
        "bare PTB echo": [],
        "kuemmerer (a) group text": [],
        "kuemmerer (b) /beschluesse": [],
    }
    for run in range(args.runs):
        results["bare PTB echo"].append(asyncio.run(bare_ptb(args.updates)))
        results["kuemmerer (a) group text"].append(
            asyncio.run(kuemmerer(args.updates, "a", args.database_url))
        )
        results["kuemmerer (b) /beschluesse"].append(
            asyncio.run(kuemmerer(args.updates, "b", args.database_url))
        )
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in results.items()), flush=True)
    baseline = statistics.median(results["bare PTB echo"])
    print(f"\n{args.updates} updates per run, {args.runs} runs, medians:")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:28s} {median:8.0f} updates/s   ratio to bare PTB {median / baseline:5.2f}")
    ratio_a = statistics.median(results["kuemmerer (a) group text"]) / baseline
    print(f"\ntarget (a) >= 0.80 x bare PTB: {'met' if ratio_a >= 0.8 else 'NOT met'} ({ratio_a:.2f})")


if __name__ == "__main__":
    main()
