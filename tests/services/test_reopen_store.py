"""Stored embeddings of the reopen guard: a restart reads them instead of embedding again.

The guard takes vectors computed before and tells which texts it lacks (pure, no database); the
watcher reads stored vectors for an AG's texts, embeds only the missing ones and writes those
back. An embedder that records every text it embeds shows what was (not) embedded.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date

import numpy as np
import pytest
from sqlalchemy import func, select, update

from bot.core.events import ChatKind, ChatRef, Platform, UserRef
from bot.core.ports import ManualClock
from bot.services.embeddings import LexicalEmbedder
from bot.services.hints import ItemChanged
from bot.services.reopen import Hint, ReopenGuard, SettledItem, text_digest

# The generic seed only: these tests are about storing vectors, not about what the chat data teaches.
from bot.services.reopen_seed import SCENARIOS  # noqa: E402
from bot.services.reopen_watch import Candidate, ReopenWatcher
from storage import Database
from storage.models import Decision, DecisionStatus, Goal, GoalStatus, ReopenEmbedding, WorkingGroup
from storage.repositories.reopen_embeddings import EmbeddingRepository

DECISIONS = [
    "Das Nachbarschaftscafé öffnet jeden Donnerstag von 15 bis 18 Uhr.",
    "Wir erheben keine Mitgliedsbeiträge; die Arbeit wird über Spenden finanziert.",
    "Der Schwerpunkt der AG liegt auf Hilfe im Alltag für ältere Menschen.",
]
GOALS = ["Bis Ende 2026 gründen wir eine Fahrgemeinschaft für Arztbesuche älterer Nachbarn."]
CHALLENGE = "Warum eigentlich donnerstags? Ich würde das Nachbarschaftscafé lieber auf Samstag legen."


class RecordingEmbedder:
    """Lexical vectors under a model's key, stored like a model's; counts every text it embeds.

    ``flip`` turns the vectors around, so that two keys give different vectors for one text.
    """

    name = "lexical"  # the guard's tuning for these vectors
    store_vectors = True

    def __init__(self, key: str = "fake-a/256", flip: bool = False) -> None:
        self.inner = LexicalEmbedder(256)
        self.key = key
        self.dim = 256
        self.sign = -1.0 if flip else 1.0
        self.seen: Counter[str] = Counter()

    def embed(self, texts):  # noqa: ANN001, ANN201 - protocol signature
        self.seen.update(texts)
        return (self.sign * self.inner.embed(texts)).astype(np.float32)


async def make_ag(database: Database, clock: ManualClock) -> tuple[int, list[int]]:
    """An AG with DECISIONS and GOALS; returns its id and the decisions' ids."""
    async with database.transaction() as session:
        group = WorkingGroup(name="AG Nachbarschaft", created_at=clock.now())
        session.add(group)
        await session.flush()
        decisions = [
            Decision(
                group_id=group.id,
                number=n,
                text=text,
                search_text=text.casefold(),
                status=DecisionStatus.ACTIVE,
                decided_on=date(2026, 1, n),
                created_at=clock.now(),
            )
            for n, text in enumerate(DECISIONS, start=1)
        ]
        session.add_all(decisions)
        session.add_all(
            Goal(group_id=group.id, number=n, text=text, status=GoalStatus.ACTIVE, created_at=clock.now())
            for n, text in enumerate(GOALS, start=1)
        )
        await session.flush()
        return group.id, [d.id for d in decisions]


def candidate(group_id: int, text: str = CHALLENGE, message_id: str = "1") -> Candidate:
    chat = ChatRef(Platform.CONSOLE, "group:ag", ChatKind.GROUP, "AG")
    return Candidate(group_id, chat, message_id, text, UserRef(Platform.CONSOLE, "id-ben", "Ben", None))


@pytest.fixture
async def watchers() -> AsyncIterator[list[ReopenWatcher]]:
    """The watchers a test started; stopped at its end."""
    started: list[ReopenWatcher] = []
    yield started
    for watcher in started:
        await watcher.stop()


