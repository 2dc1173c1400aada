"""Where one person appears in the database (Art. 15 DSGVO): every row, by section.

The sections follow what people recognise ("Abstimmungen", "Erinnerungen"), not the tables;
:data:`SOURCES` names for each section the tables and the condition that ties a row to the
person. A row appears once per section even when several conditions hold (a poll the person both
started and closed).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AccountCode,
    AgendaItem,
    AuditEntry,
    Chat,
    Decision,
    Goal,
    LinkAttempt,
    LinkCode,
    Meeting,
    MeetingCancellation,
    Membership,
    OutboxMessage,
    Person,
    Poll,
    PollVote,
    Reminder,
    ReopenExample,
    ReopenHint,
    Survey,
    SurveyResponse,
)

PRIVATE = "private"
# Columns that are keys, not data about the person: never shown or exported.
HIDDEN_COLUMNS = frozenset({"secret", "search_text", "voter_key", "respondent_key", "code_hash"})


@dataclass(frozen=True, slots=True)
class Identity:
    """How the person is addressed in the database."""

    person_id: int
    platform: str
    external_id: str
    name: str


Condition = Callable[[Identity], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class Source:
    """One table of a section and what ties its rows to the person."""

    model: Any
    where: Condition


def _private(model: Any) -> Condition:
    return lambda who: (
        (model.platform == who.platform) & (model.chat_id == who.external_id) & (model.chat_kind == PRIVATE)
    )


SOURCES: dict[str, tuple[Source, ...]] = {
    "profil": (Source(Person, lambda who: Person.id == who.person_id),),
    "mitgliedschaften": (Source(Membership, lambda who: Membership.person_id == who.person_id),),
    "privater_chat": (
        Source(
            Chat,
            lambda who: (
                (Chat.platform == who.platform)
                & (Chat.kind == PRIVATE)
                & (Chat.external_id == who.external_id)
            ),
        ),
    ),
    "ziele": (
        Source(
            Goal, lambda who: or_(Goal.created_by_id == who.person_id, Goal.closed_by_id == who.person_id)
        ),
    ),
    "beschluesse": (
        Source(
            Decision,
            lambda who: or_(Decision.author_id == who.person_id, Decision.closed_by_id == who.person_id),
        ),
    ),
    "treffen": (
        Source(Meeting, lambda who: Meeting.created_by_id == who.person_id),
        Source(AgendaItem, lambda who: AgendaItem.added_by_id == who.person_id),
        Source(MeetingCancellation, lambda who: MeetingCancellation.cancelled_by_id == who.person_id),
    ),
    "abstimmungen": (
        Source(
            Poll, lambda who: or_(Poll.created_by_id == who.person_id, Poll.closed_by_id == who.person_id)
        ),
        # Anonymous polls store no person: only non-anonymous votes are found.
        Source(PollVote, lambda who: PollVote.person_id == who.person_id),
    ),
    "umfragen": (
        Source(Survey, lambda who: Survey.created_by_id == who.person_id),
        # Likewise: only responses to non-anonymous surveys carry the person.
        Source(SurveyResponse, lambda who: SurveyResponse.person_id == who.person_id),
    ),
    "erinnerungen": (
        Source(Reminder, lambda who: or_(Reminder.owner_id == who.person_id, _private(Reminder)(who))),
    ),
    "hinweise": (
        Source(
            ReopenHint,
            lambda who: or_(ReopenHint.sender_id == who.person_id, ReopenHint.wrong_by_id == who.person_id),
        ),
        Source(
            ReopenExample,
            lambda who: or_(
                ReopenExample.created_by_id == who.person_id,
                ReopenExample.hint_id.in_(select(ReopenHint.id).where(ReopenHint.sender_id == who.person_id)),
            ),
        ),
    ),
    "verknuepfungen": (
        Source(
            LinkCode,
            lambda who: or_(LinkCode.created_by_id == who.person_id, LinkCode.used_by_id == who.person_id),
        ),
        Source(LinkAttempt, lambda who: LinkAttempt.person_id == who.person_id),
        Source(AccountCode, lambda who: AccountCode.person_id == who.person_id),
    ),
    "protokoll": (Source(AuditEntry, lambda who: AuditEntry.actor_id == who.person_id),),
    "nachrichten": (Source(OutboxMessage, _private(OutboxMessage)),),
}


def plain(value: Any) -> Any:
    """A column value as JSON: times and dates in ISO 8601, enums by value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    return value


def row_dict(row: Any) -> dict[str, Any]:
    """Every column of an ORM row except keys and secrets (:data:`HIDDEN_COLUMNS`)."""
    return {
        column.key: plain(getattr(row, column.key))
        for column in row.__table__.columns
        if column.key not in HIDDEN_COLUMNS
    }


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as a whole word (case-insensitive)."""
    if not name.strip():
        return False
    return re.search(rf"(?<!\w){re.escape(name.strip())}(?!\w)", text, re.IGNORECASE) is not None


class PersonalDataRepository:
    """Reads every row about one person."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sections(self, who: Identity) -> dict[str, list[tuple[str, Any]]]:
        """The person's rows by section, each as ``(table name, ORM row)``, oldest first."""
        out: dict[str, list[tuple[str, Any]]] = {}
        for section, sources in SOURCES.items():
            rows: list[tuple[str, Any]] = []
            for source in sources:
                found = await self.session.scalars(
                    select(source.model).where(source.where(who)).order_by(source.model.__table__.c.id)
                    if "id" in source.model.__table__.c
                    else select(source.model).where(source.where(who))
                )
                rows += [(source.model.__tablename__, row) for row in found]
            out[section] = rows
        out["nachrichten_erwaehnt"] = [
            ("outbox", row) for row in await self.messages_naming(who, exclude_private=True)
        ]
        return out

    async def messages_naming(self, who: Identity, *, exclude_private: bool) -> list[OutboxMessage]:
        """Bot messages in the outbox whose text names the person (e.g. "Anna hat Beschluss 3
        erfasst" in a group), found by the name as a whole word."""
        name = who.name.strip()
        if len(name) < 2:
            return []
        # JSON may store non-ASCII letters escaped ("J\\u00fcrgen"): look for both spellings,
        # then check the decoded text for the whole word.
        escaped = json.dumps(name)[1:-1]
        text = cast(OutboxMessage.payload, String)
        # autoescape: "%" and "_" in a name are literal, and "/" (not "\\") is the escape
        # character, so PostgreSQL takes the backslash of "\\u00fc" literally.
        query = select(OutboxMessage).where(
            or_(*(text.icontains(p, autoescape=True) for p in {name, escaped}))
        )
        if exclude_private:
            query = query.where(~_private(OutboxMessage)(who))
        rows = list(await self.session.scalars(query.order_by(OutboxMessage.id)))
        found = []
        for n, row in enumerate(rows, 1):
            if mentions(json.dumps(row.payload, ensure_ascii=False), name):
                found.append(row)
            if n % 100 == 0:
                await asyncio.sleep(0)  # many messages must not hold the event loop
        return found

    async def counts(self, who: Identity) -> dict[str, int]:
        """How many rows each section holds."""
        return {section: len(rows) for section, rows in (await self.sections(who)).items()}


def identity(person: Person) -> Identity:
    """The ways the database refers to ``person``."""
    return Identity(person.id, person.platform, person.external_id, person.display_name)


__all__: Sequence[str] = ("SOURCES", "Identity", "PersonalDataRepository", "identity", "row_dict")
