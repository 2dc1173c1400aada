"""Log hygiene: secrets never reach a log line, and events are described by ids only.

Policy (DEVELOPERS.md, "Logging"): at INFO and above the bot logs ids (chat, sender, message,
AG, outbox row), never message texts or names; DEBUG may show texts. Secrets are redacted at
every level, DEBUG included, by :class:`SecretFilter` on the root logger's handlers: the
configured ones (Telegram token, webhook secret, Matrix password and access token, the database
password), those learnt at run time (a Matrix access token obtained at login) and well-known
shapes (``bot<token>`` in Bot API URLs, ``access_token=…``, ``"password": "…"``, ``Bearer …``,
``scheme://user:password@``) that libraries log before the bot could know the value.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Iterable

from bot.core.events import ChatRef, QuotedMessage, UserRef

REDACTED = "<redacted>"
# Shorter values would turn ordinary words of every log line into "<redacted>"; nothing that short
# is a secret worth the name (Telegram tokens have 45 characters, Matrix tokens more).
MIN_SECRET_LENGTH = 4
# Libraries that log every request or event at INFO: their lines are noise (and may carry ids
# and URLs an operator does not need) unless the operator asked for DEBUG.
CHATTY_LOGGERS = ("httpx", "httpcore", "nio", "aiohttp.access", "apscheduler")

_SECRET_KEYS = r"access_token|refresh_token|password|secret_token|webhook_secret"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Bot API URLs carry the token in the path: https://api.telegram.org/bot<token>/getMe.
    (re.compile(r"\bbot\d+:[A-Za-z0-9_-]+"), "bot" + REDACTED),
    # A bare Telegram token, e.g. in PTB's "The token `…` was rejected by the server."
    (re.compile(r"(?<!\d)\d{5,}+:[A-Za-z0-9_-]{30,}"), REDACTED),
    # Query parameters (nio puts the access token into some URLs).
    (re.compile(rf"(?i)\b((?:{_SECRET_KEYS})=)[^&\s\"'<>]+"), r"\1" + REDACTED),
    # JSON bodies and dict reprs: nio logs the login response before the bot sees the token.
    (re.compile(rf"(?i)([\"'](?:{_SECRET_KEYS})[\"']\s*:\s*[\"'])[^\"']*"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(secret-token[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"), r"\1" + REDACTED),
    # Passwords in URLs such as postgresql://user:password@host/db.
    (
        # Possessive quantifiers and the look-behind keep this linear on long lines.
        re.compile(r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*+://[^:/@\s]++:)[^@\s/]++(@)"),
        r"\1" + REDACTED + r"\2",
    ),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_exact: re.Pattern[str] | None = None


def register_secret(*values: str | None) -> None:
    """Redact these values from every log line from now on (``None`` and short values are skipped).

    Call it as soon as a secret is known, e.g. with the access token a login returned.
    """
    global _exact
    fresh = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH} - _secrets
    if not fresh:
        return
    with _lock:
        _secrets.update(fresh)
        # Longest first, so a secret containing another one is replaced as a whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _exact = re.compile("|".join(re.escape(v) for v in ordered))


def forget_secrets() -> None:
    """Drop every registered secret (tests)."""
    global _exact
    with _lock:
        _secrets.clear()
        _exact = None


def redact(text: str) -> str:
    """``text`` with registered secrets and well-known secret shapes replaced."""
    exact = _exact
    if exact is not None:
        text = exact.sub(REDACTED, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretFilter(logging.Filter):
    """Redacts the formatted message, the traceback and the stack of every record it sees.

    The message is formatted here (``msg % args``) and stored back with empty ``args``, because a
    secret can sit in an argument as well as in the template. Every record passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # Broken arguments: leave the record to the handler, which reports such errors.
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters use a precomputed exc_text as is; formatting it here lets us redact it.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = SecretFilter()


def install(level: int, handlers: Iterable[logging.Handler] | None = None) -> SecretFilter:
    """Put the secret filter on the root logger's handlers and quieten chatty libraries.

    A filter on a handler sees the records of every logger that propagates to it (a filter on a
    logger would only see that logger's own records).

    Args:
        level: The level the operator chose; below DEBUG's neighbours the request lines of
            httpx (which contain the Bot API URL) and nio's per-event lines are dropped.
        handlers: Handlers to protect (default: the root logger's).

    Returns:
        The filter, so tests can remove it again.
    """
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    if level > logging.DEBUG:
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return _FILTER


def describe_event(event: object) -> str:
    """One line that identifies an event by ids only: no texts, no names.

    For log lines at INFO and above (``log.exception("error %s while handling %s", error_id,
    describe_event(event))``). Chats and people appear as their platform ids, texts as their
    length, quoted messages as their id; works for any event dataclass.

    Example:
        ``IncomingMessage(chat=telegram:-100500/group, sender=5, text=<21 chars>,
        message_id=17, sender_is_admin=True, reply_to=16)``
    """
    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        return type(event).__name__
    parts = []
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        shown = _describe_value(field.name, value)
        if shown is not None:
            parts.append(f"{field.name}={shown}")
    return f"{type(event).__name__}({', '.join(parts)})"


def _describe_value(name: str, value: object) -> str | None:
    if value is None or value is False or value == ():
        return None
    if isinstance(value, ChatRef):
        return f"{value.platform}:{value.external_id}/{value.kind}"
    if isinstance(value, UserRef):
        return value.external_id
    if isinstance(value, QuotedMessage):
        return value.message_id
    if isinstance(value, tuple | list):
        shown = [_describe_value(name, v) for v in value]
        return "[" + ",".join(s for s in shown if s is not None) + "]"
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, str):
        # Ids (message_id, poll_id, …) and enum values are safe; any other string is content.
        if name.endswith("id") or name == "platform":
            return value
        return f"<{len(value)} chars>"
    # Timestamps and anything unknown: not needed to find the event, possibly personal.
    return None
