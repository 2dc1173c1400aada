"""Backup and restore (``storage.backup``) on both backends: a round trip gives identical query
results over every table, secrets stay out unless asked for, and a schema the code does not know
is refused before anything changes."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import make_url

from bot.core.events import ChatKind, ChatRef, Platform, UserRef
from bot.core.ports import ManualClock
from bot.services import Services
from storage import Database
from storage import backup as backups
from storage.engine import alembic_config
from storage.models import (
    REDACTED_PAYLOAD,
    Base,
    GoalStatus,
    OutboxMessage,
    OutboxStatus,
    Person,
    PlatformState,
)
from storage.repositories import OutboxRepository, StateRepository

TOKEN = "syt_Ym90_SECRETTOKENVALUE_1a2b3c"
CODE = "K7QX-2M9P"
TOKEN_KEY = "matrix:@kuemmerer:example.org:access_token"
NOT_SECRET = {
    "matrix:@kuemmerer:example.org:device_id": "KUEMMERERDEV",
    "matrix:@kuemmerer:example.org:next_batch": "s72594_4483_1934",
    "telegram:42:last_update_id": "1234",
}


async def populate(database: Database, clock: ManualClock) -> None:
    """An AG with members, goals and decisions in every state, adapter state with a Matrix access
    token, and outbox messages, one of them pending with a link code."""
    async with database.transaction() as session:
        services = Services(session, clock)
        chat = await services.groups.chat(ChatRef(Platform.CONSOLE, "c1", ChatKind.GROUP, "AG"))
        anna = await services.groups.person(UserRef(Platform.CONSOLE, "anna", "Anna", "anna"))
        ben = await services.groups.person(UserRef(Platform.CONSOLE, "ben", "Ben", None))
        group = await services.groups.create(chat, "AG Bildung", anna)
        await services.groups.seen(group, ben)
        await services.register.add_goal(group, "Zehn neue Lesepaten", anna)
        await services.register.add_goal(group, "Website überarbeiten", anna)
        await services.register.close_goal(group, 2, GoalStatus.ACHIEVED, anna)
        clock.advance(timedelta(hours=1))
        await services.register.record(group, "Wir treffen uns monatlich #treffen", anna)
        await services.register.replace(group, 1, "Wir treffen uns zweiwöchentlich #treffen", ben)
        await services.register.record(group, "Flyer drucken #öffentlichkeit", ben)
        await services.register.revoke(group, 3, "zu teuer", anna)
        now = clock.now()
        state = StateRepository(session)
        await state.set(TOKEN_KEY, TOKEN, now)
        for key, value in NOT_SECRET.items():
            await state.set(key, value, now)
        await OutboxRepository(session).add_all(
            [
                outbox_message(f"/ag verknuepfen {CODE}", now, secret=True),
                outbox_message("Beschluss Nr. 1 festgehalten", now),
            ]
        )


def outbox_message(line: str, at: Any, *, secret: bool = False) -> OutboxMessage:
    return OutboxMessage(
        platform="console",
        chat_id="c1",
        chat_kind="group",
        payload={"markup": [{"s": [{"t": line}]}]},
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=at,
        sent_at=None,
        external_id=None,
        error=None,
        secret=secret,
        source=None,
        tag=None,
    )


async def snapshot(database: Database) -> dict[str, list[tuple]]:
    """Every row of every table (and the schema revision), in primary-key order."""
    result = {}
    async with database.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            result[table.name] = [tuple(row) for row in (await conn.execute(query)).all()]
        revision = await conn.execute(text("SELECT version_num FROM alembic_version"))
        result["alembic_version"] = [tuple(row) for row in revision.all()]
    return result


async def change_everything(database: Database, clock: ManualClock) -> None:
    """What happens after a backup: new rows, changed rows, deleted rows."""
    async with database.transaction() as session:
        services = Services(session, clock)
        group = await services.groups.group_of(
            await services.groups.chat(ChatRef(Platform.CONSOLE, "c1", ChatKind.GROUP))
        )
        anna = await services.groups.person(UserRef(Platform.CONSOLE, "anna", "Anna", "anna"))
        await services.register.record(group, "Nach der Sicherung beschlossen", anna)
        await services.register.revoke(group, 2, "versehentlich aufgehoben", anna)
        await session.execute(update(Person).values(display_name="Umbenannt"))
        await session.execute(delete(PlatformState))
        await session.execute(delete(OutboxMessage))


@pytest.fixture
def url(database: Database) -> str:
    return database.url


async def test_round_trip_gives_identical_query_results(
    database: Database, clock: ManualClock, url: str, tmp_path: Path
) -> None:
    await populate(database, clock)
    before = await snapshot(database)
    report = await backups.backup(url, tmp_path / "sicherung", with_secrets=True)
    assert report.revision == backups.head_revision() and report.with_secrets and not report.left_out
    assert stat.S_IMODE((tmp_path / "sicherung").stat().st_mode) == 0o600
    await change_everything(database, clock)
    assert await snapshot(database) != before
    # The bot is stopped before a restore: no connection of it stays open.
    await database.dispose()
    restored = await backups.restore(url, tmp_path / "sicherung")
    assert await snapshot(database) == before
    assert restored.info.relation is backups.Revision.SAME
    assert restored.stored_tokens == 1
    if database.is_sqlite:
        # The database as it was before the restore is kept beside it, complete.
        assert restored.kept is not None and restored.kept.name.startswith("kuemmerer.sqlite3.vor-restore-")
        with sqlite3.connect(restored.kept) as conn:
            texts = {text for (text,) in conn.execute("SELECT text FROM decisions")}
        assert "Nach der Sicherung beschlossen" in texts
    else:
        assert restored.kept is None
    # The restored database works on: services read and write it.
    async with database.transaction() as session:
        services = Services(session, clock)
        group = await services.groups.group_of(
            await services.groups.chat(ChatRef(Platform.CONSOLE, "c1", ChatKind.GROUP))
        )
        anna = await services.groups.person(UserRef(Platform.CONSOLE, "anna", "Anna", "anna"))
        assert (await services.register.record(group, "Danach", anna)).number == 4


async def test_secrets_are_left_out_by_default_and_kept_when_asked(
    database: Database, clock: ManualClock, url: str, tmp_path: Path
) -> None:
    await populate(database, clock)
    before = await snapshot(database)
    plain = await backups.backup(url, tmp_path / "ohne")
    assert not plain.with_secrets and plain.left_out
    with_secrets = await backups.backup(url, tmp_path / "mit", with_secrets=True)
    assert TOKEN in backup_text(database, with_secrets.path)
    assert CODE in backup_text(database, with_secrets.path)
    content = backup_text(database, plain.path)
    assert TOKEN not in content and CODE not in content
    await database.dispose()
    restored = await backups.restore(url, plain.path)
    assert restored.stored_tokens == 0
    after = await snapshot(database)
    # The AGs' data is complete; only the two tables that hold secrets differ.
    for table in before.keys() - {"platform_state", "outbox"}:
        assert after[table] == before[table], table
    async with database.transaction() as session:
        state = StateRepository(session)
        assert await state.get(TOKEN_KEY) is None
        messages = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        kept_state = {key: await state.get(key) for key in NOT_SECRET}
    if database.is_sqlite:
        # Exactly the secrets are gone: the other state stays, the pending link code is marked
        # failed with the redacted payload, as its delivery would have left it.
        assert kept_state == NOT_SECRET
        assert [(m.status, m.payload, m.secret) for m in messages] == [
            (OutboxStatus.FAILED, REDACTED_PAYLOAD, True),
            (OutboxStatus.PENDING, {"markup": [{"s": [{"t": "Beschluss Nr. 1 festgehalten"}]}]}, False),
        ]
        assert messages[0].error == backups.NOT_BACKED_UP
    else:
        # pg_dump filters tables, not rows: both tables come back empty.
        assert set(kept_state.values()) == {None} and messages == []
    await database.dispose()
    assert (await backups.restore(url, with_secrets.path)).stored_tokens == 1
    assert await snapshot(database) == before


def backup_text(database: Database, path: Path) -> str:
    """What a reader of the backup file can see: the raw bytes of an SQLite file (free pages
    included), the SQL a pg_dump archive holds (its data is compressed)."""
    if database.is_sqlite:
        return path.read_bytes().decode("latin-1")
    return subprocess.run(
        [shutil.which("pg_restore") or "pg_restore", "--file=-", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


async def test_a_backup_of_a_newer_schema_is_refused_before_anything_changes(
    database: Database, clock: ManualClock, url: str, tmp_path: Path
) -> None:
    await populate(database, clock)
    before = await snapshot(database)
    path = tmp_path / "neuer"
    if database.is_sqlite:
        await backups.backup(url, path)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.close()
    else:
        # pg_dump saves what the database holds: let it hold a revision from the future.
        await set_revision(database, "9999")
        try:
            await backups.backup(url, path)
        finally:
            await set_revision(database, backups.head_revision())
    await database.dispose()
    with pytest.raises(backups.BackupError, match="revision 9999.*newer version"):
        await backups.restore(url, path)
    assert await snapshot(database) == before
    if database.is_sqlite:
        assert leftovers(url) == []


async def set_revision(database: Database, revision: str) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def leftovers(url: str) -> list[str]:
    """Files a restore left beside the SQLite database: kept old files, temporary copies."""
    directory = Path(make_url(url).database or "").parent
    return sorted(p.name for p in directory.iterdir() if ".vor-restore-" in p.name or p.suffix == ".tmp")


async def test_an_older_schema_is_restored_and_upgrade_is_offered(
    database: Database, clock: ManualClock, url: str, tmp_path: Path
) -> None:
    await populate(database, clock)
    # Back to a schema before reopen_embeddings existed (0015 adds it): the backup's schema is
    # older, and the live database, upgraded again, has a table the backup lacks.
    await migrate(database, OLD_REVISION)
    try:
        saved = await snapshot_of(database, "decisions")
        await backups.backup(url, tmp_path / "alt")
    finally:
        await database.upgrade()  # the PostgreSQL test database is shared with later tests
    async with database.engine.begin() as conn:
        await conn.execute(text("DELETE FROM decision_tags"))
        await conn.execute(text("DELETE FROM decisions"))
    await database.dispose()
    info = await backups.inspect(url, tmp_path / "alt")
    assert (info.revision, info.relation, info.head) == (OLD_REVISION, backups.Revision.OLDER, HEAD)
    try:
        await backups.restore(url, tmp_path / "alt")
        assert (await snapshot_of(database, "alembic_version")) == [(OLD_REVISION,)]
    finally:
        await database.upgrade()
    assert (await snapshot_of(database, "alembic_version")) == [(HEAD,)]
    assert await snapshot_of(database, "decisions") == saved and len(saved) == 3


OLD_REVISION = "0014"
HEAD = backups.head_revision()


async def migrate(database: Database, revision: str) -> None:
    """Downgrade the database to ``revision``."""

    def down(connection: Any) -> None:
        config = alembic_config(database.url)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with database.engine.begin() as conn:
        if database.is_sqlite:
            # A downgrade that rebuilds a table (batch mode) drops the old one; with foreign keys
            # on, SQLite would cascade that to every row referring to it. Before the first write
            # of the transaction, so the pragma takes effect.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        await conn.run_sync(down)
    await database.dispose()  # no connection with foreign keys off goes back to the pool


async def snapshot_of(database: Database, table: str) -> list[tuple]:
    async with database.engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(text(f"SELECT * FROM {table}"))).all()]


def test_revisions_are_compared_exactly() -> None:
    head = backups.head_revision()
    assert backups.compare_revision(head) is backups.Revision.SAME
    assert backups.compare_revision("0001") is backups.Revision.OLDER
    for unknown in ("9999", "heads", "base", "00", ""):
        assert backups.compare_revision(unknown) is backups.Revision.UNKNOWN, unknown


async def test_sqlite_restore_refuses_a_database_in_use(
    database: Database, clock: ManualClock, url: str, tmp_path: Path
) -> None:
    if not database.is_sqlite:
        pytest.skip("PostgreSQL restores in a transaction of its own")
    await populate(database, clock)
    await backups.backup(url, tmp_path / "sicherung")
    before = await snapshot(database)
    # The engine keeps its connection in the pool, as a running bot does.
    with pytest.raises(backups.BackupError, match="in use.*stop the bot"):
        await backups.restore(url, tmp_path / "sicherung")
    assert await snapshot(database) == before
    assert leftovers(url) == []


async def test_files_that_are_not_backups_are_refused(database: Database, url: str, tmp_path: Path) -> None:
    text_file = tmp_path / "notiz.txt"
    text_file.write_text("keine Sicherung", encoding="utf-8")
    with pytest.raises(backups.BackupError, match="not a Kümmerer backup"):
        await backups.inspect(url, text_file)
    with pytest.raises(backups.BackupError, match="cannot read"):
        await backups.inspect(url, tmp_path / "fehlt")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    expected = "no schema revision" if database.is_sqlite else "SQLite database, but the configured"
    with pytest.raises(backups.BackupError, match=expected):
        await backups.inspect(url, other)


def test_missing_pg_dump_names_the_command_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backups.shutil, "which", lambda _name: None)
    url = "postgresql://kuemmerer:pg-secret@db.example.org:5433/kuemmerer"
    with pytest.raises(backups.ToolMissing) as missing:
        backups.backup_postgresql(url, tmp_path / "k.dump")
    command = missing.value.command
    assert "pg-secret" not in command and "pg-secret" not in str(missing.value)
    assert command.startswith("PGPASSWORD='…' pg_dump --format=custom ")
    for part in (
        "--exclude-table-data=platform_state",
        "--exclude-table-data=outbox",
        "--host=db.example.org",
        "--port=5433",
        "--username=kuemmerer",
        "--dbname=kuemmerer",
    ):
        assert part in command
    assert not list(tmp_path.iterdir())


def test_the_password_reaches_pg_dump_only_through_the_environment() -> None:
    options, environment = backups._pg_connection("postgresql://u:p%40ss@h/d?sslmode=require")
    assert options == ["--host=h", "--username=u", "--dbname=d"]
    assert environment == {"PGPASSWORD": "p@ss", "PGSSLMODE": "require"}
