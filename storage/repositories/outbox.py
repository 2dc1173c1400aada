"""The outbox and the adapters' key/value state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import REDACTED_PAYLOAD, OutboxMessage, OutboxStatus, PlatformState

_TABLE = OutboxMessage.__table__
_COLUMNS = [c.name for c in _TABLE.columns if c.name != "id"]
_INSERT = _TABLE.insert().returning(_TABLE.c.id, sort_by_parameter_order=True)
# Core, not the ORM: the sent mark follows every delivered message, and an ORM-enabled UPDATE
# goes through the bulk-persistence machinery (session synchronisation) it does not need.
_MARK_SENT = (
    _TABLE.update()
    .where(_TABLE.c.id == bindparam("message_id"))
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("sent_at"),
        external_id=bindparam("sent_external_id"),
        attempts=_TABLE.c.attempts + 1,
    )
)
# A row that carried a secret (a link code) keeps it only until it is finished: the redaction
# is part of the sent mark, so no moment exists where the row is sent but still holds the code.
# A statement of its own rather than a CASE in the one above, which every message runs.
_MARK_SENT_REDACTED = _MARK_SENT.values(payload=REDACTED_PAYLOAD)


class OutboxRepository:
    """Stores outgoing messages and their delivery state."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
        """Store new messages (their ids are assigned on return).

        The rows are inserted through Core and stay outside the session: nearly every handled
        update writes one, and the ORM's unit of work costs more than the insert itself. Callers
        only read them (delivery loads pending rows afresh after a restart).
        """
        if not messages:
            return []
        values = [{name: getattr(m, name) for name in _COLUMNS} for m in messages]
        connection = await self.session.connection()
        ids = (await connection.execute(_INSERT, values)).scalars().all()
        for message, message_id in zip(messages, ids, strict=True):
            message.id = message_id
        self.session.info["wrote"] = True
        return list(messages)

    async def has_source(self, source: str) -> bool:
        """Whether a message answering the event ``source`` was stored."""
        found = await self.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.source == source).limit(1)
        )
        return found is not None

    async def pending(self, platforms: Sequence[str] | None = None) -> list[OutboxMessage]:
        """Unsent messages in the order they were written, optionally for some platforms only."""
        query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
        if platforms is not None:
            query = query.where(OutboxMessage.platform.in_(platforms))
        return list(await self.session.scalars(query.order_by(OutboxMessage.id)))

    async def mark_sent(
        self, message_id: int, at: datetime, external_id: str | None, *, redact: bool = False
    ) -> None:
        """Record a confirmed delivery; ``redact`` replaces a secret payload in the same statement."""
        connection = await self.session.connection()
        await connection.execute(
            _MARK_SENT_REDACTED if redact else _MARK_SENT,
            {"message_id": message_id, "sent_at": at, "sent_external_id": external_id},
        )
        self.session.info["wrote"] = True

    async def mark_sent_many(self, marks: Sequence[tuple[int, datetime, str | None, bool]]) -> None:
        """Record confirmed deliveries, ``(message id, sent at, external id, redact)`` each, with
        one executemany per statement (deliveries of many chats are confirmed together)."""
        plain: list[dict[str, Any]] = []
        redacted: list[dict[str, Any]] = []
        for message_id, at, external_id, redact in marks:
            params = {"message_id": message_id, "sent_at": at, "sent_external_id": external_id}
            (redacted if redact else plain).append(params)
        connection = await self.session.connection()
        for statement, params in ((_MARK_SENT, plain), (_MARK_SENT_REDACTED, redacted)):
            if params:
                await connection.execute(statement, params)
        self.session.info["wrote"] = True

    async def forget_sent(self, tag: str, platform: str, chat_id: str) -> None:
        """Delete delivered messages with ``tag`` to one chat (a message whose row must not
        outlive its delivery, e.g. the confirmation that a person's data was erased)."""
        await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.tag == tag,
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.platform == platform,
                OutboxMessage.chat_id == chat_id,
            )
        )

    async def mark_failed(self, message_id: int, error: str, *, redact: bool = False) -> None:
        """Give a message up for good, with the reason; ``redact`` as for :meth:`mark_sent`."""
        values: dict[str, Any] = {
            "status": OutboxStatus.FAILED,
            "error": error[:2000],
            "attempts": OutboxMessage.attempts + 1,
        }
        if redact:
            values["payload"] = REDACTED_PAYLOAD
        await self.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(values))

    async def note_attempt(self, message_id: int, error: str) -> None:
        """Count a failed attempt that will be retried."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(error=error[:2000], attempts=OutboxMessage.attempts + 1)
        )

    async def rechat(self, platform: str, old_chat_id: str, new_chat_id: str) -> None:
        """Point unsent messages of a chat at its new id (Telegram group → supergroup)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.chat_id == old_chat_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(chat_id=new_chat_id)
        )


def _upsert_state(insert: Any) -> Any:
    statement = insert(PlatformState.__table__)
    return statement.on_conflict_do_update(
        index_elements=[PlatformState.key],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
    )


# Built once per dialect (it runs for every update with an effect that carries a checkpoint).
_SET_STATE = {"postgresql": _upsert_state(postgresql_insert), "sqlite": _upsert_state(sqlite_insert)}


class StateRepository:
    """Reads and writes :class:`PlatformState` values."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``."""
        row = await self.session.get(PlatformState, key)
        return row.value if row is not None else None

    async def set(self, key: str, value: str, at: datetime) -> None:
        """Store ``value`` under ``key`` (one upsert statement; it runs for many updates)."""
        connection = await self.session.connection()
        statement = _SET_STATE["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
        # Core, not the ORM: this runs for every handled update, and the ORM's bulk-insert path
        # costs more than the statement itself.
        await connection.execute(statement, {"key": key, "value": value, "updated_at": at})
        self.session.info["wrote"] = True

    async def prune(self, prefix: str, now: datetime, days: int) -> None:
        """Forget values under ``prefix`` older than ``days`` (e.g. remembered event ids)."""
        await self.session.execute(
            delete(PlatformState).where(
                PlatformState.key.startswith(prefix, autoescape=True),
                PlatformState.updated_at < now - timedelta(days=days),
            )
        )
