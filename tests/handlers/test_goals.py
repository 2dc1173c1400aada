"""/ziel and /ziele through the router."""

from __future__ import annotations

from storage.models import Goal, GoalStatus
from tests.harness import BotHarness


async def test_goal_lifecycle(bot: BotHarness) -> None:
    await bot.setup_group()
    assert "Ziel 1" in await bot.say("/ziel Übersicht der Bildungsangebote bis Ende 2019")
    assert "Ziel 2" in await bot.say("/ziel Gemeinsame Definition von Engagement")
    listing = await bot.say("/ziele", user="bernd")
    assert "2 aktive Ziele" in listing and "Übersicht" in listing
    assert "erreicht" in await bot.say("/ziel erreicht 1")
    assert "schon erreicht" in await bot.say("/ziel erreicht 1")
    assert "Begründung" in await bot.say("/ziel verwerfen 2")
    assert "verworfen" in await bot.say("/ziel verwerfen 2 Wird von der AG Engagement übernommen")
    shown = await bot.say("/ziel 2")
    assert "verworfen" in shown and "AG Engagement" in shown
    assert "noch keine aktiven Ziele" in await bot.say("/ziele")
    rows = await bot.rows(Goal, order_by=[Goal.number])
    assert [g.status for g in rows] == [GoalStatus.ACHIEVED, GoalStatus.DISCARDED]


async def test_members_cannot_add_goals(bot: BotHarness) -> None:
    await bot.setup_group()
    assert "Koordination" in await bot.say("/ziel Mein Ziel", user="bernd")
    assert "Koordination" in await bot.say("/ziel erreicht 1", user="bernd")
    assert await bot.count(Goal) == 0


async def test_unknown_goal(bot: BotHarness) -> None:
    await bot.setup_group()
    assert "Ziel Nr. 4 gibt es" in await bot.say("/ziel erreicht 4")
    assert "Ziel Nr. 4 gibt es" in await bot.say("/ziel 4")
