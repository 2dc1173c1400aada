"""Telegram updates (realistic Bot API JSON, parsed by PTB) → core events."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Bot, Update

from bot.adapters.telegram.convert import chat_ref, update_events, user_ref
from bot.core.events import (
    BotAdded,
    ChatKind,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    Platform,
    PollAnswered,
    QuotedMessage,
    UserRef,
)
from tests.adapters.telegram.fake_request import FakeRequest
from tests.fakes.telegram_api import ADMIN_RIGHTS, RESTRICTED_PERMISSIONS

BOT_ID = 123456
DATE = 1795251600
WHEN = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Kümmerer", "username": "kuemmerer_unit_bot"}
ANNA = {
    "id": 11,
    "is_bot": False,
    "first_name": "Anna",
    "last_name": "Alt",
    "username": "anna",
    "language_code": "de",
}
BERND = {"id": 22, "is_bot": False, "first_name": "Bernd"}
CARLA = {"id": 33, "is_bot": False, "first_name": "Carla", "username": "carla"}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}

SUPERGROUP = {"id": -1001000, "type": "supergroup", "title": "AG Bildung", "is_forum": False}
BASIC_GROUP = {"id": -4711, "type": "group", "title": "AG Alt"}
ANNA_PRIVATE = {"id": 11, "type": "private", "first_name": "Anna", "last_name": "Alt", "username": "anna"}

TG_GROUP = ChatRef(Platform.TELEGRAM, "-1001000", ChatKind.GROUP, "AG Bildung")
TG_ANNA = UserRef(Platform.TELEGRAM, "11", "Anna Alt", "anna")
TG_BERND = UserRef(Platform.TELEGRAM, "22", "Bernd", None)
TG_CARLA = UserRef(Platform.TELEGRAM, "33", "Carla", "carla")


@pytest.fixture(scope="module")
def bot() -> Iterator[Bot]:
    """A bot for ``de_json`` (parsing needs no network, so it is never initialised)."""
    yield Bot(f"{BOT_ID}:TEST", request=FakeRequest(), get_updates_request=FakeRequest())


_ids = itertools.count(1)


def update(bot: Bot, **content: Any) -> Update:
    return Update.de_json({"update_id": next(_ids), **content}, bot)


def message(chat: dict, sender: dict | None, message_id: int = 100, **fields: Any) -> dict:
    data: dict[str, Any] = {"message_id": message_id, "date": DATE, "chat": chat, **fields}
    if sender is not None:
        data["from"] = sender
    return data


def member(status: str, user: dict, **extra: Any) -> dict:
    """A ``ChatMember`` object with every field the Bot API sends for its status."""
    data: dict[str, Any] = {"status": status, "user": user}
    if status == "administrator":
        data |= {
            "can_be_edited": False,
            "is_anonymous": False,
            **dict.fromkeys(ADMIN_RIGHTS, True),
        }
    elif status == "creator":
        data["is_anonymous"] = False
    elif status == "restricted":
        data |= {
            "is_member": True,
            "until_date": 0,
            **dict.fromkeys(RESTRICTED_PERMISSIONS, False),
        }
    elif status == "kicked":
        data["until_date"] = 0
    return data | extra


def change(chat: dict, by: dict, old: dict, new: dict) -> dict:
    return {"chat": chat, "from": by, "date": DATE, "old_chat_member": old, "new_chat_member": new}


# Refs ------------------------------------------------------------------------------------------


def test_chat_and_user_refs(bot: Bot) -> None:
    parsed = update(bot, message=message(ANNA_PRIVATE, ANNA, text="hallo")).message
    assert chat_ref(parsed.chat) == ChatRef(Platform.TELEGRAM, "11", ChatKind.PRIVATE, "Anna Alt")
    assert user_ref(parsed.from_user) == TG_ANNA


# Messages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chat", "expected"),
    [
        (SUPERGROUP, TG_GROUP),
        (BASIC_GROUP, ChatRef(Platform.TELEGRAM, "-4711", ChatKind.GROUP, "AG Alt")),
        (ANNA_PRIVATE, ChatRef(Platform.TELEGRAM, "11", ChatKind.PRIVATE, "Anna Alt")),
    ],
    ids=["supergroup", "group", "private"],
)
def test_text_message(bot: Bot, chat: dict, expected: ChatRef) -> None:
    [event] = update_events(update(bot, message=message(chat, ANNA, 57, text="/ziele")), BOT_ID)
    assert event == IncomingMessage(
        chat=expected, sender=TG_ANNA, text="/ziele", message_id="57", timestamp=WHEN
    )
    assert event.sender_is_admin is False  # the adapter decides that, not the converter


def test_sender_without_username_or_last_name(bot: Bot) -> None:
    [event] = update_events(update(bot, message=message(SUPERGROUP, BERND, text="Moin")), BOT_ID)
    assert event.sender == TG_BERND


def test_addressed_command_passes_through_unchanged(bot: Bot) -> None:
    text = "/beschluss@kuemmerer_unit_bot Treffen monatlich"
    entities = [{"type": "bot_command", "offset": 0, "length": 29}]
    [event] = update_events(
        update(bot, message=message(SUPERGROUP, ANNA, text=text, entities=entities)), BOT_ID
    )
    assert event.text == text


def test_reply_quotes_the_text_of_the_original(bot: Bot) -> None:
    original = message(SUPERGROUP, BERND, 40, text="Wir treffen uns monatlich.")
    [event] = update_events(
        update(bot, message=message(SUPERGROUP, ANNA, 41, text="/beschluss", reply_to_message=original)),
        BOT_ID,
    )
    assert event.reply_to == QuotedMessage("40", "Wir treffen uns monatlich.", TG_BERND)


def test_reply_to_a_photo_quotes_its_caption(bot: Bot) -> None:
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    original = message(SUPERGROUP, CARLA, 40, photo=photo, caption="Protokoll vom Montag")
    [event] = update_events(
        update(bot, message=message(SUPERGROUP, ANNA, 41, text="/beschluss", reply_to_message=original)),
        BOT_ID,
    )
    assert event.reply_to == QuotedMessage("40", "Protokoll vom Montag", TG_CARLA)


def test_reply_to_a_sticker_quotes_no_text(bot: Bot) -> None:
    original = message(SUPERGROUP, CARLA, 40, sticker=_sticker())
    [event] = update_events(
        update(bot, message=message(SUPERGROUP, ANNA, 41, text="/beschluss", reply_to_message=original)),
        BOT_ID,
    )
    assert event.reply_to == QuotedMessage("40", None, TG_CARLA)


def test_message_without_text_is_ignored(bot: Bot) -> None:
    assert update_events(update(bot, message=message(SUPERGROUP, ANNA, sticker=_sticker())), BOT_ID) == []


def test_photo_with_caption_is_ignored(bot: Bot) -> None:
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    data = message(SUPERGROUP, ANNA, photo=photo, caption="/ziele")
    assert update_events(update(bot, message=data), BOT_ID) == []


def test_edited_message_is_ignored(bot: Bot) -> None:
    edited = message(SUPERGROUP, ANNA, text="/beschluss geändert", edit_date=DATE + 60)
    assert update_events(update(bot, edited_message=edited), BOT_ID) == []


def test_channel_post_is_ignored(bot: Bot) -> None:
    channel = {"id": -1009999, "type": "channel", "title": "Neuigkeiten"}
    assert update_events(update(bot, channel_post=message(channel, None, text="/ziele")), BOT_ID) == []


# Service messages ------------------------------------------------------------------------------


def test_new_members_without_the_bot(bot: Bot) -> None:
    data = message(
        SUPERGROUP, ANNA, new_chat_members=[BERND, CARLA], new_chat_member=BERND, new_chat_participant=BERND
    )
    assert update_events(update(bot, message=data), BOT_ID) == [
        MemberJoined(TG_GROUP, (TG_BERND, TG_CARLA), WHEN)
    ]


def test_new_members_with_the_bot(bot: Bot) -> None:
    data = message(SUPERGROUP, ANNA, new_chat_members=[BOT_USER, CARLA])
    assert update_events(update(bot, message=data), BOT_ID) == [
        BotAdded(TG_GROUP, TG_ANNA, WHEN),
        MemberJoined(TG_GROUP, (TG_CARLA,), WHEN),
    ]


def test_only_the_bot_added(bot: Bot) -> None:
    data = message(SUPERGROUP, ANNA, new_chat_members=[BOT_USER])
    assert update_events(update(bot, message=data), BOT_ID) == [BotAdded(TG_GROUP, TG_ANNA, WHEN)]


def test_left_member(bot: Bot) -> None:
    data = message(SUPERGROUP, BERND, left_chat_member=BERND, left_chat_participant=BERND)
    assert update_events(update(bot, message=data), BOT_ID) == [MemberLeft(TG_GROUP, TG_BERND, WHEN)]


def test_the_bot_leaving_is_ignored(bot: Bot) -> None:
    data = message(SUPERGROUP, ANNA, left_chat_member=BOT_USER)
    assert update_events(update(bot, message=data), BOT_ID) == []


# chat_member -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (member("left", CARLA), member("member", CARLA), [MemberJoined(TG_GROUP, (TG_CARLA,), WHEN)]),
        (member("kicked", CARLA), member("member", CARLA), [MemberJoined(TG_GROUP, (TG_CARLA,), WHEN)]),
        (member("member", CARLA), member("left", CARLA), [MemberLeft(TG_GROUP, TG_CARLA, WHEN)]),
        (member("member", CARLA), member("kicked", CARLA), [MemberLeft(TG_GROUP, TG_CARLA, WHEN)]),
        (member("member", CARLA), member("administrator", CARLA), []),
        (member("administrator", CARLA), member("member", CARLA), []),
        (member("creator", CARLA), member("left", CARLA), [MemberLeft(TG_GROUP, TG_CARLA, WHEN)]),
        (
            member("left", CARLA),
            member("restricted", CARLA, is_member=True),
            [MemberJoined(TG_GROUP, (TG_CARLA,), WHEN)],
        ),
        (member("left", CARLA), member("restricted", CARLA, is_member=False), []),
        (member("member", CARLA), member("restricted", CARLA, is_member=True), []),
        (
            member("member", CARLA),
            member("restricted", CARLA, is_member=False),
            [MemberLeft(TG_GROUP, TG_CARLA, WHEN)],
        ),
        (
            member("restricted", CARLA, is_member=False),
            member("member", CARLA),
            [MemberJoined(TG_GROUP, (TG_CARLA,), WHEN)],
        ),
        (member("left", CARLA), member("left", CARLA), []),
    ],
    ids=[
        "left-member",
        "kicked-member",
        "member-left",
        "member-kicked",
        "member-admin",
        "admin-member",
        "creator-left",
        "left-restricted_in",
        "left-restricted_out",
        "member-restricted_in",
        "member-restricted_out",
        "restricted_out-member",
        "left-left",
    ],
)
def test_chat_member_transitions(bot: Bot, old: dict, new: dict, expected: list) -> None:
    assert update_events(update(bot, chat_member=change(SUPERGROUP, ANNA, old, new)), BOT_ID) == expected


def test_chat_member_change_of_the_bot_itself_is_ignored(bot: Bot) -> None:
    data = change(SUPERGROUP, ANNA, member("left", BOT_USER), member("member", BOT_USER))
    assert update_events(update(bot, chat_member=data), BOT_ID) == []


# my_chat_member --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("left", "member", [BotAdded(TG_GROUP, TG_ANNA, WHEN)]),
        ("kicked", "member", [BotAdded(TG_GROUP, TG_ANNA, WHEN)]),
        ("left", "administrator", [BotAdded(TG_GROUP, TG_ANNA, WHEN)]),
        ("member", "administrator", []),
        ("member", "left", []),
        ("administrator", "kicked", []),
    ],
)
def test_my_chat_member_in_a_group(bot: Bot, old: str, new: str, expected: list) -> None:
    data = change(SUPERGROUP, ANNA, member(old, BOT_USER), member(new, BOT_USER))
    assert update_events(update(bot, my_chat_member=data), BOT_ID) == expected


@pytest.mark.parametrize(("old", "new"), [("left", "member"), ("kicked", "member"), ("member", "kicked")])
def test_my_chat_member_in_a_private_chat_is_ignored(bot: Bot, old: str, new: str) -> None:
    data = change(ANNA_PRIVATE, ANNA, member(old, BOT_USER), member(new, BOT_USER))
    assert update_events(update(bot, my_chat_member=data), BOT_ID) == []


# Polls -----------------------------------------------------------------------------------------


def test_poll_answer(bot: Bot) -> None:
    data = {
        "poll_id": "5000000000000000001",
        "user": BERND,
        "option_ids": [0, 2],
        "option_persistent_ids": ["a", "c"],
    }
    assert update_events(update(bot, poll_answer=data), BOT_ID) == [
        PollAnswered(Platform.TELEGRAM, "5000000000000000001", TG_BERND, (0, 2))
    ]


def test_retracted_vote_has_no_options(bot: Bot) -> None:
    data = {"poll_id": "77", "user": BERND, "option_ids": [], "option_persistent_ids": []}
    assert update_events(update(bot, poll_answer=data), BOT_ID) == [
        PollAnswered(Platform.TELEGRAM, "77", TG_BERND, ())
    ]


def test_a_vote_cast_as_a_chat_is_not_attributed_to_a_user(bot: Bot) -> None:
    data = {
        "poll_id": "77",
        "voter_chat": SUPERGROUP,
        "user": CHANNEL_BOT,  # Telegram fills this in "for backward compatibility"
        "option_ids": [1],
        "option_persistent_ids": ["b"],
    }
    assert update_events(update(bot, poll_answer=data), BOT_ID) == []


def test_poll_state_update_is_ignored(bot: Bot) -> None:
    poll = {
        "id": "77",
        "question": "Wann?",
        "options": [{"text": "Mo", "voter_count": 1, "persistent_id": "a"}],
        "total_voter_count": 1,
        "is_closed": False,
        "is_anonymous": False,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": True,
        "members_only": False,
    }
    assert update_events(update(bot, poll=poll), BOT_ID) == []


def _sticker() -> dict:
    return {
        "file_id": "s1",
        "file_unique_id": "su1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    }
