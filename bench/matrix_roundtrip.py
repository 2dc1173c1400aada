"""Round trip and burst on a local Synapse: a minimal matrix-nio echo bot vs. Kümmerer.

Prints, for each bot, the command round trip (from the user's send until the reply arrives in the
user's sync; median/p90/p99 over sequential commands) and a burst of commands sent back to back
(answered count, commands/s). Kümmerer answers ``!beschluesse`` in an AG with eight
decisions (a real database query and a formatted notice). Targets: Kümmerer adds ≤ 5 ms median
to the echo bot's round trip and answers 500 of 500.

Each bot runs in a process of its own, as in a deployment; the users' clients run in this one.
(Sharing one event loop with the users' clients would charge each bot for their parsing of the
homeserver's answers, which the bot's own processing then competes with.) The Kümmerer process
also times its own part: handling the event, and from the sync response to the send request.

Usage: .venv/bin/python bench/matrix_roundtrip.py [--commands 100] [--burst 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


async def echo_child(homeserver: str, user_id: str, password: str, workdir: Path) -> None:
    """The baseline bot (its own process): joins on invite and answers every text with a notice.

    It answers with the very content Kümmerer answered with (read from ``reply.json`` once the
    benchmark wrote it), as a reply to the command like Kümmerer, so both bots make the homeserver
    do the same work and the difference is the bot's own processing.
    """
    client = nio.AsyncClient(homeserver, user_id)
    await client.login(password)
    reply_file = workdir / "reply.json"
    reply: dict = {"msgtype": "m.notice", "body": "echo"}
    loaded = False

    async def on_invite(room: nio.MatrixRoom, event: nio.InviteMemberEvent) -> None:
        if event.state_key == client.user_id:
            await client.join(room.room_id)

    stamps: list[tuple[float, float]] = []
    recording = workdir / "recording"

    async def on_text(room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        nonlocal reply, loaded
        if event.sender == client.user_id:
            return
        received = time.perf_counter()
        if not loaded and reply_file.exists():  # noqa: ASYNC240 - once, a tiny local file
            reply, loaded = json.loads(reply_file.read_text()), True  # noqa: ASYNC240
        content = {**reply, "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}}}
        if recording.exists():  # noqa: ASYNC240 - a stat call, outside the timed part
            stamps.append((received, time.perf_counter()))
        await client.room_send(room.room_id, "m.room.message", content)

    await client.sync(timeout=0)  # skip history, like Kümmerer's first sync
    client.add_event_callback(on_invite, nio.InviteMemberEvent)
    client.add_event_callback(on_text, nio.RoomMessageText)
    print("ready", flush=True)
    syncing = asyncio.create_task(client.sync_forever(timeout=30000))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    (workdir / "trace.json").write_text(json.dumps({"stamps": stamps}))  # noqa: ASYNC240
    syncing.cancel()
    await asyncio.gather(syncing, return_exceptions=True)
    await client.close()


async def kuemmerer_child(homeserver: str, user_id: str, password: str, workdir: Path) -> None:
    """Kümmerer (its own process) on an SQLite file, timing its own part of each command.

    Records while ``recording`` exists in ``workdir``; writes ``trace.json`` on SIGTERM.
    """
    database = Database(f"sqlite+aiosqlite:///{workdir}/bench.sqlite3")
    app = Application(database)
    await app.start()
    adapter = MatrixAdapter(
        app,
        MatrixSection(
            homeserver=homeserver,
            user_id=user_id,
            password=password,
            # The default install has no e2e extra, and the echo bot does not encrypt either.
            encryption="off",
            store_path=f"{workdir}/crypto-store",
        ),
    )
    trace = trace_internal(adapter, workdir / "recording")
    await adapter.start()
    await app.outbox.resume()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    figures = json.dumps({"handle": trace.handle, "to_send": trace.to_send, "stamps": trace.stamps})
    (workdir / "trace.json").write_text(figures)  # noqa: ASYNC240 - once, at the end
    await adapter.stop()
    await app.stop()
    await database.dispose()


async def spawn(
    kind: str, server: SynapseServer, localpart: str, workdir: Path
) -> asyncio.subprocess.Process:
    """Start a bot process and wait until it syncs."""
    password = "bench-password"
    await server.aregister_user(localpart, password)
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        kind,
        server.base_url,
        server.user_id(localpart),
        password,
        str(workdir),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    if line.strip() != b"ready":
        raise RuntimeError(f"the {kind} process did not start")
    return process


async def wait_joined(client: nio.AsyncClient, room_id: str, user_id: str) -> None:
    """Wait until ``user_id`` joined the room (the bots join on invitation)."""
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        members = await client.joined_members(room_id)
        if isinstance(members, nio.JoinedMembersResponse) and any(
            m.user_id == user_id for m in members.members
        ):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{user_id} did not join {room_id} within 60 s")


class Side:
    """One bot under test, seen from its own user client and room."""

    def __init__(self, name: str, user: nio.AsyncClient, room_id: str) -> None:
        self.name = name
        self.user = user
        self.room_id = room_id
        self.listener = Listener(user, room_id)
        self.trips: list[float] = []
        self.sent_at: list[float] = []

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
        self.sent_at.append(started)
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

    def __init__(self, switch: Path) -> None:
        self.batch_at = 0.0
        self.handle: list[float] = []
        self.to_send: list[float] = []
        self.stamps: list[tuple[float, float]] = []  # (sync response, send request), monotonic
        self.switch = switch

    @property
    def recording(self) -> bool:
        return self.switch.exists()


def trace_internal(adapter: MatrixAdapter, switch: Path) -> Trace:
    """Time the adapter's processing of each sync batch and each send (wrapping, not changing it)."""
    trace = Trace(switch)
    process, room_send, handle = adapter._process, adapter.messenger._room_send, adapter.app.handle

    async def timed_process(response):  # type: ignore[no-untyped-def]
        trace.batch_at = time.perf_counter()
        return await process(response)

    async def timed_send(room_id, event_type, content, txn):  # type: ignore[no-untyped-def]
        if trace.recording and event_type == "m.room.message":
            now = time.perf_counter()
            trace.to_send.append((now - trace.batch_at) * 1000)
            trace.stamps.append((trace.batch_at, now))
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
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        async with SynapseServer(tmp / "synapse") as server:
            bots = {
                "kuemmerer": await spawn("kuemmerer", server, "kuemmerer", tmp / "kuemmerer"),
                "echo": await spawn("echo", server, "echobot", tmp / "echo"),
            }
            try:
                users = [await server.client_for("userk"), await server.client_for("usere")]
                bot_k, bot_e = server.user_id("kuemmerer"), server.user_id("echobot")
                room_k = (await users[0].room_create(name="AG", invite=[bot_k])).room_id
                room_e = (await users[1].room_create(name="Echo", invite=[bot_e])).room_id
                await wait_joined(users[0], room_k, bot_k)
                await wait_joined(users[1], room_e, bot_e)
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
                # The echo bot answers with exactly Kümmerer's answer, so the homeserver does the
                # same work for both and the difference is the bots' own processing.
                content = {k: v for k, v in kuemmerer.listener.last_content.items() if k != "m.relates_to"}
                (tmp / "echo" / "reply.json").write_text(json.dumps(content))
                for _ in range(5):  # warm-up
                    await kuemmerer.command(command)
                    await baseline.command(command)
                for side in (kuemmerer, baseline):
                    side.sent_at.clear()
                for name in ("kuemmerer", "echo"):
                    (tmp / name / "recording").touch()
                # Alternating, so both bots meet the same load and noise of the machine.
                for _ in range(commands):
                    kuemmerer.trips.append(await kuemmerer.command(command))
                    baseline.trips.append(await baseline.command(command))
                phases = {}
                for side, name in ((kuemmerer, "kuemmerer"), (baseline, "echo")):
                    (tmp / name / "recording").unlink()
                    first = len(side.listener.arrivals) - commands
                    phases[side.name] = (side.sent_at, side.listener.arrivals[first:])
                results = {}
                for side in (baseline, kuemmerer):
                    answered, rate = await side.burst(command, burst)
                    results[side.name] = {**summary(side.trips), "answered": answered, "rate": rate}
                deltas = [k - e for k, e in zip(kuemmerer.trips, baseline.trips, strict=True)]
                for side in (kuemmerer, baseline):
                    await side.stop()
                for user in users:
                    await user.close()
            finally:
                for process in bots.values():
                    if process.returncode is None:
                        process.terminate()
                for process in bots.values():
                    await process.wait()
            internal = json.loads((tmp / "kuemmerer" / "trace.json").read_text())
            echo_trace = json.loads((tmp / "echo" / "trace.json").read_text())
            stamps = {"kuemmerer": internal["stamps"], "matrix-nio echo bot": echo_trace["stamps"]}

    print(f"{commands} sequential commands (alternating between the bots), burst of {burst}:")
    for name, r in results.items():
        print(
            f"  {name:22s} round trip median {r['median']:6.1f} ms  p90 {r['p90']:6.1f} ms"
            f"  p99 {r['p99']:6.1f} ms   burst answered {r['answered']}/{burst}  {r['rate']:6.1f} commands/s"
        )
    print(
        "  Kümmerer's own processing: handling the event median"
        f" {statistics.median(internal['handle']):.1f} ms,"
        f" sync response → send request median {statistics.median(internal['to_send']):.1f} ms"
        f" (p90 {statistics.quantiles(internal['to_send'], n=10)[8]:.1f} ms)"
    )
    print("  where the time goes (medians; one monotonic clock across the processes):")
    for name, (sent, arrived) in phases.items():
        marks = stamps[name]
        if len(marks) != len(sent):
            print(f"    {name}: {len(marks)} bot-side marks for {len(sent)} commands; not aligned")
            continue
        inbound = statistics.median((m[0] - s) * 1000 for m, s in zip(marks, sent, strict=True))
        inside = statistics.median((m[1] - m[0]) * 1000 for m in marks)
        outbound = statistics.median((a - m[1]) * 1000 for m, a in zip(marks, arrived, strict=True))
        print(
            f"    {name:22s} user send → bot has the event {inbound:5.1f} ms · bot → send request"
            f" {inside:4.1f} ms · send request → user has the reply {outbound:5.1f} ms"
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
    parser.add_argument(
        "--child", nargs=5, metavar=("KIND", "HOMESERVER", "USER", "PASSWORD", "DIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    logging.basicConfig(level=getattr(logging, os.environ.get("BENCH_LOG", "ERROR")))
    if args.child:
        kind, homeserver, user, password, workdir = args.child
        child = kuemmerer_child if kind == "kuemmerer" else echo_child
        asyncio.run(child(homeserver, user, password, Path(workdir)))
        return
    asyncio.run(run(args.commands, args.burst))


if __name__ == "__main__":
    main()
