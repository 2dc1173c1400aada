"""Polls of an AG: creating them, one current vote per person, closing them into a result that
may become a decision or a goal.

The votes in the database are the poll; the platforms' native polls (Telegram, Matrix) and the
numbered list of the console are views of it that feed votes in. A poll runs in every chat of
its AG (chats linked with ``/ag verknuepfen``), so there is one tally however many chats and
platforms took part.

Anonymous polls store no voter identity: a vote row carries a keyed hash of the person id (one
vote per person, changeable) and no person or time; at the close the counts are frozen on the
poll and the vote rows and the key are deleted, so afterwards nothing links anybody to it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.events import SentMessage
from bot.core.ports import Clock
from bot.services.date_answers import DateCounts
from bot.services.groups import ensure_open
from bot.services.poll_input import PollDraft
from bot.services.register import RegisterService
from bot.services.schedule import ScheduleService
from bot.services.tally import Outcome, Tally, quorum_needed
from bot.services.when import parse_when
from storage.models import (
    Decision,
    DecisionStatus,
    Goal,
    Person,
    Poll,
    PollEffect,
    PollKind,
    PollMessage,
    PollStatus,
    PollVote,
    WorkingGroup,
)
from storage.repositories import AuditRepository, GroupRepository, PeopleRepository, PollRepository

JOB_CLOSE = "poll.close"
JOB_REMIND = "poll.remind"
KINDS = (JOB_CLOSE, JOB_REMIND)
MAX_OPEN = 20
"""Open polls per AG (each is a message in every chat; more would be noise, or abuse)."""
DEFAULT_DURATION = timedelta(days=7)
"""How long a poll runs without ``bis:`` (also the latest close of ``bis: alle``)."""
MAX_DURATION = timedelta(days=90)
DEADLINE_TIME = time(23, 59)
"""A deadline given as a day ("bis: Freitag") lasts that whole day."""
RECENT = timedelta(days=30)
"""``/abstimmungen`` lists polls closed this recently."""
ABSTAIN = 2
"""Position of the abstain option of a yes / no / abstain poll (yes is 0, no is 1)."""
# Why a passed or failed result was not recorded (stored on the poll, shown in the result).
REJECTED = "rejected"
"""The majority said no to replacing a decision or setting a goal."""
FAILED = "failed"
"""The register refused (the decision to replace was replaced or revoked meanwhile, …)."""


class VoteChange(enum.StrEnum):
    """What a vote did."""

    NEW = "new"
    CHANGED = "changed"
    SAME = "same"


@dataclass(frozen=True, slots=True)
class Closing:
    """A closed poll and what became of it.

    Attributes:
        poll: The poll (closed, its result frozen).
        tally: The result.
        decision: The decision it became (effect DECISION or REPLACE), if any.
        replaced: The decision that decision replaced.
        goal: The goal it became (effect GOAL), if any.
        error: The register's refusal when recording failed (shown as the reason).
    """

    poll: Poll
    tally: Tally
    decision: Decision | None = None
    replaced: Decision | None = None
    goal: Goal | None = None
    error: UserError | None = None


def passes_effect(poll: Poll, tally: Tally) -> bool:
    """Whether a result is one the poll's effect records: it passed, and for replacing a
    decision or setting a goal in a yes / no poll, the majority said yes."""
    winner = tally.winner
    if winner is None:
        return False
    return not (poll.yes_no and winner != 0 and poll.effect in (PollEffect.REPLACE, PollEffect.GOAL))


class PollService:
    """Creates, counts and closes polls; records results in the register."""

    def __init__(
        self, session: AsyncSession, clock: Clock, schedule: ScheduleService, register: RegisterService
    ) -> None:
        self.clock = clock
        self.schedule = schedule
        self.register = register
        self.repo = PollRepository(session)
        self.groups = GroupRepository(session)
        self.people = PeopleRepository(session)
        self.audit = AuditRepository(session)

    # Settings ----------------------------------------------------------------------------------

    async def set_open(self, group: WorkingGroup, open_: bool, actor: Person) -> bool:
        """Let every member start polls (``True``) or only the koordination; returns whether
        the setting changed."""
        if group.polls_open == open_:
            return False
        group.polls_open = open_
        await self.audit.group_setting(group.id, actor.id, "group.polls", self.clock.now(), open=open_)
        return True

    # Creating ----------------------------------------------------------------------------------

    async def create(
        self,
        group: WorkingGroup,
        draft: PollDraft,
        author: Person,
        *,
        yes_no: Sequence[str],
        dates: Sequence[datetime] = (),
        location: str | None = None,
    ) -> Poll:
        """Open a poll and schedule its close and the reminder of non-voters.

        Args:
            group: The AG.
            draft: The poll as typed (see :func:`~bot.services.poll_input.parse_poll`).
            author: Who started it.
            yes_no: The options of a poll given without any, in the AG's language (yes, no,
                abstain; the last one abstains).
            dates: A date poll's start per option (without ``bis:`` it ends by the first).
            location: Where a date poll's meeting takes place.

        Raises:
            UserError: Too many open polls, a deadline that is past, repeats or is too far, a
                decision to replace that does not exist or is not in force.
        """
        ensure_open(group)
        now = self.clock.now()
        if await self.repo.count_open(group.id) >= MAX_OPEN:
            raise UserError("polls.too_many_open", limit=MAX_OPEN)
        latest = min(now + DEFAULT_DURATION, *dates) if dates else now + DEFAULT_DURATION
        deadline = self._deadline(group, draft, now, latest)
        if draft.replaces_number is not None:
            decision = await self.register.decision(group, draft.replaces_number)
            if decision.status is not DecisionStatus.ACTIVE:
                raise UserError("polls.replace_inactive", number=decision.number)
        number = await self.groups.next_number(group.id, "poll_seq")
        poll = await self.repo.add(
            Poll(
                group_id=group.id,
                number=number,
                question=draft.question,
                options=list(draft.options or yes_no),
                yes_no=draft.yes_no,
                multiple=draft.multiple,
                anonymous=draft.anonymous,
                effect=draft.effect,
                replaces_number=draft.replaces_number,
                quorum_count=draft.quorum_count,
                quorum_percent=draft.quorum_percent,
                until_all=draft.until_all,
                deadline=deadline,
                remind_minutes=int(draft.remind.total_seconds() // 60) if draft.remind else None,
                status=PollStatus.OPEN,
                created_by_id=author.id,
                created_at=now,
                secret=secrets.token_hex(16) if draft.anonymous else None,
                kind=PollKind.DATES if dates else PollKind.STANDARD,
                option_starts=[start.isoformat() for start in dates] or None,
                location=location,
            )
        )
        await self.schedule.schedule(JOB_CLOSE, poll.id, deadline, group_id=group.id)
        if draft.remind is not None and deadline - draft.remind > now:
            await self.schedule.schedule(JOB_REMIND, poll.id, deadline - draft.remind, group_id=group.id)
        await self._log(
            group, author, "poll.create", poll, effect=poll.effect.value, anonymous=poll.anonymous
        )
        return poll

    def _deadline(self, group: WorkingGroup, draft: PollDraft, now: datetime, default: datetime) -> datetime:
        if draft.deadline is None:
            return default
        when = parse_when(
            draft.deadline, now=now, tz=group.timezone, language=group.language, default_time=DEADLINE_TIME
        )
        if when.is_recurring:
            raise UserError("polls.deadline_recurring", text=draft.deadline)
        if when.first - now > MAX_DURATION:
            raise UserError("polls.deadline_too_far", days=MAX_DURATION.days)
        return when.first

    # Finding -----------------------------------------------------------------------------------

    async def get(self, group: WorkingGroup, number: int) -> Poll:
        """The poll with this number.

        Raises:
            NotFound: There is no such poll in the AG.
        """
        poll = await self.repo.by_number(group.id, number)
        if poll is None:
            raise NotFound("polls.not_found", number=number)
        return poll

    async def by_id(self, poll_id: int) -> Poll | None:
        """A poll by id (jobs, deep links)."""
        return await self.repo.get(poll_id)

    async def find_for_vote(
        self, group: WorkingGroup, number: int | None, replied: tuple[str, str, str] | None
    ) -> Poll:
        """The poll a ``/stimme`` means: the one named, the one whose message it replies to, or
        the only open one of the AG.

        Args:
            group: The AG of the chat.
            number: The poll number typed (``/stimme 3: 1``), if any.
            replied: ``(platform, chat id, message id)`` of the message replied to, if any.

        Raises:
            UserError: No poll is open, or several are and none was named.
        """
        if number is not None:
            return await self.get(group, number)
        if replied is not None:
            message = await self.repo.message(*replied)
            poll = await self.repo.get(message.poll_id) if message is not None else None
            if poll is not None and poll.group_id == group.id:
                return poll
        open_polls = await self.repo.open_polls(group.id)
        if not open_polls:
            raise UserError("polls.none_open")
        if len(open_polls) > 1:
            numbers = ", ".join(str(p.number) for p in open_polls[:10])
            raise UserError("polls.which", numbers=numbers, example=open_polls[-1].number)
        return open_polls[0]

    async def overview(self, group: WorkingGroup, limit: int = 10) -> tuple[list[Poll], list[Poll]]:
        """The open polls and those closed in the last 30 days (latest first)."""
        recent = await self.repo.closed_since(group.id, self.clock.now() - RECENT, limit)
        return (await self.repo.open_polls(group.id))[:limit], recent

    # Voting ------------------------------------------------------------------------------------

    def voter_key(self, poll: Poll, person: Person) -> str:
        """One key per person and poll: the person id, or its keyed hash in an anonymous poll."""
        if poll.secret is None:
            return f"p{person.id}"
        return hmac.new(poll.secret.encode(), str(person.id).encode(), hashlib.sha256).hexdigest()[:48]

    async def vote(self, poll: Poll, person: Person, choices: Sequence[int]) -> VoteChange:
        """Cast or change a person's vote (0-based positions); returns a :class:`VoteChange`.

        Raises:
            UserError: The poll is closed or past its deadline, a position does not exist, or
                several were chosen in a poll that allows one.
        """
        poll = await self.open_for_vote(poll)
        chosen = sorted(set(choices))
        if not chosen or any(not 0 <= c < len(poll.options) for c in chosen):
            raise UserError("polls.option_unknown", number=poll.number, count=len(poll.options))
        if len(chosen) > 1 and not poll.multiple:
            raise UserError("polls.single_choice", number=poll.number)
        key = self.voter_key(poll, person)
        existing = await self.repo.vote(poll.id, key)
        cast_at = None if poll.anonymous else self.clock.now()
        if existing is None:
            person_id = None if poll.anonymous else person.id
            await self.repo.add_vote(
                PollVote(poll_id=poll.id, voter_key=key, person_id=person_id, choices=chosen, cast_at=cast_at)
            )
            return VoteChange.NEW
        if list(existing.choices) == chosen:
            return VoteChange.SAME
        existing.choices, existing.cast_at = chosen, cast_at
        return VoteChange.CHANGED

    async def retract(self, poll: Poll, person: Person) -> bool:
        """Withdraw a person's vote; returns whether there was one.

        Raises:
            UserError: The poll is closed or past its deadline.
        """
        poll = await self.open_for_vote(poll)
        existing = await self.repo.vote(poll.id, self.voter_key(poll, person))
        if existing is None:
            return False
        await self.repo.delete_vote(existing)
        return True

    async def open_for_vote(self, poll: Poll) -> Poll:
        """The poll locked for a vote; ``polls.closed`` if it is closed or past its deadline."""
        locked = await self.repo.lock(poll.id)
        if locked is None or locked.status is not PollStatus.OPEN:
            raise UserError("polls.closed", number=poll.number)
        if self.clock.now() >= locked.deadline:
            # The close job is due and runs in a moment; a vote now would come too late.
            raise UserError("polls.closed", number=poll.number)
        return locked

    # Counting ----------------------------------------------------------------------------------

    async def tally(self, poll: Poll) -> Tally:
        """The current standing of an open poll, or the frozen result of a closed one."""
        abstain = ABSTAIN if poll.yes_no and len(poll.options) > ABSTAIN else None
        if poll.status is PollStatus.CLOSED and poll.counts is not None:
            members = poll.member_count or 0
            quorum = quorum_needed(members, poll.quorum_count, poll.quorum_percent)
            return Tally(tuple(poll.counts), poll.voter_count or 0, members, abstain, quorum)
        members = await self.people.count_members(poll.group_id)
        quorum = quorum_needed(members, poll.quorum_count, poll.quorum_percent)
        if poll.kind is PollKind.DATES:
            counts = await self.date_counts(poll)
            return Tally(counts.yes, counts.voters, members, None, quorum)
        ballots = await self.repo.ballots(poll.id)
        return Tally.of_ballots(len(poll.options), ballots, members, abstain=abstain, quorum=quorum)

    async def date_counts(self, poll: Poll) -> DateCounts:
        """The answers per date of a date poll: counted while it runs, frozen once closed."""
        if poll.status is PollStatus.CLOSED and poll.answer_counts is not None:
            return DateCounts.frozen(poll.answer_counts, poll.voter_count or 0)
        votes = await self.repo.votes(poll.id)
        return DateCounts.of_answers(len(poll.options), [vote.answers for vote in votes])

    async def voters(self, poll: Poll) -> list[Person]:
        """Who voted so far, by name (nobody is named for an anonymous poll)."""
        if poll.anonymous:
            return []
        return await self.repo.voters(poll.id)

    async def non_voters(self, poll: Poll) -> list[Person]:
        """The AG's members who have not voted in an open poll."""
        keys = await self.repo.voter_keys(poll.id)
        return [m for m in await self.repo.members(poll.group_id) if self.voter_key(poll, m) not in keys]

    async def everyone_voted(self, poll: Poll) -> bool:
        """Whether every current member of the AG has voted (``bis: alle``)."""
        members = await self.repo.members(poll.group_id)
        keys = await self.repo.voter_keys(poll.id)
        return bool(members) and all(self.voter_key(poll, m) in keys for m in members)

    async def reachable(self, people: Sequence[Person]) -> set[int]:
        """Ids of the people the bot can write to privately (see the repository)."""
        return await self.repo.reachable(people)

    # Closing -----------------------------------------------------------------------------------

    async def close(self, poll: Poll, *, actor: Person | None = None) -> Tally | None:
        """Close an open poll and freeze its result; ``None`` if it was closed already.

        The pending close and reminder jobs are cancelled; an anonymous poll's vote rows and
        hash key are deleted.
        """
        locked = await self.repo.lock(poll.id)
        if locked is None or locked.status is not PollStatus.OPEN:
            return None
        tally = await self.tally(locked)
        if locked.kind is PollKind.DATES:
            locked.answer_counts = [list(row) for row in (await self.date_counts(locked)).rows]
        locked.status = PollStatus.CLOSED
        locked.closed_at = self.clock.now()
        locked.closed_by_id = actor.id if actor is not None else None
        locked.counts = list(tally.counts)
        locked.voter_count = tally.voters
        locked.member_count = tally.members
        locked.outcome = tally.outcome.value
        await self.schedule.cancel(KINDS, locked.id)
        if locked.anonymous:
            await self.repo.forget_votes(locked.id)
            locked.secret = None
        group = await self.groups.get(locked.group_id)
        assert group is not None
        await self._log(group, actor, "poll.close", locked, outcome=tally.outcome.value, voters=tally.voters)
        return tally

    async def record_result(self, group: WorkingGroup, poll: Poll, tally: Tally, text: str) -> Closing:
        """Make a closed poll's passed result the decision or goal its effect asks for.

        Args:
            group: The poll's AG.
            poll: The closed poll.
            tally: Its result.
            text: The decision's or goal's text (the question and the winning option).

        Returns:
            What was recorded; ``poll.not_recorded`` says why nothing was when it should have.
        """
        if poll.effect is PollEffect.NONE:
            return Closing(poll, tally)
        if tally.outcome is not Outcome.PASSED:
            poll.not_recorded = tally.outcome.value
            return Closing(poll, tally)
        if not passes_effect(poll, tally):
            poll.not_recorded = REJECTED
            return Closing(poll, tally)
        author = await self.repo.person(poll.created_by_id) if poll.created_by_id else None
        if author is None:
            poll.not_recorded = FAILED
            return Closing(poll, tally, error=UserError("polls.author_gone"))
        try:
            if poll.effect is PollEffect.GOAL:
                goal = await self.register.add_goal(group, text, author)
                poll.recorded_number = goal.number
                return Closing(poll, tally, goal=goal)
            if poll.effect is PollEffect.REPLACE and poll.replaces_number is not None:
                old, decision = await self.register.replace(group, poll.replaces_number, text, author)
                decision.poll_id = poll.id
                poll.recorded_number = decision.number
                return Closing(poll, tally, decision=decision, replaced=old)
            decision = await self.register.record(group, text, author)
        except UserError as error:  # raised before the register wrote anything
            poll.not_recorded = FAILED
            return Closing(poll, tally, error=error)
        decision.poll_id = poll.id
        poll.recorded_number = decision.number
        return Closing(poll, tally, decision=decision)

    async def result_of(self, poll_id: int) -> tuple[Poll, Tally] | None:
        """A poll and its tally by id (a decision shows the poll it came from)."""
        poll = await self.repo.get(poll_id)
        if poll is None:
            return None
        return poll, await self.tally(poll)

    # The platforms' messages -----------------------------------------------------------------

    async def delivered(self, poll_id: int, sent: SentMessage) -> tuple[Poll, PollMessage] | None:
        """Remember a delivered part of a poll's announcement (the outbox's ``on_sent``).

        Returns:
            The poll and the stored part; ``None`` for an unknown poll or a part reported twice
            (delivery is at least once).
        """
        platform, chat_id = sent.chat.platform.value, sent.chat.external_id
        if sent.message_id is not None and await self.repo.message(platform, chat_id, sent.message_id):
            return None
        poll = await self.repo.get(poll_id)
        if poll is None:
            return None
        message = PollMessage(
            poll_id=poll_id,
            platform=platform,
            chat_id=chat_id,
            message_id=sent.message_id,
            native_poll_id=sent.poll_id,
            closed=False,
        )
        await self.repo.add_message(message)
        return poll, message

    async def of_native(self, platform: str, native_poll_id: str) -> Poll | None:
        """The poll a platform's native poll shows (one query, which loads its AG too)."""
        return await self.repo.poll_of_native(platform, native_poll_id)

    async def natives_to_end(self, poll: Poll) -> list[PollMessage]:
        """The native polls of a closed poll that are still open on their platforms (marked
        as ended: the caller queues their end in the same transaction)."""
        messages = await self.repo.native_messages(poll.id)
        for message in messages:
            message.closed = True
        return messages

    async def _log(
        self, group: WorkingGroup, actor: Person | None, action: str, poll: Poll, **details: object
    ) -> None:
        await self.audit.add(
            group_id=group.id,
            actor_id=actor.id if actor is not None else None,
            action=action,
            entity="poll",
            entity_id=poll.id,
            at=self.clock.now(),
            details={"number": poll.number, **details},
        )
