"""Translate Matrix (matrix-nio) events into core events (pure functions, no I/O)."""

from __future__ import annotations

from typing import Any

from bot.core.events import ChatKind, ChatRef, Platform, UserRef

POLL_RESPONSE_TYPES = ("org.matrix.msc3381.poll.response", "m.poll.response")


def reply_target(source: dict[str, Any]) -> str | None:
    """The event id a message replies to (``m.relates_to`` → ``m.in_reply_to``), if any."""
    # Content comes from other clients: anything of the wrong shape means "no reply".
    relates = _mapping(_mapping(source.get("content")).get("m.relates_to"))
    target = _mapping(relates.get("m.in_reply_to")).get("event_id")
    return target if isinstance(target, str) else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def strip_reply_fallback(body: str) -> str:
    """Remove the quoted ``> <@user> …`` lines clients put in front of a reply's body."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index < len(lines) and not lines[index].strip():
        index += 1
    return "\n".join(lines[index:])


def chat_ref(room_id: str, *, direct_with: str | None, title: str | None) -> ChatRef:
    """A room as a core chat: a direct chat is addressed by the other person's user id.

    Using the user id for direct chats means replies and later private messages to the same
    person land in one stored chat, whichever room Matrix uses for it.
    """
    if direct_with is not None:
        return ChatRef(Platform.MATRIX, direct_with, ChatKind.PRIVATE, title)
    return ChatRef(Platform.MATRIX, room_id, ChatKind.GROUP, title)


def user_ref(user_id: str, display_name: str | None) -> UserRef:
    """A Matrix user as a core user (the user id doubles as username)."""
    return UserRef(Platform.MATRIX, user_id, display_name or user_id, user_id)


def poll_answer(source: dict[str, Any]) -> tuple[str, tuple[int, ...]] | None:
    """``(poll start event id, chosen option indices)`` of a poll response event, if valid.

    Both the unstable MSC3381 form and the stable ``m.poll.response`` form are read; our polls
    use the option indices as answer ids.
    """
    content = _mapping(source.get("content"))
    poll_id = _mapping(content.get("m.relates_to")).get("event_id")
    if not isinstance(poll_id, str):
        return None
    answers = _mapping(content.get("org.matrix.msc3381.poll.response")).get("answers")
    if answers is None:
        answers = content.get("m.selections")
    if not isinstance(answers, list):
        return None
    chosen = tuple(
        int(a) for a in answers if isinstance(a, str) and a.isascii() and a.isdecimal() and len(a) <= 3
    )
    return poll_id, chosen
