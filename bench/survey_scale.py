"""The Engagement-Erhebung in an AG of 1,000 members, on SQLite and PostgreSQL (issue 12).

Prints figures (no targets: the issue sets none):

* **the start**: ``/umfrage starten Engagement-Erhebung`` (koordination, in the AG's console chat,
  through ``Application.handle``) writes the survey, its jobs, the announcement in the AG's three
  chats (console, Telegram, Matrix) and one private invitation per member into the outbox. The
  time of that ``handle`` call, its parts and statements, the loop's largest delay, then the time
  until the stub messengers had every invitation. (Before it, one ``/umfrage`` warms the process
  up: catalogs loaded, common queries compiled, as in a bot that has been running.)
* **answers**: ``--respondents`` members each answer the whole survey in their private chat (the
  invitation's button ``/start umfrage-<id>``, then plain messages): persons and organisations;
  two respondents in ten name two activities, the first not voluntary ("freiwillig": nein), one
  in ten types a number the engine re-asks — 16 messages on average. Sequentially (one message after the
  other), then for as many other members with ``--tasks`` concurrent tasks (each task one
  respondent at a time, in order). Per-message latency p50 / p99 is the time of one ``handle``
  call; also the p50 of the first message (invitation and first question), of plain answers and
  of the last one (which submits and classifies), messages per second, the process's CPU and
  the SQL statements per message (a number that grows with the respondents would be an N+1).
  Afterwards every response is checked: finished, with the expected number of activities.
* **results and export** with ``--responses`` finished responses (default 1,000): ten members
  answer through the real conversation (one of each kind above); their stored ``answers`` are
  copied and varied (numbers, descriptions, kinds, a criterion answered "nein" now and then) for
  bulk inserts of the others. ``/umfrage ergebnis`` (text and chart) and ``/umfrage export`` (CSV
  and XLSX, sent privately), each in the AG's chat through ``handle`` until the last message
  reached its messenger, split into reading the responses, classification and summary, the
  result text, the chart (a thread), the files (a thread) and delivery; the first call of each
  and the median of ``--repeats`` further ones (the first export imports openpyxl). A probe task
  that sleeps 5 ms at a time records how long the event loop was blocked (the largest delay of a
  wake-up) while each command ran, and a ``gc.callbacks`` hook the longest garbage collection
  meanwhile (a full collection stops every thread, the loop's too, whichever thread allocated).
  The result text and the CSV are checked against activities, counted ones and hours computed
  here from the answers.
* **resident memory** (``VmRSS``) once ready, with the responses loaded, after results and
  export, and the peak (``VmHWM``).

The polls component's chart warm-up runs at start as in the bot (matplotlib is loaded before the
first chart). The reopen guard runs on the ``lexical`` embedder (``options={"reopen.guard": …}``).
Every run is a fresh process on a freshly populated database (people and memberships with
SQLAlchemy Core bulk inserts; PostgreSQL gets ``ANALYZE``, the bulk-inserted responses too);
figures are medians of ``--runs`` with the range of the runs in brackets.

Usage: .venv/bin/python bench/survey_scale.py [--members 1000] [--respondents 100] [--tasks 4]
           [--responses 1000] [--repeats 2] [--runs 3]
           [--pg postgresql://postgres@127.0.0.1:5432/bench_survey] [--skip-pg] [--profile DIR]
           [--show-statements]
(≈ 5 minutes with PostgreSQL on 2 cores.) The PostgreSQL database must exist (``psql -h 127.0.0.1
-U postgres -c "create database bench_survey"``); its public schema is dropped and recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import json
import math
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# Only the standard library at the top (poll_scale's too): the parent stays small. The AG, its
# members (k + 1 is member k's person id; 0 is the koordination), the stub messengers and the
# spans are poll_scale's, so both benchmarks run on the same population.
from poll_scale import CHAT_IDS, GROUP_ID, PLATFORMS, Spans, StubMessenger, member, pct, populate, rss

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_survey"
START = "/umfrage starten Engagement-Erhebung"
KINDS = ("Stiftung", "Kommune", "Verein", "Unternehmen", "Schule", "Andere")
KIND_IDS = ("stiftung", "kommune", "verein", "unternehmen", "schule", "andere")
VARIANTS = 10  # respondent k answers like variant k % 10 (see ``script``)
DESCRIPTION = re.compile(r"^activity\.\d+\.description$")
PROBE_S = 0.005
RESULT = "RESULT "


# --------------------------------------------------------------------------------------------------
# What respondents type
# --------------------------------------------------------------------------------------------------


def script(k: int, survey_id: int) -> tuple[list[tuple[str, str]], int]:
    """The messages member ``k`` types to answer, each tagged first/answer/last, and the number
    of activities the response will have.

    Variants (``k % 10``): 0–3 a person with one activity of time; 4–6 an organisation funding
    one (money, indirect); 7–8 a person with two, the first (time and goods) not voluntary, the
    second money; 9 an organisation with one activity of time whose hours are first typed in
    words (re-asked).
    """
    rng = random.Random(k)
    variant = k % VARIANTS
    yes5 = ["ja"] * 5
    hours = f"{rng.randint(2, 60)},5"
    typed: list[str] = []
    activities = 1
    if variant in (4, 5, 6, 9):
        typed += ["2", f"Organisation {k}", rng.choice(KINDS)]
    else:
        typed += ["1"]
    if variant <= 3:
        typed += [f"Hausaufgabenhilfe {k}", "direkt", "Zeit", hours, str(rng.randint(1, 6)), *yes5, "nein"]
    elif variant <= 6:
        typed += [f"Förderung des Jugendtreffs {k}", "2", "Geld", f"{rng.randint(1, 40)}.000", *yes5, "nein"]
    elif variant <= 8:
        activities = 2
        typed += [f"Pflichtstunden {k}", "1", "1, 3", hours, "1", "Werkzeug", "300"]
        typed += ["ja", "nein", "ja", "ja", "ja", "ja"]  # not voluntary; another activity: yes
        typed += [f"Spende an die Tafel {k}", "2", "Geld", f"{rng.randint(50, 900)},00 €", *yes5, "nein"]
    else:
        typed += [f"Lesepaten {k}", "direkt", "Zeit", "viel", hours, "3", *yes5, "nein"]
    messages = [("first", f"/start umfrage-{survey_id}")]
    messages += [("answer", text) for text in typed[:-1]]
    messages.append(("last", typed[-1]))
    return messages, activities


def respondent_events(k: int, survey_id: int) -> tuple[list[tuple[str, Any]], int]:
    """``script`` as incoming private messages."""
    from bot.core.events import ChatKind, ChatRef, IncomingMessage, Platform, UserRef

    _, platform, ext, name = member(k)
    user = UserRef(Platform(platform), ext, name)
    chat = ChatRef(Platform(platform), ext, ChatKind.PRIVATE, name)
    messages, activities = script(k, survey_id)
    events = [(tag, IncomingMessage(chat, user, text, f"m{k}-{n}")) for n, (tag, text) in enumerate(messages)]
    return events, activities


async def analyze(database: Any) -> None:
    from sqlalchemy import text

    async with database.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))


# --------------------------------------------------------------------------------------------------
# The bot's process: helpers
# --------------------------------------------------------------------------------------------------


class Statements:
    """Counts the SQL statements the engine sends while active."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count = 0
        self.texts: list[str] = []
        self.keep = False
        self._engine = engine.sync_engine
        self._event = event
        event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.count += 1
        if self.keep:
            self.texts.append(" ".join(statement.split())[:90])

    def close(self) -> None:
        self._event.remove(self._engine, "before_cursor_execute", self._seen)


