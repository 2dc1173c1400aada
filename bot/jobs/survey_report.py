"""How survey results read: ``/umfrage ergebnis``, ``/umfrage vergleich`` and the files of
``/umfrage export``, from the finished responses of a survey.

Classified templates (the Engagement-Erhebung) are added up by
:mod:`bot.services.survey_results`; other templates get a count per answer. Every breakdown
keeps the small-cell rule: fewer than three respondents read "< 3".
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from dataclasses import dataclass, replace
from typing import Any

from bot.core.events import Attachment
from bot.core.i18n import Translator
from bot.core.markup import Markup, bold, italic
from bot.jobs.survey_format import value_text
from bot.services import survey_export as export
from bot.services import survey_flow as flow
from bot.services.survey_input import format_number
from bot.services.survey_model import Definition, Group, QuestionType, Template
from bot.services.survey_results import SMALL_CELL, Activity, Respondent, Results, classify, summarize
from bot.services.text import shorten
from storage.models import Survey, SurveyResponse

log = logging.getLogger(__name__)

LISTED_NOT_COUNTED = 8
"""Not-counted activities listed by name in the result message (the export has all)."""


@dataclass(slots=True)
class Evaluation:
    """A survey's finished responses, classified (when the template classifies)."""

    survey: Survey
    template: Template
    definition: Definition | None
    responses: list[SurveyResponse]
    respondents: list[Respondent]
    activities: list[Activity]
    results: Results | None


def evaluate(
    survey: Survey, template: Template, definition: Definition | None, responses: list[SurveyResponse]
) -> Evaluation:
    """Classify every finished response and add up the results."""
    respondents: list[Respondent] = []
    activities: list[Activity] = []
    results = None
    if definition is not None and template.classified_group is not None:
        for index, response in enumerate(responses, start=1):
            respondent, found = classify(template, definition, response.answers, index)
            if survey.anonymous and respondent.name is not None:
                # An organisation's name would say who answered an anonymous survey.
                respondent = replace(respondent, name=None)
                found = [replace(activity, respondent=respondent) for activity in found]
            respondents.append(respondent)
            activities.extend(found)
        results = summarize(respondents, activities, definition)
    return Evaluation(survey, template, definition, responses, respondents, activities, results)


def meta(evaluation: Evaluation, group_name: str, timezone: str) -> export.ExportMeta:
    """What the export files say about the survey."""
    survey = evaluation.survey
    return export.ExportMeta(
        survey_title=survey.title,
        survey_number=survey.number,
        group_name=group_name,
        anonymous=survey.anonymous,
        started=survey.created_at,
        closed=survey.closed_at,
        definition_version=evaluation.definition.version if evaluation.definition is not None else None,
        timezone=timezone,
    )


def _header(tr: Translator, evaluation: Evaluation, members: int) -> Markup:
    survey = evaluation.survey
    state = "survey.result_title_open" if survey.closed_at is None else "survey.result_title"
    markup = tr.markup(state, number=survey.number, title=survey.title)
    if evaluation.definition is not None:
        markup.line(italic(tr.text("survey.result_definition", version=evaluation.definition.version or 1)))
    markup.line(tr.text("survey.result_respondents", n=len(evaluation.responses), members=members))
    return markup


