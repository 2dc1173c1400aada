"""Round trip and burst on a local Synapse: a minimal matrix-nio echo bot vs. Kümmerer.

Prints, for each bot, the command round trip (from the user's send until the reply arrives in the
user's sync; median/p90/p99 over sequential commands) and a burst of commands sent back to back
(answered count, commands/s). Kümmerer answers ``!beschluesse`` in an AG with eight
decisions (a real database query and a formatted notice). Targets: Kümmerer adds ≤ 5 ms median to the echo bot's round trip
and answers 500 of 500.

Usage: .venv/bin/python bench/matrix_roundtrip.py [--commands 100] [--burst 500]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.matrix import MatrixAdapter  # noqa: E402
from bot.app import Application  # noqa: E402
from bot.config import MatrixSection  # noqa: E402
from storage import Database  # noqa: E402
from tests.fakes.synapse import SynapseServer  # noqa: E402


class Listener:
    """The user's side: a long-polling sync loop that timestamps every notice it receives."""

    def __init__(self, client: nio.AsyncClient, room_id: str) -> None:
        self.client = client
        self.room_id = room_id
        self.arrivals: list[float] = []
        self.last_content: dict = {}
        self.changed = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        while True:
            since = self.client.next_batch
            response = await self.client.sync(timeout=30000, since=since)
            now = time.perf_counter()
            if not isinstance(response, nio.SyncResponse):
                continue
            room = response.rooms.join.get(self.room_id)
            if room is None:
                continue
            notices = [e for e in room.timeline.events if isinstance(e, nio.RoomMessageNotice)]
            if notices:
                self.last_content = notices[-1].source["content"]
            count = len(notices)
            if room.timeline.limited:
                count = await self._count_back(room.timeline.prev_batch, since) + count
            self.arrivals.extend([now] * count)
            if count:
                self.changed.set()

    async def _count_back(self, start: str, end: str) -> int:
        count, token = 0, start
        while True:
            page = await self.client.room_messages(self.room_id, start=token, end=end, limit=100)
            if not isinstance(page, nio.RoomMessagesResponse) or not page.chunk:
                return count
            count += sum(isinstance(e, nio.RoomMessageNotice) for e in page.chunk)
            if not page.end:
                return count
            token = page.end

    async def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while len(self.arrivals) < count:
            self.changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                return False
        return True


async def echo_bot(
    server: SynapseServer, localpart: str, reply: dict
) -> tuple[nio.AsyncClient, asyncio.Task]:
    """The baseline: joins on invite and answers every text with a notice.

    It answers with the very content Kümmerer answered with, so both bots make the homeserver
    do the same work and the difference is the bot's own processing.
    """
    client = await server.client_for(localpart)

    async def on_invite(room: nio.MatrixRoom, event: nio.InviteMemberEvent) -> None:
        if event.state_key == client.user_id:
            await client.join(room.room_id)

    async def on_text(room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        if event.sender != client.user_id:
            await client.room_send(room.room_id, "m.room.message", reply)

    await client.sync(timeout=0)  # skip history, like Kümmerer's first sync
    client.add_event_callback(on_invite, nio.InviteMemberEvent)
    client.add_event_callback(on_text, nio.RoomMessageText)
    return client, asyncio.create_task(client.sync_forever(timeout=30000))


async def measure(
    user: nio.AsyncClient, room_id: str, command: str, commands: int, burst: int, seen: dict | None = None
) -> dict:
    listener = Listener(user, room_id)
    await user.sync(timeout=0)
    listener.task = asyncio.create_task(listener.run())
    try:
        for _ in range(5):  # warm-up
            expected = len(listener.arrivals) + 1
            await user.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": command})
            await listener.wait_for(expected, 30)
        trips = []
        for _ in range(commands):
            expected = len(listener.arrivals) + 1
            started = time.perf_counter()
            await user.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": command})
            if not await listener.wait_for(expected, 30):
                raise RuntimeError("a reply did not arrive within 30 s")
            trips.append((listener.arrivals[expected - 1] - started) * 1000)
        base = len(listener.arrivals)
        started = time.perf_counter()
        for _ in range(burst):
            await user.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": command})
        await listener.wait_for(base + burst, 180)
        answered = len(listener.arrivals) - base
        elapsed = (listener.arrivals[-1] if answered else time.perf_counter()) - started
        quantiles = statistics.quantiles(trips, n=100)
        if seen is not None:
            seen.update(listener.last_content)
        return {
            "median": statistics.median(trips),
            "p90": quantiles[89],
            "p99": quantiles[98],
            "answered": answered,
            "rate": answered / elapsed if elapsed > 0 else 0.0,
        }
    finally:
        listener.task.cancel()
        await asyncio.gather(listener.task, return_exceptions=True)


async def run(commands: int, burst: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with SynapseServer(Path(tmp) / "synapse") as server:
            user = await server.client_for("benchuser")
            results = {}

            # Kümmerer first: its answer becomes the echo bot's answer.
            password = "bench-password"
            await server.aregister_user("kuemmerer", password)
            database = Database(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
            app = Application(database)
            await app.start()
            adapter = MatrixAdapter(
                app,
                MatrixSection(
                    homeserver=server.base_url, user_id=server.user_id("kuemmerer"), password=password
                ),
            )
            await adapter.start()
            await app.outbox.resume()
            room = await user.room_create(name="AG", invite=[adapter.user_id])
            while room.room_id not in adapter.client.rooms:
                await asyncio.sleep(0.1)
            await user.room_send(
                room.room_id, "m.room.message", {"msgtype": "m.text", "body": "!ag anlegen AG Bench"}
            )
            # Eight decisions: the answer is one page, i.e. one event.
            for n in range(8):
                await user.room_send(
                    room.room_id, "m.room.message", {"msgtype": "m.text", "body": f"!beschluss Beschluss {n}"}
                )
            await asyncio.sleep(2)
            reply: dict = {}
            results["kuemmerer"] = await measure(user, room.room_id, "!beschluesse", commands, burst, reply)
            await adapter.stop()
            await app.stop()
            await database.dispose()

            echo, echo_task = await echo_bot(
                server, "echobot", {k: v for k, v in reply.items() if k != "m.relates_to"}
            )
            room = await user.room_create(name="Echo", invite=[echo.user_id])
            await asyncio.sleep(1)  # let the echo bot accept the invite
            results["matrix-nio echo bot"] = await measure(
                user, room.room_id, "!beschluesse", commands, burst
            )
            echo_task.cancel()
            await asyncio.gather(echo_task, return_exceptions=True)
            await echo.close()
            await user.close()

    print(f"{commands} sequential commands, burst of {burst}:")
    for name in ("matrix-nio echo bot", "kuemmerer"):
        r = results[name]
        print(
            f"  {name:22s} round trip median {r['median']:6.1f} ms  p90 {r['p90']:6.1f} ms  p99 {r['p99']:6.1f} ms"
            f"   burst answered {r['answered']}/{burst}  {r['rate']:6.1f} commands/s"
        )
    added = results["kuemmerer"]["median"] - results["matrix-nio echo bot"]["median"]
    print(
        f"\nKümmerer adds {added:+.1f} ms to the median round trip (target ≤ 5 ms): {'met' if added <= 5 else 'NOT met'}"
    )
    answered = results["kuemmerer"]["answered"]
    print(f"Kümmerer answered {answered}/{burst} of the burst: {'met' if answered == burst else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--burst", type=int, default=500)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args.commands, args.burst))


if __name__ == "__main__":
    main()
