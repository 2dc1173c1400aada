"""Tests for the real-Synapse harness in :mod:`tests.fakes.synapse`.

These start an actual homeserver (installing Synapse into its cached venv on
first use), so they take tens of seconds on a cold machine.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nio
import pytest
from packaging.requirements import Requirement

from .synapse import (
    SERVER_NAME,
    SYNAPSE_REQUIREMENT,
    SynapseError,
    SynapseServer,
    default_venv_dir,
    ensure_synapse,
)

MESSAGE_COUNT = 200
# Overall bound for each polling loop; never a fixed sleep.
POLL_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    """Run a server of this module's own, since the scenario below restarts it.

    Deliberately not the shared ``synapse_server`` session fixture, whose
    users would be disturbed by a restart.
    """
    with SynapseServer(tmp_path_factory.mktemp("synapse-selftest")) as srv:
        yield srv


def unique(name: str) -> str:
    """Return a localpart that no other test on the server uses."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def strict_config() -> nio.AsyncClientConfig:
    """Return a nio config that surfaces rate limiting instead of hiding it.

    By default nio sleeps and retries on 429 forever, which would make a
    throttled burst look like a slow success.
    """
    return nio.AsyncClientConfig(max_limit_exceeded=0, encryption_enabled=False)


async def paginate_back(client: nio.AsyncClient, room_id: str, start: str, end: str | None) -> list[str]:
    """Return message bodies between ``end`` and ``start``, oldest first."""
    bodies: list[str] = []
    token = start
    while True:
        page = await client.room_messages(room_id, start=token, end=end, limit=100)
        assert isinstance(page, nio.RoomMessagesResponse), page
        bodies.extend(e.body for e in page.chunk if isinstance(e, nio.RoomMessageText))
        if not page.chunk or not page.end:
            break
        token = page.end
    bodies.reverse()
    return bodies


async def receive_bodies(client: nio.AsyncClient, room_id: str, count: int) -> list[str]:
    """Sync until ``count`` new text messages arrived in ``room_id``.

    Synapse returns only the last few events per sync (``limited``
    timeline), so older ones are fetched with ``/messages`` back to the
    previous sync token.
    """
    received: list[str] = []
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while len(received) < count:
        assert time.monotonic() < deadline, f"only got {len(received)}/{count} messages"
        since = client.next_batch
        response = await client.sync(timeout=1000)  # server-side long poll
        assert isinstance(response, nio.SyncResponse), response
        room = response.rooms.join.get(room_id)
        if room is None:
            continue
        batch = [e.body for e in room.timeline.events if isinstance(e, nio.RoomMessageText)]
        if room.timeline.limited:
            batch = await paginate_back(client, room_id, room.timeline.prev_batch, since) + batch
        received.extend(batch)
    return received


async def wait_for_invite(client: nio.AsyncClient, room_id: str) -> None:
    """Sync until ``client`` sees an invite to ``room_id``."""
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while room_id not in client.invited_rooms:
        assert time.monotonic() < deadline, "invite never arrived"
        response = await client.sync(timeout=1000)
        assert isinstance(response, nio.SyncResponse), response


def test_install_is_cached_and_pinned(server: SynapseServer) -> None:
    """The venv is installed once per process and has the pinned version."""
    assert server.install is not None
    # Timings end up in the report with `-rP`; useful when CI gets slow.
    print(
        f"synapse {server.version} in {server.install.venv_dir}: "
        f"{'installed' if server.install.installed else 'reused'} in "
        f"{server.install.seconds:.1f}s, started in {server.last_start_seconds:.1f}s"
    )
    # A second call in the same process is memoised rather than re-probed.
    assert ensure_synapse(server.install.venv_dir) is server.install
    assert server.version is not None
    assert Requirement(SYNAPSE_REQUIREMENT).specifier.contains(server.version)
    assert (server.install.venv_dir / "bin" / "python").exists()


def test_default_venv_dir_honours_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """``KUEMMERER_SYNAPSE_VENV`` overrides the ~/.cache default."""
    monkeypatch.setenv("KUEMMERER_SYNAPSE_VENV", "/somewhere/venv")
    assert default_venv_dir() == Path("/somewhere/venv")
    monkeypatch.delenv("KUEMMERER_SYNAPSE_VENV")
    assert default_venv_dir() == Path.home() / ".cache" / "kuemmerer" / "synapse-venv"


