"""Working groups and chats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.models import Chat, WorkingGroup

# Built once: this query runs for every handled update, and a prebuilt statement skips the
# construction and cache-key work SQLAlchemy would otherwise repeat each time.
_CHAT_WITH_GROUP = (
    select(Chat, WorkingGroup)
    .outerjoin(WorkingGroup, WorkingGroup.id == Chat.group_id)
    .where(Chat.platform == bindparam("platform"), Chat.external_id == bindparam("external_id"))
)


class GroupRepository:
    """Reads and writes AGs and the chats that belong to them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._loaded: dict[int, WorkingGroup] = {}

    async def get(self, group_id: int) -> WorkingGroup | None:
        """The AG with this id."""
        loaded = self._loaded.get(group_id)
        return loaded if loaded is not None else await self.session.get(WorkingGroup, group_id)

    async def chat(self, platform: str, external_id: str) -> Chat | None:
        """The stored chat for a platform id, if known.

        Its AG is loaded by the same query, so the following lookup of the AG (``get``) is
        answered from the session without another round trip.
        """
        row = (
            await self.session.execute(_CHAT_WITH_GROUP, {"platform": platform, "external_id": external_id})
        ).first()
        if row is None:
            return None
        chat, group = row
        if group is not None:
            # The session only holds weak references; keep the AG alive for the ``get`` to come.
            self._loaded[group.id] = group
        return chat

    async def upsert_chat(
        self, platform: str, external_id: str, kind: str, title: str | None, at: datetime
    ) -> Chat:
        """The stored chat, created on first sight; a changed title is updated."""
        chat = await self.chat(platform, external_id)
        if chat is None:
            chat = Chat(platform=platform, external_id=external_id, kind=kind, title=title, created_at=at)
            self.session.add(chat)
            await self.session.flush()
        elif title and chat.title != title:
            chat.title = title
        return chat

    async def create(self, name: str, *, timezone: str, language: str, at: datetime) -> WorkingGroup:
        """A new AG."""
        group = WorkingGroup(
            name=name,
            timezone=timezone,
            language=language,
            goal_seq=0,
            decision_seq=0,
            created_at=at,
        )
        self.session.add(group)
        await self.session.flush()
        return group

    async def lock(self, group_id: int) -> None:
        """Hold the AG's row lock until the transaction ends (PostgreSQL; SQLite has one writer).

        Changes that must look at all of an AG's chats first (never unlink the last one) take
        it, so two concurrent changes are checked one after the other.
        """
        await self.session.execute(
            select(WorkingGroup.id).where(WorkingGroup.id == group_id).with_for_update()
        )

    async def chats(self, group_id: int) -> list[Chat]:
        """All chats linked to an AG, oldest first."""
        rows = await self.session.scalars(select(Chat).where(Chat.group_id == group_id).order_by(Chat.id))
        return list(rows)

    async def next_number(self, group_id: int, counter: str) -> int:
        """Atomically bump and return an AG's running number (``goal_seq``/``decision_seq``).

        ``UPDATE … RETURNING`` takes a row lock on PostgreSQL, so two concurrent commands in one
        AG never get the same number; SQLite serialises writers anyway.
        """
        column = getattr(WorkingGroup, counter)
        number = await self.session.scalar(
            update(WorkingGroup)
            .where(WorkingGroup.id == group_id)
            .values({counter: column + 1})
            .returning(column)
            .execution_options(synchronize_session=False)
        )
        if number is None:
            raise LookupError(f"working group {group_id} does not exist")
        group = self.session.identity_map.get(identity_key(WorkingGroup, group_id))
        if group is not None:
            # Keep a loaded object in step without marking it dirty (no second UPDATE).
            set_committed_value(group, counter, number)
        return number

    async def named(self, name: str) -> list[WorkingGroup]:
        """The AGs with this name, ignoring case and surrounding spaces (names need not be unique).

        Compared in Python: SQLite's ``lower()`` leaves umlauts alone. An operator's lookup over
        the few AGs of a network, not a query the bot runs per update.
        """
        wanted = name.strip().casefold()
        groups = await self.session.scalars(select(WorkingGroup).order_by(WorkingGroup.id))
        return [group for group in groups if group.name.strip().casefold() == wanted]

    async def due_for_deletion(self, now: datetime, limit: int) -> list[int]:
        """Ids of AGs whose grace period after ``/ag loeschen`` is over."""
        rows = await self.session.scalars(
            select(WorkingGroup.id)
            .where(WorkingGroup.delete_after.is_not(None), WorkingGroup.delete_after <= now)
            .order_by(WorkingGroup.id)
            .limit(limit)
        )
        return list(rows)

    async def delete(self, group_id: int) -> None:
        """Delete an AG; its register, polls, surveys, memberships and jobs go with it (the
        foreign keys cascade) and its chats forget it."""
        await self.session.execute(delete(WorkingGroup).where(WorkingGroup.id == group_id))

    async def count(self) -> int:
        """Number of AGs (for statistics and tests)."""
        return await self.session.scalar(select(func.count()).select_from(WorkingGroup)) or 0
