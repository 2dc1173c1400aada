"""A poll (Abstimmung) of an AG, which may end in a recorded decision or goal."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import enum_column


class PollStatus(enum.StrEnum):
    """Lifecycle of a poll."""

    OPEN = "open"
    CLOSED = "closed"


class PollKind(enum.StrEnum):
    """What a poll asks."""

    STANDARD = "standard"
    """Options to choose from (or yes / no / abstain)."""
    DATES = "dates"
    """``/abstimmung termin``: dates, each answered yes / maybe / no; ends in a meeting."""


class PollEffect(enum.StrEnum):
    """What a passed result becomes."""

    NONE = "none"
    DECISION = "decision"
    REPLACE = "replace"
    GOAL = "goal"


class Poll(Base):
    """``/abstimmung <Frage> | <Option> | …``: one poll across every chat of the AG.

    Votes are rows of :class:`~storage.models.poll_vote.PollVote` while the poll is open; the
    platforms' native polls are only views of it. At the close the result is frozen here
    (``counts``, ``voter_count``, ``member_count``, ``outcome``), and for an anonymous poll the
    vote rows and the key of their voter hashes (``secret``) are deleted, so nothing links a
    person to the poll any more.
    """

    __tablename__ = "polls"
    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        Index("ix_polls_group_id_status", "group_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    # Running number within the AG (working_groups.poll_seq).
    number: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    # The options are yes / no (/ abstain): given without options, or typed out. A third option
    # abstains (counts as taking part, never towards a majority); "no" never replaces a
    # decision or sets a goal.
    yes_no: Mapped[bool] = mapped_column(Boolean, default=False)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    effect: Mapped[PollEffect] = mapped_column(enum_column(PollEffect), default=PollEffect.NONE)
    # The decision number a passed result replaces (effect REPLACE).
    replaces_number: Mapped[int | None] = mapped_column(Integer)
    quorum_count: Mapped[int | None] = mapped_column(Integer)
    quorum_percent: Mapped[int | None] = mapped_column(Integer)
    # "bis: alle": closes as soon as every member has voted (at the latest at the deadline).
    until_all: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    # Non-voters are reminded this long before the deadline; None: no reminder.
    remind_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[PollStatus] = mapped_column(enum_column(PollStatus), default=PollStatus.OPEN)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # The key of the voter hashes of an anonymous poll (one vote per person without storing
    # who); deleted at the close together with the vote rows.
    secret: Mapped[str | None] = mapped_column(String(64))
    # The frozen result (set at the close).
    counts: Mapped[list[int] | None] = mapped_column(JSON)
    voter_count: Mapped[int | None] = mapped_column(Integer)
    member_count: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(16))
    # The number of the decision or goal the result became.
    recorded_number: Mapped[int | None] = mapped_column(Integer)
    # Why a result that should have become a decision or goal did not (a catalog key).
    not_recorded: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[PollKind] = mapped_column(
        enum_column(PollKind), default=PollKind.STANDARD, server_default=PollKind.STANDARD.value
    )
    # A date poll: the start of each option (ISO 8601, UTC, in the options' order), the place
    # of the meeting it ends in, the frozen answers per date ([yes, maybe, no] each, set at the
    # close), and the date the koordination chose (0-based) with the meeting made of it.
    option_starts: Mapped[list[str] | None] = mapped_column(JSON)
    location: Mapped[str | None] = mapped_column(String(300))
    answer_counts: Mapped[list[list[int]] | None] = mapped_column(JSON)
    chosen_position: Mapped[int | None] = mapped_column(Integer)
    meeting_number: Mapped[int | None] = mapped_column(Integer)

    @property
    def starts(self) -> list[datetime]:
        """The options' starts of a date poll (aware UTC); empty for other polls."""
        return [datetime.fromisoformat(value) for value in self.option_starts or ()]
