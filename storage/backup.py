"""Consistent backups of the database and their restore (``kuemmerer backup`` / ``restore``).

SQLite is copied with SQLite's online backup API (``sqlite3.Connection.backup``): one step under
one read transaction, so the copy is a consistent snapshot even while the bot writes (WAL lets it
go on meanwhile). PostgreSQL is saved with ``pg_dump --format=custom`` and restored with
``pg_restore --clean --if-exists --no-owner``, the commands PostgreSQL documents for this; the
connection comes from the configured URL, the password through ``PGPASSWORD`` (never on a command
line, where ``ps`` shows it to every user of the machine).

Secrets stay out of a backup unless asked for (``with_secrets``). What the database holds:

* ``platform_state`` rows whose key ends in ``:access_token``: the Matrix adapter keeps the token
  its password login returned there (``matrix:<user id>:access_token``). Without it the bot logs
  in again with the configured password after a restore.
* ``outbox`` rows with ``secret`` set that are still pending: their payload carries a link code in
  plain text until it is delivered (finished rows are already redacted).

The Telegram token, the webhook secret and the Matrix password live only in the configuration or
the environment, and the Matrix e2e store (its keys, pickled with nio's fixed pickle key) lives in
its own directory (``[matrix] store_path``): none of them is ever part of a backup.

How they are left out differs, because ``pg_dump`` cannot filter rows:

* SQLite: in the copy, the token rows are deleted and pending secret messages are marked failed
  with the redacted payload (as delivery would have left them), with ``secure_delete`` on and a
  ``VACUUM`` afterwards, so no free page of the file keeps the old bytes.
* PostgreSQL: the dump holds the structure of ``platform_state`` and ``outbox`` but none of their
  rows (``--exclude-table-data``). Both are operational state (sync positions, handled events,
  the message queue), not the AGs' data; after a restore the adapters start as on a first run.

Polls and surveys keep their per-poll hash keys (``polls.secret``, ``surveys.secret``): a running
anonymous poll needs its key to count one vote per person after a restore. They are not
credentials, but a backup is personal data like the database itself (files are written ``0600``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from storage.engine import Database, alembic_config, normalise_url
from storage.models import REDACTED_PAYLOAD, Base, OutboxStatus

# platform_state keys ending in one of these hold a credential (see the module docstring).
SECRET_STATE_SUFFIXES = (":access_token",)
# Tables whose rows a PostgreSQL backup without secrets leaves out (pg_dump filters tables only).
SECRET_TABLES = ("platform_state", "outbox")
# pg_restore in one transaction: a failure leaves the database as it was.
_RESTORE_OPTIONS = ("--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction")
# What a pending secret message is marked with in a backup without secrets.
NOT_BACKED_UP = "not in the backup: the message carried a secret (a link code)"
# Kept next to the restored SQLite file: the database as it was before the restore.
KEPT_SUFFIX = ".vor-restore"

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why and what to do, in one line.

    Args:
        message: For the operator; no secrets.
        unavailable: A service failed (PostgreSQL unreachable, ``pg_dump`` failed) rather than
            something the operator must change (a wrong file, a missing tool).
    """

    def __init__(self, message: str, *, unavailable: bool = False) -> None:
        super().__init__(message)
        self.unavailable = unavailable


class ToolMissing(BackupError):
    """``pg_dump`` or ``pg_restore`` is not installed; :attr:`command` is what to run by hand."""

    def __init__(self, tool: str, command: str) -> None:
        super().__init__(
            f"{tool} not found: install the PostgreSQL client tools (e.g. apt install "
            "postgresql-client, the same major version as the server) or run the command by hand"
        )
        self.tool = tool
        self.command = command


class Revision(enum.Enum):
    """How a backup's schema revision relates to the code's newest migration."""

    SAME = "same"
    OLDER = "older"  # restorable; ``kuemmerer db upgrade`` (or the next start) migrates it
    UNKNOWN = "unknown"  # newer than this code, or not one of its migrations: refused


