"""Retention (Art. 5 Abs. 1 lit. e DSGVO): each datum just before and just after its period,
on the manual clock, and the daily job on the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.core.ports import ManualClock
from bot.jobs.retention import JOB_KIND
from bot.services.retention import SWEEPS, RetentionPolicy, RetentionService
from storage.models import (
    AccountCode,
    Chat,
    Decision,
    LinkAttempt,
    LinkCode,
    OutboxMessage,
    OutboxStatus,
    Person,
    Poll,
    PollVote,
    Reminder,
    ReminderStatus,
    ReopenExample,
    ReopenHint,
    ScheduledJob,
)
from storage.models.person import FORMER_NAME
from storage.models.scheduled_job import JobStatus
from tests.harness import BotHarness

MINUTE = timedelta(minutes=1)
POLICY = RetentionPolicy()


async def run(bot: BotHarness, *, report: bool = False) -> dict[str, int]:
    async with bot.app.db.transaction() as session:
        service = RetentionService(session, bot.app.clock, POLICY)
        result = await (service.report() if report else service.run())
    return result.counts


async def at(bot: BotHarness, clock: ManualClock, when: datetime) -> dict[str, int]:
    """Run the retention at ``when`` and return what it removed."""
    clock.set(when)
    return await run(bot)


async def group(bot: BotHarness) -> None:
    await bot.setup_group("AG Bildung")
    await bot.say("/beschluss Wir treffen uns vierteljährlich.")


async def test_delivered_and_failed_messages(bot: BotHarness, clock: ManualClock) -> None:
    await group(bot)
    sent = await bot.rows(OutboxMessage, OutboxMessage.status == OutboxStatus.SENT)
    assert sent
    last_sent = max(r.sent_at for r in sent)
    failed_at = clock.now()
    async with bot.app.db.transaction() as session:
        session.add(
            OutboxMessage(
                platform="console",
                chat_id="id-x",
                chat_kind="private",
                payload={"markup": []},
                status=OutboxStatus.FAILED,
                created_at=failed_at,
            )
        )
    assert (await at(bot, clock, last_sent + POLICY.sent_messages - MINUTE))["outbox_zugestellt"] == 0
    assert await bot.count(OutboxMessage, OutboxMessage.status == OutboxStatus.SENT) == len(sent)
    removed = await at(bot, clock, last_sent + POLICY.sent_messages + MINUTE)
    assert removed["outbox_zugestellt"] == len(sent)
    assert await bot.count(OutboxMessage, OutboxMessage.status == OutboxStatus.SENT) == 0
    # Failed ones are kept longer (for diagnosis).
    assert await bot.count(OutboxMessage, OutboxMessage.status == OutboxStatus.FAILED) == 1
    assert (await at(bot, clock, failed_at + POLICY.failed_messages - MINUTE))["outbox_fehlgeschlagen"] == 0
    assert (await at(bot, clock, failed_at + POLICY.failed_messages + MINUTE))["outbox_fehlgeschlagen"] == 1
    assert await bot.count(OutboxMessage) == 0


async def test_pending_messages_stay_whatever_their_age(bot: BotHarness, clock: ManualClock) -> None:
    async with bot.app.db.transaction() as session:
        session.add(
            OutboxMessage(
                platform="console",
                chat_id="group:x",
                chat_kind="group",
                payload={"markup": []},
                status=OutboxStatus.PENDING,
                created_at=clock.now(),
            )
        )
    await at(bot, clock, clock.now() + timedelta(days=1000))
    assert await bot.count(OutboxMessage, OutboxMessage.status == OutboxStatus.PENDING) == 1


async def hint(bot: BotHarness, text: str, sender: Person, created: datetime) -> ReopenHint:
    [decision] = await bot.rows(Decision)
    row = ReopenHint(
        group_id=decision.group_id,
        platform="console",
        chat_id="group:ag",
        item_kind="decision",
        item_id=decision.id,
        item_number=decision.number,
        message_text=text,
        sender_id=sender.id,
        score=0.9,
        created_at=created,
    )
    async with bot.app.db.transaction() as session:
        session.add(row)
    return row


async def test_hint_texts_go_unless_they_became_examples(bot: BotHarness, clock: ManualClock) -> None:
    await group(bot)
    await bot.send("Hallo", user="mia")
    [mia] = await bot.rows(Person, Person.username == "mia")
    start = clock.now()
    plain = await hint(bot, "Vierteljährlich ist zu selten", mia, start)
    labelled = await hint(bot, "Wieso nicht monatlich?", mia, start)
    async with bot.app.db.transaction() as session:
        session.add(
            ReopenExample(
                group_id=labelled.group_id,
                text=labelled.message_text,
                item_kind="decision",
                item_id=labelled.item_id,
                reopens=True,
                source="wrong",
                hint_id=labelled.id,
                created_at=start,
            )
        )
    assert (await at(bot, clock, start + POLICY.hint_texts - MINUTE))["hinweis_texte"] == 0
    removed = await at(bot, clock, start + POLICY.hint_texts + MINUTE)
    assert removed["hinweis_texte"] == 1 and removed["hinweis_absender"] == 1
    rows = await bot.rows(ReopenHint)
    assert [(r.id, r.sender_id) for r in rows] == [(labelled.id, None)]
    assert plain.id not in {r.id for r in rows}
    assert await bot.count(ReopenExample) == 1


async def test_expired_account_codes(bot: BotHarness, clock: ManualClock) -> None:
    await bot.send("/konto verknuepfen", user="mia", private=True)
    [code] = await bot.rows(AccountCode)
    assert (await at(bot, clock, code.expires_at + POLICY.link_attempts - MINUTE))["konto_codes"] == 0
    assert (await at(bot, clock, code.expires_at + POLICY.link_attempts + MINUTE))["konto_codes"] == 1
    assert await bot.count(AccountCode) == 0


async def test_link_attempts_and_expired_codes(bot: BotHarness, clock: ManualClock) -> None:
    await group(bot)
    [chat] = await bot.rows(Chat)
    [anna] = await bot.rows(Person)
    start = clock.now()
    async with bot.app.db.transaction() as session:
        session.add(LinkAttempt(chat_id=chat.id, person_id=anna.id, created_at=start))
        session.add(
            LinkCode(
                group_id=chat.group_id,
                code_hash="0" * 64,
                created_by_id=anna.id,
                created_at=start,
                expires_at=start + timedelta(hours=24),
            )
        )
    removed = await at(bot, clock, start + POLICY.link_attempts - MINUTE)
    assert removed["link_versuche"] == 0 and removed["link_codes"] == 0
    removed = await at(bot, clock, start + POLICY.link_attempts + MINUTE)
    assert removed["link_versuche"] == 1 and removed["link_codes"] == 0  # the code is still valid
    removed = await at(bot, clock, start + timedelta(hours=24) + POLICY.link_attempts + MINUTE)
    assert removed["link_codes"] == 1
    assert await bot.count(LinkCode) == 0 and await bot.count(LinkAttempt) == 0


async def test_former_members_are_pseudonymised_after_a_year(bot: BotHarness, clock: ManualClock) -> None:
    await group(bot)
    await bot.send("Hallo", user="mia")
    await bot.send("/erinnerung morgen 9 Uhr: Zahnarzt", user="mia", private=True)
    await bot.say("/rolle mia koordination")
    await bot.say("/beschluss Protokolle sind intern.", user="mia")
    await bot.send("Hallo", user="ben")  # ben stays a member and is never seen again
    await bot.leave("mia")
    [mia] = await bot.rows(Person, Person.username == "mia")
    seen = mia.last_seen
    assert (await at(bot, clock, seen + POLICY.former_members - MINUTE))["ehemalige"] == 0
    assert (await run(bot, report=True))["ehemalige"] == 0
    removed = await at(bot, clock, seen + POLICY.former_members + MINUTE)
    assert removed["ehemalige"] == 1  # not ben (a member) and not anna
    [row] = await bot.rows(Person, Person.id == mia.id)
    assert row.display_name == FORMER_NAME and row.username is None
    assert row.external_id != bot.user("mia").external_id and row.pseudonymised_at is not None
    # Her private chat, the messages to it and her private reminder are gone; the AG's register
    # still holds her decision, attributed to the pseudonym.
    private = bot.user("mia").external_id
    assert await bot.count(Chat, Chat.external_id == private) == 0
    assert await bot.count(OutboxMessage, OutboxMessage.chat_id == private) == 0
    assert await bot.count(Reminder, Reminder.text == "Zahnarzt") == 0
    [decision] = await bot.rows(Decision, Decision.text == "Protokolle sind intern.")
    assert decision.author_id == mia.id
    names = {p.display_name for p in await bot.rows(Person)}
    assert names == {"Anna", "Ben", FORMER_NAME}
    # Idempotent.
    assert (await run(bot))["ehemalige"] == 0


async def test_finished_reminders_lose_their_text(bot: BotHarness, clock: ManualClock) -> None:
    await group(bot)
    await bot.say("/erinnerung in 1 Stunde: Raum buchen")
    await bot.advance(timedelta(hours=1, minutes=1))
    [reminder] = await bot.rows(Reminder)
    assert reminder.status is ReminderStatus.DONE and reminder.last_fired_at is not None
    fired = reminder.last_fired_at
    assert (await at(bot, clock, fired + POLICY.finished_reminders - MINUTE))["erinnerungen"] == 0
    assert (await at(bot, clock, fired + POLICY.finished_reminders + MINUTE))["erinnerungen"] == 1
    [reminder] = await bot.rows(Reminder)
    assert reminder.text == "" and reminder.number == 1  # the row keeps its number
    reply = await bot.say("/erinnerung morgen 9 Uhr: Neues")
    assert "Erinnerung Nr. 2" in reply  # number 1 is not given again


async def test_anonymous_votes_left_after_a_close_are_swept(bot: BotHarness, clock: ManualClock) -> None:
    await group(bot)
    await bot.send("/abstimmung Sommerfest? | ja | nein | anonym")
    await bot.send("/stimme 1", user="anna")
    assert await bot.count(PollVote) == 1
    # An older version closed polls without deleting the rows: the job catches up.
    async with bot.app.db.transaction() as session:
        await session.execute(update(Poll).values(status="closed", closed_at=clock.now()))
    assert (await run(bot, report=True))["anonyme_stimmen"] == 1
    assert (await run(bot))["anonyme_stimmen"] == 1
    assert await bot.count(PollVote) == 0


async def test_report_changes_nothing_and_run_is_idempotent(bot: BotHarness, clock: ManualClock) -> None:
    await group(bot)
    clock.set(clock.now() + timedelta(days=400))
    report = await run(bot, report=True)
    assert report["outbox_zugestellt"] > 0
    assert set(report) == {s.key for s in SWEEPS}
    assert (await run(bot, report=True)) == report
    first = await run(bot)
    assert first == report
    assert sum((await run(bot)).values()) == 0


async def test_large_backlogs_go_in_batches_and_the_job_comes_back(
    bot: BotHarness, clock: ManualClock
) -> None:
    start = clock.now()
    async with bot.app.db.transaction() as session:
        session.add_all(
            OutboxMessage(
                platform="console",
                chat_id="group:x",
                chat_kind="group",
                payload={"markup": []},
                status=OutboxStatus.SENT,
                created_at=start,
                sent_at=start,
            )
            for _ in range(1200)
        )
    clock.set(start + timedelta(days=31))
    async with bot.app.db.transaction() as session:
        result = await RetentionService(session, clock, POLICY).run(limit=1000)
    assert result.counts["outbox_zugestellt"] == 1000 and result.more
    async with bot.app.db.transaction() as session:
        result = await RetentionService(session, clock, POLICY).run(limit=1000)
    assert result.counts["outbox_zugestellt"] == 200 and not result.more


# The daily job ---------------------------------------------------------------------------------


async def pending_jobs(bot: BotHarness) -> list[ScheduledJob]:
    async with bot.app.db.transaction() as session:
        rows = await session.scalars(
            select(ScheduledJob).where(
                ScheduledJob.kind == JOB_KIND, ScheduledJob.status == JobStatus.PENDING
            )
        )
        return list(rows)


async def test_the_job_runs_daily_at_the_configured_time(bot: BotHarness, clock: ManualClock) -> None:
    await group(bot)
    await bot.app.component("datenschutz").start()
    [job] = await pending_jobs(bot)
    # 03:30 in Berlin (winter: UTC+1), the next morning.
    assert job.due_at == datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
    # A restart does not add a second one.
    await bot.app.component("datenschutz").start()
    assert len(await pending_jobs(bot)) == 1
    sent = await bot.count(OutboxMessage, OutboxMessage.status == OutboxStatus.SENT)
    assert sent
    await bot.advance(to=datetime(2026, 12, 22, 3, 0, tzinfo=UTC))
    # Thirty days after delivery, the job of 22 December removed the first messages.
    assert await bot.count(OutboxMessage, OutboxMessage.status == OutboxStatus.SENT) == 0
    [job] = await pending_jobs(bot)
    assert job.due_at == datetime(2026, 12, 23, 2, 30, tzinfo=UTC)
    done = await bot.count(ScheduledJob, ScheduledJob.kind == JOB_KIND, ScheduledJob.status == JobStatus.DONE)
    assert done == 31


@pytest.mark.parametrize("when", ["03:30", "23:59"])
async def test_next_run_respects_summer_time(when: str) -> None:
    from bot.jobs.retention import next_run

    hour, minute = map(int, when.split(":"))
    data = {"hour": hour, "minute": minute, "timezone": "Europe/Berlin"}
    summer = next_run(data, datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert summer.astimezone(UTC).hour == (hour - 2) % 24
    winter = next_run(data, datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    assert winter.astimezone(UTC).hour == (hour - 1) % 24
