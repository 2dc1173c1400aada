"""GroupService: AGs, identities, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.errors import NotFound, UserError
from bot.core.events import ChatKind, ChatRef, Platform, UserRef
from bot.core.ports import ManualClock
from bot.services import Services
from storage import Database
from storage.models import Role


@pytest.fixture
async def services(database: Database, clock: ManualClock):
    async with database.transaction() as session:
        yield Services(session, clock)


def user(name: str, username: str | None = None) -> UserRef:
    return UserRef(Platform.TELEGRAM, f"id-{name}", name, username)


async def test_creator_becomes_koordination_and_chat_is_linked(services: Services) -> None:
    chat = await services.groups.chat(ChatRef(Platform.TELEGRAM, "-100", ChatKind.GROUP, "Gruppe"))
    anna = await services.groups.person(user("Anna"))
    group = await services.groups.create(chat, "  AG   Bildung ", anna)
    assert group.name == "AG Bildung" and chat.group_id == group.id
    membership = await services.groups.people.membership(group.id, anna.id)
    assert membership is not None and membership.role is Role.KOORDINATION
    with pytest.raises(UserError, match="ag.already_exists"):
        await services.groups.create(chat, "Noch eine", anna)


async def test_identities_are_upserted_and_last_seen_moves(services: Services, clock: ManualClock) -> None:
    first = await services.groups.person(user("Anna", "anna"))
    clock.advance(timedelta(hours=2))
    again = await services.groups.person(UserRef(Platform.TELEGRAM, "id-Anna", "Anna S.", "anna_s"))
    assert again.id == first.id
    assert again.display_name == "Anna S." and again.username == "anna_s"
    assert again.last_seen == clock.now() and again.first_seen < again.last_seen
    other_platform = await services.groups.person(UserRef(Platform.MATRIX, "id-Anna", "Anna"))
    assert other_platform.id != first.id


async def test_admins_count_as_koordination(services: Services) -> None:
    assert services.groups.effective_role(None, True) is Role.KOORDINATION
    assert services.groups.effective_role(None, False) is Role.MITGLIED


@pytest.fixture
async def group_with_members(services: Services):
    chat = await services.groups.chat(ChatRef(Platform.TELEGRAM, "-1", ChatKind.GROUP))
    anna = await services.groups.person(user("Anna Schmidt", "anna"))
    group = await services.groups.create(chat, "AG", anna)
    for name, handle in [("Bernd Müller", "bernd"), ("Berta Meier", None), ("Carla", "carla")]:
        await services.groups.seen(group, await services.groups.person(user(name, handle)))
    return group, anna


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@bernd", "Bernd Müller"),
        ("bernd", "Bernd Müller"),
        ("Berta Meier", "Berta Meier"),
        ("bernd mueller", "Bernd Müller"),
        ("carl", "Carla"),
        ("MEIER", "Berta Meier"),
    ],
)
async def test_find_member(services: Services, group_with_members, query, expected) -> None:
    group, _ = group_with_members
    assert (await services.groups.find_member(group, query)).display_name == expected


async def test_find_member_ambiguous_and_unknown(services: Services, group_with_members) -> None:
    group, _ = group_with_members
    with pytest.raises(UserError) as error:
        await services.groups.find_member(group, "Ber")
    assert error.value.key == "role.person_ambiguous"
    assert (
        "Bernd Müller" in error.value.params["candidates"]
        and "Berta Meier" in error.value.params["candidates"]
    )
    with pytest.raises(NotFound, match="role.person_unknown"):
        await services.groups.find_member(group, "Zoe")


async def test_last_koordination_cannot_step_down(services: Services, group_with_members) -> None:
    group, anna = group_with_members
    with pytest.raises(UserError, match="role.last_coordinator"):
        await services.groups.set_role(group, anna, anna, Role.MITGLIED)
    bernd = await services.groups.find_member(group, "bernd")
    await services.groups.set_role(group, anna, bernd, Role.KOORDINATION)
    assert await services.groups.set_role(group, anna, anna, Role.MITGLIED) is Role.KOORDINATION


async def test_language_must_be_offered(services: Services, group_with_members) -> None:
    group, anna = group_with_members
    with pytest.raises(UserError, match="ag.language_unknown"):
        await services.groups.set_language(group, "fr", anna)
    await services.groups.set_language(group, " EN ", anna)
    assert group.language == "en"
