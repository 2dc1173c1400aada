"""Audit log access."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


class AuditRepository:
    """Appends to and reads the audit log."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        group_id: int | None,
        actor_id: int | None,
        action: str,
        entity: str,
        entity_id: int | None,
        at: datetime,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Record one change."""
        entry = AuditEntry(
            group_id=group_id,
            actor_id=actor_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details or {},
            created_at=at,
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def group_setting(
        self, group_id: int, actor_id: int, action: str, at: datetime, **details: Any
    ) -> AuditEntry:
        """Record a change to an AG's own settings (the AG is the changed entity)."""
        return await self.add(
            group_id=group_id,
            actor_id=actor_id,
            action=action,
            entity="group",
            entity_id=group_id,
            at=at,
            details=details,
        )

    async def for_group(self, group_id: int, limit: int = 100) -> list[AuditEntry]:
        """The newest entries of an AG, newest first."""
        rows = await self.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.group_id == group_id)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
        return list(rows)
