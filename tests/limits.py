"""What every reply must satisfy, whatever the input: no internal error, within platform limits.

Shared by the property-based test (``tests/test_fuzz_commands.py``) and the regression tests of
the inputs it found (``tests/handlers/test_input_limits.py``).
"""

from __future__ import annotations

from functools import cache

from telegram import Bot
from telegram.constants import MessageLimit

from bot.adapters.telegram.messenger import TelegramMessenger, utf16_length
from bot.core.events import OutgoingMessage
from bot.core.i18n import LANGUAGES, Translator
from bot.core.markup import render_html
from tests.adapters.telegram.fake_request import FakeRequest

TELEGRAM_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)


@cache
def telegram() -> TelegramMessenger:
    """A Telegram messenger that only prepares (splits) messages; it never sends."""

    async def refuse(*args: object) -> None:  # pragma: no cover - prepare never calls back
        raise AssertionError("not expected while preparing")

    bot = Bot("123456:TEST", request=FakeRequest(), get_updates_request=FakeRequest())
    return TelegramMessenger(bot, refuse, refuse)


def telegram_parts(message: OutgoingMessage) -> list[OutgoingMessage]:
    """The parts Telegram would get for a reply, each checked against its 4,096-unit limit."""
    parts = telegram().prepare(message)
    for part in parts:
        units = utf16_length(render_html(part.markup))
        assert units <= TELEGRAM_LIMIT, f"a part of {units} UTF-16 units: {part.markup.plain()[:200]!r}"
    return parts


@cache
def _internal_error_openings() -> tuple[str, ...]:
    # The catalog text up to its error id, in every language (an AG may have switched to English).
    marker = "\x00"
    texts = (Translator(language).text("error.internal", error_id=marker) for language in LANGUAGES)
    return tuple(text.split(marker)[0] for text in texts)


def is_internal_error(text: str) -> bool:
    """Whether a reply is the ``error.internal`` message (an unexpected exception was logged)."""
    return text.startswith(_internal_error_openings())
