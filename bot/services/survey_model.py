"""What a survey is made of: templates, questions, the engagement definition (pure data).

A template is read from TOML (:mod:`bot.services.survey_template`; the format is in
docs/umfragen.md), validated into these frozen dataclasses, and stored as a plain dict
(:meth:`Template.to_dict`) with every survey started from it, so a later import never changes
a running or closed survey. The engagement definition is versioned the same way
(:class:`Definition`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class QuestionType(enum.StrEnum):
    """The kinds of questions a template can ask."""

    CHOICE = "choice"
    """One of the options."""
    MULTI = "multi"
    """Any number of the options (at least one when required)."""
    YESNO = "yesno"
    NUMBER = "number"
    """A number with optional unit, range and ``integer = true``."""
    MONEY = "money"
    """An amount in EUR (two decimals)."""
    HOURS = "hours"
    """Hours per month (0 to 744 unless the template narrows it)."""
    DATE = "date"
    """A calendar date, read with the German / English time grammar."""
    TEXT = "text"
    """Free text up to ``max_length`` characters."""
    CRITERIA = "criteria"
    """One yes/no question per criterion of the survey's definition (``check = "ask"``); only
    inside a group with ``classify = true``."""


class Role(enum.StrEnum):
    """What a question means to the results of a classified survey (``role = "…"``).

    Results, comparisons and exports find the figures they add up through these roles, so a
    custom template that names them is evaluated like the Engagement-Erhebung.
    """

    RESPONDENT = "respondent"
    """Top level, choice: answering as a person (option id ``person``) or an organisation."""
    ORG_KIND = "org_kind"
    """Top level, choice: the organisation's kind (Stiftung, Kommune, …)."""
    ORG_NAME = "org_name"
    """Top level, text: the organisation's name."""
    DESCRIPTION = "description"
    """In the classified group, text: what the activity is."""
    MODE = "mode"
    """In the classified group, choice: ``direct`` or ``indirect`` engagement."""
    HOURS = "hours"
    """In the classified group: hours per month (all people together)."""
    PEOPLE = "people"
    """In the classified group: number of people giving their time."""
    MONEY = "money"
    """In the classified group: EUR per year."""
    GOODS = "goods"
    """In the classified group, text: which goods."""
    GOODS_VALUE = "goods_value"
    """In the classified group: value of the goods in EUR."""


CONTRIBUTION_ROLES = (Role.HOURS, Role.MONEY, Role.GOODS_VALUE)
"""The roles whose figures make up a contribution (time, money, goods)."""


@dataclass(frozen=True, slots=True)
class Text:
    """A text in German and (optionally) English; English falls back to German."""

    de: str
    en: str | None = None

    def get(self, language: str) -> str:
        """The text in ``language`` (``"de"`` or ``"en"``)."""
        if language == "en" and self.en:
            return self.en
        return self.de

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"de": self.de, **({"en": self.en} if self.en else {})}

    @classmethod
    def from_dict(cls, data: dict[str, str] | None) -> Text | None:
        """Inverse of :meth:`to_dict` (``None`` stays ``None``)."""
        if data is None:
            return None
        return cls(data["de"], data.get("en"))


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a choice or multi question; ``id`` is what answers store."""

    id: str
    label: Text


@dataclass(frozen=True, slots=True)
class Condition:
    """Show a question only if an earlier answer says so (``when = {…}``).

    ``question`` names an earlier question: at top level, or in the same group (then the
    answer of the same repetition counts). Exactly one test is set: ``equals`` (the answer
    is one of these option ids, or ``"yes"`` / ``"no"`` for yes/no questions), ``includes``
    (a multi answer contains this option id), ``gt`` (a number answer is greater).
    """

    question: str
    equals: tuple[str, ...] | None = None
    includes: str | None = None
    gt: float | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a template."""

    id: str
    type: QuestionType
    text: Text
    help: Text | None = None
    required: bool = True
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    unit: Text | None = None
    max_length: int = 500
    when: Condition | None = None
    role: Role | None = None

    def option(self, option_id: str) -> Option | None:
        """The option with this id, if any."""
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True, slots=True)
class Group:
    """Questions asked once or more (one or more activities), ``type = "group"``.

    After each repetition ``more`` asks whether another follows (at most ``maximum``).
    ``classify`` checks each repetition against the survey's definition; ``require_one_of``
    names questions of which at least one must be answered with more than zero (re-asked
    with ``require_message`` otherwise).
    """

    id: str
    title: Text
    questions: tuple[Question, ...]
    more: Text
    minimum: int = 1
    maximum: int = 20
    classify: bool = False
    require_one_of: tuple[str, ...] = ()
    require_message: Text | None = None
    when: Condition | None = None

    def question(self, question_id: str) -> Question | None:
        """The group's question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)

    def by_role(self, role: Role) -> Question | None:
        """The group's question with this role, if any."""
        return next((q for q in self.questions if q.role is role), None)


Item = Question | Group


@dataclass(frozen=True, slots=True)
class Template:
    """A survey template: a key (what ``/umfrage starten <Vorlage>`` names), title, intro and
    the items in the order they are asked."""

    key: str
    title: Text
    items: tuple[Item, ...]
    intro: Text | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The validated dict this template was built from (what is stored with a survey)."""

    def question(self, question_id: str) -> Question | None:
        """A top-level question by id."""
        return next((i for i in self.items if isinstance(i, Question) and i.id == question_id), None)

    def by_role(self, role: Role) -> Question | None:
        """The top-level question with this role, if any."""
        return next((i for i in self.items if isinstance(i, Question) and i.role is role), None)

    @property
    def classified_group(self) -> Group | None:
        """The group checked against the definition (the activities), if any."""
        return next((i for i in self.items if isinstance(i, Group) and i.classify), None)


class Check(enum.StrEnum):
    """How a criterion of the definition is checked."""

    ASK = "ask"
    """Asked as a yes/no question for every activity."""
    CONTRIBUTION = "contribution"
    """Met when the activity contributes time, money or goods (more than zero)."""


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of the engagement definition."""

    id: str
    name: Text
    """Short name: "Freiwilligkeit"."""
    question: Text
    """Asked per activity: "Wird die Tätigkeit freiwillig ausgeübt?"."""
    explanation: Text
    """What the criterion means."""
    example: Text
    """An example of what does *not* meet it ("z. B. Pflichtstunden im Rahmen des
    Arbeitsvertrags")."""
    failed: Text
    """The reason shown when it is not met: "nicht freiwillig"."""
    check: Check = Check.ASK


@dataclass(frozen=True, slots=True)
class Definition:
    """A version of the network's shared definition of civic engagement."""

    title: Text
    criteria: tuple[Criterion, ...]
    summary: Text | None = None
    version: int | None = None
    """The stored version number (``None`` before it is stored)."""

    def criterion(self, criterion_id: str) -> Criterion | None:
        """The criterion with this id, if any."""
        return next((c for c in self.criteria if c.id == criterion_id), None)

    @property
    def asked(self) -> tuple[Criterion, ...]:
        """The criteria asked as yes/no questions."""
        return tuple(c for c in self.criteria if c.check is Check.ASK)
