"""Command line: ``kuemmerer run | console | db upgrade``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from bot.config import Config, ConfigError, load_config

log = logging.getLogger("kuemmerer")

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kuemmerer",
        description="Kümmerer – keeps the goals and decisions of open working groups.",
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="start the adapters named in the config (default)")
    run.add_argument("--config", help="path to config.toml")
    console = sub.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument("--config", help="path to config.toml")
    console.add_argument("--script", help="read input lines from this file")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply all migrations")
    upgrade.add_argument("--config", help="path to config.toml")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kuemmerer`` script; returns the exit status."""
    args = _parser().parse_args(argv)
    command = args.command or "run"
    logging.basicConfig(
        level=os.environ.get("KUEMMERER_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"kuemmerer: invalid configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if command == "db":
            from storage.engine import upgrade_sync

            upgrade_sync(config.storage.url)
            print("database is up to date")
            return 0
        adapters = ["console"] if command == "console" else config.adapters
        options = {"script": args.script} if command == "console" else {}
        return asyncio.run(serve(config, adapters, **options))
    except KeyboardInterrupt:
        return 130


async def serve(config: Config, adapters: Sequence[str], **console_options: object) -> int:
    """Run the application with the given adapters in this one event loop until they finish.

    Args:
        config: Validated configuration.
        adapters: Adapter names to start.
        **console_options: Passed to the console adapter (``script``).

    Returns:
        The process exit status.
    """
    from bot.adapters import load_adapter
    from bot.app import Application
    from storage import Database

    database = Database(config.storage.url)
    from bot.services.embeddings import load_embedder
    from bot.services.reopen import ReopenGuard

    try:
        guard = ReopenGuard(load_embedder(config.bot.reopen_embedder))
    except ValueError as exc:
        print(f"kuemmerer: [bot] reopen_embedder: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    app = Application(database, language=config.bot.language, timezone=config.bot.timezone, guard=guard)
    try:
        await app.start()
        started = []
        for name in adapters:
            options = console_options if name == "console" else {}
            try:
                adapter = load_adapter(name, app, config, **options)
            except ModuleNotFoundError as exc:
                print(f"kuemmerer: the {name} adapter cannot be loaded: {exc}", file=sys.stderr)
                return EXIT_CONFIG
            started.append(adapter)
        for adapter in started:
            await adapter.start()
        # Deliver what an earlier run left unsent, now that every messenger is connected.
        await app.outbox.resume()
        # Loads the reopen guard's model in a thread while the adapters already answer.
        await app.reopen.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        waiters = [asyncio.create_task(a.wait_closed()) for a in started]
        stopper = asyncio.create_task(stop.wait())
        # The first adapter to finish (the console at end of input) or a signal ends the run.
        await asyncio.wait([*waiters, stopper], return_when=asyncio.FIRST_COMPLETED)
        for adapter in reversed(started):
            await adapter.stop()
        await app.stop()
        for task in (*waiters, stopper):
            task.cancel()
        await asyncio.gather(*waiters, stopper, return_exceptions=True)
        return 0
    finally:
        await database.dispose()
