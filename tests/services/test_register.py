"""RegisterService: numbering, history, search, and that nothing is ever deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import NotFound, UserError
from bot.core.events import ChatKind, ChatRef, Platform, UserRef
from bot.core.ports import ManualClock
from bot.services import Services
from bot.services.register import PAGE_SIZE, SearchQuery
from storage import Database
from storage.models import AuditEntry, Decision, DecisionStatus, DecisionTag, GoalStatus


@pytest.fixture
async def env(database: Database, clock: ManualClock):
    """Services in one open transaction, with an AG and its coordinator."""
    async with database.transaction() as session:
        services = Services(session, clock)
        chat = await services.groups.chat(ChatRef(Platform.CONSOLE, "c1", ChatKind.GROUP, "AG"))
        anna = await services.groups.person(UserRef(Platform.CONSOLE, "anna", "Anna", "anna"))
        group = await services.groups.create(chat, "AG Bildung", anna)
        yield services, group, anna


async def test_decisions_are_numbered_per_group_and_dated_in_the_group_timezone(env, clock) -> None:
    services, group, anna = env
    # 23:30 UTC on 21 Nov is already 22 Nov in Berlin.
    clock.set(datetime(2026, 11, 21, 23, 30, tzinfo=UTC))
    first = await services.register.record(group, "Erster Beschluss", anna)
    second = await services.register.record(group, "Zweiter Beschluss", anna)
    assert (first.number, second.number) == (1, 2)
    assert str(first.decided_on) == "2026-11-22"
    other_chat = await services.groups.chat(ChatRef(Platform.CONSOLE, "c2", ChatKind.GROUP))
    other = await services.groups.create(other_chat, "AG Engagement", anna)
    assert (await services.register.record(other, "Erster Beschluss", anna)).number == 1


async def test_tags_are_extracted_folded_and_distinct(env) -> None:
    services, group, anna = env
    decision = await services.register.record(
        group, "Treffen #Bildung #bildung und #Übersicht, nicht a#b", anna
    )
    tags = await services.register.repo.tags(decision.id)
    assert tags == ["bildung", "uebersicht"]


async def test_replace_keeps_old_text_and_links_both(env) -> None:
    services, group, anna = env
    await services.register.record(group, "Treffen vierteljährlich", anna)
    old, new = await services.register.replace(group, 1, "Treffen zweimonatlich", anna)
    assert old.status is DecisionStatus.REPLACED and old.text == "Treffen vierteljährlich"
    assert new.replaces_id == old.id and new.number == 2
    history = await services.register.history(group, 1)
    assert history.successor is not None and history.successor.number == 2
    newer = await services.register.history(group, 2)
    assert [d.number for d in newer.predecessors] == [1]


async def test_replacing_twice_builds_a_chain(env) -> None:
    services, group, anna = env
    await services.register.record(group, "Fassung eins", anna)
    await services.register.replace(group, 1, "Fassung zwei", anna)
    await services.register.replace(group, 2, "Fassung drei", anna)
    history = await services.register.history(group, 3)
    assert [d.number for d in history.predecessors] == [1, 2]


async def test_inactive_decisions_cannot_be_changed_again(env) -> None:
    services, group, anna = env
    await services.register.record(group, "A", anna)
    await services.register.replace(group, 1, "B", anna)
    with pytest.raises(UserError) as replaced:
        await services.register.revoke(group, 1, "zu spät", anna)
    assert replaced.value.key == "decision.already_replaced"
    assert replaced.value.params["successor"] == 2
    await services.register.revoke(group, 2, "überholt", anna)
    with pytest.raises(UserError, match="decision.already_revoked"):
        await services.register.replace(group, 2, "C", anna)


async def test_revoke_needs_a_reason_and_keeps_the_text(env) -> None:
    services, group, anna = env
    await services.register.record(group, "Protokolle sind intern", anna)
    with pytest.raises(UserError, match="error.empty_reason"):
        await services.register.revoke(group, 1, "   ", anna)
    decision = await services.register.revoke(group, 1, "Transparenz geht vor", anna)
    assert decision.status is DecisionStatus.REVOKED
    assert decision.text == "Protokolle sind intern"
    assert decision.close_reason == "Transparenz geht vor"


async def test_duplicate_active_decision_is_refused(env) -> None:
    services, group, anna = env
    await services.register.record(group, "Wir treffen uns in Essen", anna)
    with pytest.raises(UserError) as error:
        await services.register.record(group, "  wir treffen uns   in ESSEN ", anna)
    assert error.value.key == "decision.duplicate" and error.value.params["number"] == 1


async def test_unknown_numbers_raise_not_found(env) -> None:
    services, group, anna = env
    with pytest.raises(NotFound, match="decision.not_found"):
        await services.register.history(group, 7)
    with pytest.raises(NotFound, match="goal.not_found"):
        await services.register.close_goal(group, 3, GoalStatus.ACHIEVED, anna)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("treffen", [3, 1]),
        ("Buergerengagement", [2]),
        ("bürgerengagement umfrage", [2]),
        ("#Ruhr", [3]),
        ("#ruhr treffen", [3]),
        ("50%", [4]),
        ("a_b", [4]),
        ("nichts", []),
    ],
)
async def test_search_folds_umlauts_and_case_and_escapes_like(env, query, expected) -> None:
    services, group, anna = env
    await services.register.record(group, "Treffen in Dortmund", anna)
    await services.register.record(group, "Umfrage zum Bürgerengagement mit gemeinsamer Definition", anna)
    await services.register.record(group, "Treffen reihum im #Ruhrgebiet #ruhr", anna)
    await services.register.record(group, "Budget: 50% für a_b", anna)
    page = await services.register.search(group, SearchQuery.parse(query))
    assert [d.number for d in page.decisions] == expected


async def test_search_lists_only_active_decisions_newest_first_in_pages(env) -> None:
    services, group, anna = env
    for n in range(1, PAGE_SIZE * 2 + 3):
        await services.register.record(group, f"Beschluss {n}", anna)
    await services.register.revoke(group, 5, "weg", anna)
    first = await services.register.search(group, SearchQuery())
    assert first.total == PAGE_SIZE * 2 + 1 and first.pages == 3
    assert first.decisions[0].number == PAGE_SIZE * 2 + 2
    last = await services.register.search(group, SearchQuery(), page=3)
    assert [d.number for d in last.decisions] == [1]
    with pytest.raises(UserError, match="decision.page_unknown"):
        await services.register.search(group, SearchQuery(), page=4)


async def test_goals_lifecycle(env, clock) -> None:
    services, group, anna = env
    await services.register.add_goal(group, "Übersicht bis Ende 2019", anna)
    await services.register.add_goal(group, "Gemeinsame Definition von Engagement", anna)
    clock.advance(timedelta(days=3))
    goal = await services.register.close_goal(group, 1, GoalStatus.ACHIEVED, anna)
    assert goal.closed_at == clock.now()
    with pytest.raises(UserError, match="goal.already_achieved"):
        await services.register.close_goal(group, 1, GoalStatus.DISCARDED, anna, "doch nicht")
    with pytest.raises(UserError, match="error.empty_reason"):
        await services.register.close_goal(group, 2, GoalStatus.DISCARDED, anna, "")
    await services.register.close_goal(group, 2, GoalStatus.DISCARDED, anna, "erledigt sich")
    assert await services.register.active_goals(group) == []


async def test_every_change_is_audited(env, database) -> None:
    services, group, anna = env
    await services.register.record(group, "A", anna)
    await services.register.replace(group, 1, "B", anna)
    await services.register.revoke(group, 2, "weg", anna)
    await services.register.add_goal(group, "Ziel", anna)
    entries = await services.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
    assert list(entries) == [
        "group.create",
        "decision.create",
        "decision.create",
        "decision.replace",
        "decision.revoke",
        "goal.create",
    ]


async def test_nothing_is_deleted(env) -> None:
    services, group, anna = env
    await services.register.record(group, "A #x", anna)
    await services.register.replace(group, 1, "B #x", anna)
    await services.register.revoke(group, 2, "weg", anna)
    decisions = list(await services.session.scalars(select(Decision).order_by(Decision.number)))
    assert [(d.number, d.status) for d in decisions] == [
        (1, DecisionStatus.REPLACED),
        (2, DecisionStatus.REVOKED),
    ]
    assert len(list(await services.session.scalars(select(DecisionTag)))) == 2


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\u200b"])
async def test_empty_texts_are_refused(env, text) -> None:
    services, group, anna = env
    with pytest.raises(UserError, match="error.empty_text"):
        await services.register.record(group, text, anna)


async def test_overlong_text_is_refused_with_its_length(env) -> None:
    services, group, anna = env
    with pytest.raises(UserError) as error:
        await services.register.record(group, "x" * 10_000, anna)
    assert error.value.key == "error.too_long" and error.value.params["length"] == 10_000
