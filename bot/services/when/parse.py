"""The entry points: :func:`parse_when` (a time expression → :class:`~.values.When`) and
:func:`split_when` (``"<wann>: <Text>"`` → the time and the text).

:func:`parse_when` folds the text, reads it with the patterns of the AG's language and then the
other one (:mod:`.reading`), and resolves the slots (:func:`_resolve`): a series through
:mod:`.recurrence`, a one-off through :mod:`.resolve`. A language that does not understand the
text (:class:`~.values._NotUnderstood`) makes way for the other; a :class:`~.values.WhenError`
means the text was understood and is wrong, and is the answer.

Who does what: nothing but our own code and :mod:`re` here; the libraries are used where the
work is done (dateutil in :mod:`.values`/:mod:`.resolve`, dateparser in :mod:`.fallback`).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from bot.services.when.lexicon import _PATTERNS, _languages, _normalize
from bot.services.when.reading import _read, _Slots
from bot.services.when.recurrence import _resolve_rule
from bot.services.when.resolve import _clock_time, _Context, _one_off, _resolve_date, _resolve_offset
from bot.services.when.values import DEFAULT_TIME, When, WhenError, _NotUnderstood

# --------------------------------------------------------------------------------------------
# Splitting "<wann>: <Text>"


def split_when(text: str) -> tuple[str, str]:
    """Split ``"<wann>: <Text>"`` (or ``"<wann> | <Text>"``) into the time and the text.

    The first ``|`` separates if there is one; otherwise the first colon that is not inside a
    time like ``17:30``, so ``"am 3.12. um 17:30: Sitzung vorbereiten"`` gives
    ``("am 3.12. um 17:30", "Sitzung vorbereiten")``.

    Raises:
        WhenError: ``when.no_text`` without a separator or text after it; ``when.missing``
            when nothing stands before it.
    """
    if "|" in text:
        head, _, tail = text.partition("|")
    else:
        match = next((m for m in re.finditer(":", text) if not _inside_time(text, m.start())), None)
        if match is None:
            raise WhenError("when.no_text")
        head, tail = text[: match.start()], text[match.end() :]
    head, tail = head.strip(), tail.strip()
    if not tail:
        raise WhenError("when.no_text")
    if not head:
        raise WhenError("when.missing")
    return head, tail


def _inside_time(text: str, index: int) -> bool:
    # A colon between two digits belongs to a time ("17:30"); any other colon separates.
    return 0 < index < len(text) - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()


# --------------------------------------------------------------------------------------------
# Understanding a time: read in either language, then resolve the slots against now.


def _resolve(s: _Slots, ctx: _Context) -> When:
    """The slots as a :class:`When`: a series, an offset, or a one-off date and time."""
    clock = _clock_time(s, ctx)
    if s.freq is not None:
        return _resolve_rule(s, ctx, clock)
    if s.until_text is not None:
        raise WhenError("when.until_one_off", text=ctx.text)
    if s.offset is not None:
        return _resolve_offset(s, ctx, clock)
    at = clock or ctx.default_time
    if s.date is None and s.weekday is None:
        if clock is None:
            raise _NotUnderstood
        # A time alone is the next such time: today if still ahead, else tomorrow.
        local = datetime.combine(ctx.today, at)
        if not ctx.after_now(local):
            local += timedelta(days=1)
        return _one_off(local, ctx, clock is not None)
    local = _resolve_date(s, ctx, at)
    return _one_off(local, ctx, clock is not None)


def parse_when(
    text: str, *, now: datetime, tz: str, language: str = "de", default_time: time = DEFAULT_TIME
) -> When:
    """Understand a time expression like "morgen 18 Uhr" or "jeden ersten Dienstag im Monat".

    Rules people rely on (and the tests pin down):

    - A date without a time is at ``default_time`` (9:00); "früh"/"morgens" 8:00, "vormittags"
      10:00, "mittags" 12:00, "nachmittags" 15:00, "abends"/"heute Abend"/"tonight" 19:00,
      "nachts" 22:00.
    - A time alone ("18 Uhr") is today if still ahead, else tomorrow. "18 Uhr", "18:30",
      "18.30 Uhr", "18h", "6pm" are exact; "6 Uhr" is 06:00; "6 Uhr abends" and "um 6 abends"
      are 18:00; a bare "um 1" … "um 7" (or "morgen 6") without a part of the day is
      ``when.ambiguous``; "um 8" … "um 23" and "morgen 18" are that hour.
    - "Freitag" is the next Friday whose time is still ahead (today if it is Friday and the
      time has not passed). "nächsten Freitag"/"next Friday" is the next Friday after today
      (never today), "übernächsten Freitag" a week later.
    - "am 3.12." without a year is the next 3 December ahead; "am 15." the next 15th.
    - "Ende des Monats" is the last day of this month, "Ende März" of the next March.
    - "in 2 Stunden"/"in 10 Minuten" are elapsed time; "in 3 Tagen"/"in einer Woche" the same
      wall time that many days later (or the time named).
    - "heute 8 Uhr" at 10:00, "3.12.2025": ``when.past``; dates given in full are never moved.
    - Series are computed in local wall time; "jeden zweiten Dienstag" is every other week,
      "jeden ersten/dritten/letzten Dienstag" is within the month. "monatlich am 31." skips
      months without a 31st, as RFC 5545 does (:attr:`RuleSummary.skips`); "monatlich am
      letzten Tag" is ``BYMONTHDAY=-1``. "bis …" ends a series with that whole local day.
      A series without a weekday or day ("wöchentlich", "monatlich") repeats today's.

    Args:
        text: What the person typed (the part before ``:`` of ``/erinnerung``).
        now: The current moment (aware).
        tz: IANA timezone of the AG.
        language: The AG's language (``de``/``en``); tried first, the other one after it.
        default_time: Time of a date given without one.

    Raises:
        WhenError: See its docstring for the keys.
    """
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    ctx = _Context(text.strip(), now, tz, language, default_time)
    normalized = _normalize(text)
    if normalized:
        for lang in _languages(language):
            try:
                return _resolve(_read(normalized, _PATTERNS[lang]), ctx)
            except _NotUnderstood:
                continue  # a WhenError means it was understood and is wrong: that is the answer
    raise WhenError("when.unknown", text=ctx.text)
