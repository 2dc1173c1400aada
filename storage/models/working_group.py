"""The working group (Arbeitsgruppe, AG)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class WorkingGroup(Base):
    """An AG: the unit that owns goals, decisions and members; may span several chats."""

    __tablename__ = "working_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    topic: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    language: Mapped[str] = mapped_column(String(8), default="de")
    # Counters for the per-AG running numbers; bumped with UPDATE … RETURNING so concurrent
    # commands on PostgreSQL never hand out the same number twice.
    goal_seq: Mapped[int] = mapped_column(Integer, default=0)
    decision_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Onboarding: a welcome text by the koordination, the switch, and after how many days of
    # absence a returning member is told what changed.
    welcome_text: Mapped[str | None] = mapped_column(Text)
    onboarding_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    absence_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # Reopen guard: the switch, how readily it speaks up ("niedrig" | "normal" | "hoch") and how
    # many days pass before the same item is pointed out again in the same chat.
    hints_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    hint_sensitivity: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    hint_cooldown_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    # /hinweise privat: hints go to the writer's private chat instead of the group.
    hints_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Meetings: the counter of their running numbers, and when notices go out before each one
    # ("1d 1h": a day and an hour before; units m/h/d/w, see bot/services/meetings.py).
    meeting_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    meeting_reminders: Mapped[str] = mapped_column(String(64), default="1d 1h", server_default="1d 1h")
    # Polls: the counter of their running numbers, and whether every member may start one
    # (``/ag abstimmungen offen``) or only the koordination (the default).
    poll_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    polls_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Closing (/ag schliessen): no more reminders, meeting notices or hints; the register stays
    # readable. Deleting (/ag loeschen) closes it and sets when it goes for good; until then
    # /ag wiederherstellen takes the deletion back.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delete_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
