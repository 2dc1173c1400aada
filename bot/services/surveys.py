"""Surveys (``/umfrage``): definitions, templates, surveys and responses in the database.

The conversation itself (which question comes next, reading an answer) is
:mod:`bot.services.survey_answering` on top of :mod:`bot.services.survey_flow`; this module
keeps the rows: versions of the engagement definition, imported templates, surveys of an AG
and one response per respondent. Anonymous surveys store no person with a response, only a
keyed hash of the person id (the survey's ``secret`` is the key), which is what keeps it one
response per person and lets the reminder find who has not finished; key and hashes are
deleted when the survey closes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.ports import Clock
from bot.services.groups import ensure_open
from bot.services.schedule import ScheduleService
from bot.services.survey_model import Definition, Template
from bot.services.survey_template import (
    definition_from_dict,
    definition_to_dict,
    load_definition,
    load_template,
    template_from_dict,
)
from storage.models import (
    EngagementDefinition,
    Membership,
    Person,
    ResponseStatus,
    Survey,
    SurveyResponse,
    SurveyStatus,
    SurveyTemplate,
    WorkingGroup,
)
from storage.repositories.people import PeopleRepository

JOB_CLOSE = "umfrage.close"
JOB_REMIND = "umfrage.remind"
DEFAULT_DURATION = timedelta(days=14)
"""How long a survey runs when ``/umfrage starten`` names no deadline."""
REMIND_BEFORE = timedelta(days=1)
MAX_DURATION = timedelta(days=400)
MAX_OPEN = 5
"""Open surveys per AG: more would flood every member's private chat with invitations."""
SHIPPED_TEMPLATES = ("engagement.toml",)
"""Templates that come with the bot (``bot/services/surveys_data``)."""


def _data(name: str) -> str:
    return resources.files("bot.services").joinpath("surveys_data", name).read_text(encoding="utf-8")


def shipped_templates() -> list[Template]:
    """The templates that come with the bot (the Engagement-Erhebung)."""
    return [load_template(_data(name), name=name) for name in SHIPPED_TEMPLATES]


def shipped_definition() -> Definition:
    """The network's definition as shipped (version 1 of every new database)."""
    return load_definition(_data("definition.toml"), name="definition.toml")


def _digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# A survey's template and definition never change once it started, but every answer needs them:
# checking and building them again each time was an eighth of an answer's CPU time. Keyed by
# the stored content itself, so equal content is shared and nothing stale can be served.
@lru_cache(maxsize=64)
def _stored_template(spec: str) -> Template:
    return template_from_dict(json.loads(spec))


