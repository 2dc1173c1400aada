"""Scheduler at scale: 100,000 pending reminders across 1,000 AGs, on SQLite and PostgreSQL.

Prints, against the targets of issue 10 (point 8):

* **start-up** (ready ≤ 10 s): from spawning a fresh process (``time.time()`` taken by this script
  just before the process is spawned, so interpreter start and every import are included) until
  the answer to ``/erinnerungen`` in one AG's group chat reaches the messenger. The process starts
  like ``kuemmerer run`` (``bot/cli.py serve``): reopen guard, one ``SELECT 1``, ``Application``,
  ``app.start()`` (migrations check), a messenger attached, ``app.resume()`` (outbox resume, the
  components: the scheduler's catch-up ``run_due`` and its timer, the reopen guard's worker), then
  the command through ``Application.handle``. The platform adapter is replaced by a stub messenger
  (no platform library is imported or connected). Also the steps (imports, start, resume, command)
  and the resident memory (≤ 300 MB): ``VmRSS`` once ready and once settled (the guard's model
  loaded and a second more for other warm-ups in threads), and the peak (``VmHWM``). The guard runs
  on the ``lexical`` embedder; the start-up with the model ``kuemmerer run`` picks by default
  (``auto``: USE when installed) is measured for the large set as well.
* **lateness** (p99 ≤ 1 s): ``--due`` extra reminders (one per AG) due within one minute of a
  running bot (real clock, APScheduler timer), the other reminders pending: spread evenly over
  ``--window`` seconds (60), then, two seconds after, all due in the same instant (reminders are
  set to whole minutes, so this is what "1,000 at 18:00" looks like). Sending is stubbed (the
  messenger records the time and returns). For each reminder: when its job ran
  (``scheduled_jobs.fired_at``), when its message was committed (the outbox's ``submit``, right
  after the commit) and when it reached the messenger, each minus its due time.
* the same start-up figures for ``--small`` reminders (10,000), for comparison with the peer's
  restart (1.25 s, 83 MB).

The data is written with SQLAlchemy Core bulk inserts (working groups, chats, people, memberships,
reminders and one pending ``reminder`` job each, due at whole quarter hours over the next year;
half one-off, half recurring: weekly, fortnightly, daily, monthly; one in ten private). PostgreSQL
gets ``ANALYZE`` after loading (what autovacuum does shortly after); SQLite is left as the bot
leaves it. Every measurement runs ``--runs`` times in a fresh process; the figures are medians.

Usage: .venv/bin/python bench/scheduler_scale.py [--reminders 100000] [--groups 1000] [--due 1000]
           [--small 10000] [--pg postgresql://postgres@127.0.0.1:5432/bench_sched] [--skip-pg]
           [--runs 3] [--window 60] [--no-model] [--no-lateness] [--profile DIR] [--child-log FILE]
(≈ 8–10 minutes with PostgreSQL, mostly the minute of due reminders per lateness run.)
The PostgreSQL database must exist; its public schema is dropped and recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Only the standard library above: a child process is timed from before the bot's imports.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_sched"
SETTLE_S = 1.0
TARGET_READY_S = 10.0
TARGET_RSS_MB = 300.0
TARGET_LATE_P99_S = 1.0
PEER_READY_S, PEER_RSS_MB = 1.25, 83.0
TZ = "Europe/Berlin"
MEMBERS = 5  # people per AG; the first one is its koordination
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TOKEN = re.compile(r"ref-(\d+)")
RESULT = "RESULT "
CHILD_LOG: str | None = None  # --child-log: the bot's processes' stderr, in full


def chat_id(group: int) -> str:
    return f"-100{group:07d}"


def person_id(group: int, k: int) -> int:
    return (group - 1) * MEMBERS + k + 1


def person_external(pid: int) -> str:
    return str(10_000_000 + pid)


def rss_mb() -> tuple[float, float]:
    """Current (``VmRSS``) and peak (``VmHWM``) resident memory of this process, in MB.

    Not ``ru_maxrss``: Linux carries it over ``exec`` from the parent (this script, holding the
    rows it wrote), so a child would report the parent's peak.
    """
    figures = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                figures[line[:5]] = int(line.split()[1]) / 1024
    return figures["VmRSS"], figures["VmHWM"]


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


@dataclass
class Population:
    """What is in the database so far (reminders are added in steps: 10,000, then the rest)."""

    url: str
    groups: int
    reminders: int = 0
    numbers: dict[tuple[str, int], int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(10))


async def reset(url: str) -> None:
    """Drop and recreate the public schema (PostgreSQL); bring the schema up to date."""
    from sqlalchemy import text

    from storage import Database

    database = Database(url)
    try:
        if not database.is_sqlite:
            async with database.engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await database.upgrade()
    finally:
        await database.dispose()


async def _bulk(conn: Any, table: Any, rows: list[dict[str, Any]], chunk: int = 10_000) -> None:
    from sqlalchemy import insert

    for start in range(0, len(rows), chunk):
        await conn.execute(insert(table), rows[start : start + chunk])


async def _fix_sequences(conn: Any, tables: list[str]) -> None:
    """Explicit ids bypass PostgreSQL's sequences: move them past the highest id."""
    from sqlalchemy import text

    for name in tables:
        await conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
        )


