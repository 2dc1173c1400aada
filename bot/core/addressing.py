"""Where messages go: chat references for stored chats and people, and notes to the koordination."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.events import ChatKind, ChatRef, OutgoingMessage, Platform
from bot.core.markup import Markup
from storage.models import Chat, Person


def private_chat(person: Person) -> ChatRef:
    """The private chat of a person: on every platform it is addressed by the person's id."""
    return ChatRef(Platform(person.platform), person.external_id, ChatKind.PRIVATE, person.display_name)


def chat_ref(chat: Chat) -> ChatRef:
    """The address of a stored chat, for messages to chats other than the current one."""
    return ChatRef(Platform(chat.platform), chat.external_id, ChatKind(chat.kind), chat.title)


def privately(people: Sequence[Person], markup: Markup, chats: Sequence[Chat]) -> list[OutgoingMessage]:
    """The same message privately to each person, or in the AG's first chat for those who never
    opened a private chat with the bot (and to that chat when nobody is left to write to).

    Args:
        people: Recipients (e.g. the AG's koordination).
        markup: The message.
        chats: The AG's chats; the first one is the fallback.
    """
    fallback = OutgoingMessage(chat_ref(chats[0]), markup) if chats else None
    messages = [OutgoingMessage(private_chat(p), markup, fallback=fallback) for p in people]
    if not messages and fallback is not None:
        messages = [fallback]
    return messages
