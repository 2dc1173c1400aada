"""A person as seen on one platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime

# What a pseudonymised person is called everywhere (the register, lists of members).
FORMER_NAME = "ehemaliges Mitglied"
# Prefix of the placeholder that replaces a pseudonymised person's platform id.
FORMER_ID_PREFIX = "ehemalig:"


class Person(Base):
    """One platform identity; the same human on Telegram and Matrix is two people here."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        # The retention job looks for people not seen for a long time.
        Index("ix_people_last_seen", "last_seen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the person was pseudonymised (retention job, /daten_loeschen): the name is then
    # FORMER_NAME and external_id a placeholder, so nothing points to the human any more; the row
    # stays because the AG's register names it as the author of decisions.
    pseudonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Accounts of one human linked with /konto verknuepfen share this number (the smallest of
    # their ids); /meine_daten and /daten_loeschen act on all of them. None: not linked.
    identity_id: Mapped[int | None] = mapped_column(Integer, index=True)
