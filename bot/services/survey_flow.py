"""The order of a survey's questions for one respondent (pure, no database).

Answers are a flat dict: a top-level question under its id, a group's question under
``"<group>.<i>.<question>"`` for repetition ``i``, a criterion of the definition under
``"<group>.<i>.crit.<criterion>"`` and after each repetition ``"<group>.<i>._more"`` (whether
another one follows). A skipped optional question is stored as ``None``, so "answered" and
"skipped" are both "present". Which questions are visible follows from the answers given so
far (conditions, repetitions), so the whole position of a conversation is the answers plus
the key of the question asked now (the cursor): after a restart it continues exactly there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.services.survey_model import (
    Condition,
    Criterion,
    Definition,
    Group,
    Question,
    QuestionType,
    Template,
)

MORE = "_more"
CRIT = "crit"


@dataclass(frozen=True, slots=True)
class Step:
    """One question as asked: where its answer goes and what it asks.

    Attributes:
        key: The answer's key in the flat dict.
        question: The question (for a criterion or the "another one?" question a yes/no
            question made for it).
        group: The repeating group it belongs to, if any.
        index: The repetition (0-based), if in a group.
        criterion: The definition's criterion this step asks about, if any.
    """

    key: str
    question: Question
    group: Group | None = None
    index: int | None = None
    criterion: Criterion | None = None

    @property
    def is_more(self) -> bool:
        """Whether this is the "another one?" question after a repetition."""
        return self.key.endswith("." + MORE)


def criterion_question(criterion: Criterion) -> Question:
    """The yes/no question asked for one criterion of the definition."""
    return Question(id=f"{CRIT}.{criterion.id}", type=QuestionType.YESNO, text=criterion.question)


def more_question(group: Group) -> Question:
    """The "another one?" question after a repetition of ``group``."""
    return Question(id=MORE, type=QuestionType.YESNO, text=group.more)


def _value_matches(condition: Condition, value: Any) -> bool:
    if value is None:
        return False
    if condition.equals is not None:
        if isinstance(value, bool):
            return ("yes" if value else "no") in condition.equals
        return str(value) in condition.equals
    if condition.includes is not None:
        return isinstance(value, list) and condition.includes in value
    if condition.gt is not None:
        return isinstance(value, int | float) and not isinstance(value, bool) and value > condition.gt
    return False


def visible(
    condition: Condition | None, answers: Mapping[str, Any], group: Group | None, index: int | None
) -> bool:
    """Whether a question with this condition is shown, given the answers so far.

    A condition names a question of the same group (the same repetition's answer counts) or a
    top-level question.
    """
    if condition is None:
        return True
    if group is not None and group.question(condition.question) is not None:
        key = f"{group.id}.{index}.{condition.question}"
    else:
        key = condition.question
    return _value_matches(condition, answers.get(key))


def _group_steps(group: Group, definition: Definition | None, answers: Mapping[str, Any]) -> Iterator[Step]:
    index = 0
    while True:
        for question in group.questions:
            if question.type is QuestionType.CRITERIA:
                for criterion in definition.asked if definition is not None else ():
                    yield Step(
                        f"{group.id}.{index}.{CRIT}.{criterion.id}",
                        criterion_question(criterion),
                        group,
                        index,
                        criterion,
                    )
            elif visible(question.when, answers, group, index):
                yield Step(f"{group.id}.{index}.{question.id}", question, group, index)
        if index + 1 >= group.maximum:
            return
        if index + 1 < group.minimum:
            index += 1
            continue
        more = f"{group.id}.{index}.{MORE}"
        yield Step(more, more_question(group), group, index)
        if answers.get(more) is not True:
            return
        index += 1


def steps(template: Template, definition: Definition | None, answers: Mapping[str, Any]) -> list[Step]:
    """Every question visible with these answers, in the order they are asked."""
    result: list[Step] = []
    for item in template.items:
        if isinstance(item, Group):
            if visible(item.when, answers, None, None):
                result.extend(_group_steps(item, definition, answers))
        elif visible(item.when, answers, None, None):
            result.append(Step(item.id, item))
    return result


def step_for(all_steps: list[Step], key: str | None) -> Step | None:
    """The visible step with this key, if it is visible."""
    if key is None:
        return None
    return next((s for s in all_steps if s.key == key), None)


def first_open(all_steps: list[Step], answers: Mapping[str, Any]) -> Step | None:
    """The first visible step without an answer (``None``: everything is answered)."""
    return next((s for s in all_steps if s.key not in answers), None)


def after(all_steps: list[Step], key: str) -> Step | None:
    """The visible step after the one with ``key`` (``None`` at the end)."""
    keys = [s.key for s in all_steps]
    if key not in keys:
        return None
    position = keys.index(key)
    return all_steps[position + 1] if position + 1 < len(all_steps) else None


def before(all_steps: list[Step], key: str) -> Step | None:
    """The visible step before the one with ``key`` (``None`` at the start)."""
    keys = [s.key for s in all_steps]
    if key not in keys:
        return None
    position = keys.index(key)
    return all_steps[position - 1] if position > 0 else None


def pruned(template: Template, definition: Definition | None, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers to visible questions only (what is submitted): an answer to a question that
    a later change hid (money, after "no money" was chosen) must never enter the results."""
    keys = {s.key for s in steps(template, definition, answers)}
    return {key: value for key, value in answers.items() if key in keys}


def unmet_requirement(step: Step, all_steps: list[Step], answers: Mapping[str, Any]) -> bool:
    """Whether the repetition of ``step`` breaks its group's ``require_one_of`` rule.

    Checked once every visible question of the rule is answered: then at least one must be
    more than zero (some time, money or goods). Until then nothing is said.
    """
    group = step.group
    if group is None or not group.require_one_of or step.index is None:
        return False
    keys = [f"{group.id}.{step.index}.{q}" for q in group.require_one_of]
    shown = [s.key for s in all_steps if s.key in keys]
    if not shown or step.key not in shown or any(key not in answers for key in shown):
        return False
    return not any(_positive(answers.get(key)) for key in shown)


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def requirement_keys(step: Step, all_steps: list[Step]) -> list[str]:
    """The visible keys of the ``require_one_of`` rule in ``step``'s repetition."""
    group = step.group
    if group is None or step.index is None:
        return []
    keys = {f"{group.id}.{step.index}.{q}" for q in group.require_one_of}
    return [s.key for s in all_steps if s.key in keys]


def progress(all_steps: list[Step], key: str) -> tuple[int, int]:
    """Position (1-based) of the step with ``key`` and the number of visible steps."""
    keys = [s.key for s in all_steps]
    return (keys.index(key) + 1 if key in keys else len(keys)), len(keys)


def group_title(step: Step, language: str) -> str | None:
    """ "Tätigkeit 2" for a step in the second repetition of the group titled "Tätigkeit"."""
    if step.group is None or step.index is None:
        return None
    return f"{step.group.title.get(language)} {step.index + 1}"
