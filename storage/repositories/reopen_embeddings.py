"""Stored embeddings of the reopen guard: read by model and text digest, added without conflicts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ReopenEmbedding

_TABLE = ReopenEmbedding.__table__


def _add_new(insert: Any) -> Any:
    # Rows are content-addressed and immutable: a row another writer added meanwhile (a second
    # process, or the same AG loaded twice) is the same row, so a conflict is simply skipped.
    return insert(_TABLE).on_conflict_do_nothing(index_elements=[_TABLE.c.model, _TABLE.c.digest])


# Built once per dialect.
_ADD = {"postgresql": _add_new(postgresql_insert), "sqlite": _add_new(sqlite_insert)}


class EmbeddingRepository:
    """Reads and adds :class:`ReopenEmbedding` rows (Core statements: thousands of rows at a time)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def vectors(self, model: str, digests: Sequence[str]) -> dict[str, bytes]:
        """The stored vectors of ``model`` among ``digests``, by digest (the others are absent).

        One statement: the caller keeps ``digests`` short enough for the backend's limit of bound
        parameters (SQLite 32,766, PostgreSQL 32,767).
        """
        if not digests:
            return {}
        rows = await self.session.execute(
            select(_TABLE.c.digest, _TABLE.c.vector).where(
                _TABLE.c.model == model, _TABLE.c.digest.in_(digests)
            )
        )
        return {digest: bytes(vector) for digest, vector in rows}

    async def add(self, model: str, vectors: Iterable[tuple[str, bytes]], at: datetime) -> None:
        """Store vectors of ``model`` (``(digest, float32 bytes)``); digests already stored are
        left as they are, also when another transaction adds them concurrently.

        Rows go in in digest order, so two writers of overlapping sets on PostgreSQL wait for
        each other in one order and cannot deadlock.
        """
        rows = [
            {"model": model, "digest": digest, "vector": vector, "created_at": at}
            for digest, vector in sorted(vectors)
        ]
        if not rows:
            return
        connection = await self.session.connection()
        statement = _ADD["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
        await connection.execute(statement, rows)
