"""A survey template imported by the operator (``kuemmerer umfrage import``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class SurveyTemplate(Base):
    """An imported template, available to every AG; the shipped ones are not stored here.

    A new import with the same key replaces the row; surveys started earlier keep the copy of
    the template they were started with (:attr:`storage.models.survey.Survey.spec`).
    """

    __tablename__ = "survey_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
