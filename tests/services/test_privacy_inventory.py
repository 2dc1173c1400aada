"""The data-protection inventory lists every table and column of the models, and the document is current.

The inventory (``bot/services/privacy_tables.py``) is compared with ``storage.models.Base.metadata``:
a new table or column fails here until it is described there and ``docs/datenschutz.md`` is
regenerated. The checks are functions of a metadata and an inventory, so they are also run on
made-up ones to show that they do fail.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import fields, replace
from pathlib import Path

import pytest
from sqlalchemy import Column as SAColumn
from sqlalchemy import ForeignKey, Integer, MetaData, String
from sqlalchemy import Table as SATable

from bot.config import DatenschutzSection
from bot.services.personal_data import SECTIONS
from bot.services.privacy_inventory import (
    LOG_LINES,
    PERIOD_MEANINGS,
    REGENERATE,
    TABLES,
    Column,
    Table,
    german_duration,
    notice_items,
    period_texts,
    render_markdown,
)
from storage.models import Base
from storage.repositories.personal_data import SOURCES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "datenschutz.md"
INVENTORY = "bot/services/privacy_tables.py (rendered by bot/services/privacy_inventory.py)"
FIX = f"add it to {INVENTORY} and regenerate the doc: {REGENERATE}"
# Columns that name a person without a foreign key to people.id (e.g. a hash standing for one).
PERSON_NAME = re.compile(r"^(person|actor|author|owner|sender|voter)_(id|key)$|_by_id$")


def inventory_problems(metadata: MetaData, tables: Iterable[Table]) -> list[str]:
    """Every difference between the models' tables and columns and the inventory, one line each."""
    tables = list(tables)
    problems = []
    names = [t.name for t in tables]
    problems += [
        f"table {n} is listed twice in {INVENTORY}" for n in sorted(set(names)) if names.count(n) > 1
    ]
    listed = {t.name: t for t in tables}
    problems += [
        f"table {n} is missing from the inventory; {FIX}" for n in sorted(set(metadata.tables) - set(listed))
    ]
    problems += [
        f"table {n} is in the inventory but not in the models; remove it from {INVENTORY} and "
        f"regenerate the doc: {REGENERATE}"
        for n in sorted(set(listed) - set(metadata.tables))
    ]
    for name in sorted(set(listed) & set(metadata.tables)):
        described = [c.name for c in listed[name].columns]
        model = set(metadata.tables[name].columns.keys())
        problems += [
            f"column {name}.{c} is listed twice" for c in sorted(set(described)) if described.count(c) > 1
        ]
        problems += [
            f"column {name}.{c} is missing from the inventory; {FIX}" for c in sorted(model - set(described))
        ]
        problems += [
            f"column {name}.{c} is in the inventory but not in the model; remove it from {INVENTORY} "
            f"and regenerate the doc: {REGENERATE}"
            for c in sorted(set(described) - model)
        ]
    return problems


def person_columns(table: SATable) -> set[str]:
    """The columns that point to a person: a foreign key to people.id, or a person-like name."""
    return {
        column.name
        for column in table.columns
        if any(fk.target_fullname == "people.id" for fk in column.foreign_keys)
        or PERSON_NAME.search(column.name)
    }


def unmarked_person_columns(metadata: MetaData, tables: Iterable[Table]) -> list[str]:
    """``table.column`` of every person-pointing column the inventory does not mark personal."""
    personal = {(t.name, c.name) for t in tables for c in t.columns if c.personal}
    return sorted(
        f"{table.name}.{name}"
        for table in metadata.tables.values()
        for name in person_columns(table)
        if (table.name, name) not in personal
    )


def made_up(name: str, *columns: Column) -> Table:
    """An inventory entry for a made-up table."""
    return Table(name, name, "…", "…", "…", "…", "…", "…", "…", columns)


def copy_of_models() -> MetaData:
    """A throwaway copy of the models' metadata that a test may change."""
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    return metadata


# --------------------------------------------------------------------------------------------
# The inventory against the models
# --------------------------------------------------------------------------------------------


def test_every_table_and_column_is_listed() -> None:
    problems = inventory_problems(Base.metadata, TABLES)
    assert not problems, "\n".join(problems)


def test_document_is_current() -> None:
    stale = "docs/datenschutz.md is not what the inventory renders; regenerate it: " + REGENERATE
    assert DOC.is_file(), stale
    assert DOC.read_text(encoding="utf-8") == render_markdown(), stale


def test_regenerate_command_prints_the_document() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.services.privacy_inventory"], cwd=ROOT, capture_output=True, check=True
    )
    assert result.stdout.decode("utf-8") == render_markdown()


def unknown_periods(tables: Iterable[Table]) -> list[str]:
    """``table: {key}`` for every placeholder that is not a period field of DatenschutzSection."""
    periods = period_texts()
    return [f"{t.name}: {{{key}}}" for t in tables for key in t.period_keys if key not in periods]


def test_placeholders_are_periods_of_the_config() -> None:
    problems = unknown_periods(TABLES)
    assert not problems, f"not a period in DatenschutzSection (bot/config.py): {problems}"
    used = {key for table in TABLES for key in table.period_keys}
    periods = set(period_texts())
    assert periods <= set(DatenschutzSection.model_fields)
    assert used == periods, f"periods that no table names: {sorted(periods - used)}"


