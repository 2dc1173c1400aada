"""Translate Telegram updates into core events (pure functions, no I/O)."""

from __future__ import annotations

from telegram import Chat, ChatMember, Message, Update, User

from bot.core.events import (
    BotAdded,
    ChatKind,
    ChatRef,
    Event,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    Platform,
    PollAnswered,
    QuotedMessage,
    UserRef,
)

# Telegram's stand-in sender for anonymous group admins; messages "from" it are an admin's.
ANONYMOUS_ADMIN_ID = 1087968824
_PRESENT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}


def chat_ref(chat: Chat) -> ChatRef:
    """A core chat reference for a Telegram chat."""
    kind = ChatKind.PRIVATE if chat.type == Chat.PRIVATE else ChatKind.GROUP
    title = chat.title or chat.full_name or None
    return ChatRef(Platform.TELEGRAM, str(chat.id), kind, title)


def user_ref(user: User) -> UserRef:
    """A core user reference for a Telegram user."""
    return UserRef(Platform.TELEGRAM, str(user.id), user.full_name or str(user.id), user.username)


def _is_present(member: ChatMember) -> bool:
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in _PRESENT


def message_events(message: Message, bot_id: int) -> list[Event]:
    """Events for a (non-edited) message: joins, leaves, or text."""
    chat = chat_ref(message.chat)
    if message.new_chat_members:
        people = tuple(user_ref(u) for u in message.new_chat_members if u.id != bot_id)
        events: list[Event] = []
        if any(u.id == bot_id for u in message.new_chat_members):
            events.append(
                BotAdded(chat, user_ref(message.from_user) if message.from_user else None, message.date)
            )
        if people:
            events.append(MemberJoined(chat, people, message.date))
        return events
    if message.left_chat_member:
        if message.left_chat_member.id == bot_id:
            return []
        return [MemberLeft(chat, user_ref(message.left_chat_member), message.date)]
    if message.text is None or message.from_user is None:
        return []
    quoted = None
    if message.reply_to_message is not None:
        original = message.reply_to_message
        quoted = QuotedMessage(
            str(original.message_id),
            original.text or original.caption,
            user_ref(original.from_user) if original.from_user else None,
        )
    return [
        IncomingMessage(
            chat=chat,
            sender=user_ref(message.from_user),
            text=message.text,
            message_id=str(message.message_id),
            reply_to=quoted,
            timestamp=message.date,
        )
    ]


def update_events(update: Update, bot_id: int) -> list[Event]:
    """Events for one update; callback queries are handled by the adapter itself."""
    if update.message is not None:
        return message_events(update.message, bot_id)
    if update.chat_member is not None:
        change = update.chat_member
        was, now = _is_present(change.old_chat_member), _is_present(change.new_chat_member)
        user = change.new_chat_member.user
        if user.id == bot_id or was == now:
            return []
        chat = chat_ref(change.chat)
        if now:
            return [MemberJoined(chat, (user_ref(user),), change.date)]
        return [MemberLeft(chat, user_ref(user), change.date)]
    if update.my_chat_member is not None:
        change = update.my_chat_member
        if change.chat.type == Chat.PRIVATE:
            return []
        if not _is_present(change.old_chat_member) and _is_present(change.new_chat_member):
            return [BotAdded(chat_ref(change.chat), user_ref(change.from_user), change.date)]
        return []
    # A vote cast as a chat (voter_chat) carries a placeholder user for old clients; it is
    # nobody's vote.
    if (
        update.poll_answer is not None
        and update.poll_answer.user is not None
        and update.poll_answer.voter_chat is None
    ):
        answer = update.poll_answer
        return [
            PollAnswered(Platform.TELEGRAM, answer.poll_id, user_ref(answer.user), tuple(answer.option_ids))
        ]
    return []