class LagProbe:
    """A task that sleeps ``PROBE_S`` at a time: how late it wakes is how long the loop was busy.

    The garbage collector's pauses are recorded too: a full collection stops every thread, the
    loop's included, whichever thread triggered it (e.g. openpyxl's allocations in the export's).
    """

    def __init__(self) -> None:
        self.max_s = 0.0
        self.gc_max_s = 0.0
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(PROBE_S)
            late = time.perf_counter() - started - PROBE_S
            self.max_s = max(self.max_s, late)

    def _gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_max_s = max(self.gc_max_s, time.perf_counter() - self._gc_started)

    async def __aenter__(self) -> LagProbe:
        gc.callbacks.append(self._gc)
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)  # let it take its first time
        return self

    async def __aexit__(self, *_: Any) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        gc.callbacks.remove(self._gc)


async def bot(url: str) -> tuple[Any, Any, list[tuple[float, Any]], dict[str, Any], Any]:
    """The application on ``url`` with stub messengers on the three platforms, resumed as
    ``kuemmerer run`` does (components started; the polls component's chart warm-up awaited)."""
    from bot.app import Application
    from bot.core.events import ChatKind, ChatRef, IncomingMessage, Platform, UserRef
    from bot.core.ports import SystemClock
    from bot.core.throttle import UNLIMITED
    from bot.services.embeddings import load_embedder
    from bot.services.reopen import ReopenGuard
    from storage import Database

    database = Database(url)
    guard = ReopenGuard(load_embedder("lexical"))
    app = Application(database, clock=SystemClock(), options={"reopen.guard": guard})
    await app.start()
    log: list[tuple[float, Any]] = []
    for platform in PLATFORMS:
        app.attach(StubMessenger(Platform(platform), log), limits=UNLIMITED)
    await app.resume()
    warm_up = app.component("polls")._task  # internal, awaited for a steady start only
    if warm_up is not None:
        await warm_up
    chats = {p: ChatRef(Platform(p), CHAT_IDS[p], ChatKind.GROUP, f"AG Bildung ({p})") for p in PLATFORMS}
    _, _, coordinator_id, coordinator_name = member(0)
    coordinator = UserRef(Platform.CONSOLE, coordinator_id, coordinator_name)
    # A bot that has been running: catalogs loaded, the common queries compiled.
    await app.handle(IncomingMessage(chats["console"], coordinator, "/umfrage", "warm-up"))
    await app.outbox.drain()
    return app, database, log, chats, coordinator


