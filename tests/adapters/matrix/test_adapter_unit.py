"""The parts of MatrixAdapter that need no homeserver: who may invite the bot, which events of a
freshly joined room are history, who counts as koordination, and how rooms become chats.

The adapter is constructed but never started; its nio client points at an unused port and is
closed after each test. Behaviour against a real Synapse is in test_e2e.py.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import nio
import pytest

from bot.adapters.matrix import MatrixAdapter
from bot.app import Application
from bot.config import MatrixSection
from bot.core import logsafe
from bot.core.events import ChatKind, ChatRef, Platform
from bot.core.startup import EXIT_CONFIG, StartupError

BOT = "@bot:localhost"
ANNA = "@anna:localhost"
BERND = "@bernd:localhost"
CARLA = "@carla:example.org"

MakeAdapter = Callable[..., MatrixAdapter]
_event_ids = itertools.count(1)


@pytest.fixture
async def make_adapter(app: Application, tmp_path: Path) -> AsyncIterator[MakeAdapter]:
    """Factory for adapters with extra ``[matrix]`` settings; their clients are closed afterwards."""
    adapters: list[MatrixAdapter] = []

    def make(**settings: Any) -> MatrixAdapter:
        if "store_path" in MatrixSection.model_fields:
            # With libolm installed the adapter creates its key store; keep it out of the checkout.
            settings.setdefault("store_path", str(tmp_path / "matrix-store"))
        config = MatrixSection(homeserver="http://127.0.0.1:1", user_id=BOT, password="x", **settings)
        adapter = MatrixAdapter(app, config)
        adapters.append(adapter)
        return adapter

    yield make
    for adapter in adapters:
        await adapter.client.close()


@pytest.fixture
def adapter(make_adapter: MakeAdapter) -> MatrixAdapter:
    """An adapter with the default settings."""
    return make_adapter()


def event(source: dict[str, Any]) -> Any:
    """Parse an event source as nio does during sync."""
    parsed = nio.Event.parse_event(
        {"event_id": f"$e{next(_event_ids)}:localhost", "origin_server_ts": 1_700_000_000_000, **source}
    )
    assert not isinstance(parsed, nio.BadEvent | nio.UnknownBadEvent), parsed
    return parsed


def text_event(sender: str, body: str) -> Any:
    return event({"type": "m.room.message", "sender": sender, "content": {"msgtype": "m.text", "body": body}})


def member_event(user: str, membership: str, *, sender: str | None = None, prev: str | None = None) -> Any:
    source: dict[str, Any] = {
        "type": "m.room.member",
        "sender": sender or user,
        "state_key": user,
        "content": {"membership": membership},
    }
    if prev is not None:
        source["unsigned"] = {"prev_content": {"membership": prev}}
    return event(source)


def add_room(
    adapter: MatrixAdapter, room_id: str, *members: str, name: str | None = None, alias: str | None = None
) -> nio.MatrixRoom:
    """Put a room into the client's state as a sync would."""
    room = nio.MatrixRoom(room_id, BOT)
    for member in members:
        room.add_member(member, member.split(":")[0].lstrip("@").title(), None)
    room.name = name
    room.canonical_alias = alias
    adapter.client.rooms[room_id] = room
    return room


# Construction ---------------------------------------------------------------------------------


async def test_needs_homeserver_and_user_id(app: Application) -> None:
    """Without the connection settings the adapter refuses to start."""
    with pytest.raises(ValueError, match="homeserver and user_id"):
        MatrixAdapter(app, MatrixSection())


# _may_invite ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inviter", "allowed"),
    [
        (ANNA, True),
        ("@anyone:localhost", True),
        (CARLA, False),
        ("@anna:localhost.evil.org", False),
        ("@anna:evil.org", False),
        ("@localhost:evil.org", False),
    ],
)
def test_default_allows_only_the_own_homeserver(adapter: MatrixAdapter, inviter: str, allowed: bool) -> None:
    """Without ``allowed_inviters`` only people of the bot's own homeserver may invite it."""
    assert adapter._may_invite(inviter) is allowed


