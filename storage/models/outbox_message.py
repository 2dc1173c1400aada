"""The durable outbox: every message the bot sends is stored here first."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.enums import enum_column


class OutboxStatus(enum.StrEnum):
    """Delivery state of an outbox message."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# What a finished row that carried a secret keeps instead of its content: still decodable
# (an empty message) and saying why it is empty.
REDACTED_PAYLOAD: dict[str, Any] = {"markup": [], "redacted": 1}


class OutboxMessage(Base):
    """One platform API call's worth of message (long texts are split before they are stored).

    Written in the same transaction as the change it reports, so a reply exists exactly when
    the change does; marked sent after the platform confirmed it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_platform", "status", "platform"),
        # The retention job deletes delivered rows by sent_at and failed ones by created_at.
        Index("ix_outbox_status_sent_at", "status", "sent_at"),
        Index("ix_outbox_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    chat_kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    external_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    # The payload carries a secret (a link code, whose plain form the database keeps nowhere
    # else): it is replaced by REDACTED_PAYLOAD in the statement that marks the row sent or failed.
    secret: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The event this message answers (a Matrix event id key): stored here instead of a separate
    # checkpoint row, so a restart can tell the event was handled.
    source: Mapped[str | None] = mapped_column(String(255), index=True)
    # What the message is for its feature ("poll:12"): after delivery the feature's on_sent
    # observer learns the platform's ids (a native poll's id is known only then).
    tag: Mapped[str | None] = mapped_column(String(64))