async def run_once(
    embedder: RecordingEmbedder | LexicalEmbedder,
    database: Database,
    clock: ManualClock,
    group_id: int,
    watchers: list[ReopenWatcher],
) -> tuple[ReopenGuard, ReopenWatcher, list[Hint]]:
    """A fresh guard and watcher (as after a restart) checking one message of the AG."""
    guard = ReopenGuard(embedder, seed=SCENARIOS)
    hints: list[Hint] = []

    async def deliver(_: Candidate, hint: Hint) -> None:
        hints.append(hint)

    watcher = ReopenWatcher(guard, database, clock, deliver)
    watchers.append(watcher)
    assert watcher.offer(candidate(group_id))
    await watcher.drain()
    return guard, watcher, hints


async def stored(database: Database, model: str | None = None) -> int:
    async with database.transaction() as session:
        query = select(func.count()).select_from(ReopenEmbedding)
        if model is not None:
            query = query.where(ReopenEmbedding.model == model)
        return await session.scalar(query) or 0


# --------------------------------------------------------------------------------- the guard alone


def test_the_guard_takes_given_vectors_and_names_what_it_lacks() -> None:
    items = [SettledItem(n, "decision", n, text) for n, text in enumerate(DECISIONS, start=1)]
    source = RecordingEmbedder()
    vectors = {text_digest(t): v for t, v in zip(DECISIONS, source.embed(DECISIONS), strict=True)}
    embedder = RecordingEmbedder()
    guard = ReopenGuard(embedder, seed=SCENARIOS)
    assert guard.needed(1, items) == {text_digest(t): t for t in DECISIONS}
    guard.set_items(1, items, vectors=vectors)
    assert embedder.seen == Counter()  # nothing embedded
    assert guard.needed(1, items) == {}
    edited = SettledItem(2, "decision", 2, "Wir erheben einen Mitgliedsbeitrag von 12 Euro im Jahr.")
    assert guard.needed(1, [edited]) == {text_digest(edited.text): edited.text}
    guard.upsert_item(1, edited, source.embed([edited.text])[0])
    assert embedder.seen == Counter()
    # Vectors of another dimension are ignored: those texts are embedded.
    other = ReopenGuard(embedder, seed=SCENARIOS)
    other.set_items(1, items, vectors={d: v[:100] for d, v in vectors.items()})
    assert embedder.seen == Counter(DECISIONS)
    assert np.array_equal(other._groups[1].item_vectors, source.embed(DECISIONS))


def test_warm_up_takes_the_seeds_vectors() -> None:
    first = RecordingEmbedder()
    guard = ReopenGuard(first, seed=SCENARIOS)
    needed = guard.needed_seed()
    assert len(needed) > 100 and first.seen == Counter()
    vectors = dict(zip(needed, guard.embed(list(needed.values())), strict=True))
    second = RecordingEmbedder()
    warmed = ReopenGuard(second, seed=SCENARIOS)
    warmed.warm_up(vectors)
    assert second.seen == Counter() and warmed.needed_seed() == {}
    guard.warm_up()
    assert warmed._baseline == pytest.approx(guard._baseline, abs=1e-6)
    assert np.allclose(warmed._seed_classifier[0], guard._seed_classifier[0], atol=1e-5)


# --------------------------------------------------------------------------------- with the database


async def test_a_restart_does_not_embed_stored_texts_again(
    database: Database, clock: ManualClock, watchers: list[ReopenWatcher]
) -> None:
    group_id, _ = await make_ag(database, clock)
    first = RecordingEmbedder()
    guard, _, hints = await run_once(first, database, clock, group_id, watchers)
    items = DECISIONS + GOALS
    assert all(first.seen[t] == 1 for t in items)
    seed = len(ReopenGuard(RecordingEmbedder(), seed=SCENARIOS).needed_seed())
    assert await stored(database) == len(items) + seed  # the AG's items and the seed
    assert [h.item.number for h in hints] == [1]

    second = RecordingEmbedder()
    again, _, hints_again = await run_once(second, database, clock, group_id, watchers)
    assert set(second.seen) <= {CHALLENGE}  # only the message itself: items and seed were read
    assert np.array_equal(again._groups[group_id].item_vectors, guard._groups[group_id].item_vectors)
    assert hints_again == hints
    assert await stored(database) == len(items) + seed