def test_an_unknown_period_is_reported() -> None:
    table = replace(made_up("notes", Column("id", "…")), retention="{ehemalige}, {uhrzeit} und {morgen}")
    assert table.period_keys == ("ehemalige", "uhrzeit", "morgen")
    assert unknown_periods([table]) == ["notes: {uhrzeit}", "notes: {morgen}"]


def test_document_explains_every_config_key() -> None:
    assert set(PERIOD_MEANINGS) == set(DatenschutzSection.model_fields), (
        "each [datenschutz] key needs a line in PERIOD_MEANINGS (bot/services/privacy_inventory.py)"
    )


def test_columns_pointing_to_people_are_personal() -> None:
    problems = unmarked_person_columns(Base.metadata, TABLES)
    assert not problems, f"mark these personal=True in {INVENTORY}: {problems}"
    for table in TABLES:
        if any(c.name == "person_id" for c in table.columns):
            assert table.personal, table.name


def test_access_names_the_sections_of_meine_daten() -> None:
    """What the inventory says /meine_daten shows is what it shows (bot/services/personal_data.py)."""
    exported = {source.model.__tablename__ for sources in SOURCES.values() for source in sources}
    for table in TABLES:
        named = re.findall(r"„([a-z_]+)“", table.access)
        if not table.personal:
            assert table.access.startswith("nicht personenbezogen") and not named, table.name
            continue
        if "nicht in /meine_daten" in table.access:
            assert table.name not in exported and not named, f"{table.name}: /meine_daten does show it"
            continue
        assert table.name in exported, f"{table.name}: personal, but /meine_daten does not show it"
        assert named, f"{table.name}: name the section(s) of /meine_daten in access"
        for section in named:
            assert section in SECTIONS, f"{table.name}: /meine_daten has no section {section}"
            if section in SOURCES:
                assert table.name in {s.model.__tablename__ for s in SOURCES[section]}, (table.name, section)


def test_tables_without_personal_data_say_so() -> None:
    for table in TABLES:
        said = "keine personenbezogenen daten" in table.content.lower()
        assert said is not table.personal, f"{table.name}: content and columns disagree about personal data"


def test_every_text_is_filled_in() -> None:
    for table in TABLES:
        for field in ("title", "content", "purpose", "legal_basis", "visible_to", "retention", "access"):
            assert getattr(table, field).strip(), f"{table.name}.{field}"
        assert table.erasure.strip() and table.columns, table.name
        assert all(c.description.strip() for c in table.columns), table.name
    for line in LOG_LINES:
        assert all(getattr(line, f.name).strip() for f in fields(line)), line


# --------------------------------------------------------------------------------------------
# The checks fail when they should (made-up metadata and inventories)
# --------------------------------------------------------------------------------------------


def test_a_new_column_in_a_model_is_reported() -> None:
    metadata = copy_of_models()
    metadata.tables["people"].append_column(SAColumn("shoe_size", Integer))
    assert inventory_problems(metadata, TABLES) == [
        f"column people.shoe_size is missing from the inventory; {FIX}",
    ]


def test_a_new_table_and_a_vanished_column_are_reported() -> None:
    metadata = copy_of_models()
    SATable("pets", metadata, SAColumn("id", Integer, primary_key=True))
    listed = [
        replace(t, columns=(*t.columns, Column("mood", "Stimmung"))) if t.name == "chats" else t
        for t in TABLES
    ]
    problems = inventory_problems(metadata, [*listed, made_up("ghosts", Column("id", "Kennung"))])
    assert any(p.startswith("table pets is missing") for p in problems)
    assert any(p.startswith("table ghosts is in the inventory but not in the models") for p in problems)
    assert any(p.startswith("column chats.mood is in the inventory but not in the model") for p in problems)
    assert len(problems) == 3, problems


def test_an_unmarked_person_column_is_reported() -> None:
    metadata = MetaData()
    SATable("people", metadata, SAColumn("id", Integer, primary_key=True))
    SATable(
        "notes",
        metadata,
        SAColumn("id", Integer, primary_key=True),
        SAColumn("reviewer", ForeignKey("people.id")),
        SAColumn("person_id", Integer),
        SAColumn("text", String),
    )
    notes = made_up("notes", *(Column(name, "…") for name in ("id", "reviewer", "person_id", "text")))
    assert not notes.personal
    assert unmarked_person_columns(metadata, [notes]) == ["notes.person_id", "notes.reviewer"]


# --------------------------------------------------------------------------------------------
# Periods and the notice
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1d", "1 Tag"),
        ("30d", "30 Tage"),
        ("1h", "1 Stunde"),
        ("12h", "12 Stunden"),
        ("90m", "90 Minuten"),
        ("120m", "2 Stunden"),
        ("48h", "2 Tage"),
    ],
)
def test_german_duration(value: str, words: str) -> None:
    assert german_duration(value) == words


def test_notice_shows_the_configured_periods() -> None:
    items = {item.title: item.retention for item in notice_items(DatenschutzSection(outbox_zugestellt="14d"))}
    assert "14 Tage nach der Zustellung" in items["Ausgehende Nachrichten"]
    assert "{" not in "".join(items.values())
    assert set(items) == {t.title for t in TABLES if t.personal}
    defaults = {item.title: item.retention for item in notice_items()}
    assert "30 Tage nach der Zustellung" in defaults["Ausgehende Nachrichten"]
