"""Meetings, their cancelled occurrences and agenda items."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AgendaItem, Meeting, MeetingCancellation, MeetingStatus


class MeetingRepository:
    """Reads and writes :class:`Meeting` rows and what belongs to them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, meeting_id: int) -> Meeting | None:
        """A meeting by id."""
        return await self.session.get(Meeting, meeting_id)

    async def by_number(self, group_id: int, number: int) -> Meeting | None:
        """A meeting by its running number in the AG."""
        return await self.session.scalar(
            select(Meeting).where(Meeting.group_id == group_id, Meeting.number == number)
        )

    async def active(self, group_id: int) -> list[Meeting]:
        """The AG's active meetings (one-offs still ahead and running series), by number."""
        rows = await self.session.scalars(
            select(Meeting)
            .where(Meeting.group_id == group_id, Meeting.status == MeetingStatus.ACTIVE)
            .order_by(Meeting.number)
        )
        return list(rows)

    async def lock(self, meeting_id: int) -> None:
        """Hold the meeting's row lock until the transaction ends (PostgreSQL; SQLite has one
        writer): agenda numbers are handed out one after the other."""
        await self.session.execute(select(Meeting.id).where(Meeting.id == meeting_id).with_for_update())

    async def cancellations(self, meeting_id: int) -> set[datetime]:
        """The cancelled occurrences of a meeting (UTC starts)."""
        rows = await self.session.scalars(
            select(MeetingCancellation.occurrence).where(MeetingCancellation.meeting_id == meeting_id)
        )
        return set(rows)

    async def add_cancellation(
        self, meeting_id: int, occurrence: datetime, person_id: int | None, at: datetime
    ) -> None:
        """Record a cancelled occurrence."""
        self.session.add(
            MeetingCancellation(
                meeting_id=meeting_id, occurrence=occurrence, cancelled_by_id=person_id, created_at=at
            )
        )
        await self.session.flush()

    async def agenda(self, meeting_id: int, occurrence: datetime) -> list[AgendaItem]:
        """The agenda of one occurrence (deleted items left out), by number."""
        rows = await self.session.scalars(
            select(AgendaItem)
            .where(
                AgendaItem.meeting_id == meeting_id,
                AgendaItem.occurrence == occurrence,
                AgendaItem.deleted_at.is_(None),
            )
            .order_by(AgendaItem.number)
        )
        return list(rows)

    async def last_agenda_number(self, meeting_id: int, occurrence: datetime) -> int:
        """The highest number handed out for an occurrence, deleted items included (numbers
        are never reused, so "Punkt 3" keeps meaning the same item)."""
        number = await self.session.scalar(
            select(func.max(AgendaItem.number)).where(
                AgendaItem.meeting_id == meeting_id, AgendaItem.occurrence == occurrence
            )
        )
        return number or 0

    async def add_agenda_item(
        self, meeting_id: int, occurrence: datetime, number: int, text: str, person_id: int, at: datetime
    ) -> AgendaItem:
        """A new agenda item (flushed)."""
        item = AgendaItem(
            meeting_id=meeting_id,
            occurrence=occurrence,
            number=number,
            text=text,
            added_by_id=person_id,
            created_at=at,
        )
        self.session.add(item)
        await self.session.flush()
        return item

    async def move_agenda(self, meeting_id: int, source: datetime, target: datetime, offset: int) -> int:
        """Move the items of one occurrence to another, their numbers shifted by ``offset``;
        returns how many (deleted ones move along, so numbers stay unique)."""
        result = await self.session.execute(
            update(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id, AgendaItem.occurrence == source)
            .values(occurrence=target, number=AgendaItem.number + offset)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0  # type: ignore[attr-defined]