async def test_default_with_a_port_in_the_server_name(make_adapter: MakeAdapter) -> None:
    """Server names may carry a port; it is part of the name."""
    adapter = make_adapter()
    adapter.user_id = "@bot:matrix.example.org:8448"
    assert adapter._may_invite("@anna:matrix.example.org:8448")
    assert not adapter._may_invite("@anna:matrix.example.org")


@pytest.mark.parametrize(
    ("inviter", "allowed"),
    [(CARLA, True), ("@dora:example.org", False), (ANNA, False)],
)
async def test_explicit_user_ids(make_adapter: MakeAdapter, inviter: str, allowed: bool) -> None:
    """Listed user ids may invite; the list replaces the own-homeserver default."""
    adapter = make_adapter(allowed_inviters=[CARLA])
    assert adapter._may_invite(inviter) is allowed


@pytest.mark.parametrize("entry", [":example.org", "example.org"])
@pytest.mark.parametrize(
    ("inviter", "allowed"),
    [
        (CARLA, True),
        ("@dora:example.org", True),
        (ANNA, False),
        ("@eve:sub.example.org", False),
        ("@eve:example.org.evil", False),
    ],
)
async def test_server_entries_with_or_without_colon(
    make_adapter: MakeAdapter, entry: str, inviter: str, allowed: bool
) -> None:
    """``:server`` and ``server`` both allow everyone on exactly that server."""
    adapter = make_adapter(allowed_inviters=[entry])
    assert adapter._may_invite(inviter) is allowed


async def test_mixed_entries(make_adapter: MakeAdapter) -> None:
    """Users and servers can be combined; the own server must then be listed explicitly."""
    adapter = make_adapter(allowed_inviters=[CARLA, "localhost"])
    assert adapter._may_invite(CARLA)
    assert adapter._may_invite(ANNA)
    assert not adapter._may_invite("@dora:example.org")


# _after_own_join ------------------------------------------------------------------------------


def test_history_before_the_own_join_is_dropped(adapter: MatrixAdapter) -> None:
    """The first batch of a room just joined holds its history: only events after our join stay."""
    old = text_event(ANNA, "!beschluss alt")
    someone_joins = member_event(BERND, "join")
    invite = member_event(BOT, "invite", sender=ANNA)
    own_join = member_event(BOT, "join", prev="invite")
    new = [text_event(ANNA, "!ag anlegen AG"), text_event(BERND, "hallo")]

    kept = adapter._after_own_join([old, someone_joins, invite, own_join, *new])

    assert kept == new


def test_without_the_own_join_every_event_is_new(adapter: MatrixAdapter) -> None:
    """If the join is older than the batch, the whole batch came after it."""
    events = [text_event(ANNA, "eins"), member_event(BERND, "join"), text_event(BERND, "zwei")]
    assert adapter._after_own_join(events) == events


def test_the_last_own_join_counts(adapter: MatrixAdapter) -> None:
    """After leaving and rejoining, only what came after the latest join is new."""
    first_join = member_event(BOT, "join", prev="invite")
    between = text_event(ANNA, "zwischendurch")
    leave = member_event(BOT, "leave", prev="join")
    rejoin = member_event(BOT, "join", prev="leave")
    after = text_event(ANNA, "danach")
    assert adapter._after_own_join([first_join, between, leave, rejoin, after]) == [after]


def test_others_joining_and_own_invites_do_not_count(adapter: MatrixAdapter) -> None:
    """Only the bot's own ``join`` marks the boundary."""
    events = [member_event(ANNA, "join"), member_event(BOT, "invite", sender=ANNA), text_event(ANNA, "x")]
    assert adapter._after_own_join(events) == events


