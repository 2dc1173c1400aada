"""Fixtures for tests of the Matrix adapter against a real Synapse on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nio
import pytest

from bot.adapters.matrix import MatrixAdapter
from bot.app import Application
from bot.config import MatrixSection
from bot.core.ports import Clock, SystemClock
from storage import Database
from tests.fakes.synapse import SynapseServer, synapse_server  # noqa: F401  (fixture)

WAIT = 20.0


def unique(name: str) -> str:
    """A localpart unique within the shared homeserver."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


@dataclass
class MatrixUser:
    """A real person's client, scripted with matrix-nio."""

    client: nio.AsyncClient
    seen: list[Any] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return self.client.user_id

    async def send(self, room_id: str, text: str, *, reply_to: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        response = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(response, nio.RoomSendResponse), response
        return response.event_id

    async def send_plain(self, room_id: str, event_type: str, content: dict[str, Any]) -> None:
        """Send an event as is, even into an encrypted room (nio would encrypt it)."""
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/{quote(event_type)}/{uuid.uuid4().hex}"
        headers = {"Authorization": f"Bearer {self.client.access_token}", "Content-Type": "application/json"}
        async with await self.client.send("PUT", path, json.dumps(content), headers=headers) as response:
            assert response.status == 200, await response.text()

    async def sync(self) -> nio.SyncResponse:
        since = self.client.next_batch
        response = await self.client.sync(timeout=500)
        assert isinstance(response, nio.SyncResponse), response
        if self.client.olm is not None:  # what nio's sync_forever does for encrypted rooms
            if self.client.should_upload_keys:
                await self.client.keys_upload()
            if self.client.should_query_keys:
                await self.client.keys_query()
            if self.client.should_claim_keys:
                await self.client.keys_claim(self.client.get_users_for_key_claiming())
        for room_id, info in response.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited and since:
                events = await self._back(room_id, info.timeline.prev_batch, since) + events
            self.seen.extend((room_id, e) for e in events)
        return response

    async def _back(self, room_id: str, start: str, end: str) -> list[Any]:
        events: list[Any] = []
        token = start
        while True:
            page = await self.client.room_messages(room_id, start=token, end=end, limit=100)
            assert isinstance(page, nio.RoomMessagesResponse), page
            events.extend(page.chunk)
            if not page.chunk or not page.end:
                break
            token = page.end
        events.reverse()
        return events

    def notices(self, room_id: str | None = None) -> list[Any]:
        """Notices (the bot's messages) seen so far."""
        return [
            e
            for r, e in self.seen
            if (room_id is None or r == room_id) and isinstance(e, nio.RoomMessageNotice)
        ]

    async def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await self.sync()

    async def wait_for_notices(self, room_id: str, count: int, timeout: float = WAIT) -> list[str]:
        await self.wait_for(lambda: len(self.notices(room_id)) >= count, f"{count} notices", timeout)
        return [n.body for n in self.notices(room_id)]

    async def command(self, room_id: str, text: str, **kwargs: Any) -> str:
        """Send a command and return the bot's next notice in that room."""
        before = len(self.notices(room_id))
        await self.send(room_id, text, **kwargs)
        bodies = await self.wait_for_notices(room_id, before + 1)
        return bodies[before]

    def has_joined(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` has joined (not merely been invited to) the room."""
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users and user_id not in room.invited_users

    async def wait_joined(self, room_id: str, user_id: str, timeout: float = WAIT) -> None:
        """Sync until ``user_id`` has joined the room."""
        await self.wait_for(lambda: self.has_joined(room_id, user_id), f"{user_id} to join", timeout)

    async def create_room(self, *invite: str, **kwargs: Any) -> str:
        response = await self.client.room_create(
            name=kwargs.pop("name", "AG Raum"), invite=list(invite), **kwargs
        )
        assert isinstance(response, nio.RoomCreateResponse), response
        await self.sync()
        return response.room_id

    async def join(self, room_id: str) -> None:
        response = await self.client.join(room_id)
        assert isinstance(response, nio.JoinResponse), response
        await self.sync()


@pytest.fixture
async def people(synapse_server: SynapseServer) -> AsyncIterator[Callable[[str], Awaitable[MatrixUser]]]:  # noqa: F811
    """Factory for logged-in users; clients are closed after the test."""
    clients: list[nio.AsyncClient] = []

    async def make(name: str) -> MatrixUser:
        client = await synapse_server.client_for(unique(name))
        clients.append(client)
        user = MatrixUser(client)
        await user.sync()
        return user

    yield make
    for client in clients:
        await client.close()


@dataclass
class RunningBot:
    app: Application
    adapter: MatrixAdapter
    user_id: str


@pytest.fixture
async def matrix_bot(
    synapse_server: SynapseServer,  # noqa: F811  (the imported fixture)
    database: Database,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[RunningBot]]]:
    """Factory for the bot on the shared homeserver (same account across restarts in a test)."""
    localpart = unique("kuemmerer")
    password = "bot-" + uuid.uuid4().hex
    await synapse_server.aregister_user(localpart, password)
    registered = {id(synapse_server)}
    running: list[RunningBot] = []

    async def make(
        server: SynapseServer | None = None, *, clock: Clock | None = None, **settings: Any
    ) -> RunningBot:
        target = server or synapse_server
        if id(target) not in registered:
            await target.aregister_user(localpart, password)
            registered.add(id(target))
        config = MatrixSection(
            homeserver=target.base_url,
            user_id=target.user_id(localpart),
            password=password,
            sync_timeout_ms=500,
            store_path=str(tmp_path / "bot-crypto-store"),
            **settings,
        )
        app = Application(database, clock=clock or SystemClock())
        await app.start()
        adapter = MatrixAdapter(app, config)
        await adapter.start()
        await app.outbox.resume()
        bot = RunningBot(app, adapter, config.user_id or "")
        running.append(bot)
        return bot

    yield make
    for bot in running:
        await stop(bot)


async def stop(bot: RunningBot) -> None:
    """Stop a bot like the CLI does (idempotent)."""
    if not bot.adapter._closed.is_set():
        await bot.adapter.stop()
        await bot.app.stop()


async def until(predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> None:
    """Wait (with short awaits) until a condition holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
