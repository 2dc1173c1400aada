"""Core → Matrix: notices with sanitised HTML, replies, reactions as buttons, polls, files."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from nio import AsyncClient, ErrorResponse, RoomSendResponse, UploadResponse

from bot.core.errors import PermanentDeliveryError, RetryLater, TransientDeliveryError
from bot.core.events import OutgoingMessage, Platform, SentMessage
from bot.core.markup import Markup, render_plain, render_rich_html

log = logging.getLogger(__name__)

# Matrix events may be 65,536 bytes with their envelope; body and formatted body both count.
EVENT_BUDGET = 24_000
BUTTON_KEYS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣")

ResolveRoom = Callable[[str], Awaitable[str]]
RememberButtons = Callable[[str, dict[str, str]], Awaitable[None]]


def _size(markup: Markup) -> int:
    # Most messages are far below the budget: an upper bound that needs no rendering settles
    # them (HTML escaping grows a character to at most 6, UTF-8 to at most 4 bytes; tags, link
    # targets and line breaks are counted generously).
    chars = spans = 0
    for line in markup.lines:
        for span in line.spans:
            chars += len(span.text) + len(span.link or "")
            spans += 1
    bound = chars * 4 * 7 + spans * 64 + len(markup.lines) * 32
    if bound <= EVENT_BUDGET:
        return bound
    # surrogatepass: a lone surrogate that still reached a reply counts its 3 bytes (it is sent
    # as U+FFFD, also 3) instead of failing the update that is being answered.
    html, plain = render_rich_html(markup), render_plain(markup)
    return len(html.encode("utf-8", "surrogatepass")) + len(plain.encode("utf-8", "surrogatepass"))


def _error(response: ErrorResponse, what: str) -> Exception:
    """Map a nio error response to the outbox's error types."""
    code = response.status_code or ""
    if code == "M_LIMIT_EXCEEDED":
        wait = getattr(response, "retry_after_ms", None) or 1000
        return RetryLater(wait / 1000, f"{what}: {response.message}")
    if code in ("M_FORBIDDEN", "M_NOT_FOUND", "M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_INVALID_PARAM"):
        return PermanentDeliveryError(f"{what}: {code} {response.message}")
    # Unknown errcodes include 5xx pages and M_UNKNOWN_TOKEN: retrying can succeed once the
    # server is back or the operator fixed the token, so do not drop the message.
    return TransientDeliveryError(f"{what}: {code} {response.message}")


