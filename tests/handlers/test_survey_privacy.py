"""Anonymous surveys through the harness: after answering, changing, the reminder and the close,
every row of every table is read, and no row that belongs to the survey or its responses, and
no row that holds an answer, names a respondent (person id or platform id); the keyed hashes and
their key are gone once the survey is closed, and the conversation's outbox rows are redacted.

The clock starts on Saturday, 21 November 2026, 10:00 in Berlin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, select

from bot.services.surveys import JOB_CLOSE, JOB_REMIND
from storage.models import (
    REDACTED_PAYLOAD,
    Base,
    OutboxMessage,
    Person,
    ResponseStatus,
    Survey,
    SurveyResponse,
)
from tests.handlers.survey_support import Activity, Respondent, answer_all, say
from tests.harness import BotHarness

DEADLINE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
RESPONDENTS = {
    "paul": Respondent(
        organisation=("Verein Alpha", "Verein"),
        activities=(Activity("Anonyme Lesepaten Alpha", direct=True, hours=("10", 10.0), people=("3", 3)),),
    ),
    "mia": Respondent(
        activities=(Activity("Anonyme Gartenpflege Beta", direct=True, hours=("4,5", 4.5), people=("1", 1)),),
    ),
}
DRAFT = ["1", "Anonymer Entwurf Gamma", "direkt"]
"""kurt starts but does not finish."""
MARKERS = ("Anonyme Lesepaten Alpha", "Anonyme Gartenpflege Beta", "Anonymer Entwurf Gamma", "Verein Alpha")
"""Answer texts that occur nowhere else: a row that holds one of them holds an answer."""


@dataclass(frozen=True)
class Identity:
    """How a respondent could be named in a row."""

    person_id: int
    platform_id: str


async def identities(bot: BotHarness, names: list[str]) -> dict[str, Identity]:
    people = {p.username: p for p in await bot.rows(Person)}
    return {name: Identity(people[name].id, people[name].external_id) for name in names}


def text_of(value: Any) -> str:
    """A stored value as text (JSON for dicts and lists)."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def references_people(table: Table, column: str) -> bool:
    return any(fk.column.table.name == "people" for fk in table.columns[column].foreign_keys)


def belongs_to(table: Table, row: dict[str, Any], survey_id: int, response_ids: set[int]) -> bool:
    """Whether a row is the survey, one of its responses, or something that points at them."""
    if table.name == "surveys":
        return row["id"] == survey_id
    if table.name == "scheduled_jobs":
        return row["kind"] in (JOB_CLOSE, JOB_REMIND) and row["ref_id"] == survey_id
    for column in table.columns:
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if target == "surveys" and row[column.name] == survey_id:
                return True
            if target == "survey_responses" and row[column.name] in response_ids:
                return True
    return False


async def scan(bot: BotHarness, respondents: dict[str, Identity], survey_id: int) -> int:
    """Every row of every table: none that belongs to the survey and none that holds an answer
    names a respondent. Returns how many rows were checked that way."""
    checked = 0
    async with bot.app.db.transaction() as session:
        response_ids = set(
            await session.scalars(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey_id))
        )
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                values = {name: text_of(value) for name, value in row.items() if value is not None}
                whole = " ".join(values.values())
                if not (
                    belongs_to(table, dict(row), survey_id, response_ids)
                    or any(marker in whole for marker in MARKERS)
                ):
                    continue
                checked += 1
                for name, who in respondents.items():
                    assert who.platform_id not in whole, (table.name, name, dict(row))
                    for column, value in row.items():
                        if references_people(table, column):
                            assert value != who.person_id, (table.name, column, name, dict(row))
    return checked


