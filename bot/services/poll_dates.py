"""Date polls (``/abstimmung termin``): finding a date that ends in a meeting.

A date poll is a poll (:class:`~bot.services.polls.PollService` opens, reminds, closes and lists
it) whose options are dates: each option has its start (``Poll.option_starts``) and every member
answers each date yes, maybe or no (``PollVote.answers``). The koordination then chooses a date
(``/abstimmung termin waehlen``), which closes the poll if it still runs and creates a one-off
meeting at that time through :class:`~bot.services.meetings.MeetingService`, with the AG's
notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.when_format import moment_text
from bot.services.date_answers import Answer, DateCounts, merge, yes_positions
from bot.services.meetings import MeetingService
from bot.services.poll_input import PollDraft
from bot.services.polls import PollService, VoteChange
from bot.services.when import When, parse_when
from storage.models import Meeting, Person, Poll, PollKind, PollStatus, PollVote, WorkingGroup


@dataclass(frozen=True, slots=True)
class Chosen:
    """What ``/abstimmung termin waehlen`` did.

    Attributes:
        poll: The date poll (closed, its chosen date and meeting set).
        meeting: The meeting made of the chosen date.
        closed_now: The poll was still running and was closed by the choice.
    """

    poll: Poll
    meeting: Meeting
    closed_now: bool


class DatePollService:
    """Opens date polls, takes answers per date, and turns the chosen date into a meeting."""

    def __init__(self, polls: PollService, meetings: MeetingService) -> None:
        self.polls = polls
        self.meetings = meetings
        self.clock = polls.clock

    async def create(self, group: WorkingGroup, draft: PollDraft, place: str | None, author: Person) -> Poll:
        """Open a date poll: every date read with the time grammar, in the AG's timezone.

        Args:
            group: The AG.
            draft: The poll as typed (:func:`~bot.services.poll_input.parse_date_poll`); its
                options are the dates as typed.
            place: Where the meeting will take place, if given.
            author: Who started it.

        Raises:
            UserError: A date is not understood or past (the grammar's message), repeats, or is
                a series; the settings are wrong (see :meth:`PollService.create`).
        """
        now = self.clock.now()
        tr = Translator(group.language, group.timezone)
        starts: list[datetime] = []
        for position, text in enumerate(draft.options, start=1):
            when = parse_when(text, now=now, tz=group.timezone, language=group.language)
            if when.is_recurring:
                raise UserError("polls.dates.recurring", text=text)
            if when.first in starts:
                raise UserError(
                    "polls.dates.duplicate",
                    first=starts.index(when.first) + 1,
                    second=position,
                    when=moment_text(tr, when.first),
                )
            starts.append(when.first)
        return await self.polls.create(group, draft, author, yes_no=(), dates=starts, location=place)

    async def answer(self, poll: Poll, person: Person, answers: dict[int, Answer]) -> VoteChange:
        """Record a person's answers to some dates (the others keep their earlier answers).

        Raises:
            UserError: The poll is closed or past its deadline.
        """
        poll = await self.polls.open_for_vote(poll)
        key = self.polls.voter_key(poll, person)
        existing = await self.polls.repo.vote(poll.id, key)
        merged = merge(existing.answers if existing else None, answers, len(poll.options))
        cast_at = None if poll.anonymous else self.clock.now()
        if existing is None:
            await self.polls.repo.add_vote(
                PollVote(
                    poll_id=poll.id,
                    voter_key=key,
                    person_id=None if poll.anonymous else person.id,
                    choices=yes_positions(merged),
                    answers=merged,
                    cast_at=cast_at,
                )
            )
            return VoteChange.NEW
        if list(existing.answers or ()) == merged:
            return VoteChange.SAME
        existing.answers, existing.choices, existing.cast_at = merged, yes_positions(merged), cast_at
        return VoteChange.CHANGED

    async def mine(self, poll: Poll, person: Person) -> list[str | None]:
        """A person's current answers (all ``None`` without any)."""
        vote = await self.polls.repo.vote(poll.id, self.polls.voter_key(poll, person))
        return merge(vote.answers if vote else None, {}, len(poll.options))

    async def counts(self, poll: Poll) -> DateCounts:
        """The answers per date: counted while it runs, frozen once closed."""
        return await self.polls.date_counts(poll)

    async def answers_by_person(self, poll: Poll) -> list[tuple[Person, list[str | None]]]:
        """Who answered what, by name (nobody for an anonymous poll, or once its votes are gone)."""
        if poll.anonymous:
            return []
        people = {p.id: p for p in await self.polls.voters(poll)}
        found = []
        for vote in await self.polls.repo.votes(poll.id):
            person = people.get(vote.person_id) if vote.person_id is not None else None
            if person is not None:
                found.append((person, merge(vote.answers, {}, len(poll.options))))
        found.sort(key=lambda item: (item[0].display_name.casefold(), item[0].id))
        return found

    async def choose(self, group: WorkingGroup, number: int, position: int, actor: Person) -> Chosen:
        """``/abstimmung termin waehlen <Nr> <Termin>``: close the poll (if it runs) and create the
        meeting at the chosen date (title: the poll's, place: the poll's, the AG's notices).

        Args:
            group: The AG.
            number: The poll's number.
            position: The date as shown (1-based).
            actor: The koordination choosing.

        Raises:
            UserError: No such poll, not a date poll, a date it does not have, a date that has
                passed, a date chosen already, too many meetings.
        """
        poll = await self.polls.get(group, number)
        if poll.kind is not PollKind.DATES:
            raise UserError("polls.dates.not_dates", number=number)
        locked = await self.polls.repo.lock(poll.id)
        assert locked is not None  # found a moment ago, in this transaction
        if locked.meeting_number is not None:
            raise UserError("polls.dates.already_chosen", number=number, meeting=locked.meeting_number)
        if not 1 <= position <= len(locked.options):
            raise UserError("polls.dates.date_unknown", count=len(locked.options), number=number)
        start = locked.starts[position - 1]
        now = self.clock.now()
        if start <= now:
            tr = Translator(group.language, group.timezone)
            raise UserError("polls.dates.choice_past", date=position, when=moment_text(tr, start))
        closed_now = locked.status is PollStatus.OPEN
        if closed_now:
            await self.polls.close(locked, actor=actor)
        local = start.astimezone(ZoneInfo(group.timezone)).replace(tzinfo=None)
        when = When(first=start, rule=None, tz=group.timezone, local_start=local)
        meeting = await self.meetings.add(group, when, locked.question, locked.location, actor)
        locked.chosen_position, locked.meeting_number = position - 1, meeting.number
        await self.polls.audit.add(
            group_id=group.id,
            actor_id=actor.id,
            action="poll.choose",
            entity="poll",
            entity_id=locked.id,
            at=now,
            details={"number": locked.number, "date": position, "meeting": meeting.number},
        )
        return Chosen(locked, meeting, closed_now)
