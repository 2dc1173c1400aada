"""Closing and deleting an AG (``/ag schliessen``, ``/ag loeschen``, ``/ag wiederherstellen``).

Closing ends what the bot does by itself for the AG: reminders, meeting notices, reminders of
polls and surveys, hints (polls and surveys still close at their deadline, so none is left
hanging). The register stays readable. Deleting closes the AG and sets a date after the grace
period (``[datenschutz] ag_loeschfrist``); the daily retention job then deletes the AG with its
register, polls, surveys, memberships and jobs, and the chats forget it. Until then
``/ag wiederherstellen`` takes the deletion back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.ports import Clock
from bot.services.groups import GroupService
from bot.services.hints import SettingsChanged, hints_active, note, sensitivity_of
from bot.services.polls import JOB_CLOSE as POLL_CLOSE
from bot.services.reminders import JOB_KIND as REMINDER_JOB
from bot.services.surveys import JOB_CLOSE as SURVEY_CLOSE
from storage.models import Person, WorkingGroup
from storage.repositories import GroupRepository, JobRepository
from storage.repositories.reminders import ReminderRepository

DEFAULT_GRACE = timedelta(days=7)
# Jobs a closed AG keeps: the ends of running polls and surveys.
KEPT_JOBS = (POLL_CLOSE, SURVEY_CLOSE)


class GroupLifecycleService:
    """Closes, reopens, deletes and restores AGs."""

    def __init__(self, session: AsyncSession, clock: Clock, groups: GroupService) -> None:
        self.session = session
        self.clock = clock
        self.groups = groups
        self.repo = GroupRepository(session)
        self.jobs = JobRepository(session)

    async def close(self, group: WorkingGroup, actor: Person) -> int:
        """Close the AG; returns how many planned reminders and notices were cancelled.

        Raises:
            UserError: It is closed already.
        """
        if group.closed_at is not None:
            raise UserError("ag.close.already", name=group.name)
        now = self.clock.now()
        group.closed_at = now
        note(self.session, SettingsChanged(group.id, hints_active(group), sensitivity_of(group)))
        # A member's own reminders (set in their private chat) are theirs, not the AG's: they go on.
        private = ReminderRepository.private_of_group(group.id)
        cancelled = await self.jobs.cancel_group(group.id, KEPT_JOBS, now, keep_refs=(REMINDER_JOB, private))
        await self.groups.log_change(group, actor, "group.close", "group", group.id, cancelled=cancelled)
        return cancelled

    async def reopen(self, group: WorkingGroup, actor: Person) -> None:
        """Open a closed AG again (cancelled reminders stay cancelled).

        Raises:
            UserError: It is not closed, or its deletion is pending (restore it first).
        """
        if group.delete_after is not None:
            raise UserError("ag.open.deleting", name=group.name)
        if group.closed_at is None:
            raise UserError("ag.open.not_closed", name=group.name)
        group.closed_at = None
        note(self.session, SettingsChanged(group.id, hints_active(group), sensitivity_of(group)))
        await self.groups.log_change(group, actor, "group.reopen", "group", group.id)

    async def request_deletion(self, group: WorkingGroup, actor: Person, grace: timedelta) -> datetime:
        """Close the AG and have it deleted after ``grace``; returns when.

        Raises:
            UserError: Its deletion is pending already.
        """
        if group.delete_after is not None:
            raise UserError("ag.delete.already", name=group.name)
        now = self.clock.now()
        if group.closed_at is None:
            await self.close(group, actor)
        group.delete_after = now + grace
        await self.groups.log_change(
            group, actor, "group.delete", "group", group.id, after=group.delete_after.isoformat()
        )
        return group.delete_after

    async def restore(self, group: WorkingGroup, actor: Person) -> None:
        """Take a pending deletion back; the AG stays closed until ``/ag oeffnen``.

        Raises:
            UserError: No deletion is pending.
        """
        if group.delete_after is None:
            raise UserError("ag.restore.nothing", name=group.name)
        group.delete_after = None
        await self.groups.log_change(group, actor, "group.restore", "group", group.id)

    async def purge_due(self, limit: int = 20) -> list[int]:
        """Delete the AGs whose grace period is over; returns their ids."""
        due = await self.repo.due_for_deletion(self.clock.now(), limit)
        for group_id in due:
            await self.repo.delete(group_id)
        await self.session.flush()
        return due