async def start_survey(app: Any, chats: dict[str, Any], coordinator: Any) -> dict[str, float]:
    """``/umfrage starten`` until every invitation reached its messenger."""
    import bot.jobs.surveys as jobs
    from bot.core.events import IncomingMessage
    from bot.services.surveys import SurveyService

    spans = Spans()
    spans.wrap(SurveyService, "start", "survey")
    spans.wrap(jobs, "invitations", "invitations")
    spans.wrap(app.outbox, "enqueue", "enqueue")
    counter = Statements(app.db.engine)
    try:
        async with LagProbe() as probe:
            started = time.perf_counter()
            await app.handle(IncomingMessage(chats["console"], coordinator, START, "start"))
            handled = time.perf_counter()
            statements = counter.count
            await app.outbox.drain()
            delivered = time.perf_counter()
    finally:
        counter.close()
        spans.undo()
    return {
        "handle_ms": (handled - started) * 1000,
        "survey_ms": spans.total("survey") * 1000,
        "invitations_ms": spans.total("invitations") * 1000,
        "enqueue_ms": spans.total("enqueue") * 1000,
        "statements": statements,
        "deliver_s": delivered - handled,
        "lag_ms": probe.max_s * 1000,
        "gc_ms": probe.gc_max_s * 1000,
    }


async def survey_id(app: Any) -> int:
    from sqlalchemy import select

    from storage.models import Survey

    async with app.db.transaction() as session:
        found = await session.scalar(select(Survey.id).where(Survey.group_id == GROUP_ID))
    if found is None:
        raise RuntimeError("the survey was not started")
    return found


