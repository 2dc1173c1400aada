"""Start-up of the reopen guard: time until an AG with 10,000 decisions is ready to hint, and RSS.

Each run is a fresh process (a real restart: imports, model load, empty caches) on one SQLite
database that holds the AG. The process starts the watcher, offers one message that questions a
decision, and stops the clock when that message has been checked (the AG loaded, the hint given):

* **cold** — nothing stored (``reopen_embeddings`` emptied first): the seed and all 10,020 items
  are embedded, then written back;
* **warm** — the vectors stored by the cold run before it: only the message is embedded.

Reported per mode: the median and range over ``--repeat`` runs of the time from the watcher's
start to ready, its parts (model load and seed, reading stored vectors, loading the AG into the
guard, writing new vectors back), the time from the process's spawn to ready (imports included),
the texts embedded, and VmRSS at ready and the peak (``ru_maxrss``). The machine is a noisy 2-core
VM: look at the range, not only the median.

Usage: .venv/bin/python bench/reopen_startup.py [--items 10000] [--embedder auto] [--repeat 3]
       [--db FILE --warm-only]
(also ``bench/reopen_latency.py --startup``; ≈ 15 s per cold and 4 s per warm run with USE.)
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reopen_latency import rss_mb, synthetic_items  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from bot.core.events import ChatKind, ChatRef, Platform, UserRef  # noqa: E402
from bot.core.ports import SystemClock  # noqa: E402
from bot.services.embeddings import load_embedder  # noqa: E402
from bot.services.reopen import Hint, ReopenGuard  # noqa: E402
from bot.services.reopen_watch import Candidate, ReopenWatcher  # noqa: E402
from bot.services.text import fold  # noqa: E402
from storage import Database  # noqa: E402
from storage.models import Decision, DecisionStatus, Goal, GoalStatus, ReopenEmbedding, WorkingGroup  # noqa: E402

MODES = ("cold", "warm")
TARGET_READY_S = 2.0


def challenge(decision: str) -> str:
    """A message questioning ``decision`` (its first clause)."""
    return f"Warum eigentlich so? {decision.split(';')[0].rstrip('.')} – das sollten wir ändern."


# --------------------------------------------------------------------------------------------------
# Parent: the database and the runs
# --------------------------------------------------------------------------------------------------


async def build(url: str, items: int, seed: int) -> tuple[int, str]:
    """A migrated database with one AG of ``items`` decisions and 20 goals; (its id, a challenge)."""
    database = Database(url)
    await database.upgrade()
    settled = synthetic_items(items, 20, seed)
    now = datetime.now(UTC)
    async with database.transaction() as session:
        group = WorkingGroup(name="AG Bench", created_at=now)
        session.add(group)
        await session.flush()
        decisions = [i for i in settled if i.kind == "decision"]
        session.add_all(
            Decision(
                group_id=group.id,
                number=i.number,
                text=i.text,
                search_text=fold(i.text),
                status=DecisionStatus.ACTIVE,
                decided_on=date(2020, 1, 1) + timedelta(days=n % 2000),
                created_at=now,
            )
            for n, i in enumerate(decisions)
        )
        session.add_all(
            Goal(group_id=group.id, number=i.number, text=i.text, status=GoalStatus.ACTIVE, created_at=now)
            for i in settled
            if i.kind == "goal"
        )
        group_id = group.id
    await database.dispose()
    return group_id, challenge(decisions[0].text)


async def forget_vectors(url: str) -> None:
    database = Database(url)
    async with database.transaction() as session:
        await session.execute(delete(ReopenEmbedding))
    await database.dispose()


def run_child(url: str, group_id: int, embedder: str, message: str) -> dict[str, Any]:
    """One start in a fresh process; its figures."""
    spawned = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, str(group_id), embedder, message],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["process_s"] = figures.pop("ready_at") - spawned
    return figures


def startup_figures(
    items: int = 10_000,
    embedder: str = "auto",
    repeat: int = 3,
    seed: int = 1,
    db: Path | None = None,
    warm_only: bool = False,
) -> dict:
    """Runs cold and warm starts alternately, ``repeat`` times each; the figures per mode.

    With ``db`` the database is kept in that file (built on the first use), and with
    ``warm_only`` only warm starts run (one cold start first if nothing is stored yet), so
    comparing two versions of the start-up does not cost minutes of embedding each time.
    """
    modes = ("warm",) if warm_only else MODES
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "startup.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        meta = path.with_suffix(".json")
        if db is not None and path.exists() and meta.exists():
            group_id, message = json.loads(meta.read_text())
        else:
            group_id, message = asyncio.run(build(url, items, seed))
            meta.write_text(json.dumps([group_id, message]))
        if warm_only and asyncio.run(stored_vectors(url)) < items:
            run_child(url, group_id, embedder, message)  # stores the vectors
        for _ in range(repeat):
            if not warm_only:
                asyncio.run(forget_vectors(url))
                runs["cold"].append(run_child(url, group_id, embedder, message))
            runs["warm"].append(run_child(url, group_id, embedder, message))
    return {"items": items, "runs": runs}


async def stored_vectors(url: str) -> int:
    database = Database(url)
    async with database.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(ReopenEmbedding))
    await database.dispose()
    return int(count or 0)


def print_startup_figures(figures: dict) -> None:
    """Print :func:`startup_figures`: median [min–max] per figure and mode."""
    runs = figures["runs"]
    modes = [mode for mode in MODES if mode in runs]
    first = runs[modes[0]][0]
    print(
        f"start-up, one AG with {figures['items']:,} decisions + 20 goals, embedder {first['embedder']} "
        f"({first['key']}); {len(runs[modes[0]])} fresh processes per mode, median [min–max]:"
    )

    def row(name: str, key: str, unit: str = "s", digits: int = 2) -> None:
        cells = []
        for mode in modes:
            values = [run[key] for run in runs[mode]]
            cells.append(
                f"{mode} {statistics.median(values):7.{digits}f} [{min(values):.{digits}f}–"
                f"{max(values):.{digits}f}] {unit}"
            )
        print(f"  {name:36s} " + "   ".join(cells))

    row("watcher start → ready to hint", "ready_s")
    row("  model load + seed (warm_up)", "warm_up_s")
    row("  stored vectors read", "read_s")
    row("  embedding (summed over both tasks)", "embed_s")
    row("  AG into the guard (set_items)", "load_s")
    row("  first check", "check_s", digits=3)
    row("  new vectors written back", "store_s")
    row("process spawn → ready (imports too)", "process_s")
    row("texts embedded", "embedded", "", 0)
    row("vectors stored afterwards", "stored", "", 0)
    row("RSS at ready (VmRSS)", "rss_mb", "MB", 0)
    row("peak RSS (ru_maxrss)", "peak_rss_mb", "MB", 0)
    warm = statistics.median(run["ready_s"] for run in runs["warm"])
    verdict = "met" if warm <= TARGET_READY_S else "NOT met"
    print(f"  warm start ready within {TARGET_READY_S:g} s of the watcher's start: {verdict}")
    hinted = ", ".join(
        f"{mode} {sum(run['hint'] is not None for run in runs[mode])}/{len(runs[mode])}" for mode in modes
    )
    print(f"  the message got its hint: {hinted} (item {first['hint']})")


# --------------------------------------------------------------------------------------------------
# Child: one start
# --------------------------------------------------------------------------------------------------


class CountingEmbedder:
    """Passes everything to the real embedder and counts the texts it embeds."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.embedded = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: Any) -> Any:
        self.embedded += len(texts)
        return self.inner.embed(texts)


