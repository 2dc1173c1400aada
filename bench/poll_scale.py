"""One poll in an AG of 10,000 members across 3 linked chats, on SQLite and PostgreSQL (issue 11, point 9).

Prints, against the targets:

* **votes per second** (≥ 500 on SQLite): the AG's three chats are on three platforms (console,
  Telegram, Matrix; stub messengers without send limits whose ``send`` returns a native poll id,
  so the outbox's sent hook records it in ``poll_messages`` as with the real adapters). The
  koordination starts ``/abstimmung … | beschluss`` through ``Application.handle``; once the
  outbox delivered the announcement, every member answers the native poll of their platform's
  chat (``PollAnswered`` through ``Application.handle``, as fast as possible, with the checkpoints
  the adapters pass: Telegram's update id, Matrix's per-event key). Sequentially (one vote after
  the other), and then for a second poll with ``--tasks`` concurrent tasks (SQLite takes turns
  in-process; PostgreSQL runs them concurrently, the poll's row lock serialises the votes).
  Per-vote latency p50 / p99 is the time of one ``handle`` call. Every member was last seen two
  days ago, so a vote also refreshes ``last_seen`` of the person and the membership (as for a
  member who has not written for a while; reset between the two phases).
* **the result with its chart** (≤ 1 s): ``/abstimmung schliessen 1`` (koordination, through
  ``handle``) until the last message of the close (the result with the chart in each chat, the
  end of each native poll) reached its stub messenger; split into freezing the result (lock,
  member count, reading the 10,000 votes and counting them, audit), recording the decision,
  drawing the chart (PNG in a thread; ``render`` is ``charts.bar_chart`` itself), storing the
  messages in the outbox, the commit, and the delivery. Measured twice: after the votes, with
  the ``polls`` component's chart warm-up at start-up done (the bot as it runs), and in a fresh
  process with the warm-up switched off (votes bulk-inserted), where the close pays for
  importing matplotlib.
* **resident memory**: ``VmRSS`` after the votes and after the close, the peak ``VmHWM`` and
  ``ru_maxrss`` (the data is written by a process of its own, so the bot's process inherits no
  peak from it).

The reopen guard runs on the ``lexical`` embedder (``options={"reopen.guard": …}``), so loading
a model is not part of any figure. Every run is a fresh process on a freshly populated database
(people and memberships with SQLAlchemy Core bulk inserts; PostgreSQL gets ``ANALYZE``); figures
are medians of ``--runs``.

Usage: .venv/bin/python bench/poll_scale.py [--members 10000] [--tasks 4] [--runs 3]
           [--pg postgresql://postgres@127.0.0.1:5432/bench_poll] [--skip-pg] [--profile DIR]
(≈ 8 minutes with PostgreSQL on 2 cores.) The PostgreSQL database must exist (``psql -h 127.0.0.1 -U
postgres -c "create database bench_poll"``); its public schema is dropped and recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Only the standard library at the top: the parent stays small (a child's ``ru_maxrss`` starts
# from its parent's peak, see ``rss``).
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_poll"
TARGET_VOTES_PER_S = 500.0
TARGET_RESULT_S = 1.0
GROUP_ID = 1
PLATFORMS = ("console", "telegram", "matrix")
CHAT_IDS = {"console": "group:ag-bildung", "telegram": "-1001234567890", "matrix": "!ag-bildung:example.org"}
TELEGRAM_STATE = "telegram:4711:last_update_id"
MATRIX_EVENT_KEY = "matrix:@kuemmerer:example.org:event"
QUESTION = "Führen wir ab Januar jeden ersten Samstag im Monat einen Infostand in der Innenstadt durch?"
WEIGHTS = (0.55, 0.35, 0.10)  # ja / nein / Enthaltung
RESULT = "RESULT "


def external_id(platform: str, k: int) -> str:
    return {"console": f"c{k}", "telegram": str(200_000_000 + k), "matrix": f"@m{k}:example.org"}[platform]


def member(k: int) -> tuple[int, str, str, str]:
    """Person id, platform, platform id and name of member ``k`` (0 is the koordination)."""
    platform = PLATFORMS[k % len(PLATFORMS)]
    return k + 1, platform, external_id(platform, k), f"Mitglied {k}"


def choices(members: int, seed: int) -> list[int]:
    """Each member's option (0-based), the same for every run with the same seed."""
    rng = random.Random(seed)
    return rng.choices(range(len(WEIGHTS)), WEIGHTS, k=members)