@dataclass(frozen=True)
class BackupReport:
    """What :func:`backup` wrote.

    Attributes:
        path: The backup file.
        backend: ``"sqlite"`` or ``"postgresql"``.
        revision: The schema revision (Alembic) of the saved database.
        with_secrets: Whether secrets were kept.
        left_out: What was left out, one phrase each (empty with secrets kept, or when the
            database held none).
    """

    path: Path
    backend: str
    revision: str
    with_secrets: bool
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file is, read before anything is changed."""

    path: Path
    backend: str
    revision: str
    relation: Revision
    head: str


@dataclass(frozen=True)
class RestoreReport:
    """What :func:`restore` did.

    Attributes:
        info: The restored backup.
        kept: The SQLite file as it was before (``None`` for PostgreSQL or a new database).
        stored_tokens: Access tokens in the restored database; 0 means the Matrix adapter must
            log in again (it does so with the configured password).
    """

    info: BackupInfo
    kept: Path | None
    stored_tokens: int


# Revisions ---------------------------------------------------------------------------------------


def head_revision() -> str:
    """The newest migration of this code."""
    head = _scripts().get_current_head()
    assert head is not None, "the bundled migrations have one head"
    return head


def compare_revision(revision: str) -> Revision:
    """How ``revision`` relates to this code's head (the history is linear)."""
    scripts = _scripts()
    if revision == scripts.get_current_head():
        return Revision.SAME
    # Exact ids only: get_revision() would also resolve prefixes and names like "heads".
    known = any(script.revision == revision for script in scripts.walk_revisions())
    return Revision.OLDER if known else Revision.UNKNOWN


def _scripts() -> ScriptDirectory:
    # The URL is not used to read the scripts; any will do.
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _check(info: BackupInfo) -> BackupInfo:
    if info.relation is Revision.UNKNOWN:
        raise BackupError(
            f"{info.path} has schema revision {info.revision}, which this version of Kümmerer does "
            f"not know (its newest is {info.head}): it was made by a newer version; update "
            "Kümmerer before restoring it"
        )
    return info


def backend_of(url: str) -> str:
    """``"sqlite"`` or ``"postgresql"`` for a database URL."""
    return make_url(normalise_url(url)).get_backend_name()


# The public operations -----------------------------------------------------------------------------


async def backup(url: str, path: str | Path, *, with_secrets: bool = False) -> BackupReport:
    """Write a consistent backup of the database at ``url`` to ``path`` (replaced atomically).

    Raises:
        BackupError: The database or the tools cannot be used (:class:`ToolMissing`: no
            ``pg_dump``).
    """
    if backend_of(url) == "sqlite":
        return await asyncio.to_thread(backup_sqlite, url, Path(path), with_secrets=with_secrets)
    return await asyncio.to_thread(backup_postgresql, url, Path(path), with_secrets=with_secrets)


async def inspect(url: str, path: str | Path) -> BackupInfo:
    """Read a backup's kind and schema revision, for the confirmation before :func:`restore`.

    Raises:
        BackupError: The file is missing, is not a backup for this kind of database, or has a
            schema revision this code does not know.
    """
    return await asyncio.to_thread(_inspect, url, Path(path))


async def restore(url: str, path: str | Path) -> RestoreReport:
    """Replace the database at ``url`` with the backup ``path``; the bot must not run meanwhile.

    SQLite: the backup is copied next to the database file and renamed over it (atomically); the
    file as it was is kept beside it (``<name>.vor-restore-<time>``). PostgreSQL: ``pg_restore``
    in one transaction, so a failure leaves the database as it was.

    Raises:
        BackupError: As :func:`inspect`; also when the SQLite file is in use by a running bot,
            or ``pg_restore`` fails (:class:`ToolMissing`: it is not installed).
    """
    info = await inspect(url, path)
    if info.backend == "sqlite":
        kept = await asyncio.to_thread(_restore_sqlite, url, info)
        tokens = await asyncio.to_thread(_sqlite_tokens, _sqlite_path(url))
        return RestoreReport(info, kept, tokens)
    return await _restore_postgresql(url, info)


