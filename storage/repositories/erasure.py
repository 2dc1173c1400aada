"""Removing one person from the database: the queries behind pseudonymisation and erasure.

The services decide what goes (:mod:`bot.services.erasure`); this module only knows where a
person appears: by ``people.id`` in the foreign keys, and by their platform id where the bot
addresses them privately (private chats, the outbox, private reminders, which carry the chat's
platform id as a string).
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Chat,
    LinkAttempt,
    LinkCode,
    Membership,
    OutboxMessage,
    Person,
    PollVote,
    Reminder,
    ReopenExample,
    ReopenHint,
    ScheduledJob,
    SurveyResponse,
)
from storage.models.scheduled_job import JobStatus

PRIVATE = "private"


class ErasureRepository:
    """Deletes or detaches the rows that name one person."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def drop_private_chat(self, platform: str, external_id: str) -> int:
        """The person's private chat with the bot: its row (the AG it acts on) and every bot
        message to it, sent or not. Returns the messages removed."""
        await self.session.execute(
            delete(Chat).where(
                Chat.platform == platform, Chat.kind == PRIVATE, Chat.external_id == external_id
            )
        )
        result = await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.platform == platform,
                OutboxMessage.chat_kind == PRIVATE,
                OutboxMessage.chat_id == external_id,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def drop_messages(self, ids: list[int]) -> int:
        """Delete outbox rows by id."""
        if not ids:
            return 0
        await self.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        return len(ids)

    async def drop_private_reminders(self, person_id: int, platform: str, external_id: str) -> list[int]:
        """Reminders the person set for themselves (in the private chat); their pending jobs are
        cancelled. Reminders they set in an AG's chat belong to the AG and stay."""
        ids = list(
            (
                await self.session.scalars(
                    select(Reminder.id).where(
                        Reminder.chat_kind == PRIVATE,
                        (Reminder.owner_id == person_id)
                        | ((Reminder.platform == platform) & (Reminder.chat_id == external_id)),
                    )
                )
            ).all()
        )
        if ids:
            await self.session.execute(
                update(ScheduledJob)
                .where(
                    ScheduledJob.kind == "reminder",
                    ScheduledJob.ref_id.in_(ids),
                    ScheduledJob.status == JobStatus.PENDING,
                )
                .values(status=JobStatus.CANCELLED)
            )
            await self.session.execute(delete(Reminder).where(Reminder.id.in_(ids)))
        return ids

    async def drop_hints_quoting(self, person_id: int) -> int:
        """Hints that quote the person's messages; a hint a coordinator made an example of keeps
        its text for the AG but no longer says who wrote it."""
        labelled = select(ReopenExample.hint_id).where(ReopenExample.hint_id.is_not(None))
        result = await self.session.execute(
            delete(ReopenHint).where(ReopenHint.sender_id == person_id, ReopenHint.id.not_in(labelled))
        )
        await self.session.execute(
            update(ReopenHint).where(ReopenHint.sender_id == person_id).values(sender_id=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def drop_examples_quoting(self, person_id: int) -> int:
        """Labelled examples made from hints on the person's messages (they quote them)."""
        quoted = select(ReopenHint.id).where(ReopenHint.sender_id == person_id)
        result = await self.session.execute(delete(ReopenExample).where(ReopenExample.hint_id.in_(quoted)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def drop_link_traces(self, person_id: int) -> None:
        """Failed link attempts by the person; codes they made or redeemed forget them."""
        await self.session.execute(delete(LinkAttempt).where(LinkAttempt.person_id == person_id))
        await self.session.execute(
            update(LinkCode).where(LinkCode.created_by_id == person_id).values(created_by_id=None)
        )
        await self.session.execute(
            update(LinkCode).where(LinkCode.used_by_id == person_id).values(used_by_id=None)
        )

    async def drop_votes(self, person_id: int) -> int:
        """The person's votes (only non-anonymous polls store a person)."""
        result = await self.session.execute(delete(PollVote).where(PollVote.person_id == person_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def drop_responses(self, person_id: int) -> int:
        """The person's survey responses (only non-anonymous surveys store a person)."""
        result = await self.session.execute(
            delete(SurveyResponse).where(SurveyResponse.person_id == person_id)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def drop_memberships(self, person_id: int) -> int:
        """The person's memberships and roles in every AG."""
        result = await self.session.execute(delete(Membership).where(Membership.person_id == person_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def person(self, person_id: int) -> Person | None:
        """The person's row, locked against a concurrent update where the backend can."""
        return await self.session.get(Person, person_id, with_for_update=True)
