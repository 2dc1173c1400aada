"""Queries of the reopen guard: settled items, hints given, coordinators' examples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Decision,
    DecisionStatus,
    Goal,
    GoalStatus,
    OutboxMessage,
    ReopenExample,
    ReopenHint,
)

ItemRow = tuple[str, int, int, str, date | None]
"""``(kind, id, number, text, settled on)`` of an active goal or decision."""


def goal_row(goal: Goal) -> ItemRow:
    """The item row of a goal (settled when it was set)."""
    return ("goal", goal.id, goal.number, goal.text, goal.created_at.date())


def decision_row(decision: Decision) -> ItemRow:
    """The item row of a decision."""
    return ("decision", decision.id, decision.number, decision.text, decision.decided_on)


class HintRepository:
    """Reads what the guard compares messages with and records what it said."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active_items(self, group_id: int) -> list[ItemRow]:
        """Active goals and decisions of an AG as plain rows (no ORM objects: AGs may have
        thousands of decisions and only these columns are needed)."""
        goals = await self.session.execute(
            select(Goal.id, Goal.number, Goal.text, Goal.created_at).where(
                Goal.group_id == group_id, Goal.status == GoalStatus.ACTIVE
            )
        )
        decisions = await self.session.execute(
            select(Decision.id, Decision.number, Decision.text, Decision.decided_on).where(
                Decision.group_id == group_id, Decision.status == DecisionStatus.ACTIVE
            )
        )
        rows: list[ItemRow] = [("goal", i, n, t, c.date() if c else None) for i, n, t, c in goals]
        rows += [("decision", i, n, t, d) for i, n, t, d in decisions]
        return rows

    async def item(self, kind: str, item_id: int) -> ItemRow | None:
        """One goal or decision by id, if it is active."""
        if kind == "goal":
            goal = await self.session.get(Goal, item_id)
            return goal_row(goal) if goal is not None and goal.status is GoalStatus.ACTIVE else None
        decision = await self.session.get(Decision, item_id)
        active = decision is not None and decision.status is DecisionStatus.ACTIVE
        return decision_row(decision) if active else None

    async def examples(self, group_id: int) -> Sequence[ReopenExample]:
        """The AG's labelled examples, oldest first."""
        rows = await self.session.scalars(
            select(ReopenExample).where(ReopenExample.group_id == group_id).order_by(ReopenExample.id)
        )
        return list(rows)

    async def last_hint(self, platform: str, chat_id: str, kind: str, item_id: int) -> datetime | None:
        """When the item was last pointed out in the chat."""
        return await self.session.scalar(
            select(ReopenHint.created_at)
            .where(
                ReopenHint.platform == platform,
                ReopenHint.chat_id == chat_id,
                ReopenHint.item_kind == kind,
                ReopenHint.item_id == item_id,
            )
            .order_by(ReopenHint.created_at.desc())
            .limit(1)
        )

    async def hint(self, hint_id: int) -> ReopenHint | None:
        """A hint by id."""
        return await self.session.get(ReopenHint, hint_id)

    async def hint_by_reply(self, platform: str, chat_id: str, external_id: str) -> ReopenHint | None:
        """The hint whose reply has this platform message id."""
        return await self.session.scalar(
            select(ReopenHint)
            .join(OutboxMessage, OutboxMessage.id == ReopenHint.outbox_id)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.external_id == external_id,
            )
        )

    async def recent_hints(self, group_id: int, platform: str, chat_id: str, limit: int) -> list[ReopenHint]:
        """The newest hints of an AG in a chat, newest first."""
        rows = await self.session.scalars(
            select(ReopenHint)
            .where(
                ReopenHint.group_id == group_id,
                ReopenHint.platform == platform,
                ReopenHint.chat_id == chat_id,
            )
            .order_by(ReopenHint.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def has_example(self, group_id: int, text: str, kind: str, item_id: int, reopens: bool) -> bool:
        """Whether the AG already has this exact labelled example."""
        found = await self.session.scalar(
            select(ReopenExample.id)
            .where(
                ReopenExample.group_id == group_id,
                ReopenExample.item_kind == kind,
                ReopenExample.item_id == item_id,
                ReopenExample.reopens == reopens,
                ReopenExample.text == text,
            )
            .limit(1)
        )
        return found is not None

    async def add(self, row: ReopenHint | ReopenExample) -> None:
        """Store a hint or an example (flushed, so its id is known)."""
        self.session.add(row)
        await self.session.flush()