def timed(spent: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` adding its run time to ``spent[name]`` (sync or async)."""
    if asyncio.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

        return timed_async

    @functools.wraps(function)
    def timed_sync(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

    return timed_sync


async def child(url: str, group_id: int, embedder_name: str, message: str) -> dict[str, Any]:
    """Start a watcher on the database, check one message of the AG, and measure."""
    database = Database(url)
    embedder = CountingEmbedder(load_embedder(embedder_name))
    guard = ReopenGuard(embedder)
    hints: list[Hint] = []

    async def deliver(_: Candidate, hint: Hint) -> None:
        hints.append(hint)

    watcher = ReopenWatcher(guard, database, SystemClock(), deliver)
    spent: dict[str, float] = {}
    guard.warm_up = timed(spent, "warm_up_s", guard.warm_up)  # type: ignore[method-assign]
    guard.set_items = timed(spent, "load_s", guard.set_items)  # type: ignore[method-assign]
    guard.embed = timed(spent, "embed_s", guard.embed)  # type: ignore[method-assign]
    guard.check = timed(spent, "check_s", guard.check)  # type: ignore[method-assign]
    watcher._store = timed(spent, "store_s", watcher._store)  # type: ignore[method-assign]
    vectors = watcher._vectors
    watcher._vectors = timed(spent, "vectors_s", vectors)  # type: ignore[method-assign]
    chat = ChatRef(Platform.CONSOLE, "group:bench", ChatKind.GROUP, "Bench")
    sender = UserRef(Platform.CONSOLE, "id-1", "M1", None)
    started = time.perf_counter()
    await watcher.start()
    watcher.offer(Candidate(group_id, chat, "1", message, sender))
    await watcher.drain()
    ready_s = time.perf_counter() - started
    ready_at = time.time()
    rss, peak = rss_mb()
    await watcher.stop()
    async with database.transaction() as session:
        stored = await session.scalar(select(func.count()).select_from(ReopenEmbedding))
    await database.dispose()
    for name in ("warm_up_s", "load_s", "embed_s", "check_s", "store_s", "vectors_s"):
        spent.setdefault(name, 0.0)
    return {
        "embedder": guard.embedder.name,
        "key": guard.vector_key,
        "ready_s": ready_s,
        "ready_at": ready_at,
        **spent,
        # _vectors reads stored vectors and embeds the missing ones (embed_s is inside it).
        "read_s": spent["vectors_s"] - spent["embed_s"],
        "embedded": embedder.embedded,
        "stored": stored,
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "hint": hints[0].item.number if hints else None,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        url, group_id, embedder, message = sys.argv[2:6]
        print(json.dumps(asyncio.run(child(url, int(group_id), embedder, message))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="decisions in the AG (default 10,000)")
    parser.add_argument("--embedder", default="auto", help="auto (default), use, e5 or lexical")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per mode (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, help="keep the database in this file (built on first use)")
    parser.add_argument(
        "--warm-only", action="store_true", help="only warm starts (with --db: no re-embedding)"
    )
    args = parser.parse_args()
    figures = startup_figures(args.items, args.embedder, args.repeat, args.seed, args.db, args.warm_only)
    print_startup_figures(figures)


if __name__ == "__main__":
    main()
