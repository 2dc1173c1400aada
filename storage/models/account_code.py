"""A one-time code with which a person links another account of theirs (``/konto verknuepfen``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class AccountCode(Base):
    """A code a person asked for in one private chat, to type in a private chat of another
    platform (or account): both accounts are then one person for ``/meine_daten`` and
    ``/daten_loeschen``. Only the code's hash is stored; it is deleted when redeemed."""

    __tablename__ = "account_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # SHA-256 (hex) of the normalised code (bot.services.linking.hash_code).
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