async def responses(app: Any, sid: int) -> dict[int, tuple[str, dict[str, Any]]]:
    """person id -> (status, answers) of the survey's responses."""
    from sqlalchemy import select

    from storage.models import SurveyResponse

    async with app.db.transaction() as session:
        rows = await session.execute(
            select(SurveyResponse.person_id, SurveyResponse.status, SurveyResponse.answers).where(
                SurveyResponse.survey_id == sid
            )
        )
        return {pid: (status.value, answers) for pid, status, answers in rows}


# --------------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------------


async def answer_all(app: Any, people: list[int], sid: int, tasks: int) -> dict[str, float]:
    """Every member in ``people`` answers the whole survey; ``tasks`` respondents at a time."""
    latencies: dict[str, list[float]] = {"first": [], "answer": [], "last": []}
    expected: dict[int, int] = {}
    scripts = []
    for k in people:
        events, activities = respondent_events(k, sid)
        scripts.append(events)
        expected[member(k)[0]] = activities
    queue = iter(scripts)

    async def worker() -> None:
        for events in queue:
            for tag, event in events:
                started = time.perf_counter()
                await app.handle(event)
                latencies[tag].append(time.perf_counter() - started)

    counter = Statements(app.db.engine)
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    counter.close()
    await app.outbox.drain()
    stored = await responses(app, sid)
    for pid, activities in expected.items():
        status, answers = stored.get(pid, ("missing", {}))
        found = sum(1 for key in answers if DESCRIPTION.match(key))
        if status != "finished" or found != activities:
            raise RuntimeError(f"person {pid}: response {status} with {found} activities, not {activities}")
    every = [v for values in latencies.values() for v in values]
    return {
        "messages": len(every),
        "per_respondent": len(every) / len(people),
        "per_s": len(every) / elapsed,
        "elapsed": elapsed,
        "cpu_ms": cpu / len(every) * 1000,
        "statements": counter.count / len(every),
        "p50_ms": statistics.median(every) * 1000,
        "p99_ms": pct(every, 99) * 1000,
        "max_ms": max(every) * 1000,
        "first_ms": statistics.median(latencies["first"]) * 1000,
        "answer_ms": statistics.median(latencies["answer"]) * 1000,
        "last_ms": statistics.median(latencies["last"]) * 1000,
    }


async def one_answer_statements(app: Any, k: int, sid: int) -> list[str]:
    """The statements of member ``k``'s answers up to the first criterion (``--show-statements``)."""
    events, _ = respondent_events(k, sid)
    counter = Statements(app.db.engine)
    for _, event in events[:5]:
        await app.handle(event)
    counter.keep = True
    await app.handle(events[5][1])
    counter.close()
    for _, event in events[6:]:
        await app.handle(event)
    return counter.texts


async def answers_child(args: argparse.Namespace) -> dict[str, Any]:
    app, database, _, chats, coordinator = await bot(args.url)
    result: dict[str, Any] = {"rss_answers_ready": rss()["VmRSS"]}
    result["start"] = await start_survey(app, chats, coordinator)
    sid = await survey_id(app)
    n = args.respondents
    if 2 * n + 2 > args.members:
        raise SystemExit("--respondents: at most (members - 2) / 2")
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    result["seq"] = await answer_all(app, list(range(1, n + 1)), sid, 1)
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile)
    result["conc"] = await answer_all(app, list(range(n + 1, 2 * n + 1)), sid, args.tasks)
    if args.show_statements:
        result["statements"] = await one_answer_statements(app, 2 * n + 1, sid)
    await app.drain()
    result["rss_answers"] = rss()["VmRSS"]
    await app.stop()
    await database.dispose()
    return result


# --------------------------------------------------------------------------------------------------
# Results and export
# --------------------------------------------------------------------------------------------------