def result(tr: Translator, evaluation: Evaluation, members: int) -> Markup:
    """The result message of a survey."""
    markup = _header(tr, evaluation, members)
    results = evaluation.results
    if results is None:
        return markup.blank().extend(_generic(tr, evaluation))
    definition = evaluation.definition
    assert definition is not None
    markup.line(
        tr.text(
            "survey.result_activities",
            n=results.activities,
            counted=results.counted,
            not_counted=results.not_counted,
        )
    )
    total = results.total
    markup.blank().line(bold(tr.text("survey.result_totals")))
    markup.bullet(
        tr.text(
            "survey.result_hours",
            hours=export.cell_text(total, "hours", tr),
            median=export.cell_text(total, "hours_median", tr),
            people=export.cell_text(total, "people", tr),
        )
    )
    markup.bullet(
        tr.text(
            "survey.result_money",
            money=export.cell_text(total, "money", tr),
            median=export.cell_text(total, "money_median", tr),
        )
    )
    markup.bullet(
        tr.text(
            "survey.result_goods",
            value=export.cell_text(total, "goods_value", tr),
            median=export.cell_text(total, "goods_median", tr),
        )
    )
    for title, cells, label in (
        ("survey.result_by_mode", results.by_mode, export.mode_label),
        ("survey.result_by_kind", results.by_kind, export.kind_label),
    ):
        if not cells:
            continue
        markup.blank().line(bold(tr.text(title)))
        for key, cell in cells.items():
            if cell.suppressed:
                markup.bullet(label(key, tr), ": ", export.small_cell_text(tr))
                continue
            markup.bullet(
                label(key, tr),
                ": ",
                tr.text(
                    "survey.result_cell",
                    activities=export.cell_text(cell, "activities", tr),
                    hours=export.cell_text(cell, "hours", tr),
                    money=export.cell_text(cell, "money", tr),
                    goods=export.cell_text(cell, "goods_value", tr),
                ),
            )
    if results.not_counted:
        markup.blank().line(bold(tr.text("survey.result_not_counted")))
        for activity in results.not_counted_list[:LISTED_NOT_COUNTED]:
            markup.bullet(
                shorten(activity.description, 80),
                " – ",
                export.reasons(definition, activity.failed, tr.language),
            )
        more = results.not_counted - LISTED_NOT_COUNTED
        if more > 0:
            markup.line(italic(tr.text("survey.result_more", n=more)))
        reasons = ", ".join(
            f"{export.reasons(definition, [cid], tr.language)} ({count})" for cid, count in results.failed[:3]
        )
        markup.line(tr.text("survey.result_reasons", reasons=reasons))
    return markup


def _generic(tr: Translator, evaluation: Evaluation) -> Markup:
    """Answers counted per question (templates that don't classify)."""
    markup = Markup()
    per_step: dict[str, tuple[flow.Step, list[Any]]] = {}
    for response in evaluation.responses:
        for step in flow.steps(evaluation.template, None, response.answers):
            if step.is_more or response.answers.get(step.key) is None:
                continue
            # Repetitions of a group question are pooled under the question.
            key = f"{step.group.id}.{step.question.id}" if step.group is not None else step.key
            per_step.setdefault(key, (step, []))[1].append((response.id, response.answers[step.key]))
    order = _question_order(evaluation.template)
    for _, (step, values) in sorted(per_step.items(), key=lambda item: order.get(item[0], len(order))):
        question = step.question
        markup.line(bold(question.text.get(tr.language)))
        kind = question.type
        if kind in (QuestionType.CHOICE, QuestionType.MULTI, QuestionType.YESNO):
            who: dict[str, set[int]] = {}
            for respondent, value in values:
                for part in value if isinstance(value, list) else [value]:
                    label = value_text(tr, step, [part] if kind is QuestionType.MULTI else part)
                    who.setdefault(label, set()).add(respondent)
            for label, people in sorted(who.items(), key=lambda item: -len(item[1])):
                count = export.small_cell_text(tr) if len(people) < SMALL_CELL else str(len(people))
                markup.bullet(label, ": ", count)
        elif kind in (QuestionType.NUMBER, QuestionType.MONEY, QuestionType.HOURS):
            numbers = [float(v) for _, v in values]
            if len({r for r, _ in values}) < SMALL_CELL:
                markup.bullet(export.small_cell_text(tr))
                continue
            money = kind is QuestionType.MONEY
            markup.bullet(
                tr.text(
                    "survey.result_numbers",
                    total=format_number(sum(numbers), tr.language, money=money),
                    median=format_number(statistics.median(numbers), tr.language, money=money),
                    n=len(numbers),
                )
            )
        else:
            markup.bullet(tr.text("survey.result_texts", n=len(values)))
    if not per_step:
        markup.line(tr.text("survey.result_empty"))
    return markup


