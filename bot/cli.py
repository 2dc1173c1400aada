"""Command line: ``kuemmerer [--config FILE] run | console | db upgrade | backup | restore |
export-ag | …``, ``--version``; the operator commands' work is in :mod:`bot.ops`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from bot.config import Config, ConfigError, load_config
from bot.core import logsafe
from bot.core.startup import EXIT_CONFIG, EXIT_UNAVAILABLE, StartupError
from storage import Database

log = logging.getLogger("kuemmerer")


def _version() -> str:
    try:
        return metadata.version("kuemmerer")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


CONFIG_HELP = "path to config.toml (default: $KUEMMERER_CONFIG, then ./config.toml)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kuemmerer",
        description="Kümmerer – keeps the goals and decisions of open working groups.",
        epilog="--config may also follow the command (kuemmerer run --config FILE). "
        "KUEMMERER_LOG_LEVEL=INFO or DEBUG logs more to stderr.",
    )
    parser.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    # After the command, --config must not overwrite one given before it with "not given": a
    # suppressed default leaves the attribute alone unless the option is there.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=CONFIG_HELP)
    sub = parser.add_subparsers(
        dest="command", metavar="{run,console,db,umfrage,definition,backup,restore,export-ag,datenschutz}"
    )
    sub.add_parser("run", parents=[common], help="start the adapters named in the config (default)")
    console = sub.add_parser("console", parents=[common], help="chat with the bot in this terminal")
    console.add_argument("--script", help="read input lines from this file")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", parents=[common], help="apply all migrations")
    survey = sub.add_parser("umfrage", help="survey templates (docs/umfragen.md)")
    survey_sub = survey.add_subparsers(dest="import_command", required=True)
    survey_import = survey_sub.add_parser(
        "import", parents=[common], help="import a survey template from a TOML file"
    )
    survey_import.add_argument("file", metavar="DATEI.toml")
    definition = sub.add_parser("definition", help="the shared definition of engagement")
    definition_sub = definition.add_subparsers(dest="import_command", required=True)
    definition_import = definition_sub.add_parser(
        "import", parents=[common], help="adopt a changed definition from a TOML file (a new version)"
    )
    definition_import.add_argument("file", metavar="DATEI.toml")
    backup = sub.add_parser(
        "backup", parents=[common], help="write a consistent backup of the database (no secrets)"
    )
    backup.add_argument("file", metavar="DATEI")
    backup.add_argument(
        "--mit-geheimnissen",
        "--with-secrets",
        dest="with_secrets",
        action="store_true",
        help="keep the Matrix access token and pending link codes in the backup",
    )
    restore = sub.add_parser(
        "restore", parents=[common], help="replace the database with a backup (stop the bot first)"
    )
    restore.add_argument("file", metavar="DATEI")
    restore.add_argument("--ja", "--yes", dest="yes", action="store_true", help="do not ask for confirmation")
    export = sub.add_parser("export-ag", parents=[common], help="an AG's register as Markdown or JSON")
    export.add_argument("group", metavar="AG", help="the AG's id or name")
    export.add_argument("--format", choices=["md", "json"], help="default: md, or json for --out *.json")
    export.add_argument("--out", metavar="DATEI", help="write to this file instead of stdout")
    privacy = sub.add_parser("datenschutz", help="retention of personal data (docs/datenschutz.md)")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    privacy_sub.add_parser(
        "bericht", parents=[common], help="what the daily retention job would remove now (changes nothing)"
    )
    privacy_sub.add_parser("ausfuehren", parents=[common], help="run the retention job now")
    return parser


def _log_level() -> int | None:
    """The level from ``$KUEMMERER_LOG_LEVEL`` (default WARNING); ``None`` for an unknown name."""
    level = logging.getLevelName(os.environ.get("KUEMMERER_LOG_LEVEL", "WARNING").strip().upper())
    return level if isinstance(level, int) else None


def _fail(message: str) -> None:
    # Printed, not logged: this line is the whole output, and the secret filter only sees logs.
    print(f"kuemmerer: {logsafe.redact(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kuemmerer`` script; returns the exit status.

    Exit status 2: the configuration must change; 1: a service was unreachable (or an
    unexpected error); 0: stopped normally; 130: interrupted.
    """
    args = _parser().parse_args(argv)
    command = args.command or "run"
    level = _log_level()
    if level is None:
        _fail("KUEMMERER_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return EXIT_CONFIG
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logsafe.install(level)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        _fail(f"invalid configuration: {exc}")
        return EXIT_CONFIG
    logsafe.register_secret(*config.secrets())
    try:
        if command == "db":
            asyncio.run(upgrade(config))
            print("database is up to date")
            return 0
        if command == "datenschutz":
            return asyncio.run(retention(config, run=args.privacy_command == "ausfuehren"))
        if command in ("backup", "restore", "export-ag"):
            from bot import ops

            return ops.run(command, config, args)
        if command in ("umfrage", "definition"):
            loaded = read_import(command, args.file)
            return (
                EXIT_CONFIG
                if loaded is None
                else asyncio.run(import_file(config, command, loaded, Path(args.file).name))
            )
        adapters = ["console"] if command == "console" else config.adapters
        options = {"script": args.script} if command == "console" else {}
        return asyncio.run(serve(config, adapters, **options))
    except StartupError as exc:
        _fail(str(exc))
        return exc.status
    except KeyboardInterrupt:
        return 130
    except Exception:
        # A bug: its traceback goes through logging, so the secret filter sees it.
        log.exception("kuemmerer stopped by an unexpected error")
        return EXIT_UNAVAILABLE


async def open_database(config: Config) -> Database:
    """The configured database, with one connection tried.

    Raises:
        StartupError: The SQLite file cannot be created or opened, or PostgreSQL refuses the
            login (exit status 2), or PostgreSQL cannot be reached (1).
    """
    where = config.origin("storage", "url")
    try:
        database = Database(config.storage.url)
    except OSError as exc:
        # The directory of the SQLite file cannot be created.
        raise StartupError(
            f"database: cannot create the directory {exc.filename} for the SQLite file "
            f"({exc.strerror}); check {where}",
            status=EXIT_CONFIG,
        ) from None
    except (ArgumentError, ValueError) as exc:
        raise StartupError(
            f"database: invalid URL ({_one_line(exc)}); check {where}", status=EXIT_CONFIG
        ) from None
    try:
        async with database.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        await database.dispose()
        raise _database_error(database, exc, where) from None
    return database


def _database_error(database: Database, exc: BaseException, where: str) -> StartupError:
    url = make_url(database.url)
    reason = _one_line(exc.orig if isinstance(exc, DBAPIError) else exc)
    if database.is_sqlite:
        return StartupError(
            f"database: cannot open the SQLite file {url.database} ({reason}); check {where}",
            status=EXIT_CONFIG,
        )
    server = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    # asyncpg's own error (with the SQLSTATE) is the cause of the DBAPI error SQLAlchemy raises.
    cause = exc.orig.__cause__ if isinstance(exc, DBAPIError) and exc.orig is not None else None
    sqlstate = getattr(cause, "sqlstate", None) or ""
    if sqlstate[:2] in ("28", "3D"):  # invalid authorisation, unknown database
        return StartupError(
            f"database: {server} refused the connection ({reason}); check user, password and "
            f"database name in {where}",
            status=EXIT_CONFIG,
        )
    return StartupError(
        f"database: {server} is unreachable ({reason}); check that the server runs and {where}",
        status=EXIT_UNAVAILABLE,
    )


def _one_line(exc: BaseException) -> str:
    text = (exc.strerror if isinstance(exc, OSError) and exc.strerror else None) or str(exc)
    # SQLAlchemy appends a "Background on this error" paragraph; the first line says it all.
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return " ".join(first.split())


async def upgrade(config: Config) -> None:
    """``kuemmerer db upgrade``: apply every migration."""
    database = await open_database(config)
    try:
        await database.upgrade()
    finally:
        await database.dispose()


async def retention(config: Config, *, run: bool) -> int:
    """``kuemmerer datenschutz bericht|ausfuehren``: what the retention job removes now, by kind
    (German, for the operator); ``ausfuehren`` removes it."""
    from bot.core.ports import SystemClock
    from bot.handlers.datenschutz import policy_from
    from bot.services.group_lifecycle import GroupLifecycleService
    from bot.services.groups import GroupService
    from bot.services.retention import SWEEPS, RetentionService

    database = await open_database(config)
    clock = SystemClock()
    try:
        await database.upgrade()
        policy, _, _ = policy_from({"datenschutz": config.datenschutz})
        async with database.transaction() as session:
            service = RetentionService(session, clock, policy)
            result = await (service.run() if run else service.report())
            lifecycle = GroupLifecycleService(session, clock, GroupService(session, clock))
            groups = (
                await lifecycle.purge_due()
                if run
                else await lifecycle.repo.due_for_deletion(clock.now(), 1000)
            )
    finally:
        await database.dispose()
    verb = "entfernt" if run else "würde jetzt entfernen"
    print(f"Aufbewahrungsfristen ([datenschutz] in {config.source}); der tägliche Löschlauf {verb}:")
    for sweep in SWEEPS:
        print(f"  {result.counts[sweep.key]:>7}  {sweep.label} ({sweep.key})")
    print(f"  {len(groups):>7}  AGs nach Ablauf der Löschfrist (ag_loeschfrist)")
    if run and result.more:
        print("Es ist noch mehr fällig: der Befehl oder der tägliche Lauf macht weiter.")
    return 0


def read_import(what: str, path: str) -> Any:
    """Read and check the TOML file of ``kuemmerer umfrage|definition import``; a file with
    errors is reported line by line (German, for the network's operator).

    Returns:
        The template or definition, or ``None`` when the file cannot be used.
    """
    from bot.services.survey_template import FormatError, load_definition, load_template

    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: cannot read the file ({_one_line(exc)})")
        return None
    name = Path(path).name
    try:
        return load_template(source, name=name) if what == "umfrage" else load_definition(source, name=name)
    except FormatError as exc:
        print(f"kuemmerer: {path}: nicht importiert, {len(exc.problems)} Fehler:", file=sys.stderr)
        for line in str(exc).splitlines():
            print(f"  {line}", file=sys.stderr)
        return None


async def import_file(config: Config, what: str, loaded: Any, name: str) -> int:
    """Store what :func:`read_import` read: a template (replacing one with its key for future
    surveys) or a definition (a new version unless it equals a stored one)."""
    from bot.core.ports import SystemClock
    from bot.services import Services

    database = await open_database(config)
    try:
        await database.upgrade()
        async with database.transaction() as session:
            surveys = Services(session, SystemClock()).surveys
            if what == "umfrage":
                replaced = await surveys.import_template(loaded, source=name)
                verb = "replaced (running surveys keep the earlier one)" if replaced else "imported"
                print(f"survey template {loaded.key} {verb}: /umfrage starten {loaded.key}")
            else:
                row, new = await surveys.add_definition(loaded, source=name)
                if new:
                    print(f"definition version {row.version} stored (new surveys use it)")
                else:
                    print(f"definition unchanged: the file equals version {row.version}")
    finally:
        await database.dispose()
    return 0


async def serve(config: Config, adapters: Sequence[str], **console_options: object) -> int:
    """Run the application with the given adapters in this one event loop until they finish.

    Args:
        config: Validated configuration.
        adapters: Adapter names to start.
        **console_options: Passed to the console adapter (``script``).

    Returns:
        The process exit status.

    Raises:
        StartupError: The database, an adapter or the reopen guard cannot start; whatever
            started before is stopped again.
    """
    from bot.adapters import load_adapter
    from bot.app import Application
    from bot.core.ports import SystemClock, TravelClock
    from bot.services.embeddings import load_embedder
    from bot.services.reopen import ReopenGuard

    try:
        guard = ReopenGuard(load_embedder(config.bot.reopen_embedder))
    except ValueError as exc:
        raise StartupError(f"[bot] reopen_embedder: {exc}", status=EXIT_CONFIG) from None
    database = await open_database(config)
    # The console may travel in time (``:zeit``); the platforms run on the wall clock.
    clock = TravelClock() if list(adapters) == ["console"] else SystemClock()
    app = Application(
        database,
        clock=clock,
        language=config.bot.language,
        timezone=config.bot.timezone,
        options={
            "reopen.guard": guard,
            "scheduler.grace": config.scheduler.grace_period,
            "datenschutz": config.datenschutz,
            "datenschutz.timezone": config.bot.timezone,
        },
    )
    started = []
    try:
        await app.start()
        loaded = []
        for name in adapters:
            options = console_options if name == "console" else {}
            try:
                loaded.append(load_adapter(name, app, config, **options))
            except ModuleNotFoundError as exc:
                raise StartupError(
                    f"the {name} adapter cannot be loaded: {exc}", status=EXIT_CONFIG
                ) from None
        for adapter in loaded:
            await adapter.start()
            started.append(adapter)
        # Deliver what an earlier run left unsent, now that every messenger is connected, and start
        # the components (the reopen guard loads its model in a thread while the adapters answer).
        await app.resume()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        waiters = [asyncio.create_task(a.wait_closed()) for a in started]
        stopper = asyncio.create_task(stop.wait())
        # The first adapter to finish (the console at end of input) or a signal ends the run.
        await asyncio.wait([*waiters, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in (*waiters, stopper):
            task.cancel()
        await asyncio.gather(*waiters, stopper, return_exceptions=True)
        return 0
    finally:
        # Also after a failed start: adapters already running must let go of their connections.
        for adapter in reversed(started):
            await adapter.stop()
        await app.stop()
        await database.dispose()
