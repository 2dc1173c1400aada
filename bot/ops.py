"""Operator commands: ``kuemmerer backup``, ``restore`` and ``export-ag`` (README: "Sicherung und
Wiederherstellung").

The work is done by :mod:`storage.backup` and :mod:`bot.services.register_export`; this module
turns their results into the few lines an operator reads and into exit statuses as the rest of
the command line uses them (2: something to change or confirm, 1: a service failed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import _fail, open_database
from bot.config import Config
from bot.core.startup import EXIT_CONFIG, EXIT_UNAVAILABLE
from storage import backup as backups

if TYPE_CHECKING:
    from bot.services.register_export import RegisterExport

# Answers that confirm a restore (German first: the prompt offers "ja").
YES = frozenset({"j", "ja", "y", "yes"})


def run(command: str, config: Config, args: argparse.Namespace) -> int:
    """Run one operator command; returns the exit status.

    Raises:
        StartupError: The database cannot be opened (``export-ag``).
    """
    if command == "export-ag":
        return export_group(config, args.group, form=args.format, out=args.out)
    try:
        if command == "backup":
            return backup(config, args.file, with_secrets=args.with_secrets)
        return restore(config, args.file, confirmed=args.yes)
    except backups.ToolMissing as exc:
        _fail(str(exc))
        print(f"  {exc.command}", file=sys.stderr)
        return EXIT_CONFIG
    except backups.BackupError as exc:
        _fail(str(exc))
        return EXIT_UNAVAILABLE if exc.unavailable else EXIT_CONFIG


def backup(config: Config, file: str, *, with_secrets: bool) -> int:
    """``kuemmerer backup DATEI [--mit-geheimnissen]``: a consistent copy of the database.

    Raises:
        BackupError: The database or the backup tools cannot be used.
    """
    report = asyncio.run(backups.backup(config.storage.url, file, with_secrets=with_secrets))
    print(f"backup written to {report.path} ({_NAMES[report.backend]}, schema revision {report.revision})")
    if report.with_secrets:
        print(
            "it includes the secrets stored in the database (Matrix access token, pending link "
            "codes): keep it encrypted"
        )
    elif report.left_out:
        print(f"secrets left out: {', '.join(report.left_out)} (--mit-geheimnissen keeps them)")
    else:
        print("the database held no secrets to leave out")
    # Written 0600: say why, so nobody widens it carelessly.
    print("the file holds the personal data of every AG: keep it as safe as the database")
    return 0


def restore(config: Config, file: str, *, confirmed: bool) -> int:
    """``kuemmerer restore DATEI [--ja]``: replace the database with a backup.

    Asks on a terminal unless ``--ja`` was given; without a terminal ``--ja`` is required. The
    file is checked (kind of database, schema revision) before the question.

    Raises:
        BackupError: The file cannot be restored (not a backup, a newer schema, the database in
            use, pg_restore failed).
    """
    url = config.storage.url
    info = asyncio.run(backups.inspect(url, file))
    if not confirmed:
        if not sys.stdin.isatty():
            _fail("restore replaces the whole database; add --ja to confirm it")
            return EXIT_CONFIG
        question = (
            f"Replace the whole {_NAMES[info.backend]} database ({config.origin('storage', 'url')}) "
            f"with {info.path} (schema revision {info.revision})? Stop the bot first. [ja/nein] "
        )
        if input(question).strip().casefold() not in YES:
            print("nothing restored")
            return EXIT_CONFIG
    report = asyncio.run(backups.restore(url, file))
    print(f"database restored from {info.path} (schema revision {info.revision})")
    if report.kept is not None:
        print(f"the previous database is kept as {report.kept}")
    if info.relation is backups.Revision.OLDER:
        print(
            f"the backup's schema is older than this version's ({info.head}): run `kuemmerer db "
            "upgrade` (the bot also migrates at every start)"
        )
    if report.stored_tokens == 0 and not config.matrix.access_token:
        print(
            "no Matrix access token in the backup: if the bot uses Matrix, it logs in again with "
            "[matrix] password at its next start (or set [matrix] access_token)"
        )
    return 0


def export_group(config: Config, query: str, *, form: str | None, out: str | None) -> int:
    """``kuemmerer export-ag AG [--format md|json] [--out DATEI]``: an AG's register.

    The format follows ``--format``, else the extension of ``--out`` (``.json``), else Markdown;
    without ``--out`` the document goes to stdout.

    Raises:
        StartupError: The database cannot be opened.
    """
    from bot.services.register_export import GroupNotFound

    form = form or ("json" if out and Path(out).suffix.casefold() == ".json" else "md")
    try:
        export = asyncio.run(_export(config, query))
    except GroupNotFound as exc:
        _fail(str(exc))
        return EXIT_CONFIG
    document = export.json if form == "json" else export.markdown
    if out is None:
        sys.stdout.write(document)
        return 0
    try:
        Path(out).write_text(document, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {out} ({exc.strerror or exc})")
        return EXIT_CONFIG
    goals, decisions = len(export.data["goals"]), len(export.data["decisions"])
    print(f"register of {export.group_name} written to {out} ({goals} goals, {decisions} decisions)")
    return 0


async def _export(config: Config, query: str) -> RegisterExport:
    from bot.services.register_export import export_register, find_group

    database = await open_database(config)
    try:
        # As the bot's start does: an older database (a restored backup) gets the current schema.
        await database.upgrade()
        async with database.transaction() as session:
            group = await find_group(session, query)
            return await export_register(session, group.id)
    finally:
        await database.dispose()


_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