def _occurrence(rng: random.Random, today: datetime) -> datetime:
    """A local wall time at a quarter hour between 07:00 and 21:45, 1 to 365 days ahead."""
    day = today + timedelta(days=rng.randint(1, 365))
    return day.replace(hour=rng.randint(7, 21), minute=rng.choice((0, 15, 30, 45)))


def _rule(n: int, local: datetime) -> str | None:
    weekday = WEEKDAYS[local.weekday()]
    return (
        None,
        None,
        f"FREQ=WEEKLY;BYDAY={weekday}",
        f"FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday}",
        None,
        None,
        f"FREQ=WEEKLY;BYDAY={weekday}",
        "FREQ=DAILY",
        None,
        f"FREQ=MONTHLY;BYMONTHDAY={local.day}",
    )[n % 10]


def _reminder_row(
    pop: Population, rid: int, n: int, group: int, next_due: datetime, local: datetime, rule: str | None
) -> dict[str, Any]:
    private = n % 10 == 9
    k = n % MEMBERS
    owner = person_id(group, k)
    scope = ("p", owner) if private else ("g", group)
    pop.numbers[scope] = number = pop.numbers.get(scope, 0) + 1
    return {
        "id": rid,
        "group_id": group,
        "owner_id": owner,
        "number": number,
        "platform": "telegram",
        "chat_id": person_external(owner) if private else chat_id(group),
        "chat_kind": "private" if private else "group",
        "text": f"Bitte an das Protokoll denken und die Liste ergänzen (ref-{rid})",
        "rule": rule,
        "timezone": TZ,
        "local_start": local.replace(tzinfo=None),
        "next_due": next_due,
        "status": "active",
        "fired_count": 0,
        "created_at": next_due - timedelta(days=400),
    }


def _job_row(jid: int, rid: int, group: int, due: datetime) -> dict[str, Any]:
    return {
        "id": jid,
        "kind": "reminder",
        "ref_id": rid,
        "group_id": group,
        "due_at": due,
        "status": "pending",
        "data": {},
        "attempts": 0,
        "created_at": due - timedelta(days=400),
    }


