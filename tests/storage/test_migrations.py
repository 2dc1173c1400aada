"""Schema comes only from Alembic: an upgraded empty database must equal the models."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage import Database
from storage.engine import MIGRATIONS_DIR, alembic_config
from storage.models import Base


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_upgraded_schema_matches_models(database: Database) -> None:
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_every_model_table_exists(database: Database) -> None:
    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_upgrade_is_idempotent(database: Database) -> None:
    await database.upgrade()
    await database.upgrade()
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def test_revisions_form_one_line_with_date_prefixed_files() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = script.get_heads()
    assert len(heads) == 1, f"branches in migration history: {heads}"
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        year, month, day = path.name.split("_")[:3]
        assert len(year) == 4 and len(month) == 2 and len(day) == 2, path.name


async def test_0007_scrubs_link_codes_from_existing_outbox_rows(tmp_path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    await database.upgrade("0006")
    code = '{"markup": [{"s": [{"t": "/ag verknuepfen K7QX-2M9P", "c": 1}]}]}'
    other = '{"markup": [{"s": [{"t": "Beschluss Nr. 1 festgehalten"}]}]}'
    async with database.engine.begin() as conn:
        for status, payload in (("sent", code), ("failed", code), ("pending", code), ("sent", other)):
            await conn.execute(
                text(
                    "INSERT INTO outbox (platform, chat_id, chat_kind, payload, status, attempts, created_at)"
                    " VALUES ('console', 'ag', 'group', :payload, :status, 0, '2026-11-30 10:00:00')"
                ),
                {"payload": payload, "status": status},
            )
    await database.upgrade()
    async with database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT status, payload, secret FROM outbox ORDER BY id"))).all()
    await database.dispose()
    redacted = '{"markup": [], "redacted": 1}'
    assert [(s, json.loads(p), bool(secret)) for s, p, secret in rows] == [
        ("sent", json.loads(redacted), False),
        ("failed", json.loads(redacted), False),
        ("pending", json.loads(code), True),  # still to be delivered in full, then redacted
        ("sent", json.loads(other), False),
    ]
