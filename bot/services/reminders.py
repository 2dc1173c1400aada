"""Reminders: ``/erinnerung <wann>: <Text>``, once or recurring, for an AG's group or one person.

A reminder keeps its time the way it was meant (an RRULE in the local wall time of its timezone,
anchored at ``local_start``) and its next due time in UTC, which its one pending scheduled job
mirrors. Firing (:meth:`ReminderService.fire`, called by the job in the scheduler's transaction)
advances the reminder to its next occurrence and schedules the job for it, or closes it; what fell
due while the bot was down is delivered late within the grace period and counted as missed
beyond it, so nothing is dropped silently and nothing is sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, PermissionDenied, UserError
from bot.core.events import ChatRef
from bot.core.ports import Clock
from bot.services.groups import ensure_open
from bot.services.schedule import ScheduleService
from bot.services.scheduler import LATE_AFTER
from bot.services.text import clean
from bot.services.when import When, WhenError, parse_when
from storage.models import Person, Reminder, ReminderStatus, WorkingGroup
from storage.repositories.reminders import ReminderRepository, ReminderScope

JOB_KIND = "reminder"
"""The scheduler's job kind of reminders (``router.on.job``)."""

MAX_TEXT = 1000
"""Longest reminder text (it is sent as one message with a short title)."""
MAX_WHEN = 200
"""Longest time expression; a longer one is no time (and would only cost the grammar time)."""
MAX_OPEN = 200
"""Most open (active or paused) reminders of one AG, or of one person's private chat."""
MAX_CATCH_UP = 10_000
"""Most occurrences counted as missed after a long downtime (a daily reminder: 27 years)."""


class Resumption(Enum):
    """What ``/erinnerung weiter`` found."""

    RESUMED = "resumed"
    ENDED = "ended"
    """A series whose end passed while it was paused: closed."""
    PAST = "past"
    """A one-off whose time passed while it was paused: left paused, the person is told."""


@dataclass(frozen=True, slots=True)
class Resumed:
    """The outcome of :meth:`ReminderService.resume`; ``when`` starts at the next occurrence."""

    reminder: Reminder
    when: When
    outcome: Resumption


@dataclass(frozen=True, slots=True)
class Firing:
    """What a due reminder does now (see :meth:`ReminderService.fire`).

    Attributes:
        reminder: The reminder, already advanced (``next_due``) or closed (``status``).
        when: Its time, for describing the rule.
        due: The occurrence delivered now, or the last one missed.
        deliver: Send the reminder now (possibly late).
        late: Delivered noticeably after ``due`` (the message says so).
        missed: Occurrences that fell due while the bot was down and are not delivered.
        next_due: The next occurrence (its job is scheduled), ``None`` when the reminder is over.
    """

    reminder: Reminder
    when: When
    due: datetime
    deliver: bool
    late: bool
    missed: int
    next_due: datetime | None


def when_of(reminder: Reminder) -> When:
    """The stored time of a reminder as a :class:`When` starting at its next due time."""
    first = reminder.next_due or reminder.last_fired_at or reminder.created_at
    return When(first=first, rule=reminder.rule, tz=reminder.timezone, local_start=reminder.local_start)


def scope_of(group: WorkingGroup | None, person: Person, *, private: bool) -> ReminderScope:
    """The reminders a chat works on: the person's private ones in a private chat, else the AG's.

    Raises:
        ValueError: A group chat without an AG (handlers check that first).
    """
    if private:
        return ReminderScope.private(person.id)
    if group is None:
        raise ValueError("a group chat's reminders need its AG")
    return ReminderScope.of_group(group.id)


