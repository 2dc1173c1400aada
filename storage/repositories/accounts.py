"""Linked accounts of one person: the codes that link them and the groups they form."""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AccountCode, Person


class AccountRepository:
    """Reads and writes :class:`AccountCode` rows and ``people.identity_id``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_code(self, code: AccountCode) -> AccountCode:
        """Store a new code (flushed)."""
        self.session.add(code)
        await self.session.flush()
        return code

    async def hash_exists(self, code_hash: str) -> bool:
        """Whether a code with this hash is stored (the column is unique)."""
        return (
            await self.session.scalar(select(AccountCode.id).where(AccountCode.code_hash == code_hash))
            is not None
        )

    async def code_by_hash(self, code_hash: str) -> AccountCode | None:
        """The code with this hash, locked against a second redeemer where the backend can."""
        return await self.session.scalar(
            select(AccountCode).where(AccountCode.code_hash == code_hash).with_for_update()
        )

    async def drop_codes(self, person_id: int) -> int:
        """Delete the person's open codes (a new one replaces them)."""
        result = await self.session.execute(delete(AccountCode).where(AccountCode.person_id == person_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def drop_code(self, code_id: int) -> None:
        """Delete one code (it was redeemed)."""
        await self.session.execute(delete(AccountCode).where(AccountCode.id == code_id))

    async def identities(self, person: Person) -> list[Person]:
        """All accounts linked with ``person`` (itself included), oldest first."""
        if person.identity_id is None:
            return [person]
        rows = await self.session.scalars(
            select(Person).where(Person.identity_id == person.identity_id).order_by(Person.id)
        )
        return list(rows) or [person]

    async def link(self, first: Person, second: Person) -> int:
        """Make the accounts of both groups one; returns the shared identity number."""
        roots = {p.identity_id or p.id for p in (first, second)}
        identity = min(roots | {first.id, second.id})
        members = or_(Person.id.in_([first.id, second.id]), Person.identity_id.in_(list(roots)))
        await self.session.execute(
            update(Person)
            .where(members)
            .values(identity_id=identity)
            .execution_options(synchronize_session="fetch")
        )
        return identity

    async def unlink(self, person: Person) -> None:
        """Take ``person`` out of its group; a group left with one account dissolves."""
        identity = person.identity_id
        if identity is None:
            return
        person.identity_id = None
        await self.session.flush()
        rest = list(await self.session.scalars(select(Person).where(Person.identity_id == identity)))
        if len(rest) == 1:
            rest[0].identity_id = None
        elif rest and all(p.id != identity for p in rest):
            # The number names the smallest id of the group: keep it so after a departure.
            new = min(p.id for p in rest)
            for p in rest:
                p.identity_id = new
        await self.session.flush()
