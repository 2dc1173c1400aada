"""A chat on one platform, optionally belonging to an AG."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class Chat(Base):
    """A Telegram group, a Matrix room, a private chat or a console chat.

    Several chats, also on different platforms, can belong to one AG.
    """

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(255))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    # A private chat belongs to no AG; it acts on the AG its person chose last (``/ag wechseln``)
    # when they are in several.
    current_group_id: Mapped[int | None] = mapped_column(ForeignKey("working_groups.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
