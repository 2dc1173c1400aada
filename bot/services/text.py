"""Text rules shared by the services: cleaning, length limits, folding for search, tags."""

from __future__ import annotations

import re
import unicodedata

from bot.core.errors import UserError
from bot.core.sanitize import scrub
from bot.core.sanitize import shorten as shorten  # kept here for the services and handlers

MAX_NAME = 120
MAX_TOPIC = 300
MAX_DESCRIPTION = 1500
MAX_ITEM = 1500
MAX_REASON = 500

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_TAG = re.compile(r"(?<![\w#])#([^\W_][\w-]{0,62})")


def clean(text: str | None, *, limit: int, what: str = "text") -> str:
    """Normalise user text and enforce its limits.

    Line breaks are kept (decisions may have several lines); control and bidi characters are
    dropped because they make texts look different from what they say.

    Args:
        text: Raw user input.
        limit: Maximum number of characters after cleaning.
        what: Catalog key suffix naming the field in error messages (``text``, ``name``, ``reason``).

    Raises:
        UserError: The text is empty or too long.
    """
    # scrub() again although events are cleaned on entry: a lone surrogate that still got here
    # would make the insert fail ("'utf-8' codec can't encode") instead of the text being stored.
    value = unicodedata.normalize("NFC", scrub(text or ""))
    value = _CONTROL.sub("", value)
    value = "\n".join(line.rstrip() for line in value.split("\n")).strip()
    value = re.sub(r"\n{3,}", "\n\n", value)
    if not value:
        raise UserError(f"error.empty_{what}", show_usage=True)
    if len(value) > limit:
        raise UserError("error.too_long", limit=limit, length=len(value))
    return value


def fold(text: str) -> str:
    """Fold text for matching: case, umlauts (ä → ae), ß → ss, accents, white space.

    People type ``Buergerengagement`` as often as ``Bürgerengagement``; both must match.
    """
    folded = text.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    folded = unicodedata.normalize("NFKD", folded)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(folded.split())


def tags_of(text: str) -> list[str]:
    """The distinct folded ``#tags`` of a text, in order of appearance."""
    seen: dict[str, None] = {}
    for match in _TAG.finditer(text):
        seen.setdefault(fold(match.group(1)).strip("-"), None)
    return [t for t in seen if t]
