"""``/umfrage`` for the koordination and the AG, and ``/definition``.

``/umfrage starten <Vorlage> [bis <wann>] [anonym]`` announces a survey in every chat of the AG
and invites each member privately; ``status``, ``schliessen``, ``ergebnis``, ``vergleich`` and
``export`` follow it. Answering is :mod:`bot.handlers.survey_answers`; the close at the
deadline and the reminder before it are :mod:`bot.jobs.surveys`.
"""

from __future__ import annotations

import asyncio
import re

from bot.core.addressing import chat_ref, private_chat
from bot.core.context import Context
from bot.core.errors import PermissionDenied, UsageError, UserError
from bot.core.events import Attachment, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import bold, code
from bot.core.router import Args, Router, as_number
from bot.handlers import survey_answers
from bot.jobs import survey_format as fmt
from bot.jobs import survey_report as report
from bot.jobs import surveys as jobs
from bot.services import survey_export as export
from bot.services import survey_table
from bot.services.polls import DEADLINE_TIME
from bot.services.surveys import JOB_CLOSE, JOB_REMIND
from bot.services.when import parse_when
from storage.models import ResponseStatus, Role, Survey, SurveyStatus, WorkingGroup

router = Router()
router.include(survey_answers.router)
router.on.job(JOB_CLOSE)(jobs.close)
router.on.job(JOB_REMIND)(jobs.remind)

_ANONYMOUS = re.compile(r"(?:^|\s)(anonym|anonymous|geheim)\s*$", re.IGNORECASE)
_UNTIL = re.compile(r"(?:^|\s)(?:bis|until)[:\s]\s*", re.IGNORECASE)
LIST_LIMIT = 8


@router.command("umfrage", aliases=("survey",), private=True)
async def overview(ctx: Context, args: Args) -> None:
    """``/umfrage``: the AG's surveys (privately: yours to answer); ``/umfrage <Nr>``: one of them."""
    number = as_number(args.text) if args.text else None
    if args.text and number is None:
        raise UsageError()
    group = ctx.require_group()
    surveys = ctx.services.surveys
    if number is not None:
        await _status(ctx, group, await surveys.get(group, number))
        return
    listed = await surveys.of_group(group, LIST_LIMIT)
    tr = ctx.tr
    if not listed:
        ctx.say("survey.list_none")
        return
    markup = tr.markup("survey.list_title", ag=tr.group_phrase(group.name))
    for survey in listed:
        state = (
            tr.text("survey.state_open", until=tr.datetime(survey.deadline))
            if survey.status is SurveyStatus.OPEN
            else tr.text("survey.state_closed")
        )
        mine = ""
        if survey.status is SurveyStatus.OPEN:
            response = await surveys.response(survey, ctx.person)
            if response is not None and response.status is ResponseStatus.FINISHED:
                mine = " ✓"
        markup.bullet(code(f"Nr. {survey.number}"), " ", bold(survey.title), f" – {state}{mine}")
    markup.blank().extend(tr.lines("survey.list_footer"))
    ctx.reply(markup)


def _parse_start(text: str) -> tuple[str, str | None, bool]:
    """``Engagement-Erhebung bis 15.12. anonym`` → (template, deadline text, anonymous)."""
    anonymous = False
    match = _ANONYMOUS.search(text)
    if match is not None:
        anonymous = True
        text = text[: match.start()]
    until = None
    match = _UNTIL.search(text)
    if match is not None:
        until = text[match.end() :].strip()
        text = text[: match.start()]
        tail = _ANONYMOUS.search(until)
        if tail is not None:
            anonymous = True
            until = until[: tail.start()].strip()
        if not until:
            raise UserError("survey.deadline_missing")
    return text.strip(), until, anonymous


@router.subcommand("umfrage", "starten", aliases=("start", "neu"), role=Role.KOORDINATION)
async def start(ctx: Context, args: Args) -> None:
    """``/umfrage starten <Vorlage> [bis <wann>] [anonym]`` (koordination): start a survey, announce
    it in every chat of the AG and invite each member privately."""
    group = ctx.require_group()
    ctx.require_group_chat()
    name, until, anonymous = _parse_start(args.text)
    surveys = ctx.services.surveys
    if not name:
        templates = await surveys.templates()
        raise UsageError("survey.template_missing", known=", ".join(t.key for t in templates))
    template = await surveys.template(name)
    deadline = None
    if until is not None:
        when = parse_when(
            until, now=ctx.clock.now(), tz=group.timezone, language=group.language, default_time=DEADLINE_TIME
        )
        if when.rule is not None:
            raise UserError("survey.deadline_recurring", text=until[:60])
        deadline = when.first
    survey = await surveys.start(group, template, deadline=deadline, anonymous=anonymous, person=ctx.person)
    tr = ctx.tr
    chats = await ctx.services.groups.repo.chats(group.id)
    announcement = fmt.announcement(tr, survey, group.name)
    for chat in chats:
        ctx.outgoing.append(
            OutgoingMessage(chat_ref(chat), announcement, buttons=fmt.open_buttons(tr, survey))
        )
    ctx.outgoing.extend(await jobs.invitations(ctx.services, tr, group, survey))