def rss() -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` of this process and its ``ru_maxrss``, in MB."""
    import resource

    figures = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                figures[line[:5]] = int(line.split()[1]) / 1024
    figures["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# --------------------------------------------------------------------------------------------------
# Data (a process of its own)
# --------------------------------------------------------------------------------------------------


async def populate(url: str, members: int) -> float:
    """A fresh schema with one AG, its three chats, ``members`` people and memberships."""
    from sqlalchemy import insert, text

    from storage import Database
    from storage.models import Chat, Membership, Person, Role, WorkingGroup

    started = time.perf_counter()
    database = Database(url)
    try:
        if not database.is_sqlite:
            async with database.engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await database.upgrade()
        now = datetime.now(UTC)
        before = now - timedelta(days=2)
        async with database.engine.begin() as conn:
            await conn.execute(
                insert(WorkingGroup.__table__),
                [{"id": GROUP_ID, "name": "AG Bildung", "created_at": before, "timezone": "Europe/Berlin"}],
            )
            await conn.execute(
                insert(Chat.__table__),
                [
                    {
                        "id": n + 1,
                        "platform": platform,
                        "external_id": CHAT_IDS[platform],
                        "kind": "group",
                        "title": f"AG Bildung ({platform})",
                        "group_id": GROUP_ID,
                        "created_at": before,
                    }
                    for n, platform in enumerate(PLATFORMS)
                ],
            )
            people, memberships = [], []
            for k in range(members):
                pid, platform, ext, name = member(k)
                people.append(
                    {
                        "id": pid,
                        "platform": platform,
                        "external_id": ext,
                        "display_name": name,
                        "username": None,
                        "first_seen": before,
                        "last_seen": before,
                    }
                )
                memberships.append(
                    {
                        "id": pid,
                        "group_id": GROUP_ID,
                        "person_id": pid,
                        "role": Role.KOORDINATION if k == 0 else Role.MITGLIED,
                        "first_seen": before,
                        "last_seen": before,
                    }
                )
            await conn.execute(insert(Person.__table__), people)
            await conn.execute(insert(Membership.__table__), memberships)
            if not database.is_sqlite:
                for name in ("working_groups", "chats", "people", "memberships"):
                    sequence = f"pg_get_serial_sequence('{name}', 'id')"
                    await conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {name}))"))
        if not database.is_sqlite:
            async with database.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
    finally:
        await database.dispose()
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------------
# The bot's process
# --------------------------------------------------------------------------------------------------


class StubMessenger:
    """A platform that accepts everything at once; a native poll gets an id of its own."""

    def __init__(self, platform: Any, log: list[tuple[float, Any]]) -> None:
        self.platform = platform
        self.log = log
        self.count = 0

    def prepare(self, message: Any) -> list[Any]:
        return [message]

    async def send(self, message: Any) -> Any:
        from bot.core.events import SentMessage

        self.count += 1
        self.log.append((time.perf_counter(), message))
        poll_id = f"native-{self.platform.value}-{self.count}" if message.poll is not None else None
        return SentMessage(message.chat, f"{self.platform.value}-{self.count}", poll_id)


class Spans:
    """Durations of wrapped functions during the close (bench instrumentation only)."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[float, float]]] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, name: str, key: str) -> None:
        original = getattr(owner, name)
        spans = self.spans.setdefault(key, [])
        if asyncio.iscoroutinefunction(original):

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    spans.append((started, time.perf_counter()))

        else:

            def wrapper(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    spans.append((started, time.perf_counter()))

        setattr(owner, name, wrapper)
        self._undo.append(lambda: setattr(owner, name, original))

    def total(self, key: str) -> float:
        return sum(end - start for start, end in self.spans.get(key, []))

    def first(self, key: str) -> tuple[float, float]:
        return self.spans[key][0]

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()


async def native_ids(app: Any, poll_number: int) -> dict[str, str]:
    """The native poll id of each platform's chat (what the sent hook stored)."""
    from sqlalchemy import select

    from storage.models import Poll, PollMessage

    async with app.db.transaction() as session:
        rows = await session.execute(
            select(PollMessage.platform, PollMessage.native_poll_id)
            .join(Poll, Poll.id == PollMessage.poll_id)
            .where(Poll.number == poll_number, PollMessage.native_poll_id.is_not(None))
        )
        found = dict(rows.all())
    if set(found) != set(PLATFORMS):
        raise RuntimeError(f"native polls recorded for {sorted(found)}, not for all three chats")
    return found


async def start_poll(app: Any, coordinator: Any, chats: dict[str, Any], number: int) -> dict[str, str]:
    from bot.core.events import IncomingMessage

    text = f"/abstimmung {QUESTION} | beschluss"
    await app.handle(IncomingMessage(chats["console"], coordinator, text, f"start-{number}"))
    await app.outbox.drain()
    return await native_ids(app, number)


def vote_events(members: int, picks: list[int], natives: dict[str, str], seed: int) -> list[tuple[Any, dict]]:
    """One native answer per member, in a shuffled order, with the adapters' checkpoints."""
    from bot.core.events import Platform, PollAnswered, UserRef

    order = list(range(members))
    random.Random(seed).shuffle(order)
    events = []
    for n, k in enumerate(order):
        _, platform, ext, name = member(k)
        event = PollAnswered(
            Platform(platform), natives[platform], UserRef(Platform(platform), ext, name), (picks[k],)
        )
        if platform == "telegram":
            kwargs: dict[str, Any] = {"checkpoint": (TELEGRAM_STATE, str(900_000 + n))}
        elif platform == "matrix":
            kwargs = {"checkpoint": (f"{MATRIX_EVENT_KEY}:$vote{seed}-{n}", "1"), "per_event": True}
        else:
            kwargs = {}
        events.append((event, kwargs))
    return events


async def cast(app: Any, events: list[tuple[Any, dict]], tasks: int) -> dict[str, float]:
    """Hand the votes to ``Application.handle`` with ``tasks`` concurrent tasks."""
    from sqlalchemy import event as sa_event

    latencies: list[float] = []
    queue = iter(events)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    sa_event.listen(app.db.engine.sync_engine, "before_cursor_execute", count)

    async def worker() -> None:
        for event, kwargs in queue:
            started = time.perf_counter()
            await app.handle(event, **kwargs)
            latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    sa_event.remove(app.db.engine.sync_engine, "before_cursor_execute", count)
    return {
        "per_s": len(events) / elapsed,
        "elapsed": elapsed,
        "cpu_ms": cpu / len(events) * 1000,
        "statements": statements / len(events),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
    }


async def counted(app: Any, number: int) -> list[int]:
    """Votes per option stored for a poll (open: the vote rows; closed: the frozen counts)."""
    from sqlalchemy import select

    from storage.models import Poll, PollVote

    async with app.db.transaction() as session:
        poll = await session.scalar(select(Poll).where(Poll.number == number))
        if poll.counts is not None:
            return list(poll.counts)
        counts = [0] * len(poll.options)
        for (chosen,) in await session.execute(select(PollVote.choices).where(PollVote.poll_id == poll.id)):
            for c in chosen:
                counts[c] += 1
        return counts


async def reset_last_seen(app: Any) -> None:
    """Everybody last seen two days ago again (the second phase refreshes it like the first)."""
    from sqlalchemy import update

    from storage.models import Membership, Person

    before = datetime.now(UTC) - timedelta(days=2)
    async with app.db.transaction() as session:
        await session.execute(update(Person).values(last_seen=before))
        await session.execute(update(Membership).values(last_seen=before))


async def bulk_votes(app: Any, number: int, members: int, picks: list[int]) -> None:
    """The votes of every member written directly (the close measured without the vote phase)."""
    from sqlalchemy import insert, select

    from storage.models import Poll, PollVote

    now = datetime.now(UTC)
    async with app.db.transaction() as session:
        poll_id = await session.scalar(select(Poll.id).where(Poll.number == number))
        await session.execute(
            insert(PollVote.__table__),
            [
                {
                    "poll_id": poll_id,
                    "voter_key": f"p{k + 1}",
                    "person_id": k + 1,
                    "choices": [picks[k]],
                    "cast_at": now,
                }
                for k in range(members)
            ],
        )


async def close_poll(
    app: Any, coordinator: Any, chats: dict[str, Any], number: int, log: list[tuple[float, Any]]
) -> dict[str, float]:
    """``/abstimmung schliessen`` until the last message of the close reached its messenger."""
    from bot.core.events import IncomingMessage
    from bot.jobs import poll_format
    from bot.services import charts
    from bot.services.polls import PollService

    spans = Spans()
    spans.wrap(PollService, "close", "close")
    spans.wrap(PollService, "tally", "tally")
    spans.wrap(PollService, "record_result", "record")
    spans.wrap(poll_format, "chart", "chart")
    spans.wrap(charts, "bar_chart", "render")
    spans.wrap(app.outbox, "enqueue", "enqueue")
    spans.wrap(app.outbox, "submit", "submit")
    imported = "matplotlib" in sys.modules
    before = len(log)
    started = time.perf_counter()
    try:
        await app.handle(
            IncomingMessage(chats["console"], coordinator, f"/abstimmung schliessen {number}", "close")
        )
        handled = time.perf_counter()
        await app.outbox.drain()
    finally:
        spans.undo()
    sent = log[before:]
    charts_sent = [m for _, m in sent if m.attachment is not None]
    ended = [m for _, m in sent if m.close_poll is not None]
    if len(charts_sent) != len(PLATFORMS) or len(ended) != len(PLATFORMS):
        raise RuntimeError(f"close: {len(charts_sent)} charts, {len(ended)} native polls ended")
    last = max(at for at, _ in sent)
    enqueue_end = spans.spans["enqueue"][-1][1]
    submitted = spans.spans["submit"][-1][0]
    return {
        "total_s": last - started,
        "handled_s": handled - started,
        "close_ms": spans.total("close") * 1000,
        "tally_ms": spans.total("tally") * 1000,
        "record_ms": spans.total("record") * 1000,
        "chart_ms": spans.total("chart") * 1000,
        "render_ms": spans.total("render") * 1000,
        "enqueue_ms": (enqueue_end - spans.spans["enqueue"][-1][0]) * 1000,
        "commit_ms": (submitted - enqueue_end) * 1000,
        "deliver_ms": (last - submitted) * 1000,
        "messages": len(sent),
        "png_kb": len(charts_sent[0].attachment.data) / 1024,
        "matplotlib_before": float(imported),
    }


async def child(args: argparse.Namespace) -> dict[str, Any]:
    from bot.app import Application
    from bot.core.events import ChatKind, ChatRef, Platform, UserRef
    from bot.core.ports import SystemClock
    from bot.core.throttle import UNLIMITED
    from bot.services import charts
    from bot.services.embeddings import load_embedder
    from bot.services.reopen import ReopenGuard
    from storage import Database

    result: dict[str, Any] = {}
    if args.mode == "cold":
        charts.warm_up = lambda: None  # the polls component's warm-up does nothing
    database = Database(args.url)
    guard = ReopenGuard(load_embedder("lexical"))
    app = Application(database, clock=SystemClock(), options={"reopen.guard": guard})
    await app.start()
    log: list[tuple[float, Any]] = []
    for platform in PLATFORMS:
        app.attach(StubMessenger(Platform(platform), log), limits=UNLIMITED)
    await app.resume()
    warm_up = app.component("polls")._task  # internal, read for the figure only
    if warm_up is not None:
        await warm_up
    chats = {p: ChatRef(Platform(p), CHAT_IDS[p], ChatKind.GROUP, f"AG Bildung ({p})") for p in PLATFORMS}
    _, _, coordinator_id, coordinator_name = member(0)
    coordinator = UserRef(Platform.CONSOLE, coordinator_id, coordinator_name)
    picks = choices(args.members, 11)
    expected = [picks.count(i) for i in range(len(WEIGHTS))]
    result["rss_ready"] = rss()["VmRSS"]

    natives = await start_poll(app, coordinator, chats, 1)
    if args.mode == "votes":
        events = vote_events(args.members, picks, natives, 1)
        profile = None
        if args.profile:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        result["seq"] = await cast(app, events, 1)
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        if await counted(app, 1) != expected:
            raise RuntimeError("the sequential votes were not all counted")
        result["rss_votes"] = rss()["VmRSS"]
        natives2 = await start_poll(app, coordinator, chats, 2)
        await reset_last_seen(app)
        result["conc"] = await cast(app, vote_events(args.members, picks, natives2, 2), args.tasks)
        if await counted(app, 2) != expected:
            raise RuntimeError("the concurrent votes were not all counted")
    else:
        await bulk_votes(app, 1, args.members, picks)
    result["rss_before_close"] = rss()["VmRSS"]
    result["close"] = await close_poll(app, coordinator, chats, 1, log)
    if await counted(app, 1) != expected:
        raise RuntimeError(f"the result {await counted(app, 1)} is not {expected}")
    await app.drain()
    figures = rss()
    result["rss_end"], result["rss_peak"], result["maxrss"] = (
        figures["VmRSS"],
        figures["VmHWM"],
        figures["maxrss"],
    )
    await app.stop()
    await database.dispose()
    return result


# --------------------------------------------------------------------------------------------------
# The benchmark (parent)
# --------------------------------------------------------------------------------------------------


def spawn(*extra: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), *extra]
    process = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    lines = [line for line in process.stdout.splitlines() if line.startswith(RESULT)]
    if process.returncode != 0 or not lines:
        sys.stderr.write(process.stderr[-5000:])
        raise RuntimeError(f"{' '.join(extra[:2])}: the process failed (exit status {process.returncode})")
    for line in process.stderr.splitlines():
        if line.strip():
            print(f"    [stderr] {line[:200]}", flush=True)
    return json.loads(lines[-1][len(RESULT) :])


def print_profile(path: str) -> None:
    import pstats

    print("  profile of the sequential votes (tottime, top 30)")
    pstats.Stats(path).sort_stats("tottime").print_stats(30)


def run_database(name: str, url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}

    def keep(prefix: str, values: dict[str, float]) -> None:
        for key, value in values.items():
            figures.setdefault(f"{prefix}{key}", []).append(value)

    common = ["--url", url, "--members", str(args.members), "--tasks", str(args.tasks)]
    for run in range(args.runs):
        written = spawn("--populate", "--url", url, "--members", str(args.members))["seconds"]
        profile = f"{args.profile}/votes-{name}-{run}.prof" if args.profile else None
        r = spawn("--child", "--mode", "votes", *common, *(["--profile", profile] if profile else []))
        keep("seq_", r["seq"])
        keep("conc_", r["conc"])
        keep("warm_", r["close"])
        keep(
            "",
            {
                k: r[k]
                for k in ("rss_ready", "rss_votes", "rss_before_close", "rss_end", "rss_peak", "maxrss")
            },
        )
        spawn("--populate", "--url", url, "--members", str(args.members))
        cold = spawn("--child", "--mode", "cold", *common)
        keep("cold_", cold["close"])
        keep("cold_", {"rss_peak": cold["rss_peak"]})
        s, c, w, k = r["seq"], r["conc"], r["close"], cold["close"]
        print(
            f"  {name} run {run + 1} (data written in {written:.1f} s): votes sequential {s['per_s']:.0f}/s "
            f"(p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms), {args.tasks} tasks {c['per_s']:.0f}/s "
            f"(p50 {c['p50_ms']:.2f} ms, p99 {c['p99_ms']:.2f} ms); result with chart "
            f"{w['total_s'] * 1000:.0f} ms warm, {k['total_s'] * 1000:.0f} ms without warm-up; "
            f"RSS after votes {r['rss_votes']:.0f} MB, "
            f"peak {r['rss_peak']:.0f} MB",
            flush=True,
        )
        if profile and run == 0:
            print_profile(profile)
    return figures


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    names = list(results)
    med = {n: {k: statistics.median(v) for k, v in results[n].items()} for n in names}
    width = 22

    def row(title: str, cells: list[str], target: str = "") -> None:
        print(f"  {title:42s}" + "".join(f"{c:>{width}s}" for c in cells) + f"   {target}")

    print(
        f"\nmedians of {args.runs} runs; 1 AG, {args.members:,} members in 3 linked chats "
        "(console/telegram/matrix stubs); reopen guard: lexical"
    )
    row("", names, "target")
    for prefix, title in (("seq_", "votes, sequential"), ("conc_", f"votes, {args.tasks} concurrent tasks")):
        ok = all(med[n][f"{prefix}per_s"] >= TARGET_VOTES_PER_S for n in names if n == "SQLite")
        target = f"≥ {TARGET_VOTES_PER_S:g}/s on SQLite: {verdict(ok)}" if prefix == "seq_" else ""
        row(f"{title} (votes/s)", [f"{med[n][f'{prefix}per_s']:.0f}/s" for n in names], target)
        row(
            "  per vote p50 / p99",
            [f"{med[n][f'{prefix}p50_ms']:.2f}/{med[n][f'{prefix}p99_ms']:.2f} ms" for n in names],
        )
        row(
            "  per vote: CPU of the process / statements",
            [f"{med[n][f'{prefix}cpu_ms']:.2f} ms / {med[n][f'{prefix}statements']:.1f}" for n in names],
        )
        row(
            f"  {args.members:,} votes took",
            [f"{med[n][f'{prefix}elapsed']:.1f} s" for n in names],
            "(within a minute)",
        )
    for prefix, title in (
        ("warm_", "result with chart (warm-up at start)"),
        ("cold_", "result with chart (no warm-up)"),
    ):
        ok = all(med[n][f"{prefix}total_s"] <= TARGET_RESULT_S for n in names)
        target = f"≤ {TARGET_RESULT_S:g} s: {verdict(ok)}" if prefix == "warm_" else f"({verdict(ok)})"
        row(title, [f"{med[n][f'{prefix}total_s'] * 1000:.0f} ms" for n in names], target)
        for key, label in (
            ("close", "freeze result (lock, votes, tally, audit)"),
            ("tally", "  of which tally (count + read votes)"),
            ("record", "record the decision"),
            ("chart", "chart (PNG in a thread)"),
            ("render", "  of which charts.bar_chart"),
            ("enqueue", "outbox rows"),
            ("commit", "commit"),
            ("deliver", "delivery (commit → last message)"),
        ):
            row(f"  {label}", [f"{med[n][f'{prefix}{key}_ms']:.0f} ms" for n in names])
    row(
        "  messages of the close / PNG size",
        [f"{med[n]['warm_messages']:.0f} / {med[n]['warm_png_kb']:.0f} kB" for n in names],
    )
    row(
        "  matplotlib loaded before that close",
        [f"{med[n]['cold_matplotlib_before']:.0f} of 1" for n in names],
        "(0: the close imported it)",
    )
    row(
        "RSS ready / after votes / after close",
        [f"{med[n]['rss_ready']:.0f}/{med[n]['rss_votes']:.0f}/{med[n]['rss_end']:.0f} MB" for n in names],
    )
    row("RSS peak VmHWM / ru_maxrss", [f"{med[n]['rss_peak']:.0f}/{med[n]['maxrss']:.0f} MB" for n in names])
    row("RSS peak without warm-up (VmHWM)", [f"{med[n]['cold_rss_peak']:.0f} MB" for n in names])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000, help="members of the AG, all vote (10,000)")
    parser.add_argument("--tasks", type=int, default=4, help="concurrent tasks of the second phase (4)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=DEFAULT_PG, help=f"PostgreSQL URL (default {DEFAULT_PG})")
    parser.add_argument("--skip-pg", action="store_true", help="SQLite only")
    parser.add_argument("--profile", metavar="DIR", help="cProfile the sequential votes; stats go to DIR")
    # The processes of a run:
    parser.add_argument("--populate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("votes", "cold"), default="votes", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.populate:
        if args.url.startswith("sqlite"):  # a fresh file
            for suffix in ("", "-wal", "-shm"):
                Path(args.url.partition(":///")[2] + suffix).unlink(missing_ok=True)
        print(RESULT + json.dumps({"seconds": asyncio.run(populate(args.url, args.members))}), flush=True)
        return
    if args.child:
        print(RESULT + json.dumps(asyncio.run(child(args))), flush=True)
        return
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        databases = [("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")]
        if not args.skip_pg:
            databases.append(("PostgreSQL", args.pg))
        for name, url in databases:
            results[name] = run_database(name, url, args)
    report(results, args)
    print(f"\n({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
