"""The audit log: who changed what, when."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class RegisterChange(enum.StrEnum):
    """Audit actions that change an AG's register (what a returning member is told about)."""

    DECISION_CREATED = "decision.create"
    DECISION_REPLACED = "decision.replace"
    DECISION_REVOKED = "decision.revoke"
    GOAL_CREATED = "goal.create"
    GOAL_ACHIEVED = "goal.achieved"
    GOAL_DISCARDED = "goal.discarded"


class AuditEntry(Base):
    """One change to an AG's register or settings, with the acting person."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