@router.subcommand("umfrage", "vorlagen", aliases=("templates",), private=True)
async def templates(ctx: Context, args: Args) -> None:
    """The templates a survey can start from."""
    tr = ctx.tr
    markup = tr.markup("survey.templates_title")
    for template in await ctx.services.surveys.templates():
        markup.bullet(code(template.key), " – ", template.title.get(tr.language))
    markup.blank().extend(tr.lines("survey.templates_footer"))
    ctx.reply(markup)


async def _survey(ctx: Context, args: Args) -> tuple[WorkingGroup, Survey]:
    group = ctx.require_group()
    number = as_number(args.text) if args.text else None
    if args.text and number is None:
        raise UsageError()
    return group, await ctx.services.surveys.get(group, number)


@router.subcommand("umfrage", "status", aliases=("progress",), private=True)
async def status(ctx: Context, args: Args) -> None:
    """``/umfrage status [<Nr>]``: started and finished responses (no content)."""
    group, survey = await _survey(ctx, args)
    await _status(ctx, group, survey)


async def _status(ctx: Context, group: WorkingGroup, survey: Survey) -> None:
    tr = ctx.tr
    progress = await ctx.services.surveys.progress(survey)
    key = "survey.status_open" if survey.status is SurveyStatus.OPEN else "survey.status_closed"
    markup = tr.markup(
        key,
        number=survey.number,
        title=survey.title,
        until=tr.datetime(survey.deadline),
        closed=tr.datetime(survey.closed_at or survey.deadline),
    )
    markup.line(
        tr.text(
            "survey.status_counts",
            started=progress.started,
            finished=progress.finished,
            members=progress.members,
        )
    )
    if survey.anonymous:
        markup.line(tr.text("survey.status_anonymous"))
    ctx.reply(markup)


@router.subcommand("umfrage", "schliessen", aliases=("close", "beenden"), role=Role.KOORDINATION)
async def close(ctx: Context, args: Args) -> None:
    """``/umfrage schliessen [<Nr>]`` (koordination): end a survey now."""
    group, survey = await _survey(ctx, args)
    ctx.require_group_chat()
    if survey.status is not SurveyStatus.OPEN:
        raise UserError("survey.closed", number=survey.number)
    ctx.outgoing.extend(await jobs.finish(ctx.services, ctx.tr, group, survey, actor=ctx.person))


async def _evaluation(ctx: Context, survey: Survey) -> report.Evaluation:
    """A survey's finished responses, classified and added up in a thread.

    With a thousand responses that is some 70 ms of pure Python, which every chat's updates
    would wait for in the loop (``bench/survey_scale.py``). The rows are loaded before, and the
    session is not used while the thread reads their answers.
    """
    surveys = ctx.services.surveys
    template = surveys.template_of(survey)
    definition = await surveys.definition_of(survey)
    responses = await surveys.finished(survey)
    return await asyncio.to_thread(report.evaluate, survey, template, definition, responses)


@router.subcommand("umfrage", "ergebnis", aliases=("results", "result", "ergebnisse"), private=True)
async def result(ctx: Context, args: Args) -> None:
    """``/umfrage ergebnis [<Nr>]``: results with a chart (members after the close, the
    koordination any time)."""
    group, survey = await _survey(ctx, args)
    if survey.status is SurveyStatus.OPEN and (ctx.role is None or ctx.role.rank < Role.KOORDINATION.rank):
        raise PermissionDenied("survey.result_not_yet", until=ctx.tr.datetime(survey.deadline))
    evaluation = await _evaluation(ctx, survey)
    progress = await ctx.services.surveys.progress(survey)
    markup = report.result(ctx.tr, evaluation, progress.members)
    ctx.reply(markup)
    attachment = await report.chart(ctx.tr, evaluation)
    if attachment is not None:
        ctx.outgoing.append(
            OutgoingMessage(
                ctx.event.chat,
                ctx.tr.markup("survey.chart_caption", number=survey.number),
                attachment=attachment,
            )
        )


