"""How surveys read: the announcement, the private invitation with its privacy note, each
question with its buttons, answers as the respondent gave them, and the closing notes."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.events import Button
from bot.core.i18n import Translator
from bot.core.markup import Markup, bold, code, italic
from bot.services.survey_flow import Step
from bot.services.survey_input import format_number
from bot.services.survey_model import Criterion, Definition, QuestionType, Template
from storage.models import Survey

START_PREFIX = "umfrage-"
"""``/start umfrage-<id>`` (a Telegram deep link, a button elsewhere) opens a survey privately."""
MAX_OPTION_BUTTONS = 7
"""Matrix shows buttons as reactions: options, yes/no, "?" and "back" must stay within nine."""


def start_command(survey: Survey) -> str:
    """The command a button runs to open the survey privately."""
    return f"/start {START_PREFIX}{survey.id}"


def open_buttons(tr: Translator, survey: Survey) -> list[list[Button]]:
    """The button that opens the survey in the private chat (a deep link on Telegram)."""
    return [[Button(tr.text("survey.open_button"), start_payload=f"{START_PREFIX}{survey.id}")]]


def announcement(tr: Translator, survey: Survey, group_name: str) -> Markup:
    """The note in every chat of the AG when a survey starts."""
    key = "survey.announced_anonymous" if survey.anonymous else "survey.announced"
    return tr.markup(
        key,
        title=survey.title,
        number=survey.number,
        ag=tr.group_phrase(group_name),
        until=tr.datetime(survey.deadline),
    )


def privacy_note(tr: Translator, survey: Survey) -> Markup:
    """What is stored and who sees it, shown before the first question."""
    return tr.markup("survey.privacy_anonymous" if survey.anonymous else "survey.privacy")


def invitation(tr: Translator, survey: Survey, template: Template, group_name: str) -> Markup:
    """The private invitation: title, intro, deadline, privacy note, how answering works."""
    markup = tr.markup(
        "survey.invitation",
        title=survey.title,
        ag=tr.group_phrase(group_name),
        until=tr.datetime(survey.deadline),
    )
    if template.intro is not None:
        markup.blank().line(template.intro.get(tr.language))
    markup.blank().extend(privacy_note(tr, survey))
    markup.blank().extend(tr.lines("survey.how_to_answer"))
    return markup


def value_text(tr: Translator, step: Step, value: Any) -> str:
    """An answer as the respondent would say it ("Stiftung", "12,5 Stunden", "ja")."""
    question = step.question
    language = tr.language
    if value is None:
        return tr.text("survey.value_skipped")
    kind = question.type
    if kind is QuestionType.CHOICE:
        option = question.option(str(value))
        return option.label.get(language) if option is not None else str(value)
    if kind is QuestionType.MULTI:
        labels = []
        for option_id in value if isinstance(value, list) else [value]:
            option = question.option(str(option_id))
            labels.append(option.label.get(language) if option is not None else str(option_id))
        return ", ".join(labels)
    if kind is QuestionType.YESNO:
        return tr.text("survey.yes" if value else "survey.no")
    if kind is QuestionType.MONEY:
        return format_number(float(value), language, money=True)
    if kind is QuestionType.HOURS:
        return tr.text("survey.hours_value", hours=format_number(float(value), language))
    if kind is QuestionType.NUMBER:
        unit = question.unit.get(language) if question.unit is not None else ""
        return f"{format_number(float(value), language)} {unit}".strip()
    if kind is QuestionType.DATE:
        return tr.date(date.fromisoformat(str(value)))
    return str(value)


def _hint(tr: Translator, step: Step) -> str | None:
    question = step.question
    kind = question.type
    language = tr.language
    if kind is QuestionType.MULTI:
        return tr.text("survey.hint_multi")
    if kind is QuestionType.HOURS:
        return tr.text("survey.hint_hours")
    if kind is QuestionType.MONEY:
        return tr.text("survey.hint_money")
    if kind is QuestionType.NUMBER:
        unit = question.unit.get(language) if question.unit is not None else ""
        low = format_number(question.minimum, language) if question.minimum is not None else None
        high = format_number(question.maximum, language) if question.maximum is not None else None
        if low is not None and high is not None:
            return tr.text("survey.hint_number_range", low=low, high=high, unit=unit).strip()
        if unit:
            return tr.text("survey.hint_number_unit", unit=unit)
        return tr.text("survey.hint_number")
    if kind is QuestionType.DATE:
        return tr.text("survey.hint_date")
    if kind is QuestionType.TEXT:
        return tr.text("survey.hint_text", limit=question.max_length)
    return None


def question(
    tr: Translator,
    survey: Survey,
    step: Step,
    *,
    position: tuple[int, int],
    previous: Any = None,
    has_previous: bool = False,
) -> tuple[Markup, list[list[Button]]]:
    """One question with its options, hints and buttons.

    Args:
        tr: The AG's translator.
        survey: The survey.
        step: The question as asked.
        position: Its number and the number of questions visible now.
        previous: The answer given before (going back, changing), shown with ``/weiter`` to keep it.
        has_previous: Whether there is such an answer (``previous`` may be ``None`` for skipped).
    """
    language = tr.language
    q = step.question
    where = [survey.title]
    if step.group is not None and step.index is not None:
        where.append(f"{step.group.title.get(language)} {step.index + 1}")
    where.append(tr.text("survey.position", n=position[0], total=position[1]))
    markup = Markup().line("📋 ", italic(" · ".join(where)))
    if step.criterion is not None:
        markup.line(tr.text("survey.criterion_label", name=step.criterion.name.get(language)))
    markup.line(bold(q.text.get(language)))
    if q.help is not None:
        markup.line(italic(q.help.get(language)))
    if q.type in (QuestionType.CHOICE, QuestionType.MULTI):
        for number, option in enumerate(q.options, start=1):
            markup.line(f"{number}. ", option.label.get(language))
    hint = _hint(tr, step)
    if hint:
        markup.line(italic(hint))
    if has_previous:
        markup.line(tr.text("survey.previous", value=value_text(tr, step, previous)))
    footer = "survey.footer_optional" if not q.required else "survey.footer"
    if has_previous:
        footer = "survey.footer_keep"
    markup.extend(tr.lines(footer))
    return markup, _buttons(tr, step, has_previous)


def _buttons(tr: Translator, step: Step, has_previous: bool) -> list[list[Button]]:
    q = step.question
    rows: list[list[Button]] = []
    if q.type is QuestionType.CHOICE and len(q.options) <= MAX_OPTION_BUTTONS:
        rows += [
            [Button(o.label.get(tr.language), command=f"/antwort {n}")] for n, o in enumerate(q.options, 1)
        ]
    elif q.type is QuestionType.YESNO:
        row = [
            Button(tr.text("survey.yes"), command="/antwort ja"),
            Button(tr.text("survey.no"), command="/antwort nein"),
        ]
        if step.criterion is not None:
            row.append(Button("?", command=f"/definition {step.criterion.id}"))
        rows.append(row)
    last = [Button(tr.text("survey.back_button"), command="/zurueck")]
    if has_previous:
        last.append(Button(tr.text("survey.keep_button"), command="/weiter"))
    elif not q.required:
        last.append(Button(tr.text("survey.skip_button"), command="/weiter"))
    rows.append(last)
    return rows


def failed_notice(tr: Translator, criteria: list[Criterion]) -> Markup:
    """Told at once when an answer leaves a criterion unmet: which one and why."""
    language = tr.language
    reasons = "; ".join(f"{c.failed.get(language)} – {c.example.get(language)}" for c in criteria)
    return tr.markup("survey.not_counting", reasons=reasons)


def criterion_markup(tr: Translator, criterion: Criterion, definition: Definition) -> Markup:
    """One criterion in full (the "?" button)."""
    language = tr.language
    markup = Markup().line(bold(criterion.name.get(language)))
    markup.line(criterion.explanation.get(language))
    markup.line(italic(tr.text("survey.definition_counter", example=criterion.example.get(language))))
    markup.blank().line(tr.text("survey.definition_version", version=definition.version or 1))
    return markup


def definition_markup(tr: Translator, definition: Definition) -> Markup:
    """``/definition``: the current definition with every criterion."""
    language = tr.language
    markup = Markup().line(
        bold(definition.title.get(language)),
        " ",
        tr.text("survey.definition_version_short", version=definition.version or 1),
    )
    if definition.summary is not None:
        markup.line(definition.summary.get(language))
    markup.blank()
    for criterion in definition.criteria:
        markup.bullet(bold(criterion.name.get(language)), ": ", criterion.explanation.get(language))
    markup.blank().extend(tr.lines("survey.definition_footer"))
    return markup


def summary_list(tr: Translator, survey: Survey, steps: list[Step], answers: dict[str, Any]) -> Markup:
    """The numbered answers of a response (``/umfrage aendern``)."""
    language = tr.language
    markup = tr.markup("survey.change_title", title=survey.title)
    for number, step in enumerate(steps, start=1):
        where = ""
        if step.group is not None and step.index is not None:
            where = f"{step.group.title.get(language)} {step.index + 1}: "
        label = step.question.text.get(language)
        markup.line(
            code(str(number)), " ", where, label, " → ", bold(value_text(tr, step, answers.get(step.key)))
        )
    markup.blank().extend(tr.lines("survey.change_footer"))
    return markup
