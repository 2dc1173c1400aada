"""One person's current vote in a poll."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class PollVote(Base):
    """The current vote of one person: a new vote replaces it, a withdrawal deletes it.

    ``voter_key`` makes it one row per person: ``p<person id>`` in an open poll, a keyed hash
    of the person id in an anonymous one (whose rows then carry no ``person_id`` and no time,
    and are deleted when it closes).
    """

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # Positions of the chosen options (0-based, ascending); in a date poll those answered yes.
    choices: Mapped[list[int]] = mapped_column(JSON)
    # A date poll: the answer per date in the options' order ("yes", "maybe", "no" or null).
    answers: Mapped[list[str | None] | None] = mapped_column(JSON)
    cast_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
