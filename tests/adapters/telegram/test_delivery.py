"""Delivery through the durable outbox: restarts, flood control, limits, failures, webhook."""

from __future__ import annotations

import json
import socket
import time

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import Application
from bot.core.events import Button, ChatKind, ChatRef, OutgoingMessage, Platform
from bot.core.markup import Markup
from bot.core.ports import SystemClock
from storage.models import Chat, Decision, OutboxMessage, OutboxStatus
from tests.adapters.telegram.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, stop
from tests.adapters.telegram.test_e2e import say
from tests.fakes.telegram_api import ApiError, RetryAfter, ServerError

GROUP_REF = ChatRef(Platform.TELEGRAM, str(GROUP), ChatKind.GROUP)


def private_ref(user: int) -> ChatRef:
    return ChatRef(Platform.TELEGRAM, str(user), ChatKind.PRIVATE)


async def outbox(database) -> list[OutboxMessage]:
    async with database.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_unsent_messages_are_delivered_after_a_restart(server, make_bot, database) -> None:
    # Written while no Telegram adapter runs (e.g. by a linked console chat, or before a crash).
    offline = Application(database, clock=SystemClock())
    await offline.outbox.send_now(
        [OutgoingMessage(GROUP_REF, Markup().line(f"Nachricht {n}")) for n in range(3)]
    )
    assert [r.status for r in await outbox(database)] == [OutboxStatus.PENDING] * 3

    # A bot whose sends fail is stopped with the messages still pending ...
    server.fail_next("sendMessage", times=100, kind=ServerError(502))
    first = await make_bot()
    await server.wait_for_calls("sendMessage", 1, timeout=10)
    await stop(first)
    assert {r.status for r in await outbox(database)} == {OutboxStatus.PENDING}

    # ... and the next start delivers each of them exactly once, in order.
    server.clear_faults()
    second = await make_bot()
    await server.wait_for_messages(GROUP, 3, timeout=10)
    await second.app.outbox.drain()
    assert [m["text"] for m in server.sent_messages(GROUP)] == ["Nachricht 0", "Nachricht 1", "Nachricht 2"]
    assert [r.status for r in await outbox(database)] == [OutboxStatus.SENT] * 3


async def test_a_429_storm_delays_but_loses_and_duplicates_nothing(server, make_bot) -> None:
    bot = await make_bot()
    await say(server, GROUP, ADMIN, "/ag anlegen AG")
    server.fail_next("sendMessage", times=6, kind=RetryAfter(3))
    for n in range(4):
        server.inject_message(GROUP, ADMIN, f"/beschluss Beschluss {n}")
    await server.wait_for_messages(GROUP, 5, timeout=15)
    await bot.app.outbox.drain()
    texts = [m["text"] for m in server.sent_messages(GROUP)[1:]]
    assert [t.split("\n")[-1] for t in texts] == [f"Beschluss {n}" for n in range(4)]
    assert bot.sleep.waits.count(3.0) == 6  # every retry_after was honoured
    assert len(server.calls_to("sendMessage")) == 5 + 6


async def test_a_flood_in_one_group_does_not_delay_a_private_reply(server, make_bot) -> None:
    bot = await make_bot(real_sleep=True, rate_limits=True, group_messages_per_minute=20)
    await say(server, GROUP, ADMIN, "/ag anlegen AG")
    for n in range(30):
        server.inject_message(GROUP, MEMBER, f"/beschluss {n}")  # each answer: a refusal
    await server.wait_for_messages(GROUP, 20, timeout=10)
    started = time.monotonic()
    server.inject_message(NEWCOMER, NEWCOMER, "/start")
    await server.wait_for_messages(NEWCOMER, 1, timeout=10)
    delay = time.monotonic() - started
    assert delay < 1.0, f"private reply took {delay:.2f} s"
    # The group stayed within 20 messages per minute; the rest wait in the outbox.
    assert len(server.sent_messages(GROUP)) == 20
    rows = await outbox(bot.app.db)
    pending = [r for r in rows if r.status is OutboxStatus.PENDING and r.chat_id == str(GROUP)]
    assert len(pending) == 11


async def test_private_message_to_someone_who_never_started_the_bot(server, make_bot, database) -> None:
    bot = await make_bot()
    server.block_private(NEWCOMER)
    note = OutgoingMessage(
        GROUP_REF,
        Markup().line("Carla, ich habe dir etwas geschickt."),
        buttons=[[Button("Privat öffnen", start_payload="brief-7")]],
    )
    await bot.app.outbox.send_now(
        [OutgoingMessage(private_ref(NEWCOMER), Markup().line("Dein Brief"), fallback=note)]
    )
    [sent] = await server.wait_for_messages(GROUP, 1, timeout=10)
    await bot.app.outbox.drain()
    [[button]] = sent["reply_markup"]["inline_keyboard"]
    assert button["url"] == "https://t.me/kuemmerer_test_bot?start=brief-7"
    rows = await outbox(database)
    assert rows[0].status is OutboxStatus.FAILED and "forbidden" in rows[0].error
    assert rows[1].status is OutboxStatus.SENT
    assert server.sent_messages(NEWCOMER) == []