async def populate(pop: Population, total: int) -> float:
    """Add AGs (first call) and reminders up to ``total``; returns the seconds it took."""
    from sqlalchemy import text

    from storage import Database
    from storage.models import Chat, Membership, Person, Reminder, ScheduledJob, WorkingGroup

    started = time.perf_counter()
    database = Database(pop.url)
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(TZ)).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        async with database.engine.begin() as conn:
            if pop.reminders == 0:
                groups = range(1, pop.groups + 1)
                await _bulk(
                    conn,
                    WorkingGroup.__table__,
                    [{"id": g, "name": f"AG {g}", "created_at": now, "timezone": TZ} for g in groups],
                )
                await _bulk(
                    conn,
                    Chat.__table__,
                    [
                        {
                            "id": g,
                            "platform": "telegram",
                            "external_id": chat_id(g),
                            "kind": "group",
                            "title": f"AG {g}",
                            "group_id": g,
                            "created_at": now,
                        }
                        for g in groups
                    ],
                )
                people = [(g, k, person_id(g, k)) for g in groups for k in range(MEMBERS)]
                await _bulk(
                    conn,
                    Person.__table__,
                    [
                        {
                            "id": pid,
                            "platform": "telegram",
                            "external_id": person_external(pid),
                            "display_name": f"Mitglied {pid}",
                            "first_seen": now,
                            "last_seen": now,
                        }
                        for _, _, pid in people
                    ],
                )
                await _bulk(
                    conn,
                    Membership.__table__,
                    [
                        {
                            "id": pid,
                            "group_id": g,
                            "person_id": pid,
                            "role": "koordination" if k == 0 else "mitglied",
                            "first_seen": now,
                            "last_seen": now,
                            "briefed_at": now,
                            "acknowledged_at": now,
                        }
                        for g, k, pid in people
                    ],
                )
            reminders, jobs = [], []
            zone = ZoneInfo(TZ)
            for n in range(pop.reminders, total):
                rid = n + 1
                group = n % pop.groups + 1
                local = _occurrence(pop.rng, today)
                due = local.replace(tzinfo=zone).astimezone(UTC)
                reminders.append(_reminder_row(pop, rid, n, group, due, local, _rule(n, local)))
                jobs.append(_job_row(rid, rid, group, due))
            await _bulk(conn, Reminder.__table__, reminders)
            await _bulk(conn, ScheduledJob.__table__, jobs)
            if not database.is_sqlite:
                tables = ["working_groups", "chats", "people", "memberships", "reminders", "scheduled_jobs"]
                await _fix_sequences(conn, tables)
        if not database.is_sqlite:
            async with database.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
        pop.reminders = total
    finally:
        await database.dispose()
    return time.perf_counter() - started


async def add_due(pop: Population, first_due: float, window: float, burst_at: float) -> tuple[int, int]:
    """One reminder per AG due in ``[first_due, first_due + window)`` (epoch seconds), evenly
    spread, and one per AG due at ``burst_at``; half one-off, half weekly. Returns the id range."""
    from sqlalchemy import func, select

    from storage import Database
    from storage.models import Reminder, ScheduledJob

    database = Database(pop.url)
    zone = ZoneInfo(TZ)
    count = pop.groups
    try:
        async with database.engine.begin() as conn:
            rid = (await conn.scalar(select(func.max(Reminder.id)))) + 1
            jid = (await conn.scalar(select(func.max(ScheduledJob.id)))) + 1
            low = rid
            reminders, jobs = [], []
            for n in range(2 * count):
                at = first_due + window * n / count if n < count else burst_at
                due = datetime.fromtimestamp(round(at, 3), UTC)
                local = due.astimezone(zone).replace(tzinfo=None)
                group = n % count + 1
                rule = f"FREQ=WEEKLY;BYDAY={WEEKDAYS[local.weekday()]}" if n % 2 else None
                row = _reminder_row(pop, rid, 0, group, due, local, rule)  # n=0: group chat
                reminders.append(row)
                jobs.append(_job_row(jid, rid, group, due))
                rid, jid = rid + 1, jid + 1
            await _bulk(conn, Reminder.__table__, reminders)
            await _bulk(conn, ScheduledJob.__table__, jobs)
            if not database.is_sqlite:
                await _fix_sequences(conn, ["reminders", "scheduled_jobs"])
    finally:
        await database.dispose()
    return low, rid - 1


async def due_results(url: str, low: int, high: int) -> tuple[dict[int, float], dict[int, float]]:
    """Due time and run time (epoch seconds) of the first job of each reminder in the range."""
    from sqlalchemy import select

    from storage import Database
    from storage.models import ScheduledJob

    database = Database(url)
    try:
        async with database.engine.connect() as conn:
            rows = await conn.execute(
                select(ScheduledJob.ref_id, ScheduledJob.due_at, ScheduledJob.fired_at)
                .where(ScheduledJob.kind == "reminder", ScheduledJob.ref_id.between(low, high))
                .order_by(ScheduledJob.id)
            )
            due: dict[int, float] = {}
            fired: dict[int, float] = {}
            for ref_id, due_at, fired_at in rows:
                if ref_id in due:  # the next occurrence of a weekly one
                    continue
                due[ref_id] = due_at.timestamp()
                if fired_at is not None:
                    fired[ref_id] = fired_at.timestamp()
    finally:
        await database.dispose()
    return due, fired