async def test_an_anonymous_survey_stores_no_identity_with_the_answers(bot: BotHarness) -> None:
    await bot.setup_group("AG Engagement", user="anna")
    for name in ("paul", "mia", "kurt"):
        await bot.send("Hallo", user=name)
    [announcement] = await bot.send("/umfrage starten Engagement-Erhebung bis in 3 Tagen anonym", user="anna")
    assert announcement.startswith("📋 Anonyme Umfrage Nr. 1 der AG Engagement: Engagement-Erhebung")
    [survey] = await bot.rows(Survey)
    assert survey.anonymous and survey.secret is not None
    [invitation] = bot.sent_to("paul")
    assert "Datenschutz: Diese Umfrage ist anonym." in invitation.markup.plain()

    for name, respondent in RESPONDENTS.items():
        await say(bot, name, "/umfrage weiter")
        await answer_all(bot, name, respondent.typed())
    await say(bot, "kurt", "/umfrage weiter")
    await answer_all(bot, "kurt", DRAFT)
    # paul looks at his answers to change one, and leaves them: those replies show answers too.
    assert "Verein Alpha" in await say(bot, "paul", "/umfrage aendern")
    assert "Bisher: Verein Alpha" in await say(bot, "paul", "2")
    assert (await say(bot, "paul", "/abbrechen")).startswith("Nichts geändert")

    who = await identities(bot, ["paul", "mia", "kurt"])
    responses = await bot.rows(SurveyResponse)
    assert len(responses) == 3
    assert all(r.person_id is None and r.started_at is None and r.finished_at is None for r in responses)
    assert all(r.respondent_key for r in responses)
    assert await scan(bot, who, survey.id) >= 1 + 3 + 2  # survey, responses, jobs

    status = await bot.say("/umfrage status", user="anna")
    assert "Mitglieder: 4 · begonnen: 3 · davon abgeschlossen: 2" in status
    assert "Anonym: wer geantwortet hat, wird nicht gespeichert." in status

    # The reminder still finds who has not finished (through the hashes, never stored).
    sent = await bot.advance(to=DEADLINE - timedelta(hours=23))
    assert {m.chat.external_id for m in sent} == {who["kurt"].platform_id, "id-anna"}

    sent = await bot.advance(to=DEADLINE)
    assert any("ist beendet – 2 von 4 Mitgliedern" in m.markup.plain() for m in sent)
    [survey] = await bot.rows(Survey)
    assert survey.secret is None
    responses = await bot.rows(SurveyResponse)
    assert len(responses) == 2 and {r.status for r in responses} == {ResponseStatus.FINISHED}
    assert all(r.respondent_key is None and r.draft is None and r.cursor is None for r in responses)
    assert await scan(bot, who, survey.id) >= 1 + 2

    # Every reply of the conversations was secret and is redacted now that it was sent; what
    # stays readable in the respondents' chats is the invitation and the reminder.
    for name, identity in who.items():
        rows = await bot.rows(OutboxMessage, OutboxMessage.chat_id == identity.platform_id)
        conversation = [r for r in rows if r.secret]
        assert len(conversation) >= 4, name
        assert all(r.payload == REDACTED_PAYLOAD for r in conversation), name
        readable = [text_of(r.payload) for r in rows if not r.secret]
        assert not any(marker in text for text in readable for marker in MARKERS), name

    # The results count both responses and still show no identity.
    result, _ = await bot.send("/umfrage ergebnis", user="paul")
    assert "Antworten: 2 von 4 Mitgliedern." in result
    assert "Paul" not in result and "Mia" not in result


async def test_the_scan_finds_the_identity_a_survey_that_is_not_anonymous_keeps(bot: BotHarness) -> None:
    """The scan above would notice: a named survey keeps the person with the response."""
    await bot.setup_group("AG Engagement", user="anna")
    await bot.send("Hallo", user="mia")
    await bot.send("/umfrage starten Engagement-Erhebung bis in 3 Tagen", user="anna")
    await say(bot, "mia", "/umfrage weiter")
    await answer_all(bot, "mia", RESPONDENTS["mia"].typed())
    [survey] = await bot.rows(Survey)
    [response] = await bot.rows(SurveyResponse)
    who = await identities(bot, ["mia"])
    assert response.person_id == who["mia"].person_id and response.finished_at is not None
    with pytest.raises(AssertionError, match="survey_responses"):
        await scan(bot, who, survey.id)
