"""An AG's register as a document: Markdown to read and keep, JSON for other tools.

Used by ``kuemmerer export-ag`` and meant for the final export offered before ``/ag loeschen``.
The document is German (it is the AG's own record) and holds the AG's goals and decisions with
their history; no platform ids, no chats, no members list, no secrets. Who recorded a decision
is named by display name only, and not at all once that person was pseudonymised.

JSON schema (``version`` 1; a change that breaks readers raises the version, new keys do not)::

    {
      "format": "kuemmerer-register",
      "version": 1,
      "exported_at": "2026-11-21T09:00:00+00:00",       # ISO 8601, UTC
      "group": {
        "name": "AG Bildung",
        "topic": "…" | null,
        "description": "…" | null,
        "timezone": "Europe/Berlin",                   # of the dates in the Markdown
        "created_at": "…"                              # ISO 8601, UTC
      },
      "goals": [{
        "number": 1,
        "text": "…",
        "status": "active" | "achieved" | "discarded",
        "created_at": "…",
        "closed_at": "…" | null,                       # achieved or discarded
        "close_reason": "…" | null                     # why it was discarded
      }],
      "decisions": [{
        "number": 1,
        "text": "…",
        "status": "active" | "replaced" | "revoked",
        "decided_on": "2026-11-21",                    # ISO date in the AG's timezone
        "created_at": "…",
        "important": false,
        "tags": ["bildung"],                           # lower case, without "#"
        "replaces": null | 3,                          # number of the decision it replaced
        "replaced_by": null | 5,                       # number of the decision replacing it
        "closed_at": "…" | null,                       # replaced or revoked
        "close_reason": "…" | null,                    # why it was revoked
        "recorded_by": "Anna" | null                   # display name; null if unknown/pseudonymised
      }]
    }

Goals and decisions are ordered by number; every entry has every key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ports import Clock, SystemClock
from storage.models import DecisionStatus, Goal, GoalStatus, Person, WorkingGroup
from storage.repositories import GroupRepository, RegisterRepository

FORMAT = "kuemmerer-register"
VERSION = 1

# The document's wording: German, like the register in the chats (the catalog's goal.status.*
# and decision.status.*). It does not follow an AG's language setting: the export is the AG's
# record for the (German) network, kept and passed on outside the bot.
_GOAL_STATUS = {
    GoalStatus.ACTIVE: "aktiv",
    GoalStatus.ACHIEVED: "erreicht",
    GoalStatus.DISCARDED: "verworfen",
}
_DECISION_STATUS = {
    DecisionStatus.ACTIVE: "gültig",
    DecisionStatus.REPLACED: "ersetzt",
    DecisionStatus.REVOKED: "aufgehoben",
}


class GroupNotFound(LookupError):
    """No AG, or more than one, answers to the given id or name; the message says which."""


@dataclass(frozen=True)
class RegisterExport:
    """One AG's register in both formats.

    Attributes:
        group_name: The AG's name.
        data: The JSON document as Python values.
        markdown: The German Markdown document.
    """

    group_name: str
    data: dict[str, Any]
    markdown: str

    @property
    def json(self) -> str:
        """The JSON document (UTF-8 text, indented, umlauts as they are)."""
        return json.dumps(self.data, ensure_ascii=False, indent=2) + "\n"

    def filename(self, extension: str) -> str:
        """A file name like ``register-ag-bildung-2026-11-21.md`` for ``extension`` ``md``/``json``."""
        slug = re.sub(r"[^a-z0-9äöüß]+", "-", self.group_name.casefold()).strip("-") or "ag"
        return f"register-{slug}-{self.data['exported_at'][:10]}.{extension}"


async def find_group(session: AsyncSession, query: str) -> WorkingGroup:
    """The AG named by its id (``3`` or ``#3``) or its name (ignoring case).

    Raises:
        GroupNotFound: No AG matches, or several share the name (the message lists their ids).
    """
    groups = GroupRepository(session)
    wanted = query.strip()
    number = wanted.removeprefix("#")
    if number.isdigit():
        group = await groups.get(int(number)) if len(number) < 10 else None
        if group is None:
            raise GroupNotFound(f"there is no AG with id {number}")
        return group
    found = await groups.named(wanted)
    if not found:
        raise GroupNotFound(f"there is no AG named {wanted!r}")
    if len(found) > 1:
        ids = ", ".join(str(group.id) for group in found)
        raise GroupNotFound(f"{len(found)} AGs are named {wanted!r} (ids {ids}); give the id instead")
    return found[0]


async def export_register(
    session: AsyncSession, group_id: int, *, clock: Clock | None = None
) -> RegisterExport:
    """The register of one AG: goals and decisions, each with status, dates and history.

    Args:
        session: An open session (only reads).
        group_id: The AG.
        clock: The time stated as the export's (default: the wall clock).

    Raises:
        GroupNotFound: There is no AG with this id.
    """
    group = await GroupRepository(session).get(group_id)
    if group is None:
        raise GroupNotFound(f"there is no AG with id {group_id}")
    now = (clock or SystemClock()).now()
    register = RegisterRepository(session)
    goals = await register.goals(group.id, status=None)
    decisions = await register.all_decisions(group.id)
    tags = await register.tags_of_group(group.id)
    number_of = {decision.id: decision.number for decision in decisions}
    successor = {d.replaces_id: d.number for d in decisions if d.replaces_id is not None}
    recorders = {d.id: await _name(session, d.author_id) for d in decisions}
    data = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.isoformat(),
        "group": {
            "name": group.name,
            "topic": group.topic,
            "description": group.description,
            "timezone": group.timezone,
            "created_at": group.created_at.isoformat(),
        },
        "goals": [_goal(goal) for goal in goals],
        "decisions": [
            {
                "number": d.number,
                "text": d.text,
                "status": d.status.value,
                "decided_on": d.decided_on.isoformat(),
                "created_at": d.created_at.isoformat(),
                "important": d.important,
                "tags": tags.get(d.id, []),
                "replaces": number_of.get(d.replaces_id) if d.replaces_id is not None else None,
                "replaced_by": successor.get(d.id),
                "closed_at": _iso(d.closed_at),
                "close_reason": d.close_reason,
                "recorded_by": recorders[d.id],
            }
            for d in decisions
        ],
    }
    return RegisterExport(group.name, data, _markdown(data, ZoneInfo(group.timezone), now))


def _goal(goal: Goal) -> dict[str, Any]:
    return {
        "number": goal.number,
        "text": goal.text,
        "status": goal.status.value,
        "created_at": goal.created_at.isoformat(),
        "closed_at": _iso(goal.closed_at),
        "close_reason": goal.close_reason,
    }


async def _name(session: AsyncSession, person_id: int | None) -> str | None:
    """A recorder's display name, unless unknown or pseudonymised (then the name says nothing)."""
    if person_id is None:
        return None
    person = await session.get(Person, person_id)  # the identity map answers repeats
    if person is None or person.pseudonymised_at is not None:
        return None
    return person.display_name


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# Markdown ---------------------------------------------------------------------------------------------


def _markdown(data: dict[str, Any], zone: ZoneInfo, now: datetime) -> str:
    group = data["group"]
    lines = [f"# Register: {_inline(group['name'])}", ""]
    if group["topic"]:
        lines += [f"Thema: {_inline(group['topic'])}", ""]
    if group["description"]:
        lines += [_block(group["description"]), ""]
    lines += [
        f"Stand: {now.astimezone(zone):%d.%m.%Y, %H:%M} Uhr ({group['timezone']}). "
        "Exportiert mit Kümmerer; dieselben Daten gibt es als JSON.",
        "",
        f"## Ziele ({len(data['goals'])})",
        "",
    ]
    if not data["goals"]:
        lines += ["Keine Ziele festgehalten.", ""]
    for goal in data["goals"]:
        status = GoalStatus(goal["status"])
        lines += [f"### Ziel {goal['number']} · {_GOAL_STATUS[status]}", "", _block(goal["text"]), ""]
        lines.append(f"- Festgehalten am {_day(goal['created_at'], zone)}")
        if goal["closed_at"]:
            verb = "Erreicht" if status is GoalStatus.ACHIEVED else "Verworfen"
            lines.append(f"- {verb} am {_day(goal['closed_at'], zone)}{_reason(goal['close_reason'])}")
        lines.append("")
    lines += [f"## Beschlüsse ({len(data['decisions'])})", ""]
    if not data["decisions"]:
        lines += ["Keine Beschlüsse festgehalten.", ""]
    for decision in data["decisions"]:
        lines += _decision(decision, zone)
    return "\n".join(lines).rstrip("\n") + "\n"


def _decision(decision: dict[str, Any], zone: ZoneInfo) -> list[str]:
    status = DecisionStatus(decision["status"])
    lines = [
        f"### Beschluss Nr. {decision['number']} · {_DECISION_STATUS[status]}",
        "",
        _block(decision["text"]),
        "",
        f"- Beschlossen am {date.fromisoformat(decision['decided_on']):%d.%m.%Y}",
    ]
    if decision["recorded_by"]:
        lines.append(f"- Festgehalten von {_inline(decision['recorded_by'])}")
    if decision["tags"]:
        lines.append("- Schlagworte: " + ", ".join(f"#{_inline(tag)}" for tag in decision["tags"]))
    if decision["important"]:
        lines.append("- Als wichtig markiert")
    if decision["replaces"] is not None:
        lines.append(f"- Ersetzt Beschluss Nr. {decision['replaces']}")
    closed = _day(decision["closed_at"], zone) if decision["closed_at"] else None
    if status is DecisionStatus.REPLACED:
        by = decision["replaced_by"]
        lines.append(f"- Ersetzt durch Beschluss Nr. {by if by is not None else '?'}" + _on(closed))
    elif status is DecisionStatus.REVOKED:
        lines.append(f"- Aufgehoben{_on(closed)}{_reason(decision['close_reason'])}")
    return [*lines, ""]


def _on(day: str | None) -> str:
    return f" am {day}" if day else ""


def _reason(reason: str | None) -> str:
    return f" – Begründung: {_inline(reason)}" if reason else ""


def _day(iso: str, zone: ZoneInfo) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(zone):%d.%m.%Y}"


# Characters with a meaning anywhere in a Markdown line, and what a line may not start with
# unless escaped: a heading, quote, list item or setext underline (the mark is escaped), or an
# ordered list item like "1." (its dot or parenthesis is).
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_LINE_START = re.compile(r"^([#>+=-])|^(\d+)([.)])")


def _block(text: str) -> str:
    """Members' text as Markdown paragraphs that show exactly what they wrote."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        # Leading spaces would make an indented code block; they carry no meaning here.
        lines = [_escape_line(line.strip()) for line in paragraph.splitlines() if line.strip()]
        # Markdown joins single line breaks; a backslash at the end of a line keeps each one.
        paragraphs.append("\\\n".join(lines))
    return "\n\n".join(p for p in paragraphs if p) or "–"


def _escape_line(line: str) -> str:
    line = _INLINE_SPECIAL.sub(r"\\\1", line)
    return _LINE_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", line)


def _inline(text: str) -> str:
    """Text inside a heading or list item: one line, escaped."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(text.split()))