def test_generated_config_is_hermetic(server: SynapseServer) -> None:
    """Only a loopback client listener, SQLite, no registration, no key servers."""
    config = json.loads(server.config_path.read_text(encoding="utf-8"))
    assert server.base_url == f"http://127.0.0.1:{server.port}"
    assert server.server_name == SERVER_NAME == config["server_name"]
    [listener] = config["listeners"]
    assert listener["bind_addresses"] == ["127.0.0.1"]
    assert [r["names"] for r in listener["resources"]] == [["client"]]
    assert config["enable_registration"] is False
    assert config["trusted_key_servers"] == []
    assert config["database"]["name"] == "sqlite3"
    assert config["rc_message"]["burst_count"] >= 500
    assert (server.data_dir / f"{SERVER_NAME}.signing.key").is_file()


def test_register_user_twice_fails(server: SynapseServer) -> None:
    """Shared-secret registration works, and reports a taken name as an error."""
    name = unique("dup")
    user_id, token = server.register_user(name, "pw", admin=True)
    assert user_id == f"@{name}:{SERVER_NAME}"
    assert token
    with pytest.raises(SynapseError, match="M_USER_IN_USE"):
        server.register_user(name, "pw")


@pytest.mark.asyncio
async def test_client_for_registers_unknown_user(server: SynapseServer) -> None:
    """``client_for`` registers a new localpart on demand and logs it in."""
    async with server.logged_in_client(unique("auto")) as client:
        response = await client.whoami()
        assert isinstance(response, nio.WhoamiResponse), response
        assert response.user_id == client.user_id


@pytest.mark.asyncio
async def test_burst_sync_and_restart(server: SynapseServer) -> None:
    """200 messages go through unthrottled, and state survives a restart."""
    alice, bob = unique("alice"), unique("bob")
    await server.aregister_user(alice, "alice-pw")
    bob_id, bob_admin_token = await server.aregister_user(bob, "bob-pw")

    a = await server.client_for(alice, config=strict_config())
    try:
        b = await server.client_for(bob, config=strict_config())
        try:
            created = await a.room_create(name="burst", invite=[bob_id])
            assert isinstance(created, nio.RoomCreateResponse), created
            room_id = created.room_id

            await wait_for_invite(b, room_id)
            joined = await b.join(room_id)
            assert isinstance(joined, nio.JoinResponse), joined
            # Mark "now" for B so that only the burst is counted below.
            assert isinstance(await b.sync(timeout=0), nio.SyncResponse)

            expected = [f"message {i}" for i in range(MESSAGE_COUNT)]
            for body in expected:
                sent = await a.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body})
                # With max_limit_exceeded=0 a 429 comes back as RoomSendError.
                assert isinstance(sent, nio.RoomSendResponse), sent

            assert await receive_bodies(b, room_id, MESSAGE_COUNT) == expected

            await server.arestart()
            assert server.is_running

            # A's old client keeps working (nio retries the request that hits
            # a connection the restart closed).
            sent = await a.room_send(
                room_id,
                "m.room.message",
                {"msgtype": "m.text", "body": "after restart"},
            )
            assert isinstance(sent, nio.RoomSendResponse), sent
            # B's login token survived the restart: its client still syncs.
            assert await receive_bodies(b, room_id, 1) == ["after restart"]
            # So did the token handed out by the admin registration API.
            token_client = nio.AsyncClient(server.base_url, bob_id)
            token_client.access_token = bob_admin_token
            try:
                whoami = await token_client.whoami()
            finally:
                await token_client.close()
            assert isinstance(whoami, nio.WhoamiResponse), whoami
            assert whoami.user_id == bob_id
        finally:
            await b.close()
    finally:
        await a.close()


def test_stop_is_idempotent_and_restart_keeps_port(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """stop() may be called repeatedly; start() after stop() reuses the port."""
    srv = SynapseServer(tmp_path_factory.mktemp("synapse-lifecycle"))
    try:
        srv.start()
        port = srv.port
        srv.stop()
        assert not srv.is_running
        srv.stop()
        srv.start()
        assert srv.is_running
        assert srv.port == port
    finally:
        srv.close()
    assert not srv.is_running


def test_startup_failure_reports_log_tail(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A server that dies on start-up raises with its log and is not left running."""
    srv = SynapseServer(
        tmp_path_factory.mktemp("synapse-broken"),
        config_overrides={"database": {"name": "no-such-engine"}},
    )
    with pytest.raises(SynapseError, match="no-such-engine"):
        srv.start()
    assert not srv.is_running
    srv.close()
