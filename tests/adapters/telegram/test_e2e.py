"""End-to-end: the real adapter and PTB over HTTP against the fake Bot API server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.ports import TravelClock
from storage.models import Decision, Membership, OutboxMessage, OutboxStatus, Person, Role
from tests.adapters.telegram.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, OTHER_GROUP, stop
from tests.fakes.telegram_api import FakeTelegramServer


async def say(server: FakeTelegramServer, chat: int, user: int, text: str, count: int = 1, **kw) -> list[str]:
    """Inject a message and return the texts of the next ``count`` bot messages in that chat."""
    before = len(server.sent_messages(chat))
    server.inject_message(chat, user, text, **kw)
    messages = await server.wait_for_messages(chat, before + count, timeout=10)
    return [m.get("text") or m.get("caption") or "" for m in messages[before:]]


async def test_group_session_with_every_foundation_command(server, make_bot, database) -> None:
    await make_bot()
    [created] = await say(server, GROUP, ADMIN, "/ag anlegen AG Bildung Ruhr")
    assert "AG Bildung Ruhr ist als AG angelegt" in created
    assert (
        "Bildungsbenachteiligung" in (await say(server, GROUP, ADMIN, "/ag thema Bildungsbenachteiligung"))[0]
    )
    assert (
        "gespeichert"
        in (await say(server, GROUP, ADMIN, "/ag@kuemmerer_test_bot beschreibung Stiftungen"))[0]
    )
    assert "Ziel 1" in (await say(server, GROUP, ADMIN, "/ziel Übersicht der Angebote"))[0]
    assert "Ziel 2" in (await say(server, GROUP, ADMIN, "/ziel Gemeinsame Definition"))[0]
    assert "erreicht" in (await say(server, GROUP, ADMIN, "/ziel erreicht 2"))[0]
    assert (
        "Beschluss Nr. 1"
        in (await say(server, GROUP, ADMIN, "/beschluss Treffen vierteljährlich #treffen"))[0]
    )
    assert "Beschluss Nr. 2" in (await say(server, GROUP, ADMIN, "/beschluss Kein Großprojekt"))[0]
    assert (
        "Nr. 3"
        in (await say(server, GROUP, ADMIN, "/beschluss ersetzen 1 Treffen zweimonatlich #treffen"))[0]
    )
    assert "aufgehoben" in (await say(server, GROUP, ADMIN, "/beschluss aufheben 2 überholt"))[0]
    listing = (await say(server, GROUP, MEMBER, "/beschluesse"))[0]
    assert "zweimonatlich" in listing and "vierteljährlich" not in listing and "Großprojekt" not in listing
    assert "Frühere Fassungen" in (await say(server, GROUP, MEMBER, "/beschluss 3"))[0]
    assert "1 aktives Ziel" in (await say(server, GROUP, MEMBER, "/ziele"))[0]
    refused = (await say(server, GROUP, MEMBER, "/beschluss Ich beschließe"))[0]
    assert refused == "Das darf nur die Koordination. Deine Rolle in dieser AG: Mitglied."
    assert "Kümmerer" in (await say(server, GROUP, ADMIN, "/rolle @bernd kuemmerer"))[0]
    shown = (await say(server, GROUP, MEMBER, "/ag"))[0]
    assert "Kümmerer: Bernd" in shown
    assert "Meintest du /beschluss?" in (await say(server, GROUP, MEMBER, "/beschlus"))[0]
    assert "/rolle" in (await say(server, GROUP, MEMBER, "/hilfe"))[0]
    assert await _count(database, Decision) == 3


async def test_platform_admin_counts_as_koordination(server, make_bot) -> None:
    await make_bot()
    await say(server, GROUP, MEMBER, "/ag anlegen AG")  # Bernd creates; Anna is the group's admin
    assert "Neues Thema" in (await say(server, GROUP, ADMIN, "/ag thema Neues Thema"))[0]
    assert server.calls_to("getChatAdministrators")


async def test_member_join_reaches_the_core_once(server, make_bot, database) -> None:
    await make_bot()
    await say(server, GROUP, ADMIN, "/ag anlegen AG")
    server.inject_new_members(GROUP, [NEWCOMER], by_user_id=ADMIN)
    server.inject_chat_member(GROUP, NEWCOMER, "left", "member")
    await server.wait_for_updates_consumed(timeout=10)
    await say(server, GROUP, ADMIN, "/ag")  # a round trip: the join events were handled before
    people = {p.username: p for p in await _rows(database, Person)}
    assert "carla" in people
    memberships = [m for m in await _rows(database, Membership) if m.person_id == people["carla"].id]
    assert len(memberships) == 1 and memberships[0].role is Role.MITGLIED


async def test_bot_added_to_a_group_introduces_itself(server, make_bot) -> None:
    await make_bot()
    server.inject_my_chat_member(OTHER_GROUP, ADMIN, "left", "member")
    [intro] = await server.wait_for_messages(OTHER_GROUP, 1, timeout=10)
    assert "Kümmerer" in intro["text"] and "/ag anlegen <Name>" in intro["text"]


async def test_html_in_user_text_arrives_escaped(server, make_bot, database) -> None:
    await make_bot()
    await say(server, GROUP, ADMIN, "/ag anlegen AG")
    text = "<b>fett</b> & <script>alert(1)</script> **kein markdown**"
    [reply] = await say(server, GROUP, ADMIN, f"/beschluss {text}")
    assert text in reply  # the fake parses the HTML: the user's text comes out literally
    raw = server.calls_to("sendMessage")[-1].params["text"]
    assert "&lt;b&gt;fett&lt;/b&gt; &amp; &lt;script&gt;" in raw and "<b>Beschluss Nr. 1" in raw
    [decision] = await _rows(database, Decision)
    assert decision.text == text


async def test_buttons_page_through_decisions(server, make_bot) -> None:
    await make_bot()
    await say(server, GROUP, ADMIN, "/ag anlegen AG")
    for n in range(12):
        await say(server, GROUP, ADMIN, f"/beschluss Beschluss Nummer {n}")
    await say(server, GROUP, MEMBER, "/beschluesse")
    listing = server.sent_messages(GROUP)[-1]
    [[button]] = listing["reply_markup"]["inline_keyboard"]
    assert button["callback_data"] == "/beschluesse seite 2"
    before = len(server.sent_messages(GROUP))
    server.inject_callback_query(GROUP, MEMBER, listing["message_id"], button["callback_data"])
    page = (await server.wait_for_messages(GROUP, before + 1, timeout=10))[-1]
    assert "Seite 2 von 2" in page["text"]
    assert server.calls_to("answerCallbackQuery")


async def test_commands_menu_is_published_in_german_and_english(server, make_bot) -> None:
    await make_bot()
    calls = server.calls_to("setMyCommands")
    assert len(calls) == 6
    german = server.get_commands({"type": "all_group_chats"}, "de")
    english = server.get_commands({"type": "all_private_chats"}, "en")
    assert "beschluss" in [c["command"] for c in german]
    assert "decision" in [c["command"] for c in english]


async def test_deep_link_start_greets(server, make_bot) -> None:
    await make_bot()
    [welcome] = await say(server, MEMBER, MEMBER, "/start onboarding-1")
    assert "Hallo, ich bin der Kümmerer" in welcome


async def test_pending_updates_are_processed_once_across_restarts(server, make_bot, database) -> None:
    server.inject_message(GROUP, ADMIN, "/ag anlegen AG")
    server.inject_message(GROUP, ADMIN, "/beschluss Während der Bot schlief")
    first = await make_bot()
    await server.wait_for_messages(GROUP, 2, timeout=10)
    await stop(first)
    await make_bot()
    await say(server, GROUP, ADMIN, "/beschluss Nach dem Neustart")
    assert [d.text for d in await _rows(database, Decision)] == [
        "Während der Bot schlief",
        "Nach dem Neustart",
    ]
    assert len(server.sent_messages(GROUP)) == 3


async def _rows(database, model):
    from sqlalchemy import select

    async with database.transaction() as session:
        return list(await session.scalars(select(model).order_by(*model.__mapper__.primary_key)))


async def _count(database, model) -> int:
    return len(await _rows(database, model))


@pytest.fixture
def outbox_rows(database):
    async def rows() -> list[OutboxMessage]:
        return await _rows(database, OutboxMessage)

    return rows


async def test_outbox_rows_are_marked_sent(server, make_bot, outbox_rows) -> None:
    bot = await make_bot()
    await say(server, GROUP, ADMIN, "/hilfe")
    await bot.app.outbox.drain()
    [row] = await outbox_rows()
    assert row.status is OutboxStatus.SENT and row.external_id is not None


async def test_a_reminder_is_set_and_fires_in_the_group(server, make_bot) -> None:
    """Issue 10 over HTTP: a German reminder confirmed with its time, fired when time has come."""
    clock = TravelClock()
    running = await make_bot(clock=clock)
    await say(server, GROUP, ADMIN, "/ag anlegen AG Bildung")
    [confirmed] = await say(server, GROUP, MEMBER, "/erinnerung in 2 Stunden: Protokoll rumschicken")
    assert "Erinnerung Nr. 1" in confirmed and "Protokoll rumschicken" in confirmed
    before = len(server.sent_messages(GROUP))
    await running.app.component("scheduler").advance_to(clock.now() + timedelta(hours=2, minutes=1))
    messages = await server.wait_for_messages(GROUP, before + 1, timeout=10)
    fired = messages[before].get("text") or ""
    assert "Protokoll rumschicken" in fired and "⏰" in fired
    # Fired once: listing shows nothing pending any more.
    [listing] = await say(server, GROUP, MEMBER, "/erinnerungen")
    assert "Protokoll rumschicken" not in listing
