"""Small key/value state of the adapters (last Telegram update id, Matrix sync token, …)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class PlatformState(Base):
    """One value an adapter must remember across restarts.

    A value that is a credential goes under a key ending in ``:access_token`` (the Matrix
    adapter's login token): backups recognise it by that and leave it out (``storage/backup.py``).
    """

    __tablename__ = "platform_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