class MatrixMessenger:
    """Sends prepared messages through a logged-in nio client.

    Args:
        client: The adapter's client.
        resolve_room: Turns a chat id (a room id, or a user id for a direct chat) into a room id,
            creating the direct room when needed.
        remember_buttons: Stores which reaction on a sent event stands for which command.
    """

    platform = Platform.MATRIX

    def __init__(
        self, client: AsyncClient, resolve_room: ResolveRoom, remember_buttons: RememberButtons
    ) -> None:
        self.client = client
        self.resolve_room = resolve_room
        self.remember_buttons = remember_buttons

    def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        """Split texts too large for one event; buttons stay on the last part."""
        if message.poll is not None or message.attachment is not None or message.close_poll is not None:
            return [message]
        return message.split_text(EVENT_BUDGET, _size)

    async def send(self, message: OutgoingMessage) -> SentMessage:
        """Deliver one part; the outbox key is the transaction id, so retries never duplicate."""
        try:
            room_id = await self.resolve_room(message.chat.external_id)
            if message.close_poll is not None:
                text = render_plain(message.markup)
                event_id = await self.close_poll(room_id, message.close_poll, text, txn=message.key)
                return SentMessage(message.chat, event_id)
            if message.poll is not None:
                event_id = await self._send_poll(room_id, message)
                return SentMessage(message.chat, event_id, poll_id=event_id)
            if message.attachment is not None:
                event_id = await self._send_file(room_id, message)
                return SentMessage(message.chat, event_id)
            event_id = await self._send_text(room_id, message)
            return SentMessage(message.chat, event_id)
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as error:
            raise TransientDeliveryError(f"network: {error!r}") from error

    async def close_poll(self, room_id: str, poll_event_id: str, text: str, *, txn: str | None = None) -> str:
        """End an MSC3381 poll; clients then show the final results. Returns the end event's id."""
        content = {
            "m.relates_to": {"rel_type": "m.reference", "event_id": poll_event_id},
            "org.matrix.msc3381.poll.end": {},
            "org.matrix.msc1767.text": text,
            "body": text,
        }
        return await self._room_send(room_id, "org.matrix.msc3381.poll.end", content, txn)

    async def _room_send(
        self, room_id: str, event_type: str, content: dict[str, Any], txn: str | None
    ) -> str:
        # The bot trusts every device of the room's members (it has no one to verify them with).
        response = await self.client.room_send(
            room_id, event_type, content, tx_id=txn, ignore_unverified_devices=True
        )
        if isinstance(response, RoomSendResponse):
            return response.event_id
        raise _error(response, "send")

    async def _send_text(self, room_id: str, message: OutgoingMessage) -> str:
        markup = Markup(list(message.markup.lines))
        keys: dict[str, str] = {}
        # A deep link (Telegram's way into the private chat) becomes the command it stands for:
        # the reacting person runs "/start <payload>", and the feature writes to them privately.
        buttons = [
            (b.label, b.command or f"/start {b.start_payload}")
            for row in message.buttons
            for b in row
            if b.command or b.start_payload
        ]
        if buttons:
            # Matrix has no inline buttons: the options are listed and answered with a reaction.
            markup.blank()
            for key, (label, command) in zip(BUTTON_KEYS, buttons, strict=False):
                keys[key] = command
                markup.line(f"{key} {label}")
        for button in (b for row in message.buttons for b in row if b.url):
            markup.line(f"{button.label}: {button.url}")
        content: dict[str, Any] = {
            "msgtype": "m.notice",
            "body": render_plain(markup),
            "format": "org.matrix.custom.html",
            "formatted_body": render_rich_html(markup),
        }
        if message.reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": message.reply_to}}
        event_id = await self._room_send(room_id, "m.room.message", content, message.key)
        if keys:
            await self.remember_buttons(event_id, keys)
            for index, key in enumerate(keys):
                reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
                txn = f"{message.key}-r{index}" if message.key else None
                try:
                    await self._room_send(room_id, "m.reaction", reaction, txn)
                except Exception as error:  # the message is out; a missing shortcut is cosmetic
                    log.info("matrix: could not add reaction %s: %s", key, error)
        return event_id

    async def _send_poll(self, room_id: str, message: OutgoingMessage) -> str:
        poll = message.poll
        assert poll is not None
        fallback = "\n".join([poll.question, *(f"{i + 1}. {o}" for i, o in enumerate(poll.options))])
        content = {
            "org.matrix.msc3381.poll.start": {
                "question": {"org.matrix.msc1767.text": poll.question, "body": poll.question},
                "kind": "org.matrix.msc3381.poll.undisclosed"
                if poll.anonymous
                else "org.matrix.msc3381.poll.disclosed",
                "max_selections": len(poll.options) if poll.allows_multiple else 1,
                "answers": [{"id": str(i), "org.matrix.msc1767.text": o} for i, o in enumerate(poll.options)],
            },
            "org.matrix.msc1767.text": fallback,
            "body": fallback,
        }
        return await self._room_send(room_id, "org.matrix.msc3381.poll.start", content, message.key)

    async def _send_file(self, room_id: str, message: OutgoingMessage) -> str:
        attachment = message.attachment
        assert attachment is not None
        upload, _keys = await self.client.upload(
            io.BytesIO(attachment.data),
            content_type=attachment.mime_type,
            filename=attachment.filename,
            filesize=len(attachment.data),
        )
        if not isinstance(upload, UploadResponse):
            raise _error(upload, "upload")
        content = {
            "msgtype": "m.image" if attachment.is_image else "m.file",
            "body": attachment.filename,
            "filename": attachment.filename,
            "url": upload.content_uri,
            "info": {"mimetype": attachment.mime_type, "size": len(attachment.data)},
        }
        event_id = await self._room_send(room_id, "m.room.message", content, message.key)
        if message.markup.lines:
            caption = replace(message, attachment=None, key=f"{message.key}-caption" if message.key else None)
            await self._send_text(room_id, caption)
        return event_id
