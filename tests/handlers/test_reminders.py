"""``/erinnerung`` and ``/erinnerungen`` through the harness: setting (German and English), firing at
the meant local time (across daylight-saving changes too), errors, pause and resume, who may
change what, private reminders, listings, and nothing firing twice.

When a reminder fired is read from its outbox row: it is written in the firing transaction, at
the clock's time then (delivery may happen a moment later, after the clock moved on).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.codec import decode_markup
from bot.core.ports import ManualClock
from bot.jobs.retention import JOB_KIND as RETENTION_JOB
from bot.services import reminders as reminder_rules
from storage.models import JobStatus, OutboxMessage, Reminder, ReminderStatus, ScheduledJob
from tests.harness import BotHarness

BERLIN = ZoneInfo("Europe/Berlin")
# The clock fixture starts at Saturday, 21 November 2026, 10:00 in Berlin.


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute)


async def fired(bot: BotHarness) -> list[tuple[datetime, str, str]]:
    """Reminders sent so far: (local time when fired, chat id, plain text), in order."""
    found = []
    for row in await bot.rows(OutboxMessage, order_by=[OutboxMessage.id]):
        text = decode_markup(row.payload["markup"]).plain()
        if text.startswith(("⏰ Erinnerung:", "⏰ Reminder:")):
            when = row.created_at.astimezone(BERLIN).replace(tzinfo=None)
            found.append((when, row.chat_id, text))
    return found


async def until(bot: BotHarness, moment: datetime) -> None:
    """Move the clock to a local Berlin time, firing everything due on the way."""
    await bot.advance(to=moment.replace(tzinfo=BERLIN).astimezone(UTC))


# --------------------------------------------------------------------------------------------
# Every kind of expression fires at its local time


GERMAN = [
    ("morgen 18 Uhr", [local(2026, 11, 22, 18)]),
    ("heute Abend", [local(2026, 11, 21, 19)]),
    ("übermorgen früh", [local(2026, 11, 23, 8)]),
    ("in 2 Stunden", [local(2026, 11, 21, 12)]),
    ("in 10 Minuten", [local(2026, 11, 21, 10, 10)]),
    ("in einer Woche", [local(2026, 11, 28, 10)]),
    ("18 Uhr", [local(2026, 11, 21, 18)]),
    ("morgen 18:30", [local(2026, 11, 22, 18, 30)]),
    ("morgen 18.30 Uhr", [local(2026, 11, 22, 18, 30)]),
    ("morgen 18h", [local(2026, 11, 22, 18)]),
    ("morgen 6 Uhr abends", [local(2026, 11, 22, 18)]),
    ("am 3.12. um 17:30", [local(2026, 12, 3, 17, 30)]),
    ("3.12.2026 17:30", [local(2026, 12, 3, 17, 30)]),
    ("3. Dezember 18 Uhr", [local(2026, 12, 3, 18)]),
    ("Freitag 9 Uhr", [local(2026, 11, 27, 9)]),
    ("nächsten Montag", [local(2026, 11, 23, 9)]),
    ("Ende des Monats", [local(2026, 11, 30, 9)]),
    ("jeden Dienstag 18 Uhr", [local(2026, 11, 24, 18), local(2026, 12, 1, 18), local(2026, 12, 8, 18)]),
    ("montags und donnerstags 19:30", [local(2026, 11, 23, 19, 30), local(2026, 11, 26, 19, 30)]),
    ("jeden ersten Dienstag im Monat 17 Uhr", [local(2026, 12, 1, 17), local(2027, 1, 5, 17)]),
    ("jeden letzten Freitag im Monat", [local(2026, 11, 27, 9), local(2026, 12, 25, 9)]),
    ("alle 2 Wochen freitags 9 Uhr", [local(2026, 11, 27, 9), local(2026, 12, 11, 9)]),
    ("werktags 8 Uhr", [local(2026, 11, 23, 8), local(2026, 11, 24, 8), local(2026, 11, 25, 8)]),
    ("täglich 9 Uhr", [local(2026, 11, 22, 9), local(2026, 11, 23, 9)]),
    ("monatlich am 15. um 10 Uhr", [local(2026, 12, 15, 10), local(2027, 1, 15, 10)]),
    ("monatlich am letzten Tag", [local(2026, 11, 30, 9), local(2026, 12, 31, 9)]),
    ("jährlich am 1.3.", [local(2027, 3, 1, 9), local(2028, 3, 1, 9)]),
]


@pytest.mark.parametrize(("expression", "expected"), GERMAN, ids=[e for e, _ in GERMAN])
async def test_german_expressions_fire_at_their_local_time(
    bot: BotHarness, expression: str, expected: list[datetime]
) -> None:
    await bot.setup_group()
    reply = await bot.say(f"/erinnerung {expression}: Bitte an das Protokoll denken")
    assert reply.startswith("✅ Erinnerung Nr. 1: ")
    await until(bot, expected[-1] + timedelta(minutes=1))
    sent = await fired(bot)
    assert [when for when, _, _ in sent] == expected
    assert {chat for _, chat, _ in sent} == {"group:ag"}
    assert sent[0][2].startswith("⏰ Erinnerung: Bitte an das Protokoll denken")


ENGLISH = [
    ("tomorrow 6pm", [local(2026, 11, 22, 18)]),
    ("tonight", [local(2026, 11, 21, 19)]),
    ("in 2 hours", [local(2026, 11, 21, 12)]),
    ("on 3 Dec at 17:30", [local(2026, 12, 3, 17, 30)]),
    ("Friday 9am", [local(2026, 11, 27, 9)]),
    ("next Monday", [local(2026, 11, 23, 9)]),
    ("end of month", [local(2026, 11, 30, 9)]),
    ("every Tuesday 6pm", [local(2026, 11, 24, 18), local(2026, 12, 1, 18)]),
    ("every first Tuesday of the month 5pm", [local(2026, 12, 1, 17), local(2027, 1, 5, 17)]),
    ("every other Friday", [local(2026, 11, 27, 9), local(2026, 12, 11, 9)]),
    ("weekdays 8am", [local(2026, 11, 23, 8), local(2026, 11, 24, 8)]),
    ("daily 9am", [local(2026, 11, 22, 9), local(2026, 11, 23, 9)]),
    ("monthly on the 15th at 10am", [local(2026, 12, 15, 10), local(2027, 1, 15, 10)]),
]


@pytest.mark.parametrize(("expression", "expected"), ENGLISH, ids=[e for e, _ in ENGLISH])
async def test_english_expressions_in_an_english_ag(
    bot: BotHarness, expression: str, expected: list[datetime]
) -> None:
    await bot.setup_group()
    await bot.say("/ag sprache en")
    reply = await bot.say(f"/reminder {expression}: send the minutes")
    assert reply.startswith("✅ Reminder no. 1: ")
    await until(bot, expected[-1] + timedelta(minutes=1))
    sent = await fired(bot)
    assert [when for when, _, _ in sent] == expected
    assert sent[0][2].startswith("⏰ Reminder: send the minutes")


async def test_the_confirmation_repeats_the_understood_time(bot: BotHarness) -> None:
    await bot.setup_group()
    reply = await bot.say("/erinnerung morgen 18 Uhr: Protokoll schicken")
    assert reply == "✅ Erinnerung Nr. 1: So, 22.11.2026 um 18:00 – „Protokoll schicken“"
    reply = await bot.say("/erinnerung jeden Dienstag 18 Uhr: Treffen")
    assert reply == (
        "✅ Erinnerung Nr. 2: jeden Dienstag um 18:00 (nächste: Di 24.11., Di 1.12., Di 8.12.) – „Treffen“"
    )
    reply = await bot.say("/erinnerung montags und donnerstags 19:30 bis 31.3.2027: Chor")
    assert "montags" not in reply and "jeden Montag und Donnerstag um 19:30 bis 31.03.2027" in reply
    assert "(nächste: Mo 23.11., Do 26.11., Mo 30.11.)" in reply
    reply = await bot.say("/erinnerung jährlich am 1.3.: Jahresbericht")
    assert "jährlich am 1. März um 09:00 (nächste: Mo 1.3.2027, Mi 1.3.2028, Do 1.3.2029)" in reply
    await bot.say("/ag sprache en")
    reply = await bot.say("/reminder every Tuesday 6pm: Meeting")
    assert reply.startswith("✅ Reminder no. 5: every Tuesday at 6:00\u202fPM (next: Tue Nov 24, Tue Dec 1")


async def test_a_multi_line_text_arrives_whole(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/erinnerung in 10 Minuten: Tagesordnung:\n- Haushalt\n- Sommerfest")
    [message] = await bot.advance(timedelta(minutes=10))
    assert message.markup.plain() == "⏰ Erinnerung: Tagesordnung:\n- Haushalt\n- Sommerfest"


# --------------------------------------------------------------------------------------------
# Daylight saving time


@pytest.mark.parametrize(
    ("start", "expected_utc_hours"),
    [
        # Last Sunday of March 2027 is the 28th: Tuesdays 23 March (winter) and 30 March (summer).
        (datetime(2027, 3, 20, 9, 0, tzinfo=UTC), [17, 16, 16]),
        # Last Sunday of October 2027 is the 31st: 26 October (summer), 2 November (winter).
        (datetime(2027, 10, 23, 8, 0, tzinfo=UTC), [16, 17, 17]),
    ],
    ids=["march", "october"],
)
async def test_weekly_reminder_stays_at_18_local_across_the_clock_change(
    bot: BotHarness, clock: ManualClock, start: datetime, expected_utc_hours: list[int]
) -> None:
    clock.set(start)
    await bot.setup_group()
    await bot.say("/erinnerung jeden Dienstag 18 Uhr: Treffen")
    await bot.advance(timedelta(days=21))
    rows = [
        r for r in await bot.rows(OutboxMessage, order_by=[OutboxMessage.id]) if "Treffen" in str(r.payload)
    ]
    rows = rows[1:]  # the confirmation
    assert [r.created_at.hour for r in rows] == expected_utc_hours
    local_times = [r.created_at.astimezone(BERLIN) for r in rows]
    assert {(t.hour, t.minute, t.weekday()) for t in local_times} == {(18, 0, 1)}


# --------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/erinnerung heute 8 Uhr: Kaffee", ["„heute 8 Uhr“ wäre 21.11.2026, 08:00", "`morgen 18 Uhr`"]),
        ("/erinnerung 30.2.: Kaffee", ["„30.2.“ gibt es im Kalender nicht", "`am 28.2. um 18 Uhr`"]),
        ("/erinnerung um 6: Kaffee", ["kann 06:00 oder 18:00 heißen", "`06:00` oder `18:00`"]),
        ("/erinnerung morgen 18 Uhr", ["einen Doppelpunkt", "/erinnerung <wann>: <Text>"]),
        ("/erinnerung : Kaffee", ["Vor dem Doppelpunkt fehlt die Zeit"]),
        ("/erinnerung irgendwann mal: Kaffee", ["verstehe ich nicht", "`jeden Dienstag 18 Uhr`"]),
        ("/erinnerung morgen 18 Uhr bis Freitag: Kaffee", ["nur bei wiederkehrenden Zeiten"]),
        ("/erinnerung täglich 9 Uhr bis 1.11.2026: Kaffee", ["liegt vor dem ersten Termin"]),
        ("/erinnerung Mittwoch, 3.12.2026: Kaffee", ["Der 03.12.2026 ist ein Donnerstag"]),
        ("/erinnerung 3.12.2099: Kaffee", ["mehr als 10 Jahre"]),
        ("/erinnerung", ["/erinnerung <wann>: <Text>"]),
        ("/erinnerung morgen 18 Uhr: " + "x" * 1001, ["1001"]),
        ("/erinnerung " + "morgen " * 100 + ": Kaffee", ["verstehe ich nicht"]),
        ("/erinnerung loeschen", ["Nummer"]),
        ("/erinnerung loeschen abc", ["abc"]),
        ("/erinnerung loeschen -1", ["-1"]),
        ("/erinnerung pause 0", ["0"]),
        ("/erinnerung loeschen 7", ["keine offene Erinnerung Nr. 7"]),
        ("/erinnerung pause 7", ["keine offene Erinnerung Nr. 7"]),
        ("/erinnerung weiter 99999999999", ["99999999999"]),
    ],
)
async def test_errors_are_clear_and_change_nothing(bot: BotHarness, line: str, expected: list[str]) -> None:
    await bot.setup_group()
    reply = await bot.say(line)
    html = bot.last_html()
    for part in expected:
        assert part.replace("`", "") in reply or part.replace("`", "") in html, reply
    assert await bot.count(Reminder) == 0
    assert await bot.count(ScheduledJob) == 0


async def test_english_errors_have_english_examples(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/ag sprache en")
    await bot.say("/reminder someday: x")
    assert "`tomorrow 6pm` or `every Tuesday 6pm`" in with_code(bot)
    reply = await bot.say("/reminder 30.2.: x")
    assert reply.startswith("“30.2.” does not exist in the calendar")


def with_code(bot: BotHarness) -> str:
    """The last message with its code spans back in backticks (as the catalog writes them)."""
    return "".join(f"`{s.text}`" if s.code else s.text for line in bot.last.markup.lines for s in line.spans)


async def test_a_scope_has_at_most_so_many_open_reminders(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reminder_rules, "MAX_OPEN", 2)
    await bot.setup_group()
    await bot.say("/erinnerung morgen 18 Uhr: eins")
    await bot.say("/erinnerung morgen 19 Uhr: zwei")
    assert "schon 2 Erinnerungen offen" in await bot.say("/erinnerung morgen 20 Uhr: drei")
    # Private reminders count apart from the AG's.
    assert "Nr. 1" in await bot.say("/erinnerung morgen 20 Uhr: privat", private=True)
    await bot.say("/erinnerung loeschen 2")
    assert "Nr. 3" in await bot.say("/erinnerung morgen 20 Uhr: drei")  # numbers are not reused


# --------------------------------------------------------------------------------------------
# Listing, pause and resume


async def test_the_list_shows_numbers_next_times_and_paused_ones(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.send("Hallo", user="mia")
    await bot.say("/erinnerung jeden Dienstag 18 Uhr: Treffen")
    await bot.say("/erinnerung morgen 18 Uhr: Protokoll", user="mia")
    await bot.say("/erinnerung werktags 8 Uhr: Kaffee")
    await bot.say("/erinnerung pause 3")
    assert await bot.say("/erinnerungen", user="mia") == "\n".join(
        [
            "📋 3 offene Erinnerungen – AG Bildung",
            "• Nr. 2 · So, 22.11.2026 um 18:00: Protokoll (von Mia)",
            "• Nr. 1 · jeden Dienstag um 18:00 (nächste: Di 24.11.): Treffen (von Anna)",
            "• Nr. 3 · ⏸ angehalten · werktags um 08:00: Kaffee (von Anna)",
        ]
    )
    await bot.advance(timedelta(days=1, hours=9))  # Protokoll is done
    assert "Nr. 2" not in await bot.say("/erinnerungen")
    await bot.say("/erinnerung loeschen 1")
    await bot.say("/erinnerung loeschen 3")
    assert "keine offenen Erinnerungen" in await bot.say("/erinnerungen")


async def test_a_paused_series_does_not_catch_up_when_resumed(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/erinnerung täglich 9 Uhr: Kaffee")
    assert "angehalten" in await bot.say("/erinnerung pause 1")
    assert "schon angehalten" in await bot.say("/erinnerung pause 1")
    assert await bot.advance(timedelta(days=3)) == []  # Tuesday, 10:00
    reply = await bot.say("/erinnerung weiter 1")
    assert reply.startswith("▶️ Erinnerung Nr. 1 läuft wieder: täglich um 09:00 (nächste: Mi 25.11.")
    assert "läuft schon" in await bot.say("/erinnerung weiter 1")
    await bot.advance(timedelta(days=1))
    assert [when for when, _, _ in await fired(bot)] == [local(2026, 11, 25, 9)]
    [job] = await bot.rows(
        ScheduledJob, ScheduledJob.status == JobStatus.PENDING, ScheduledJob.kind != RETENTION_JOB
    )
    assert job.due_at.astimezone(BERLIN).replace(tzinfo=None) == local(2026, 11, 26, 9)


async def test_a_paused_one_off_whose_time_passed_is_not_resumed(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/erinnerung morgen 18 Uhr: Protokoll")
    await bot.say("/erinnerung pause 1")
    await bot.advance(timedelta(days=2))
    reply = await bot.say("/erinnerung weiter 1")
    assert "war für So, 22.11.2026 um 18:00 – diese Zeit ist vorbei" in reply
    [reminder] = await bot.rows(Reminder)
    assert reminder.status is ReminderStatus.PAUSED
    assert "gelöscht" in await bot.say("/erinnerung loeschen 1")
    assert await fired(bot) == []


async def test_a_series_that_ended_while_paused_is_closed(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/erinnerung täglich 9 Uhr bis 24.11.2026: Kaffee")
    await bot.say("/erinnerung pause 1")
    await bot.advance(timedelta(days=5))
    assert "ist inzwischen zu Ende" in await bot.say("/erinnerung weiter 1")
    [reminder] = await bot.rows(Reminder)
    assert reminder.status is ReminderStatus.DONE
    assert (
        await bot.count(
            ScheduledJob, ScheduledJob.status == JobStatus.PENDING, ScheduledJob.kind != RETENTION_JOB
        )
        == 0
    )


# --------------------------------------------------------------------------------------------
# Who may change what


async def test_members_change_their_own_reminders_koordination_any(bot: BotHarness) -> None:
    await bot.setup_group()  # anna coordinates
    for name in ("mia", "bodo"):
        await bot.send("Hallo", user=name)
    await bot.say("/erinnerung morgen 18 Uhr: von Mia", user="mia")
    await bot.say("/erinnerung morgen 19 Uhr: von Bodo", user="bodo")
    await bot.say("/erinnerung morgen 20 Uhr: auch von Mia", user="mia")

    reply = await bot.say("/erinnerung loeschen 1", user="bodo")
    assert reply == (
        "Erinnerung Nr. 1 hat Mia gestellt. "
        "Löschen und anhalten können sie nur Mia selbst und die Koordination."
    )
    assert "hat Mia gestellt" in await bot.say("/erinnerung pause 1", user="bodo")
    assert "gelöscht" in await bot.say("/erinnerung loeschen 1", user="mia")
    assert "angehalten" in await bot.say("/erinnerung pause 3", user="mia")
    assert "läuft wieder" in await bot.say("/erinnerung weiter 3", user="mia")
    # The koordination (or a chat admin) may change anybody's.
    assert "gelöscht" in await bot.say("/erinnerung loeschen 2")
    assert "angehalten" in await bot.say("/erinnerung pause 3", user="bodo", admin=True)

    statuses = {r.number: r.status for r in await bot.rows(Reminder)}
    assert statuses == {1: ReminderStatus.DELETED, 2: ReminderStatus.DELETED, 3: ReminderStatus.PAUSED}
    assert await bot.advance(timedelta(days=2)) == []


async def test_a_group_chat_without_an_ag_has_no_reminders(bot: BotHarness) -> None:
    reply = await bot.say("/erinnerung morgen 18 Uhr: Test")
    assert "/ag anlegen" in reply
    assert "/ag anlegen" in await bot.say("/erinnerungen")
    assert await bot.count(Reminder) == 0


# --------------------------------------------------------------------------------------------
# Private reminders


async def test_private_reminders_go_to_the_person_and_stay_apart(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.send("Hallo", user="mia")
    await bot.say("/erinnerung in 1 Stunde: für alle")
    reply = await bot.say("/erinnerung in 2 Stunden: Tee kochen", user="mia", chat="mia", private=True)
    assert reply.startswith(
        "✅ Erinnerung Nr. 1 (nur für dich, hier im privaten Chat): Sa, 21.11.2026 um 12:00"
    )
    # The group's list does not show it; the private one shows both, the AG's below.
    assert "Tee kochen" not in await bot.say("/erinnerungen")
    listing = await bot.say("/erinnerungen", user="mia", chat="mia", private=True)
    assert listing.startswith("📋 Deine 1 private Erinnerung\n• Nr. 1 · Sa, 21.11.2026 um 12:00: Tee kochen")
    assert (
        "📋 1 offene Erinnerung – AG Bildung\n• Nr. 1 · Sa, 21.11.2026 um 11:00: für alle (von Anna)"
        in listing
    )
    # Numbers in the private chat are the person's own: Nr. 1 there is not the AG's Nr. 1.
    assert "keine offene private Erinnerung Nr. 2" in await bot.say(
        "/erinnerung loeschen 2", user="mia", chat="mia", private=True
    )
    await bot.advance(timedelta(hours=3))
    sent = await fired(bot)
    assert [(when.hour, chat, text) for when, chat, text in sent] == [
        (11, "group:ag", "⏰ Erinnerung: für alle"),
        (12, "id-mia", "⏰ Erinnerung: Tee kochen"),
    ]
    [private] = await bot.rows(Reminder, Reminder.chat_kind == "private")
    assert private.group_id is not None  # belongs to Mia's AG (its language and timezone)


async def test_a_person_without_an_ag_may_set_private_reminders(bot: BotHarness) -> None:
    reply = await bot.say("/erinnerung morgen 7 Uhr: Zug", user="olga", chat="olga", private=True)
    assert "So, 22.11.2026 um 07:00" in reply
    assert "Nr. 1" in await bot.say("/erinnerungen", user="olga", chat="olga", private=True)
    await bot.advance(timedelta(days=1))
    assert [text for _, _, text in await fired(bot)] == ["⏰ Erinnerung: Zug"]
    [reminder] = await bot.rows(Reminder)
    assert reminder.group_id is None and reminder.status is ReminderStatus.DONE


# --------------------------------------------------------------------------------------------
# Once each


async def test_nothing_fires_twice(bot: BotHarness) -> None:
    await bot.setup_group()
    await bot.say("/erinnerung morgen 18 Uhr: einmal")
    await bot.say("/erinnerung täglich 9 Uhr: täglich")
    await bot.say("/erinnerung jeden Dienstag 18 Uhr bis 31.12.2026: dienstags")
    await bot.say("/erinnerung Freitag 9 Uhr: Freitag", chat="anna", private=True)
    await bot.advance(timedelta(days=60))  # to 20 January 2027
    texts = [text for _, _, text in await fired(bot)]
    assert texts.count("⏰ Erinnerung: einmal") == 1
    assert texts.count("⏰ Erinnerung: Freitag") == 1
    dienstags = [t for t in texts if t.startswith("⏰ Erinnerung: dienstags")]
    assert len(dienstags) == 6  # 24.11. … 29.12.
    assert "Nächste" not in dienstags[-1]  # the series is over
    assert sum(t.startswith("⏰ Erinnerung: täglich") for t in texts) == 60  # 22.11. … 20.1.
    assert sum(m.markup.plain().startswith("⏰") for m in bot.messenger.sent) == len(texts)
    delivered = len(texts)
    await bot.advance(timedelta(hours=1))
    assert len(await fired(bot)) == delivered  # the next daily one is tomorrow
    assert (
        await bot.count(
            ScheduledJob, ScheduledJob.status == JobStatus.PENDING, ScheduledJob.kind != RETENTION_JOB
        )
        == 1
    )
