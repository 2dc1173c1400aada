"""Goals, decisions and their tags."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Decision, DecisionStatus, DecisionTag, Goal, GoalStatus


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matching(group_id: object, terms: Sequence[str], tags: Sequence[str]) -> Select:
    """Active decisions of an AG (an id or a bind parameter) with every term and every tag."""
    query = select(Decision).where(Decision.group_id == group_id, Decision.status == DecisionStatus.ACTIVE)
    for term in terms:
        query = query.where(Decision.search_text.like(f"%{_like_escape(term)}%", escape="\\"))
    for tag in tags:
        query = query.where(
            select(DecisionTag.decision_id)
            .where(DecisionTag.decision_id == Decision.id, DecisionTag.tag == tag)
            .exists()
        )
    return query


def _page(query: Select) -> Select:
    """A page of ``query``, newest first; the total rides along as a window function (one query
    per page instead of two)."""
    return (
        query.add_columns(func.count().over().label("total"))
        .order_by(Decision.number.desc())
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


# Running numbers are 32-bit integer columns; larger numbers cannot exist (and PostgreSQL would
# reject them as parameters), so they are "not found" without asking the database.
MAX_NUMBER = 2**31 - 1

# The plain list of active decisions, built once (it answers every /beschluesse without terms).
_ACTIVE_PAGE = _page(_matching(bindparam("group_id"), (), ()))


class RegisterRepository:
    """Reads and writes an AG's goals and decisions."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Goals -------------------------------------------------------------------------------------

    async def add_goal(self, goal: Goal) -> Goal:
        """Store a new goal."""
        self.session.add(goal)
        await self.session.flush()
        return goal

    async def goal(self, group_id: int, number: int) -> Goal | None:
        """The goal with this running number in an AG."""
        if number > MAX_NUMBER:
            return None
        return await self.session.scalar(select(Goal).where(Goal.group_id == group_id, Goal.number == number))

    async def goals(self, group_id: int, status: GoalStatus | None = GoalStatus.ACTIVE) -> list[Goal]:
        """An AG's goals in order of their numbers (all of them when ``status`` is ``None``)."""
        query = select(Goal).where(Goal.group_id == group_id)
        if status is not None:
            query = query.where(Goal.status == status)
        return list(await self.session.scalars(query.order_by(Goal.number)))

    async def count_goals(self, group_id: int, status: GoalStatus) -> int:
        """How many goals of an AG have a status."""
        return (
            await self.session.scalar(
                select(func.count()).select_from(Goal).where(Goal.group_id == group_id, Goal.status == status)
            )
            or 0
        )

    # Decisions ---------------------------------------------------------------------------------

    async def add_decision(self, decision: Decision, tags: Sequence[str]) -> Decision:
        """Store a new decision with its (already normalised, distinct) tags."""
        self.session.add(decision)
        await self.session.flush()
        self.session.add_all(DecisionTag(decision_id=decision.id, tag=tag) for tag in tags)
        await self.session.flush()
        return decision

    async def decision(self, group_id: int, number: int) -> Decision | None:
        """The decision with this running number in an AG."""
        if number > MAX_NUMBER:
            return None
        return await self.session.scalar(
            select(Decision).where(Decision.group_id == group_id, Decision.number == number)
        )

    async def decision_by_id(self, decision_id: int) -> Decision | None:
        """The decision with this primary key."""
        return await self.session.get(Decision, decision_id)

    async def all_decisions(self, group_id: int) -> list[Decision]:
        """Every decision of an AG, whatever its status, in order of their numbers."""
        query = select(Decision).where(Decision.group_id == group_id).order_by(Decision.number)
        return list(await self.session.scalars(query))

    async def tags_of_group(self, group_id: int) -> dict[int, list[str]]:
        """The sorted tags of every decision of an AG that has any, by decision id (one query)."""
        rows = await self.session.execute(
            select(DecisionTag.decision_id, DecisionTag.tag)
            .join(Decision, Decision.id == DecisionTag.decision_id)
            .where(Decision.group_id == group_id)
            .order_by(DecisionTag.decision_id, DecisionTag.tag)
        )
        tags: dict[int, list[str]] = {}
        for decision_id, tag in rows:
            tags.setdefault(decision_id, []).append(tag)
        return tags

    async def successor(self, decision_id: int) -> Decision | None:
        """The decision that replaced this one, if any."""
        return await self.session.scalar(select(Decision).where(Decision.replaces_id == decision_id))

    async def tags(self, decision_id: int) -> list[str]:
        """A decision's tags, sorted."""
        rows = await self.session.scalars(
            select(DecisionTag.tag).where(DecisionTag.decision_id == decision_id).order_by(DecisionTag.tag)
        )
        return list(rows)

    async def find_active_by_search_text(self, group_id: int, search_text: str) -> Decision | None:
        """An active decision of an AG with exactly this folded text (duplicate check)."""
        return await self.session.scalar(
            select(Decision)
            .where(
                Decision.group_id == group_id,
                Decision.status == DecisionStatus.ACTIVE,
                Decision.search_text == search_text,
            )
            .limit(1)
        )

    async def search_decisions(
        self,
        group_id: int,
        *,
        terms: Sequence[str] = (),
        tags: Sequence[str] = (),
        offset: int = 0,
        limit: int = 10,
    ) -> tuple[list[Decision], int]:
        """Active decisions matching every term (in folded text) and every tag, newest first.

        Returns:
            The page of decisions and the total number of matches.
        """
        params = {"group_id": group_id, "offset": offset, "limit": limit}
        # The plain list (/beschluesse) uses the statement built once; searches build their own.
        page = _page(_matching(bindparam("group_id"), terms, tags)) if terms or tags else _ACTIVE_PAGE
        rows = (await self.session.execute(page, params)).all()
        if rows:
            return [row[0] for row in rows], rows[0][1]
        query = _matching(group_id, terms, tags)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        return [], total

    async def count_decisions(self, group_id: int, status: DecisionStatus) -> int:
        """How many decisions of an AG have a status."""
        return (
            await self.session.scalar(
                select(func.count())
                .select_from(Decision)
                .where(Decision.group_id == group_id, Decision.status == status)
            )
            or 0
        )
