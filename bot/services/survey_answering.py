"""One respondent's conversation: answer, skip or keep, go back, change after finishing.

Works on a :class:`~storage.models.SurveyResponse` (its ``draft`` and ``cursor``) with the
survey's template and definition; what to say is left to the handler, which gets a
:class:`Turn` back. Every change is stored in the update's transaction, so a conversation
continues exactly where it was after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.errors import UserError
from bot.core.router import as_number
from bot.services import survey_flow as flow
from bot.services.survey_flow import Step
from bot.services.survey_input import is_skip, parse_answer
from bot.services.survey_model import Criterion, Definition, Template
from storage.models import ResponseStatus, Survey, SurveyResponse


@dataclass(slots=True)
class Turn:
    """What happened with one message of the respondent, for the handler to say.

    Attributes:
        step: The question to ask now (``None`` when the response was just finished or the
            change menu is shown).
        error: Why the answer was not taken (the same question is asked again).
        failed: Criteria an answer just left unmet (told at once, with why).
        unmet_requirement: The repetition has no contribution; its first one is asked again.
        finished: The response was submitted with this message.
        changed: A finished response was changed (submitted again).
        choose_change: Waiting for the number of the answer to change (``/umfrage aendern``).
    """

    step: Step | None = None
    error: UserError | None = None
    failed: list[Criterion] = field(default_factory=list)
    unmet_requirement: bool = False
    finished: bool = False
    changed: bool = False
    choose_change: bool = False


class Conversation:
    """The conversation of one response.

    Args:
        survey: The survey (open).
        response: The respondent's response.
        template: The survey's template.
        definition: The survey's definition version, if it classifies.
        now: The current time (dates, finish time).
        tz: The AG's timezone (dates typed as "heute").
        language: The AG's language.
    """

    def __init__(
        self,
        survey: Survey,
        response: SurveyResponse,
        template: Template,
        definition: Definition | None,
        *,
        now: datetime,
        tz: str,
        language: str,
    ) -> None:
        self.survey = survey
        self.response = response
        self.template = template
        self.definition = definition
        self.now = now
        self.tz = tz
        self.language = language

    @property
    def draft(self) -> dict[str, Any]:
        """The working copy of the answers (a copy of the submitted ones while changing)."""
        return dict(self.response.draft or {})

    def steps(self, answers: dict[str, Any] | None = None) -> list[Step]:
        """The visible questions with the draft's (or the given) answers."""
        return flow.steps(self.template, self.definition, self.draft if answers is None else answers)

    def current(self) -> Step | None:
        """The question asked now (``None`` while choosing what to change)."""
        all_steps = self.steps()
        step = flow.step_for(all_steps, self.response.cursor)
        if step is None and not self.response.editing:
            step = flow.first_open(all_steps, self.draft)
            self.response.cursor = step.key if step is not None else None
        return step

    def open(self) -> Turn:
        """Start or resume: the question where the respondent was."""
        if self.response.draft is None:
            self.response.draft = {}
        step = self.current()
        if step is None and not self.response.editing:
            return self._finish()
        return Turn(step=step, choose_change=step is None)

    def start_change(self) -> Turn:
        """``/umfrage aendern``: the draft becomes a copy of the submitted answers; the handler
        lists them with numbers and the respondent picks one."""
        self.response.draft = dict(self.response.answers)
        self.response.editing = True
        self.response.cursor = None
        return Turn(choose_change=True)

    def answered(self) -> list[Step]:
        """The questions with an answer in the draft, numbered for ``/umfrage aendern``."""
        draft = self.draft
        return [s for s in self.steps() if s.key in draft]

    def pick(self, number: int) -> Turn:
        """Change the answer with this number (from :meth:`answered`)."""
        listed = self.answered()
        if not 1 <= number <= len(listed):
            return Turn(error=UserError("survey.change_unknown", n=len(listed)), choose_change=True)
        self.response.cursor = listed[number - 1].key
        return Turn(step=listed[number - 1])

    def answer(self, text: str) -> Turn:
        """Take a typed (or button) answer to the current question."""
        step = self.current()
        if step is None:
            if not self.response.editing:
                return self._finish()
            try:
                number = as_number(text)
            except UserError as error:
                return Turn(error=error, choose_change=True)
            if number is None:
                return Turn(error=UserError("survey.change_pick"), choose_change=True)
            return self.pick(number)
        if is_skip(text):
            return self.skip()
        try:
            value = parse_answer(step.question, text, language=self.language, now=self.now, tz=self.tz)
        except UserError as error:
            return Turn(step=step, error=error)
        return self._store(step, value)

    def skip(self) -> Turn:
        """``/weiter`` or ``-``: keep the answer given before, or skip an optional question."""
        step = self.current()
        if step is None:
            return self.open()
        draft = self.draft
        if step.key in draft and draft[step.key] is not None:
            return self._advance(step, draft)
        if step.question.required:
            return Turn(step=step, error=UserError("survey.required"))
        return self._store(step, None)

    def back(self) -> Turn:
        """``/zurueck``: the question before (its answer shown, kept with ``/weiter``)."""
        step = self.current()
        if step is None:
            return Turn(error=UserError("survey.back_none"), choose_change=True)
        previous = flow.before(self.steps(), step.key)
        if previous is None:
            return Turn(step=step, error=UserError("survey.back_first"))
        self.response.cursor = previous.key
        return Turn(step=previous)

    def _store(self, step: Step, value: Any) -> Turn:
        draft = self.draft
        draft[step.key] = value
        # Answers a change hides (money, after "no money") stay in the draft, so changing back
        # shows them again; they are pruned when the response is submitted.
        self.response.draft = draft
        all_steps = self.steps(draft)
        if flow.unmet_requirement(step, all_steps, draft):
            keys = flow.requirement_keys(step, all_steps)
            for key in keys:
                draft.pop(key, None)
            self.response.draft = draft
            first = flow.step_for(self.steps(draft), keys[0]) if keys else None
            self.response.cursor = first.key if first is not None else None
            return Turn(step=first, unmet_requirement=True)
        failed = [step.criterion] if step.criterion is not None and value is False else []
        turn = self._advance(step, draft)
        turn.failed = failed
        return turn

    def _advance(self, step: Step, draft: dict[str, Any]) -> Turn:
        all_steps = self.steps(draft)
        if self.response.editing:
            following = flow.first_open(all_steps, draft)
        else:
            following = flow.after(all_steps, step.key)
            if following is None:
                following = flow.first_open(all_steps, draft)
        if following is None:
            return self._finish()
        self.response.cursor = following.key
        return Turn(step=following)

    def _finish(self) -> Turn:
        changed = self.response.status is ResponseStatus.FINISHED
        self.response.answers = flow.pruned(self.template, self.definition, self.draft)
        self.response.draft = None
        self.response.cursor = None
        self.response.editing = False
        self.response.active = False
        self.response.status = ResponseStatus.FINISHED
        if not self.survey.anonymous:
            self.response.finished_at = self.now
        return Turn(finished=True, changed=changed)
