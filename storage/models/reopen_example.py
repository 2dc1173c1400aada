"""Coordinator feedback to the reopen guard, kept as labelled examples of the AG."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class ReopenExample(Base):
    """A message labelled by the koordination: it does (``/hinweis <Nr>``) or does not
    (``/hinweis falsch``) question the item. The guard learns from these per AG."""

    __tablename__ = "reopen_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    reopens: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # "wrong" | "missed"
    hint_id: Mapped[int | None] = mapped_column(ForeignKey("reopen_hints.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