def _question_order(template: Template) -> dict[str, int]:
    """Position of every question in the template (a group's as ``<group>.<question>``)."""
    order: dict[str, int] = {}
    for item in template.items:
        if isinstance(item, Group):
            for question in item.questions:
                order[f"{item.id}.{question.id}"] = len(order)
        else:
            order[item.id] = len(order)
    return order


async def chart(tr: Translator, evaluation: Evaluation) -> Attachment | None:
    """The result chart (drawn in a thread), or ``None`` when there is nothing to draw."""
    if evaluation.results is None:
        return None
    try:
        png = await asyncio.to_thread(export.result_chart, evaluation.results, tr, evaluation.definition)
    except Exception:
        log.exception("survey %s: the chart could not be drawn", evaluation.survey.id)
        return None
    if png is None:
        return None
    filename = tr.text("survey.chart_filename", number=evaluation.survey.number)
    return Attachment(filename, "image/png", png)


def comparison(tr: Translator, first: Evaluation, second: Evaluation) -> Markup:
    """``/umfrage vergleich``: two surveys of one template side by side."""
    from bot.services.survey_results import compare

    a, b = first.results, second.results
    assert a is not None and b is not None and first.definition and second.definition
    result = compare(a, b, first.definition, second.definition)
    markup = tr.markup(
        "survey.compare_title",
        a=first.survey.number,
        b=second.survey.number,
        title=first.survey.title,
    )
    markup.line(
        tr.text(
            "survey.compare_counts",
            a=f"{a.respondents} / {a.counted}",
            b=f"{b.respondents} / {b.counted}",
        )
    )
    for row in result.rows:
        label = export.row_label(row, tr)
        markup.bullet(
            bold(label),
            ": ",
            tr.text(
                "survey.compare_row",
                hours_a=export.cell_text(row.a, "hours", tr),
                hours_b=export.cell_text(row.b, "hours", tr),
                money_a=export.cell_text(row.a, "money", tr),
                money_b=export.cell_text(row.b, "money", tr),
                goods_a=export.cell_text(row.a, "goods_value", tr),
                goods_b=export.cell_text(row.b, "goods_value", tr),
            ),
        )
    version_a = first.definition.version or 1
    version_b = second.definition.version or 1
    if version_a == version_b:
        markup.blank().line(tr.text("survey.compare_same_definition", version=version_a))
    else:
        names = []
        for criterion_id in result.definition_changes:
            criterion = second.definition.criterion(criterion_id) or first.definition.criterion(criterion_id)
            names.append(criterion.name.get(tr.language) if criterion is not None else criterion_id)
        markup.blank().line(
            bold(
                tr.text(
                    "survey.compare_definitions",
                    a=version_a,
                    b=version_b,
                    changes=", ".join(names) or tr.text("survey.compare_wording_only"),
                )
            )
        )
    return markup


def answers_table(tr: Translator, evaluation: Evaluation) -> tuple[list[str], list[list[Any]]]:
    """A survey that does not classify, for its export: one row per response (numbered, no
    identity), one column per question as asked (a group's questions once per repetition);
    numbers stay numbers, other answers read as the respondent gave them."""
    columns: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for response in evaluation.responses:
        row: dict[str, Any] = {}
        for step in flow.steps(evaluation.template, None, response.answers):
            if step.is_more or step.key not in response.answers:
                continue
            where = flow.group_title(step, tr.language)
            text = step.question.text.get(tr.language)
            columns.setdefault(step.key, f"{where}: {text}" if where else text)
            value = response.answers[step.key]
            numeric = step.question.type in (QuestionType.NUMBER, QuestionType.MONEY, QuestionType.HOURS)
            row[step.key] = value if numeric or value is None else value_text(tr, step, value)
        rows.append(row)
    # Template order, with each repetition's questions after the one before.
    order = [key for key in columns]
    headers = [tr.text("survey.table.column.respondent"), *(columns[key] for key in order)]
    table = [[index, *(row.get(key) for key in order)] for index, row in enumerate(rows, start=1)]
    return headers, table
