"""Reading ``/abstimmung``: the question, the options and the settings (pure, no database).

Two ways to write a poll, which may be mixed::

    /abstimmung Machen wir im Juni ein Sommerfest? | ja | nein | bis: Freitag 18 Uhr | beschluss

    /abstimmung Wohin geht der Ausflug?
    Zeche Zollverein
    Landschaftspark
    bis: nächsten Montag
    quorum: 50 %

The first part is the question, the parts after it are options until the first setting; from
there on every part must be a setting (an unknown one is named in the error). Without options
the poll asks yes / no / abstain. A setting word typed as an option ("Beschluss") therefore
starts the settings; options that look like a mistyped setting (``quorom: 5``) are refused.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.errors import UsageError, UserError
from bot.core.router import as_number
from bot.services.text import clean, fold
from storage.models import PollEffect

MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_QUESTION = 250
"""Characters of a question (Telegram's native poll takes 300, with room for ``Nr. 12: ``)."""
MAX_OPTION = 100
"""Characters of an option (Telegram's limit for a native poll's answers)."""
MAX_QUORUM = 10_000
DEFAULT_REMIND = timedelta(hours=24)
MAX_REMIND = timedelta(weeks=4)

# Settings without a value, by their folded spellings (German first, English aliases).
_FLAGS = {
    "anonym": "anonymous",
    "geheim": "anonymous",
    "anonymous": "anonymous",
    "secret": "anonymous",
    "mehrfach": "multiple",
    "mehrfachauswahl": "multiple",
    "mehrfachwahl": "multiple",
    "multiple": "multiple",
    "beschluss": "decision",
    "decision": "decision",
    "ziel": "goal",
    "goal": "goal",
}
# Settings written ``key: value``.
_KEYS = {
    "bis": "deadline",
    "frist": "deadline",
    "until": "deadline",
    "deadline": "deadline",
    "quorum": "quorum",
    "erinnern": "remind",
    "erinnerung": "remind",
    "remind": "remind",
    "reminder": "remind",
}
_KEY_VALUE = re.compile(r"^([^\W\d_]+)\s*:\s*(.*)$", re.DOTALL)
_REPLACE = re.compile(
    r"^(?:(?:beschluss|decision)\s+(?:ersetzen|ersetzt|replace|replaces)"
    r"|(?:ersetzt|ersetzen|replaces?)\s+(?:beschluss|decision))\s*(.*)$"
)
_QUORUM = re.compile(r"^(\d{1,6})\s*(%|prozent|percent)?$")
_DURATION = re.compile(
    r"^(\d{1,5})\s*(m|min|minuten?|minutes?|h|std|stunden?|hours?|d|t|tage?n?|days?|w|wochen?|weeks?)$"
)
_MINUTES = {"m": 1, "h": 60, "s": 60, "d": 1440, "t": 1440, "w": 10080}
_OFF = frozenset({"aus", "off", "nein", "no", "keine", "none", "0"})
UNTIL_ALL = frozenset({"alle", "all", "everyone", "allen"})
# Options that make a poll a yes / no (/ abstain) poll when typed out: a "no" then never
# replaces a decision or sets a goal, and abstentions never make a majority.
_YES = frozenset({"ja", "yes"})
_NO = frozenset({"nein", "no"})
_ABSTAIN = frozenset({"enthaltung", "enthalten", "abstain", "abstention"})


@dataclass
class PollDraft:
    """A poll as typed, checked for everything that needs no database or clock.

    Attributes:
        question: The question, cleaned.
        options: The options, cleaned; empty for a yes / no / abstain poll.
        deadline: What followed ``bis:`` (read with the time grammar later), if anything.
        until_all: ``bis: alle``: the poll closes once everyone voted.
        quorum_count: ``quorum: 5``: so many members must vote.
        quorum_percent: ``quorum: 50 %``: this share of the members must vote.
        anonymous: Nobody learns who voted what, and nothing is kept once it closed.
        multiple: Each person may choose several options.
        effect: What a passed result becomes.
        replaces_number: The decision a passed result replaces (``beschluss ersetzen <Nr>``).
        remind: How long before the deadline non-voters are reminded; ``None``: not at all.
    """

    question: str
    options: tuple[str, ...] = ()
    deadline: str | None = None
    until_all: bool = False
    quorum_count: int | None = None
    quorum_percent: int | None = None
    anonymous: bool = False
    multiple: bool = False
    effect: PollEffect = PollEffect.NONE
    replaces_number: int | None = None
    remind: timedelta | None = DEFAULT_REMIND
    _seen: set[str] = field(default_factory=set, repr=False)

    @property
    def yes_no(self) -> bool:
        """Whether the poll asks yes / no (/ abstain): given without options, or with exactly
        these typed out (``| ja | nein |``)."""
        folded = [fold(option) for option in self.options]
        if not folded:
            return True
        if len(folded) not in (2, 3) or folded[0] not in _YES or folded[1] not in _NO:
            return False
        return len(folded) == 2 or folded[2] in _ABSTAIN


def parse_poll(text: str) -> PollDraft:
    """Read the arguments of ``/abstimmung <Frage> | <Option> | … [| Einstellung …]``.

    Raises:
        UserError: Missing or overlong question, one option or more than :data:`MAX_OPTIONS`,
            an empty, overlong or repeated option, an unknown, repeated or malformed setting,
            contradicting settings.
    """
    parts = _parts(text)
    if not parts:
        raise UsageError("polls.question_missing")
    question = _clean(parts[0], MAX_QUESTION, "polls.question_too_long")
    draft = PollDraft(question)
    options: list[str] = []
    settings_started = False
    for position, part in enumerate(parts[1:], start=1):
        if _setting(draft, part):
            settings_started = True
            continue
        if settings_started:
            raise UserError("polls.unknown_setting", given=part)
        _refuse_mistyped_setting(part)
        if not part.strip():
            raise UserError("polls.option_empty", position=position)
        options.append(_clean(part, MAX_OPTION, "polls.option_too_long", position=position))
    _check_options(options)
    draft.options = tuple(options)
    if draft.multiple and not draft.options:
        raise UserError("polls.multiple_needs_options")
    return draft


# Where the meeting of a date poll takes place: ``| ort: Bürgerhaus``.
_PLACE_KEYS = frozenset({"ort", "wo", "place", "location", "where"})
MAX_DATES = MAX_OPTIONS
MAX_DATE_TITLE = 200
"""Characters of a date poll's title (it becomes the meeting's title, ``meetings.MAX_TITLE``)."""
MAX_PLACE = 300
"""Characters of a date poll's place (``meetings.MAX_LOCATION``)."""


def parse_date_poll(text: str) -> tuple[PollDraft, str | None]:
    """Read the arguments of ``/abstimmung termin <Titel> | <Termin> | … [| ort: <Ort>] [| bis: …]``.

    The dates stay text here (the options of the draft); the service reads them with the time
    grammar. Settings: ``ort:``, ``bis:``, ``erinnern:``, ``anonym``; a quorum, ``mehrfach``
    and a decision or goal make no sense for a date and are refused.

    Returns:
        The draft (its options are the dates as typed) and the place, if any.

    Raises:
        UserError: Missing or overlong title, fewer than two or more than :data:`MAX_DATES`
            dates, an empty or overlong date, an unknown, repeated or unsuitable setting.
    """
    parts = _parts(text)
    if not parts:
        raise UsageError("polls.dates.title_missing")
    draft = PollDraft(_clean(parts[0], MAX_DATE_TITLE, "polls.question_too_long"))
    dates: list[str] = []
    place: str | None = None
    settings_started = False
    for position, part in enumerate(parts[1:], start=1):
        match = _KEY_VALUE.match(part)
        if match is not None and fold(match.group(1)) in _PLACE_KEYS:
            _once(draft, "place", part)
            if not match.group(2).strip():
                raise UserError("polls.dates.place_missing")
            place, settings_started = _clean(match.group(2), MAX_PLACE, "polls.dates.place_too_long"), True
            continue
        if _setting(draft, part):
            settings_started = True
            continue
        if settings_started:
            raise UserError("polls.dates.unknown_setting", given=part)
        _refuse_mistyped_setting(part)
        if not part.strip():
            raise UserError("polls.dates.date_empty", position=position)
        dates.append(_clean(part, MAX_OPTION, "polls.dates.date_too_long", position=position))
    if draft.multiple or draft.effect is not PollEffect.NONE or draft.quorum_count or draft.quorum_percent:
        raise UserError("polls.dates.setting_unsuitable")
    if len(dates) < MIN_OPTIONS:
        raise UserError("polls.dates.too_few", count=len(dates))
    if len(dates) > MAX_DATES:
        raise UserError("polls.too_many_options", count=len(dates), limit=MAX_DATES)
    draft.options = tuple(dates)
    return draft, place


def _parts(text: str) -> list[str]:
    """The ``|``-separated parts of every line; blank lines are skipped, so are a trailing ``|``
    and an empty part before the question (a line starting with ``|``)."""
    parts: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        pieces = line.split("|")
        if pieces and not pieces[-1].strip() and len(pieces) > 1:
            pieces.pop()  # "… | nein |": the separator was typed once too often
        parts.extend(piece.strip() for piece in pieces)
    if parts and not parts[0]:
        parts.pop(0)
    return parts


def _clean(text: str, limit: int, too_long: str, **params: object) -> str:
    value = " ".join(clean(text, limit=len(text) + 1).split())
    if len(value) > limit:
        raise UserError(too_long, limit=limit, length=len(value), **params)
    return value


def _check_options(options: list[str]) -> None:
    if len(options) == 1:
        raise UserError("polls.one_option", option=options[0])
    if len(options) > MAX_OPTIONS:
        raise UserError("polls.too_many_options", count=len(options), limit=MAX_OPTIONS)
    seen: set[str] = set()
    for option in options:
        key = fold(option)
        if key in seen:
            raise UserError("polls.option_duplicate", option=option)
        seen.add(key)


def _setting(draft: PollDraft, part: str) -> bool:
    """Apply ``part`` to ``draft`` if it is a setting; returns whether it was one."""
    folded = fold(part)
    flag = _FLAGS.get(folded)
    if flag is not None:
        _once(draft, flag if flag in ("anonymous", "multiple") else "effect", part)
        if flag == "anonymous":
            draft.anonymous = True
        elif flag == "multiple":
            draft.multiple = True
        else:
            draft.effect = PollEffect.DECISION if flag == "decision" else PollEffect.GOAL
        return True
    replace = _REPLACE.match(folded)
    if replace is not None:
        _once(draft, "effect", part)
        number = as_number(replace.group(1)) if replace.group(1) else None
        if number is None:
            raise UserError("polls.replace_number", given=part)
        draft.effect, draft.replaces_number = PollEffect.REPLACE, number
        return True
    match = _KEY_VALUE.match(part)
    key = _KEYS.get(fold(match.group(1))) if match else None
    if match is None or key is None:
        return False
    _once(draft, key, part)
    value = match.group(2).strip()
    if key == "deadline":
        if not value:
            raise UserError("polls.deadline_missing")
        if fold(value) in UNTIL_ALL:
            draft.until_all = True
        else:
            draft.deadline = value
    elif key == "quorum":
        draft.quorum_count, draft.quorum_percent = parse_quorum(value)
    else:
        draft.remind = parse_remind(value)
    return True


def _once(draft: PollDraft, name: str, part: str) -> None:
    if name in draft._seen:
        raise UserError("polls.setting_twice", given=part)
    draft._seen.add(name)


def _refuse_mistyped_setting(part: str) -> None:
    """``quorom: 5`` or ``Bis: …`` with a typo would silently become an option."""
    match = _KEY_VALUE.match(part)
    if match is None:
        return
    key = fold(match.group(1))
    if difflib.get_close_matches(key, list(_KEYS), n=1, cutoff=0.75):
        raise UserError("polls.unknown_setting", given=part)


def parse_quorum(value: str) -> tuple[int | None, int | None]:
    """``5`` → ``(5, None)``, ``50%`` or ``50 %`` → ``(None, 50)``.

    Raises:
        UserError: Neither, zero, over 100 % or over :data:`MAX_QUORUM` people.
    """
    match = _QUORUM.match(fold(value))
    if match is None:
        raise UserError("polls.quorum_invalid", given=value)
    number = int(match.group(1))
    if match.group(2):
        if not 1 <= number <= 100:
            raise UserError("polls.quorum_invalid", given=value)
        return None, number
    if not 1 <= number <= MAX_QUORUM:
        raise UserError("polls.quorum_invalid", given=value)
    return number, None


def parse_remind(value: str) -> timedelta | None:
    """``2h``, ``30 min``, ``1d``, ``1 Woche`` before the deadline; ``aus`` for none.

    Raises:
        UserError: Not understood, or outside one minute to four weeks.
    """
    folded = fold(value)
    if folded in _OFF:
        return None
    match = _DURATION.match(folded)
    if match is None:
        raise UserError("polls.remind_invalid", given=value)
    minutes = int(match.group(1)) * _MINUTES[match.group(2)[0]]
    delta = timedelta(minutes=minutes)
    if not timedelta(minutes=1) <= delta <= MAX_REMIND:
        raise UserError("polls.remind_invalid", given=value)
    return delta
