"""A person's private chat acts on their AG: reading commands work there, the AG is chosen once
when there are several (``/ag wechseln``), changes belong in the group chat."""

from __future__ import annotations

from storage.models import Chat, Decision
from tests.harness import BotHarness


async def two_ags(bot: BotHarness) -> None:
    """Anna coordinates AG Bildung (chat "ag") and AG Umwelt (chat "umwelt"); Bernd is in both."""
    await bot.setup_group("AG Bildung")
    await bot.say("/beschluss Treffen vierteljährlich")
    await bot.setup_group("AG Umwelt", chat="umwelt")
    await bot.say("/beschluss Baumpatenschaften in jedem Stadtteil", chat="umwelt")
    await bot.send("Hallo zusammen", user="bernd")
    await bot.send("Hallo auch hier", user="bernd", chat="umwelt")


async def test_reading_commands_work_privately_for_the_only_ag(bot: BotHarness) -> None:
    await bot.setup_group("AG Bildung")
    await bot.say("/ziel Übersicht der Bildungsangebote")
    await bot.say("/beschluss Treffen vierteljährlich #treffen")
    await bot.send("Hallo", user="bernd")
    assert "Übersicht der Bildungsangebote" in await bot.say("/ziele", user="bernd", private=True)
    assert "Treffen vierteljährlich" in await bot.say("/beschluesse", user="bernd", private=True)
    assert "Treffen vierteljährlich" in await bot.say("/beschluss 1", user="bernd", private=True)
    assert "Treffen vierteljährlich" in await bot.say("/beschluesse #treffen", user="bernd", private=True)
    assert "AG Bildung" in await bot.say("/ag", user="bernd", private=True)


async def test_changes_are_refused_privately_and_nothing_is_recorded(bot: BotHarness) -> None:
    await bot.setup_group("AG Bildung")
    reply = await bot.say("/beschluss Wir treffen uns monatlich", private=True)
    assert "nur im Gruppenchat" in reply and "/beschluss" in reply
    assert await bot.count(Decision) == 0
    reply = await bot.say("/ziel Ein neues Ziel", private=True)
    assert "nur im Gruppenchat" in reply
    reply = await bot.say("/ag thema Neues Thema", private=True)
    assert "nur im Gruppenchat" in reply


async def test_ag_anlegen_is_offered_only_in_groups(bot: BotHarness) -> None:
    reply = await bot.say("/ag anlegen Meine AG", private=True)
    assert "nur in einem Gruppenchat" in reply
    assert await bot.count(Chat, Chat.group_id.is_not(None)) == 0
    help_text = await bot.say("/hilfe", private=True)
    assert "/ag anlegen" in help_text  # only in the sentence on how to start, not as a command
    assert "• /ag anlegen" not in help_text and "/ag thema" not in help_text
    assert "/beschluesse" in help_text and "/ziele" in help_text


async def test_private_help_lists_reading_commands_only(bot: BotHarness) -> None:
    await bot.setup_group("AG Bildung")
    help_text = await bot.say("/hilfe", private=True)
    assert "/beschluss ersetzen" not in help_text and "/rolle" not in help_text
    assert "/ziele" in help_text and "/ag wechseln" in help_text


async def test_several_ags_ask_which_and_remember_the_choice(bot: BotHarness) -> None:
    await two_ags(bot)
    reply = await bot.say("/beschluesse", user="bernd", private=True)
    assert "mehreren AGs" in reply and "AG Bildung" in reply and "AG Umwelt" in reply
    buttons = [b for row in bot.last.buttons for b in row]
    assert [b.label for b in buttons] == ["AG Bildung", "AG Umwelt"]
    # The button switches and repeats the command at once.
    umwelt = buttons[1].command
    assert umwelt is not None and umwelt.endswith("/beschluesse")
    replies = await bot.send(umwelt, user="bernd", private=True)
    assert "AG Umwelt" in replies[0]
    assert "Baumpatenschaften" in replies[1] and "vierteljährlich" not in replies[1]
    # Remembered: the next command needs no choice.
    assert "Baumpatenschaften" in await bot.say("/beschluss 1", user="bernd", private=True)
    await bot.say("/ag wechseln", user="bernd", private=True)
    assert "(gewählt)" in bot.last.markup.plain()


async def test_switch_refuses_foreign_ags_and_groups(bot: BotHarness) -> None:
    await two_ags(bot)
    await bot.setup_group("AG Kultur", user="carla", chat="kultur")
    [chat] = await bot.rows(Chat, Chat.external_id == "group:kultur")
    reply = await bot.say(f"/ag wechseln {chat.group_id}", user="bernd", private=True)
    assert "keine deiner AGs" in reply
    assert "privaten Chat" in await bot.say("/ag wechseln 1", user="bernd")
    huge = await bot.say("/ag wechseln 99999999999999999999", user="bernd", private=True)
    assert "gibt es nicht" in huge


async def test_leaving_an_ag_drops_it_from_the_private_choice(bot: BotHarness) -> None:
    await two_ags(bot)
    await bot.leave("bernd", chat="umwelt")
    assert "vierteljährlich" in await bot.say("/beschluesse", user="bernd", private=True)


async def test_a_plain_private_message_gets_a_pointer(bot: BotHarness) -> None:
    assert "/hilfe" in await bot.say("Hallo, was kannst du?", private=True)


async def test_role_in_private_is_the_stored_one(bot: BotHarness) -> None:
    await bot.setup_group("AG Bildung")
    await bot.send("Hallo", user="bernd")
    # Reading works for members; what needs koordination in the group stays refused privately.
    reply = await bot.say("/onboarding status", user="bernd", private=True)
    assert "Koordination" in reply
