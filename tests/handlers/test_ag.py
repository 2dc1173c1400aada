"""/ag through the router: create, show, describe, language."""

from __future__ import annotations

from storage.models import AuditEntry, Chat, Membership, Role, WorkingGroup
from tests.harness import BotHarness


async def test_create_and_show(bot: BotHarness) -> None:
    reply = await bot.say("/ag anlegen AG Bildung Ruhr")
    assert "AG Bildung Ruhr" in reply and "Koordination" in reply
    await bot.say("/ag thema Bildungsbenachteiligung im Ruhrgebiet")
    await bot.say("/ag beschreibung Stiftungen und Kommunen im Ruhrgebiet")
    shown = await bot.say("/ag")
    assert "Schwerpunktthema: Bildungsbenachteiligung im Ruhrgebiet" in shown
    assert "Beschreibung: Stiftungen und Kommunen" in shown
    assert "Koordination: Anna" in shown
    [group] = await bot.rows(WorkingGroup)
    assert group.topic == "Bildungsbenachteiligung im Ruhrgebiet"
    [membership] = await bot.rows(Membership)
    assert membership.role is Role.KOORDINATION
    actions = [e.action for e in await bot.rows(AuditEntry, order_by=[AuditEntry.id])]
    assert actions == ["group.create", "group.topic", "group.description"]


async def test_ag_without_group_points_to_first_step(bot: BotHarness) -> None:
    reply = await bot.say("/ag")
    assert "/ag anlegen <Name>" in reply
    private = await bot.say("/ziele", private=True)
    assert "keiner AG" in private and "Gruppenchat" in private


async def test_second_group_for_same_chat_is_refused(bot: BotHarness) -> None:
    await bot.setup_group("AG Eins")
    reply = await bot.say("/ag anlegen AG Zwei", user="bernd")
    assert "AG Eins" in reply
    assert await bot.count(WorkingGroup) == 1


async def test_members_cannot_change_the_group(bot: BotHarness) -> None:
    await bot.setup_group()
    reply = await bot.say("/ag thema Etwas anderes", user="bernd")
    assert "Koordination" in reply and "Mitglied" in reply
    [group] = await bot.rows(WorkingGroup)
    assert group.topic is None


async def test_platform_admin_counts_as_koordination(bot: BotHarness) -> None:
    await bot.setup_group()
    reply = await bot.say("/ag thema Neues Thema", user="bernd", admin=True)
    assert "Neues Thema" in reply


async def test_language_switch_to_english_and_back(bot: BotHarness) -> None:
    await bot.setup_group()
    assert "English" in await bot.say("/ag sprache en")
    assert "Focus topic" in await bot.say("/group")
    assert "I don't know the language" in await bot.say("/group language fr")
    assert "Deutsch" in await bot.say("/group language de")


async def test_subcommand_without_text_shows_usage(bot: BotHarness) -> None:
    reply = await bot.say("/ag anlegen")
    assert "Name" in reply and "/ag anlegen <Name>" in reply
    assert await bot.count(WorkingGroup) == 0
    assert await bot.count(Chat) == 0  # the whole update was rolled back


async def test_unknown_subcommand_is_explained(bot: BotHarness) -> None:
    await bot.setup_group()
    reply = await bot.say("/ag löschen")
    assert "löschen" in reply and "/ag" in reply
