"""Core → Telegram: HTML rendering, splitting, buttons, polls, files and error mapping."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, ReplyParameters
from telegram.constants import MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.core.errors import PermanentDeliveryError, RetryLater, TransientDeliveryError
from bot.core.events import Button, OutgoingMessage, Platform, SentMessage
from bot.core.markup import Markup, render_html

log = logging.getLogger(__name__)

CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
STORED_PREFIX = "cb:"

StoreButton = Callable[[str, str], Awaitable[None]]
Migrate = Callable[[str, str], Awaitable[None]]


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units).

    A lone surrogate counts as the one unit it is (``surrogatepass``): events are scrubbed on
    entry, but measuring must never be what fails when one still arrives.
    """
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _measure(markup: Markup) -> int:
    # The HTML source is at least as long as the parsed text Telegram limits, so this is safe.
    return utf16_length(render_html(markup))


def callback_key(command: str) -> str:
    """The stored-button key for a command too long for ``callback_data``."""
    return STORED_PREFIX + hashlib.sha256(command.encode()).hexdigest()[:24]


class TelegramMessenger:
    """Sends prepared messages through a PTB :class:`~telegram.Bot`.

    Args:
        bot: An initialised PTB bot.
        store_button: Persists ``(key, command)`` for buttons whose command exceeds 64 bytes.
        on_migrate: Called with ``(old_chat_id, new_chat_id)`` when a group became a supergroup.
    """

    platform = Platform.TELEGRAM

    def __init__(self, bot: Bot, store_button: StoreButton, on_migrate: Migrate) -> None:
        self.bot = bot
        self.store_button = store_button
        self.on_migrate = on_migrate

    def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        """Split into parts Telegram accepts: 4,096 characters of text, 1,024 of caption.

        Buttons stay on the last part, the reply reference on the first.
        """
        if message.poll is not None or message.close_poll is not None:
            return [message]
        if message.attachment is not None:
            if _measure(message.markup) <= MessageLimit.CAPTION_LENGTH:
                return [message]
            # Caption too long: the file goes bare, the text follows as ordinary messages.
            bare = replace(message, markup=Markup(), buttons=[])
            text = replace(message, attachment=None, reply_to=None, fallback=None)
            return [bare, *self.prepare(text)]
        return message.split_text(MessageLimit.MAX_TEXT_LENGTH, _measure)

    async def send(self, message: OutgoingMessage) -> SentMessage:
        """Deliver one prepared part, mapping Telegram errors to the outbox's error types."""
        chat_id = message.chat.external_id
        if message.close_poll is not None:
            return await self._stop_poll(message, message.close_poll)
        try:
            try:
                sent = await self._send(chat_id, message)
            except ChatMigrated as moved:
                new_id = str(moved.new_chat_id)
                await self.on_migrate(chat_id, new_id)
                sent = await self._send(new_id, message)
            except BadRequest as error:
                if "replied not found" not in str(error).lower() or message.reply_to is None:
                    raise
                # The message we answer was deleted meanwhile: answer without the reference.
                sent = await self._send(chat_id, replace(message, reply_to=None))
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise RetryLater(seconds, str(error)) from error
        except Forbidden as error:
            raise PermanentDeliveryError(
                f"forbidden: {error.message}", blocked_private=message.chat.is_private
            ) from error
        except (BadRequest, InvalidToken) as error:
            raise PermanentDeliveryError(f"bad request: {error.message}") from error
        except (TimedOut, NetworkError) as error:
            raise TransientDeliveryError(f"network: {error.message}") from error
        except TelegramError as error:
            raise PermanentDeliveryError(f"telegram: {error.message}") from error
        poll_id = sent.poll.id if sent.poll is not None else None
        return SentMessage(message.chat, str(sent.message_id), poll_id)

    async def close_poll(self, chat_id: str, message_id: str) -> None:
        """Stop a native poll (results stay visible)."""
        await self.bot.stop_poll(chat_id, int(message_id))

    async def _stop_poll(self, message: OutgoingMessage, message_id: str) -> SentMessage:
        """An outbox row that ends a native poll (``OutgoingMessage.close_poll``)."""
        if not message_id.isdigit():
            raise PermanentDeliveryError(f"not a Telegram message id: {message_id!r}")
        try:
            await self.close_poll(message.chat.external_id, message_id)
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise RetryLater(seconds, str(error)) from error
        except BadRequest as error:
            # Stopped already (a retry after a lost answer, or by hand): the goal is reached.
            if "already been closed" not in str(error).lower():
                raise PermanentDeliveryError(f"bad request: {error.message}") from error
        except Forbidden as error:
            raise PermanentDeliveryError(f"forbidden: {error.message}") from error
        except (TimedOut, NetworkError) as error:
            raise TransientDeliveryError(f"network: {error.message}") from error
        except TelegramError as error:
            raise PermanentDeliveryError(f"telegram: {error.message}") from error
        return SentMessage(message.chat, message_id)

    async def _send(self, chat_id: str, message: OutgoingMessage) -> Message:
        reply = (
            ReplyParameters(int(message.reply_to), allow_sending_without_reply=True)
            if message.reply_to and message.reply_to.isdigit()
            else None
        )
        keyboard = await self._keyboard(message.buttons)
        html = render_html(message.markup)
        if message.poll is not None:
            poll = message.poll
            return await self.bot.send_poll(
                chat_id,
                poll.question,
                list(poll.options),
                is_anonymous=poll.anonymous,
                allows_multiple_answers=poll.allows_multiple,
                reply_parameters=reply,
                reply_markup=keyboard,
            )
        if message.attachment is not None:
            file = InputFile(message.attachment.data, filename=message.attachment.filename)
            common = {
                "caption": html or None,
                "parse_mode": ParseMode.HTML,
                "reply_parameters": reply,
                "reply_markup": keyboard,
            }
            if message.attachment.mime_type in ("image/png", "image/jpeg"):
                return await self.bot.send_photo(chat_id, file, **common)
            return await self.bot.send_document(chat_id, file, **common)
        return await self.bot.send_message(
            chat_id,
            html,
            parse_mode=ParseMode.HTML,
            reply_parameters=reply,
            reply_markup=keyboard,
            link_preview_options=None,
        )

    async def _keyboard(self, rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
        if not rows:
            return None
        keyboard = []
        for row in rows:
            buttons = []
            for button in row:
                if button.url:
                    buttons.append(InlineKeyboardButton(button.label, url=button.url))
                elif button.start_payload is not None:
                    url = f"https://t.me/{self.bot.username}?start={button.start_payload}"
                    buttons.append(InlineKeyboardButton(button.label, url=url))
                elif button.command:
                    data = button.command
                    if len(data.encode()) > CALLBACK_LIMIT:
                        data = callback_key(button.command)
                        await self.store_button(data, button.command)
                    buttons.append(InlineKeyboardButton(button.label, callback_data=data))
            keyboard.append(buttons)
        return InlineKeyboardMarkup(keyboard)
