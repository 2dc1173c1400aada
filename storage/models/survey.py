"""A survey (Umfrage) of an AG, answered privately by its members."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import enum_column


class SurveyStatus(enum.StrEnum):
    """Lifecycle of a survey."""

    OPEN = "open"
    CLOSED = "closed"


class Survey(Base):
    """``/umfrage starten <Vorlage>``: one survey of an AG, from a template.

    The template (``spec``) and the definition version are fixed when it starts, so later
    imports change nothing here. In an anonymous survey responses carry no person, only a
    keyed hash of the person id (key: ``secret``) that keeps it one response per person; the
    key and the hashes are deleted when the survey closes.
    """

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        Index("ix_surveys_group_id_status", "group_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    # Running number within the AG.
    number: Mapped[int] = mapped_column(Integer)
    template_key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagement_definitions.id", ondelete="RESTRICT")
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[SurveyStatus] = mapped_column(enum_column(SurveyStatus), default=SurveyStatus.OPEN)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    secret: Mapped[str | None] = mapped_column(String(64))
    # Members of the AG when it closed (the response rate's denominator).
    member_count: Mapped[int | None] = mapped_column(Integer)
