"""Linking a person's accounts (``/konto verknuepfen``): the same human on Telegram and Matrix
(or with two accounts) becomes one person for ``/meine_daten`` and ``/daten_loeschen``.

The person asks for a one-time code in one private chat and types it in a private chat of the
other account; proving access to both is what links them. Codes are like the AGs' link codes:
8 characters, 24 hours, stored as a hash, and wrong ones count against the same brute-force
limits (:func:`bot.services.linking.check_attempts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.ports import Clock
from bot.services.linking import (
    CODE_LIFETIME,
    MAX_FAILED_ATTEMPTS,
    check_attempts,
    draw_code,
    format_code,
    hash_code,
    normalise_code,
    record_failure,
)
from bot.services.text import shorten
from storage.models import AccountCode, Chat, Person
from storage.repositories import LinkRepository
from storage.repositories.accounts import AccountRepository


@dataclass(frozen=True, slots=True)
class AccountCodeIssued:
    """A fresh code (shown once) and when it stops working."""

    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AccountLinking:
    """The outcome of redeeming a code: the accounts now linked, or why not."""

    accounts: list[Person]
    rejected: bool = False
    attempts_left: int = MAX_FAILED_ATTEMPTS
    retry_in: timedelta | None = None


class AccountService:
    """Issues and redeems account codes; lists and dissolves links."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.repo = AccountRepository(session)
        self.links = LinkRepository(session)

    async def identities(self, person: Person) -> list[Person]:
        """Every account of the person (``person`` included)."""
        return await self.repo.identities(person)

    async def issue(self, person: Person) -> AccountCodeIssued:
        """A new code for ``person``; an older open one stops working."""
        now = self.clock.now()
        code = await draw_code(self.repo.hash_exists)
        await self.repo.drop_codes(person.id)
        row = await self.repo.add_code(
            AccountCode(
                person_id=person.id, code_hash=hash_code(code), created_at=now, expires_at=now + CODE_LIFETIME
            )
        )
        return AccountCodeIssued(format_code(code), row.expires_at)

    async def redeem(self, chat: Chat, text: str, actor: Person) -> AccountLinking:
        """Link ``actor``'s account with the one that asked for the code.

        A rejected code is recorded and returned, not raised (the attempt must be committed to
        count, as for AG link codes).

        Raises:
            UserError: Not a code at all, the person's own code, or the attempt limits.
        """
        code = normalise_code(text)
        if code is None:
            raise UserError("account.code_malformed", given=shorten(text, 40))
        now = self.clock.now()
        failures = await check_attempts(self.links, actor.id, now)
        row = await self.repo.code_by_hash(hash_code(code))
        if row is None or row.expires_at <= now:
            left, retry_in = await record_failure(self.links, chat.id, actor.id, now, failures)
            return AccountLinking([], rejected=True, attempts_left=left, retry_in=retry_in)
        if row.person_id == actor.id:
            raise UserError("account.own_code")
        other = await self.session.get(Person, row.person_id)
        await self.repo.drop_code(row.id)
        if other is None or other.pseudonymised_at is not None:
            raise UserError("account.gone")
        await self.repo.link(other, actor)
        await self.session.refresh(actor)
        return AccountLinking(await self.repo.identities(actor))

    async def unlink(self, person: Person) -> bool:
        """Take this account out of its links; returns whether it was linked."""
        if person.identity_id is None:
            return False
        await self.repo.unlink(person)
        return True