@lru_cache(maxsize=16)
def _stored_definition(version: int, content: str) -> Definition:
    definition = definition_from_dict(json.loads(content))
    return Definition(definition.title, definition.criteria, definition.summary, version)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a survey is (no content): members, started and finished responses."""

    members: int
    started: int
    finished: int


class SurveyService:
    """Surveys of AGs and their responses, on the update's session.

    Args:
        session: The update's database session.
        clock: Source of the current time.
        schedule: Adds and cancels the close and reminder jobs.
    """

    def __init__(self, session: AsyncSession, clock: Clock, schedule: ScheduleService) -> None:
        self.session = session
        self.clock = clock
        self.schedule = schedule

    # Definitions ---------------------------------------------------------------------------

    async def current_definition(self) -> tuple[EngagementDefinition, Definition]:
        """The newest version of the definition; the shipped one becomes version 1 on first use."""
        row = await self.session.scalar(
            select(EngagementDefinition).order_by(EngagementDefinition.version.desc()).limit(1)
        )
        if row is None:
            row, _ = await self.add_definition(shipped_definition(), source="default")
        return row, self._definition(row)

    async def definition_by_id(self, definition_id: int | None) -> Definition | None:
        """A stored version by row id (a survey's ``definition_id``)."""
        if definition_id is None:
            return None
        row = await self.session.get(EngagementDefinition, definition_id)
        return self._definition(row) if row is not None else None

    async def definition_version(self, version: int) -> Definition | None:
        """A stored version by its number."""
        row = await self.session.scalar(
            select(EngagementDefinition).where(EngagementDefinition.version == version)
        )
        return self._definition(row) if row is not None else None

    @staticmethod
    def _definition(row: EngagementDefinition) -> Definition:
        return _stored_definition(row.version, json.dumps(row.content, sort_keys=True))

    async def add_definition(
        self, definition: Definition, *, source: str
    ) -> tuple[EngagementDefinition, bool]:
        """Store a definition as a new version unless that content is stored already.

        Returns:
            The row and whether it is new.
        """
        content = definition_to_dict(definition)
        digest = _digest(content)
        known = await self.session.scalar(
            select(EngagementDefinition).where(EngagementDefinition.digest == digest)
        )
        if known is not None:
            return known, False
        newest = await self.session.scalar(select(func.max(EngagementDefinition.version)))
        if newest is None and source != "default":
            # The shipped definition is version 1 everywhere, so "version 2" means the same
            # thing in every network that imported one change.
            await self.add_definition(shipped_definition(), source="default")
            newest = 1
        row = EngagementDefinition(
            version=(newest or 0) + 1,
            content=content,
            digest=digest,
            source=source[:200],
            created_at=self.clock.now(),
        )
        self.session.add(row)
        await self.session.flush()
        return row, True

    # Templates ------------------------------------------------------------------------------

    async def templates(self) -> list[Template]:
        """Every template a survey can start from: shipped ones, replaced by imports of the same key."""
        imported = {row.key: template_from_dict(row.spec) for row in await self._imported()}
        shipped = [t for t in shipped_templates() if t.key not in imported]
        return shipped + sorted(imported.values(), key=lambda t: t.key)

    async def _imported(self) -> list[SurveyTemplate]:
        return list(await self.session.scalars(select(SurveyTemplate).order_by(SurveyTemplate.key)))

    async def template(self, key: str) -> Template:
        """A template by key (or a unique start of its key or title).

        Raises:
            UserError: No or several templates match; the message lists them.
        """
        wanted = key.strip().casefold()
        templates = await self.templates()
        exact = [t for t in templates if t.key == wanted or t.title.de.casefold() == wanted]
        if exact:
            return exact[0]
        starts = [
            t for t in templates if t.key.startswith(wanted) or t.title.de.casefold().startswith(wanted)
        ]
        if len(starts) == 1 and len(wanted) >= 3:
            return starts[0]
        raise UserError("survey.template_unknown", given=key[:60], known=", ".join(t.key for t in templates))

    async def import_template(self, template: Template, *, source: str) -> bool:
        """Store an imported template (replacing one with the same key for future surveys).

        Returns:
            Whether a template with this key was replaced.
        """
        row = await self.session.scalar(select(SurveyTemplate).where(SurveyTemplate.key == template.key))
        now = self.clock.now()
        if row is None:
            self.session.add(
                SurveyTemplate(key=template.key, spec=template.raw, source=source[:200], imported_at=now)
            )
            await self.session.flush()
            return False
        row.spec, row.source, row.imported_at = template.raw, source[:200], now
        await self.session.flush()
        return True

    # Surveys -------------------------------------------------------------------------------

    async def start(
        self,
        group: WorkingGroup,
        template: Template,
        *,
        deadline: datetime | None,
        anonymous: bool,
        person: Person,
    ) -> Survey:
        """Start a survey from a template, with the current definition, and schedule its jobs.

        Raises:
            UserError: The deadline is past or too far ahead, or the AG runs too many surveys.
        """
        ensure_open(group)
        now = self.clock.now()
        running = await self.session.scalar(
            select(func.count())
            .select_from(Survey)
            .where(Survey.group_id == group.id, Survey.status == SurveyStatus.OPEN)
        )
        if (running or 0) >= MAX_OPEN:
            raise UserError("survey.too_many", n=MAX_OPEN)
        deadline = deadline or now + DEFAULT_DURATION
        if deadline <= now:
            raise UserError("survey.deadline_past")
        if deadline > now + MAX_DURATION:
            raise UserError("survey.deadline_far")
        definition_row = None
        if template.classified_group is not None:
            definition_row, _ = await self.current_definition()
        number = (
            await self.session.scalar(select(func.max(Survey.number)).where(Survey.group_id == group.id)) or 0
        ) + 1
        survey = Survey(
            group_id=group.id,
            number=number,
            template_key=template.key,
            title=template.title.get(group.language)[:200],
            spec=template.raw,
            definition_id=definition_row.id if definition_row is not None else None,
            anonymous=anonymous,
            status=SurveyStatus.OPEN,
            deadline=deadline,
            created_by_id=person.id,
            created_at=now,
            secret=secrets.token_hex(32),
        )
        self.session.add(survey)
        await self.session.flush()
        await self.schedule.schedule(JOB_CLOSE, survey.id, deadline, group_id=group.id)
        if deadline - REMIND_BEFORE > now + timedelta(hours=1):
            await self.schedule.schedule(JOB_REMIND, survey.id, deadline - REMIND_BEFORE, group_id=group.id)
        return survey

    @staticmethod
    def template_of(survey: Survey) -> Template:
        """The template a survey was started with."""
        return _stored_template(json.dumps(survey.spec, sort_keys=True))

    async def definition_of(self, survey: Survey) -> Definition | None:
        """The definition version a survey was started with (``None`` for unclassified ones)."""
        return await self.definition_by_id(survey.definition_id)

    async def by_id(self, survey_id: int) -> Survey | None:
        """A survey by id (jobs, deep links)."""
        return await self.session.get(Survey, survey_id)

    async def get(self, group: WorkingGroup, number: int | None = None) -> Survey:
        """A survey of the AG by number, or without one the open one (the newest if several)
        or else the newest.

        Raises:
            NotFound: No such survey.
        """
        query = select(Survey).where(Survey.group_id == group.id)
        if number is not None:
            survey = await self.session.scalar(query.where(Survey.number == number))
            if survey is None:
                raise NotFound("survey.not_found", number=number)
            return survey
        survey = await self.session.scalar(
            query.where(Survey.status == SurveyStatus.OPEN).order_by(Survey.number.desc()).limit(1)
        ) or await self.session.scalar(query.order_by(Survey.number.desc()).limit(1))
        if survey is None:
            raise NotFound("survey.none")
        return survey

    async def of_group(self, group: WorkingGroup, limit: int = 10) -> list[Survey]:
        """The AG's surveys, newest first."""
        rows = await self.session.scalars(
            select(Survey).where(Survey.group_id == group.id).order_by(Survey.number.desc()).limit(limit)
        )
        return list(rows)

    async def open_for(self, person: Person) -> list[tuple[WorkingGroup, Survey]]:
        """The open surveys of every AG the person belongs to, oldest first."""
        rows = await self.session.execute(
            select(WorkingGroup, Survey)
            .join(Survey, Survey.group_id == WorkingGroup.id)
            .join(Membership, Membership.group_id == WorkingGroup.id)
            .where(
                Membership.person_id == person.id,
                Membership.left_at.is_(None),
                Survey.status == SurveyStatus.OPEN,
            )
            .order_by(Survey.created_at, Survey.id)
        )
        return [(g, s) for g, s in rows]

    async def members(self, group_id: int) -> list[Person]:
        """The AG's members now (those who left are not asked)."""
        return await PeopleRepository(self.session).current_members(group_id)

    async def member_count(self, survey: Survey) -> int:
        """How many people belong to the survey's AG now."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.group_id == survey.group_id, Membership.left_at.is_(None))
        )
        return count or 0

    async def close(self, survey: Survey, *, actor: Person | None = None) -> bool:
        """Close a survey: no more answers; unfinished drafts are dropped, and in an anonymous
        survey the key and every hash that tied a response to a person are deleted.

        Returns:
            Whether it was open (closing twice does nothing).
        """
        if survey.status is not SurveyStatus.OPEN:
            return False
        survey.status = SurveyStatus.CLOSED
        survey.closed_at = self.clock.now()
        survey.member_count = await self.member_count(survey)
        await self.session.execute(
            delete(SurveyResponse).where(
                SurveyResponse.survey_id == survey.id, SurveyResponse.status == ResponseStatus.DRAFT
            )
        )
        await self.session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.survey_id == survey.id)
            .values(draft=None, cursor=None, editing=False, active=False)
        )
        if survey.anonymous:
            survey.secret = None
            await self.session.execute(
                update(SurveyResponse)
                .where(SurveyResponse.survey_id == survey.id)
                .values(respondent_key=None)
            )
        await self.schedule.cancel((JOB_CLOSE, JOB_REMIND), survey.id)
        await self.session.flush()
        return True

    # Responses -----------------------------------------------------------------------------

    @staticmethod
    def respondent_key(survey: Survey, person: Person) -> str:
        """The keyed hash that stands for the person in this survey's responses."""
        if survey.secret is None:
            raise UserError("survey.closed", number=survey.number)
        return hmac.new(survey.secret.encode(), str(person.id).encode(), hashlib.sha256).hexdigest()[:48]

    async def response(self, survey: Survey, person: Person) -> SurveyResponse | None:
        """The person's response to an open survey, if any."""
        if survey.secret is None:
            return None
        return await self.session.scalar(
            select(SurveyResponse).where(
                SurveyResponse.survey_id == survey.id,
                SurveyResponse.respondent_key == self.respondent_key(survey, person),
            )
        )

    async def begin(self, survey: Survey, person: Person) -> SurveyResponse:
        """The person's response, created as an empty draft if there is none yet."""
        existing = await self.response(survey, person)
        if existing is not None:
            return existing
        response = SurveyResponse(
            survey_id=survey.id,
            respondent_key=self.respondent_key(survey, person),
            person_id=None if survey.anonymous else person.id,
            status=ResponseStatus.DRAFT,
            answers={},
            draft={},
            editing=False,
            active=False,
            started_at=None if survey.anonymous else self.clock.now(),
        )
        self.session.add(response)
        await self.session.flush()
        return response

    async def open_with_responses(
        self, person: Person
    ) -> list[tuple[WorkingGroup, Survey, SurveyResponse | None]]:
        """The open surveys of the person's AGs (oldest first), each with the person's response
        if any: one query for all of them, as every plain private message asks this."""
        found = await self.open_for(person)
        keys = {self.respondent_key(s, person): s.id for _, s in found if s.secret is not None}
        rows = (
            await self.session.scalars(
                select(SurveyResponse).where(SurveyResponse.respondent_key.in_(list(keys)))
            )
            if keys
            else []
        )
        by_survey = {r.survey_id: r for r in rows if keys.get(r.respondent_key or "") == r.survey_id}
        return [(g, s, by_survey.get(s.id)) for g, s in found]

    async def active(self, person: Person) -> tuple[WorkingGroup, Survey, SurveyResponse] | None:
        """The survey whose conversation is open in the person's private chat, if any."""
        for group, survey, response in await self.open_with_responses(person):
            if response is not None and response.active:
                return group, survey, response
        return None

    async def activate(self, person: Person, response: SurveyResponse) -> None:
        """Make this the one conversation open in the person's private chat."""
        for _, _, other in await self.open_with_responses(person):
            if other is not None and other.id != response.id and other.active:
                other.active = False
        response.active = True
        await self.session.flush()

    async def progress(self, survey: Survey) -> Progress:
        """Members, started and finished responses (counts only)."""
        rows = dict(
            (
                await self.session.execute(
                    select(SurveyResponse.status, func.count())
                    .where(SurveyResponse.survey_id == survey.id)
                    .group_by(SurveyResponse.status)
                )
            ).all()
        )
        finished = rows.get(ResponseStatus.FINISHED, 0)
        members = survey.member_count if survey.member_count is not None else await self.member_count(survey)
        return Progress(members, finished + rows.get(ResponseStatus.DRAFT, 0), finished)

    async def unfinished_members(self, survey: Survey) -> list[Person]:
        """Members of the AG without a finished response (found through the hashes in an
        anonymous survey, never stored)."""
        finished = set(
            await self.session.scalars(
                select(SurveyResponse.respondent_key).where(
                    SurveyResponse.survey_id == survey.id, SurveyResponse.status == ResponseStatus.FINISHED
                )
            )
        )
        return [
            p for p in await self.members(survey.group_id) if self.respondent_key(survey, p) not in finished
        ]

    async def finished(self, survey: Survey) -> list[SurveyResponse]:
        """The finished responses: by id, or in an anonymous survey in the order of a hash of
        their answers, so "Befragte Nr. 1" is not whoever started first (which the times of the
        bot's private messages could tell)."""
        rows = list(
            await self.session.scalars(
                select(SurveyResponse)
                .where(
                    SurveyResponse.survey_id == survey.id, SurveyResponse.status == ResponseStatus.FINISHED
                )
                .order_by(SurveyResponse.id)
            )
        )
        if survey.anonymous:
            rows.sort(key=lambda row: _digest(row.answers))
        return rows