async def test_removed_chat_fails_for_good(server, make_bot, database) -> None:
    bot = await make_bot()
    server.remove_chat(GROUP, kicked=True)
    await bot.app.outbox.send_now([OutgoingMessage(GROUP_REF, Markup().line("Hallo?"))])
    await bot.app.outbox.drain()
    [row] = await outbox(database)
    assert row.status is OutboxStatus.FAILED and "kicked" in row.error
    assert len(server.calls_to("sendMessage")) == 1  # not retried


async def test_long_messages_are_split_at_paragraphs(server, make_bot) -> None:
    bot = await make_bot()
    markup = Markup()
    for n in range(3):
        markup.line(f"Absatz {n}: " + "wort " * 600).blank()
    message = OutgoingMessage(GROUP_REF, markup, buttons=[[Button("Weiter", command="/hilfe")]])
    await bot.app.outbox.send_now([message])
    sent = await server.wait_for_messages(GROUP, 3, timeout=10)
    assert [m["text"].split(":")[0] for m in sent] == ["Absatz 0", "Absatz 1", "Absatz 2"]
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert "reply_markup" not in sent[0] and sent[2]["reply_markup"]["inline_keyboard"]


async def test_long_button_commands_survive_the_64_byte_limit(server, make_bot) -> None:
    bot = await make_bot()
    await say(server, GROUP, ADMIN, "/ag anlegen AG")
    term = "Bürgerengagement" * 3
    for n in range(12):
        await say(server, GROUP, ADMIN, f"/beschluss {term} {n}")
    await say(server, GROUP, ADMIN, f"/beschluesse {term}")
    listing = server.sent_messages(GROUP)[-1]
    [[button]] = listing["reply_markup"]["inline_keyboard"]
    assert len(button["callback_data"].encode()) <= 64
    before = len(server.sent_messages(GROUP))
    server.inject_callback_query(GROUP, ADMIN, listing["message_id"], button["callback_data"])
    page = (await server.wait_for_messages(GROUP, before + 1, timeout=10))[-1]
    assert "Seite 2 von 2" in page["text"]
    await bot.app.outbox.drain()


async def test_group_upgraded_to_supergroup_is_followed(server, make_bot, database) -> None:
    old, new = -555, -1005550
    server.add_chat(old, type="group", title="Alte Gruppe")
    server.add_chat(new, type="supergroup", title="Alte Gruppe")
    server.set_admins(old, [ADMIN])
    bot = await make_bot()
    await say(server, old, ADMIN, "/ag anlegen AG")
    server.fail_next(
        "sendMessage",
        kind=ApiError(
            400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new}
        ),
    )
    server.inject_message(old, ADMIN, "/beschluss Nach dem Umzug")
    [moved] = await server.wait_for_messages(new, 1, timeout=10)
    assert "Beschluss Nr. 1" in moved["text"]
    await bot.app.outbox.drain()
    async with database.transaction() as session:
        chat = await session.scalar(select(Chat).where(Chat.external_id == str(new)))
    assert chat is not None and chat.group_id is not None


async def test_an_update_handled_before_a_crash_is_not_handled_again(server, make_bot, database) -> None:
    bot = await make_bot()
    await say(server, GROUP, ADMIN, "/ag anlegen AG")
    update = server.inject_message(GROUP, ADMIN, "/beschluss Einmal")
    await server.wait_for_messages(GROUP, 2, timeout=10)
    await stop(bot)
    # Telegram may deliver an update again when the bot died before confirming it.
    again = await make_bot()
    from telegram import Update

    await again.adapter._on_update(Update.de_json(update, again.adapter.ptb.bot), None)
    async with database.transaction() as session:
        assert len(list(await session.scalars(select(Decision)))) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_verifies_the_secret(server, make_bot, database) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    await make_bot(mode="webhook", webhook_url=url, webhook_secret="s3cret", webhook_port=port)
    assert server.webhook["url"] == url and server.webhook["secret_token"] == "s3cret"
    update = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": 1790000000,
            "chat": {"id": GROUP, "type": "supergroup", "title": "AG Bildung"},
            "from": {"id": ADMIN, "is_bot": False, "first_name": "Anna", "username": "anna"},
            "text": "/ag anlegen Webhook-AG",
            "entities": [{"type": "bot_command", "offset": 0, "length": 3}],
        },
    }
    async with aiohttp.ClientSession() as http:
        wrong = await http.post(
            url,
            data=json.dumps(update),
            headers={"X-Telegram-Bot-Api-Secret-Token": "nope", "Content-Type": "application/json"},
        )
        assert wrong.status == 403
        right = await http.post(
            url,
            data=json.dumps(update),
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret", "Content-Type": "application/json"},
        )
        assert right.status == 200
    [created] = await server.wait_for_messages(GROUP, 1, timeout=10)
    assert "Webhook-AG ist als AG angelegt" in created["text"]


@pytest.mark.parametrize("mode", ["polling"])
async def test_stop_leaves_nothing_running(server, make_bot, mode) -> None:
    bot = await make_bot()
    await stop(bot)
    assert not bot.adapter.ptb.running
