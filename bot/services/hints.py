"""The reopen guard's bookkeeping: settings per AG, hints given, cool-down, coordinators' feedback.

The guard itself (:mod:`bot.services.reopen`) is pure and lives once per process; this service
works inside an update's transaction. Changes the process-wide guard must learn about — items
added or closed, feedback, switched settings — are noted on the session as *signals* and applied
after the commit (``on_committed`` observers), so the guard never learns about a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UsageError, UserError
from bot.core.observers import note_signal
from bot.core.ports import Clock
from bot.core.sanitize import scrub
from bot.services.reopen import LabelledExample, Sensitivity, SettledItem
from bot.services.text import clean
from storage.models import DecisionStatus, GoalStatus, Person, ReopenExample, ReopenHint, WorkingGroup
from storage.repositories import AuditRepository, HintRepository, RegisterRepository
from storage.repositories.hints import ItemRow, decision_row, goal_row

MAX_COOLDOWN_DAYS = 365
MAX_EXAMPLE = 2000
RECENT_HINTS = 3
"""How many of a chat's hints a bare ``/hinweis falsch`` offers to choose from."""


@dataclass(frozen=True, slots=True)
class ItemChanged:
    """An item was added, edited or closed: the guard must refresh it."""

    group_id: int
    kind: str
    item_id: int


@dataclass(frozen=True, slots=True)
class ExampleAdded:
    """The koordination labelled a message."""

    group_id: int
    example: LabelledExample


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    """The AG's guard settings changed."""

    group_id: int
    enabled: bool
    sensitivity: Sensitivity


Signal = ItemChanged | ExampleAdded | SettingsChanged


def note(session: AsyncSession, signal: Signal) -> None:
    """Remember a signal for the guard, applied after the commit (see :func:`note_signal`)."""
    note_signal(session, signal)


def guard_id(kind: str, item_id: int) -> int:
    """The guard's id of an item: decisions keep their id, goals are negative.

    Goals and decisions live in different tables whose ids overlap; the guard needs one id space.
    """
    return item_id if kind == "decision" else -item_id


def item_ref(gid: int) -> tuple[str, int]:
    """``(kind, database id)`` of a guard id."""
    return ("decision", gid) if gid > 0 else ("goal", -gid)


def settled_item(row: ItemRow) -> SettledItem:
    """The guard's view of an item row."""
    kind, item_id, number, text, settled = row
    return SettledItem(guard_id(kind, item_id), kind, number, text, settled)


def hints_active(group: WorkingGroup) -> bool:
    """Whether the guard watches the AG: switched on, and the AG not closed."""
    return group.hints_enabled and group.closed_at is None


def sensitivity_of(group: WorkingGroup) -> Sensitivity:
    """The AG's sensitivity (an unknown stored value counts as normal)."""
    try:
        return Sensitivity(group.hint_sensitivity)
    except ValueError:
        return Sensitivity.NORMAL


