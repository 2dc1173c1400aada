"""The register of an AG: goals and decisions, with history and an audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.ports import Clock
from bot.services.hints import ItemChanged, note
from bot.services.text import MAX_ITEM, MAX_REASON, clean, fold, tags_of
from storage.models import Decision, DecisionStatus, Goal, GoalStatus, Person, RegisterChange, WorkingGroup
from storage.repositories import AuditRepository, GroupRepository, RegisterRepository

ITEM_CHANGES = frozenset(change.value for change in RegisterChange)

PAGE_SIZE = 10
# A /beschluesse search: at most this many words and #tags, each at most this long.
MAX_SEARCH_TERMS = 10
MAX_SEARCH_TERM = 60


@dataclass(frozen=True, slots=True)
class DecisionHistory:
    """A decision with what it replaced and what replaced it."""

    decision: Decision
    tags: list[str]
    predecessors: list[Decision]
    successor: Decision | None


@dataclass(frozen=True, slots=True)
class DecisionPage:
    """One page of a decision listing."""

    decisions: list[Decision]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed ``/beschluesse`` query: folded words and tags."""

    terms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> SearchQuery:
        """Split user input into ``#tags`` and folded search words.

        Every word becomes a condition of the query (a ``LIKE`` or an ``EXISTS``), so their number
        and length are capped: SQLite refuses about a thousand conditions ("Expression tree is too
        large") and ``LIKE`` patterns over 50,000 bytes, and PostgreSQL would scan every decision
        once per condition. No real search needs more than a few short words.

        Raises:
            UserError: More than :data:`MAX_SEARCH_TERMS` words or tags, or a word longer than
                :data:`MAX_SEARCH_TERM` characters (also after folding, which can lengthen text).
        """
        words = text.split()
        if len(words) > MAX_SEARCH_TERMS:
            raise UserError("decision.search_too_many", terms=len(words), most=MAX_SEARCH_TERMS)
        terms: list[str] = []
        tags: list[str] = []
        for word in words:
            if len(word) > MAX_SEARCH_TERM:
                raise UserError("decision.search_term_too_long", given=word, most=MAX_SEARCH_TERM)
            is_tag = word.startswith("#") and len(word) > 1
            found = (tags_of(word) or [fold(word[1:])]) if is_tag else [fold(word)]
            if any(len(term) > MAX_SEARCH_TERM for term in found):
                raise UserError("decision.search_term_too_long", given=word, most=MAX_SEARCH_TERM)
            if is_tag:
                tags.extend(found)
            else:
                terms.extend(term for term in found if term)
        if len(terms) + len(tags) > MAX_SEARCH_TERMS:  # one word may carry several #tags
            raise UserError("decision.search_too_many", terms=len(terms) + len(tags), most=MAX_SEARCH_TERMS)
        return cls(tuple(dict.fromkeys(terms)), tuple(dict.fromkeys(tags)))

    def __bool__(self) -> bool:
        return bool(self.terms or self.tags)


