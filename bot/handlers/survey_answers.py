"""Answering a survey in the private chat: ``/umfrage weiter``, ``/umfrage aendern``,
``/zurueck``, ``/abbrechen``, ``/weiter``, the buttons (``/antwort``), ``/start umfrage-<id>``
and plain messages while a survey is open there.

A survey is open in a person's private chat from the invitation or ``/umfrage weiter`` until it
is finished or ``/abbrechen`` pauses it (the answers so far stay as a draft). Replies in an
anonymous survey are marked secret, so the outbox keeps no copy of them once delivered.
"""

from __future__ import annotations

from bot.core.addressing import private_chat
from bot.core.context import Context
from bot.core.errors import UsageError, UserError, error_markup
from bot.core.events import Button, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup
from bot.core.router import Args, Router, as_number
from bot.handlers.help import on_start
from bot.jobs import survey_format as fmt
from bot.services import survey_flow as flow
from bot.services.survey_answering import Conversation, Turn
from bot.services.survey_results import classify
from storage.models import ResponseStatus, Survey, SurveyResponse, SurveyStatus, WorkingGroup

router = Router()


async def conversation(
    ctx: Context, group: WorkingGroup, survey: Survey, response: SurveyResponse
) -> Conversation:
    """The conversation of a response, in the AG's language and timezone."""
    surveys = ctx.services.surveys
    return Conversation(
        survey,
        response,
        surveys.template_of(survey),
        await surveys.definition_of(survey),
        now=ctx.clock.now(),
        tz=group.timezone,
        language=group.language,
    )


def _reply(ctx: Context, survey: Survey, markup: Markup, buttons: list[list[Button]] | None = None) -> None:
    # An anonymous survey's conversation must not stay in the outbox once delivered.
    ctx.reply(markup, buttons=buttons, secret=survey.anonymous)


def show_turn(ctx: Context, group: WorkingGroup, conv: Conversation, turn: Turn) -> None:
    """Say what a turn of the conversation means: an error, an unmet criterion, the next question,
    the change menu, or thanks for a finished response."""
    tr = ctx.tr = Translator(group.language, group.timezone)
    survey = conv.survey
    if turn.error is not None:
        _reply(ctx, survey, error_markup(turn.error, tr, None, private=True))
    if turn.failed:
        _reply(ctx, survey, fmt.failed_notice(tr, turn.failed))
    if turn.unmet_requirement and turn.step is not None and turn.step.group is not None:
        message = turn.step.group.require_message
        text = message.get(tr.language) if message is not None else tr.text("survey.require_default")
        _reply(ctx, survey, tr.markup("survey.require", message=text))
    if turn.finished:
        _reply(ctx, survey, _thanks(ctx, tr, conv, turn))
        return
    if turn.choose_change:
        if turn.error is None:
            steps = conv.answered()
            _reply(ctx, survey, fmt.summary_list(tr, survey, steps, conv.draft))
        return
    if turn.step is not None:
        draft = conv.draft
        position = flow.progress(conv.steps(), turn.step.key)
        markup, buttons = fmt.question(
            tr,
            survey,
            turn.step,
            position=position,
            previous=draft.get(turn.step.key),
            has_previous=turn.step.key in draft,
        )
        _reply(ctx, survey, markup, buttons)


def _thanks(ctx: Context, tr: Translator, conv: Conversation, turn: Turn):  # type: ignore[no-untyped-def]
    survey = conv.survey
    key = "survey.changed" if turn.changed else "survey.thanks"
    markup = tr.markup(key, title=survey.title, until=tr.datetime(survey.deadline))
    if conv.definition is not None and conv.template.classified_group is not None:
        _, activities = classify(conv.template, conv.definition, conv.response.answers, 1)
        counted = sum(1 for a in activities if a.counts)
        markup.line(tr.text("survey.thanks_counted", total=len(activities), counted=counted))
        for activity in activities:
            if not activity.counts:
                reasons = ", ".join(
                    c.failed.get(tr.language) for c in conv.definition.criteria if c.id in activity.failed
                )
                markup.bullet(
                    tr.text("survey.thanks_not_counted", what=activity.description, reasons=reasons)
                )
    markup.blank().extend(tr.lines("survey.thanks_footer"))
    return markup


