"""JSON-safe encoding of outgoing messages, so the outbox can store them durably."""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any

from bot.core.events import (
    Attachment,
    Button,
    ChatKind,
    ChatRef,
    OutgoingMessage,
    Platform,
    PollSpec,
)
from bot.core.markup import Line, Markup, Span
from bot.core.sanitize import scrub

_SPAN_FLAGS = ("bold", "italic", "code")


def encode_chat(chat: ChatRef) -> dict[str, Any]:
    """A chat reference as a dict."""
    return {
        "platform": chat.platform.value,
        "id": chat.external_id,
        "kind": chat.kind.value,
        "title": chat.title,
    }


def decode_chat(data: dict[str, Any]) -> ChatRef:
    """The inverse of :func:`encode_chat`."""
    return ChatRef(Platform(data["platform"]), data["id"], ChatKind(data["kind"]), data.get("title"))


def encode_markup(markup: Markup) -> list[dict[str, Any]]:
    """Lines and spans as plain data; default span attributes are left out to keep rows small."""
    lines = []
    for line in markup.lines:
        spans = []
        for span in line.spans:
            # scrub: a lone surrogate that reached a reply would make the outbox row unstorable
            # ("'utf-8' codec can't encode"), and with it the whole update's transaction.
            item: dict[str, Any] = {"t": scrub(span.text)}
            for flag in _SPAN_FLAGS:
                if getattr(span, flag):
                    item[flag[0]] = 1
            if span.link:
                item["l"] = span.link
            spans.append(item)
        entry: dict[str, Any] = {"s": spans}
        if line.bullet:
            entry["b"] = 1
        lines.append(entry)
    return lines


def decode_markup(data: list[dict[str, Any]]) -> Markup:
    """The inverse of :func:`encode_markup`."""
    lines = []
    for entry in data:
        spans = tuple(
            Span(
                s["t"],
                bold="b" in s,
                italic="i" in s,
                code="c" in s,
                link=s.get("l"),
            )
            for s in entry["s"]
        )
        lines.append(Line(spans, bullet="b" in entry))
    return Markup(lines)


def encode_message(message: OutgoingMessage) -> dict[str, Any]:
    """An outgoing message as JSON-safe data (files base64-encoded)."""
    data: dict[str, Any] = {"markup": encode_markup(message.markup)}
    if message.reply_to:
        data["reply_to"] = message.reply_to
    if message.buttons:
        data["buttons"] = [
            [{k: _safe(v) for k, v in asdict(b).items() if v is not None} for b in row]
            for row in message.buttons
        ]
    if message.attachment:
        a = message.attachment
        data["attachment"] = {
            "filename": scrub(a.filename),
            "mime_type": a.mime_type,
            "data": base64.b64encode(a.data).decode("ascii"),
            "caption": _safe(a.caption),
        }
    if message.poll:
        p = message.poll
        data["poll"] = {
            "question": scrub(p.question),
            "options": [scrub(option) for option in p.options],
            "multiple": p.allows_multiple,
            "anonymous": p.anonymous,
        }
    if message.close_poll:
        data["close_poll"] = message.close_poll
    if message.fallback:
        data["fallback"] = {"chat": encode_chat(message.fallback.chat), **encode_message(message.fallback)}
    return data


def _safe(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


def decode_message(chat: ChatRef, data: dict[str, Any]) -> OutgoingMessage:
    """The inverse of :func:`encode_message` for a message to ``chat``."""
    attachment = None
    if "attachment" in data:
        a = data["attachment"]
        attachment = Attachment(a["filename"], a["mime_type"], base64.b64decode(a["data"]), a.get("caption"))
    poll = None
    if "poll" in data:
        p = data["poll"]
        poll = PollSpec(p["question"], tuple(p["options"]), p["multiple"], p["anonymous"])
    fallback = None
    if "fallback" in data:
        fallback = decode_message(decode_chat(data["fallback"]["chat"]), data["fallback"])
    return OutgoingMessage(
        chat=chat,
        markup=decode_markup(data["markup"]),
        reply_to=data.get("reply_to"),
        buttons=[[Button(**b) for b in row] for row in data.get("buttons", [])],
        attachment=attachment,
        poll=poll,
        fallback=fallback,
        close_poll=data.get("close_poll"),
    )
