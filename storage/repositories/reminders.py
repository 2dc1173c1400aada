"""Reminders: by scope (an AG's group reminders, or one person's private ones), number and id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, Reminder, ReminderStatus, WorkingGroup

PRIVATE_KIND = "private"
"""``chat_kind`` of a reminder sent to a private chat (``ChatKind.PRIVATE``)."""

OPEN = (ReminderStatus.ACTIVE, ReminderStatus.PAUSED)
"""Reminders that still count: listed, numbered, limited."""


@dataclass(frozen=True, slots=True)
class ReminderScope:
    """Whose reminders: an AG's (set in its group chats, numbered per AG) or a person's private
    ones (set in their private chat, numbered per person, whatever AG they belong to)."""

    group_id: int | None = None
    owner_id: int | None = None

    @classmethod
    def of_group(cls, group_id: int) -> ReminderScope:
        return cls(group_id=group_id)

    @classmethod
    def private(cls, person_id: int) -> ReminderScope:
        return cls(owner_id=person_id)

    @property
    def is_private(self) -> bool:
        return self.owner_id is not None

    def condition(self) -> ColumnElement[bool]:
        """The rows of this scope."""
        if self.owner_id is not None:
            return (Reminder.owner_id == self.owner_id) & (Reminder.chat_kind == PRIVATE_KIND)
        return (Reminder.group_id == self.group_id) & (Reminder.chat_kind != PRIVATE_KIND)


class ReminderRepository:
    """Reads and writes :class:`Reminder` rows."""

    @staticmethod
    def private_of_group(group_id: int) -> Select[Any]:
        """Ids of the reminders members of an AG set for themselves (in their private chats)."""
        return select(Reminder.id).where(Reminder.group_id == group_id, Reminder.chat_kind == "private")

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, reminder_id: int) -> Reminder | None:
        """The reminder with this id."""
        return await self.session.get(Reminder, reminder_id)

    async def load(self, reminder_ids: Sequence[int]) -> list[Reminder | WorkingGroup]:
        """Load many reminders with one query and their AGs with a second one, into the session:
        ``get`` and the AGs' ``session.get`` then find them without a query, as long as the
        caller holds the returned rows (the session keeps unchanged rows only weakly)."""
        if not reminder_ids:
            return []
        query = select(Reminder).where(Reminder.id.in_(reminder_ids))
        loaded: list[Reminder | WorkingGroup] = list(await self.session.scalars(query))
        group_ids = {r.group_id for r in loaded if isinstance(r, Reminder) and r.group_id is not None}
        if group_ids:
            loaded += await self.session.scalars(select(WorkingGroup).where(WorkingGroup.id.in_(group_ids)))
        return loaded

    async def add(self, reminder: Reminder) -> Reminder:
        """Store a new reminder (flushed, so its id is known)."""
        self.session.add(reminder)
        await self.session.flush()
        return reminder

    async def lock_scope(self, scope: ReminderScope) -> None:
        """Hold the scope's row (the AG, or the person) until the transaction ends, so two
        concurrent ``/erinnerung`` on PostgreSQL neither share a number nor pass the limit
        together. SQLite has one writer at a time and ignores ``FOR UPDATE``."""
        if scope.owner_id is not None:
            query = select(Person.id).where(Person.id == scope.owner_id)
        else:
            query = select(WorkingGroup.id).where(WorkingGroup.id == scope.group_id)
        await self.session.execute(query.with_for_update())

    async def next_number(self, scope: ReminderScope) -> int:
        """The scope's next running number (numbers are never reused: deleted rows stay)."""
        highest = await self.session.scalar(select(func.max(Reminder.number)).where(scope.condition()))
        return (highest or 0) + 1

    async def count_open(self, scope: ReminderScope) -> int:
        """Active and paused reminders of a scope."""
        query = select(func.count()).select_from(Reminder).where(scope.condition(), Reminder.status.in_(OPEN))
        return await self.session.scalar(query) or 0

    async def by_number(self, scope: ReminderScope, number: int) -> Reminder | None:
        """The open reminder with this number in the scope."""
        return await self.session.scalar(
            select(Reminder).where(scope.condition(), Reminder.number == number, Reminder.status.in_(OPEN))
        )

    async def open_in(self, scope: ReminderScope, limit: int) -> list[tuple[Reminder, Person | None]]:
        """Open reminders of a scope with who set them: running ones by next due time, then the
        paused ones by number."""
        paused_last = case((Reminder.status == ReminderStatus.PAUSED, 1), else_=0)
        query = (
            select(Reminder, Person)
            .outerjoin(Person, Person.id == Reminder.owner_id)
            .where(scope.condition(), Reminder.status.in_(OPEN))
            .order_by(paused_last, Reminder.next_due, Reminder.number)
            .limit(limit)
        )
        return [(reminder, person) for reminder, person in (await self.session.execute(query)).all()]