def test_join_as_last_event_leaves_nothing(adapter: MatrixAdapter) -> None:
    """A batch ending with our join holds only history."""
    assert adapter._after_own_join([text_event(ANNA, "alt"), member_event(BOT, "join")]) == []
    assert adapter._after_own_join([]) == []


# _is_coordinator ------------------------------------------------------------------------------


def test_power_level_at_or_above_the_threshold_is_koordination(adapter: MatrixAdapter) -> None:
    """With the default threshold 50, moderators and admins count as koordination."""
    room = add_room(adapter, "!r:localhost", BOT, ANNA, BERND, CARLA, name="AG")
    room.power_levels.users = {ANNA: 100, BERND: 50, CARLA: 49}
    assert adapter.config.koordination_power_level == 50
    assert adapter._is_coordinator("!r:localhost", ANNA)
    assert adapter._is_coordinator("!r:localhost", BERND)
    assert not adapter._is_coordinator("!r:localhost", CARLA)
    assert not adapter._is_coordinator("!r:localhost", "@unlisted:localhost")


async def test_threshold_comes_from_the_config(make_adapter: MakeAdapter) -> None:
    """A stricter threshold excludes moderators."""
    adapter = make_adapter(koordination_power_level=100)
    room = add_room(adapter, "!r:localhost", BOT, ANNA, BERND, name="AG")
    room.power_levels.users = {ANNA: 100, BERND: 50}
    assert adapter._is_coordinator("!r:localhost", ANNA)
    assert not adapter._is_coordinator("!r:localhost", BERND)


def test_users_default_applies_to_unlisted_users(adapter: MatrixAdapter) -> None:
    """A room whose default user level reaches the threshold makes everyone koordination."""
    room = add_room(adapter, "!r:localhost", BOT, ANNA, name="AG")
    room.power_levels.defaults.users_default = 50
    assert adapter._is_coordinator("!r:localhost", ANNA)


def test_unknown_room_means_no_koordination(adapter: MatrixAdapter) -> None:
    """Without room state nobody is koordination."""
    assert not adapter._is_coordinator("!unknown:localhost", ANNA)


# _chat ----------------------------------------------------------------------------------------


def test_unnamed_two_person_room_is_the_direct_chat(adapter: MatrixAdapter) -> None:
    """An unnamed room with the bot and one person is that person's private chat; the mapping is kept."""
    add_room(adapter, "!dm:localhost", BOT, ANNA)

    chat = adapter._chat("!dm:localhost")

    assert chat.platform is Platform.MATRIX
    assert chat.kind is ChatKind.PRIVATE
    assert chat.external_id == ANNA
    assert chat.title == "Anna"  # the room's computed name
    assert adapter._dm_room == {ANNA: "!dm:localhost"}
    assert adapter._room_dm == {"!dm:localhost": ANNA}


def test_person_invited_into_a_new_direct_room_is_detected(adapter: MatrixAdapter) -> None:
    """Invited members count like joined ones (the bot created the room and invited the person)."""
    room = add_room(adapter, "!dm:localhost", BOT)
    room.add_member(ANNA, "Anna", None, invited=True)
    assert adapter._chat("!dm:localhost").external_id == ANNA


def test_named_room_stays_a_group(adapter: MatrixAdapter) -> None:
    """A room with a name is a group even with two members."""
    add_room(adapter, "!r:localhost", BOT, ANNA, name="AG Garten")

    chat = adapter._chat("!r:localhost")

    assert chat == ChatRef(Platform.MATRIX, "!r:localhost", ChatKind.GROUP, "AG Garten")
    assert adapter._dm_room == {} and adapter._room_dm == {}


def test_room_with_an_alias_stays_a_group(adapter: MatrixAdapter) -> None:
    """A published alias marks a group room."""
    add_room(adapter, "!r:localhost", BOT, ANNA, alias="#garten:localhost")
    assert adapter._chat("!r:localhost").kind is ChatKind.GROUP


