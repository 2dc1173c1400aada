"""TelegramAdapter on the in-process fake transport: checkpoints, admin status, join
de-duplication, the commands menu and send limits.

The adapter is started for real (getMe, setMyCommands, deleteWebhook, then long polling against
the fake ``getUpdates``, which waits without a timer); most tests hand updates straight to
``_on_update`` so that their order and timing are exact.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram import Update
from telegram.error import NetworkError, TimedOut

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.adapter import ALLOWED_UPDATES
from bot.app import Application
from bot.config import TelegramSection
from bot.core.events import BotAdded, Event, IncomingMessage, MemberJoined
from bot.core.i18n import Translator
from bot.core.startup import EXIT_CONFIG, EXIT_UNAVAILABLE, StartupError
from bot.core.throttle import RateLimit, SendLimits
from storage.repositories import StateRepository
from tests.adapters.telegram.fake_request import ANONYMOUS_ADMIN, FakeRequest, bad_gateway, forbidden
from tests.adapters.telegram.test_convert import (
    ANNA,
    BERND,
    BOT_USER,
    CARLA,
    CHANNEL_BOT,
    SUPERGROUP,
    change,
    member,
    message,
)

TOKEN = "123456:TEST"
STATE_KEY = "telegram:123456:last_update_id"
GROUP_ID = SUPERGROUP["id"]
OTHER_GROUP = {"id": -1002000, "type": "supergroup", "title": "AG Engagement"}
DORA = {"id": 44, "is_bot": False, "first_name": "Dora"}
ANNA_PRIVATE = {"id": ANNA["id"], "type": "private", "first_name": "Anna", "username": "anna"}


@dataclass
class Running:
    """A started adapter, its two fake transports and the events that reached the application."""

    app: Application
    adapter: TelegramAdapter
    api: FakeRequest
    updates: FakeRequest
    events: list[Event] = field(default_factory=list)
    handled: asyncio.Event = field(default_factory=asyncio.Event)

    async def feed(self, update_id: int, **content: Any) -> None:
        """Hand one update to the adapter the way PTB's dispatcher does."""
        update = Update.de_json({"update_id": update_id, **content}, self.adapter.ptb.bot)
        await self.adapter._on_update(update, None)  # the context is not used

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
async def make_adapter(
    app: Application, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """Factory for a started adapter on fake transports; stopped after the test."""
    started: list[Running] = []
    original = app.handle

    async def make(**settings: Any) -> Running:
        settings.setdefault("rate_limits", False)
        api, updates = FakeRequest(), FakeRequest()
        config = TelegramSection(token=TOKEN, **settings)
        adapter = TelegramAdapter(app, config, request=api, updates_request=updates)
        running = Running(app, adapter, api, updates)

        async def recording_handle(event: Event, *, checkpoint: tuple[str, str] | None = None) -> None:
            running.events.append(event)
            await original(event, checkpoint=checkpoint)
            running.handled.set()

        monkeypatch.setattr(app, "handle", recording_handle)
        started.append(running)
        await adapter.start()
        return running

    yield make
    for running in started:
        await asyncio.wait_for(app.outbox.drain(), timeout=10)
        await running.adapter.stop()
    await app.stop()


async def until(condition: Callable[[], object], turns: int = 100) -> None:
    """Let other tasks run (without sleeping) until ``condition`` holds."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def stored_checkpoint(app: Application) -> str | None:
    async with app.db.transaction() as session:
        return await StateRepository(session).get(STATE_KEY)


def text_message(chat: dict, sender: dict, text: str, message_id: int = 100, **fields: Any) -> dict:
    return message(chat, sender, message_id, text=text, **fields)


# Start -----------------------------------------------------------------------------------------


async def test_start_logs_in_and_long_polls_for_member_updates(make_adapter) -> None:
    running = await make_adapter(poll_timeout=25)
    assert (running.adapter.bot_id, running.adapter.username) == (123456, "kuemmerer_unit_bot")
    assert [c.method for c in running.api.calls_to("getMe")] == ["getMe"]
    assert running.api.calls_to("deleteWebhook")
    await until(lambda: running.updates.calls_to("getUpdates"))  # the polling task's first request
    [poll] = running.updates.calls_to("getUpdates")
    # Telegram sends chat_member updates only when they are asked for explicitly.
    assert poll.params["allowed_updates"] == ALLOWED_UPDATES and "chat_member" in ALLOWED_UPDATES
    assert poll.params["timeout"] == 25


def unstarted(app: Application, **settings: Any) -> tuple[TelegramAdapter, FakeRequest, list[float]]:
    """An adapter that is not started yet, its API transport and the waits of its start's backoff."""
    api = FakeRequest()
    config = TelegramSection(token=TOKEN, rate_limits=False, **settings)
    adapter = TelegramAdapter(app, config, request=api, updates_request=FakeRequest())
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    adapter._sleep = sleep
    return adapter, api, waits


async def test_an_unreachable_bot_api_at_start_is_retried_with_backoff(app, caplog) -> None:
    adapter, api, waits = unstarted(app)
    api.queue("getMe", NetworkError("httpx.ConnectError: refused"), TimedOut(), bad_gateway())
    with caplog.at_level(logging.WARNING, logger="bot.adapters.telegram.adapter"):
        await adapter.start()
    try:
        assert waits == [1.0, 2.0, 4.0]
        assert len(api.calls_to("getMe")) == 4 and adapter.username == "kuemmerer_unit_bot"
        retries = [r.getMessage() for r in caplog.records if "unreachable at start" in r.getMessage()]
        assert [line.split("; ")[1] for line in retries] == [
            "attempt 1, next in 1 s",
            "attempt 2, next in 2 s",
            "attempt 3, next in 4 s",
        ]
    finally:
        await adapter.stop()


async def test_the_start_gives_up_when_start_timeout_is_used_up(app) -> None:
    adapter, api, waits = unstarted(app, start_timeout=10)
    api.queue("getMe", *(NetworkError("httpx.ConnectError: refused") for _ in range(10)))
    with pytest.raises(StartupError) as caught:
        await adapter.start()
    assert caught.value.status == EXIT_UNAVAILABLE
    assert waits == [1.0, 2.0, 4.0, 3.0]  # the last wait is cut to what is left of the 10 s
    assert "after 5 attempts" in str(caught.value) and "\n" not in str(caught.value)


async def test_a_flood_wait_at_start_waits_as_told(app) -> None:
    adapter, api, waits = unstarted(app)
    api.queue_error("getMe", 429, "Too Many Requests: retry after 7", retry_after=7)
    await adapter.start()
    try:
        assert waits == [7.0]
    finally:
        await adapter.stop()


@pytest.mark.parametrize("status", [401, 404])
async def test_a_rejected_token_ends_the_start_at_once(app, status) -> None:
    adapter, api, waits = unstarted(app)
    api.queue_error("getMe", status, "Unauthorized" if status == 401 else "Not Found")
    with pytest.raises(StartupError) as caught:
        await adapter.start()
    assert caught.value.status == EXIT_CONFIG and waits == []
    # PTB's own message quotes the token; the operator's line must not.
    assert TOKEN not in str(caught.value) and "[telegram] token" in str(caught.value)


async def test_an_outage_right_after_get_me_is_one_startup_error(app) -> None:
    adapter, api, _ = unstarted(app)
    api.raise_next("deleteWebhook", NetworkError("httpx.ConnectError: refused"))
    with pytest.raises(StartupError) as caught:
        await adapter.start()
    assert caught.value.status == EXIT_UNAVAILABLE
    assert api.shut_down  # the transports were released again


async def test_stop_shuts_the_transports_down(make_adapter) -> None:
    running = await make_adapter()
    await running.adapter.stop()
    assert running.api.shut_down == running.updates.shut_down == 1
    assert not running.adapter.ptb.running and running.adapter._closed.is_set()


async def test_updates_fetched_by_polling_reach_the_application(make_adapter, app) -> None:
    running = await make_adapter()
    running.updates.push_update({"update_id": 500, "message": text_message(ANNA_PRIVATE, ANNA, "/start")})
    await asyncio.wait_for(running.handled.wait(), timeout=10)
    [event] = running.events
    assert isinstance(event, IncomingMessage) and event.text == "/start"
    assert await stored_checkpoint(app) == "500"


# Checkpoints -----------------------------------------------------------------------------------


async def test_updates_up_to_the_stored_checkpoint_are_skipped(make_adapter, app) -> None:
    async with app.db.transaction() as session:
        await StateRepository(session).set(STATE_KEY, "10", app.clock.now())
    running = await make_adapter()
    for update_id in (9, 10, 11):
        await running.feed(update_id, message=text_message(SUPERGROUP, BERND, f"/ziele {update_id}"))
    assert [e.text for e in running.events] == ["/ziele 11"]
    assert await stored_checkpoint(app) == "11"


async def test_a_handled_update_is_checkpointed_and_not_handled_again(make_adapter, app) -> None:
    running = await make_adapter()
    assert await stored_checkpoint(app) is None
    await running.feed(1, message=text_message(SUPERGROUP, BERND, "/ziele"))  # answered: an effect
    assert await stored_checkpoint(app) == "1"
    await running.feed(1, message=text_message(SUPERGROUP, BERND, "/ziele"))  # delivered again
    await running.feed(2, edited_message=text_message(SUPERGROUP, BERND, "/ziele!", edit_date=1795251700))
    await running.feed(2, edited_message=text_message(SUPERGROUP, BERND, "/ziele!", edit_date=1795251700))
    await running.feed(3, message=text_message(ANNA_PRIVATE, ANNA, "/hilfe"))
    assert [e.text for e in running.events] == ["/ziele", "/hilfe"]
    assert await stored_checkpoint(app) == "3"
    await asyncio.wait_for(app.outbox.drain(), timeout=10)
    assert len(running.api.calls_to("sendMessage")) == 2  # one answer per handled command


# Admin status ----------------------------------------------------------------------------------


async def test_admin_status_comes_from_telegram_and_is_cached(make_adapter) -> None:
    running = await make_adapter()
    running.api.set_admins(GROUP_ID, ANNA["id"])
    await running.feed(1, message=text_message(SUPERGROUP, ANNA, "/ziele"))
    await running.feed(2, message=text_message(SUPERGROUP, BERND, "/ziele@kuemmerer_unit_bot"))
    await running.feed(3, message=text_message(SUPERGROUP, BERND, "Nur eine Nachricht"))
    assert [e.sender_is_admin for e in running.events] == [True, False, False]
    [lookup] = running.api.calls_to("getChatAdministrators")
    assert int(lookup.params["chat_id"]) == GROUP_ID


async def test_a_chat_member_update_invalidates_the_admin_cache(make_adapter) -> None:
    running = await make_adapter()
    running.api.set_admins(GROUP_ID, ANNA["id"])
    await running.feed(1, message=text_message(SUPERGROUP, BERND, "/ziele"))
    running.api.set_admins(GROUP_ID, ANNA["id"], BERND["id"])
    await running.feed(2, message=text_message(SUPERGROUP, BERND, "/ziele"))  # still cached
    await running.feed(
        3, chat_member=change(SUPERGROUP, ANNA, member("member", BERND), member("administrator", BERND))
    )
    await running.feed(4, message=text_message(SUPERGROUP, BERND, "/ziele"))
    commands = running.of_type(IncomingMessage)
    assert [e.sender_is_admin for e in commands] == [False, False, True]
    assert len(running.api.calls_to("getChatAdministrators")) == 2


async def test_admins_are_cached_per_chat(make_adapter) -> None:
    running = await make_adapter()
    running.api.set_admins(GROUP_ID, ANNA["id"])
    running.api.set_admins(OTHER_GROUP["id"], BERND["id"])
    await running.feed(1, message=text_message(SUPERGROUP, ANNA, "/ziele"))
    await running.feed(2, message=text_message(OTHER_GROUP, ANNA, "/ziele"))
    assert [e.sender_is_admin for e in running.events] == [True, False]
    assert len(running.api.calls_to("getChatAdministrators")) == 2


async def test_anonymous_admin_counts_as_admin(make_adapter) -> None:
    running = await make_adapter()
    running.api.set_admins(GROUP_ID, ANNA["id"])
    await running.feed(
        1,
        message=text_message(
            SUPERGROUP, ANONYMOUS_ADMIN, "/beschluss Treffen monatlich", sender_chat=SUPERGROUP
        ),
    )
    [event] = running.events
    assert event.sender_is_admin is True
    assert not running.api.calls_to("getChatAdministrators")


async def test_a_post_of_a_linked_channel_is_not_an_admin(make_adapter) -> None:
    running = await make_adapter()
    channel = {"id": -1009999, "type": "channel", "title": "Neuigkeiten"}
    await running.feed(1, message=text_message(SUPERGROUP, CHANNEL_BOT, "/ziele", sender_chat=channel))
    [event] = running.events
    assert event.sender_is_admin is False


async def test_private_commands_need_no_admin_lookup(make_adapter) -> None:
    running = await make_adapter()
    await running.feed(1, message=text_message(ANNA_PRIVATE, ANNA, "/hilfe"))
    [event] = running.events
    assert event.sender_is_admin is False
    assert not running.api.calls_to("getChatAdministrators")


async def test_a_failed_admin_lookup_counts_as_no_admin(make_adapter) -> None:
    running = await make_adapter()
    running.api.queue(
        "getChatAdministrators", forbidden("Forbidden: bot is not a member of the supergroup chat")
    )
    await running.feed(1, message=text_message(SUPERGROUP, ANNA, "/ziele"))
    [event] = running.events
    assert event.sender_is_admin is False
    # A failure is not cached: the next command asks again.
    running.api.set_admins(GROUP_ID, ANNA["id"])
    await running.feed(2, message=text_message(SUPERGROUP, ANNA, "/ziele"))
    assert running.events[-1].sender_is_admin is True


# Joins -----------------------------------------------------------------------------------------


def service_join(*users: dict) -> dict:
    return {"message": message(SUPERGROUP, users[0], 200, new_chat_members=list(users))}


def member_join(user: dict) -> dict:
    return {"chat_member": change(SUPERGROUP, user, member("left", user), member("member", user))}


@pytest.mark.parametrize("service_message_first", [True, False])
async def test_a_join_reported_twice_reaches_the_core_once(make_adapter, service_message_first) -> None:
    running = await make_adapter()
    reports = [service_join(CARLA), member_join(CARLA)]
    if not service_message_first:
        reports.reverse()
    for update_id, report in enumerate(reports, start=1):
        await running.feed(update_id, **report)
    [joined] = running.of_type(MemberJoined)
    assert [m.external_id for m in joined.members] == [str(CARLA["id"])]
    assert len(running.events) == 1


async def test_one_report_of_several_joins_keeps_only_the_new_people(make_adapter) -> None:
    running = await make_adapter()
    await running.feed(1, **member_join(CARLA))
    await running.feed(2, **service_join(CARLA, DORA))
    await running.feed(3, **member_join(DORA))
    joins = running.of_type(MemberJoined)
    assert [[m.external_id for m in j.members] for j in joins] == [["33"], ["44"]]


async def test_joins_in_different_chats_are_not_merged(make_adapter) -> None:
    running = await make_adapter()
    await running.feed(1, **service_join(CARLA))
    other = change(OTHER_GROUP, CARLA, member("left", CARLA), member("member", CARLA))
    await running.feed(2, chat_member=other)
    assert [j.chat.external_id for j in running.of_type(MemberJoined)] == ["-1001000", "-1002000"]


async def test_leaving_and_rejoining_is_a_new_join(make_adapter) -> None:
    running = await make_adapter()
    await running.feed(1, **member_join(CARLA))
    await running.feed(
        2, chat_member=change(SUPERGROUP, CARLA, member("member", CARLA), member("left", CARLA))
    )
    await running.feed(3, **member_join(CARLA))
    assert len(running.of_type(MemberJoined)) == 2


async def test_the_bot_added_reported_twice_introduces_itself_once(make_adapter, app) -> None:
    running = await make_adapter()
    await running.feed(1, message=message(SUPERGROUP, ANNA, 300, new_chat_members=[BOT_USER]))
    await running.feed(
        2, my_chat_member=change(SUPERGROUP, ANNA, member("left", BOT_USER), member("member", BOT_USER))
    )
    await asyncio.wait_for(app.outbox.drain(), timeout=10)
    assert len(running.of_type(BotAdded)) == 1
    assert len(running.api.calls_to("sendMessage")) == 1


# Commands menu ---------------------------------------------------------------------------------


async def test_commands_menu_is_published_for_both_scopes_and_languages(make_adapter, app) -> None:
    running = await make_adapter()
    calls = running.api.calls_to("setMyCommands")
    targets = sorted((c.params["scope"]["type"], c.params.get("language_code", "")) for c in calls)
    assert targets == [
        ("all_group_chats", ""),
        ("all_group_chats", "de"),
        ("all_group_chats", "en"),
        ("all_private_chats", ""),
        ("all_private_chats", "de"),
        ("all_private_chats", "en"),
    ]
    visible = [c for c in app.router if not c.hidden]
    german = [c.name for c in visible]
    english = [(c.aliases or (c.name,))[0] for c in visible]
    assert "beschluss" in german and "decision" in english and "start" not in german
    de_help, en_help = Translator("de"), Translator("en")
    for call in calls:
        commands = call.params["commands"]
        language = call.params.get("language_code", "de")
        assert [c["command"] for c in commands] == (english if language == "en" else german)
        tr = en_help if language == "en" else de_help
        assert [c["description"] for c in commands] == [tr.text(f"{c.key}.help")[:256] for c in visible]
        for command in commands:
            # Telegram's rules: 1-32 of a-z, 0-9, _ and a description of 1-256 characters.
            assert re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]), command
            assert 1 <= len(command["description"]) <= 256, command
            assert not command["description"].startswith("cmd."), command  # a missing translation
    en_calls = [c for c in calls if c.params.get("language_code") == "en"]
    de_calls = [c for c in calls if c.params.get("language_code") == "de"]
    assert (
        en_calls[0].params["commands"][0]["description"] != de_calls[0].params["commands"][0]["description"]
    )


