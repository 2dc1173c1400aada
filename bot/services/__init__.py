"""Domain logic: groups and roles, the register of goals and decisions, onboarding, the reopen guard.

Services work on one database session (one transaction per update) and raise
:class:`bot.core.errors.UserError` for anything the person can fix.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ports import Clock
from bot.services.group_lifecycle import GroupLifecycleService
from bot.services.groups import GroupService
from bot.services.hints import HintService
from bot.services.linking import LinkService
from bot.services.meetings import MeetingService
from bot.services.onboarding import OnboardingService
from bot.services.poll_dates import DatePollService
from bot.services.polls import PollService
from bot.services.register import RegisterService
from bot.services.reminders import ReminderService
from bot.services.schedule import ScheduleService
from bot.services.surveys import SurveyService


class Services:
    """All services bound to one session; built once per handled update.

    Args:
        session: The update's database session (inside its transaction).
        clock: Source of the current time.
        default_timezone: Timezone given to new AGs.
        default_language: Language given to new AGs.
    """

    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        *,
        default_timezone: str = "Europe/Berlin",
        default_language: str = "de",
    ) -> None:
        self.session = session
        self.clock = clock
        self.groups = GroupService(
            session, clock, default_timezone=default_timezone, default_language=default_language
        )
        self.lifecycle = GroupLifecycleService(session, clock, self.groups)
        self.links = LinkService(session, clock, self.groups)
        self.register = RegisterService(session, clock)
        self.onboarding = OnboardingService(session, clock)
        self.hints = HintService(session, clock)
        self.schedule = ScheduleService(session, clock)
        self.reminders = ReminderService(session, clock, self.schedule)
        self.meetings = MeetingService(session, clock, self.schedule)
        self.polls = PollService(session, clock, self.schedule, self.register)
        self.poll_dates = DatePollService(self.polls, self.meetings)
        self.surveys = SurveyService(session, clock, self.schedule)


__all__ = [
    "DatePollService",
    "GroupLifecycleService",
    "GroupService",
    "HintService",
    "LinkService",
    "MeetingService",
    "OnboardingService",
    "PollService",
    "RegisterService",
    "ReminderService",
    "ScheduleService",
    "Services",
    "SurveyService",
]