def varied(k: int, answers: dict[str, Any]) -> dict[str, Any]:
    """Another respondent's answers like ``answers``: other numbers, texts and kinds, and now and
    then a criterion answered "nein"."""
    rng = random.Random(10_000 + k)
    result = copy.deepcopy(answers)
    for key, value in answers.items():
        last = key.rsplit(".", 1)[-1]
        if key == "org_name":
            result[key] = f"Organisation {k}"
        elif key == "org_kind":
            result[key] = rng.choice(KIND_IDS)
        elif last == "description":
            result[key] = f"Tätigkeit {k}-{key.split('.')[1]}: Hausaufgabenhilfe im Stadtteilzentrum"
        elif last == "hours":
            result[key] = rng.randint(2, 160) / 2
        elif last == "people":
            result[key] = rng.randint(1, 8)
        elif last in ("money", "goods_value"):
            amount = rng.randint(5, 4000) * 5
            result[key] = amount if isinstance(value, int) else float(amount)
        elif ".crit." in key and value is True and rng.random() < 0.03:
            result[key] = False
    return result


def expected_figures(all_answers: list[dict[str, Any]]) -> tuple[int, int, float]:
    """Activities, counted activities and their hours, computed here from the answers."""
    activities = counted = 0
    hours = 0.0
    for answers in all_answers:
        for key in answers:
            if not DESCRIPTION.match(key):
                continue
            prefix = key[: -len("description")]
            activities += 1
            crits = [v for c, v in answers.items() if c.startswith(prefix + "crit.")]
            if len(crits) == 5 and all(v is True for v in crits):
                counted += 1
                hours += answers.get(prefix + "hours") or 0
    return activities, counted, hours


async def insert_responses(app: Any, sid: int, members: list[int], templates: dict[int, dict]) -> None:
    """Finished responses of ``members``, varied from the real ones, written directly."""
    from sqlalchemy import insert, select

    from bot.services.surveys import SurveyService
    from storage.models import ResponseStatus, Survey, SurveyResponse

    now = datetime.now(UTC)
    async with app.db.transaction() as session:
        survey = await session.scalar(select(Survey).where(Survey.id == sid))
        rows = []
        for k in members:
            pid = member(k)[0]
            rows.append(
                {
                    "survey_id": sid,
                    "respondent_key": SurveyService.respondent_key(survey, SimpleNamespace(id=pid)),
                    "person_id": pid,
                    "status": ResponseStatus.FINISHED,
                    "answers": varied(k, templates[k % VARIANTS]),
                    "draft": None,
                    "cursor": None,
                    "editing": False,
                    "active": False,
                    "started_at": now - timedelta(minutes=5),
                    "finished_at": now,
                }
            )
        for start in range(0, len(rows), 500):
            await session.execute(insert(SurveyResponse.__table__), rows[start : start + 500])


async def command(
    app: Any, chat: Any, coordinator: Any, text: str, log: list[tuple[float, Any]], spans: Spans
) -> dict[str, float]:
    """One command through ``handle`` until its last message reached a messenger, with the
    loop's largest delay meanwhile."""
    from bot.core.events import IncomingMessage

    counter = Statements(app.db.engine)
    before = len(log)
    async with LagProbe() as probe:
        started = time.perf_counter()
        await app.handle(IncomingMessage(chat, coordinator, text, f"cmd-{started}"))
        handled = time.perf_counter()
        await app.outbox.drain()
    counter.close()
    sent = log[before:]
    attachments = [m.attachment for _, m in sent if m.attachment is not None]
    last = max(at for at, _ in sent)
    submitted = spans.spans["submit"][-1][0]
    enqueue = spans.spans["enqueue"][-1]
    return {
        "total_ms": (last - started) * 1000,
        "handle_ms": (handled - started) * 1000,
        "lag_ms": probe.max_s * 1000,
        "gc_ms": probe.gc_max_s * 1000,
        "statements": counter.count,
        "enqueue_ms": (enqueue[1] - enqueue[0]) * 1000,
        "commit_ms": (submitted - enqueue[1]) * 1000,
        "deliver_ms": (last - submitted) * 1000,
        "attachments": len(attachments),
        "kb": sum(len(a.data) for a in attachments) / 1024,
        "_texts": [m.markup.plain() for _, m in sent if m.attachment is None],
    }