def _inspect(url: str, path: Path) -> BackupInfo:
    try:
        with path.open("rb") as file:
            magic = file.read(16)
    except OSError as exc:
        raise BackupError(f"cannot read {path} ({exc.strerror or exc})") from None
    backend = backend_of(url)
    found = "sqlite" if magic == SQLITE_MAGIC else "postgresql" if magic.startswith(PGDUMP_MAGIC) else None
    if found is None:
        raise BackupError(f"{path} is not a Kümmerer backup (neither an SQLite file nor a pg_dump archive)")
    if backend == "sqlite" and path.resolve() == _sqlite_path(url).resolve():
        raise BackupError(f"{path} is the configured database itself, not a backup of it")
    if found != backend:
        raise BackupError(
            f"{path} is a backup of an {_NAMES[found]} database, but the configured database is "
            f"{_NAMES[backend]}; a backup is restored into the same kind of database"
        )
    if backend == "postgresql" and shutil.which("pg_restore") is None:
        command = _by_hand(url, "pg_restore", [*_RESTORE_OPTIONS, *_pg_connection(url)[0], str(path)])
        raise ToolMissing("pg_restore", command)
    revision = _sqlite_revision(path) if backend == "sqlite" else _dump_revision(path)
    head = head_revision()
    return _check(BackupInfo(path, backend, revision, compare_revision(revision), head))


_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


# SQLite ------------------------------------------------------------------------------------------------


def backup_sqlite(url: str, path: Path, *, with_secrets: bool = False) -> BackupReport:
    """Copy the SQLite database with the online backup API, then drop the secrets from the copy.

    The copy is a single file in rollback-journal mode (no ``-wal`` beside it), written to a
    temporary file next to ``path`` that replaces ``path`` only when complete.

    Raises:
        BackupError: The database file does not exist or is not a migrated Kümmerer database.
    """
    source = _sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"there is no SQLite database at {source}; check the configured database URL")
    if path.exists() and path.resolve() == source.resolve():
        raise BackupError(f"{path} is the database itself; name another file")
    with _temporary(path) as temporary:
        with (
            contextlib.closing(sqlite3.connect(source, timeout=30)) as live,
            contextlib.closing(sqlite3.connect(temporary)) as copy,
        ):
            # One step (pages=-1): the whole copy reads under one snapshot.
            live.backup(copy)
        with contextlib.closing(sqlite3.connect(temporary, isolation_level=None)) as copy:
            # The copy took over the live file's WAL mode; one self-contained file is wanted.
            copy.execute("PRAGMA journal_mode=DELETE")
            revision = _revision_of(copy, path)
            left_out = () if with_secrets else _scrub_sqlite(copy)
            _quick_check(copy, path)
        _replace(temporary, path)
    return BackupReport(path, "sqlite", revision, with_secrets, left_out)


def _scrub_sqlite(copy: sqlite3.Connection) -> tuple[str, ...]:
    """Remove the secrets from a copy (autocommit connection); returns what was left out."""
    # Deleted or overwritten bytes would otherwise stay in free pages of the file.
    copy.execute("PRAGMA secure_delete=ON")
    keys = [key for (key,) in copy.execute("SELECT key FROM platform_state") if _is_secret_key(key)]
    copy.execute("BEGIN")
    copy.executemany("DELETE FROM platform_state WHERE key = ?", [(key,) for key in keys])
    pending = copy.execute(
        "UPDATE outbox SET payload = ?, status = ?, error = ? WHERE secret AND status = ?",
        (json.dumps(REDACTED_PAYLOAD), OutboxStatus.FAILED.value, NOT_BACKED_UP, OutboxStatus.PENDING.value),
    ).rowcount
    copy.execute("COMMIT")
    # Rebuilds the file from the live rows only.
    copy.execute("VACUUM")
    counts = (
        (len(keys), "access token(s) (platform_state)"),
        (pending, "pending link-code message(s) (outbox)"),
    )
    return tuple(f"{count} {what}" for count, what in counts if count)


def _is_secret_key(key: str) -> bool:
    return key.endswith(SECRET_STATE_SUFFIXES)


