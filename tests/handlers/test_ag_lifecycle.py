"""Closing, deleting and restoring an AG (``/ag schliessen|oeffnen|loeschen|wiederherstellen``)."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

from bot.handlers.format import day_code
from storage.models import (
    Chat,
    Decision,
    Goal,
    Membership,
    Person,
    Poll,
    Reminder,
    ScheduledJob,
    WorkingGroup,
)
from storage.models.scheduled_job import JobStatus
from tests.harness import BotHarness


async def ag(bot: BotHarness) -> int:
    await bot.setup_group("AG Bildung")
    await bot.say("/beschluss Wir treffen uns vierteljährlich.")
    await bot.say("/ziel Bis 2027 eine Übersicht der Bildungsangebote.")
    await bot.send("Hallo", user="mia")
    [group] = await bot.rows(WorkingGroup)
    return group.id


async def code(bot: BotHarness, group_id: int) -> str:
    [anna] = await bot.rows(Person, Person.username == "anna")
    return day_code(SimpleNamespace(clock=bot.app.clock, person=anna), "ag-loeschen", group_id)


async def pending(bot: BotHarness) -> list[str]:
    rows = await bot.rows(ScheduledJob, ScheduledJob.status == JobStatus.PENDING)
    return sorted(job.kind for job in rows)


async def test_closing_ends_planned_things_and_blocks_new_ones(bot: BotHarness) -> None:
    await ag(bot)
    await bot.say("/erinnerung morgen 18 Uhr: Raum buchen")
    await bot.say("/erinnerung morgen 8 Uhr: Zahnarzt", user="mia", private=True)
    await bot.send("/abstimmung Sommerfest? | ja | nein")
    assert await pending(bot) == ["poll.close", "poll.remind", "reminder", "reminder"]
    reply = await bot.say("/ag schliessen")
    assert "AG Bildung ist geschlossen" in reply
    assert "2 geplante Erinnerungen und Ankündigungen sind abgesagt" in reply
    # The poll still closes at its deadline, and mia's own reminder stays; nothing else is left.
    assert await pending(bot) == ["poll.close", "reminder"]
    [mine] = await bot.rows(Reminder, Reminder.text == "Zahnarzt")
    assert [
        j.ref_id
        for j in await bot.rows(
            ScheduledJob, ScheduledJob.kind == "reminder", ScheduledJob.status == JobStatus.PENDING
        )
    ] == [mine.id]
    for line in (
        "/erinnerung morgen 9 Uhr: Neu",
        "/treffen morgen 19 Uhr: Treffen",
        "/abstimmung Noch eine?",
    ):
        assert "ist geschlossen: ich plane dort nichts Neues" in await bot.say(line), line
    # Reading works; a member's own reminder in the private chat too.
    assert "vierteljährlich" in await bot.say("/beschluesse", user="mia")
    assert "Erinnerung Nr. 2" in await bot.say("/erinnerung morgen 9 Uhr: Tee", user="mia", private=True)
    assert "geschlossen" in await bot.say("/ag")
    assert "schon geschlossen" in await bot.say("/ag schliessen")
    # Opening again.
    assert "wieder offen" in await bot.say("/ag oeffnen")
    assert "Erinnerung Nr. 2" in await bot.say("/erinnerung morgen 9 Uhr: Neu")
    assert "nicht geschlossen" in await bot.say("/ag oeffnen")


async def test_a_closed_ag_gets_no_hints(bot: BotHarness) -> None:
    group_id = await ag(bot)
    await bot.say("/ag schliessen")
    await bot.send("Hallo", user="mia")  # any activity tells the guard the AG's state
    watcher = bot.app.component("reopen")
    enabled, _ = watcher._settings[group_id]
    assert not enabled


async def test_deleting_offers_the_register_then_deletes_after_the_grace_period(bot: BotHarness) -> None:
    group_id = await ag(bot)
    await bot.send("/abstimmung Sommerfest? | ja | nein")
    ask = await bot.say("/ag loeschen")
    assert "AG Bildung löschen?" in ask and "7 Tagen" in ask
    files = [m for m in bot.sent_to("anna") if m.attachment is not None]
    assert sorted(f.attachment.filename.rsplit(".", 1)[1] for f in files) == ["json", "md"]
    document = json.loads(next(f for f in files if f.attachment.filename.endswith(".json")).attachment.data)
    assert "Wir treffen uns vierteljährlich." in json.dumps(document, ensure_ascii=False)
    markdown = next(f for f in files if f.attachment.filename.endswith(".md")).attachment.data.decode()
    assert "vierteljährlich" in markdown
    assert await bot.count(WorkingGroup, WorkingGroup.delete_after.is_not(None)) == 0  # only asked
    assert "stimmt nicht" in await bot.say("/ag loeschen ja 0000")
    done = await bot.say(f"/ag loeschen ja {await code(bot, group_id)}")
    assert "wird am 28.11.2026 gelöscht" in done
    assert "wird am 28.11.2026 gelöscht" in await bot.say("/ag")
    await bot.app.component("datenschutz").start()
    # Six days later it is still there; after the seventh day's run it is gone.
    await bot.advance(timedelta(days=6, hours=20))
    assert await bot.count(WorkingGroup) == 1
    await bot.advance(timedelta(days=1))
    assert await bot.count(WorkingGroup) == 0
    for model in (Decision, Goal, Membership, Poll, Reminder):
        assert await bot.count(model) == 0, model
    assert await bot.count(ScheduledJob, ScheduledJob.group_id.is_not(None)) == 0
    [chat] = await bot.rows(Chat, Chat.external_id == "group:ag")
    assert chat.group_id is None
    # The chat can found a new AG.
    assert "angelegt" in await bot.say("/ag anlegen AG Neu")


async def test_restoring_within_the_grace_period_keeps_everything(bot: BotHarness) -> None:
    group_id = await ag(bot)
    await bot.say(f"/ag loeschen ja {await code(bot, group_id)}")
    assert "schon gelöscht" in await bot.say("/ag loeschen")
    assert "Erst /ag wiederherstellen" in await bot.say("/ag oeffnen")
    assert "wird nicht gelöscht" in await bot.say("/ag wiederherstellen")
    await bot.app.component("datenschutz").start()
    await bot.advance(timedelta(days=10))
    assert await bot.count(WorkingGroup) == 1 and await bot.count(Decision) == 1
    assert "geschlossen" in await bot.say("/ag")
    assert "wieder offen" in await bot.say("/ag oeffnen")
    assert "nicht gelöscht werden" in await bot.say("/ag wiederherstellen")


async def test_members_may_not_close_or_delete(bot: BotHarness) -> None:
    await ag(bot)
    for line in ("/ag schliessen", "/ag loeschen", "/ag wiederherstellen", "/ag oeffnen"):
        reply = await bot.say(line, user="mia")
        assert "Koordination" in reply, (line, reply)
    assert await bot.count(WorkingGroup, WorkingGroup.closed_at.is_not(None)) == 0