class ReminderService:
    """Sets, lists, changes and fires reminders.

    Args:
        session: The transaction's session.
        clock: Source of the current time.
        schedule: Schedules and cancels the reminders' jobs in the same transaction.
    """

    def __init__(self, session: AsyncSession, clock: Clock, schedule: ScheduleService) -> None:
        self.session = session
        self.clock = clock
        self.schedule = schedule
        self.repo = ReminderRepository(session)

    # Setting -----------------------------------------------------------------------------------

    async def create(
        self,
        *,
        chat: ChatRef,
        owner: Person,
        group: WorkingGroup | None,
        when_text: str,
        text: str,
        language: str,
        timezone: str,
    ) -> tuple[Reminder, When]:
        """Understand ``when_text``, store the reminder and schedule its first occurrence.

        Args:
            chat: Where it is sent: the group chat it was set in (the AG's reminder), or the
                person's private chat (their own, belonging to ``group`` if they have one).
            owner: Who set it (may change it later).
            group: The AG it belongs to, if any.
            when_text: The time expression (see :func:`~bot.services.when.parse_when`).
            text: What to say.
            language: The AG's language (tried first by the grammar).
            timezone: The AG's (or the bot's) timezone the time is meant in.

        Raises:
            WhenError: The time is not understood, past, impossible, ambiguous, …
            UserError: The text is empty or too long, or the scope has :data:`MAX_OPEN` open
                reminders.
        """
        if group is not None and not chat.is_private:
            ensure_open(group)  # a person's own reminders go on in a closed AG
        now = self.clock.now()
        if len(when_text) > MAX_WHEN:
            raise WhenError("when.unknown", text=when_text)
        when = parse_when(when_text, now=now, tz=timezone, language=language)
        text = clean(text, limit=MAX_TEXT)
        scope = scope_of(group, owner, private=chat.is_private)
        await self.repo.lock_scope(scope)
        if await self.repo.count_open(scope) >= MAX_OPEN:
            raise UserError("reminder.too_many", most=MAX_OPEN)
        reminder = await self.repo.add(
            Reminder(
                group_id=group.id if group is not None else None,
                owner_id=owner.id,
                number=await self.repo.next_number(scope),
                platform=chat.platform.value,
                chat_id=chat.external_id,
                chat_kind=chat.kind.value,
                text=text,
                rule=when.rule,
                timezone=when.tz,
                local_start=when.local_start,
                next_due=when.first,
                status=ReminderStatus.ACTIVE,
                fired_count=0,
                created_at=now,
            )
        )
        await self.schedule.schedule(JOB_KIND, reminder.id, when.first, group_id=reminder.group_id)
        return reminder, when

    # Reading -----------------------------------------------------------------------------------

    async def open_in(
        self, scope: ReminderScope, limit: int
    ) -> tuple[list[tuple[Reminder, Person | None]], int]:
        """Up to ``limit`` open reminders of a scope with who set them (running ones by next
        due time, paused ones after them), and how many open ones there are in all."""
        return await self.repo.open_in(scope, limit), await self.repo.count_open(scope)

    # Changing ----------------------------------------------------------------------------------

    async def find(self, scope: ReminderScope, number: int) -> Reminder:
        """The open reminder with this number.

        Raises:
            NotFound: There is none (also when it is done, missed or deleted).
        """
        reminder = await self.repo.by_number(scope, number)
        if reminder is None:
            key = "reminder.not_found_private" if scope.is_private else "reminder.not_found"
            raise NotFound(key, number=number)
        return reminder

    async def _changeable(self, scope: ReminderScope, number: int, actor: Person, may_any: bool) -> Reminder:
        """The reminder, if ``actor`` may change it: their own, or any when ``may_any``
        (the AG's koordination). A person's private reminders are theirs by their scope."""
        reminder = await self.find(scope, number)
        if may_any or reminder.owner_id == actor.id:
            return reminder
        owner = await self.session.get(Person, reminder.owner_id) if reminder.owner_id is not None else None
        if owner is None:  # the person is gone: their reminders are the koordination's to handle
            raise PermissionDenied("reminder.only_koordination", number=number)
        raise PermissionDenied("reminder.not_yours", number=number, name=owner.display_name)

    async def delete(self, scope: ReminderScope, number: int, actor: Person, *, may_any: bool) -> Reminder:
        """Delete an open reminder (the row stays, so its number is never given out again)."""
        reminder = await self._changeable(scope, number, actor, may_any)
        # Jobs first, then the reminder: the firing transaction locks them in this order too.
        await self.schedule.cancel((JOB_KIND,), reminder.id)
        reminder.status = ReminderStatus.DELETED
        reminder.next_due = None
        return reminder

    async def pause(self, scope: ReminderScope, number: int, actor: Person, *, may_any: bool) -> Reminder:
        """Stop a reminder until it is resumed; its next due time is kept (a paused one-off
        remembers when it was meant for).

        Raises:
            UserError: It is paused already.
        """
        reminder = await self._changeable(scope, number, actor, may_any)
        if reminder.status is ReminderStatus.PAUSED:
            raise UserError("reminder.already_paused", number=number)
        await self.schedule.cancel((JOB_KIND,), reminder.id)
        reminder.status = ReminderStatus.PAUSED
        return reminder

    async def resume(self, scope: ReminderScope, number: int, actor: Person, *, may_any: bool) -> Resumed:
        """Let a paused reminder run again from its next occurrence after now.

        A series does not deliver what fell due while it was paused. A one-off whose time
        passed meanwhile stays paused (outcome :attr:`Resumption.PAST`); a series whose end
        passed is closed (:attr:`Resumption.ENDED`).

        Raises:
            UserError: It is not paused.
        """
        reminder = await self._changeable(scope, number, actor, may_any)
        if reminder.status is not ReminderStatus.PAUSED:
            raise UserError("reminder.not_paused", number=number)
        now = self.clock.now()
        when = when_of(reminder)
        upcoming = when.next_after(now)
        if upcoming is None:
            if reminder.rule is None:
                return Resumed(reminder, when, Resumption.PAST)
            reminder.status = ReminderStatus.DONE
            reminder.next_due = None
            return Resumed(reminder, when, Resumption.ENDED)
        # A job of the time before the pause may have been committed by a firing that ran while
        # the pause was made; cancelling first keeps it at one pending job.
        await self.schedule.cancel((JOB_KIND,), reminder.id)
        reminder.status = ReminderStatus.ACTIVE
        reminder.next_due = upcoming
        await self.schedule.schedule(JOB_KIND, reminder.id, upcoming, group_id=reminder.group_id)
        return Resumed(reminder, when_of(reminder), Resumption.RESUMED)

    # Firing ------------------------------------------------------------------------------------

    async def fire(self, reminder_id: int, *, now: datetime, grace: timedelta) -> Firing | None:
        """Advance a due reminder (in the scheduler's transaction) and say what to send.

        Every occurrence from the stored next due time up to ``now`` fell due. The latest of
        them is delivered if it is at most ``grace`` old (late if more than a moment); the
        others, and the latest too when it is older, are missed. A series then continues with
        its first occurrence after ``now`` (its job is scheduled here), a one-off is closed.

        Returns:
            What to send, or ``None`` when there is nothing to do (deleted or paused meanwhile,
            or a job that came early).
        """
        reminder = await self.repo.get(reminder_id)
        if reminder is None or reminder.status is not ReminderStatus.ACTIVE or reminder.next_due is None:
            return None
        if reminder.next_due > now:
            return None
        when = when_of(reminder)
        fallen = [reminder.next_due]
        while len(fallen) < MAX_CATCH_UP:
            following = when.next_after(fallen[-1])
            if following is None or following > now:
                break
            fallen.append(following)
        due = fallen[-1]
        deliver = now - due <= grace
        missed = len(fallen) - 1 if deliver else len(fallen)
        next_due = when.next_after(max(now, due))
        if deliver:
            reminder.fired_count += 1
            reminder.last_fired_at = now
        reminder.next_due = next_due
        if next_due is None:
            reminder.status = ReminderStatus.DONE if deliver else ReminderStatus.MISSED
        else:
            # Not flushed here: the scheduler writes the batch's changes together.
            await self.schedule.schedule(
                JOB_KIND, reminder.id, next_due, group_id=reminder.group_id, flush=False
            )
        return Firing(
            reminder=reminder,
            when=when,
            due=due,
            deliver=deliver,
            late=deliver and now - due > LATE_AFTER,
            missed=missed,
            next_due=next_due,
        )