def test_unnamed_room_of_three_is_a_group(adapter: MatrixAdapter) -> None:
    """More than two members is a group."""
    add_room(adapter, "!r:localhost", BOT, ANNA, BERND)
    chat = adapter._chat("!r:localhost")
    assert (chat.kind, chat.external_id) == (ChatKind.GROUP, "!r:localhost")
    assert adapter._room_dm == {}


def test_room_where_the_bot_is_alone_is_a_group(adapter: MatrixAdapter) -> None:
    """Without another person there is nobody to be private with."""
    add_room(adapter, "!r:localhost", BOT)
    assert adapter._chat("!r:localhost").kind is ChatKind.GROUP


def test_unknown_room_is_a_group_without_title(adapter: MatrixAdapter) -> None:
    """A room not (yet) in the client's state is addressed by its id."""
    assert adapter._chat("!unknown:localhost") == ChatRef(
        Platform.MATRIX, "!unknown:localhost", ChatKind.GROUP, None
    )


def test_known_direct_room_stays_private(adapter: MatrixAdapter) -> None:
    """A direct room from the stored mapping stays private even after it was given a name."""
    add_room(adapter, "!dm:localhost", BOT, ANNA, name="Anna und der Bot")
    adapter._room_dm["!dm:localhost"] = ANNA
    adapter._dm_room[ANNA] = "!dm:localhost"
    chat = adapter._chat("!dm:localhost")
    assert (chat.kind, chat.external_id) == (ChatKind.PRIVATE, ANNA)


def test_second_direct_room_keeps_the_first_as_the_send_target(adapter: MatrixAdapter) -> None:
    """Both rooms are the same private chat; replies keep going to the room first recorded."""
    add_room(adapter, "!dm-one:localhost", BOT, ANNA)
    add_room(adapter, "!dm-two:localhost", BOT, ANNA)
    assert adapter._chat("!dm-one:localhost").external_id == ANNA
    assert adapter._chat("!dm-two:localhost").external_id == ANNA
    assert adapter._dm_room == {ANNA: "!dm-one:localhost"}
    assert adapter._room_dm == {"!dm-one:localhost": ANNA, "!dm-two:localhost": ANNA}


async def test_room_for_a_room_id_is_the_room_itself(adapter: MatrixAdapter) -> None:
    """Group chats are addressed by room id; nothing is created."""
    assert await adapter.room_for("!r:localhost") == "!r:localhost"


async def test_room_for_a_known_direct_chat_uses_its_room(adapter: MatrixAdapter) -> None:
    """A recorded direct room the client still knows is reused without a request."""
    add_room(adapter, "!dm:localhost", BOT, ANNA)
    adapter._chat("!dm:localhost")
    assert await adapter.room_for(ANNA) == "!dm:localhost"


STICKY_DM_BUG = (
    "adapter.py MatrixAdapter._chat ('direct_with = self._room_dm.get(room_id)'): once an unnamed "
    "2-person room is recorded in _room_dm it "
    "stays that person's PRIVATE chat forever; when a third person joins, their messages arrive "
    "as IncomingMessage(chat=<private chat of @anna>, sender=@bernd), their joins are ignored "
    "(chat.is_private), and room_for(@anna) keeps sending Anna's private messages into a room "
    "others can read. Expected: a room with more than two members is not Anna's private chat."
)


def test_direct_room_that_grows_is_no_longer_private(adapter: MatrixAdapter) -> None:
    """When a third person joins an auto-detected direct room, it must stop being Anna's private chat."""
    room = add_room(adapter, "!dm:localhost", BOT, ANNA)
    assert adapter._chat("!dm:localhost").is_private
    room.add_member(BERND, "Bernd", None)

    chat = adapter._chat("!dm:localhost")

    assert not (chat.is_private and chat.external_id == ANNA)


