"""Repositories on both backends: upserts, running numbers under concurrency, timestamps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from storage import Database
from storage.models import Person, WorkingGroup
from storage.repositories import GroupRepository, PeopleRepository

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


async def test_timestamps_come_back_timezone_aware_in_utc(database: Database) -> None:
    berlin_time = datetime(2026, 11, 21, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    async with database.transaction() as session:
        person = await PeopleRepository(session).upsert_person("console", "x", "X", None, berlin_time)
        person_id = person.id
    async with database.transaction() as session:
        loaded = await session.get(Person, person_id)
        assert loaded.first_seen == T0
        assert loaded.first_seen.tzinfo is not None
        assert loaded.first_seen.utcoffset() == timedelta(0)


async def test_naive_timestamps_are_rejected(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with database.transaction() as session:
            await PeopleRepository(session).upsert_person("console", "x", "X", None, datetime(2026, 1, 1))


async def test_chat_and_person_upserts_are_unique(database: Database) -> None:
    async with database.transaction() as session:
        groups, people = GroupRepository(session), PeopleRepository(session)
        a = await groups.upsert_chat("telegram", "-1", "group", "Alt", T0)
        b = await groups.upsert_chat("telegram", "-1", "group", "Neu", T0)
        assert a.id == b.id and b.title == "Neu"
        p1 = await people.upsert_person("telegram", "7", "Anna", None, T0)
        p2 = await people.upsert_person("telegram", "7", "Anna S.", "anna", T0 + timedelta(1))
        assert p1.id == p2.id and p2.username == "anna"
        assert (await session.scalars(select(Person))).all() == [p1]


async def test_running_numbers_are_unique_under_concurrency(database: Database) -> None:
    async with database.transaction() as session:
        group = await GroupRepository(session).create("AG", timezone="Europe/Berlin", language="de", at=T0)
        group_id = group.id

    async def bump() -> int:
        async with database.transaction() as session:
            return await GroupRepository(session).next_number(group_id, "decision_seq")

    numbers = await asyncio.gather(*(bump() for _ in range(20)))
    assert sorted(numbers) == list(range(1, 21))
    async with database.transaction() as session:
        assert (await session.get(WorkingGroup, group_id)).decision_seq == 20


async def test_next_number_keeps_a_loaded_group_in_step(database: Database) -> None:
    async with database.transaction() as session:
        repo = GroupRepository(session)
        group = await repo.create("AG", timezone="Europe/Berlin", language="de", at=T0)
        assert await repo.next_number(group.id, "goal_seq") == 1
        assert group.goal_seq == 1
        assert await repo.next_number(group.id, "goal_seq") == 2
    with pytest.raises(LookupError):
        async with database.transaction() as session:
            await GroupRepository(session).next_number(9999, "goal_seq")
