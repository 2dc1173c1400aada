"""/ag verknuepfen and /ag trennen through the router: one AG across a console and a Telegram chat."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.app import Application
from bot.core.events import Platform
from bot.core.ports import ManualClock
from bot.services.linking import GLOBAL_COOLDOWN, GLOBAL_FAILED_ATTEMPTS, MAX_FAILED_ATTEMPTS
from storage.models import (
    AuditEntry,
    Chat,
    Decision,
    LinkAttempt,
    LinkCode,
    OutboxMessage,
    OutboxStatus,
    WorkingGroup,
)
from tests.harness import BotHarness, RecordingMessenger
from tests.services.test_outbox_secrets import rows_containing

CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")

# The Telegram group that joins the console AG.
TG = "tg-gruppe"


@pytest.fixture
def telegram(app: Application) -> BotHarness:
    """A second sender on another platform, sharing the application and database with ``bot``."""
    messenger = RecordingMessenger(platform=Platform.TELEGRAM)
    app.attach(messenger)
    return BotHarness(app, messenger)


async def new_code(bot: BotHarness, **kwargs) -> str:
    reply = await bot.say("/ag verknuepfen", **kwargs)
    match = CODE.search(reply)
    assert match, reply
    return match.group(0)


async def group_of(harness: BotHarness, chat: str) -> int | None:
    [row] = await harness.rows(
        Chat, Chat.platform == harness.platform.value, Chat.external_id == f"group:{chat}"
    )
    return row.group_id


@pytest.fixture
async def linked(bot: BotHarness, telegram: BotHarness) -> str:
    """A console AG with a Telegram group linked to it; returns the code used."""
    await bot.setup_group("AG Bildung")
    code = await new_code(bot)
    reply = await telegram.say(f"/ag verknuepfen {code}", user="tom", chat=TG)
    assert "gehört jetzt zu" in reply and "AG Bildung" in reply, reply
    return code


async def test_code_is_shown_with_instructions(bot: BotHarness) -> None:
    await bot.setup_group("AG Bildung")
    reply = await bot.say("/ag verknuepfen")
    code = CODE.search(reply).group(0)
    assert f"/ag verknuepfen {code}" in reply and "AG Bildung" in reply
    assert "22.11.2026, 10:00" in reply  # valid for 24 hours, shown in the AG's timezone
    assert "Matrix" in reply
    [row] = await bot.rows(LinkCode)
    assert code.replace("-", "") not in row.code_hash


async def test_no_table_keeps_the_plain_code(bot: BotHarness, telegram: BotHarness) -> None:
    await bot.setup_group()
    code = await new_code(bot)
    assert code in bot.messenger.sent[-1].markup.plain()  # delivered in full
    forms = (code, code.replace("-", ""), code.lower())
    assert await rows_containing(bot.app.db, *forms) == []
    [row] = await bot.rows(OutboxMessage, OutboxMessage.secret)
    assert row.status is OutboxStatus.SENT

    # Redeeming it (the typed command names it) leaves no trace either.
    assert "gehört jetzt zu" in await telegram.say(f"/ag verknuepfen {code.lower()}", user="tom", chat=TG)
    assert await rows_containing(bot.app.db, *forms) == []


async def test_linked_chats_share_the_register(bot: BotHarness, telegram: BotHarness, linked: str) -> None:
    recorded = await telegram.say("/beschluss Wir treffen uns monatlich", user="tom", chat=TG, admin=True)
    assert "Beschluss Nr. 1" in recorded
    listing = await bot.say("/beschluesse")
    assert "Wir treffen uns monatlich" in listing

    recorded = await bot.say("/beschluss Protokolle liegen im Wiki")
    assert "Beschluss Nr. 2" in recorded  # one running number for the whole AG
    listing = await telegram.say("/beschluesse", user="tom", chat=TG)
    assert "Protokolle liegen im Wiki" in listing and "Wir treffen uns monatlich" in listing

    [group] = await bot.rows(WorkingGroup)
    assert {d.group_id for d in await bot.rows(Decision)} == {group.id}


async def test_the_other_chats_are_told_about_a_link(
    bot: BotHarness, telegram: BotHarness, linked: str
) -> None:
    notice = bot.messenger.sent[-1].markup.plain()
    assert "Tom" in notice and "verknüpft" in notice and f"Telegram: {TG}" in notice
    assert bot.messenger.sent[-1].chat.external_id == "group:ag"


async def test_ag_lists_every_chat_with_platform_and_title(
    bot: BotHarness, telegram: BotHarness, linked: str
) -> None:
    shown = await bot.say("/ag")
    assert "Verknüpfte Chats:" in shown
    assert "• Konsole: ag (dieser Chat)" in shown
    assert f"• Telegram: {TG}\n" in shown
    shown = await telegram.say("/ag", user="tom", chat=TG)
    assert "• Konsole: ag\n" in shown and f"• Telegram: {TG} (dieser Chat)" in shown


async def test_a_single_chat_is_not_listed(bot: BotHarness) -> None:
    await bot.setup_group()
    assert "Verknüpfte Chats" not in await bot.say("/ag")


async def test_roles_are_shared_but_identities_stay_per_platform(
    bot: BotHarness, telegram: BotHarness, linked: str
) -> None:
    # Tom linked the chat but is no koordination; Anna (console) can make him one.
    reply = await telegram.say("/beschluss Etwas", user="tom", chat=TG)
    assert "Koordination" in reply and "Mitglied" in reply
    assert "Koordination" in await bot.say("/rolle tom koordination")
    assert "Beschluss Nr. 1" in await telegram.say("/beschluss Etwas", user="tom", chat=TG)


async def test_only_the_koordination_gets_a_code(bot: BotHarness) -> None:
    await bot.setup_group()
    reply = await bot.say("/ag verknuepfen", user="bernd")
    assert "Koordination" in reply and "Mitglied" in reply
    assert await bot.count(LinkCode) == 0


async def test_english_alias(bot: BotHarness) -> None:
    await bot.setup_group()
    assert CODE.search(await bot.say("/group link"))


async def test_without_code_outside_an_ag_explains_how(telegram: BotHarness) -> None:
    reply = await telegram.say("/ag verknuepfen", chat=TG)
    assert "Koordination einen Code" in reply and "/ag verknuepfen <Code>" in reply
    assert "/ag anlegen <Name>" in reply


# Rejected codes -----------------------------------------------------------------------------


async def assert_unchanged(bot: BotHarness, telegram: BotHarness) -> None:
    """The Telegram group is still outside the AG and the AG has its one chat."""
    assert await group_of(telegram, TG) is None
    assert "keiner AG" in await telegram.say("/beschluesse", chat=TG)
    assert await bot.count(AuditEntry, AuditEntry.action == "group.link") == 0
    assert "Verknüpfte Chats" not in await bot.say("/ag")


async def test_a_wrong_code_is_explained_and_changes_nothing(bot: BotHarness, telegram: BotHarness) -> None:
    await bot.setup_group()
    await new_code(bot)
    reply = await telegram.say("/ag verknuepfen ABCD-EFGH", chat=TG)
    assert "Diesen Code kenne ich nicht" in reply and "Du hast noch 4 Versuche in dieser Stunde." in reply
    await assert_unchanged(bot, telegram)
    # The attempt was committed although the answer is a refusal.
    assert await bot.count(LinkAttempt) == 1


async def test_an_expired_code_is_explained(
    bot: BotHarness, telegram: BotHarness, clock: ManualClock
) -> None:
    await bot.setup_group()
    code = await new_code(bot)
    clock.advance(timedelta(hours=24, minutes=1))
    reply = await telegram.say(f"/ag verknuepfen {code}", chat=TG)
    assert "abgelaufen" in reply and "24 Stunden" in reply
    await assert_unchanged(bot, telegram)


async def test_a_used_code_is_explained(bot: BotHarness, telegram: BotHarness, linked: str) -> None:
    reply = await telegram.say(f"/ag verknuepfen {linked}", chat="noch-eine")
    assert "schon benutzt" in reply
    assert await group_of(telegram, "noch-eine") is None


async def test_a_replaced_code_is_explained(bot: BotHarness, telegram: BotHarness) -> None:
    await bot.setup_group()
    old = await new_code(bot)
    new = await new_code(bot)
    reply = await telegram.say(f"/ag verknuepfen {old}", chat=TG)
    assert "gilt nicht mehr" in reply and "neueren" in reply
    await assert_unchanged(bot, telegram)
    assert "gehört jetzt zu" in await telegram.say(f"/ag verknuepfen {new.lower()}", chat=TG)


async def test_a_malformed_code_is_explained_and_not_counted(bot: BotHarness, telegram: BotHarness) -> None:
    await bot.setup_group()
    reply = await telegram.say("/ag verknuepfen K0QX-1M9P", chat=TG)
    assert "„K0QX-1M9P“ ist kein Code" in reply and "0, O, 1 und I" in reply
    assert await bot.count(LinkAttempt) == 0


async def test_too_many_wrong_codes_lock_the_person_not_the_chat(
    bot: BotHarness, telegram: BotHarness, clock: ManualClock
) -> None:
    await bot.setup_group()
    code = await new_code(bot)
    for attempt in range(4):
        reply = await telegram.say(f"/ag verknuepfen AAAA-AAA{attempt + 2}", user="troll", chat=TG)
        assert "kenne ich nicht" in reply
    assert "Du hast noch 1 Versuch in dieser Stunde." in reply
    reply = await telegram.say("/ag verknuepfen BBBB-BBBB", user="troll", chat=TG)
    assert "zu viele falsche Codes" in reply and "von dir" in reply and "60 Min." in reply

    clock.advance(timedelta(minutes=20))
    reply = await telegram.say(f"/ag verknuepfen {code}", user="troll", chat=TG)
    assert "zu viele falsche Codes" in reply and "40 Min." in reply
    # A fresh chat gives no fresh tries.
    reply = await telegram.say(f"/ag verknuepfen {code}", user="troll", chat="frisch")
    assert "zu viele falsche Codes" in reply
    await assert_unchanged(bot, telegram)
    assert await bot.count(LinkAttempt) == 5  # refusals while locked are not counted

    # Somebody else in the same chat is not held up by the troll.
    assert "gehört jetzt zu" in await telegram.say(f"/ag verknuepfen {code}", user="tom", chat=TG)


async def test_a_locked_person_may_try_again_after_the_hour(
    bot: BotHarness, telegram: BotHarness, clock: ManualClock
) -> None:
    await bot.setup_group()
    code = await new_code(bot)
    for attempt in range(5):
        await telegram.say(f"/ag verknuepfen AAAA-AAA{attempt + 2}", chat=TG)
    assert "zu viele falsche Codes" in await telegram.say(f"/ag verknuepfen {code}", chat=TG)
    clock.advance(timedelta(hours=1))
    assert "gehört jetzt zu" in await telegram.say(f"/ag verknuepfen {code}", chat=TG)


async def test_many_wrong_codes_overall_bring_a_short_cooldown(
    bot: BotHarness, telegram: BotHarness, clock: ManualClock
) -> None:
    await bot.setup_group()
    code = await new_code(bot)
    for n in range(GLOBAL_FAILED_ATTEMPTS // MAX_FAILED_ATTEMPTS):
        for _ in range(MAX_FAILED_ATTEMPTS):
            await telegram.say("/ag verknuepfen AAAA-AAAA", user=f"konto{n}", chat=f"chat{n}")
    reply = await telegram.say(f"/ag verknuepfen {code}", user="tom", chat=TG)
    assert "auffällig viele falsche Codes" in reply and "60 Sek." in reply
    assert "offene Codes bleiben gültig" in reply
    clock.advance(GLOBAL_COOLDOWN)
    assert "gehört jetzt zu" in await telegram.say(f"/ag verknuepfen {code}", user="tom", chat=TG)


async def test_a_chat_of_another_ag_cannot_be_linked(bot: BotHarness, telegram: BotHarness) -> None:
    await bot.setup_group("AG Bildung")
    code = await new_code(bot)
    await telegram.setup_group("AG Umwelt", chat=TG)
    reply = await telegram.say(f"/ag verknuepfen {code}", chat=TG, admin=True)
    assert "gehört schon zu" in reply and "AG Umwelt" in reply and "/ag trennen" in reply
    [row] = await bot.rows(LinkCode)
    assert row.used_at is None
    assert "AG Umwelt" in await telegram.say("/ag", chat=TG)


async def test_a_private_chat_cannot_be_linked(bot: BotHarness) -> None:
    await bot.setup_group()
    code = await new_code(bot)
    reply = await bot.say(f"/ag verknuepfen {code}", user="bernd", private=True)
    assert "/ag verknuepfen" in reply and "nur in einem Gruppenchat" in reply
    [row] = await bot.rows(LinkCode)
    assert row.used_at is None


# Unlinking ----------------------------------------------------------------------------------


async def test_unlink_removes_the_chat_and_tells_the_others(
    bot: BotHarness, telegram: BotHarness, linked: str
) -> None:
    reply = await telegram.say("/ag trennen", user="tom", chat=TG)
    assert "Koordination" in reply and "Mitglied" in reply

    reply = await telegram.say("/ag unlink", user="tom", chat=TG, admin=True)
    assert "gehört nicht mehr zu" in reply and "AG Bildung" in reply
    notice = bot.messenger.sent[-1].markup.plain()
    assert "getrennt" in notice and f"Telegram: {TG}" in notice

    assert await group_of(telegram, TG) is None
    assert "keiner AG" in await telegram.say("/beschluesse", chat=TG)
    assert "Verknüpfte Chats" not in await bot.say("/ag")
    actions = [e.action for e in await bot.rows(AuditEntry, order_by=[AuditEntry.id])]
    assert actions == ["group.create", "group.link_code", "group.link", "group.unlink"]


async def test_the_last_chat_stays(bot: BotHarness, telegram: BotHarness, linked: str) -> None:
    await telegram.say("/ag trennen", user="tom", chat=TG, admin=True)
    reply = await bot.say("/ag trennen")
    assert "einzige Chat" in reply and "AG Bildung" in reply
    assert await group_of(bot, "ag") is not None


async def test_help_lists_both_subcommands(bot: BotHarness) -> None:
    reply = await bot.say("/hilfe ag")
    assert "/ag verknuepfen [Code]" in reply and "/ag trennen" in reply
