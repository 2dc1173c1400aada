"""Tests for the fake Telegram Bot API in :mod:`tests.fakes.telegram_api`.

Most tests drive the fake with an unmodified python-telegram-bot ``Bot`` or
``Application`` over real HTTP, so they also prove that PTB can de-serialise
everything the fake answers. A few use a raw aiohttp client to pin down the
wire format. Nothing here sleeps for a fixed time: waits are event-driven and
bounded by timeouts; the only real delays are the server's own long-poll and
``Slow`` waits, kept to about a second.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from . import telegram_api as fake
from .telegram_api import FakeTelegramServer, UploadedFile

ALICE = 1001
BOB = 1002
CAROL = 1003
GROUP = -1001234567890
# Upper bound for every wait in this module; generous so slow CI never flakes.
TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations.

    Without it PTB 22 emits a PTBDeprecationWarning whenever it builds a
    ``RetryAfter`` (and on other duration attributes), which ``-W error``
    turns into a failure.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    """A running fake with two users and one supergroup."""
    async with FakeTelegramServer() as srv:
        srv.add_user(ALICE, "Alice", username="alice")
        srv.add_user(BOB, "Bob", username="bob_the_builder")
        srv.add_user(CAROL, "Carol")
        srv.add_chat(GROUP, "supergroup", "AG Garten")
        yield srv


@pytest_asyncio.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[telegram.Bot]:
    """An initialised PTB bot talking to the fake."""
    ptb_bot = telegram.Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url)
    async with ptb_bot:
        yield ptb_bot


# ---------------------------------------------------------------- basics


async def test_get_me_returns_bot_identity_and_records_token(
    server: FakeTelegramServer,
) -> None:
    async with telegram.Bot("123:any-token-works", base_url=server.base_url) as other_bot:
        me = await other_bot.get_me()

    assert me.id == server.bot_user.id
    assert me.is_bot
    assert me.username == "kuemmerer_test_bot"
    assert server.tokens_used == ["123:any-token-works"]
    method, params, timestamp = server.calls[0]
    assert (method, params) == ("getMe", {})
    assert timestamp <= time.monotonic()
    assert server.calls[0].status == 200


async def test_send_message_with_html_and_inline_keyboard(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ja", callback_data="vote:yes")],
            [InlineKeyboardButton("Website", url="https://example.org")],
        ]
    )

    message = await bot.send_message(
        GROUP,
        "  <b>Hallo</b> &amp; <i>willkommen, <u>Alice</u></i> 👋  ",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )

    assert message.text == "Hallo & willkommen, Alice 👋"
    assert message.chat.id == GROUP
    assert message.from_user is not None and message.from_user.id == server.bot_user.id
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 5),
        ("italic", 8, 17),
        ("underline", 20, 5),
    ]
    assert message.reply_markup == keyboard
    second = await bot.send_message(GROUP, "noch eine")
    assert second.message_id == message.message_id + 1

    sent = server.sent_messages(GROUP)
    assert [m["text"] for m in sent] == ["Hallo & willkommen, Alice 👋", "noch eine"]
    [call, _] = server.calls_to("sendMessage")
    # The raw request is kept as sent: HTML source and a decoded reply_markup.
    assert call.params["text"].startswith("  <b>Hallo</b>")
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "vote:yes"


async def test_html_and_limits_are_enforced_like_telegram(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    with pytest.raises(BadRequest, match='(?i)Unsupported start tag "admin" at byte offset 3'):
        await bot.send_message(GROUP, "Hi <Admin>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match='(?i)Unsupported start tag "" at byte offset 2'):
        await bot.send_message(GROUP, "1 < 2", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)Can't find end tag corresponding to start tag"):
        await bot.send_message(GROUP, "<b>offen", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)Message is too long"):
        await bot.send_message(GROUP, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)Message text is empty"):
        await bot.send_message(GROUP, "   ")
    with pytest.raises(BadRequest, match="(?i)Button_data_invalid"):
        await bot.send_message(
            GROUP,
            "zu lang",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]]),
        )

    assert server.sent_messages() == []
    assert (await bot.send_message(GROUP, "x" * 4096)).text == "x" * 4096


def test_html_parser_produces_telegram_entities() -> None:
    users = {ALICE: fake.FakeUser(ALICE, "Alice")}
    text, entities = fake._parse_html(
        '😀 <a href="https://x.org">Link</a> <a href="tg://user?id=1001">Alice</a> '
        '<pre><code class="language-python">print(1)</code></pre> '
        '<span class="tg-spoiler">geheim</span> &lt;tag&gt;',
        users,
    )

    assert text == "😀 Link Alice print(1) geheim <tag>"
    # The emoji counts as two UTF-16 code units, as in Telegram's offsets.
    assert entities == [
        {"type": "text_link", "url": "https://x.org", "offset": 3, "length": 4},
        {"type": "text_mention", "user": users[ALICE].to_api(), "offset": 8, "length": 5},
        {"type": "pre", "language": "python", "offset": 14, "length": 8},
        {"type": "spoiler", "offset": 23, "length": 6},
    ]


# ---------------------------------------------------------------- getUpdates


async def test_get_updates_offset_confirms_updates_for_good(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    first = server.inject_message(GROUP, ALICE, "eins")
    second = server.inject_message(GROUP, BOB, "zwei")
    third = server.inject_message(GROUP, ALICE, "drei")
    assert first["update_id"] < second["update_id"] < third["update_id"]

    # Without offset nothing is confirmed: the same updates come again.
    assert [u.update_id for u in await bot.get_updates()] == [
        first["update_id"],
        second["update_id"],
        third["update_id"],
    ]
    assert len(await bot.get_updates()) == 3

    confirmed = await bot.get_updates(offset=second["update_id"])
    assert [u.message.text for u in confirmed if u.message] == ["zwei", "drei"]
    # The first update is gone even for a later call without offset.
    assert [u.update_id for u in await bot.get_updates()] == [second["update_id"], third["update_id"]]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [second["update_id"]]

    assert await bot.get_updates(offset=third["update_id"] + 1) == ()
    assert server.pending_updates == []
    await server.wait_for_updates_consumed(timeout=TIMEOUT)


async def test_long_poll_is_woken_by_injected_message(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_for_calls("getUpdates", timeout=TIMEOUT)
    assert not poll.done()

    server.inject_message(GROUP, ALICE, "Guten Morgen")
    updates = await asyncio.wait_for(poll, TIMEOUT)

    assert [u.message.text for u in updates if u.message] == ["Guten Morgen"]
    # Far below the 30 s long-poll timeout: the injection woke the request.
    assert time.monotonic() - started < TIMEOUT
    assert server.calls_to("getUpdates")[0].params["timeout"] == 30


async def test_long_poll_without_updates_returns_empty_after_timeout(
    bot: telegram.Bot,
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_allowed_updates_are_persisted_and_filter_injections(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    # Telegram's default excludes chat_member: such updates never arrive.
    server.inject_chat_member(GROUP, CAROL, "left", "member")
    assert [u["update_id"] for u in server.dropped_updates] == [1]
    assert await bot.get_updates() == ()

    await bot.get_updates(allowed_updates=["message", "chat_member"])
    assert server.allowed_updates == ["message", "chat_member"]
    server.inject_chat_member(GROUP, CAROL, "member", "left")
    message_id = server.inject_message(GROUP, ALICE, "x")["message"]["message_id"]
    server.inject_callback_query(GROUP, ALICE, message_id, "not allowed")

    # The setting sticks for later calls that do not repeat it.
    updates = await bot.get_updates()
    assert [u.chat_member is not None for u in updates] == [True, False]  # member, message
    assert updates[0].chat_member is not None
    assert updates[0].chat_member.new_chat_member.status == "left"
    assert [u.get("callback_query") is not None for u in server.dropped_updates] == [False, True]


async def test_second_poller_terminates_the_first_with_conflict(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_for_calls("getUpdates", timeout=TIMEOUT)

    # A second Bot: PTB serialises get_updates of one Bot instance anyway.
    async with telegram.Bot(server.token, base_url=server.base_url) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, TIMEOUT)


async def test_webhook_blocks_get_updates_until_deleted(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    server.inject_message(GROUP, ALICE, "liegt an")
    assert await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret")
    assert server.webhook is not None
    assert server.webhook["url"] == "https://bot.example.org/hook"
    assert server.webhook["secret_token"] == "s3cret"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()

    assert await bot.delete_webhook(drop_pending_updates=True)
    assert server.webhook is None
    assert await bot.get_updates() == ()


# ---------------------------------------------------------------- methods


async def test_poll_roundtrip_with_answers_and_stop(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    message = await bot.send_poll(
        GROUP, "Treffen am Dienstag?", ["Ja", "Nein", "Enthaltung"], is_anonymous=False
    )
    assert message.poll is not None
    poll_id = message.poll.id
    assert [o.text for o in message.poll.options] == ["Ja", "Nein", "Enthaltung"]
    assert not message.poll.is_anonymous

    server.inject_poll_answer(poll_id, ALICE, [0])
    server.inject_poll_answer(poll_id, BOB, [1])
    server.inject_poll_answer(poll_id, BOB, [0])  # changed the vote
    updates = await bot.get_updates()
    answers = [u.poll_answer for u in updates if u.poll_answer]
    assert [(a.user.id, a.option_ids) for a in answers if a.user] == [(ALICE, (0,)), (BOB, (1,)), (BOB, (0,))]

    stopped = await bot.stop_poll(GROUP, message.message_id)
    assert stopped.is_closed
    assert [o.voter_count for o in stopped.options] == [2, 0, 0]
    assert stopped.total_voter_count == 2
    assert server.sent_messages(GROUP)[0]["poll"]["is_closed"]
    with pytest.raises(BadRequest, match="(?i)Poll has already been closed"):
        await bot.stop_poll(GROUP, message.message_id)
    with pytest.raises(ValueError, match="closed"):
        server.inject_poll_answer(poll_id, CAROL, [2])


async def test_send_document_with_bytes_then_download(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    content = b"Protokoll der AG Garten\n" * 100

    message = await bot.send_document(
        GROUP, content, filename="protokoll.txt", caption=" <b>Protokoll</b> ", parse_mode="HTML"
    )

    assert message.document is not None
    assert message.document.file_name == "protokoll.txt"
    assert message.document.file_size == len(content)
    assert message.caption == "Protokoll"
    assert message.caption_entities[0].type == "bold"
    [call] = server.calls_to("sendDocument")
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.data) == ("protokoll.txt", content)
    assert call.params["chat_id"] == GROUP  # multipart fields are decoded too

    file = await bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    # Re-sending by file_id reuses the stored file.
    again = await bot.send_document(BOB, message.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == message.document.file_unique_id
    with pytest.raises(BadRequest, match="(?i)Wrong file identifier"):
        await bot.send_document(GROUP, "no-such-file-id")


async def test_send_photo_with_bytes(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    message = await bot.send_photo(ALICE, b"\x89PNG fake image", caption="Beet")

    assert message.chat.type == "private"
    assert message.photo and message.photo[-1].file_size == len(b"\x89PNG fake image")
    assert message.caption == "Beet"
    assert server.sent_messages(ALICE)[0]["photo"][0]["file_id"] == message.photo[0].file_id


async def test_chat_administrators_and_member_status(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    server.set_admins(GROUP, [ALICE, server.bot_user.id], creator_id=BOB)

    owner, *admins = await bot.get_chat_administrators(GROUP)
    assert (type(owner).__name__, owner.user.id) == ("ChatMemberOwner", BOB)
    assert {(type(a).__name__, a.user.id) for a in admins} == {
        ("ChatMemberAdministrator", ALICE),
        ("ChatMemberAdministrator", server.bot_user.id),
    }
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, BOB)).status == "creator"
    assert (await bot.get_chat_member(GROUP, CAROL)).status == "member"

    server.set_admins(GROUP, [CAROL])
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "member"
    assert [a.user.id for a in await bot.get_chat_administrators(GROUP)] == [CAROL]
    server.set_member_status(GROUP, ALICE, "restricted")
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "restricted"
    with pytest.raises(BadRequest, match="(?i)User not found"):
        await bot.get_chat_member(GROUP, 999)
    with pytest.raises(BadRequest, match="(?i)no administrators in the private chat"):
        await bot.get_chat_administrators(ALICE)


async def test_edit_message_and_callback_query(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    message = await bot.send_message(GROUP, "Bitte bestätigen", reply_markup=keyboard)

    injected = server.inject_callback_query(GROUP, ALICE, message.message_id, "ok")
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "ok"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == message.message_id
    query_id = injected["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="Danke!")
    assert server.callback_answers[query_id]["text"] == "Danke!"
    with pytest.raises(BadRequest, match="(?i)query id is invalid"):
        await bot.answer_callback_query(query_id)

    edited = await bot.edit_message_text("Bestätigt", GROUP, message.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Bestätigt"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # omitting reply_markup removes the keyboard
    with pytest.raises(BadRequest, match="(?i)Message is not modified"):
        await bot.edit_message_text("Bestätigt", GROUP, message.message_id)

    restored = await bot.edit_message_reply_markup(GROUP, message.message_id, reply_markup=keyboard)
    assert isinstance(restored, telegram.Message)
    assert restored.reply_markup == keyboard
    assert server.sent_messages(GROUP)[0]["text"] == "Bestätigt"
    with pytest.raises(BadRequest, match="(?i)Message to edit not found"):
        await bot.edit_message_text("weg", GROUP, 999)

    user_message = server.inject_message(GROUP, ALICE, "meins")["message"]
    with pytest.raises(BadRequest, match="(?i)Message can't be edited"):
        await bot.edit_message_text("fremd", GROUP, user_message["message_id"])


async def test_commands_chat_action_get_chat_and_leave_chat(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    assert await bot.set_my_commands([("start", "Loslegen"), ("ziele", "Ziele zeigen")])
    assert await bot.set_my_commands(
        [("hilfe", "Help")], scope=telegram.BotCommandScopeAllGroupChats(), language_code="de"
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "ziele"]
    assert server.get_commands({"type": "all_group_chats"}, "de") == [
        {"command": "hilfe", "description": "Help"}
    ]
    with pytest.raises(BadRequest, match="(?i)Bot_command_invalid"):
        await bot.set_my_commands([("Start", "Großbuchstaben sind verboten")])
    assert await bot.delete_my_commands()
    assert server.get_commands() == []

    assert await bot.send_chat_action(GROUP, "typing")
    assert server.calls_to("sendChatAction")[0].params["action"] == "typing"
    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.type, chat.title) == (GROUP, "supergroup", "AG Garten")

    assert await bot.leave_chat(GROUP)
    with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
        await bot.send_message(GROUP, "noch da?")


async def test_injected_service_updates_deserialise(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    await bot.get_updates(allowed_updates=Update.ALL_TYPES)
    original = server.inject_message(GROUP, ALICE, "Frage")["message"]
    server.inject_message(GROUP, BOB, "Antwort", reply_to_message_id=original["message_id"])
    server.inject_new_members(GROUP, [CAROL, server.bot_user.id], by_user_id=ALICE)
    server.inject_left_member(GROUP, CAROL)
    server.inject_chat_member(GROUP, CAROL, "member", "kicked", by_user_id=ALICE)
    server.inject_my_chat_member(GROUP, ALICE, "member", "administrator")
    server.inject_message(ALICE, ALICE, "/start")  # private chat created on demand

    updates = await bot.get_updates()

    assert len(updates) == 7
    reply = updates[1].message
    assert reply is not None and reply.reply_to_message is not None
    assert reply.reply_to_message.text == "Frage"
    joined = updates[2].message
    assert joined is not None
    assert [u.id for u in joined.new_chat_members] == [CAROL, server.bot_user.id]
    assert updates[3].message is not None and updates[3].message.left_chat_member is not None
    kicked = updates[4].chat_member
    assert kicked is not None
    assert (kicked.from_user.id, kicked.new_chat_member.status) == (ALICE, "kicked")
    promoted = updates[5].my_chat_member
    assert promoted is not None
    assert promoted.new_chat_member.status == "administrator"
    assert (await bot.get_chat_member(GROUP, server.bot_user.id)).status == "administrator"
    private = updates[6].message
    assert private is not None
    assert private.chat.type == "private"
    assert private.entities[0].type == "bot_command"


async def test_unknown_chats_and_blocked_users(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    server.block_private(ALICE)
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(ALICE, "Hallo")
    server.unblock_private(ALICE)
    assert (await bot.send_message(ALICE, "Hallo")).chat.id == ALICE

    server.inject_my_chat_member(BOB, BOB, "member", "kicked")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(BOB, "Hallo")

    with pytest.raises(BadRequest, match="(?i)Chat not found"):
        await bot.send_message(-42, "niemand da")
    server.remove_chat(GROUP, kicked=True)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(GROUP, "Hallo")
    server.remove_chat(GROUP)
    with pytest.raises(BadRequest, match="(?i)Chat not found"):
        await bot.send_message(GROUP, "Hallo")
    assert [m["chat"]["id"] for m in server.sent_messages()] == [ALICE]


# ---------------------------------------------------------------- faults


async def test_retry_after_surfaces_as_ptb_retry_after(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    server.fail_next("sendMessage", 1, fake.RetryAfter(7))

    with pytest.raises(telegram.error.RetryAfter) as caught:
        await bot.send_message(GROUP, "zu schnell")

    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert server.sent_messages() == []
    assert (await bot.send_message(GROUP, "jetzt")).text == "jetzt"
    assert [c.status for c in server.calls_to("sendMessage")] == [429, 200]


async def test_bad_gateway_surfaces_as_network_error(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    server.fail_next("getChat", 2, fake.ServerError(502))

    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway") as caught:
            await bot.get_chat(GROUP)
        assert type(caught.value) is NetworkError
    assert (await bot.get_chat(GROUP)).id == GROUP


async def test_dropped_connection_surfaces_as_network_error(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    server.fail_next("sendMessage", 1, fake.Drop())
    server.fail_next("sendMessage", 1, fake.Drop(after_processing=True))

    with pytest.raises(NetworkError):
        await bot.send_message(GROUP, "verloren")
    assert server.sent_messages() == []
    with pytest.raises(NetworkError):
        await bot.send_message(GROUP, "angekommen, Antwort verloren")
    # The dangerous case: the message exists although the client saw an error.
    assert [m["text"] for m in server.sent_messages()] == ["angekommen, Antwort verloren"]
    assert [c.status for c in server.calls_to("sendMessage")] == [None, None]


async def test_slow_answer_times_out_client_but_is_processed(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    server.fail_next("sendMessage", 1, fake.Slow(1.0))

    with pytest.raises(TimedOut):
        await bot.send_message(GROUP, "langsam", read_timeout=0.1)

    [message] = await server.wait_for_messages(GROUP, 1, timeout=TIMEOUT)
    assert message["text"] == "langsam"


async def test_api_error_fault_and_wildcard(server: FakeTelegramServer, bot: telegram.Bot) -> None:
    server.fail_next("*", 1, fake.ApiError(400, "Bad Request: something odd"))
    server.fail_next("getChat", 1, fake.RetryAfter(1))

    with pytest.raises(telegram.error.RetryAfter):
        await bot.get_chat(GROUP)  # the method's own fault wins over "*"
    with pytest.raises(BadRequest, match="(?i)Something odd"):
        await bot.get_chat(GROUP)
    assert (await bot.get_chat(GROUP)).id == GROUP

    server.fail_next("sendMessage", 3, fake.ServerError())
    server.clear_faults()
    assert (await bot.send_message(GROUP, "ok")).text == "ok"


# ---------------------------------------------------------------- wire format


async def test_wire_format_with_a_raw_http_client(server: FakeTelegramServer) -> None:
    base = f"{server.base_url}{server.token}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
        async with http.post(f"{base}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}

        # JSON body with chat_id as a string, method name in another case.
        payload = {"chat_id": str(GROUP), "text": "42"}
        async with http.post(f"{base}/SENDMESSAGE", json=payload) as r:
            body = await r.json()
            assert body["ok"] is True
            assert body["result"]["text"] == "42"

        # Form body: a numeric-looking text must stay a string.
        async with http.post(f"{base}/sendMessage", data={"chat_id": GROUP, "text": "7"}) as r:
            assert (await r.json())["result"]["text"] == "7"

        # GET with a query string.
        async with http.get(f"{base}/getChat", params={"chat_id": GROUP}) as r:
            assert (await r.json())["result"]["title"] == "AG Garten"

        server.fail_next("getMe", 1, fake.RetryAfter(3))
        async with http.post(f"{base}/getMe") as r:
            assert r.status == 429
            assert await r.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            }

        server.fail_next("getMe", 1, fake.ServerError(502))
        async with http.post(f"{base}/getMe") as r:
            assert r.status == 502
            assert r.content_type == "text/html"
            assert "Bad Gateway" in await r.text()

        server.fail_next("getMe", 1, fake.Drop())
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with http.post(f"{base}/getMe"):
                pass

    assert [call.method for call in server.calls][:2] == ["noSuchMethod", "sendMessage"]
    assert server.calls[1].params == {"chat_id": str(GROUP), "text": "42"}


async def test_stop_ends_pending_long_poll_and_restart_keeps_url(
    server: FakeTelegramServer,
) -> None:
    url = f"{server.base_url}{server.token}/getUpdates"
    base_url = server.base_url
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
        request = asyncio.create_task(http.post(url, json={"timeout": 30}))
        await server.wait_for_calls("getUpdates", timeout=TIMEOUT)
        started = time.monotonic()
        await asyncio.wait_for(server.stop(), TIMEOUT)
        assert time.monotonic() - started < TIMEOUT
        response = await asyncio.wait_for(request, TIMEOUT)
        assert await response.json() == {"ok": True, "result": []}
        response.release()

        await server.start()
        assert server.base_url == base_url
        async with http.post(url) as again:
            assert (await again.json())["ok"] is True


async def test_wait_for_messages_reports_what_arrived_on_timeout(
    server: FakeTelegramServer, bot: telegram.Bot
) -> None:
    await bot.send_message(GROUP, "nur eine")

    with pytest.raises(TimeoutError, match=r"got 1: \['nur eine'\]"):
        await server.wait_for_messages(GROUP, 2, timeout=0.2)


# ---------------------------------------------------------------- Application


async def test_application_polls_handles_and_replies(server: FakeTelegramServer) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Echo: {update.effective_message.text}")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Willkommen!")

    app: Application = (  # type: ignore[type-arg]
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .job_queue(None)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    await app.initialize()
    try:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=10, allowed_updates=Update.ALL_TYPES)
        update = server.inject_message(GROUP, ALICE, "Hallo Bot")

        [reply] = await server.wait_for_messages(GROUP, 1, timeout=TIMEOUT)
        assert reply["text"] == "Echo: Hallo Bot"
        # reply_text quotes in groups, so the reply references the original.
        assert reply["reply_to_message"]["message_id"] == update["message"]["message_id"]

        server.inject_message(GROUP, BOB, "/start@kuemmerer_test_bot")
        sent = await server.wait_for_messages(GROUP, 2, timeout=TIMEOUT)
        assert sent[-1]["text"] == "Willkommen!"
    finally:
        if app.updater is not None and app.updater.running:
            await asyncio.wait_for(app.updater.stop(), TIMEOUT)
        if app.running:
            await asyncio.wait_for(app.stop(), TIMEOUT)
        await asyncio.wait_for(app.shutdown(), TIMEOUT)

    # The final getUpdates of Updater.stop() confirmed everything.
    assert server.pending_updates == []
    assert server.calls_to("deleteWebhook")
    assert server.allowed_updates == list(Update.ALL_TYPES)
