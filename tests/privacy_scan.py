"""Scans every column of every table for traces of one person (the DSGVO tests' ground truth).

Independent of the code under test: it reads the models' metadata, not the inventory or the
export's queries, so a table the export forgets shows up here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from storage import Database
from storage.models import Base


@dataclass(frozen=True)
class Needles:
    """What identifies the person.

    Attributes:
        person_ids: ``people.id`` values: a foreign key to ``people`` holding one is a trace.
        strings: Substrings that are a trace anywhere (platform ids, private texts).
        words: Names, a trace as a whole word in any case (``Mia`` but not ``Miami``).
        values: A trace when a column (or a value in a JSON column) equals one: short ids such
            as Telegram's numbers, which as substrings would match any timestamp.
    """

    person_ids: frozenset[int] = frozenset()
    strings: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    values: frozenset[str] = frozenset()

    def hit(self, value: Any) -> bool:
        """Whether a column value contains a string or a word, or equals a value."""
        if value is None:
            return False
        if self.values and any(str(v) in self.values for v in _leaves(value)):
            return True
        if isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bytes):
            text = value.decode("utf-8", "ignore")
        else:
            text = str(value)
        if any(s in text for s in self.strings):
            return True
        return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE) for w in self.words)


def _leaves(value: Any) -> list[Any]:
    """A value, or every scalar inside a JSON value."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _people_columns(table: Any) -> list[str]:
    return [
        column.name
        for column in table.columns
        if any(fk.column.table.name == "people" for fk in column.foreign_keys)
    ]


async def traces(database: Database, needles: Needles, skip: Iterable[str] = ()) -> set[tuple[str, Any]]:
    """Every row of every table that holds a trace, as ``(table, id)`` (the primary key as a
    tuple for tables without an ``id`` column)."""
    found: set[tuple[str, Any]] = set()
    async with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in set(skip):
                continue
            by_fk = _people_columns(table)
            rows = (await session.execute(select(table))).mappings().all()
            for row in rows:
                own = table.name == "people" and row["id"] in needles.person_ids
                linked = any(row[c] in needles.person_ids for c in by_fk)
                if own or linked or any(needles.hit(row[c.name]) for c in table.columns):
                    key = row["id"] if "id" in row else tuple(row[c.name] for c in table.primary_key.columns)
                    found.add((table.name, key))
    return found
