"""The jobs of surveys: the close at the deadline and the private reminder the day before, and
:func:`finish` (every way of closing goes through it) and :func:`invitations`.

Both jobs take the survey's id and read everything else when they run, so a survey closed by
hand meanwhile is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.addressing import chat_ref, private_chat
from bot.core.events import Button, OutgoingMessage
from bot.core.i18n import Translator
from bot.jobs import survey_format as fmt
from storage.models import Person, Survey, SurveyStatus, WorkingGroup

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.scheduler import JobRun


async def invitations(
    services: Services, tr: Translator, group: WorkingGroup, survey: Survey
) -> list[OutgoingMessage]:
    """The private invitation of every member (the announcement in the AG's chats carries the
    button for those the bot cannot write to privately)."""
    template = services.surveys.template_of(survey)
    markup = fmt.invitation(tr, survey, template, group.name)
    return [
        OutgoingMessage(private_chat(person), markup, buttons=_start_button(tr, survey))
        for person in await services.surveys.members(group.id)
    ]


def _start_button(tr: Translator, survey: Survey) -> list[list[Button]]:
    # In the private chat a plain command button works on every platform (no deep link needed).
    return [[Button(tr.text("survey.begin_button"), command=fmt.start_command(survey))]]


async def finish(
    services: Services, tr: Translator, group: WorkingGroup, survey: Survey, *, actor: Person | None = None
) -> list[OutgoingMessage]:
    """Close a survey and tell every chat of the AG how many answered (the results follow with
    ``/umfrage ergebnis``).

    Returns:
        The messages to send; none if it was closed already.
    """
    if not await services.surveys.close(survey, actor=actor):
        return []
    progress = await services.surveys.progress(survey)
    markup = tr.markup(
        "survey.closed_note",
        number=survey.number,
        title=survey.title,
        finished=progress.finished,
        members=progress.members,
    )
    chats = await services.groups.repo.chats(group.id)
    return [OutgoingMessage(chat_ref(chat), markup) for chat in chats]


async def close(run: JobRun) -> None:
    """The deadline: close the survey (also late, after a downtime)."""
    services = run.unit.services
    survey = await services.surveys.by_id(run.job.ref_id)
    if survey is None or survey.status is not SurveyStatus.OPEN:
        return
    group = await services.groups.repo.get(survey.group_id)
    if group is None:
        return
    tr = Translator(group.language, group.timezone)
    await run.unit.enqueue(await finish(services, tr, group, survey))


async def remind(run: JobRun) -> None:
    """The day before the deadline: a private note to each member who has not finished."""
    services = run.unit.services
    survey = await services.surveys.by_id(run.job.ref_id)
    if survey is None or survey.status is not SurveyStatus.OPEN or run.now >= survey.deadline:
        return
    group = await services.groups.repo.get(survey.group_id)
    if group is None:
        return
    tr = Translator(group.language, group.timezone)
    markup = tr.markup(
        "survey.reminder",
        title=survey.title,
        ag=tr.group_phrase(group.name),
        until=tr.datetime(survey.deadline),
    )
    messages = [
        OutgoingMessage(private_chat(person), markup, buttons=_start_button(tr, survey))
        for person in await services.surveys.unfinished_members(survey)
    ]
    await run.unit.enqueue(messages)
