"""Router behaviour seen from a chat: unknown commands, addressing, internal errors."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.handlers import decisions
from storage.models import Decision, OutboxMessage, OutboxStatus
from tests.harness import BotHarness


async def test_unknown_command_suggests_the_closest(bot: BotHarness) -> None:
    assert "Meintest du /beschluesse?" in await bot.say("/beschlüse")
    assert "Meintest du /decision?" in await bot.say("/decisoin")
    reply = await bot.say("/xyzzy")
    assert "kenne ich nicht" in reply and "Meintest" not in reply


async def test_plain_messages_get_no_reply(bot: BotHarness) -> None:
    await bot.setup_group()
    assert await bot.send("Guten Morgen!") == []
    assert await bot.send("!!!") == []
    assert await bot.send("/") == []


async def test_commands_for_other_bots_are_ignored(bot: BotHarness, app, messenger) -> None:
    app.attach(messenger, bot_names=["kuemmerer_bot"])
    assert await bot.send("/hilfe@other_bot") == []
    assert "Befehle" in (await bot.send("/hilfe@Kuemmerer_Bot"))[0]


async def test_unexpected_error_is_logged_with_an_id_and_rolled_back(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.setup_group()

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    original = decisions.quote_block
    monkeypatch.setattr(decisions, "quote_block", explode)
    with caplog.at_level(logging.ERROR):
        reply = await bot.say("/beschluss Geht schief")
    error_id = reply.split("`")[-2] if "`" in reply else reply.split()[-1].strip(".")
    assert "Fehlercode" in reply
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    assert any(error_id.strip("`") in r.getMessage() for r in caplog.records)
    assert await bot.count(Decision) == 0
    monkeypatch.setattr(decisions, "quote_block", original)
    assert "Beschluss Nr." in await bot.say("/beschluss Geht jetzt")


async def test_failed_delivery_is_retried_until_it_works(bot: BotHarness, messenger, clock) -> None:
    messenger.fail = True
    start = clock.now()
    task = asyncio.create_task(bot.send("/hilfe"))
    while clock.now() - start < timedelta(seconds=60):  # a minute of virtual backoff  # noqa: ASYNC110
        await asyncio.sleep(0)  # yields to the task; the manual clock moves on its sleeps
    assert not task.done() and messenger.sent == []
    messenger.fail = False
    replies = await task
    assert len(replies) == 1 and "Befehle" in replies[0]
    [row] = await bot.rows(OutboxMessage)
    assert row.status is OutboxStatus.SENT and row.attempts > 3 and "messenger down" in row.error


async def test_help_lists_commands_and_explains_one(bot: BotHarness) -> None:
    listing = await bot.say("/hilfe")
    # One line per command, subcommands by name, so the list fits one Telegram message.
    assert "/beschluss – " in listing and "ersetzen, aufheben" in listing and "🔒" in listing
    assert len(listing) < 3000
    assert "/ag anlegen <Name>" in listing  # first step in a chat without AG
    detail = await bot.say("/hilfe beschluss")
    assert "/beschluss aufheben <Nr> <Begründung>" in detail and "/decision" in detail
    assert "Meintest du /beschluss?" in await bot.say("/hilfe beschlus")
    await bot.setup_group()
    await bot.say("/ag sprache en")
    english = await bot.say("/help")
    assert "/decision – record or show a decision (more: replace, revoke" in english


async def test_help_names_english_commands_in_english_ags(bot: BotHarness) -> None:
    await bot.setup_group()
    # German AG: the German name, the English one as an alias, and German in the usage hint.
    detail = await bot.say("/hilfe gelesen")
    assert "Hilfe zu /gelesen" in detail and "Auch erreichbar als: /read, /ack" in detail
    assert "Mehr dazu: /hilfe ziel" in await bot.say("/ziel erreicht")
    await bot.say("/ag sprache en")
    detail = await bot.say("/help decision")
    assert "Help on /decision" in detail and "Also available as: /beschluss" in detail
    assert "Help on /read" in await bot.say("/hilfe gelesen")  # a German word gets English help too
    reply = await bot.say("/goal achieved")
    assert "More: /help goal" in reply and "/ziel" not in reply
    assert "More: /help decision" in await bot.say("/beschluss ersetzen")