async def remove_due(pop: Population, low: int, high: int) -> None:
    """Delete the due reminders of a lateness run, their jobs and the outbox."""
    from sqlalchemy import delete

    from storage import Database
    from storage.models import OutboxMessage, Reminder, ScheduledJob

    database = Database(pop.url)
    try:
        async with database.engine.begin() as conn:
            await conn.execute(
                delete(ScheduledJob).where(
                    ScheduledJob.kind == "reminder", ScheduledJob.ref_id.between(low, high)
                )
            )
            await conn.execute(delete(Reminder).where(Reminder.id.between(low, high)))
            await conn.execute(delete(OutboxMessage))
    finally:
        await database.dispose()
    for group in range(1, pop.groups + 1):
        pop.numbers[("g", group)] -= 2


# --------------------------------------------------------------------------------------------------
# The bot's process (child)
# --------------------------------------------------------------------------------------------------


class StubMessenger:
    """Records when each message reaches the platform; never waits."""

    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.sent: list[tuple[float, Any]] = []
        self.answered = asyncio.Event()
        self.expect = 0
        self.tokens = 0
        self.all_sent = asyncio.Event()

    def prepare(self, message: Any) -> list[Any]:
        return [message]

    async def send(self, message: Any) -> Any:
        from bot.core.events import SentMessage

        at = time.time()
        self.sent.append((at, message))
        if not self.answered.is_set() and message.chat.external_id == chat_id(1):
            self.answered.set()  # the answer to the command: the first message to that chat
        elif self.expect and TOKEN.search(message.markup.plain()):
            self.tokens += 1
            if self.tokens >= self.expect:
                self.all_sent.set()
        return SentMessage(message.chat, str(len(self.sent)))


async def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    """Poll ``condition`` for at most ``timeout`` seconds (internal state, no event to wait for)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def child(args: argparse.Namespace) -> dict[str, Any]:
    """Start like ``serve``, answer one command; for ``lateness`` wait for the due reminders."""
    spawned = args.spawned
    marks: dict[str, float] = {"main": time.time() - spawned}
    # The imports of serve (bot.cli and the adapters' platform libraries aside).
    from bot.app import Application
    from bot.core.events import ChatKind, ChatRef, IncomingMessage, Platform, UserRef
    from bot.core.ports import SystemClock
    from bot.core.throttle import UNLIMITED
    from bot.services.embeddings import load_embedder
    from bot.services.reopen import ReopenGuard
    from storage import Database

    marks["imports"] = time.time() - spawned
    guard = ReopenGuard(load_embedder(args.embedder))
    database = Database(args.url)
    async with database.engine.connect() as connection:  # open_database
        await connection.exec_driver_sql("SELECT 1")
    app = Application(database, clock=SystemClock(), options={"reopen.guard": guard})
    await app.start()
    marks["start"] = time.time() - spawned
    messenger = StubMessenger(Platform.TELEGRAM)
    messenger.expect = args.expect
    app.attach(messenger, limits=UNLIMITED)
    committed: dict[int, float] = {}
    if args.expect:
        submit = app.outbox.submit

        def timed_submit(rows: Any) -> None:  # called right after the commit
            at = time.time()
            for row in rows:
                found = TOKEN.search(json.dumps(row.payload, ensure_ascii=False))
                if found:
                    committed[int(found.group(1))] = at
            submit(rows)

        app.outbox.submit = timed_submit  # type: ignore[method-assign]
    await app.resume()
    marks["resume"] = time.time() - spawned
    chat = ChatRef(Platform.TELEGRAM, chat_id(1), ChatKind.GROUP, "AG 1")
    sender = UserRef(Platform.TELEGRAM, person_external(person_id(1, 0)), "Mitglied 1")
    await app.handle(IncomingMessage(chat, sender, "/erinnerungen", "bench-command", False))
    await asyncio.wait_for(messenger.answered.wait(), 60)
    answered_at, answer = next((t, m) for t, m in messenger.sent if m.chat.external_id == chat_id(1))
    marks["ready"] = answered_at - spawned
    result: dict[str, Any] = {"marks": marks, "answer": answer.markup.plain().splitlines()[0]}
    result["rss_ready"], _ = rss_mb()
    watcher = app.component("reopen")
    await wait_until(lambda: watcher._warm, 120)  # internal, read for the figure only
    result["model_s"] = time.time() - spawned
    await asyncio.sleep(SETTLE_S)  # other warm-ups in threads (the polls' charts) finish too
    result["rss_settled"], _ = rss_mb()
    if args.expect:
        await asyncio.wait_for(messenger.all_sent.wait(), args.timeout)
        await app.drain()
        result["sent"] = {
            int(found.group(1)): at
            for at, message in messenger.sent
            if message is not answer and (found := TOKEN.search(message.markup.plain()))
        }
        result["committed"] = committed
        scheduler = app.component("scheduler")
        result["fired"] = scheduler.fired
        # Let the timer re-arm after the last run: stopping cancels a wake-up in progress.
        await wait_until(lambda: scheduler.armed_for is None or scheduler.armed_for > datetime.now(UTC), 10)
        result["rss_end"], _ = rss_mb()
    _, result["rss_peak"] = rss_mb()
    await app.stop()
    await database.dispose()
    return result


def run_child(args: argparse.Namespace) -> None:
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
        result = profile.runcall(asyncio.run, child(args))
        profile.dump_stats(args.profile)
    else:
        result = asyncio.run(child(args))
    print(RESULT + json.dumps(result), flush=True)


# --------------------------------------------------------------------------------------------------
# The benchmark (parent)
# --------------------------------------------------------------------------------------------------


def spawn(
    url: str, *, embedder: str, expect: int = 0, timeout: float = 0, profile: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Run the bot's process; returns its result and its log lines (warnings and errors)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--url", url]
    command += ["--embedder", embedder, "--expect", str(expect), "--timeout", str(timeout)]
    if profile:
        command += ["--profile", profile]
    spawned = time.time()
    process = subprocess.run(
        [*command, "--spawned", repr(spawned)], capture_output=True, text=True, timeout=900
    )
    if CHILD_LOG:
        with open(CHILD_LOG, "a") as log:
            log.write(process.stderr)
    lines = [line for line in process.stdout.splitlines() if line.startswith(RESULT)]
    if process.returncode != 0 or not lines:
        sys.stderr.write(process.stderr[-5000:])
        raise RuntimeError(f"the bot's process failed (exit status {process.returncode})")
    return json.loads(lines[-1][len(RESULT) :]), [line for line in process.stderr.splitlines() if line]


def note_logs(lines: list[str], notes: list[str], where: str) -> None:
    """Keep a few distinct warning lines of the bot's process for the report."""
    for line in lines:
        short = re.sub(r"\d+", "#", line)[:160]
        if short not in notes and len(notes) < 12:
            notes.append(short)
            print(f"    [{where}] {line[:200]}", flush=True)