def _restore_sqlite(url: str, info: BackupInfo) -> Path | None:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _temporary(target) as temporary:
        source = f"{info.path.resolve().as_uri()}?mode=ro"
        with (
            contextlib.closing(sqlite3.connect(source, uri=True)) as backup_file,
            contextlib.closing(sqlite3.connect(temporary)) as copy,
        ):
            backup_file.backup(copy)
        with contextlib.closing(sqlite3.connect(temporary, isolation_level=None)) as copy:
            # A copy of a live file (not made by ``kuemmerer backup``) may be in WAL mode.
            copy.execute("PRAGMA journal_mode=DELETE")
            _quick_check(copy, info.path)
        kept = None
        if target.exists():
            _release(target)
            # The restored file takes over the old one's mode and owner: the bot may run as
            # another user than the operator who restores.
            status = target.stat()
            os.chmod(temporary, status.st_mode & 0o777)
            with contextlib.suppress(OSError):  # only root may give a file away
                os.chown(temporary, status.st_uid, status.st_gid)
            kept = target.with_name(f"{target.name}{KEPT_SUFFIX}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            # A second name for the old file, so the database path never stands empty: the
            # rename below replaces it in one step.
            try:
                os.link(target, kept)
            except OSError:
                shutil.copy2(target, kept)
        _replace(temporary, target)
    return kept


def _release(target: Path) -> None:
    """Fold the database's WAL into its file, and refuse if another process has it open.

    SQLite removes ``-wal`` and ``-shm`` when the last connection closes; if they are still
    there after ours closed, another one (a running bot) is open, and replacing the file under
    it would lose its writes, or worse, let its WAL be applied to the restored file.
    """
    try:
        with contextlib.closing(sqlite3.connect(target, timeout=5, isolation_level=None)) as live:
            live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open the current database {target} ({exc})") from None
    in_use = [p.name for p in (Path(f"{target}-wal"), Path(f"{target}-shm")) if p.exists()]
    if in_use:
        raise BackupError(
            f"the database {target} is in use ({', '.join(in_use)} exist): stop the bot, then restore again"
        )


def _sqlite_revision(path: Path) -> str:
    # Read-only and immutable: looking at a backup must not change it (nor create a journal).
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            return _revision_of(conn, path)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be read as an SQLite database ({exc})") from None


def _revision_of(conn: sqlite3.Connection, path: Path) -> str:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        row = None
    if row is None:
        raise BackupError(f"{path} has no schema revision (alembic_version): not a Kümmerer database")
    return str(row[0])


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA quick_check").fetchone()
    if result is None or result[0] != "ok":
        raise BackupError(f"{path} is damaged (SQLite quick_check: {result[0] if result else '?'})")


def _sqlite_tokens(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        keys = [key for (key,) in conn.execute("SELECT key FROM platform_state")]
    return sum(1 for key in keys if _is_secret_key(key))


def _sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise BackupError("the configured SQLite database is in memory; there is nothing to back up")
    return Path(database)


# PostgreSQL -------------------------------------------------------------------------------------------


def backup_postgresql(url: str, path: Path, *, with_secrets: bool = False) -> BackupReport:
    """Run ``pg_dump --format=custom`` into a temporary file that then replaces ``path``.

    pg_dump reads everything in one repeatable-read transaction: a consistent snapshot while the
    bot runs.

    Raises:
        ToolMissing: ``pg_dump`` is not installed (the message names the command to run).
        BackupError: pg_dump failed (its message), or the result has no schema revision.
    """
    excluded = [] if with_secrets else [f"--exclude-table-data={table}" for table in SECRET_TABLES]
    connection, environment = _pg_connection(url)
    options = ["--format=custom", *excluded]
    tool = shutil.which("pg_dump")
    if tool is None:
        raise ToolMissing("pg_dump", _by_hand(url, "pg_dump", [*options, f"--file={path}", *connection]))
    with _temporary(path) as temporary:
        _run([tool, *options, f"--file={temporary}", *connection], environment, "pg_dump")
        revision = _dump_revision(temporary)
        _replace(temporary, path)
    left_out = () if with_secrets else tuple(f"the rows of {table}" for table in SECRET_TABLES)
    return BackupReport(path, "postgresql", revision, with_secrets, left_out)


async def _restore_postgresql(url: str, info: BackupInfo) -> RestoreReport:
    connection, environment = _pg_connection(url)
    tool = _tool("pg_restore")
    listing = await asyncio.to_thread(_run, [tool, "--list", str(info.path)], {}, "pg_restore")
    in_dump = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.MULTILINE))
    database = Database(url)
    try:
        await _drop_newer_tables(database, in_dump)
        restore_argv = [tool, *_RESTORE_OPTIONS, *connection, str(info.path)]
        await asyncio.to_thread(_run, restore_argv, environment, "pg_restore")
        await database.dispose()  # pooled connections cached statements of the dropped tables
        try:
            async with database.engine.connect() as conn:
                keys = (await conn.execute(text("SELECT key FROM platform_state"))).scalars().all()
        except (OSError, SQLAlchemyError) as exc:
            raise BackupError(
                f"PostgreSQL: cannot read the restored database ({exc})", unavailable=True
            ) from None
    finally:
        await database.dispose()
    return RestoreReport(info, None, sum(1 for key in keys if _is_secret_key(key)))


