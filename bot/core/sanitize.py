"""Cleaning of untrusted text where it enters the core, and short quotes of it in replies.

Platforms hand over text the rest of the bot cannot store or send: Matrix JSON may carry lone
UTF-16 surrogates as ``\\ud800`` escapes (Python keeps them as code points that no UTF-8 or
UTF-16 encoder accepts), and any platform may carry NUL and other control characters, which
PostgreSQL refuses in text columns. :func:`clean_event` removes them once, where events enter the
core, so no handler, service or renderer has to think about them.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import TypeVar

# Lone surrogates (a valid pair is combined into its character first, see scrub).
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls and DEL, except tab and newline (carriage returns become newlines first).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

# Names and titles are labels: a Matrix display name may be as long as an event (64 KiB), which
# no reply listing people should have to carry. Telegram allows 64 + 64 characters for a name.
MAX_LABEL = 256
# How much of a person's input an error reply quotes (a 4,096-character command must not come
# back as six messages).
ECHO_LIMIT = 100

# Fields of the event dataclasses that are labels chosen by people (capped at MAX_LABEL);
# every other string (message texts, ids) keeps its length.
_LABELS = frozenset({"display_name", "username", "title"})

T = TypeVar("T")


def scrub(text: str) -> str:
    """``text`` without lone surrogates (→ U+FFFD) and control characters other than tab and newline.

    A surrogate pair that arrives as two code points becomes the character it encodes; a carriage
    return (alone or before a newline) becomes a newline. Text without such characters is returned
    as it is (one linear scan).
    """
    if _BAD.search(text) is None:
        return text
    if _SURROGATE.search(text) is not None:
        # UTF-16 round trip: pairs are joined, lone halves become the replacement character.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def clean_event(event: T) -> T:
    """The event with every string it carries scrubbed (see :func:`scrub`).

    Works on every event type of :mod:`bot.core.events` without knowing them: it walks the
    dataclass fields, nested references (sender, chat, quoted message) and tuples of them, so a
    new event type is covered as soon as it exists. Display names, usernames and chat titles are
    also cut to :data:`MAX_LABEL` characters. Returns the same object when nothing changed, so
    the common case costs one scan per string and no copies.
    """
    return _clean(event, None)


def _clean(value: T, field: str | None) -> T:
    if isinstance(value, enum.Enum):  # StrEnum members are strings too; they come from code
        return value
    if isinstance(value, str):
        cleaned = scrub(value)
        if field in _LABELS and len(cleaned) > MAX_LABEL:
            cleaned = cleaned[:MAX_LABEL]
        return cleaned  # type: ignore[return-value]
    if isinstance(value, tuple):
        items = tuple(_clean(item, field) for item in value)
        unchanged = all(a is b for a, b in zip(items, value, strict=True))
        return value if unchanged else items  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            current = getattr(value, f.name)
            cleaned = _clean(current, f.name)
            if cleaned is not current:
                changes[f.name] = cleaned
        return dataclasses.replace(value, **changes) if changes else value  # type: ignore[type-var]
    return value


def shorten(text: str, limit: int) -> str:
    """One-line preview of at most ``limit`` characters, cut at a word where possible."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """A person's input as a reply quotes it: on one line, at most ``limit`` characters."""
    return shorten(text, limit)
