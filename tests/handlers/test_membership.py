"""Who counts as a member and as koordination: leaving, chat admins, the AG's founder."""

from __future__ import annotations

from storage.models import Membership, Person
from tests.harness import BotHarness


async def membership(bot: BotHarness, name: str) -> Membership:
    [person] = await bot.rows(Person, Person.username == name)
    [row] = await bot.rows(Membership, Membership.person_id == person.id)
    return row


async def test_member_count_follows_joins_and_leaves(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.join("bernd", "carla")
    assert "Mitglieder: 3" in await bot.say("/ag")
    await bot.leave("carla")
    assert "Mitglieder: 2" in await bot.say("/ag")
    assert (await membership(bot, "carla")).left_at is not None
    # Writing again (or re-joining) counts the person again, with their history intact.
    await bot.send("Bin wieder da", user="carla")
    assert "Mitglieder: 3" in await bot.say("/ag")
    assert (await membership(bot, "carla")).left_at is None


async def test_a_chat_admin_is_listed_as_koordination(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.send("/ziele", user="dora", admin=True)
    reply = await bot.say("/ag")
    assert "Koordination: Anna, Dora" in reply
    # Plain messages say nothing about admin rights (Telegram checks them for commands only).
    await bot.send("Hallo", user="dora")
    assert "Koordination: Anna, Dora" in await bot.say("/ag")
    # No longer admin: no longer listed.
    await bot.send("/ziele", user="dora")
    assert "Koordination: Anna\n" in await bot.say("/ag")


async def test_the_founder_is_not_listed_as_briefed(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/beschluss Treffen vierteljährlich")
    await bot.join("bernd")
    status = await bot.say("/onboarding status")
    assert "Bernd" in status and "Anna" not in status
    founder = await membership(bot, "anna")
    assert founder.briefed_at is None and founder.acknowledged_at is not None
    # And the founder gets no brief of their own AG.
    await bot.send("Hallo", user="anna")
    assert bot.sent_to("anna") == []


async def test_someone_who_rejoins_hears_what_changed(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/beschluss Treffen vierteljährlich")
    await bot.join("bernd")
    await bot.leave("bernd")
    bot.app.clock.advance(__import__("datetime").timedelta(days=40))
    await bot.say("/beschluss Protokolle im gemeinsamen Ordner")
    before = len(bot.sent_to("bernd"))
    await bot.join("bernd")
    news = bot.sent_to("bernd")[before:]
    assert len(news) == 1 and "Protokolle im gemeinsamen Ordner" in news[0].markup.plain()