def print_profile(path: str, title: str) -> None:
    import pstats

    print(f"  profile: {title} (cumulative, top 25)")
    stats = pstats.Stats(path)
    stats.sort_stats("cumulative").print_stats(25)


def startup(
    url: str, runs: int, embedder: str, label: str, notes: list[str], profile: str | None
) -> dict[str, float]:
    """Median start-up figures over ``runs`` fresh processes."""
    figures: dict[str, list[float]] = {}
    for run in range(runs):
        path = f"{profile}/startup-{label}-{run}.prof".replace(" ", "_") if profile else None
        result, logs = spawn(url, embedder=embedder, profile=path)
        note_logs(logs, notes, label)
        marks = result["marks"]
        values = {
            "imports": marks["imports"],
            "start": marks["start"] - marks["imports"],
            "resume": marks["resume"] - marks["start"],
            "command": marks["ready"] - marks["resume"],
            "ready": marks["ready"],
            "rss_ready": result["rss_ready"],
            "model_s": result["model_s"],
            "rss_settled": result["rss_settled"],
            "rss_peak": result["rss_peak"],
        }
        for key, value in values.items():
            figures.setdefault(key, []).append(value)
        print(
            f"  {label} run {run + 1}: ready {values['ready']:.2f} s (imports {values['imports']:.2f}, "
            f"start {values['start']:.2f}, resume {values['resume']:.2f}, command {values['command']:.3f})"
            f", RSS {values['rss_ready']:.0f} MB, model loaded at {values['model_s']:.1f} s, "
            f"RSS settled {values['rss_settled']:.0f} MB, peak {values['rss_peak']:.0f} MB"
            f" – answer: {result['answer'][:60]!r}",
            flush=True,
        )
        if path and run == 0:
            print_profile(path, f"start-up {label}")
    return {key: statistics.median(values) for key, values in figures.items()}


