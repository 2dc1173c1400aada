"""Presentation helpers shared by the handlers (kept out of services, which return data)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from bot.core.context import Context
from bot.core.i18n import Translator
from bot.core.markup import Markup, Span, bold
from bot.services.text import fold, shorten
from storage.models import Decision, Goal, Person, Role

PREVIEW = 280
MAX_COORDINATORS = 3


def role_name(tr: Translator, role: Role) -> str:
    """A role's name in the AG's language."""
    return tr.text(f"role.{role.value}")


def person_name(person: Person) -> str:
    """How a person is shown: display name, plus the handle where there is one."""
    if person.username and fold(person.username.lstrip("@")) != fold(person.display_name):
        return f"{person.display_name} (@{person.username.lstrip('@')})"
    return person.display_name


def coordination_names(people: Sequence[Person]) -> str:
    """`` (Anna, Ben)`` after "die Koordination" in texts that send people to it; empty if unknown.

    Display names only, no ``@handles``: the texts go to group chats, where a handle would ping
    every coordinator on every hint.
    """
    if not people:
        return ""
    names = [p.display_name for p in people[:MAX_COORDINATORS]]
    if len(people) > MAX_COORDINATORS:
        names.append("…")
    return f" ({', '.join(names)})"


def decision_line(tr: Translator, decision: Decision, *, full: bool = False) -> tuple[Span | str, ...]:
    """``Nr. 3 · 21.11.2026: text`` as spans (the text is user input and stays plain)."""
    text = decision.text if full else shorten(decision.text, PREVIEW)
    return (
        bold(tr.text("decision.label", number=decision.number)),
        f" · {tr.date(decision.decided_on)}: ",
        text,
    )


def goal_line(tr: Translator, goal: Goal) -> tuple[Span | str, ...]:
    """``Ziel 2: text`` as spans."""
    return (bold(tr.text("goal.label", number=goal.number)), ": ", shorten(goal.text, PREVIEW))


def quote_block(text: str) -> Markup:
    """A user text shown in full, line by line, without any interpretation."""
    markup = Markup()
    for line in text.split("\n"):
        markup.line(line) if line.strip() else markup.blank()
    return markup


def day_code(ctx: Context, *parts: object) -> str:
    """A 4-digit confirmation code for a destructive command, valid for this sender, these
    ``parts`` and this day: a stale button or a command copied from another day, person or AG
    does nothing."""
    day = ctx.clock.now().date().isoformat()
    who = f"{ctx.person.platform}:{ctx.person.external_id}:{ctx.person.id}"
    raw = ":".join([who, day, *map(str, parts)]).encode()
    return f"{int(hashlib.sha256(raw).hexdigest(), 16) % 10_000:04d}"
