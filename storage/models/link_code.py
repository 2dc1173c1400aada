"""A one-time code that links another chat to an AG (``/ag verknuepfen``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class LinkCode(Base):
    """A code the koordination of an AG hands out so that another chat can join the AG.

    Only the SHA-256 hash of the code is stored: whoever reads the database cannot use a code
    that is still open. A code is usable while it is neither used, nor replaced by a newer code
    of the same AG, nor expired; the columns are kept afterwards so that a late attempt gets a
    precise answer ("already used", "expired") and the link stays traceable.
    """

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"), index=True)
    # Hex SHA-256 of the normalised code (upper case, no dash); unique so a lookup finds one row.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_in_chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    # Set when a newer code of the same AG was created while this one was still open.
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
