"""Which survey activities count as engagement, and what they add up to (pure, no database).

A finished response's answers (a flat dict, see :func:`classify`) become one
:class:`Respondent` and its :class:`Activity` rows, each checked against the survey's
:class:`~bot.services.survey_model.Definition` by :func:`failed_for` — the same rule the
survey engine applies while the person answers, so what they are told at once and what the
results say never differ. :func:`summarize` adds up the counted activities (totals, medians,
direct/indirect and person/organisation-kind breakdowns), :func:`compare` sets two surveys side
by side. The small-cell rule lives in :attr:`Figures.suppressed`: a breakdown cell with fewer
than :data:`SMALL_CELL` respondents never shows its figures (how cells read, in replies and
files, is :mod:`bot.services.survey_export`: ``cell_text``).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.services.survey_model import CONTRIBUTION_ROLES, Check, Definition, Role, Template

SMALL_CELL = 3
"""Breakdown cells with fewer respondents than this show "< 3" instead of their figures."""

PERSON = "person"
"""The respondent kind of a person (the option id of the respondent question)."""
ORGANISATION = "organisation"
"""The respondent kind of an organisation whose kind is not known."""
MODES = ("direct", "indirect")
"""The modes of engagement, in the order results show them."""
KINDS = (PERSON, "stiftung", "kommune", "verein", "unternehmen", "schule", "andere", ORGANISATION)
"""The respondent kinds of the Engagement-Erhebung, in the order results show them (a custom
template's other kinds follow, alphabetically)."""

FIGURES = (
    "respondents",
    "activities",
    "hours",
    "hours_median",
    "people",
    "money",
    "money_median",
    "goods_value",
    "goods_median",
)
"""The figure attributes of :class:`Figures`, in the order tables show them."""


@dataclass(frozen=True)
class Respondent:
    """Who answered, as far as results may say: never a person's identity.

    Attributes:
        index: 1-based position in the survey's list of finished responses.
        kind: :data:`PERSON`, the organisation's kind (the option id of the ``org_kind``
            question, e.g. ``"stiftung"``) or :data:`ORGANISATION` when that is unknown.
        name: The organisation's name (``org_name`` question), ``None`` for a person.
    """

    index: int
    kind: str
    name: str | None


@dataclass(frozen=True)
class Activity:
    """One repetition of the classified group: an activity and whether it counts.

    Attributes:
        respondent: Who named it.
        position: 1-based position within the response.
        description: What the activity is ("" if the template asks no description).
        mode: ``"direct"``, ``"indirect"`` (or another option id of a custom template), or
            ``None`` when not answered.
        hours: Hours per month, all people together.
        people: Number of people giving their time.
        money: EUR per year.
        goods: Which goods.
        goods_value: Value of the goods in EUR.
        failed: Ids of the criteria not met, in the definition's order.
    """

    respondent: Respondent
    position: int
    description: str
    mode: str | None
    hours: float | None
    people: int | None
    money: float | None
    goods: str | None
    goods_value: float | None
    failed: tuple[str, ...]

    @property
    def counts(self) -> bool:
        """Whether the activity meets every criterion and so enters the totals."""
        return not self.failed


def failed_for(
    definition: Definition, crit_answers: Mapping[str, bool], contributions: Mapping[str, float | None]
) -> tuple[str, ...]:
    """The criteria one activity does not meet, in the definition's order.

    The survey engine calls this while the person answers (to say at once which criteria failed
    and why) and :func:`classify` calls it for the results, so there is one rule.

    A criterion checked by asking (``check = "ask"``) is met only by an answer of ``True``: a
    ``False`` answer fails it, and so does a missing one (a criterion nobody confirmed is not
    met). A ``contribution`` criterion is met when time, money or goods are given: some value of
    ``contributions`` under :data:`~bot.services.survey_model.CONTRIBUTION_ROLES` (``hours``,
    ``money``, ``goods_value``) is greater than zero.

    Args:
        definition: The survey's definition.
        crit_answers: Criterion id -> the yes/no answer of this activity.
        contributions: Role name (``"hours"``, ``"money"``, ``"goods_value"``) -> the figure or
            ``None``; other keys (e.g. ``"people"``) are ignored.

    Returns:
        The ids of the criteria not met.
    """
    contributes = any(_positive(contributions.get(role)) for role in CONTRIBUTION_ROLES)
    return tuple(
        criterion.id
        for criterion in definition.criteria
        if not (
            contributes if criterion.check is Check.CONTRIBUTION else crit_answers.get(criterion.id) is True
        )
    )


def classify(
    template: Template, definition: Definition, answers: Mapping[str, Any], index: int
) -> tuple[Respondent, list[Activity]]:
    """Turn one finished response into its respondent and classified activities.

    The answers are the engine's flat dict, pruned to the questions that were shown: top-level
    questions as ``"<qid>"``, group questions as ``"<gid>.<i>.<qid>"`` for repetition ``i``,
    criteria as ``"<gid>.<i>.crit.<criterion id>"`` and ``"<gid>.<i>._more"`` after each
    repetition. Questions are found by their roles, so a custom template that names them is
    read like the Engagement-Erhebung.

    The respondent is a person when the ``respondent`` answer is ``"person"``, or when neither
    that nor any organisation question was answered (a template without these questions asks
    people); otherwise an organisation of the ``org_kind`` answer's kind (or
    :data:`ORGANISATION`). Each activity is checked with :func:`failed_for`: a criterion asked
    as a question fails on ``False`` *and* when its answer is missing.

    Args:
        template: The survey's template.
        definition: The definition version the survey uses.
        answers: The response's answers.
        index: The response's 1-based position among the survey's finished responses.

    Returns:
        The respondent and its activities in the order answered (none without a classified group).
    """
    respondent = _respondent(template, answers, index)
    group = template.classified_group
    if group is None:
        return respondent, []
    ids = {role: question.id for role in Role if (question := group.by_role(role)) is not None}
    activities = []
    for repetition in _repetitions(group.id, answers):
        prefix = f"{group.id}.{repetition}."

        def value(role: Role, prefix: str = prefix) -> Any:
            return answers.get(prefix + ids[role]) if role in ids else None

        crit_prefix = prefix + "crit."
        crit_answers = {
            key[len(crit_prefix) :]: answer is True
            for key, answer in answers.items()
            if key.startswith(crit_prefix)
        }
        hours, money = _number(value(Role.HOURS)), _number(value(Role.MONEY))
        goods_value, people = _number(value(Role.GOODS_VALUE)), _number(value(Role.PEOPLE))
        failed = failed_for(
            definition,
            crit_answers,
            {Role.HOURS: hours, Role.MONEY: money, Role.GOODS_VALUE: goods_value},
        )
        activities.append(
            Activity(
                respondent=respondent,
                position=repetition + 1,
                description=_text(value(Role.DESCRIPTION)) or "",
                mode=_text(value(Role.MODE)),
                hours=hours,
                people=None if people is None else round(people),
                money=money,
                goods=_text(value(Role.GOODS)),
                goods_value=goods_value,
                failed=failed,
            )
        )
    return respondent, activities


def _respondent(template: Template, answers: Mapping[str, Any], index: int) -> Respondent:
    def answer(role: Role) -> Any:
        question = template.by_role(role)
        return answers.get(question.id) if question is not None else None

    who = _text(answer(Role.RESPONDENT))
    kind = _text(answer(Role.ORG_KIND))
    name = _text(answer(Role.ORG_NAME))
    if who == PERSON or (who is None and kind is None and name is None):
        return Respondent(index, PERSON, None)  # a person's name is never taken
    return Respondent(index, kind or ORGANISATION, name)


def _repetitions(group_id: str, answers: Mapping[str, Any]) -> list[int]:
    """The repetitions of a group that have answers, up to the one answered "no more"."""
    head = f"{group_id}."
    found = set()
    for key in answers:
        if key.startswith(head):
            number, _, rest = key[len(head) :].partition(".")
            if rest and number.isascii() and number.isdigit():
                found.add(int(number))
    repetitions = []
    for repetition in sorted(found):
        repetitions.append(repetition)
        if answers.get(f"{group_id}.{repetition}._more") is False:
            break  # anything after it would be a stale leftover
    return repetitions


def _number(value: Any) -> float | None:
    """A finite number answer as float (``bool`` is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    """A non-empty text answer, stripped."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _positive(value: float | None) -> bool:
    return value is not None and not isinstance(value, bool) and value > 0


# Results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """The counted activities of one cell: a breakdown (a mode, a kind) or the total.

    Sums are over counted activities only. A median is over the counted activities that have
    the figure *and* give more than zero of it (an activity giving only money says nothing about
    typical hours); ``None`` when no activity has it.

    Attributes:
        respondents: Distinct respondents with counted activities in the cell.
        activities: Counted activities in the cell.
        hours: Hours per month, summed.
        hours_median: Median hours per month.
        people: People giving their time, summed.
        money: EUR per year, summed.
        money_median: Median EUR per year.
        goods_value: Value of goods in EUR, summed.
        goods_median: Median value of goods.
        breakdown: Whether this is a breakdown cell (the small-cell rule applies) rather than
            the overall total (always shown).
    """

    respondents: int
    activities: int
    hours: float
    hours_median: float | None
    people: int
    money: float
    money_median: float | None
    goods_value: float
    goods_median: float | None
    breakdown: bool = True
    complementary: bool = False

    @property
    def suppressed(self) -> bool:
        """Whether the cell must show "< 3" instead of its figures: a breakdown cell with fewer
        than :data:`SMALL_CELL` respondents, or (``complementary``) the smallest other cell of a
        breakdown with exactly one such cell, which the total minus the rest would give away."""
        return self.breakdown and (self.respondents < SMALL_CELL or self.complementary)


@dataclass(frozen=True)
class Results:
    """The results of one survey.

    Attributes:
        respondents: Finished responses.
        activities: All activities named.
        counted: Activities that meet every criterion.
        not_counted: Activities that fail at least one.
        total: All counted activities (never suppressed).
        by_mode: Counted activities by mode (``direct`` first), breakdown cells.
        by_kind: Counted activities by respondent kind (:data:`KINDS` order), breakdown cells.
        failed: Criterion id -> not-counted activities failing it, most frequent first (ties in
            the definition's order).
        not_counted_list: The activities that do not count, in response order.
        definition_version: The definition version used.
    """

    respondents: int
    activities: int
    counted: int
    not_counted: int
    total: Figures
    by_mode: dict[str, Figures]
    by_kind: dict[str, Figures]
    failed: list[tuple[str, int]]
    not_counted_list: list[Activity]
    definition_version: int | None


def summarize(
    respondents: Sequence[Respondent], activities: Sequence[Activity], definition: Definition
) -> Results:
    """Add up a survey's classified activities.

    Args:
        respondents: Every finished response's respondent (also those without activities).
        activities: Every activity of those responses, as :func:`classify` made them.
        definition: The definition version the survey uses (orders the failed criteria).

    Returns:
        The results; only counted activities enter totals, medians and breakdowns.
    """
    counted = [a for a in activities if a.counts]
    not_counted = [a for a in activities if not a.counts]
    order = {criterion.id: position for position, criterion in enumerate(definition.criteria)}
    tally = Counter(criterion for activity in not_counted for criterion in activity.failed)
    failed = sorted(tally.items(), key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
    return Results(
        respondents=len(respondents),
        activities=len(activities),
        counted=len(counted),
        not_counted=len(not_counted),
        total=figures_of(counted, breakdown=False),
        by_mode=_breakdown(counted, lambda a: a.mode, MODES),
        by_kind=_breakdown(counted, lambda a: a.respondent.kind, KINDS),
        failed=failed,
        not_counted_list=not_counted,
        definition_version=definition.version,
    )


def figures_of(activities: Iterable[Activity], *, breakdown: bool = True) -> Figures:
    """The figures of a cell made of ``activities`` (the caller picks the counted ones)."""
    chosen = list(activities)

    def values(attribute: str) -> list[float]:
        return [v for a in chosen if (v := getattr(a, attribute)) is not None]

    def median(attribute: str) -> float | None:
        given = [v for v in values(attribute) if v > 0]
        return float(statistics.median(given)) if given else None

    return Figures(
        respondents=len({a.respondent.index for a in chosen}),
        activities=len(chosen),
        hours=math.fsum(values("hours")),
        hours_median=median("hours"),
        people=sum(int(v) for v in values("people")),
        money=math.fsum(values("money")),
        money_median=median("money"),
        goods_value=math.fsum(values("goods_value")),
        goods_median=median("goods_value"),
        breakdown=breakdown,
    )


def _breakdown(
    activities: Sequence[Activity], key: Callable[[Activity], str | None], order: Sequence[str]
) -> dict[str, Figures]:
    """One cell per key that has activities (activities without a key are in no cell)."""
    cells: dict[str, list[Activity]] = {}
    for activity in activities:
        if (cell := key(activity)) is not None:
            cells.setdefault(cell, []).append(activity)
    figures = {cell: figures_of(cells[cell]) for cell in _ordered(cells, order)}
    return _complement(figures)


def _complement(cells: dict[str, Figures]) -> dict[str, Figures]:
    """Secondary suppression: with exactly one small cell, the total minus the others would
    give it away, so the smallest of the others is suppressed too."""
    small = [key for key, cell in cells.items() if cell.suppressed]
    others = [key for key, cell in cells.items() if not cell.suppressed]
    if len(small) != 1 or not others:
        return cells
    hide = min(others, key=lambda key: (cells[key].respondents, cells[key].activities, key))
    return {key: replace(cell, complementary=True) if key == hide else cell for key, cell in cells.items()}


def _ordered(keys: Iterable[str], order: Sequence[str]) -> list[str]:
    """``keys`` in ``order``, unknown ones after, alphabetically."""
    rank = {key: position for position, key in enumerate(order)}
    return sorted(set(keys), key=lambda k: (rank.get(k, len(rank)), k))


# Comparison --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """One row of a comparison: the same cell in both surveys.

    Attributes:
        section: ``"total"``, ``"mode"`` or ``"kind"``.
        key: The mode or kind (``None`` for the total).
        a: The cell in the first survey (``None``: nothing counted there).
        b: The cell in the second survey.
    """

    section: str
    key: str | None
    a: Figures | None
    b: Figures | None


@dataclass(frozen=True)
class Comparison:
    """Two surveys side by side (e.g. 2026 and 2027).

    Attributes:
        a: The first survey's results.
        b: The second survey's results.
        rows: The total, then each mode and each kind found in either survey.
        definition_changes: Ids of criteria added, removed or changed between the two
            definition versions (empty for the same version).
    """

    a: Results
    b: Results
    rows: list[ComparisonRow]
    definition_changes: list[str]


def compare(a: Results, b: Results, def_a: Definition, def_b: Definition) -> Comparison:
    """Set two surveys' results side by side and say where their definitions differ.

    Args:
        a: The first (usually earlier) survey's results.
        b: The second survey's results.
        def_a: The definition version ``a`` used.
        def_b: The definition version ``b`` used.

    Returns:
        The comparison; breakdown cells keep the small-cell rule (format them with
        :func:`bot.services.survey_export.cell_text`).
    """
    rows = [ComparisonRow("total", None, a.total, b.total)]
    for section, order, left, right in (
        ("mode", MODES, a.by_mode, b.by_mode),
        ("kind", KINDS, a.by_kind, b.by_kind),
    ):
        for key in _ordered([*left, *right], order):
            rows.append(ComparisonRow(section, key, left.get(key), right.get(key)))
    return Comparison(a, b, rows, definition_changes(def_a, def_b))


def definition_changes(old: Definition, new: Definition) -> list[str]:
    """Ids of the criteria added, removed, or with another question, failed text or check.

    These are what change which activities count and what respondents are asked; names,
    explanations and examples may be reworded without making figures incomparable. Two stored
    definitions with the same version number are the same and have no changes.

    Returns:
        The ids in ``old``'s order, then those only in ``new``.
    """
    if old.version is not None and old.version == new.version:
        return []
    changes = []
    for criterion in old.criteria:
        other = new.criterion(criterion.id)
        if other is None or (other.question, other.failed, other.check) != (
            criterion.question,
            criterion.failed,
            criterion.check,
        ):
            changes.append(criterion.id)
    changes.extend(c.id for c in new.criteria if old.criterion(c.id) is None)
    return changes