async def test_a_changed_text_is_embedded_once(
    database: Database, clock: ManualClock, watchers: list[ReopenWatcher]
) -> None:
    group_id, decision_ids = await make_ag(database, clock)
    embedder = RecordingEmbedder()
    guard, watcher, _ = await run_once(embedder, database, clock, group_id, watchers)
    edited = "Das Nachbarschaftscafé öffnet jeden Samstag von 10 bis 13 Uhr."
    async with database.transaction() as session:
        await session.execute(update(Decision).where(Decision.id == decision_ids[0]).values(text=edited))
    for n in range(2):  # the same change reported twice: the second finds the text known
        watcher.apply([ItemChanged(group_id, "decision", decision_ids[0])])
        assert watcher.offer(candidate(group_id, "Wie läuft es im Nachbarschaftscafé?", f"m{n}"))
        await watcher.drain()
    assert embedder.seen[edited] == 1
    assert edited in [item.text for item in guard.items(group_id)]

    restarted = RecordingEmbedder()
    await run_once(restarted, database, clock, group_id, watchers)
    assert restarted.seen[edited] == 0 and restarted.seen[DECISIONS[1]] == 0


async def test_two_models_do_not_mix(
    database: Database, clock: ManualClock, watchers: list[ReopenWatcher]
) -> None:
    group_id, _ = await make_ag(database, clock)
    model_a = RecordingEmbedder("fake-a/256")
    await run_once(model_a, database, clock, group_id, watchers)
    model_b = RecordingEmbedder("fake-b/256", flip=True)
    guard_b, _, _ = await run_once(model_b, database, clock, group_id, watchers)
    assert all(model_b.seen[t] == 1 for t in DECISIONS + GOALS)  # nothing read from model A's rows
    own = RecordingEmbedder(flip=True).embed([item.text for item in guard_b.items(group_id)])
    assert np.array_equal(guard_b._groups[group_id].item_vectors, own)
    assert await stored(database, "fake-a/256") == await stored(database, "fake-b/256") > 0
    # And a restart with model A reads model A's vectors.
    again = RecordingEmbedder("fake-a/256")
    await run_once(again, database, clock, group_id, watchers)
    assert set(again.seen) <= {CHALLENGE}


async def test_damaged_rows_are_embedded_again(
    database: Database, clock: ManualClock, watchers: list[ReopenWatcher]
) -> None:
    group_id, _ = await make_ag(database, clock)
    async with database.transaction() as session:
        damaged = [
            (text_digest(DECISIONS[0]), b"\x00" * 10),  # no float32 vector at all
            (text_digest(DECISIONS[1]), np.ones(3, dtype="<f4").tobytes()),  # another dimension
        ]
        await EmbeddingRepository(session).add("fake-a/256", damaged, clock.now())
    embedder = RecordingEmbedder()
    _, _, hints = await run_once(embedder, database, clock, group_id, watchers)
    assert embedder.seen[DECISIONS[0]] == embedder.seen[DECISIONS[1]] == 1
    assert embedder.seen[DECISIONS[2]] == 1 and [h.item.number for h in hints] == [1]


async def test_lexical_vectors_are_not_stored(
    database: Database, clock: ManualClock, watchers: list[ReopenWatcher]
) -> None:
    group_id, _ = await make_ag(database, clock)
    _, _, hints = await run_once(LexicalEmbedder(), database, clock, group_id, watchers)
    assert await stored(database) == 0
    assert [h.item.number for h in hints] == [1]


async def test_concurrent_writers_of_the_same_vectors(database: Database, clock: ManualClock) -> None:
    rows = [(text_digest(t), np.full(4, n, dtype="<f4").tobytes()) for n, t in enumerate(DECISIONS)]

    async def write(part: list[tuple[str, bytes]]) -> None:
        async with database.transaction() as session:
            await EmbeddingRepository(session).add("fake-a/4", part, clock.now())

    # Overlapping sets in different orders, at the same time (truly concurrent on PostgreSQL).
    await asyncio.gather(write(rows), write(rows[::-1]), write(rows[1:]))
    await write([(rows[0][0], np.zeros(4, dtype="<f4").tobytes())])  # a conflict keeps the first
    async with database.transaction() as session:
        repository = EmbeddingRepository(session)
        found = await repository.vectors("fake-a/4", [d for d, _ in rows] + ["0" * 64])
        assert found == dict(rows)
        assert await repository.vectors("fake-b/4", [d for d, _ in rows]) == {}