async def open_survey(ctx: Context, group: WorkingGroup, survey: Survey, *, change: bool = False) -> None:
    """Open (or resume) a survey in the person's private chat and ask where they were."""
    tr = ctx.tr = Translator(group.language, group.timezone)
    membership = await ctx.services.groups.people.membership(group.id, ctx.person.id)
    if membership is None or membership.left_at is not None:
        raise UserError("survey.not_member")
    if survey.status is not SurveyStatus.OPEN or ctx.clock.now() >= survey.deadline:
        raise UserError("survey.closed", number=survey.number)
    surveys = ctx.services.surveys
    existing = await surveys.response(survey, ctx.person)
    response = existing or await surveys.begin(survey, ctx.person)
    conv = await conversation(ctx, group, survey, response)
    if change:
        if existing is None or existing.status is not ResponseStatus.FINISHED:
            raise UserError("survey.change_nothing", number=survey.number)
        await surveys.activate(ctx.person, response)
        show_turn(ctx, group, conv, conv.start_change())
        return
    if existing is not None and existing.status is ResponseStatus.FINISHED and not existing.editing:
        raise UserError("survey.already_finished", number=survey.number)
    await surveys.activate(ctx.person, response)
    first = len(ctx.outgoing)
    if existing is None or not (existing.draft or {}):
        _reply(ctx, survey, fmt.invitation(tr, survey, conv.template, group.name))
    show_turn(ctx, group, conv, conv.open())
    if not ctx.is_private:
        _to_private_chat(ctx, tr, survey, first)


def _to_private_chat(ctx: Context, tr: Translator, survey: Survey, first: int) -> None:
    """Opened from a group chat (a typed command, a Matrix reaction on the announcement): the
    conversation goes to the person's private chat, and the group learns only that. Where the
    bot cannot write privately yet (Telegram, before the person opened the chat), the group gets
    the deep-link button instead."""
    here = ctx.event.chat
    fallback = OutgoingMessage(
        here, tr.markup("survey.answer_privately", title=survey.title), buttons=fmt.open_buttons(tr, survey)
    )
    target = private_chat(ctx.person)
    for position, message in enumerate(ctx.outgoing[first:]):
        if message.chat == here:
            message.chat = target
            message.fallback = fallback if position == 0 else None
    ctx.reply(tr.markup("survey.sent_privately", person=ctx.person.display_name))


class _Which(Exception):
    """Several surveys fit: the person picks one with a button (the same command, naming it)."""

    def __init__(self, choices: list[tuple[WorkingGroup, Survey]]) -> None:
        super().__init__("which survey")
        self.choices = choices


async def _by_token(ctx: Context, text: str) -> tuple[WorkingGroup, Survey] | None:
    """``umfrage-<id>`` (what the choice buttons send) names a survey of any of one's AGs."""
    token = text.strip()
    rest = token[len(fmt.START_PREFIX) :] if token.startswith(fmt.START_PREFIX) else ""
    if not (rest.isascii() and rest.isdigit() and len(rest) <= 9):
        return None
    survey = await ctx.services.surveys.by_id(int(rest))
    group = await ctx.services.groups.repo.get(survey.group_id) if survey is not None else None
    if survey is None or group is None:
        raise UserError("survey.unknown")
    return group, survey


async def _pick(ctx: Context, text: str, *, finished: bool) -> tuple[WorkingGroup, Survey]:
    """The survey ``/umfrage weiter`` (or ``aendern``) means: named by a button, by number in
    the chat's AG, else the open one the person has not finished (or has, to change it); with
    several, :class:`_Which` asks which."""
    surveys = ctx.services.surveys
    named = await _by_token(ctx, text)
    if named is not None:
        return named
    number = as_number(text) if text else None
    if text and number is None:
        raise UsageError()
    if number is not None:
        group = ctx.require_group()
        return group, await surveys.get(group, number)
    active = await surveys.active(ctx.person) if not finished else None
    if active is not None:
        return active[0], active[1]
    candidates, answered = [], []
    for group, survey, response in await surveys.open_with_responses(ctx.person):
        if ctx.group is not None and not ctx.is_private and group.id != ctx.group.id:
            continue
        done = response is not None and response.status is ResponseStatus.FINISHED
        if done == finished or (response is not None and response.editing):
            candidates.append((group, survey))
        elif done:
            answered.append(survey)
    if not candidates:
        if answered:
            # "Nothing to answer" would read as if the response were lost: say it is in.
            raise UserError("survey.already_finished", number=answered[0].number)
        raise UserError("survey.change_none" if finished else "survey.nothing_open")
    if len(candidates) > 1:
        raise _Which(candidates)
    return candidates[0]


def _ask_which(ctx: Context, choices: list[tuple[WorkingGroup, Survey]], command: str) -> None:
    buttons = [
        [Button(f"{survey.title} ({group.name})", command=f"{command} {fmt.START_PREFIX}{survey.id}")]
        for group, survey in choices
    ]
    ctx.reply(ctx.tr.markup("survey.which"), buttons=buttons)