async def _drop_newer_tables(database: Database, in_dump: set[str]) -> None:
    """Drop the Kümmerer tables the dump does not have (a backup older than the database).

    ``pg_restore --clean`` only drops what the dump creates; a table a later migration added
    would stay, block the drop of the tables it references, and make ``db upgrade`` fail to
    create it again. It belongs to a newer schema than the one restored, so nothing is lost that
    the restore keeps.
    """
    extra = [table.name for table in Base.metadata.sorted_tables if table.name not in in_dump]
    if not extra:
        return
    # Outside pg_restore's transaction (it runs in its own session), so only when needed: the
    # checks before have passed, and these tables are gone in the restored state anyway.
    try:
        async with database.engine.begin() as conn:
            for name in extra:
                await conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    except (OSError, SQLAlchemyError) as exc:
        raise BackupError(f"PostgreSQL: cannot prepare the restore ({exc})", unavailable=True) from None


def _dump_revision(path: Path) -> str:
    """The schema revision in a pg_dump archive: the data of its ``alembic_version`` table."""
    tool = _tool("pg_restore")
    script = _run([tool, "--data-only", "--table=alembic_version", "--file=-", str(path)], {}, "pg_restore")
    # The data follows "COPY public.alembic_version (version_num) FROM stdin;" up to "\.".
    match = re.search(
        r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.+?)\n\\\.$", script, re.M | re.S
    )
    if match is None:
        raise BackupError(f"{path} has no schema revision (alembic_version): not a Kümmerer backup")
    return match.group(1).strip()


def _tool(name: str) -> str:
    # Callers have checked already and named the command to run by hand.
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(name, name)
    return path


def _pg_connection(url: str) -> tuple[list[str], dict[str, str]]:
    """Command-line options and environment of pg_dump/pg_restore for a database URL."""
    parsed: URL = make_url(normalise_url(url))
    options = []
    host = parsed.host or parsed.query.get("host")  # ?host=/run/postgresql: a Unix socket
    if isinstance(host, str) and host:
        options.append(f"--host={host}")
    if parsed.port:
        options.append(f"--port={parsed.port}")
    if parsed.username:
        options.append(f"--username={parsed.username}")
    options.append(f"--dbname={parsed.database or parsed.username or 'postgres'}")
    environment = {}
    if parsed.password:
        environment["PGPASSWORD"] = str(parsed.password)
    ssl = parsed.query.get("sslmode") or parsed.query.get("ssl")
    if isinstance(ssl, str) and ssl in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"):
        environment["PGSSLMODE"] = ssl
    return options, environment


def _by_hand(url: str, tool: str, arguments: Sequence[str]) -> str:
    """The command an operator can run instead, the password as a placeholder."""
    prefix = "PGPASSWORD='…' " if make_url(normalise_url(url)).password else ""
    return prefix + shlex.join([tool, *arguments])


def _run(argv: list[str], environment: dict[str, str], tool: str) -> str:
    """Run a PostgreSQL client tool; its output, or its last error line as a BackupError."""
    try:
        result = subprocess.run(
            argv,
            env={**os.environ, **environment},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise BackupError(f"{tool} cannot be started ({exc.strerror or exc})") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = " ".join(lines[-1].split()) if lines else f"exit status {result.returncode}"
        raise BackupError(f"{tool} failed: {reason}", unavailable=True)
    return result.stdout


# Files ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _temporary(path: Path):
    """A new, empty file next to ``path``, readable by its owner only; removed unless renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        # 0600: a backup holds every member's name and message; an empty file is a valid SQLite
        # database and pg_dump writes into it, keeping the mode.
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise BackupError(f"cannot write {path} ({exc.strerror or exc})") from None
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)


def _replace(temporary: Path, path: Path) -> None:
    """Rename a complete file over ``path``, durably (the data before the name)."""
    with temporary.open("rb") as file:
        os.fsync(file.fileno())
    os.replace(temporary, path)
    with contextlib.suppress(OSError):  # not every file system can sync a directory
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
