"""Newcomer onboarding: automatic briefs, /onboarding, /gelesen, /einfuehrung, returning members."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.markup import render_html
from storage.models import Decision, DecisionStatus, Membership, Person, WorkingGroup
from tests.harness import BotHarness


@pytest.fixture
async def ag(bot: BotHarness) -> BotHarness:
    """An AG with a topic, a goal and two decisions; Anna coordinates."""
    await bot.setup_group("AG Bildung")
    await bot.say("/ag thema Bildungsbenachteiligung im Ruhrgebiet")
    await bot.say("/ziel Übersicht der Bildungsangebote bis Ende 2019")
    await bot.say("/beschluss Treffen vierteljährlich, reihum bei den Mitgliedern")
    await bot.say("/beschluss Kein gemeinsames Großprojekt; Kooperationen bilateral")
    return bot


async def membership_of(bot: BotHarness, name: str) -> Membership:
    [person] = await bot.rows(Person, Person.username == name)
    [membership] = await bot.rows(Membership, Membership.person_id == person.id)
    return membership


async def test_a_newcomer_gets_the_brief_privately_once(ag: BotHarness) -> None:
    bot = ag
    assert await bot.join("carla") == []  # nothing in the group for one newcomer
    [brief] = bot.sent_to("carla")
    text = brief.markup.plain()
    assert "Willkommen in der AG Bildung!" in text  # the name says "AG" itself: not doubled
    assert "Bildungsbenachteiligung" in text and "Übersicht der Bildungsangebote" in text
    assert "Kooperationen bilateral" in text and "Koordination: Anna" in text
    # Settled points are reopened through the koordination (named) and a poll, with a command that
    # works: the first decision shown is filled in.
    assert "spricht die Koordination an (Anna); sie kann ihn mit /abstimmung neu zur Entscheidung" in text
    example = re.search(
        r"/abstimmung Soll Beschluss Nr\. (\d+) geändert werden\? \| ja \| nein \| beschluss ersetzen (\d+)",
        text,
    )
    assert example and example.group(1) == example.group(2)
    assert f"• ⭐ Nr. {example.group(1)} ·" in text or f"• Nr. {example.group(1)} ·" in text
    assert brief.buttons[0][0].command.startswith("/gelesen ")
    # Its fallback, if Carla cannot be written to privately, is a note in the group.
    assert brief.fallback is not None and brief.fallback.chat.external_id == bot.chat("ag").external_id
    assert brief.fallback.buttons[0][0].start_payload.startswith("brief-")
    assert (await membership_of(bot, "carla")).briefed_at is not None
    await bot.join("carla")
    await bot.send("Hallo zusammen!", user="carla")
    assert len(bot.sent_to("carla")) == 1  # once per person and AG


async def test_first_message_is_the_fallback_trigger(ag: BotHarness) -> None:
    replies = await ag.send("Hallo, ich bin neu hier", user="dora")
    assert replies == []
    [brief] = ag.sent_to("dora")
    assert "Willkommen" in brief.markup.plain()


async def test_no_brief_while_the_ag_has_nothing_settled(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.join("carla")
    assert bot.sent_to("carla") == []
    await bot.say("/beschluss Erster Beschluss")
    await bot.send("Hallo", user="carla")
    assert len(bot.sent_to("carla")) == 1


async def test_many_joins_at_once_give_one_group_greeting(ag: BotHarness) -> None:
    bot = ag
    names = [f"person{n}" for n in range(50)]
    group_messages = await bot.join(*names)
    greetings = [m for m in group_messages if "Willkommen" in m]
    assert len(greetings) == 1 and "und 40 weitere" in greetings[0]
    assert all(len(bot.sent_to(name)) == 1 for name in names)
    assert all(bot.sent_to(name)[0].fallback is None for name in names)


async def test_onboarding_on_demand_in_the_group_answers_privately(ag: BotHarness) -> None:
    bot = ag
    reply = await bot.say("/onboarding", user="bernd")
    assert "privat geschickt" in reply
    [brief] = bot.sent_to("bernd")
    assert "Willkommen" in brief.markup.plain()


async def test_private_onboarding_asks_which_ag(ag: BotHarness) -> None:
    bot = ag
    await bot.say("/ag anlegen AG Engagement", user="anna", chat="zweite")
    await bot.say("/beschluss Gemeinsame Definition von Engagement", chat="zweite")
    question = await bot.say("/onboarding", private=True, chat="anna-privat")
    assert "mehreren AGs" in question
    commands = [row[0].command for row in bot.last.buttons]
    [group] = await bot.rows(WorkingGroup, WorkingGroup.name == "AG Engagement")
    assert f"/onboarding {group.id}" in commands
    brief = await bot.say(f"/onboarding {group.id}", private=True, chat="anna-privat")
    assert "AG Engagement" in brief and "Gemeinsame Definition" in brief


async def test_acknowledgement_and_status(ag: BotHarness) -> None:
    bot = ag
    await bot.join("carla")
    [brief] = bot.sent_to("carla")
    button = brief.buttons[0][0].command
    assert "Danke" in await bot.say(button, user="carla", private=True, chat="carla")
    assert "schon bestätigt" in await bot.say("/gelesen", user="carla")
    await bot.join("dora")
    status = await bot.say("/onboarding status")
    assert "Carla" in status and "gelesen am" in status
    # One date format everywhere: 21.11.2026 for dates, 21.11.2026, 10:00 with a time.
    assert "Einführung am 21.11.2026, 10:00 · gelesen am 21.11.2026, 10:00" in status
    assert "2 Personen haben die Einführung in die AG Bildung bekommen" in status
    assert "Dora" in status and "noch nicht bestätigt" in status
    assert "Koordination" in await bot.say("/onboarding status", user="carla")


async def test_onboarding_can_be_switched_off(ag: BotHarness) -> None:
    bot = ag
    assert "aus" in await bot.say("/onboarding aus")
    await bot.join("carla")
    assert bot.sent_to("carla") == []
    assert "automatisch" in await bot.say("/onboarding an")
    await bot.send("Hallo", user="carla")
    assert len(bot.sent_to("carla")) == 1


async def test_welcome_text_and_important_decisions_lead_the_brief(ag: BotHarness) -> None:
    bot = ag
    assert "gespeichert" in await bot.say("/einfuehrung Schön, dass du da bist! Wir treffen uns in Essen.")
    assert "wichtig" in await bot.say("/beschluss wichtig 1")
    assert "Koordination" in await bot.say("/beschluss wichtig 2", user="bernd")
    await bot.join("carla")
    text = bot.sent_to("carla")[0].markup.plain()
    assert "Schön, dass du da bist!" in text
    assert text.index("⭐") < text.index("Kein gemeinsames Großprojekt")
    assert text.index("Treffen vierteljährlich") < text.index("Kein gemeinsames Großprojekt")
    assert "nicht mehr" in await bot.say("/beschluss unwichtig 1")
    assert "war nicht als wichtig markiert" in await bot.say("/beschluss unwichtig 1")
    assert "war nicht als wichtig markiert" in await bot.say("/beschluss unwichtig 2")
    assert "⭐" in await bot.say("/beschluss wichtig 1")
    assert "schon als wichtig" in await bot.say("/beschluss wichtig 1")
    [first] = await bot.rows(Decision, Decision.number == 1)
    assert first.important
    assert "Schön, dass du da bist!" in await bot.say("/einfuehrung")


async def test_brief_of_an_ag_with_5000_decisions_fits_one_telegram_message(ag: BotHarness, database) -> None:
    bot = ag
    [group] = await bot.rows(WorkingGroup)
    async with database.transaction() as session:
        now = datetime(2026, 11, 21, tzinfo=UTC)
        session.add_all(
            Decision(
                group_id=group.id,
                number=10 + n,
                text=f"Beschluss {n}: " + "sehr langer Text " * 40,
                search_text=f"beschluss {n}",
                status=DecisionStatus.ACTIVE,
                decided_on=date(2026, 11, 21),
                created_at=now,
                important=n % 500 == 0,
            )
            for n in range(5000)
        )
        stored = await session.get(WorkingGroup, group.id)
        stored.decision_seq = 5010
        stored.welcome_text = "Willkommen! " * 120
    await bot.join("carla")
    [brief] = bot.sent_to("carla")
    assert len(render_html(brief.markup)) <= 4096
    assert "5002" in brief.markup.plain() and "/beschluesse" in brief.markup.plain()


async def test_returning_member_hears_what_changed(ag: BotHarness, clock) -> None:
    bot = ag
    await bot.send("Hallo", user="carla")
    assert len(bot.sent_to("carla")) == 1
    clock.advance(timedelta(days=40))
    await bot.say("/beschluss Neuer Treffpunkt: Dortmund")
    await bot.say("/beschluss aufheben 1 Wir treffen uns jetzt monatlich")
    await bot.say("/ziel erreicht 1")
    await bot.send("Ich bin wieder da!", user="carla")
    [_, since] = bot.sent_to("carla")
    text = since.markup.plain()
    assert "Seit deinem letzten Besuch" in text
    assert (
        "Neuer Beschluss Nr. 3" in text and "Beschluss Nr. 1 aufgehoben" in text and "Ziel 1 erreicht" in text
    )
    await bot.send("Noch eine Nachricht", user="carla")
    assert len(bot.sent_to("carla")) == 2


async def test_deep_link_sends_the_brief(ag: BotHarness) -> None:
    bot = ag
    await bot.send("Hallo", user="carla")
    [group] = await bot.rows(WorkingGroup)
    reply = await bot.say(f"/start brief-{group.id}", user="carla", private=True, chat="carla")
    assert "Willkommen in der AG Bildung!" in reply


async def test_texts_name_the_ag_once_whether_or_not_its_name_says_ag(bot: BotHarness) -> None:
    await bot.setup_group("Netzwerk Bildung")
    await bot.say("/beschluss Treffen vierteljährlich")
    await bot.join("carla")
    assert "Willkommen in der AG Netzwerk Bildung!" in bot.sent_to("carla")[-1].markup.plain()
    reply = await bot.say("/gelesen", user="carla")
    assert "Einführung in die AG Netzwerk Bildung gelesen" in reply
    assert "1 Person hat die Einführung in die AG Netzwerk Bildung bekommen" in await bot.say(
        "/onboarding status"
    )
    await bot.say("/ag name Bildungs-AG Ruhr")
    await bot.join("dora")
    assert "Willkommen in der Bildungs-AG Ruhr!" in bot.sent_to("dora")[-1].markup.plain()
    await bot.say("/ag sprache en")
    assert "You already confirmed the introduction to Bildungs-AG Ruhr." in await bot.say(
        "/read", user="carla"
    )
    await bot.say("/group rename Netzwerk Bildung")
    await bot.join("emil")
    text = bot.sent_to("emil")[-1].markup.plain()
    assert "Welcome to the working group Netzwerk Bildung!" in text
    assert "talks to the coordination (Anna); they can put it to a new vote with /poll" in text


async def test_gelesen_without_brief_is_explained(bot: BotHarness) -> None:
    await bot.setup_group()
    assert "noch keine Einführung" in await bot.say("/gelesen", user="bernd")
    async with bot.app.db.transaction() as session:
        assert (await session.scalars(select(Membership))).all()
