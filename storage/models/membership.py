"""A person's role in an AG."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import Role, enum_column


class Membership(Base):
    """Links a person to an AG with a role; first/last seen are per AG (for onboarding)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.MITGLIED)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the newcomer's brief went out (once per person and AG), and when they confirmed it.
    briefed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the person left the AG's last chat; cleared when they come back. Members who left
    # are not counted and not briefed again, but keep their history.
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The platform last said the person administers one of the AG's chats; admins act as
    # koordination there, so lists of the koordination show them too.
    chat_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
