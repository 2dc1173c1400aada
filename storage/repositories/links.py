"""Link codes and rejected link attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LinkAttempt, LinkCode

# Any constant identifies the lock; this one reads "link" in ASCII.
_ATTEMPTS_LOCK = 0x6C696E6B


class LinkRepository:
    """Reads and writes the codes that link chats to AGs and the attempts to redeem them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Codes -------------------------------------------------------------------------------------

    async def add_code(self, code: LinkCode) -> LinkCode:
        """Store a new code."""
        self.session.add(code)
        await self.session.flush()
        return code

    async def code_by_hash(self, code_hash: str) -> LinkCode | None:
        """The code with this hash, whatever its state."""
        return await self.session.scalar(select(LinkCode).where(LinkCode.code_hash == code_hash))

    async def hash_exists(self, code_hash: str) -> bool:
        """Whether any code, open or not, has this hash (the column is unique)."""
        found = await self.session.scalar(select(LinkCode.id).where(LinkCode.code_hash == code_hash))
        return found is not None

    async def replace_open_codes(self, group_id: int, at: datetime) -> int:
        """Mark every open code of an AG as replaced; returns how many there were."""
        result = await self.session.execute(
            update(LinkCode)
            .where(
                LinkCode.group_id == group_id,
                LinkCode.used_at.is_(None),
                LinkCode.replaced_at.is_(None),
                LinkCode.expires_at > at,
            )
            .values(replaced_at=at)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    async def redeem(self, code_id: int, at: datetime, chat_id: int, person_id: int) -> bool:
        """Mark an open code used, in one statement; ``False`` if it was no longer open.

        The conditions sit in the ``UPDATE`` itself, so two chats redeeming the same code at
        the same time on PostgreSQL cannot both succeed: the second waits for the first's row
        lock and then matches nothing.
        """
        used = await self.session.scalar(
            update(LinkCode)
            .where(
                LinkCode.id == code_id,
                LinkCode.used_at.is_(None),
                LinkCode.replaced_at.is_(None),
                LinkCode.expires_at > at,
            )
            .values(used_at=at, used_in_chat_id=chat_id, used_by_id=person_id)
            .returning(LinkCode.id)
            .execution_options(synchronize_session=False)
        )
        return used is not None

    # Attempts ----------------------------------------------------------------------------------

    async def lock_attempts(self) -> None:
        """Check and record attempts one transaction at a time, until this one ends.

        The limits read the recorded attempts and then add one; on PostgreSQL, concurrent
        attempts (many accounts at once) would otherwise all read the same counts and overrun
        them. A transaction-level advisory lock serialises only link attempts, which are rare.
        SQLite runs one transaction at a time anyway.
        """
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(_ATTEMPTS_LOCK)))

    async def add_attempt(self, chat_id: int, person_id: int | None, at: datetime) -> None:
        """Record a rejected code."""
        self.session.add(LinkAttempt(chat_id=chat_id, person_id=person_id, created_at=at))
        await self.session.flush()

    async def attempts_of_person_since(self, person_id: int, since: datetime) -> list[datetime]:
        """When a person's rejected codes were tried (in any chat), oldest first, after ``since``."""
        rows = await self.session.scalars(
            select(LinkAttempt.created_at)
            .where(LinkAttempt.person_id == person_id, LinkAttempt.created_at > since)
            .order_by(LinkAttempt.created_at)
        )
        return list(rows)

    async def attempts_overall_since(self, since: datetime) -> tuple[int, datetime | None]:
        """How many rejected codes anybody tried after ``since``, and when the latest was."""
        row = (
            await self.session.execute(
                select(func.count(), func.max(LinkAttempt.created_at)).where(LinkAttempt.created_at > since)
            )
        ).one()
        return row[0], row[1]

    async def prune_attempts(self, before: datetime) -> None:
        """Forget attempts that no longer count for any limit."""
        await self.session.execute(
            delete(LinkAttempt)
            .where(LinkAttempt.created_at <= before)
            .execution_options(synchronize_session=False)
        )
