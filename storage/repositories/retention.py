"""The rows the retention job removes: one query per kind of personal datum, run in batches.

Every query selects ids by an indexed column (a time, a status) and the deletes go by primary
key, at most ``limit`` rows a time, so a backlog of 100,000 rows never holds a table long and the
same call run twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AccountCode,
    LinkAttempt,
    LinkCode,
    Membership,
    OutboxMessage,
    OutboxStatus,
    Person,
    Poll,
    PollStatus,
    PollVote,
    Reminder,
    ReminderStatus,
    ReopenExample,
    ReopenHint,
    Survey,
    SurveyResponse,
    SurveyStatus,
)
from storage.models.survey_response import ResponseStatus

# Reminders that will not fire again (a deleted one is only marked, so that its number stays taken).
FINISHED_REMINDERS = (ReminderStatus.DONE, ReminderStatus.MISSED, ReminderStatus.DELETED)


class RetentionRepository:
    """Finds and removes personal data whose retention period is over."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Selections (ids) ---------------------------------------------------------------------------

    @staticmethod
    def sent_messages(before: datetime) -> Select[Any]:
        """Delivered bot messages (their text) delivered before ``before``."""
        return select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < before
        )

    @staticmethod
    def failed_messages(before: datetime) -> Select[Any]:
        """Bot messages given up on, written before ``before``."""
        return select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.created_at < before
        )

    @staticmethod
    def old_hints(before: datetime) -> Select[Any]:
        """Reopen hints (they quote the member's message) given before ``before`` that no
        coordinator turned into a labelled example."""
        labelled = exists().where(ReopenExample.hint_id == ReopenHint.id)
        return select(ReopenHint.id).where(ReopenHint.created_at < before, ~labelled)

    @staticmethod
    def labelled_hint_senders(before: datetime) -> Select[Any]:
        """Old hints kept as an example's source that still name who wrote the message."""
        labelled = exists().where(ReopenExample.hint_id == ReopenHint.id)
        return select(ReopenHint.id).where(
            ReopenHint.created_at < before, labelled, ReopenHint.sender_id.is_not(None)
        )

    @staticmethod
    def link_attempts(before: datetime) -> Select[Any]:
        """Attempts to redeem a link code made before ``before``."""
        return select(LinkAttempt.id).where(LinkAttempt.created_at < before)

    @staticmethod
    def link_codes(before: datetime) -> Select[Any]:
        """Link codes (who made and who redeemed them) that expired before ``before``."""
        return select(LinkCode.id).where(LinkCode.expires_at < before)

    @staticmethod
    def account_codes(before: datetime) -> Select[Any]:
        """Codes for linking accounts that expired before ``before``."""
        return select(AccountCode.id).where(AccountCode.expires_at < before)

    @staticmethod
    def finished_reminders(before: datetime) -> Select[Any]:
        """Reminders that will not fire again, last active before ``before``, that still hold
        their text."""
        last = func.coalesce(Reminder.last_fired_at, Reminder.created_at)
        return select(Reminder.id).where(
            Reminder.status.in_(FINISHED_REMINDERS), last < before, Reminder.text != ""
        )

    @staticmethod
    def former_members(before: datetime) -> Select[Any]:
        """People not seen since ``before`` who are in no AG any more and still carry a name."""
        current = exists().where(Membership.person_id == Person.id, Membership.left_at.is_(None))
        return select(Person.id).where(Person.last_seen < before, Person.pseudonymised_at.is_(None), ~current)

    @staticmethod
    def survey_leftovers() -> Select[Any]:
        """Responses of closed surveys that still hold a draft, a position in the questions, or
        (anonymous surveys) the hash against double submission. Closing clears them; this finds
        what an interrupted close or an older version left."""
        closed = select(Survey.id).where(Survey.status == SurveyStatus.CLOSED)
        anonymous = select(Survey.id).where(Survey.status == SurveyStatus.CLOSED, Survey.anonymous.is_(True))
        return select(SurveyResponse.id).where(
            SurveyResponse.survey_id.in_(closed),
            (
                (SurveyResponse.status == ResponseStatus.DRAFT)
                | SurveyResponse.draft.is_not(None)
                | SurveyResponse.cursor.is_not(None)
                | and_(SurveyResponse.survey_id.in_(anonymous), SurveyResponse.respondent_key.is_not(None))
            ),
        )

    @staticmethod
    def anonymous_votes() -> Select[Any]:
        """Vote rows of closed anonymous polls (their counts are frozen on the poll at the close)."""
        closed = select(Poll.id).where(Poll.status == PollStatus.CLOSED, Poll.anonymous.is_(True))
        return select(PollVote.id).where(PollVote.poll_id.in_(closed))

    # Execution ----------------------------------------------------------------------------------

    async def count(self, selection: Select[Any]) -> int:
        """How many rows ``selection`` finds."""
        return int(await self.session.scalar(select(func.count()).select_from(selection.subquery())) or 0)

    async def ids(self, selection: Select[Any], limit: int) -> list[int]:
        """Up to ``limit`` ids of ``selection``, lowest first."""
        column = selection.selected_columns[0]
        return list((await self.session.scalars(selection.order_by(column).limit(limit))).all())

    async def delete(self, model: Any, ids: Sequence[int]) -> int:
        """Delete rows of ``model`` by id."""
        if not ids:
            return 0
        await self.session.execute(delete(model).where(model.id.in_(ids)))
        return len(ids)

    async def blank_reminders(self, ids: Sequence[int]) -> int:
        """Drop the texts of finished reminders; the rows stay, so their numbers are never
        given again."""
        if not ids:
            return 0
        await self.session.execute(update(Reminder).where(Reminder.id.in_(ids)).values(text=""))
        return len(ids)

    async def forget_hint_senders(self, ids: Sequence[int]) -> int:
        """Drop who wrote the messages of these hints (the text stays with its example)."""
        if not ids:
            return 0
        await self.session.execute(update(ReopenHint).where(ReopenHint.id.in_(ids)).values(sender_id=None))
        return len(ids)

    async def clear_survey_leftovers(self, ids: Sequence[int]) -> int:
        """Remove unfinished responses and clear drafts, positions and hashes of the others."""
        if not ids:
            return 0
        await self.session.execute(
            delete(SurveyResponse).where(
                SurveyResponse.id.in_(ids), SurveyResponse.status == ResponseStatus.DRAFT
            )
        )
        anonymous = select(Survey.id).where(Survey.anonymous.is_(True))
        await self.session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.id.in_(ids))
            .values(draft=None, cursor=None, editing=False, active=False)
        )
        await self.session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.id.in_(ids), SurveyResponse.survey_id.in_(anonymous))
            .values(respondent_key=None)
        )
        return len(ids)