@router.subcommand("umfrage", "vergleich", aliases=("compare", "vergleichen"), private=True)
async def compare(ctx: Context, args: Args) -> None:
    """``/umfrage vergleich <Nr> <Nr>``: two surveys of the same template side by side."""
    group = ctx.require_group()
    numbers = [as_number(word) for word in args.words[:3]]
    if len(numbers) != 2 or None in numbers:
        raise UsageError()
    surveys = ctx.services.surveys
    first = await surveys.get(group, numbers[0])
    second = await surveys.get(group, numbers[1])
    if first.template_key != second.template_key:
        raise UserError("survey.compare_templates", a=first.number, b=second.number)
    for survey in (first, second):
        if survey.status is SurveyStatus.OPEN and (
            ctx.role is None or ctx.role.rank < Role.KOORDINATION.rank
        ):
            raise PermissionDenied("survey.result_not_yet", until=ctx.tr.datetime(survey.deadline))
    a = await _evaluation(ctx, first)
    b = await _evaluation(ctx, second)
    if a.results is None or b.results is None:
        raise UserError("survey.compare_unclassified")
    ctx.reply(report.comparison(ctx.tr, a, b))


@router.subcommand("umfrage", "export", aliases=("download",), role=Role.KOORDINATION, private=True)
async def export_files(ctx: Context, args: Args) -> None:
    """``/umfrage export [<Nr>]`` (koordination): a CSV and an XLSX file, sent privately."""
    group, survey = await _survey(ctx, args)
    evaluation = await _evaluation(ctx, survey)
    tr = ctx.tr
    language = tr.language
    info = report.meta(evaluation, group.name, group.timezone)
    # openpyxl and a large survey take a while: not in the loop every chat shares.
    csv_data, xlsx_data = await asyncio.to_thread(_files, tr, evaluation, info)
    target = private_chat(ctx.person)
    caption = tr.markup("survey.export_caption", number=survey.number, title=survey.title)
    files = (
        Attachment(export.filename(info, "csv", language), "text/csv", csv_data),
        Attachment(
            export.filename(info, "xlsx", language),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx_data,
        ),
    )
    note = OutgoingMessage(ctx.event.chat, tr.markup("survey.export_open_private"))
    for position, attachment in enumerate(files):
        fallback = note if position == 0 else None  # one note, not one per file
        ctx.outgoing.append(OutgoingMessage(target, caption, attachment=attachment, fallback=fallback))
    if not ctx.is_private:
        ctx.say("survey.export_sent")


def _files(tr: Translator, evaluation: report.Evaluation, info: export.ExportMeta) -> tuple[bytes, bytes]:
    """The CSV and XLSX of a survey: activities with their classification, or for a template
    that does not classify one row per response."""
    language = tr.language
    if evaluation.results is None or evaluation.definition is None:
        headers, rows = report.answers_table(tr, evaluation)
        return (
            survey_table.to_csv(headers, rows, language),
            survey_table.to_xlsx(headers, rows, evaluation.survey.title),
        )
    return (
        export.to_csv(info, evaluation.activities, evaluation.definition, language),
        export.to_xlsx(info, evaluation.results, evaluation.activities, evaluation.definition, language),
    )


@router.command("definition", aliases=("criteria",), needs_group=False)
async def definition(ctx: Context, args: Args) -> None:
    """``/definition``: the network's definition of engagement; ``/definition <Kriterium>`` one
    criterion in full; ``/definition <Version>`` an earlier version."""
    surveys = ctx.services.surveys
    _, current = await surveys.current_definition()
    tr = ctx.tr
    wanted = args.text.strip().casefold()
    if not wanted:
        ctx.reply(fmt.definition_markup(tr, current))
        return
    version = as_number(wanted)
    if version is not None:
        older = await surveys.definition_version(version)
        if older is None:
            raise UserError("survey.definition_unknown_version", version=version, newest=current.version or 1)
        ctx.reply(fmt.definition_markup(tr, older))
        return
    # The "?" button of a question names the criterion of the survey's version; an open
    # survey may use an older version than the newest, so look there first.
    active = await surveys.active(ctx.person) if ctx.is_private else None
    definitions = [current]
    if active is not None:
        used = await surveys.definition_of(active[1])
        if used is not None:
            definitions.insert(0, used)
    for candidate in definitions:
        criterion = candidate.criterion(wanted) or next(
            (c for c in candidate.criteria if c.name.get(tr.language).casefold().startswith(wanted)), None
        )
        if criterion is not None:
            ctx.reply(fmt.criterion_markup(tr, criterion, candidate))
            return
    names = ", ".join(c.id for c in current.criteria)
    raise UserError("survey.criterion_unknown", given=args.text[:60], known=names)
