"""A version of the network's shared definition of civic engagement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class EngagementDefinition(Base):
    """One version of the definition (criteria with explanations, German and English).

    Versions are never changed or deleted: every survey points to the version it started with,
    so its results stay comparable and say which definition they used. ``digest`` (SHA-256 of
    the canonical content) makes a re-import of an unchanged file a no-op.
    """

    __tablename__ = "engagement_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # Where it came from: "default" or the imported file's name.
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
