"""Round trip and burst on a local Synapse: a minimal matrix-nio echo bot vs. Kümmerer.

Prints, for each bot, the command round trip (from the user's send until the reply arrives in the
user's sync; median/p90/p99 over sequential commands) and a burst of commands sent back to back
(answered count, commands/s). Kümmerer answers ``!beschluesse`` in an AG with eight
decisions (a real database query and a formatted notice). Targets: Kümmerer adds ≤ 5 ms median
to the echo bot's round trip and answers 500 of 500.

Usage: .venv/bin/python bench/matrix_roundtrip.py [--commands 100] [--burst 500]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
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


class Side:
    """One bot under test, seen from its own user client and room."""

    def __init__(self, name: str, user: nio.AsyncClient, room_id: str) -> None:
        self.name = name
        self.user = user
        self.room_id = room_id
        self.listener = Listener(user, room_id)
        self.trips: list[float] = []

    async def start(self) -> None:
        await self.user.sync(timeout=0)
        self.listener.task = asyncio.create_task(self.listener.run())

    async def stop(self) -> None:
        if self.listener.task is not None:
            self.listener.task.cancel()
            await asyncio.gather(self.listener.task, return_exceptions=True)

    async def command(self, text: str) -> float:
        expected = len(self.listener.arrivals) + 1
        started = time.perf_counter()
        await self.user.room_send(self.room_id, "m.room.message", {"msgtype": "m.text", "body": text})
        if not await self.listener.wait_for(expected, 30):
            raise RuntimeError(f"{self.name}: a reply did not arrive within 30 s")
        return (self.listener.arrivals[expected - 1] - started) * 1000

    async def burst(self, text: str, count: int) -> tuple[int, float]:
        base = len(self.listener.arrivals)
        started = time.perf_counter()
        for _ in range(count):
            await self.user.room_send(self.room_id, "m.room.message", {"msgtype": "m.text", "body": text})
        await self.listener.wait_for(base + count, 180)
        answered = len(self.listener.arrivals) - base
        elapsed = (self.listener.arrivals[-1] if answered else time.perf_counter()) - started
        return answered, answered / elapsed if elapsed > 0 else 0.0


class Trace:
    """Kümmerer's own share of a round trip: from the sync response to the reply's send request."""

    def __init__(self) -> None:
        self.batch_at = 0.0
        self.handle: list[float] = []
        self.to_send: list[float] = []
        self.recording = False


def trace_internal(adapter: MatrixAdapter) -> Trace:
    """Time the adapter's processing of each sync batch and each send (wrapping, not changing it)."""
    trace = Trace()
    process, room_send, handle = adapter._process, adapter.messenger._room_send, adapter.app.handle

    async def timed_process(response):  # type: ignore[no-untyped-def]
        trace.batch_at = time.perf_counter()
        return await process(response)

    async def timed_send(room_id, event_type, content, txn):  # type: ignore[no-untyped-def]
        if trace.recording and event_type == "m.room.message":
            trace.to_send.append((time.perf_counter() - trace.batch_at) * 1000)
        return await room_send(room_id, event_type, content, txn)

    async def timed_handle(event, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return await handle(event, **kwargs)
        finally:
            if trace.recording:
                trace.handle.append((time.perf_counter() - started) * 1000)

    adapter._process = timed_process  # type: ignore[method-assign]
    adapter.messenger._room_send = timed_send  # type: ignore[method-assign]
    adapter.app.handle = timed_handle  # type: ignore[method-assign]
    return trace


def summary(trips: list[float]) -> dict:
    quantiles = statistics.quantiles(trips, n=100)
    return {"median": statistics.median(trips), "p90": quantiles[89], "p99": quantiles[98]}


def _dump_tasks() -> None:
    """On SIGUSR1: print where every task waits (to diagnose a hang)."""
    for task in asyncio.all_tasks():
        task.print_stack(file=sys.stderr)


async def run(commands: int, burst: int) -> None:
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _dump_tasks)
    command = "!beschluesse"
    with tempfile.TemporaryDirectory() as tmp:
        async with SynapseServer(Path(tmp) / "synapse") as server:
            password = "bench-password"
            await server.aregister_user("kuemmerer", password)
            database = Database(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
            app = Application(database)
            await app.start()
            adapter = MatrixAdapter(
                app,
                MatrixSection(
                    homeserver=server.base_url,
                    user_id=server.user_id("kuemmerer"),
                    password=password,
                    # The default install has no e2e extra, and the echo bot does not encrypt either.
                    encryption="off",
                    store_path=f"{tmp}/crypto-store",
                ),
            )
            internal = trace_internal(adapter)
            await adapter.start()
            await app.outbox.resume()
            reply: dict = {}
            echo, echo_task = await echo_bot(server, "echobot", reply)

            users = [await server.client_for("userk"), await server.client_for("usere")]
            room_k = (await users[0].room_create(name="AG", invite=[adapter.user_id])).room_id
            room_e = (await users[1].room_create(name="Echo", invite=[echo.user_id])).room_id
            deadline = time.perf_counter() + 60
            while room_k not in adapter.client.rooms or room_e not in echo.rooms:
                if time.perf_counter() > deadline:
                    raise RuntimeError("the bots did not join their rooms within 60 s")
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            kuemmerer = Side("kuemmerer", users[0], room_k)
            baseline = Side("matrix-nio echo bot", users[1], room_e)
            for side in (kuemmerer, baseline):
                await side.start()
            await kuemmerer.command("!ag anlegen AG Bench")
            # Eight decisions: the answer to !beschluesse is one page, i.e. one event.
            for n in range(8):
                await kuemmerer.command(f"!beschluss Beschluss {n}")
            await kuemmerer.command(command)
            # The echo bot answers with exactly Kümmerer's answer, so the homeserver does the same
            # work for both and the difference is the bots' own processing.
            reply.update({k: v for k, v in kuemmerer.listener.last_content.items() if k != "m.relates_to"})
            for _ in range(5):  # warm-up
                await kuemmerer.command(command)
                await baseline.command(command)
            internal.recording = True
            # Alternating, so both bots meet the same load and noise of the machine.
            for _ in range(commands):
                kuemmerer.trips.append(await kuemmerer.command(command))
                baseline.trips.append(await baseline.command(command))
            internal.recording = False
            results = {}
            for side in (baseline, kuemmerer):
                answered, rate = await side.burst(command, burst)
                results[side.name] = {**summary(side.trips), "answered": answered, "rate": rate}
            deltas = [k - e for k, e in zip(kuemmerer.trips, baseline.trips, strict=True)]
            for side in (kuemmerer, baseline):
                await side.stop()
            echo_task.cancel()
            await asyncio.gather(echo_task, return_exceptions=True)
            await echo.close()
            await adapter.stop()
            await app.stop()
            await database.dispose()
            for user in users:
                await user.close()

    print(f"{commands} sequential commands (alternating between the bots), burst of {burst}:")
    for name, r in results.items():
        print(
            f"  {name:22s} round trip median {r['median']:6.1f} ms  p90 {r['p90']:6.1f} ms"
            f"  p99 {r['p99']:6.1f} ms   burst answered {r['answered']}/{burst}  {r['rate']:6.1f} commands/s"
        )
    print(
        f"  Kümmerer's own processing: handling the event median {statistics.median(internal.handle):.1f} ms,"
        f" sync response → send request median {statistics.median(internal.to_send):.1f} ms"
        f" (p90 {statistics.quantiles(internal.to_send, n=10)[8]:.1f} ms)"
    )
    added = statistics.median(deltas)
    verdict = "met" if added <= 5 else "NOT met"
    print(
        f"\nKümmerer adds {added:+.1f} ms (median of paired differences) to the round trip"
        f" (target ≤ 5 ms): {verdict}"
    )
    answered = results["kuemmerer"]["answered"]
    print(f"Kümmerer answered {answered}/{burst} of the burst: {'met' if answered == burst else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--burst", type=int, default=500)
    args = parser.parse_args()
    logging.basicConfig(level=getattr(logging, os.environ.get("BENCH_LOG", "ERROR")))
    asyncio.run(run(args.commands, args.burst))


if __name__ == "__main__":
    main()
