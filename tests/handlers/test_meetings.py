"""/treffen, /tagesordnung, /kalender and the meeting jobs through the router and the scheduler.

The clock starts on Saturday 21 November 2026, 10:00 in Berlin; "jeden Dienstag 18 Uhr" is first
on Tuesday 24 November, 18:00 (17:00 UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.events import OutgoingMessage
from bot.core.ports import ManualClock
from storage.models import AgendaItem, JobStatus, Meeting, MeetingStatus, ScheduledJob, WorkingGroup
from tests.harness import BotHarness

BERLIN = ZoneInfo("Europe/Berlin")
WEEKLY = "/treffen jeden Dienstag 18 Uhr: Plenum | Bürgerhaus, Raum 3"
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


def berlin(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A Berlin wall time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def texts(messages: list[OutgoingMessage], chat: str = "group:ag") -> list[str]:
    """The plain texts of the messages sent to one chat."""
    return [m.markup.plain() for m in messages if m.chat.external_id == chat]


async def members(bot: BotHarness, *names: str) -> None:
    """People write in the group chat, so they are members of its AG."""
    for name in names:
        await bot.send("Hallo zusammen", user=name)


async def run_after_downtime(bot: BotHarness, clock: ManualClock, until: datetime) -> list[OutgoingMessage]:
    """The bot was down until ``until``: the clock jumps without firing, then the scheduler
    catches up once (as at a start)."""
    before = len(bot.messenger.sent)
    clock.set(until)
    await bot.app.component("scheduler").run_due()
    await bot.settle()
    return bot.messenger.sent[before:]


async def pending(bot: BotHarness) -> list[tuple[str, datetime, str | None]]:
    """Pending jobs as (kind, due, offset), by due time."""
    rows = await bot.rows(
        ScheduledJob, ScheduledJob.status == JobStatus.PENDING, order_by=[ScheduledJob.due_at]
    )
    return [(j.kind, j.due_at, j.data.get("offset")) for j in rows]


# Creating and listing ----------------------------------------------------------------------------


async def test_create_one_off_and_recurring_then_list(bot: BotHarness) -> None:
    await bot.setup_group()
    created = await bot.say(WEEKLY)
    assert "Treffen Nr. 1 geplant: Plenum" in created
    assert "jeden Dienstag um 18:00 (nächste: Di 24.11., Di 1.12., Di 8.12.)" in created
    assert "Bürgerhaus, Raum 3" in created and "1 Tag und 1 Stunde" in created
    created = await bot.say("/treffen morgen 15 Uhr: Vorbereitung")
    assert "Nr. 2" in created and "So, 22.11.2026 um 15:00" in created

    listing = await bot.say("/treffen", user="bernd")
    [sunday, tuesday] = [line for line in listing.splitlines() if line.startswith("• Nr.")]  # soonest first
    assert sunday.startswith("• Nr. 2 So, 22.11.2026 um 15:00 – Vorbereitung")
    assert "jeden Dienstag um 18:00" in tuesday and "Bürgerhaus" in tuesday
    # Reading works privately too; changing does not.
    assert "Plenum" in await bot.say("/treffen", user="bernd", chat="bernd", private=True)
    assert "Gruppe" in await bot.say("/treffen heute 20 Uhr: Privat", chat="anna", private=True)
    assert "Koordination" in await bot.say("/treffen heute 20 Uhr: Von Bernd", user="bernd")
    assert await bot.count(Meeting) == 2
    shown = await bot.say("/treffen 1")
    assert "Nächste Termine: Di 24.11., Di 1.12., Di 8.12." in shown
    assert "gibt es in dieser AG nicht" in await bot.say("/treffen 7")
    assert [(k, o) for k, _, o in await pending(bot)] == [
        ("meeting.remind", "1d"),  # Sa 15:00 for Sunday's
        ("meeting.remind", "1h"),
        ("meeting.followup", None),
        ("meeting.remind", "1d"),  # Mo 18:00 for Tuesday's
        ("meeting.remind", "1h"),
        ("meeting.followup", None),
    ]


async def test_bad_input_is_explained(bot: BotHarness) -> None:
    await bot.setup_group()
    assert "Doppelpunkt" in await bot.say("/treffen morgen 18 Uhr")  # no title
    assert "verstehe ich nicht" in await bot.say("/treffen irgendwann: Plenum")
    assert "schon vorbei" in await bot.say("/treffen heute 8 Uhr: Frühstück")
    assert "zu lang" in await bot.say("/treffen morgen 18 Uhr: " + "x" * 201)
    assert await bot.count(Meeting) == 0


async def test_a_meeting_soon_gets_no_notice_that_has_passed(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/treffen in 30 Minuten: Kurze Abstimmung")
    assert [k for k, _, _ in await pending(bot)] == ["meeting.followup"]
    sent = await bot.advance(timedelta(minutes=29))
    assert texts(sent) == []


# Notices with the agenda ------------------------------------------------------------------------


async def test_notices_a_day_and_an_hour_before_carry_the_agenda_to_every_chat(bot: BotHarness) -> None:
    await bot.setup_group()
    code = CODE.search(await bot.say("/ag verknuepfen"))
    assert code
    await bot.say(f"/ag verknuepfen {code.group(0)}", chat="ag2")
    await members(bot, "bernd", "carla")
    await bot.say(WEEKLY)
    assert "Punkt 1" in await bot.say("/tagesordnung Haushalt 2027", user="bernd")
    assert "Punkt 2" in await bot.say("/tagesordnung Sommerfest", user="carla", chat="carla", private=True)

    assert texts(await bot.advance(to=berlin(11, 23, 17, 59))) == []
    sent = await bot.advance(to=berlin(11, 23, 18))
    [notice] = texts(sent)
    assert texts(sent, "group:ag2") == [notice]
    assert "Di, 24.11.2026 um 18:00 – Plenum (Bürgerhaus, Raum 3)" in notice
    assert "1. Haushalt 2027" in notice and "2. Sommerfest" in notice and "verspätet" not in notice

    await bot.say("/tagesordnung Protokoll verteilen", user="bernd")
    assert texts(await bot.advance(to=berlin(11, 24, 16, 59))) == []
    [notice] = texts(await bot.advance(to=berlin(11, 24, 17)))
    assert "3. Protokoll verteilen" in notice
    # Nothing twice: the next notice is the next week's, a day before.
    assert texts(await bot.advance(to=berlin(11, 30, 17, 59))) == []
    [notice] = texts(await bot.advance(to=berlin(11, 30, 18)))
    assert "Di, 01.12.2026 um 18:00" in notice and "Noch keine Tagesordnung" in notice


async def test_changing_the_offsets_changes_the_next_notices(bot: BotHarness) -> None:
    await bot.setup_group()
    await members(bot, "bernd")
    await bot.say(WEEKLY)
    assert "1 Tag und 1 Stunde" in await bot.say(
        "/treffen erinnern", user="bernd", chat="bernd", private=True
    )
    assert "Koordination" in await bot.say("/treffen erinnern 2d", user="bernd")
    assert "Gruppe" in await bot.say("/treffen erinnern 2d", chat="anna", private=True)
    assert "verstehe" in await bot.say("/treffen erinnern 2x")
    assert "4 Wochen" in await bot.say("/treffen erinnern 5w")
    assert "Höchstens 4" in await bot.say("/treffen erinnern 1m 2m 3m 4m 5m")
    [group] = await bot.rows(WorkingGroup)
    assert group.meeting_reminders == "1d 1h"

    reply = await bot.say("/treffen erinnern 2 d, 1h")
    assert "2 Tage und 1 Stunde" in reply
    [group] = await bot.rows(WorkingGroup)
    assert group.meeting_reminders == "2d 1h"
    # Sunday 18:00 is within two days of Tuesday 18:00, but it is Saturday now: still ahead.
    assert [(o, due) for _, due, o in await pending(bot)] == [
        ("2d", berlin(11, 22, 18)),
        ("1h", berlin(11, 24, 17)),
        (None, berlin(11, 24, 19)),
    ]
    [notice] = texts(await bot.advance(to=berlin(11, 22, 18)))
    assert "Plenum" in notice
    assert texts(await bot.advance(to=berlin(11, 24, 16, 59))) == []  # no "1 day before" any more
    assert len(texts(await bot.advance(to=berlin(11, 24, 17)))) == 1

    assert "nicht mehr erinnert" in await bot.say("/treffen erinnern aus")
    assert [k for k, _, _ in await pending(bot)] == ["meeting.followup"]
    assert texts(await bot.advance(to=berlin(12, 1, 18, 30))) == []


# The agenda --------------------------------------------------------------------------------------


async def test_agenda_add_show_delete_with_permissions(bot: BotHarness) -> None:
    await bot.setup_group()
    await members(bot, "bernd", "carla", "dora")
    assert "kein Treffen geplant" in await bot.say("/tagesordnung Haushalt", user="bernd")
    await bot.say(WEEKLY)
    await bot.say("/tagesordnung Haushalt 2027", user="bernd")
    await bot.say("/tagesordnung Sommerfest", user="carla")
    shown = await bot.say("/tagesordnung", user="dora", chat="dora", private=True)
    assert "1. Haushalt 2027 (Bernd)" in shown and "2. Sommerfest (Carla)" in shown
    assert "Di, 24.11.2026 um 18:00 – Plenum" in shown

    assert "jemand anderes" in await bot.say("/tagesordnung loeschen 2", user="bernd")
    assert "gestrichen" in await bot.say("/tagesordnung loeschen 1", user="bernd")
    assert "steht nicht" in await bot.say("/tagesordnung loeschen 1", user="bernd")
    assert "gestrichen" in await bot.say("/tagesordnung loeschen 2")  # the koordination may
    assert "Noch keine Tagesordnung" in await bot.say("/tagesordnung")
    # Numbers are not reused: a new item is number 3.
    assert "Punkt 3" in await bot.say("/tagesordnung Neues", user="bernd")
    items = await bot.rows(AgendaItem, order_by=[AgendaItem.number])
    assert [(i.number, i.deleted_at is not None) for i in items] == [(1, True), (2, True), (3, False)]


# The follow-up -----------------------------------------------------------------------------------


async def test_follow_up_asks_the_koordination_privately_an_hour_after_the_start(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say(WEEKLY)
    await bot.say("/tagesordnung Haushalt 2027", user="bernd")
    await bot.advance(to=berlin(11, 24, 18, 59))
    assert not [m for m in bot.sent_to("anna") if "Beschlüsse" in m.markup.plain()]
    sent = await bot.advance(to=berlin(11, 24, 19))
    [ask] = [m for m in sent if m.chat.is_private]
    assert ask.chat.external_id == "id-anna" and "/beschluss" in ask.markup.plain()
    assert "Haushalt 2027" in ask.markup.plain()
    assert ask.fallback is not None and ask.fallback.chat.external_id == "group:ag"
    assert texts(sent) == []
    # The series goes on: the next occurrence's jobs are scheduled.
    [meeting] = await bot.rows(Meeting)
    assert meeting.next_start == berlin(12, 1, 18)
    assert [due for _, due, _ in await pending(bot)] == [
        berlin(11, 30, 18),
        berlin(12, 1, 17),
        berlin(12, 1, 19),
    ]


async def test_a_one_off_meeting_is_done_after_its_follow_up(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/treffen am 3.12. um 17:30: Klausur")
    sent = await bot.advance(to=berlin(12, 3, 18, 30))
    assert len(texts(sent)) == 2 and len([m for m in sent if m.chat.is_private]) == 1
    [meeting] = await bot.rows(Meeting)
    assert meeting.status is MeetingStatus.DONE and meeting.next_start is None
    assert await pending(bot) == []
    assert "kein Treffen geplant" in await bot.say("/treffen")


# Cancelling --------------------------------------------------------------------------------------


async def test_cancel_one_occurrence_then_the_series(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say(WEEKLY)
    assert "Koordination" in await bot.say("/treffen absagen 1 24.11.", user="bernd")
    assert "keinen Termin" in await bot.say("/treffen absagen 1 25.11.")
    assert "kein einzelnes Datum" in await bot.say("/treffen absagen 1 jeden Tag")
    await bot.say("/tagesordnung Haushalt 2027", user="bernd")
    reply = await bot.say("/treffen absagen 1 24.11.")
    assert "am Di, 24.11.2026 um 18:00 fällt aus" in reply
    assert "Nächster Termin: Di, 01.12.2026 um 18:00" in reply and "1 Punkt" in reply
    assert "schon abgesagt" in await bot.say("/treffen absagen 1 24.11.")
    assert "Di, 01.12.2026" in await bot.say("/tagesordnung")

    # No notice and no follow-up for the 24th; the 1st of December comes as usual, with the agenda.
    sent = await bot.advance(to=berlin(11, 30, 17, 59))
    assert sent == []
    [notice] = texts(await bot.advance(to=berlin(11, 30, 18)))
    assert "Di, 01.12.2026 um 18:00" in notice and "1. Haushalt 2027" in notice

    reply = await bot.say("/treffen absagen 1")
    assert "mit allen weiteren Terminen" in reply
    assert await pending(bot) == []
    assert await bot.advance(timedelta(days=14)) == []
    assert "schon abgesagt oder vorbei" in await bot.say("/treffen absagen 1")


async def test_cancelling_the_only_occurrence_ends_a_one_off(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/treffen am 3.12. um 17:30: Klausur")
    assert "keinen weiteren Termin" in await bot.say("/treffen absagen 1 3.12.")
    [meeting] = await bot.rows(Meeting)
    assert meeting.status is MeetingStatus.CANCELLED
    assert await pending(bot) == []


# Downtime ----------------------------------------------------------------------------------------


async def test_a_notice_due_during_a_short_downtime_is_sent_late_with_a_note(
    bot: BotHarness, clock: ManualClock
) -> None:
    await bot.setup_group()
    await bot.say(WEEKLY)
    assert len(texts(await bot.advance(to=berlin(11, 23, 18)))) == 1  # a day before, on time
    sent = await run_after_downtime(bot, clock, berlin(11, 24, 17, 40))
    [notice] = texts(sent)
    assert "(verspätet, fällig war 17:00)" in notice and "Plenum" in notice
    assert not bot.sent_to("anna") or all("offline" not in m.markup.plain() for m in bot.sent_to("anna"))
    # Sent once: nothing more until the follow-up.
    assert texts(await bot.advance(to=berlin(11, 24, 18, 59))) == []


async def test_of_two_notices_due_during_a_downtime_only_the_later_goes_out(
    bot: BotHarness, clock: ManualClock
) -> None:
    await bot.setup_group()
    await bot.say(WEEKLY)
    # Down from Saturday until Tuesday 17:40: the day-before notice is long overdue, the
    # hour-before one within grace; it says the same, so it alone goes out, and nothing is missed.
    sent = await run_after_downtime(bot, clock, berlin(11, 24, 17, 40))
    [notice] = texts(sent)
    assert "(verspätet, fällig war 17:00)" in notice
    assert [m for m in sent if m.chat.is_private] == []
    statuses = {j.data.get("offset"): j.status for j in await bot.rows(ScheduledJob)}
    assert statuses == {"1d": JobStatus.DONE, "1h": JobStatus.DONE, None: JobStatus.PENDING}


async def test_notices_missed_beyond_grace_are_reported_and_the_series_goes_on(
    bot: BotHarness, clock: ManualClock
) -> None:
    await bot.setup_group()
    await bot.say(WEEKLY)
    # Down from Saturday until Wednesday: both notices and the follow-up of the 24th are too late.
    sent = await run_after_downtime(bot, clock, berlin(11, 25, 10))
    assert texts(sent) == []
    [report] = [m.markup.plain() for m in sent if m.chat.external_id == "id-anna"]
    assert "offline" in report
    assert "Erinnerung an „Plenum“ am Di, 24.11.2026 um 18:00" in report
    assert "Nachfrage nach den Beschlüssen von „Plenum“ am Di, 24.11.2026 um 18:00" in report
    # The series continues with the next occurrence, each notice once.
    [notice] = texts(await bot.advance(to=berlin(11, 30, 18)))
    assert "Di, 01.12.2026" in notice


async def test_occurrences_slept_through_are_listed(bot: BotHarness, clock: ManualClock) -> None:
    await bot.setup_group()
    await bot.say(WEEKLY)
    sent = await run_after_downtime(bot, clock, berlin(12, 10, 10))  # 24.11., 1.12. and 8.12. gone
    reports = [m.markup.plain() for m in sent if m.chat.external_id == "id-anna"]
    report = "\n".join(reports)
    assert "Treffen „Plenum“ am Di, 01.12.2026 um 18:00 (ohne Erinnerung und Nachfrage)" in report
    assert "Treffen „Plenum“ am Di, 08.12.2026 um 18:00" in report
    [meeting] = await bot.rows(Meeting)
    assert meeting.next_start == berlin(12, 15, 18)
    [notice] = texts(await bot.advance(to=berlin(12, 14, 18)))
    assert "Di, 15.12.2026" in notice


# Daylight saving time ----------------------------------------------------------------------------


async def test_weekly_meeting_stays_at_six_across_the_end_of_summer_time(
    bot: BotHarness, clock: ManualClock
) -> None:
    clock.set(berlin(10, 17, 10))  # Saturday before the last Sunday of October (the 25th)
    await bot.setup_group()
    await bot.say(WEEKLY)
    sent = await bot.advance(to=berlin(11, 4, 12))
    notices = texts(sent)
    assert len(notices) == 6  # a day and an hour before each of 20.10., 27.10., 3.11.
    assert "Di, 20.10.2026 um 18:00" in notices[0] and "Di, 27.10.2026 um 18:00" in notices[2]
    hour_before = await bot.rows(
        ScheduledJob, ScheduledJob.kind == "meeting.remind", order_by=[ScheduledJob.due_at]
    )
    fired = [
        j.fired_at.astimezone(BERLIN).strftime("%d.%m. %H:%M")
        for j in hour_before
        if j.data["offset"] == "1h" and j.fired_at is not None
    ]
    assert fired == ["20.10. 17:00", "27.10. 17:00", "03.11. 17:00"]
    # 18:00 local is 16:00 UTC in summer and 17:00 UTC in winter.
    [first, second, *_] = [j.due_at for j in hour_before if j.data["offset"] == "1h"]
    assert (first.hour, second.hour) == (15, 16)


# The brief and the calendar ------------------------------------------------------------------------


async def test_the_newcomers_brief_names_the_next_meeting(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/ziel Fortbildungstag planen")
    await bot.say(WEEKLY)
    await bot.join("erik")
    [brief] = bot.sent_to("erik")
    assert "Nächstes Treffen: Di, 24.11.2026 um 18:00 – Plenum (Bürgerhaus, Raum 3)" in brief.markup.plain()


async def test_calendar_file(bot: BotHarness) -> None:
    await bot.setup_group()
    await members(bot, "bernd")
    assert "keine Treffen" in await bot.say("/kalender")
    await bot.say(WEEKLY)
    await bot.say("/treffen absagen 1 1.12.")
    reply = await bot.say("/kalender", user="bernd", chat="bernd", private=True)
    assert "1 Treffen" in reply
    attachment = bot.last.attachment
    assert attachment is not None
    assert (attachment.filename, attachment.mime_type) == ("ag-bildung.ics", "text/calendar")
    text = attachment.data.decode()
    assert "RRULE:FREQ=WEEKLY;BYDAY=TU" in text
    assert "EXDATE;TZID=Europe/Berlin:20261201T180000" in text
    assert "DTSTART;TZID=Europe/Berlin:20261124T180000" in text and "BEGIN:VTIMEZONE" in text