@router.subcommand(
    "umfrage", "weiter", aliases=("resume", "answer", "teilnehmen", "antworten"), needs_group=False
)
async def resume(ctx: Context, args: Args) -> None:
    """``/umfrage weiter [<Nr>]``: answer a survey privately, or go on where you stopped."""
    try:
        group, survey = await _pick(ctx, args.text, finished=False)
    except _Which as which:
        _ask_which(ctx, which.choices, "/umfrage weiter")
        return
    await open_survey(ctx, group, survey)


@router.subcommand("umfrage", "aendern", aliases=("change", "edit"), needs_group=False)
async def change(ctx: Context, args: Args) -> None:
    """``/umfrage aendern [<Nr>]``: change a finished response until the deadline."""
    try:
        group, survey = await _pick(ctx, args.text, finished=True)
    except _Which as which:
        _ask_which(ctx, which.choices, "/umfrage aendern")
        return
    await open_survey(ctx, group, survey, change=True)


@on_start(fmt.START_PREFIX)
async def start_link(ctx: Context, survey_id: int) -> None:
    """``/start umfrage-<id>``: the deep link and button of an invitation."""
    survey = await ctx.services.surveys.by_id(survey_id)
    group = await ctx.services.groups.repo.get(survey.group_id) if survey is not None else None
    if survey is None or group is None:
        raise UserError("survey.unknown")
    if ctx.is_private:
        await ctx.services.groups.switch_private(ctx.chat, ctx.person, group)
    await open_survey(ctx, group, survey)


async def _active(ctx: Context) -> tuple[WorkingGroup, Conversation] | None:
    """The conversation open in the person's private chat.

    Raises:
        UserError: Its deadline has passed (the close job may not have run yet, e.g. right
            after a downtime): no answer is taken any more.
    """
    active = await ctx.services.surveys.active(ctx.person)
    if active is None:
        return None
    group, survey, response = active
    if ctx.clock.now() >= survey.deadline:
        response.active = False
        raise UserError("survey.closed", number=survey.number)
    return group, await conversation(ctx, group, survey, response)


async def _require_active(ctx: Context) -> tuple[WorkingGroup, Conversation]:
    found = await _active(ctx) if ctx.is_private else None
    if found is None:
        raise UserError("survey.no_conversation")
    return found


@router.command("zurueck", aliases=("back",), needs_group=False)
async def back(ctx: Context, args: Args) -> None:
    """In a survey: back to the previous question."""
    group, conv = await _require_active(ctx)
    show_turn(ctx, group, conv, conv.back())


@router.command("weiter", aliases=("skip", "next"), needs_group=False)
async def skip(ctx: Context, args: Args) -> None:
    """In a survey: skip an optional question, or keep the answer shown."""
    group, conv = await _require_active(ctx)
    show_turn(ctx, group, conv, conv.skip())


@router.command("abbrechen", aliases=("cancel", "pause"), needs_group=False)
async def cancel(ctx: Context, args: Args) -> None:
    """In a survey: stop for now; the answers so far are kept (``/umfrage weiter`` goes on)."""
    found = await _active(ctx) if ctx.is_private else None
    if found is None:
        raise UserError("survey.no_conversation")
    group, conv = found
    response = conv.response
    response.active = False
    tr = ctx.tr = Translator(group.language, group.timezone)
    if response.editing:
        # A change that was not finished is dropped; the submitted answers stay as they were.
        response.editing = False
        response.draft = None
        response.cursor = None
        _reply(ctx, conv.survey, tr.markup("survey.change_cancelled", title=conv.survey.title))
        return
    _reply(
        ctx,
        conv.survey,
        tr.markup("survey.paused", title=conv.survey.title, until=tr.datetime(conv.survey.deadline)),
    )


@router.command("antwort", aliases=("answer",), needs_group=False, hidden=True)
async def button_answer(ctx: Context, args: Args) -> None:
    """The buttons of a question: the same as typing the answer."""
    group, conv = await _require_active(ctx)
    if not args.text:
        show_turn(ctx, group, conv, conv.open())
        return
    show_turn(ctx, group, conv, conv.answer(args.text))


@router.on.on_private_text
async def typed_answer(ctx: Context) -> bool:
    """A plain private message while a survey is open there is its answer."""
    found = await _active(ctx)
    if found is None:
        return False
    group, conv = found
    show_turn(ctx, group, conv, conv.answer(ctx.message.text or ""))
    return True
