"""Translations from gettext catalogs (``locales/<lang>/LC_MESSAGES/*.po``).

Catalogs are read with Babel and compiled in memory, so no build step is needed and a fresh clone
runs as it is. Message ids are stable keys (``decision.recorded``); the texts use the template
syntax of :mod:`bot.core.markup`.
"""

from __future__ import annotations

import gettext
import io
import logging
import re
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.core.markup import Line, Markup, parse_template, render_plain

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "kuemmerer"
DEFAULT_LANGUAGE = "de"
LANGUAGES = ("de", "en")

# A name that says "AG" (or "Arbeitsgruppe") itself: "AG Bildung Ruhr", "Bildungs-AG". Texts that
# put "AG" before the name use the name alone then, so none reads "in der AG AG Bildung Ruhr".
_NAMES_AG = re.compile(r"(?<![^\W\d_])ag(?![^\W\d_])|arbeitsgruppe", re.IGNORECASE)


def _read_catalog(language: str) -> Catalog:
    """One catalog of every ``*.po`` file of a language (``kuemmerer.po`` and one per large
    feature, e.g. ``surveys.po``), so features don't all edit one file; a key defined twice is
    an error."""
    merged: Catalog | None = None
    for path in sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if not message.id:
                continue
            if message.id in merged:
                raise ValueError(f"{path.name}: {message.id!r} is defined in another catalog too")
            merged[message.id] = message
    if merged is None:
        raise FileNotFoundError(f"no catalog for {language}")
    return merged


@cache
def _catalog(language: str) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, _read_catalog(language))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def catalog_keys(language: str) -> set[str]:
    """All message ids of a language's catalogs (used by the completeness tests)."""
    return {m.id if isinstance(m.id, str) else m.id[0] for m in _read_catalog(language) if m.id}


@lru_cache(maxsize=4096)
def _format_date(value: date, language: str) -> str:
    # Listings show the same few dates many times; Babel re-parses its pattern on every call.
    return format_date(value, format="medium", locale=language)


@lru_cache(maxsize=4)
def _datetime_pattern(language: str) -> str:
    # How the locale joins a date and a time ("{1}, {0}"), Babel's own quoting removed.
    return str(get_datetime_format("medium", locale=language)).replace("'", "")


class Translator:
    """Looks up texts, formats dates and counts for one language and timezone.

    Args:
        language: ``de`` or ``en``; anything else falls back to German.
        timezone: IANA zone used to show timestamps.
    """

    def __init__(self, language: str = DEFAULT_LANGUAGE, timezone: str = "Europe/Berlin") -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self.zone = ZoneInfo(timezone)
        self._primary = _catalog(self.language)
        self._fallback = _catalog(DEFAULT_LANGUAGE)

    def raw(self, key: str, count: int | None = None) -> str:
        """The unformatted template for ``key`` (plural form chosen by ``count``)."""
        for catalog in (self._primary, self._fallback):
            text = catalog.ngettext(key, key, count) if count is not None else catalog.gettext(key)
            if text != key:
                return text
        log.error("missing catalog key %r", key)
        return key

    def lines(self, key: str, count: int | None = None, **params: Any) -> list[Line]:
        """The message ``key`` as markup lines; ``count`` selects the plural and is ``{n}``."""
        if count is not None:
            params.setdefault("n", count)
        return parse_template(self.raw(key, count), params)

    def markup(self, key: str, count: int | None = None, **params: Any) -> Markup:
        """The message ``key`` as a fresh :class:`Markup`."""
        return Markup(self.lines(key, count, **params))

    def text(self, key: str, count: int | None = None, **params: Any) -> str:
        """The message ``key`` as plain text (for button labels and command descriptions)."""
        return render_plain(self.markup(key, count, **params))

    def date(self, value: date) -> str:
        """A date in the language's medium format (``21.11.2026`` / ``Nov 21, 2026``)."""
        return _format_date(value, self.language)

    def datetime(self, value: datetime) -> str:
        """A timestamp in the AG's timezone: the date as :meth:`date` shows it, then the time
        without seconds (``21.11.2026, 10:00`` / ``Nov 21, 2026, 10:00 AM``).

        Babel's ``short`` datetime has a two-digit year (``21.11.26``) and its ``medium`` one
        seconds, so both would read differently from the dates beside them; the parts are
        combined with the locale's own pattern instead.
        """
        local = value.astimezone(self.zone)
        time = format_time(local, format="short", locale=self.language)
        return _datetime_pattern(self.language).replace("{0}", time).replace("{1}", self.date(local.date()))

    def until(self, moment: datetime, now: datetime) -> str:
        """How far ahead a moment is, in words: "in 1 Stunde", "in 2 Tagen" (Babel's CLDR data)."""
        from babel.dates import format_timedelta

        return format_timedelta(moment - now, add_direction=True, locale=self.language)

    def group_phrase(self, name: str) -> str:
        """How a text names the AG ``name`` where it would put "AG" before it.

        ``AG Bildung`` for an AG called "Bildung" (``the working group Bildung`` in English),
        but the name alone when it says "AG" itself ("AG Bildung Ruhr", "Bildungs-AG"). Catalog
        texts use it as ``{ag}`` (``Willkommen in der {ag}!``).
        """
        return name if _NAMES_AG.search(name) else self.text("ag.phrase", name=name)

    def today(self, now: datetime) -> date:
        """The calendar date of ``now`` in the AG's timezone."""
        return now.astimezone(self.zone).date()
