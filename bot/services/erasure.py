"""Taking a person out of Kümmerer's data: pseudonymisation (retention) and erasure (Art. 17 DSGVO).

The AG's register is the AG's record: goals, decisions, meetings and polls a person created stay,
and so does the person's row they point to, but it no longer names anybody ("ehemaliges
Mitglied", the platform id replaced by a placeholder). Everything that is only about the person
goes: their private chat with the bot and every message to it, reminders they set for
themselves, hints quoting them; on erasure also memberships and roles, votes in non-anonymous
polls and non-anonymous survey responses.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.observers import note_signal
from bot.core.ports import Clock
from storage.models import OutboxStatus, Person, Role, WorkingGroup
from storage.models.person import FORMER_ID_PREFIX, FORMER_NAME
from storage.repositories import PeopleRepository
from storage.repositories.accounts import AccountRepository
from storage.repositories.erasure import ErasureRepository
from storage.repositories.personal_data import PersonalDataRepository, identity


@dataclass(frozen=True, slots=True)
class PersonErased:
    """A person was pseudonymised or erased: adapters drop what they keep about the platform id
    (the Matrix adapter its direct room with the person)."""

    platform: str
    external_id: str


@dataclass
class Erased:
    """What one pseudonymisation or erasure removed (counts, for the person and the log)."""

    messages: int = 0
    reminders: int = 0
    hints: int = 0
    examples: int = 0
    votes: int = 0
    responses: int = 0
    memberships: int = 0

    def add(self, other: Erased) -> None:
        """Count ``other`` in as well (the accounts of one person)."""
        for spec in fields(self):
            setattr(self, spec.name, getattr(self, spec.name) + getattr(other, spec.name))


class ErasureService:
    """Pseudonymises or erases one person."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.repo = ErasureRepository(session)

    async def sole_coordination(self, person: Person) -> list[WorkingGroup]:
        """AGs with other members in which ``person`` is the only koordination: they must hand
        the role over (``/rolle``) before their data can be erased, or the AG is left without
        anybody who may change its register."""
        people = PeopleRepository(self.session)
        blocking = []
        for account in await AccountRepository(self.session).identities(person):
            blocking += await self._sole_coordination(people, account)
        return blocking

    async def _sole_coordination(self, people: PeopleRepository, person: Person) -> list[WorkingGroup]:
        blocking = []
        for membership, group in await people.groups_of(person.id):
            if membership.left_at is not None or membership.role is not Role.KOORDINATION:
                continue
            others = [
                p
                for m, p in await people.members(group.id)
                if p.id != person.id and m.left_at is None and m.role is Role.KOORDINATION
            ]
            if not others and await people.count_members(group.id) > 1:
                blocking.append(group)
        return blocking

    async def pseudonymise(self, person: Person, *, announce: bool = True) -> Erased:
        """Replace the person's name and platform id and drop what is only about them.

        Idempotent: a pseudonymised person is left as it is. What the AGs' records hold (their
        decisions, meetings, polls, memberships, non-anonymous votes and answers) stays, now
        attributed to "ehemaliges Mitglied".

        Args:
            person: Who.
            announce: Tell the adapters (:class:`PersonErased`) once committed; ``False`` when
                a last message still goes to the person, whose delivery announces it instead.
        """
        done = Erased()
        if person.pseudonymised_at is not None:
            return done
        platform, external_id = person.platform, person.external_id
        done.messages = await self.repo.drop_private_chat(platform, external_id)
        done.reminders = len(await self.repo.drop_private_reminders(person.id, platform, external_id))
        done.hints = await self.repo.drop_hints_quoting(person.id)
        await self.repo.drop_link_traces(person.id)
        person.display_name = FORMER_NAME
        person.username = None
        # Unique per platform, and says nothing about the human.
        person.external_id = f"{FORMER_ID_PREFIX}{person.id}"
        person.pseudonymised_at = self.clock.now()
        if announce:
            note_signal(self.session, PersonErased(platform, external_id))
        await self.session.flush()
        return done

    async def erase_all(self, person: Person) -> Erased:
        """:meth:`erase` for ``person`` and every account linked with it (``/konto``)."""
        done = Erased()
        accounts = await AccountRepository(self.session).identities(person)
        for account in accounts:
            # The confirmation goes to the writer's chat and announces that one when delivered;
            # the other accounts' chats are forgotten at the commit.
            done.add(await self.erase(account, announce=account.id != person.id))
        for account in accounts:
            account.identity_id = None
        await self.session.flush()
        return done

    async def erase(self, person: Person, *, announce: bool = False) -> Erased:
        """Everything about the person that does not belong to an AG's record (``/daten_loeschen``).

        On top of :meth:`pseudonymise`: memberships and roles, votes in non-anonymous polls,
        non-anonymous survey responses, the examples made from hints on their messages and
        their account codes.
        """
        done = Erased()
        await AccountRepository(self.session).drop_codes(person.id)
        # Bot messages elsewhere that name the person ("Mia ist jetzt Koordination"): those
        # delivered or given up go; a pending one is still to be delivered (and then goes with
        # the retention period).
        naming = await PersonalDataRepository(self.session).messages_naming(
            identity(person), exclude_private=True
        )
        done.messages += await self.repo.drop_messages(
            [m.id for m in naming if m.status is not OutboxStatus.PENDING]
        )
        done.examples = await self.repo.drop_examples_quoting(person.id)
        done.votes = await self.repo.drop_votes(person.id)
        done.responses = await self.repo.drop_responses(person.id)
        done.memberships = await self.repo.drop_memberships(person.id)
        person.pseudonymised_at = None  # erase goes all the way, also after a pseudonymisation
        # By default the confirmation still goes to the person's private chat, which announces
        # the erasure once delivered.
        done.add(await self.pseudonymise(person, announce=announce))
        return done