async def measured(app: Any, chats: dict, coordinator: Any, log: list, which: str) -> dict[str, float]:
    """``/umfrage ergebnis`` or ``/umfrage export``, with the time of each part."""
    import bot.handlers.surveys as handler
    import bot.jobs.survey_report as report
    from bot.services import survey_export as export
    from bot.services.surveys import SurveyService

    parts = [(SurveyService, "finished", "read"), (report, "evaluate", "evaluate")]
    if which == "ergebnis":
        parts += [(report, "result", "text"), (SurveyService, "progress", "progress")]
        parts += [(report, "chart", "chart"), (export, "result_chart", "render")]
    else:
        parts += [(handler, "_files", "files"), (export, "to_csv", "csv"), (export, "to_xlsx", "xlsx")]
    spans = Spans()
    for owner, name, key in parts:
        spans.wrap(owner, name, key)
    spans.wrap(app.outbox, "enqueue", "enqueue")
    spans.wrap(app.outbox, "submit", "submit")
    try:
        figures = await command(app, chats["console"], coordinator, f"/umfrage {which}", log, spans)
    finally:
        spans.undo()
    if figures["attachments"] != (1 if which == "ergebnis" else 2):
        raise RuntimeError(f"/umfrage {which}: {figures['attachments']} attachments")
    for _, _, key in parts:
        figures[f"{key}_ms"] = spans.total(key) * 1000
    return figures


def first_and_rest(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    numbers = [{k: v for k, v in run.items() if not k.startswith("_")} for run in runs]
    rest = (
        {key: statistics.median(r[key] for r in numbers[1:]) for key in numbers[0]} if len(runs) > 1 else {}
    )
    return {"first": numbers[0], "again": rest}


async def results_child(args: argparse.Namespace) -> dict[str, Any]:
    app, database, log, chats, coordinator = await bot(args.url)
    result: dict[str, Any] = {"rss_ready": rss()["VmRSS"]}
    if args.responses > args.members:
        raise SystemExit("--responses: at most --members")
    await start_survey(app, chats, coordinator)
    sid = await survey_id(app)
    real = list(range(1, VARIANTS + 1))
    for k in real:
        events, _ = respondent_events(k, sid)
        for _, event in events:
            await app.handle(event)
    await app.outbox.drain()
    stored = await responses(app, sid)
    templates = {k % VARIANTS: stored[member(k)[0]][1] for k in real}
    others = [k for k in range(args.members) if k not in real][: args.responses - len(real)]
    started = time.perf_counter()
    await insert_responses(app, sid, others, templates)
    if not database.is_sqlite:
        await analyze(database)
    result["insert_s"] = time.perf_counter() - started
    all_answers = [stored[member(k)[0]][1] for k in real] + [
        varied(k, templates[k % VARIANTS]) for k in others
    ]
    activities, counted, hours = expected_figures(all_answers)
    result["activities"], result["counted"] = activities, counted
    result["rss_loaded"] = rss()["VmRSS"]

    ergebnis = [await measured(app, chats, coordinator, log, "ergebnis") for _ in range(1 + args.repeats)]
    said = re.search(r"Tätigkeiten: ([\d.]+) – gezählt: ([\d.]+),", "\n".join(ergebnis[0]["_texts"]))
    if said is None or [int(g.replace(".", "")) for g in said.groups()] != [activities, counted]:
        raise RuntimeError(f"/umfrage ergebnis does not say {activities} activities, {counted} counted")
    exports = [await measured(app, chats, coordinator, log, "export") for _ in range(1 + args.repeats)]
    await check_csv(log, activities, counted, hours)
    result["ergebnis"] = first_and_rest(ergebnis)
    result["export"] = first_and_rest(exports)
    await app.drain()
    figures = rss()
    result["rss_end"], result["rss_peak"] = figures["VmRSS"], figures["VmHWM"]
    await app.stop()
    await database.dispose()
    return result


async def check_csv(log: list[tuple[float, Any]], activities: int, counted: int, hours: float) -> None:
    """The last CSV has every activity, the counted ones and their hours as computed here."""
    import csv
    import io

    data = next(
        m.attachment.data for _, m in reversed(log) if m.attachment and m.attachment.filename.endswith(".csv")
    )
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))[1:]
    yes = [r for r in rows if r[11] == "ja"]
    total = math.fsum(float(r[6].replace(",", ".")) for r in yes if r[6])
    if len(rows) != activities or len(yes) != counted or abs(total - hours) > 1e-6:
        raise RuntimeError(
            f"CSV: {len(rows)} activities, {len(yes)} counted, {total} h; "
            f"expected {activities}, {counted}, {hours} h"
        )


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


