"""The register export (``bot.services.register_export``): the JSON document exactly, the German
Markdown, what stays out (platform ids, other AGs, pseudonymised names), and finding the AG."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.events import ChatKind, ChatRef, Platform, UserRef
from bot.core.ports import ManualClock
from bot.services import Services
from bot.services.register_export import FORMAT, VERSION, GroupNotFound, export_register, find_group
from storage import Database
from storage.models import GoalStatus

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
TEXT_WITH_MARKS = "Regeln:\n- *kein* Spam\n# keine Werbung\n1. Punkt <b>fett</b> & [Link](x)"


@pytest.fixture
async def env(database: Database, clock: ManualClock):
    """An AG with goals and decisions in every state, and a second AG that must not leak in."""
    async with database.transaction() as session:
        services = Services(session, clock)
        chat = await services.groups.chat(ChatRef(Platform.TELEGRAM, "-100777", ChatKind.GROUP, "AG"))
        anna = await services.groups.person(UserRef(Platform.TELEGRAM, "4711", "Anna", "anna_tg"))
        ben = await services.groups.person(UserRef(Platform.TELEGRAM, "4712", "Ben", None))
        group = await services.groups.create(chat, "AG Übersicht", anna)
        await services.groups.set_topic(group, "Lesen und Vorlesen", anna)
        await services.register.add_goal(group, "Zehn neue Lesepaten", anna)
        await services.register.add_goal(group, "Website überarbeiten", anna)
        await services.register.add_goal(group, "Eigene Zeitung", anna)
        clock.advance(timedelta(days=1))
        await services.register.close_goal(group, 2, GoalStatus.ACHIEVED, anna)
        await services.register.close_goal(group, 3, GoalStatus.DISCARDED, anna, "zu aufwendig")
        await services.register.record(group, "Wir treffen uns monatlich #Treffen #Ort", anna)
        clock.advance(timedelta(days=1))
        await services.register.replace(group, 1, "Wir treffen uns zweiwöchentlich #treffen", ben)
        await services.register.record(group, TEXT_WITH_MARKS, ben)
        await services.register.revoke(group, 3, "passt nicht\nmehr", anna)
        await services.register.mark_important(group, 2, True, anna)
        # Ben was pseudonymised (the retention job does it like this): his name must not appear.
        ben.pseudonymised_at = clock.now()
        other_chat = await services.groups.chat(ChatRef(Platform.TELEGRAM, "-100888", ChatKind.GROUP))
        other = await services.groups.create(other_chat, "AG Geheim", anna)
        await services.register.record(other, "Beschluss einer anderen AG", anna)
        yield session, group


async def test_json_holds_goals_and_decisions_with_their_history(env) -> None:
    session, group = env
    export = await export_register(session, group.id, clock=ManualClock(T0 + timedelta(days=3)))
    data = json.loads(export.json)
    assert data == export.data
    day1, day2, day3 = (T0 + timedelta(days=n) for n in range(3))
    assert data == {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": "2026-11-24T09:00:00+00:00",
        "group": {
            "name": "AG Übersicht",
            "topic": "Lesen und Vorlesen",
            "description": None,
            "timezone": "Europe/Berlin",
            "created_at": day1.isoformat(),
        },
        "goals": [
            goal(1, "Zehn neue Lesepaten", "active", day1),
            goal(2, "Website überarbeiten", "achieved", day1, day2.isoformat()),
            goal(3, "Eigene Zeitung", "discarded", day1, day2.isoformat(), "zu aufwendig"),
        ],
        "decisions": [
            {
                **decision(1, "Wir treffen uns monatlich #Treffen #Ort", "replaced", day2, "Anna"),
                "tags": ["ort", "treffen"],
                "replaced_by": 2,
                "closed_at": day3.isoformat(),
            },
            {
                **decision(2, "Wir treffen uns zweiwöchentlich #treffen", "active", day3, None),
                "tags": ["treffen"],
                "replaces": 1,
                "important": True,
            },
            {
                **decision(3, TEXT_WITH_MARKS, "revoked", day3, None),
                "closed_at": day3.isoformat(),
                "close_reason": "passt nicht\nmehr",
            },
        ],
    }


def goal(number, text, status, created, closed=None, reason=None) -> dict:
    return {
        "number": number,
        "text": text,
        "status": status,
        "created_at": created.isoformat(),
        "closed_at": closed,
        "close_reason": reason,
    }


def decision(number, text, status, created, recorded_by) -> dict:
    return {
        "number": number,
        "text": text,
        "status": status,
        "decided_on": created.date().isoformat(),
        "created_at": created.isoformat(),
        "important": False,
        "tags": [],
        "replaces": None,
        "replaced_by": None,
        "closed_at": None,
        "close_reason": None,
        "recorded_by": recorded_by,
    }


async def test_markdown_reads_as_the_german_register(env) -> None:
    session, group = env
    export = await export_register(session, group.id, clock=ManualClock(T0 + timedelta(days=3)))
    markdown = export.markdown
    expected_in_order = [
        "# Register: AG Übersicht",
        "Thema: Lesen und Vorlesen",
        "Stand: 24.11.2026, 10:00 Uhr (Europe/Berlin).",
        "## Ziele (3)",
        "### Ziel 1 · aktiv",
        "Zehn neue Lesepaten",
        "- Festgehalten am 21.11.2026",
        "### Ziel 2 · erreicht",
        "- Erreicht am 22.11.2026",
        "### Ziel 3 · verworfen",
        "- Verworfen am 22.11.2026 – Begründung: zu aufwendig",
        "## Beschlüsse (3)",
        "### Beschluss Nr. 1 · ersetzt",
        "Wir treffen uns monatlich #Treffen #Ort",
        "- Beschlossen am 22.11.2026",
        "- Festgehalten von Anna",
        "- Schlagworte: #ort, #treffen",
        "- Ersetzt durch Beschluss Nr. 2 am 23.11.2026",
        "### Beschluss Nr. 2 · gültig",
        "- Als wichtig markiert",
        "- Ersetzt Beschluss Nr. 1",
        "### Beschluss Nr. 3 · aufgehoben",
        "- Aufgehoben am 23.11.2026 – Begründung: passt nicht mehr",
    ]
    position = 0
    for line in expected_in_order:
        found = markdown.find(line, position)
        assert found >= 0, f"{line!r} missing after position {position} in:\n{markdown}"
        position = found + len(line)
    # Members' text shows as written: no list, heading or HTML comes out of it, line breaks stay.
    escaped = [
        "Regeln:\\",
        "\\- \\*kein\\* Spam\\",
        "\\# keine Werbung\\",
        "1\\. Punkt \\<b\\>fett\\</b\\> \\& \\[Link\\](x)",
    ]
    assert "\n".join(escaped) in markdown
    assert markdown.endswith("\n") and not markdown.endswith("\n\n")


async def test_nothing_else_leaves_the_database(env) -> None:
    session, group = env
    export = await export_register(session, group.id, clock=ManualClock(T0))
    for document in (export.markdown, export.json):
        # Platform ids of people and chats, usernames, the pseudonymised member, the other AG.
        for absent in ("4711", "4712", "anna_tg", "-100777", "Ben", "AG Geheim", "anderen AG"):
            assert absent not in document, absent
    assert export.filename("md") == "register-ag-übersicht-2026-11-21.md"


async def test_an_empty_register_says_so(database: Database, clock: ManualClock) -> None:
    async with database.transaction() as session:
        services = Services(session, clock)
        chat = await services.groups.chat(ChatRef(Platform.CONSOLE, "c1", ChatKind.GROUP))
        anna = await services.groups.person(UserRef(Platform.CONSOLE, "anna", "Anna", None))
        group = await services.groups.create(chat, "AG Neu", anna)
        export = await export_register(session, group.id, clock=clock)
    assert "Keine Ziele festgehalten." in export.markdown
    assert "Keine Beschlüsse festgehalten." in export.markdown
    assert (export.data["goals"], export.data["decisions"]) == ([], [])


async def test_find_group_by_id_or_name(env) -> None:
    session, group = env
    assert await find_group(session, str(group.id)) is group
    assert await find_group(session, f"#{group.id}") is group
    # Case is ignored, umlauts included (SQLite's lower() would not fold them).
    assert await find_group(session, "  ag übersicht ") is group
    with pytest.raises(GroupNotFound, match="no AG with id 999"):
        await find_group(session, "999")
    with pytest.raises(GroupNotFound, match="no AG named 'AG Nirgends'"):
        await find_group(session, "AG Nirgends")
    services = Services(session, ManualClock(T0))
    chat = await services.groups.chat(ChatRef(Platform.CONSOLE, "c9", ChatKind.GROUP))
    anna = await services.groups.person(UserRef(Platform.CONSOLE, "anna", "Anna", None))
    twin = await services.groups.create(chat, "AG Übersicht", anna)
    with pytest.raises(GroupNotFound, match=f"2 AGs are named .*ids {group.id}, {twin.id}"):
        await find_group(session, "AG Übersicht")
    with pytest.raises(GroupNotFound):
        await export_register(session, 999_999)
