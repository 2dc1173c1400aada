"""GroupService: link codes, linking and unlinking chats, the brute-force limits."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.core.errors import UserError
from bot.core.events import ChatKind, ChatRef, Platform, UserRef
from bot.core.ports import ManualClock
from bot.services import Services
from bot.services.linking import (
    ATTEMPT_WINDOW,
    CODE_ALPHABET,
    CODE_LIFETIME,
    GLOBAL_COOLDOWN,
    GLOBAL_FAILED_ATTEMPTS,
    MAX_FAILED_ATTEMPTS,
    CodeRejection,
    normalise_code,
)
from storage import Database
from storage.models import AuditEntry, Chat, LinkAttempt, LinkCode, Person, WorkingGroup
from storage.repositories import LinkRepository


@pytest.fixture
async def services(database: Database, clock: ManualClock):
    async with database.transaction() as session:
        yield Services(session, clock)


async def chat(services: Services, platform: Platform, external_id: str, *, private: bool = False) -> Chat:
    kind = ChatKind.PRIVATE if private else ChatKind.GROUP
    return await services.groups.chat(ChatRef(platform, external_id, kind, f"Chat {external_id}"))


async def person(services: Services, platform: Platform, name: str) -> Person:
    return await services.groups.person(UserRef(platform, f"id-{name}", name.capitalize(), name))


@pytest.fixture
async def ag(services: Services) -> tuple[WorkingGroup, Chat, Person]:
    """An AG in a Telegram group, with Anna as koordination."""
    home = await chat(services, Platform.TELEGRAM, "-100")
    anna = await person(services, Platform.TELEGRAM, "anna")
    group = await services.groups.create(home, "AG Bildung", anna)
    return group, home, anna


async def count(services: Services, model: type, *where) -> int:
    return await services.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def actions(services: Services, group: WorkingGroup) -> list[str]:
    return [e.action for e in reversed(await services.groups.audit.for_group(group.id))]


# Codes --------------------------------------------------------------------------------------


async def test_code_is_random_typeable_and_stored_only_as_hash(services: Services, ag, clock) -> None:
    group, _, anna = ag
    issued = await services.links.create_link_code(group, anna)
    first, dash, second = issued.code.partition("-")
    assert dash and len(first) == len(second) == 4
    assert all(c in CODE_ALPHABET for c in first + second)
    assert issued.expires_at == clock.now() + CODE_LIFETIME and issued.replaced == 0

    [row] = list(await services.session.scalars(select(LinkCode)))
    assert row.code_hash == hashlib.sha256((first + second).encode()).hexdigest()
    stored = " ".join(str(getattr(row, c.key)) for c in LinkCode.__table__.columns)
    assert first + second not in stored and issued.code not in stored
    assert row.group_id == group.id and row.created_by_id == anna.id
    assert (await actions(services, group))[-1] == "group.link_code"

    codes = {(await services.links.create_link_code(group, anna)).code for _ in range(20)}
    assert len(codes) == 20


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("K7QX-2M9P", "K7QX2M9P"),
        ("k7qx2m9p", "K7QX2M9P"),
        ("  k7qx 2m9p ", "K7QX2M9P"),
        ("K7QX\u20132M9P", "K7QX2M9P"),  # en dash from autocorrect
        ("`K7QX-2M9P`", "K7QX2M9P"),
        ("K7QX-2M9", None),
        ("K7QX-2M9PP", None),
        ("K0QX-2M9P", None),  # 0 and O, 1 and I are not in the alphabet
        ("KIQX-2M9P", None),
        ("Käse-2M9P", None),
        ("", None),
    ],
)
def test_codes_are_read_leniently(typed: str, expected: str | None) -> None:
    assert normalise_code(typed) == expected


# Linking ------------------------------------------------------------------------------------


async def test_link_adds_the_chat_to_the_ag_and_is_audited(services: Services, ag) -> None:
    group, home, anna = ag
    issued = await services.links.create_link_code(group, anna)
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")

    result = await services.links.link_chat(room, issued.code.lower().replace("-", ""), tom)

    assert result.group is not None and result.group.id == group.id and result.rejection is None
    assert [c.id for c in result.other_chats] == [home.id]
    assert room.group_id == group.id
    assert [c.id for c in await services.groups.repo.chats(group.id)] == [home.id, room.id]
    assert await services.groups.people.membership(group.id, tom.id) is not None
    [code] = list(await services.session.scalars(select(LinkCode)))
    await services.session.refresh(code)
    assert code.used_at is not None and code.used_in_chat_id == room.id and code.used_by_id == tom.id
    assert await actions(services, group) == ["group.create", "group.link_code", "group.link"]
    [entry] = [e for e in await services.groups.audit.for_group(group.id) if e.action == "group.link"]
    assert entry.entity == "chat" and entry.entity_id == room.id and entry.actor_id == tom.id
    assert entry.details["platform"] == "matrix"
    assert await count(services, LinkAttempt) == 0


async def test_a_code_works_only_once(services: Services, ag) -> None:
    group, _, anna = ag
    issued = await services.links.create_link_code(group, anna)
    first = await chat(services, Platform.MATRIX, "!one:example.org")
    second = await chat(services, Platform.CONSOLE, "group:two")
    tom = await person(services, Platform.MATRIX, "tom")
    assert (await services.links.link_chat(first, issued.code, tom)).group is not None

    result = await services.links.link_chat(second, issued.code, tom)

    assert result.group is None and result.rejection is CodeRejection.USED
    assert second.group_id is None
    assert result.attempts_left == MAX_FAILED_ATTEMPTS - 1


async def test_a_used_code_cannot_be_redeemed_again_by_a_racing_chat(services: Services, ag, clock) -> None:
    group, _, anna = ag
    await services.links.create_link_code(group, anna)
    [code] = list(await services.session.scalars(select(LinkCode)))
    room = await chat(services, Platform.MATRIX, "!one:example.org")
    assert await services.links.links.redeem(code.id, clock.now(), room.id, anna.id)
    assert not await services.links.links.redeem(code.id, clock.now(), room.id, anna.id)


async def test_a_code_expires_after_24_hours(services: Services, ag, clock: ManualClock) -> None:
    group, _, anna = ag
    early = await services.links.create_link_code(group, anna)
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")

    clock.advance(CODE_LIFETIME)
    result = await services.links.link_chat(room, early.code, tom)
    assert result.group is None and result.rejection is CodeRejection.EXPIRED
    assert room.group_id is None

    late = await services.links.create_link_code(group, anna)
    assert late.replaced == 0  # the expired code was no longer open
    clock.advance(CODE_LIFETIME - timedelta(seconds=1))
    assert (await services.links.link_chat(room, late.code, tom)).group is not None


async def test_a_new_code_replaces_the_open_ones(services: Services, ag) -> None:
    group, _, anna = ag
    old = await services.links.create_link_code(group, anna)
    new = await services.links.create_link_code(group, anna)
    assert new.replaced == 1
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")

    result = await services.links.link_chat(room, old.code, tom)
    assert result.rejection is CodeRejection.REPLACED and room.group_id is None
    assert (await services.links.link_chat(room, new.code, tom)).group is not None

    # A used code is not "replaced" later: a late attempt still hears that it was used.
    await services.links.create_link_code(group, anna)
    other = await chat(services, Platform.CONSOLE, "group:other")
    assert (await services.links.link_chat(other, new.code, tom)).rejection is CodeRejection.USED


async def test_codes_of_one_ag_do_not_replace_those_of_another(services: Services, ag) -> None:
    group, _, anna = ag
    other_home = await chat(services, Platform.TELEGRAM, "-200")
    other = await services.groups.create(other_home, "AG Umwelt", anna)
    mine = await services.links.create_link_code(group, anna)
    theirs = await services.links.create_link_code(other, anna)
    assert theirs.replaced == 0
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    assert (await services.links.link_chat(room, mine.code, anna)).group.id == group.id


async def test_an_unknown_code_is_rejected_and_changes_nothing(services: Services, ag) -> None:
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")
    result = await services.links.link_chat(room, "ABCD-EFGH", tom)
    assert result.group is None and result.rejection is CodeRejection.UNKNOWN
    assert result.attempts_left == MAX_FAILED_ATTEMPTS - 1 and result.retry_in is None
    assert room.group_id is None
    assert await count(services, AuditEntry, AuditEntry.action == "group.link") == 0
    assert await count(services, LinkAttempt, LinkAttempt.chat_id == room.id) == 1


async def test_a_malformed_code_is_explained_and_not_counted(services: Services, ag) -> None:
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")
    with pytest.raises(UserError, match="ag.link.code_malformed") as raised:
        await services.links.link_chat(room, "hallo welt", tom)
    assert raised.value.params == {"given": "hallo welt"}
    assert await count(services, LinkAttempt) == 0


async def test_a_chat_of_another_ag_cannot_be_linked(services: Services, ag) -> None:
    group, _, anna = ag
    issued = await services.links.create_link_code(group, anna)
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")
    other = await services.groups.create(room, "AG Umwelt", tom)

    with pytest.raises(UserError, match="ag.link.already_linked") as raised:
        await services.links.link_chat(room, issued.code, tom)

    assert raised.value.params == {"name": "AG Umwelt"}
    assert room.group_id == other.id
    [code] = list(await services.session.scalars(select(LinkCode)))
    assert code.used_at is None  # still open for the chat it was meant for
    assert await count(services, LinkAttempt) == 0


async def test_a_chat_of_the_same_ag_is_told_so(services: Services, ag) -> None:
    group, home, anna = ag
    issued = await services.links.create_link_code(group, anna)
    with pytest.raises(UserError, match="ag.link.already_linked"):
        await services.links.link_chat(home, issued.code, anna)


async def test_private_chats_are_not_linked(services: Services, ag) -> None:
    group, _, anna = ag
    issued = await services.links.create_link_code(group, anna)
    private = await chat(services, Platform.TELEGRAM, "4711", private=True)
    with pytest.raises(UserError, match="ag.link.private_chat"):
        await services.links.link_chat(private, issued.code, anna)
    assert private.group_id is None


# Brute force --------------------------------------------------------------------------------


async def test_five_wrong_codes_lock_the_person_not_the_chat(
    services: Services, ag, clock: ManualClock
) -> None:
    group, _, anna = ag
    issued = await services.links.create_link_code(group, anna)
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")

    lefts = []
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"):
        result = await services.links.link_chat(room, guess, tom)
        assert result.rejection is CodeRejection.UNKNOWN
        lefts.append(result.attempts_left)
        clock.advance(timedelta(minutes=1))
    assert lefts == [4, 3, 2, 1, 0]
    # The fifth came four minutes after the first; the first leaves the window at +60.
    assert result.retry_in == ATTEMPT_WINDOW - timedelta(minutes=4)

    # Now even the right code is refused for Tom, and the refusal itself is not counted.
    with pytest.raises(UserError, match="ag.link.locked") as raised:
        await services.links.link_chat(room, issued.code, tom)
    assert raised.value.params == {"minutes": 55}  # the first wrong code was 5 minutes ago
    assert room.group_id is None
    assert await count(services, LinkAttempt) == MAX_FAILED_ATTEMPTS
    assert await count(services, LinkAttempt, LinkAttempt.person_id == tom.id) == MAX_FAILED_ATTEMPTS

    # A fresh chat gives Tom no fresh tries ...
    other = await chat(services, Platform.CONSOLE, "group:other")
    with pytest.raises(UserError, match="ag.link.locked"):
        await services.links.link_chat(other, "FFFF-FFFF", tom)

    # ... but the others in the chat are not locked out by his failures.
    lena = await person(services, Platform.MATRIX, "lena")
    assert (await services.links.link_chat(room, "GGGG-GGGG", lena)).attempts_left == 4
    result = await services.links.link_chat(room, issued.code, lena)
    assert result.group is not None and room.group_id == group.id


async def test_the_limit_is_a_sliding_hour(services: Services, ag, clock: ManualClock) -> None:
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")
    await services.links.link_chat(room, "AAAA-AAAA", tom)
    clock.advance(timedelta(minutes=30))
    for _ in range(4):
        await services.links.link_chat(room, "BBBB-BBBB", tom)
    with pytest.raises(UserError, match="ag.link.locked") as raised:
        await services.links.link_chat(room, "CCCC-CCCC", tom)
    assert raised.value.params == {"minutes": 30}

    clock.advance(timedelta(minutes=30))
    # The first attempt has left the window: exactly one more try, then locked again.
    result = await services.links.link_chat(room, "CCCC-CCCC", tom)
    assert result.attempts_left == 0 and result.retry_in == timedelta(minutes=30)
    with pytest.raises(UserError, match="ag.link.locked"):
        await services.links.link_chat(room, "DDDD-DDDD", tom)
    # Attempts that no longer count are cleaned up as new ones arrive.
    assert await count(services, LinkAttempt) == MAX_FAILED_ATTEMPTS


async def test_many_wrong_codes_overall_slow_everybody_down_briefly(
    services: Services, ag, clock: ManualClock
) -> None:
    """Many accounts, each within its own limit, meet the global budget and then a cooldown."""
    group, _, anna = ag
    issued = await services.links.create_link_code(group, anna)
    guessers = GLOBAL_FAILED_ATTEMPTS // MAX_FAILED_ATTEMPTS
    for n in range(guessers):
        account = await person(services, Platform.MATRIX, f"bot{n}")
        fresh = await chat(services, Platform.MATRIX, f"!fresh{n}:example.org")
        for _ in range(MAX_FAILED_ATTEMPTS):
            result = await services.links.link_chat(fresh, "AAAA-AAAA", account)
            assert result.rejection is CodeRejection.UNKNOWN
        clock.advance(timedelta(seconds=1))
    assert await count(services, LinkAttempt) == GLOBAL_FAILED_ATTEMPTS

    # Budget used up: anybody's code waits until the cooldown after the latest wrong one is over,
    # unchecked and unrecorded, the right code too; it stays valid.
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")
    clock.advance(timedelta(seconds=20))
    with pytest.raises(UserError, match="ag.link.busy") as raised:
        await services.links.link_chat(room, issued.code, tom)
    assert raised.value.params == {"seconds": 39}  # the latest wrong code came 21 s ago
    assert await count(services, LinkAttempt) == GLOBAL_FAILED_ATTEMPTS
    assert room.group_id is None

    # After the cooldown one code is checked; a wrong one starts the next cooldown.
    clock.advance(timedelta(seconds=39))
    assert (await services.links.link_chat(room, "BBBB-BBBB", tom)).rejection is CodeRejection.UNKNOWN
    with pytest.raises(UserError, match="ag.link.busy"):
        await services.links.link_chat(room, issued.code, tom)
    clock.advance(GLOBAL_COOLDOWN)
    result = await services.links.link_chat(room, issued.code, tom)
    assert result.group is not None and room.group_id == group.id


async def test_the_global_budget_frees_up_as_the_hour_slides(
    services: Services, ag, clock: ManualClock
) -> None:
    for n in range(GLOBAL_FAILED_ATTEMPTS // MAX_FAILED_ATTEMPTS):
        account = await person(services, Platform.MATRIX, f"bot{n}")
        fresh = await chat(services, Platform.MATRIX, f"!fresh{n}:example.org")
        for _ in range(MAX_FAILED_ATTEMPTS):
            await services.links.link_chat(fresh, "AAAA-AAAA", account)
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    tom = await person(services, Platform.MATRIX, "tom")
    with pytest.raises(UserError, match="ag.link.busy"):
        await services.links.link_chat(room, "BBBB-BBBB", tom)

    clock.advance(ATTEMPT_WINDOW)
    # Out of the window: no cooldown, full tries, and the old rows are gone with the next one.
    for left in range(MAX_FAILED_ATTEMPTS - 1, -1, -1):
        assert (await services.links.link_chat(room, "BBBB-BBBB", tom)).attempts_left == left
    assert await count(services, LinkAttempt) == MAX_FAILED_ATTEMPTS


async def test_expired_used_and_replaced_codes_count_as_wrong(services: Services, ag, clock) -> None:
    group, _, anna = ag
    old = await services.links.create_link_code(group, anna)
    await services.links.create_link_code(group, anna)
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    result = await services.links.link_chat(room, old.code, anna)
    assert result.rejection is CodeRejection.REPLACED and result.attempts_left == 4


# Unlinking ----------------------------------------------------------------------------------


async def test_unlink_removes_the_chat_but_keeps_the_ag(services: Services, ag) -> None:
    group, home, anna = ag
    issued = await services.links.create_link_code(group, anna)
    room = await chat(services, Platform.MATRIX, "!room:example.org")
    await services.links.link_chat(room, issued.code, anna)

    remaining = await services.links.unlink_chat(group, home, anna)

    assert [c.id for c in remaining] == [room.id]
    assert home.group_id is None and room.group_id == group.id
    assert [c.id for c in await services.groups.repo.chats(group.id)] == [room.id]
    assert (await actions(services, group))[-1] == "group.unlink"
    [entry] = [e for e in await services.groups.audit.for_group(group.id) if e.action == "group.unlink"]
    assert (
        entry.entity_id == home.id and entry.actor_id == anna.id and entry.details["platform"] == "telegram"
    )

    # The unlinked chat may join again with a new code.
    again = await services.links.create_link_code(group, anna)
    assert (await services.links.link_chat(home, again.code, anna)).group is not None


async def test_the_last_chat_cannot_be_unlinked(services: Services, ag) -> None:
    group, home, anna = ag
    with pytest.raises(UserError, match="ag.unlink.last_chat") as raised:
        await services.links.unlink_chat(group, home, anna)
    assert raised.value.params == {"name": "AG Bildung"}
    assert home.group_id == group.id
    assert "group.unlink" not in await actions(services, group)


async def test_attempts_are_checked_one_transaction_at_a_time_on_postgresql(database: Database) -> None:
    """Concurrent attempts must not all read the same counts (many accounts at once)."""
    if database.is_sqlite:
        pytest.skip("SQLite runs one transaction at a time anyway")
    held = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
    async with database.transaction() as session:
        await LinkRepository(session).lock_attempts()
        async with database.engine.connect() as other:
            assert await other.scalar(held) == 1
    async with database.engine.connect() as other:
        assert await other.scalar(held) == 0  # released with the transaction