async def test_the_sync_filter_is_uploaded_once(
    adapter: MatrixAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nio import UploadFilterResponse

    calls: list[dict[str, Any]] = []

    async def upload_filter(**kwargs: Any) -> UploadFilterResponse:
        calls.append(kwargs)
        return UploadFilterResponse(filter_id=f"f{len(calls)}")

    monkeypatch.setattr(adapter.client, "upload_filter", upload_filter)
    assert await adapter._sync_filter(50) == "f1"
    assert await adapter._sync_filter(50) == "f1"
    assert await adapter._sync_filter(0) == "f2"
    assert calls[0]["room"]["timeline"]["limit"] == 50


async def test_the_sync_filter_goes_inline_when_the_upload_fails(
    adapter: MatrixAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nio import UploadFilterError

    async def refused(**kwargs: Any) -> UploadFilterError:
        return UploadFilterError("M_UNKNOWN", "M_UNKNOWN")

    async def unreachable(**kwargs: Any) -> None:
        raise aiohttp.ClientConnectionError("down")

    monkeypatch.setattr(adapter.client, "upload_filter", refused)
    inline = await adapter._sync_filter(50)
    assert isinstance(inline, dict) and inline["room"]["timeline"]["limit"] == 50
    monkeypatch.setattr(adapter.client, "upload_filter", unreachable)
    assert isinstance(await adapter._sync_filter(50), dict)


# Start-up and outages ------------------------------------------------------------------------


@pytest.fixture
def waits(adapter: MatrixAdapter) -> list[float]:
    """The adapter's backoff waits, recorded instead of slept."""
    recorded: list[float] = []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    adapter._sleep = sleep
    return recorded


async def test_a_refused_password_ends_the_start_with_one_line(
    adapter: MatrixAdapter, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def login(*args: Any, **kwargs: Any) -> nio.LoginError:
        return nio.LoginError("Invalid username or password", "M_FORBIDDEN")

    monkeypatch.setattr(adapter.client, "login", login)
    with pytest.raises(StartupError) as caught:
        await adapter.start()
    message = str(caught.value)
    assert caught.value.status == EXIT_CONFIG and waits == []
    assert "M_FORBIDDEN" in message and "[matrix] user_id and password" in message and "\n" not in message
    assert adapter.client.client_session is None  # closed: no "unclosed session" warning at exit


async def test_a_rejected_access_token_ends_the_start(
    make_adapter: MakeAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = make_adapter(access_token="syt_rejected")

    async def whoami() -> nio.WhoamiError:
        return nio.WhoamiError("Invalid access token", "M_UNKNOWN_TOKEN")

    monkeypatch.setattr(adapter.client, "whoami", whoami)
    with pytest.raises(StartupError) as caught:
        await adapter.start()
    assert caught.value.status == EXIT_CONFIG and "[matrix] access_token" in str(caught.value)
    assert "syt_rejected" not in str(caught.value)


async def test_a_server_error_at_login_is_retried_and_the_new_token_is_redacted(
    adapter: MatrixAdapter, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = [
        nio.LoginError("<html>502 Bad Gateway</html>", None),
        nio.LoginResponse(BOT, "DEVICE", "syt_fresh_from_login"),
    ]

    async def login(*args: Any, **kwargs: Any) -> Any:
        return answers.pop(0)

    monkeypatch.setattr(adapter.client, "login", login)
    try:
        await adapter._login()
        assert waits == [1.0] and not answers
        assert "syt_fresh_from_login" not in logsafe.redact("token syt_fresh_from_login")
    finally:
        logsafe.forget_secrets()


async def test_the_sync_loop_survives_an_unexpected_error(
    adapter: MatrixAdapter, waits: list[float], monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    steps: list[int] = []

    async def step() -> None:
        steps.append(len(steps))
        if len(steps) == 1:
            raise RuntimeError("database is locked")
        adapter._stopping = True

    monkeypatch.setattr(adapter, "_sync_step", step)
    await adapter._sync_loop()
    assert steps == [0, 1] and waits == [1.0]
    assert any("sync step failed" in r.getMessage() for r in caplog.records)
