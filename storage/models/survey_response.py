"""One respondent's answers to a survey."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import enum_column


class ResponseStatus(enum.StrEnum):
    """Whether a response was submitted."""

    DRAFT = "draft"
    FINISHED = "finished"


class SurveyResponse(Base):
    """One response per respondent and survey.

    ``answers`` is what was submitted (a flat dict, see :mod:`bot.services.survey_flow`);
    ``draft`` the working copy of the private conversation (a first draft, or changes made with
    ``/umfrage aendern``, taken over only when finished), ``cursor`` the question asked now.
    ``respondent_key`` is a keyed hash of the person id (one response per person);
    ``person_id`` and the times are stored only in surveys that are not anonymous.
    """

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "respondent_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    respondent_key: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    status: Mapped[ResponseStatus] = mapped_column(enum_column(ResponseStatus), default=ResponseStatus.DRAFT)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cursor: Mapped[str | None] = mapped_column(String(120))
    # Changing a finished response (/umfrage aendern): the draft is a copy of the answers.
    editing: Mapped[bool] = mapped_column(Boolean, default=False)
    # The conversation is open in the private chat: plain messages there are answers.
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
