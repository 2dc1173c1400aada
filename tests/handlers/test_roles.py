"""/rolle through the router."""

from __future__ import annotations

from storage.models import Membership, Person, Role
from tests.harness import BotHarness


async def _role(bot: BotHarness, name: str) -> Role:
    [person] = await bot.rows(Person, Person.username == name)
    [membership] = await bot.rows(Membership, Membership.person_id == person.id)
    return membership.role


async def test_give_roles_by_name_handle_and_reply(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.send("Hallo zusammen", user="bernd")
    await bot.join("carla")
    assert "Kümmerer" in await bot.say("/rolle @bernd kuemmerer")
    assert await _role(bot, "bernd") is Role.KUEMMERER
    assert "Koordination" in await bot.say("/rolle Carla Koordination")
    assert await _role(bot, "carla") is Role.KOORDINATION
    reply = await bot.say("/rolle mitglied", reply_to=("Hallo zusammen", "bernd"))
    assert "Mitglied" in reply
    assert await _role(bot, "bernd") is Role.MITGLIED
    assert "bereits" in await bot.say("/rolle bernd mitglied")


async def test_role_errors(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.send("Hallo", user="bernd")
    assert "keine Rolle" in await bot.say("/rolle bernd chef")
    assert "niemanden namens „zoe“" in await bot.say("/rolle zoe mitglied")
    assert "Wen meinst du" in await bot.say("/rolle mitglied")
    assert "Verwendung" in await bot.say("/rolle")
    assert "mindestens eine Person" in await bot.say("/rolle anna mitglied")
    assert "Koordination" in await bot.say("/rolle anna mitglied", user="bernd")
