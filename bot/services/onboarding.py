"""Newcomer onboarding: the brief of an AG, who got it, and what changed while someone was away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.ports import Clock
from bot.services.meetings import MeetingService, Occurrence
from bot.services.text import MAX_DESCRIPTION, clean
from storage.models import (
    AuditEntry,
    Decision,
    DecisionStatus,
    Goal,
    GoalStatus,
    Membership,
    Person,
    RegisterChange,
    Role,
    WorkingGroup,
)
from storage.repositories import AuditRepository, PeopleRepository, RegisterRepository

# How much of the register a brief shows; the rest is counted and linked (/beschluesse), so even
# an AG with thousands of decisions fits one Telegram message.
BRIEF_GOALS = 5
BRIEF_IMPORTANT = 4
BRIEF_DECISIONS = 6

CHANGE_ACTIONS = tuple(action.value for action in RegisterChange)


@dataclass(frozen=True, slots=True)
class Brief:
    """What a newcomer needs to know about an AG."""

    group: WorkingGroup
    goals: list[Goal]
    goal_count: int
    important: list[Decision]
    recent: list[Decision]
    decision_count: int
    coordinators: list[Person]
    kuemmerer: list[Person]
    next_meeting: Occurrence | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One change to the register, for "since your last visit"."""

    action: str
    number: int | None
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BriefStatus:
    """One line of ``/onboarding status``."""

    person: Person
    briefed_at: datetime | None
    acknowledged_at: datetime | None


class OnboardingService:
    """Composes briefs and remembers who was briefed and who confirmed reading."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.people = PeopleRepository(session)
        self.register = RegisterRepository(session)
        self.audit = AuditRepository(session)

    async def brief(self, group: WorkingGroup) -> Brief:
        """The brief: goals, important decisions first, then the newest, and the people."""
        goals = await self.register.goals(group.id, GoalStatus.ACTIVE)
        important = list(
            await self.session.scalars(
                select(Decision)
                .where(
                    Decision.group_id == group.id,
                    Decision.status == DecisionStatus.ACTIVE,
                    Decision.important.is_(True),
                )
                .order_by(Decision.number.desc())
                .limit(BRIEF_IMPORTANT)
            )
        )
        newest, total = await self.register.search_decisions(group.id, limit=BRIEF_DECISIONS + len(important))
        shown = {d.id for d in important}
        recent = [d for d in newest if d.id not in shown][:BRIEF_DECISIONS]
        return Brief(
            group=group,
            goals=goals[:BRIEF_GOALS],
            goal_count=len(goals),
            important=important,
            recent=recent,
            decision_count=total,
            coordinators=await self.people.coordinators(group.id),
            kuemmerer=await self.people.with_role(group.id, Role.KUEMMERER),
            next_meeting=await MeetingService(self.session, self.clock).next_meeting(group),
        )

    @staticmethod
    def needs_brief(group: WorkingGroup, membership: Membership) -> bool:
        """Whether a member should get the brief automatically (once per person and AG).

        An AG with nothing settled yet and no welcome text has nothing to brief about; its members
        get the brief once there is something to tell.
        """
        has_content = bool(group.welcome_text or group.goal_seq or group.decision_seq)
        # A confirmed brief without a sent one is the founder's (they know their AG).
        unbriefed = membership.briefed_at is None and membership.acknowledged_at is None
        return group.onboarding_enabled and unbriefed and membership.left_at is None and has_content

    @staticmethod
    def is_returning(
        group: WorkingGroup, membership: Membership, previous_seen: datetime, now: datetime
    ) -> bool:
        """Whether a briefed member comes back after the AG's absence threshold."""
        return (
            group.onboarding_enabled
            and (membership.briefed_at is not None or membership.acknowledged_at is not None)
            and now - previous_seen >= timedelta(days=group.absence_days)
        )

    def mark_briefed(self, membership: Membership) -> None:
        """Note that the brief went out (it is sent in the same transaction)."""
        membership.briefed_at = self.clock.now()
        membership.acknowledged_at = None

    async def acknowledge(self, group: WorkingGroup, person: Person) -> bool:
        """Record that a member read the brief; returns ``False`` if it was already confirmed.

        Raises:
            UserError: The person never got a brief of this AG.
        """
        membership = await self.people.membership(group.id, person.id)
        if membership is None or membership.briefed_at is None:
            raise UserError("onboarding.nothing_to_acknowledge", name=group.name)
        if membership.acknowledged_at is not None:
            return False
        membership.acknowledged_at = self.clock.now()
        return True

    async def changes_since(
        self, group: WorkingGroup, since: datetime, limit: int = 8
    ) -> tuple[list[Change], int]:
        """Register changes of an AG after ``since`` (newest first) and how many there were."""
        rows = list(
            await self.session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.group_id == group.id,
                    AuditEntry.created_at > since,
                    AuditEntry.action.in_(CHANGE_ACTIONS),
                )
                .order_by(AuditEntry.id.desc())
            )
        )
        # A replacement writes "decision.create" for the new text and "decision.replace" for the
        # old one; the reader wants one line about it.
        rows = [
            r for r in rows if not (r.action == RegisterChange.DECISION_CREATED and r.details.get("replaces"))
        ]
        changes = [
            Change(
                action=row.action,
                number=row.details.get("number"),
                text=str(row.details.get("text") or row.details.get("reason") or ""),
                at=row.created_at,
            )
            for row in rows[:limit]
        ]
        return changes, len(rows)

    async def status(self, group: WorkingGroup) -> list[BriefStatus]:
        """Who was briefed when and who confirmed reading, newest briefs first."""
        members = await self.people.members(group.id)
        lines = [BriefStatus(p, m.briefed_at, m.acknowledged_at) for m, p in members if m.briefed_at]
        return sorted(lines, key=lambda line: line.briefed_at or self.clock.now(), reverse=True)

    async def set_welcome(self, group: WorkingGroup, text: str, actor: Person) -> None:
        """Set the welcome text the koordination wrote for newcomers."""
        text = clean(text, limit=MAX_DESCRIPTION)
        await self._log(group, actor, "group.welcome", old=group.welcome_text, new=text)
        group.welcome_text = text

    async def set_enabled(self, group: WorkingGroup, enabled: bool, actor: Person) -> None:
        """Switch automatic briefs on or off for the AG."""
        await self._log(group, actor, "group.onboarding", old=group.onboarding_enabled, new=enabled)
        group.onboarding_enabled = enabled

    async def _log(self, group: WorkingGroup, actor: Person, action: str, **details: object) -> None:
        await self.audit.group_setting(group.id, actor.id, action, self.clock.now(), **details)