async def test_a_failing_commands_menu_does_not_stop_the_bot(make_adapter) -> None:
    running = await make_adapter()
    before = len(running.api.calls_to("setMyCommands"))
    running.api.queue_error("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID")
    await running.adapter.publish_commands()  # logged, not raised
    assert len(running.api.calls_to("setMyCommands")) == before + 1


# Limits ----------------------------------------------------------------------------------------


def test_limits_off(app) -> None:
    adapter = TelegramAdapter(
        app,
        TelegramSection(token=TOKEN, rate_limits=False),
        request=FakeRequest(),
        updates_request=FakeRequest(),
    )
    assert adapter.limits() == SendLimits(overall=None, group=None, private=None)


def test_limits_follow_the_config(app) -> None:
    config = TelegramSection(token=TOKEN, messages_per_second=25, group_messages_per_minute=15)
    adapter = TelegramAdapter(app, config, request=FakeRequest(), updates_request=FakeRequest())
    assert adapter.limits() == SendLimits(overall=RateLimit(25, 1.0), group=RateLimit(15, 60.0), private=None)


def test_default_limits_are_telegrams(app) -> None:
    adapter = TelegramAdapter(
        app, TelegramSection(token=TOKEN), request=FakeRequest(), updates_request=FakeRequest()
    )
    assert adapter.limits() == SendLimits(overall=RateLimit(30, 1.0), group=RateLimit(20, 60.0))
