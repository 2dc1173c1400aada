"""Polls, their votes and the messages that show them on the platforms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Chat, Person, Poll, PollMessage, PollStatus, PollVote, WorkingGroup
from storage.repositories.people import PeopleRepository

# Built once: these run for every vote (a native poll's answer, ``/stimme``), and a prebuilt
# statement skips the construction and cache-key work SQLAlchemy would otherwise repeat.
_LOCK = (
    select(Poll)
    .where(Poll.id == bindparam("poll_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_VOTE = select(PollVote).where(
    PollVote.poll_id == bindparam("poll_id"), PollVote.voter_key == bindparam("voter_key")
)
_POLL_OF_NATIVE = (
    select(Poll, WorkingGroup)
    .join(PollMessage, PollMessage.poll_id == Poll.id)
    .join(WorkingGroup, WorkingGroup.id == Poll.group_id)
    .where(
        PollMessage.platform == bindparam("platform"),
        PollMessage.native_poll_id == bindparam("native_poll_id"),
    )
    .limit(1)
    # Nothing pending can change which poll a native poll shows: no flush before it.
    .execution_options(autoflush=False)
)
_VOTE_TABLE = PollVote.__table__
_ADD_VOTE = _VOTE_TABLE.insert().returning(_VOTE_TABLE.c.id)


class PollRepository:
    """Reads and writes :class:`Poll` rows and what belongs to them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # AGs loaded together with a poll: the session only holds weak references, and the
        # caller's ``GroupRepository.get`` of the poll's AG is then answered without a query.
        self._groups: dict[int, WorkingGroup] = {}

    async def add(self, poll: Poll) -> Poll:
        """Store a new poll (its id is set on return)."""
        self.session.add(poll)
        await self.session.flush()
        return poll

    async def get(self, poll_id: int) -> Poll | None:
        """A poll by id."""
        return await self.session.get(Poll, poll_id)

    async def by_number(self, group_id: int, number: int) -> Poll | None:
        """A poll by its running number in the AG."""
        return await self.session.scalar(select(Poll).where(Poll.group_id == group_id, Poll.number == number))

    async def person(self, person_id: int) -> Person | None:
        """A person by id (the author of a poll's result)."""
        return await self.session.get(Person, person_id)

    async def lock(self, poll_id: int) -> Poll | None:
        """The poll with its row lock held until the transaction ends (PostgreSQL; SQLite has one
        writer): a vote, a close and the check whether everyone voted do not interleave.

        On SQLite a poll this transaction has read already is returned as it is, without reading
        it again: one process uses the file and its transactions take turns
        (``storage/inline_sqlite.py``), so nobody can have changed it meanwhile.
        """
        if self.session.bind.dialect.name == "sqlite":
            return await self.session.get(Poll, poll_id)
        return await self.session.scalar(_LOCK, {"poll_id": poll_id})

    async def open_polls(self, group_id: int) -> list[Poll]:
        """The AG's open polls, by number."""
        rows = await self.session.scalars(
            select(Poll)
            .where(Poll.group_id == group_id, Poll.status == PollStatus.OPEN)
            .order_by(Poll.number)
        )
        return list(rows)

    async def count_open(self, group_id: int) -> int:
        """How many polls of the AG are open."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Poll)
            .where(Poll.group_id == group_id, Poll.status == PollStatus.OPEN)
        )
        return count or 0

    async def closed_since(self, group_id: int, since: datetime, limit: int) -> list[Poll]:
        """The AG's polls closed after ``since``, latest first."""
        rows = await self.session.scalars(
            select(Poll)
            .where(Poll.group_id == group_id, Poll.status == PollStatus.CLOSED, Poll.closed_at >= since)
            .order_by(Poll.closed_at.desc(), Poll.number.desc())
            .limit(limit)
        )
        return list(rows)

    # Votes -------------------------------------------------------------------------------------

    async def vote(self, poll_id: int, voter_key: str) -> PollVote | None:
        """The current vote behind a voter key."""
        return await self.session.scalar(_VOTE, {"poll_id": poll_id, "voter_key": voter_key})

    async def add_vote(self, vote: PollVote) -> PollVote:
        """Store a first vote (its id is set on return; the object is not added to the session).

        Core, not the ORM: it runs for every vote, and a flush of the unit of work costs more
        than the statement.
        """
        values = {
            column.key: getattr(vote, column.key)
            for column in _VOTE_TABLE.columns
            if not column.primary_key and getattr(vote, column.key) is not None
        }
        vote.id = (await self.session.execute(_ADD_VOTE, values)).scalar_one()
        self.session.info["wrote"] = True
        return vote

    async def delete_vote(self, vote: PollVote) -> None:
        """Withdraw a vote."""
        await self.session.delete(vote)
        await self.session.flush()

    async def votes(self, poll_id: int) -> list[PollVote]:
        """Every current vote of a poll."""
        rows = await self.session.scalars(
            select(PollVote).where(PollVote.poll_id == poll_id).order_by(PollVote.id)
        )
        return list(rows)

    async def ballots(self, poll_id: int) -> list[list[int]]:
        """The chosen positions of every current vote of a poll (rows, not objects: a large AG's
        tally reads thousands, and building an object each costs ten times the query)."""
        return list(await self.session.scalars(select(PollVote.choices).where(PollVote.poll_id == poll_id)))

    async def voter_keys(self, poll_id: int) -> set[str]:
        """The voter keys of a poll's current votes."""
        return set(await self.session.scalars(select(PollVote.voter_key).where(PollVote.poll_id == poll_id)))

    async def voters(self, poll_id: int) -> list[Person]:
        """The people who voted in a poll that records them, by name."""
        rows = await self.session.scalars(
            select(Person)
            .join(PollVote, PollVote.person_id == Person.id)
            .where(PollVote.poll_id == poll_id)
            .order_by(Person.display_name, Person.id)
        )
        return list(rows)

    async def forget_votes(self, poll_id: int) -> None:
        """Delete a poll's vote rows (an anonymous poll once its result is frozen)."""
        await self.session.execute(delete(PollVote).where(PollVote.poll_id == poll_id))

    # Members -----------------------------------------------------------------------------------

    async def members(self, group_id: int) -> list[Person]:
        """The people who belong to an AG now (those who left are not counted), by name."""
        return await PeopleRepository(self.session).current_members(group_id)

    async def reachable(self, people: Sequence[Person]) -> set[int]:
        """Ids of the people who have written to the bot privately (it can write back to them on
        every platform; Telegram refuses private messages to anyone else)."""
        reachable: set[int] = set()
        by_platform: dict[str, dict[str, int]] = {}
        for person in people:
            by_platform.setdefault(person.platform, {})[person.external_id] = person.id
        for platform, ids in by_platform.items():
            found = await self.session.scalars(
                select(Chat.external_id).where(
                    Chat.platform == platform, Chat.kind == "private", Chat.external_id.in_(list(ids))
                )
            )
            reachable.update(ids[external_id] for external_id in found)
        return reachable

    # Messages ----------------------------------------------------------------------------------

    async def add_message(self, message: PollMessage) -> None:
        """Remember a delivered announcement part."""
        self.session.add(message)
        await self.session.flush()

    async def message(self, platform: str, chat_id: str, message_id: str) -> PollMessage | None:
        """A delivered part by its platform message id."""
        return await self.session.scalar(
            select(PollMessage)
            .where(
                PollMessage.platform == platform,
                PollMessage.chat_id == chat_id,
                PollMessage.message_id == message_id,
            )
            .limit(1)
        )

    async def by_native(self, platform: str, native_poll_id: str) -> PollMessage | None:
        """The part that carries a native poll with this id."""
        return await self.session.scalar(
            select(PollMessage)
            .where(PollMessage.platform == platform, PollMessage.native_poll_id == native_poll_id)
            .limit(1)
        )

    async def poll_of_native(self, platform: str, native_poll_id: str) -> Poll | None:
        """The poll a native poll with this id shows (one query; its AG is loaded with it)."""
        row = (
            await self.session.execute(
                _POLL_OF_NATIVE, {"platform": platform, "native_poll_id": native_poll_id}
            )
        ).first()
        if row is None:
            return None
        poll, group = row
        self._groups[group.id] = group
        return poll

    async def native_messages(self, poll_id: int) -> list[PollMessage]:
        """The native polls of a poll that are not ended yet."""
        rows = await self.session.scalars(
            select(PollMessage)
            .where(
                PollMessage.poll_id == poll_id,
                PollMessage.native_poll_id.is_not(None),
                PollMessage.closed.is_(False),
            )
            .order_by(PollMessage.id)
        )
        return list(rows)
