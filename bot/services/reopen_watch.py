"""Runs the reopen guard beside the update path: screen, queue, check in a thread, deliver.

The application offers every non-command group message. :meth:`ReopenWatcher.offer` is the
guard's *first stage* and runs on the update path: a dictionary lookup and
:meth:`ReopenGuard.screen` (no database, no model), then a bounded queue. One worker takes
messages from the queue, keeps each AG's items in the guard up to date (loaded on first use,
then refreshed item by item from the signals of committed transactions) and runs the expensive
check in a thread. A hint goes to ``deliver``, which applies the cool-down and sends it. When the
queue is full the message is skipped with a log line, so a burst never delays commands.

Embeddings of items and of the guard's seed are kept in the database (``reopen_embeddings``, per
model and text digest) when the embedder's vectors are worth it (:attr:`ReopenGuard.vector_key`):
the worker reads the stored ones, embeds only the missing ones in a thread and writes those back,
so a restart does not embed an AG's 10,000 decisions again (≈ 12 s with USE). Reads and writes go
in chunks of :data:`VECTOR_CHUNK` texts, a short transaction each, because on SQLite statements run
in the event loop's thread. Vectors of texts no AG uses any more stay in the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import numpy as np

from bot.core.events import ChatRef, UserRef
from bot.core.ports import Clock
from bot.services.hints import (
    ExampleAdded,
    HintService,
    ItemChanged,
    SettingsChanged,
    Signal,
    guard_id,
)
from bot.services.reopen import Hint, LabelledExample, ReopenGuard, Sensitivity, SettledItem, text_digest
from storage import Database
from storage.repositories.reopen_embeddings import EmbeddingRepository

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
SKIP_LOG_INTERVAL = 60.0
# Settings of an AG the application has not reported yet: the defaults of a new AG.
DEFAULT_SETTINGS = (True, Sensitivity.NORMAL)
# Longer messages are checked by their beginning: a wall of text is rarely a short challenge, and
# the embedding's cost grows with the length.
MAX_CHECKED = 1000
# Stored vectors are read and written this many texts per transaction: 10,000 USE vectors are
# 20 MB, and on SQLite a statement holds the event loop while it runs. Measured for 200 (SQLite,
# this 2-core VM): reading ≤ 3 ms per chunk (0.09 s for 10,000), writing ≤ 16 ms (0.33 s).
VECTOR_CHUNK = 200


@dataclass(frozen=True, slots=True)
class Candidate:
    """A group message waiting for the guard."""

    group_id: int
    chat: ChatRef
    message_id: str | None
    text: str
    sender: UserRef


Deliver = Callable[[Candidate, Hint], Awaitable[None]]


class ReopenWatcher:
    """The process's reopen guard, fed from the update path.

    Args:
        guard: The guard (one per process; its model is loaded by the worker, off the loop).
        database: Where items and examples are loaded from.
        clock: Source of time.
        deliver: Called with each hint, on the loop; applies cool-down and settings and sends.
        queue_size: Messages waiting at most; more are skipped.
        monotonic: Time source for spacing the "busy" log lines.
    """

    def __init__(
        self,
        guard: ReopenGuard,
        database: Database,
        clock: Clock,
        deliver: Deliver,
        *,
        queue_size: int = QUEUE_SIZE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.guard = guard
        self.db = database
        self.clock = clock
        self.deliver = deliver
        self.monotonic = monotonic
        self.queue: asyncio.Queue[Candidate] = asyncio.Queue(queue_size)
        self.skipped = 0
        self._skip_logged_at = -SKIP_LOG_INTERVAL
        self._settings: dict[int, tuple[bool, Sensitivity]] = {}
        self._loaded: set[int] = set()
        self._loading: set[int] = set()
        self._changed: dict[int, set[tuple[str, int]]] = {}
        self._examples: dict[int, list[ExampleAdded]] = {}
        self._worker: asyncio.Task[None] | None = None
        self._warm = False
        self._warming: asyncio.Task[None] | None = None

    # On the update path --------------------------------------------------------------------------

    def configure(self, group_id: int, enabled: bool, sensitivity: Sensitivity) -> None:
        """What the application read of the AG's settings (kept for messages that skip the database)."""
        self._settings[group_id] = (enabled, sensitivity)

    def offer(self, candidate: Candidate) -> bool:
        """First stage: queue the message if it may question one of the AG's items.

        Cheap enough for every group message: no database, no model, no waiting.

        Returns:
            Whether the message was queued.
        """
        enabled, _ = self._settings.get(candidate.group_id, DEFAULT_SETTINGS)
        if not enabled:
            return False
        # Until the AG is loaded the guard cannot screen by its items; the worker will.
        if candidate.group_id in self._loaded and not self.guard.screen(candidate.group_id, candidate.text):
            return False
        try:
            self.queue.put_nowait(candidate)
        except asyncio.QueueFull:
            self.skipped += 1
            now = self.monotonic()
            # One line per minute at most: a burst must not flood the log either.
            if now - self._skip_logged_at >= SKIP_LOG_INTERVAL:
                self._skip_logged_at = now
                log.warning(
                    "reopen guard busy: skipping messages (AG %s; %d skipped since start)",
                    candidate.group_id,
                    self.skipped,
                )
            return False
        self._ensure_worker()
        return True

    def apply(self, signals: Iterable[Signal]) -> None:
        """Take note of committed changes; the worker applies them before the AG's next check."""
        for signal in signals:
            if isinstance(signal, ItemChanged):
                # Also while the AG is being loaded (its load may have read just before the change);
                # applying a change twice does no harm, as an item is read afresh each time.
                if signal.group_id in self._loaded or signal.group_id in self._loading:
                    self._changed.setdefault(signal.group_id, set()).add((signal.kind, signal.item_id))
            elif isinstance(signal, ExampleAdded):
                if signal.group_id in self._loaded:
                    self._examples.setdefault(signal.group_id, []).append(signal)
            elif isinstance(signal, SettingsChanged):
                self._settings[signal.group_id] = (signal.enabled, signal.sensitivity)

    # Life cycle --------------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self.guard.resume()  # a new worker may embed again (after a stop, see there)
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="reopen guard")

    async def start(self) -> None:
        """Start the worker (it loads the model first, in a thread)."""
        self._ensure_worker()

    async def stop(self) -> None:
        """Stop the worker; queued messages are dropped (hints are best effort)."""
        # Embedding in a worker thread stops at its next batch; without this the process would wait
        # for it on exit (e5+use embeds the seed for up to a minute at the very first start).
        self.guard.interrupt()
        for task in (self._worker, self._warming):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._worker = None
        if self._warming is not None and not self._warm:
            self._warming = None

    async def drain(self) -> None:
        """Wait until every queued message was checked (tests, benchmarks)."""
        await self.queue.join()

    # The worker --------------------------------------------------------------------------------

    def _start_warm_up(self) -> None:
        # Again after a failed attempt: the next message tries once more.
        if not self._warm and (self._warming is None or self._warming.done()):
            self._warming = asyncio.get_running_loop().create_task(
                self._warm_up(), name="reopen guard warm-up"
            )

    async def _work(self) -> None:
        # The model loads beside the first AG's load (database, index), not before it: at start,
        # a message for an AG of 10,000 items is checked about a second earlier.
        self._start_warm_up()
        while True:
            candidate = await self.queue.get()
            try:
                await self._check(candidate)
            except Exception:
                # The guard is an assistant: a failure costs one hint, never the bot.
                log.exception("reopen guard failed on a message in AG %s", candidate.group_id)
            finally:
                self.queue.task_done()

    async def _check(self, candidate: Candidate) -> None:
        group_id = candidate.group_id
        just_loaded = await self._refresh(group_id)
        if not self._warm:
            self._start_warm_up()
            assert self._warming is not None
            await asyncio.shield(self._warming)  # a failure is raised here (and logged) each time
        enabled, sensitivity = self._settings.get(group_id, DEFAULT_SETTINGS)
        if not enabled:
            return
        text = candidate.text[:MAX_CHECKED]
        # offer() could screen only once the AG was loaded.
        if just_loaded and not self.guard.screen(group_id, text):
            return
        hint = await self.guard.check_async(group_id, text, sensitivity)
        if hint is not None:
            await self.deliver(candidate, hint)

    async def _warm_up(self) -> None:
        """Load the model and the guard's seed (its vectors from the database when stored)."""
        key = self.guard.vector_key
        if key is None:
            await asyncio.to_thread(self.guard.warm_up)
        else:
            vectors, fresh = await self._vectors(key, self.guard.needed_seed())
            await asyncio.to_thread(self.guard.warm_up, vectors)
            await self._store(key, fresh)
        self._warm = True
        # Operators see which model judges their AGs (the fallbacks are weaker; /hinweise says it too).
        log.info(
            "reopen guard ready: embedder %s", getattr(self.guard.embedder, "key", self.guard.embedder.name)
        )

    async def _refresh(self, group_id: int) -> bool:
        """Bring the AG's items and examples in the guard up to date with the database.

        Returns:
            Whether the AG was loaded just now (its first message).
        """
        key = self.guard.vector_key
        if group_id not in self._loaded:
            self._loading.add(group_id)
            try:
                # Item changes from here on are kept: what the reading below misses comes next time.
                self._changed.pop(group_id, None)
                async with self.db.transaction() as session:
                    hints = HintService(session, self.clock)
                    items = await hints.items(group_id)
                    examples = await hints.examples(group_id)
                self._examples.pop(group_id, None)
                fresh: dict[str, np.ndarray] = {}
                if key is None:
                    await asyncio.to_thread(self._load, group_id, items, examples, None)
                else:
                    needed = await asyncio.to_thread(self.guard.needed, group_id, items)
                    vectors, fresh = await self._vectors(key, needed)
                    await asyncio.to_thread(self._load, group_id, items, examples, vectors)
                    del vectors  # up to 20 MB at 10,000 items: not kept while storing
                self._loaded.add(group_id)
            finally:
                self._loading.discard(group_id)
            await self._store(key, fresh)
            return True
        changed = self._changed.pop(group_id, set())
        if changed:
            async with self.db.transaction() as session:
                hints = HintService(session, self.clock)
                current = [(kind, item_id, await hints.item(kind, item_id)) for kind, item_id in changed]
            vectors, fresh = {}, {}
            if key is not None:
                live = [item for _, _, item in current if item is not None]
                needed = await asyncio.to_thread(self.guard.needed, group_id, live)
                vectors, fresh = await self._vectors(key, needed)
            await asyncio.to_thread(self._update, group_id, current, vectors)
            await self._store(key, fresh)
        for added in self._examples.pop(group_id, []):
            await asyncio.to_thread(self.guard.add_example, group_id, added.example)
        return False

    def _load(
        self,
        group_id: int,
        items: list[SettledItem],
        examples: list[LabelledExample],
        vectors: dict[str, np.ndarray] | None,
    ) -> None:
        self.guard.set_items(group_id, items, vectors=vectors)
        self.guard.set_examples(group_id, examples)

    def _update(
        self,
        group_id: int,
        current: list[tuple[str, int, SettledItem | None]],
        vectors: dict[str, np.ndarray],
    ) -> None:
        for kind, item_id, item in current:
            if item is None:
                self.guard.remove_item(group_id, guard_id(kind, item_id))
            else:
                self.guard.upsert_item(group_id, item, vectors.get(text_digest(item.text)))

    # Stored embeddings ---------------------------------------------------------------------------

    async def _vectors(
        self, key: str, needed: dict[str, str]
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Vectors of the ``needed`` texts (digest → text): the stored ones, the others embedded
        in a thread. Returns all of them and the newly embedded ones (to be stored), by digest."""
        digests = list(needed)
        vectors: dict[str, np.ndarray] = {}
        for start in range(0, len(digests), VECTOR_CHUNK):
            async with self.db.transaction() as session:
                stored = await EmbeddingRepository(session).vectors(
                    key, digests[start : start + VECTOR_CHUNK]
                )
            for digest, blob in stored.items():
                if len(blob) % 4 == 0:  # else damaged: embedded again below (the row stays)
                    vectors[digest] = np.frombuffer(blob, dtype="<f4")
        missing = [d for d in digests if d not in vectors]
        fresh: dict[str, np.ndarray] = {}
        if missing:
            matrix = await asyncio.to_thread(self.guard.embed, [needed[d] for d in missing])
            fresh = dict(zip(missing, matrix, strict=True))
            vectors.update(fresh)
        return vectors, fresh

    async def _store(self, key: str | None, fresh: dict[str, np.ndarray]) -> None:
        """Write newly embedded vectors back. A failure is logged: it costs the next start time,
        never a hint."""
        if key is None or not fresh:
            return
        digests = sorted(fresh)
        try:
            for start in range(0, len(digests), VECTOR_CHUNK):
                # Bytes per chunk, not for all at once: 20 MB less at the peak of a first start.
                chunk = [
                    (d, np.asarray(fresh[d], dtype="<f4").tobytes())
                    for d in digests[start : start + VECTOR_CHUNK]
                ]
                async with self.db.transaction() as session:
                    await EmbeddingRepository(session).add(key, chunk, self.clock.now())
        except Exception:
            log.exception("reopen guard: could not store %d embeddings", len(digests))