def lateness(
    pop: Population, runs: int, lead: float, window: float, label: str, notes: list[str], profile: str | None
) -> dict[str, float]:
    """Median lateness figures over ``runs`` bots that meet ``--due`` reminders in one minute."""
    per_run: dict[str, list[float]] = {}
    for run in range(runs):
        first = time.time() + lead
        burst = first + window + 2.0
        low, high = asyncio.run(add_due(pop, first, window, burst))
        path = f"{profile}/lateness-{label}-{run}.prof".replace(" ", "_") if profile else None
        try:
            result, logs = spawn(
                pop.url, embedder="lexical", expect=high - low + 1, timeout=lead + window + 120, profile=path
            )
            note_logs(logs, notes, label)
            due, fired = asyncio.run(due_results(pop.url, low, high))
        finally:
            asyncio.run(remove_due(pop, low, high))
        sent = {int(k): v for k, v in result["sent"].items()}
        committed = {int(k): v for k, v in result["committed"].items()}
        figures: dict[str, float] = {"ready": result["marks"]["ready"], "rss_end": result["rss_end"]}
        for variant, ids in (
            ("spread", range(low, low + pop.groups)),
            ("burst", range(low + pop.groups, high + 1)),
        ):
            for stage, times in (("run", fired), ("commit", committed), ("sent", sent)):
                late = [times[i] - due[i] for i in ids if i in times]
                figures[f"{variant}_{stage}_n"] = len(late)
                figures[f"{variant}_{stage}_p50"] = statistics.median(late)
                figures[f"{variant}_{stage}_p99"] = pct(late, 99)
                figures[f"{variant}_{stage}_max"] = max(late)
        for key, value in figures.items():
            per_run.setdefault(key, []).append(value)
        print(
            f"  {label} run {run + 1}: ready at {figures['ready']:.1f} s, first due ≈ {lead:.1f} s;"
            f" spread: sent p50 {figures['spread_sent_p50'] * 1000:.0f} ms p99"
            f" {figures['spread_sent_p99'] * 1000:.0f} ms max {figures['spread_sent_max'] * 1000:.0f} ms;"
            f" same instant: sent p50 {figures['burst_sent_p50'] * 1000:.0f} ms p99"
            f" {figures['burst_sent_p99'] * 1000:.0f} ms max {figures['burst_sent_max'] * 1000:.0f} ms"
            f" ({result['fired']} jobs fired, RSS {figures['rss_end']:.0f} MB)",
            flush=True,
        )
        if path and run == 0:
            print_profile(path, f"lateness {label}")
    return {key: statistics.median(values) for key, values in per_run.items()}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    names = list(results)
    width = 24

    def row(title: str, cells: list[str], target: str = "") -> None:
        print(f"  {title:38s}" + "".join(f"{c:>{width}s}" for c in cells) + f"   {target}")

    print(f"\nmedians of {args.runs} runs; {args.groups:,} AGs; times from spawning the process")
    row("", names, "target")
    for size in ("large", "small"):
        count = args.reminders if size == "large" else args.small
        if not all(size in r for r in results.values()):
            continue
        s = [results[n][size] for n in names]
        row(f"start-up, {count:,} reminders (lexical)", [""] * len(names))
        row(
            "  ready (first command answered)",
            [f"{x['ready']:.2f} s" for x in s],
            f"≤ {TARGET_READY_S:g} s: {verdict(all(x['ready'] <= TARGET_READY_S for x in s))}"
            + (f"   peer {PEER_READY_S} s" if size == "small" else ""),
        )
        row(
            "    imports / start / resume / command",
            [f"{x['imports']:.2f}/{x['start']:.2f}/{x['resume']:.2f}/{x['command']:.2f}" for x in s],
        )
        rss = [max(x["rss_settled"], x["rss_peak"]) for x in s]
        row(
            "  RSS ready / settled / peak",
            [f"{x['rss_ready']:.0f}/{x['rss_settled']:.0f}/{x['rss_peak']:.0f} MB" for x in s],
            f"≤ {TARGET_RSS_MB:g} MB: {verdict(all(r <= TARGET_RSS_MB for r in rss))}"
            + (f"   peer {PEER_RSS_MB:g} MB" if size == "small" else ""),
        )
    if all("model" in r for r in results.values()):
        s = [results[n]["model"] for n in names]
        row(f"start-up, {args.reminders:,}, guard model 'auto'", [""] * len(names))
        row(
            "  ready (model loads in a thread)",
            [f"{x['ready']:.2f} s" for x in s],
            f"≤ {TARGET_READY_S:g} s: {verdict(all(x['ready'] <= TARGET_READY_S for x in s))}",
        )
        row("  model loaded at", [f"{x['model_s']:.1f} s" for x in s])
        row(
            "  RSS ready / settled / peak",
            [f"{x['rss_ready']:.0f}/{x['rss_settled']:.0f}/{x['rss_peak']:.0f} MB" for x in s],
            f"≤ {TARGET_RSS_MB:g} MB: "
            + verdict(all(max(x["rss_settled"], x["rss_peak"]) <= TARGET_RSS_MB for x in s)),
        )
    if all("late" in r for r in results.values()):
        s = [results[n]["late"] for n in names]
        spread = f"spread over {args.window:g} s"
        for variant, title in (("spread", spread), ("burst", "all due in the same instant")):
            row(f"lateness, {args.due:,} due, {title}", [""] * len(names))
            for stage, what in (("run", "job ran"), ("commit", "committed"), ("sent", "at the messenger")):
                target = ""
                if stage == "sent":
                    ok = all(x[f"{variant}_sent_p99"] <= TARGET_LATE_P99_S for x in s)
                    target = f"p99 ≤ {TARGET_LATE_P99_S:g} s: {verdict(ok)}"
                row(
                    f"  {what} p50 / p99 / max",
                    [
                        f"{x[f'{variant}_{stage}_p50'] * 1000:.0f}/{x[f'{variant}_{stage}_p99'] * 1000:.0f}"
                        f"/{x[f'{variant}_{stage}_max'] * 1000:.0f} ms"
                        for x in s
                    ],
                    target,
                )
            row("  delivered", [f"{x[f'{variant}_sent_n']:.0f} of {args.due}" for x in s])
        # All due at once: the last commit over the count is what one reminder costs the bot.
        row(
            "  work per reminder (last commit / n)",
            [f"{x['burst_commit_max'] / args.due * 1000:.2f} ms" for x in s],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=100_000, help="pending reminders (default 100,000)")
    parser.add_argument("--groups", type=int, default=1000, help="AGs (default 1,000)")
    parser.add_argument("--due", type=int, default=1000, help="reminders due in one minute (default 1,000)")
    parser.add_argument("--small", type=int, default=10_000, help="the smaller set (default 10,000; 0: skip)")
    parser.add_argument("--pg", default=DEFAULT_PG, help=f"PostgreSQL URL (default {DEFAULT_PG})")
    parser.add_argument("--skip-pg", action="store_true", help="SQLite only")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the spread reminders span")
    parser.add_argument("--no-model", action="store_true", help="skip the start-up with the guard model")
    parser.add_argument("--no-lateness", action="store_true")
    parser.add_argument("--profile", metavar="DIR", help="cProfile the bot's processes; stats go to DIR")
    parser.add_argument("--child-log", metavar="FILE", help="append the bot's processes' stderr to FILE")
    # The bot's process:
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--embedder", default="lexical", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.child:
        run_child(args)
        return
    global CHILD_LOG
    CHILD_LOG = args.child_log
    if args.due != args.groups:
        parser.error("--due must equal --groups (one due reminder per AG)")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        databases = [("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")]
        if not args.skip_pg:
            databases.append(("PostgreSQL", args.pg))
        for name, url in databases:
            figures: dict[str, Any] = {}
            asyncio.run(reset(url))
            pop = Population(url, args.groups)
            sizes = [("small", args.small)] if 0 < args.small < args.reminders else []
            for size, count in [*sizes, ("large", args.reminders)]:
                seconds = asyncio.run(populate(pop, count))
                print(
                    f"{name}: {count:,} reminders in {args.groups:,} AGs written in {seconds:.1f} s",
                    flush=True,
                )
                figures[size] = startup(url, args.runs, "lexical", f"{name} {count:,}", notes, args.profile)
            if not args.no_model:
                figures["model"] = startup(
                    url, args.runs, "auto", f"{name} {count:,} auto", notes, args.profile
                )
            if not args.no_lateness:
                lead = figures["large"]["ready"] + 3.0
                figures["late"] = lateness(pop, args.runs, lead, args.window, name, notes, args.profile)
            results[name] = figures
    report(results, args)
    if notes:
        print("\nlog lines of the bot's processes (distinct, digits as #):")
        for note in notes:
            print(f"  {note}")
    print(f"\n({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