class RegisterService:
    """Records, changes and lists goals and decisions; nothing is ever deleted."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.clock = clock
        self.repo = RegisterRepository(session)
        self.groups = GroupRepository(session)
        self.audit = AuditRepository(session)

    # Goals -------------------------------------------------------------------------------------

    async def add_goal(self, group: WorkingGroup, text: str, author: Person) -> Goal:
        """Add an active goal with the AG's next goal number."""
        text = clean(text, limit=MAX_ITEM)
        number = await self.groups.next_number(group.id, "goal_seq")
        goal = await self.repo.add_goal(
            Goal(
                group_id=group.id,
                number=number,
                text=text,
                status=GoalStatus.ACTIVE,
                created_by_id=author.id,
                created_at=self.clock.now(),
            )
        )
        await self._log(group, author, "goal.create", goal.id, number=number, text=text)
        return goal

    async def goal(self, group: WorkingGroup, number: int) -> Goal:
        """The goal with this number.

        Raises:
            NotFound: There is no such goal in the AG.
        """
        goal = await self.repo.goal(group.id, number)
        if goal is None:
            raise NotFound("goal.not_found", number=number)
        return goal

    async def active_goals(self, group: WorkingGroup) -> list[Goal]:
        """The AG's active goals by number."""
        return await self.repo.goals(group.id, GoalStatus.ACTIVE)

    async def close_goal(
        self, group: WorkingGroup, number: int, status: GoalStatus, actor: Person, reason: str | None = None
    ) -> Goal:
        """Mark a goal achieved or discarded (a reason is required for discarding).

        Raises:
            NotFound: There is no such goal.
            UserError: The goal is not active any more, or the reason is missing.
        """
        goal = await self.goal(group, number)
        if status is GoalStatus.DISCARDED:
            reason = clean(reason, limit=MAX_REASON, what="reason")
        if goal.status is not GoalStatus.ACTIVE:
            raise UserError(f"goal.already_{goal.status.value}", number=number)
        goal.status = status
        goal.closed_at = self.clock.now()
        goal.closed_by_id = actor.id
        goal.close_reason = reason
        await self._log(group, actor, f"goal.{status.value}", goal.id, number=number, reason=reason)
        return goal

    # Decisions ---------------------------------------------------------------------------------

    async def record(
        self,
        group: WorkingGroup,
        text: str,
        author: Person,
        *,
        replaces: Decision | None = None,
    ) -> Decision:
        """Record a decision with the next number, today's date (AG timezone) and its tags.

        Raises:
            UserError: Empty or overlong text, or an identical active decision exists.
        """
        text = clean(text, limit=MAX_ITEM)
        tags = tags_of(text)
        search_text = fold(text)
        duplicate = await self.repo.find_active_by_search_text(group.id, search_text)
        if duplicate is not None and duplicate is not replaces:
            raise UserError("decision.duplicate", number=duplicate.number)
        now = self.clock.now()
        number = await self.groups.next_number(group.id, "decision_seq")
        decision = await self.repo.add_decision(
            Decision(
                group_id=group.id,
                number=number,
                text=text,
                search_text=search_text,
                status=DecisionStatus.ACTIVE,
                decided_on=now.astimezone(ZoneInfo(group.timezone)).date(),
                author_id=author.id,
                created_at=now,
                replaces_id=replaces.id if replaces else None,
            ),
            tags,
        )
        await self._log(
            group,
            author,
            "decision.create",
            decision.id,
            number=number,
            text=text,
            replaces=replaces.number if replaces else None,
        )
        return decision

    async def decision(self, group: WorkingGroup, number: int) -> Decision:
        """The decision with this number, whatever its status.

        Raises:
            NotFound: There is no such decision in the AG.
        """
        decision = await self.repo.decision(group.id, number)
        if decision is None:
            raise NotFound("decision.not_found", number=number)
        return decision

    async def _active(self, group: WorkingGroup, number: int) -> Decision:
        decision = await self.decision(group, number)
        if decision.status is DecisionStatus.REPLACED:
            successor = await self.repo.successor(decision.id)
            raise UserError(
                "decision.already_replaced",
                number=number,
                successor=successor.number if successor else "?",
            )
        if decision.status is DecisionStatus.REVOKED:
            raise UserError("decision.already_revoked", number=number)
        return decision

    async def replace(
        self, group: WorkingGroup, number: int, text: str, actor: Person
    ) -> tuple[Decision, Decision]:
        """Replace an active decision by a new one; the old text stays, linked to the new.

        Returns:
            The old and the new decision.
        """
        old = await self._active(group, number)
        text = clean(text, limit=MAX_ITEM)
        if fold(text) == old.search_text:
            raise UserError("decision.replace_same", number=number)
        new = await self.record(group, text, actor, replaces=old)
        old.status = DecisionStatus.REPLACED
        old.closed_at = new.created_at
        old.closed_by_id = actor.id
        await self._log(group, actor, "decision.replace", old.id, number=number, by=new.number)
        return old, new

    async def revoke(self, group: WorkingGroup, number: int, reason: str, actor: Person) -> Decision:
        """Revoke an active decision, keeping its text and the reason."""
        decision = await self._active(group, number)
        reason = clean(reason, limit=MAX_REASON, what="reason")
        decision.status = DecisionStatus.REVOKED
        decision.closed_at = self.clock.now()
        decision.closed_by_id = actor.id
        decision.close_reason = reason
        await self._log(group, actor, "decision.revoke", decision.id, number=number, reason=reason)
        return decision

    async def mark_important(
        self, group: WorkingGroup, number: int, important: bool, actor: Person
    ) -> tuple[Decision, bool]:
        """Mark an active decision as important (first in newcomers' briefs), or unmark it.

        Returns:
            The decision, and whether the mark changed (False: it already was as asked; the
            reply must not claim a change, and nothing is logged).
        """
        decision = await self._active(group, number)
        if decision.important == important:
            return decision, False
        decision.important = important
        await self._log(group, actor, "decision.important", decision.id, number=number, important=important)
        return decision, True

    async def history(self, group: WorkingGroup, number: int) -> DecisionHistory:
        """A decision with its predecessors (oldest first) and its successor."""
        decision = await self.decision(group, number)
        predecessors: list[Decision] = []
        current = decision
        # A replacement chain is linear; the guard stops on corrupted data instead of looping.
        while current.replaces_id is not None and len(predecessors) < 1000:
            previous = await self.repo.decision_by_id(current.replaces_id)
            if previous is None:
                break
            predecessors.insert(0, previous)
            current = previous
        return DecisionHistory(
            decision=decision,
            tags=await self.repo.tags(decision.id),
            predecessors=predecessors,
            successor=await self.repo.successor(decision.id),
        )

    async def search(self, group: WorkingGroup, query: SearchQuery, page: int = 1) -> DecisionPage:
        """A page of active decisions matching the query, newest first.

        Raises:
            UserError: The page does not exist.
        """
        if page < 1:
            raise UserError("decision.page_unknown", page=page, count=1)
        decisions, total = await self.repo.search_decisions(
            group.id,
            terms=query.terms,
            tags=query.tags,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        pages = max(1, -(-total // PAGE_SIZE))
        if page > pages:
            raise UserError("decision.page_unknown", page=page, count=pages)
        return DecisionPage(decisions, total, page, pages)

    async def _log(
        self, group: WorkingGroup, actor: Person, action: str, entity_id: int, **details: object
    ) -> None:
        entity = action.split(".", 1)[0]
        if action in ITEM_CHANGES:
            # The reopen guard refreshes this item once the transaction committed.
            note(self.audit.session, ItemChanged(group.id, entity, entity_id))
        await self.audit.add(
            group_id=group.id,
            actor_id=actor.id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            at=self.clock.now(),
            details=details,
        )