def flatten(prefix: str, values: dict[str, Any], into: dict[str, list[float]]) -> None:
    for key, value in values.items():
        if isinstance(value, dict):
            flatten(f"{prefix}{key}_", value, into)
        elif isinstance(value, int | float):
            into.setdefault(f"{prefix}{key}", []).append(float(value))


def run_database(name: str, url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    common = ["--url", url, "--members", str(args.members)]
    for run in range(args.runs):
        spawn("--populate", *common)
        profile = f"{args.profile}/answers-{name}-{run}.prof" if args.profile else None
        a = spawn(
            "--child",
            "answers",
            *common,
            "--respondents",
            str(args.respondents),
            "--tasks",
            str(args.tasks),
            *(["--profile", profile] if profile else []),
            *(["--show-statements"] if args.show_statements and run == 0 else []),
        )
        flatten("", a, figures)
        spawn("--populate", *common)
        r = spawn(
            "--child", "results", *common, "--responses", str(args.responses), "--repeats", str(args.repeats)
        )
        flatten("", r, figures)
        s, c, e, x = a["seq"], a["conc"], r["ergebnis"], r["export"]
        print(
            f"  {name} run {run + 1}: start {a['start']['handle_ms']:.0f} ms; answers sequential "
            f"{s['per_s']:.0f}/s (p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms), {args.tasks} tasks "
            f"{c['per_s']:.0f}/s (p50 {c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms); ergebnis "
            f"{e['first']['total_ms']:.0f}/{e['again']['total_ms']:.0f} ms (loop blocked ≤ "
            f"{e['again']['lag_ms']:.0f} ms), export "
            f"{x['first']['total_ms']:.0f}/{x['again']['total_ms']:.0f} ms "
            f"(≤ {x['again']['lag_ms']:.0f} ms); RSS {r['rss_end']:.0f} MB",
            flush=True,
        )
        if "statements" in a:
            print("  statements of one answer (the description of an activity):")
            for line in a["statements"]:
                print(f"    {line}")
        if profile and run == 0:
            import pstats

            print("  profile of the sequential answers (tottime, top 25)")
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return figures


PARTS = {
    "ergebnis": (
        ("read", "read responses"),
        ("evaluate", "classify + summarize (thread)"),
        ("text", "result text"),
        ("progress", "progress (members)"),
        ("chart", "chart (thread)"),
    ),
    "export": (
        ("read", "read responses"),
        ("evaluate", "classify + summarize (thread)"),
        ("files", "files (thread)"),
        ("csv", "  of which CSV"),
        ("xlsx", "  of which XLSX"),
    ),
}


def report(results: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    names = list(results)
    width = 26

    def cell(name: str, key: str, fmt: str) -> str:
        values = results[name][key]
        median = fmt.format(statistics.median(values))
        return (
            f"{median} ({fmt.format(min(values))}–{fmt.format(max(values))})" if len(values) > 1 else median
        )

    def row(title: str, key: str, fmt: str = "{:.0f}") -> None:
        print(f"  {title:46s}" + "".join(f"{cell(n, key, fmt):>{width}s}" for n in names))

    first = {key: statistics.median(values) for key, values in results[names[0]].items()}
    print(
        f"\nmedians of {args.runs} runs (range of the runs); 1 AG, {args.members:,} members in 3 linked "
        "chats (console/telegram/matrix stubs); reopen guard: lexical"
    )
    print(f"  {'':46s}" + "".join(f"{n:>{width}s}" for n in names))
    row("/umfrage starten: handle (ms)", "start_handle_ms")
    row("  survey and jobs (ms)", "start_survey_ms")
    row(f"  {args.members:,} invitations built (ms)", "start_invitations_ms")
    row("  outbox rows (ms)", "start_enqueue_ms")
    row("  statements", "start_statements")
    row("  loop blocked at most, until delivered (ms)", "start_lag_ms")
    row("  longest GC pause meanwhile (ms)", "start_gc_ms")
    row("  invitations delivered after (s)", "start_deliver_s", "{:.1f}")
    for prefix, title in (("seq_", "sequentially"), ("conc_", f"with {args.tasks} concurrent tasks")):
        print(
            f"  answers {title}: {args.respondents} respondents, "
            f"{first[prefix + 'per_respondent']:.1f} messages each"
        )
        row("  messages per second", f"{prefix}per_s")
        for key, label in (
            ("p50", "per message p50"),
            ("p99", "per message p99"),
            ("first", "  p50 of the first message (/start)"),
            ("answer", "  p50 of plain answers"),
            ("last", "  p50 of the last one (submits)"),
            ("cpu", "CPU of the process per message"),
        ):
            row(f"  {label} (ms)", f"{prefix}{key}_ms", "{:.1f}")
        row("  statements per message", f"{prefix}statements", "{:.1f}")
    print(
        f"  {args.responses:,} finished responses ({first['activities']:.0f} activities, "
        f"{first['counted']:.0f} counted); the first call, then the median of {args.repeats} more"
    )
    for command, parts in PARTS.items():
        for call in ("first", "again"):
            key = f"{command}_{call}_"
            row(f"/umfrage {command}, {call} call (ms)", f"{key}total_ms")
            row("  loop blocked at most (ms)", f"{key}lag_ms")
            row("  longest GC pause meanwhile (ms)", f"{key}gc_ms")
            for part, label in parts:
                if call == "again" or part in ("read", "evaluate", "chart", "xlsx"):
                    row(f"  {label} (ms)", f"{key}{part}_ms")
            if call == "again":
                row("  outbox rows (ms)", f"{key}enqueue_ms", "{:.1f}")
                row("  commit (ms)", f"{key}commit_ms", "{:.1f}")
                row("  delivery, after the commit (ms)", f"{key}deliver_ms", "{:.1f}")
                row("  statements", f"{key}statements")
                row("  attachments (kB)", f"{key}kb")
    row("RSS of the results process: ready (MB)", "rss_ready")
    row("  with the responses written (MB)", "rss_loaded")
    row("  after results and export (MB)", "rss_end")
    row("  peak, VmHWM (MB)", "rss_peak")
    row("RSS of the answers process at its end (MB)", "rss_answers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000, help="members of the AG (1,000)")
    parser.add_argument("--respondents", type=int, default=100, help="respondents per answer phase (100)")
    parser.add_argument("--tasks", type=int, default=4, help="concurrent tasks of the second phase (4)")
    parser.add_argument("--responses", type=int, default=1000, help="finished responses for results (1,000)")
    parser.add_argument("--repeats", type=int, default=2, help="calls of each command after the first (2)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=DEFAULT_PG, help=f"PostgreSQL URL (default {DEFAULT_PG})")
    parser.add_argument("--skip-pg", action="store_true", help="SQLite only")
    parser.add_argument("--profile", metavar="DIR", help="cProfile the sequential answers; stats go to DIR")
    parser.add_argument("--show-statements", action="store_true", help="list the SQL of one answer")
    # The processes of a run:
    parser.add_argument("--populate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("answers", "results"), help=argparse.SUPPRESS)
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
        run = answers_child if args.child == "answers" else results_child
        print(RESULT + json.dumps(asyncio.run(run(args))), flush=True)
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