class HintService:
    """Settings, hints and feedback of the reopen guard for one transaction.

    Args:
        session: The update's session.
        clock: Source of time.
    """

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.repo = HintRepository(session)
        self.audit = AuditRepository(session)

    # Settings ----------------------------------------------------------------------------------

    async def set_enabled(self, group: WorkingGroup, enabled: bool, actor: Person) -> None:
        """Switch the guard on or off for the AG."""
        await self._log(group, actor, "group.hints", old=group.hints_enabled, new=enabled)
        group.hints_enabled = enabled
        note(self.session, SettingsChanged(group.id, hints_active(group), sensitivity_of(group)))

    async def set_private(self, group: WorkingGroup, private: bool, actor: Person) -> None:
        """Whether hints go to the writer privately (``True``) or to the group chat."""
        await self._log(group, actor, "group.hints_private", old=group.hints_private, new=private)
        group.hints_private = private

    async def set_sensitivity(self, group: WorkingGroup, sensitivity: Sensitivity, actor: Person) -> None:
        """How readily the guard speaks up in the AG."""
        await self._log(group, actor, "group.hint_sensitivity", old=group.hint_sensitivity, new=sensitivity)
        group.hint_sensitivity = sensitivity.value
        note(self.session, SettingsChanged(group.id, hints_active(group), sensitivity))

    async def set_cooldown(self, group: WorkingGroup, days: int, actor: Person) -> None:
        """Days before the same item is pointed out again in the same chat.

        Raises:
            UserError: Not between 1 and 365 days.
        """
        if not 1 <= days <= MAX_COOLDOWN_DAYS:
            raise UserError("hints.cooldown_range", most=MAX_COOLDOWN_DAYS)
        await self._log(group, actor, "group.hint_cooldown", old=group.hint_cooldown_days, new=days)
        group.hint_cooldown_days = days

    # What the guard compares with --------------------------------------------------------------

    async def items(self, group_id: int) -> list[SettledItem]:
        """The AG's active goals and decisions, as the guard sees them."""
        return [settled_item(row) for row in await self.repo.active_items(group_id)]

    async def item(self, kind: str, item_id: int) -> SettledItem | None:
        """One item if it is (still) active."""
        row = await self.repo.item(kind, item_id)
        return settled_item(row) if row is not None else None

    async def examples(self, group_id: int) -> list[LabelledExample]:
        """The AG's labelled examples."""
        return [
            LabelledExample(e.text, guard_id(e.item_kind, e.item_id), e.reopens)
            for e in await self.repo.examples(group_id)
        ]

    # Hints -------------------------------------------------------------------------------------

    async def cooling_down(self, group: WorkingGroup, platform: str, chat_id: str, item: SettledItem) -> bool:
        """Whether the item was pointed out in the chat within the AG's cool-down."""
        kind, item_id = item_ref(item.id)
        last = await self.repo.last_hint(platform, chat_id, kind, item_id)
        return last is not None and self.clock.now() - last < timedelta(days=group.hint_cooldown_days)

    async def record(
        self,
        group: WorkingGroup,
        platform: str,
        chat_id: str,
        item: SettledItem,
        *,
        message_id: str | None,
        text: str,
        sender: Person | None,
        score: float,
    ) -> ReopenHint:
        """Store a hint about to be sent (its reply's outbox id is set with :meth:`attach`)."""
        kind, item_id = item_ref(item.id)
        hint = ReopenHint(
            group_id=group.id,
            platform=platform,
            chat_id=chat_id,
            item_kind=kind,
            item_id=item_id,
            item_number=item.number,
            message_id=message_id,
            message_text=scrub(text[:MAX_EXAMPLE]),  # stored as it came: at least storable
            sender_id=sender.id if sender else None,
            score=score,
            created_at=self.clock.now(),
        )
        await self.repo.add(hint)
        return hint

    # Feedback ----------------------------------------------------------------------------------

    async def find_hint(
        self,
        group: WorkingGroup,
        platform: str,
        chat_id: str,
        *,
        hint_id: int | None = None,
        reply_to: str | None = None,
    ) -> ReopenHint:
        """The hint a ``/hinweis falsch`` is about: by id (button, typed number) or by the
        replied-to message. There is deliberately no "newest hint" default: a bare command once
        unlearned a correct hint; the handler asks with :meth:`recent_hints` instead.

        Raises:
            NotFound: No such hint in this AG.
            UserError: The replied-to message is none of the bot's hints.
        """
        hint = None
        if hint_id is not None:
            hint = await self.repo.hint(hint_id)
        elif reply_to is not None:
            hint = await self.repo.hint_by_reply(platform, chat_id, reply_to)
            if hint is None:
                raise UserError("hints.reply_not_a_hint")
        if hint is None or hint.group_id != group.id:
            raise NotFound("hints.no_hint")
        return hint

    async def recent_hints(self, group: WorkingGroup, platform: str, chat_id: str) -> list[ReopenHint]:
        """The AG's last few hints in a chat, newest first, to ask which one is meant.

        Raises:
            NotFound: The bot has not given a hint in this chat.
        """
        hints = await self.repo.recent_hints(group.id, platform, chat_id, RECENT_HINTS)
        if not hints:
            raise NotFound("hints.no_hint")
        return hints

    async def mark_wrong(self, group: WorkingGroup, hint: ReopenHint, actor: Person) -> bool:
        """The hint was wrong: its message becomes an example that does not reopen the item.

        Returns:
            False if the hint had already been marked wrong.
        """
        if hint.wrong_at is not None:
            return False
        hint.wrong_at = self.clock.now()
        hint.wrong_by_id = actor.id
        await self._example(
            group, hint.message_text, hint.item_kind, hint.item_id, False, "wrong", actor, hint
        )
        return True

    async def point_out(
        self, group: WorkingGroup, kind: str, number: int, text: str | None, actor: Person
    ) -> tuple[SettledItem, bool]:
        """A missed message: it does question the item ``number`` (a decision or goal).

        Returns:
            The item, and False if the AG already had exactly this example (the same message
            pointed out twice): then nothing is stored again.

        Raises:
            UsageError: No message text (the command must answer the message).
            NotFound: No such item.
            UserError: The item is not active.
        """
        if not text or not text.strip():
            raise UsageError("hints.reply_needed")
        text = clean(text, limit=MAX_EXAMPLE, what="text")
        register = RegisterRepository(self.session)
        if kind == "goal":
            goal = await register.goal(group.id, number)
            if goal is None or goal.status is not GoalStatus.ACTIVE:
                raise NotFound("hints.no_item_goal", number=number)
            row = goal_row(goal)
        else:
            decision = await register.decision(group.id, number)
            if decision is None or decision.status is not DecisionStatus.ACTIVE:
                raise NotFound("hints.no_item_decision", number=number)
            row = decision_row(decision)
        if await self.repo.has_example(group.id, text, kind, row[1], True):
            return settled_item(row), False
        await self._example(group, text, kind, row[1], True, "missed", actor, None)
        return settled_item(row), True

    async def _example(
        self,
        group: WorkingGroup,
        text: str,
        kind: str,
        item_id: int,
        reopens: bool,
        source: str,
        actor: Person,
        hint: ReopenHint | None,
    ) -> None:
        await self.repo.add(
            ReopenExample(
                group_id=group.id,
                text=text,
                item_kind=kind,
                item_id=item_id,
                reopens=reopens,
                source=source,
                hint_id=hint.id if hint else None,
                created_by_id=actor.id,
                created_at=self.clock.now(),
            )
        )
        await self._log(group, actor, f"hint.{source}", kind=kind, item=item_id, reopens=reopens)
        note(self.session, ExampleAdded(group.id, LabelledExample(text, guard_id(kind, item_id), reopens)))

    async def _log(self, group: WorkingGroup, actor: Person, action: str, **details: object) -> None:
        await self.audit.group_setting(group.id, actor.id, action, self.clock.now(), **details)
