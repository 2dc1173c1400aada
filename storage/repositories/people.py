"""People and their memberships in AGs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Membership, Person, Role, WorkingGroup

# "Last seen" serves onboarding ("back after 30 days"); minute precision is plenty, and not
# rewriting it on every message keeps a chatty group's messages read-only for the database.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


# Built once (it runs for every handled update; see storage/repositories/groups.py).
_PERSON_WITH_MEMBERSHIPS = (
    select(Person, Membership)
    .outerjoin(Membership, Membership.person_id == Person.id)
    .where(Person.platform == bindparam("platform"), Person.external_id == bindparam("external_id"))
)
# Refreshing "last seen" (at most every LAST_SEEN_RESOLUTION per person and AG) with Core: a
# flush of the unit of work for these two UPDATEs cost more than everything else a poll vote does
# in the database.
_PEOPLE, _MEMBERSHIPS = Person.__table__, Membership.__table__
_TOUCH_PERSON = _PEOPLE.update().where(_PEOPLE.c.id == bindparam("row_id")).values(last_seen=bindparam("at"))
_TOUCH_MEMBERSHIP = (
    _MEMBERSHIPS.update().where(_MEMBERSHIPS.c.id == bindparam("row_id")).values(last_seen=bindparam("at"))
)


class PeopleRepository:
    """Reads and writes people and their roles per AG."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # Memberships loaded together with their person, so the per-message lookup of the
        # sender's role costs no second query.
        self._memberships: dict[tuple[int, int], Membership] = {}

    async def person(self, platform: str, external_id: str) -> Person | None:
        """The stored person for a platform identity (with their memberships), if known."""
        rows = await self.session.execute(
            _PERSON_WITH_MEMBERSHIPS, {"platform": platform, "external_id": external_id}
        )
        found = None
        for person, membership in rows:
            found = person
            if membership is not None:
                self._memberships[(membership.group_id, membership.person_id)] = membership
        return found

    async def upsert_person(
        self,
        platform: str,
        external_id: str,
        display_name: str,
        username: str | None,
        at: datetime,
    ) -> Person:
        """The stored person, created on first sight; name, handle and last seen are refreshed."""
        person = await self.person(platform, external_id)
        if person is None:
            person = Person(
                platform=platform,
                external_id=external_id,
                display_name=display_name,
                username=username,
                first_seen=at,
                last_seen=at,
            )
            self.session.add(person)
            await self.session.flush()
            return person
        if person.display_name != display_name:
            person.display_name = display_name
        if username and person.username != username:
            person.username = username
        if at - person.last_seen >= LAST_SEEN_RESOLUTION:
            await self._touch(_TOUCH_PERSON, person, at)
        return person

    async def membership(self, group_id: int, person_id: int) -> Membership | None:
        """A person's membership in an AG, if any."""
        known = self._memberships.get((group_id, person_id))
        if known is not None:
            return known
        return await self.session.scalar(
            select(Membership).where(Membership.group_id == group_id, Membership.person_id == person_id)
        )

    async def touch_membership(
        self, group_id: int, person_id: int, at: datetime, role: Role = Role.MITGLIED
    ) -> tuple[Membership, bool]:
        """The membership, created with ``role`` on first sight; returns (membership, created)."""
        membership = await self.membership(group_id, person_id)
        if membership is None:
            membership = Membership(
                group_id=group_id, person_id=person_id, role=role, first_seen=at, last_seen=at
            )
            self.session.add(membership)
            await self.session.flush()
            return membership, True
        if at - membership.last_seen >= LAST_SEEN_RESOLUTION:
            await self._touch(_TOUCH_MEMBERSHIP, membership, at)
        return membership, False

    async def _touch(self, statement: Any, row: Person | Membership, at: datetime) -> None:
        """Set ``last_seen`` in the database now, and on the loaded object as if loaded so."""
        await self.session.execute(statement, {"row_id": row.id, "at": at})
        set_committed_value(row, "last_seen", at)
        self.session.info["wrote"] = True

    async def current_members(self, group_id: int) -> list[Person]:
        """The people who belong to an AG now (those who left are not counted), by name."""
        rows = await self.session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == group_id, Membership.left_at.is_(None))
            .order_by(Person.display_name, Person.id)
        )
        return list(rows)

    async def members(self, group_id: int) -> list[tuple[Membership, Person]]:
        """All members of an AG with their person records, by name."""
        rows = await self.session.execute(
            select(Membership, Person)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.group_id == group_id)
            .order_by(Person.display_name, Person.id)
        )
        return [(m, p) for m, p in rows]

    async def groups_of(self, person_id: int) -> list[tuple[Membership, WorkingGroup]]:
        """The AGs a person belongs to, by name."""
        rows = await self.session.execute(
            select(Membership, WorkingGroup)
            .join(WorkingGroup, WorkingGroup.id == Membership.group_id)
            .where(Membership.person_id == person_id)
            .order_by(WorkingGroup.name, WorkingGroup.id)
        )
        return [(m, g) for m, g in rows]

    async def count_members(self, group_id: int) -> int:
        """How many people belong to an AG now (those who left are not counted)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.group_id == group_id, Membership.left_at.is_(None))
        )
        return count or 0

    async def coordinators(self, group_id: int) -> list[Person]:
        """The koordination of an AG: people with the role, and chat admins (who act as such)."""
        rows = await self.session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.group_id == group_id,
                or_(
                    Membership.role == Role.KOORDINATION,
                    and_(Membership.chat_admin.is_(True), Membership.left_at.is_(None)),
                ),
            )
            .order_by(Person.display_name, Person.id)
        )
        return list(rows)

    async def with_role(self, group_id: int, role: Role) -> list[Person]:
        """The people holding ``role`` in an AG, by name."""
        rows = await self.session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == group_id, Membership.role == role)
            .order_by(Person.display_name, Person.id)
        )
        return list(rows)
