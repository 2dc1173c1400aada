"""The reopen guard's lexical item index: German word stems, compound parts, IDF, incremental.

Part of the guard's first stage of item matching (:mod:`bot.services.reopen`); pure, no I/O.
"""

from __future__ import annotations

import bisect
import math
import sys
from collections.abc import Iterable, Sequence

import numpy as np

from bot.services.embeddings import content_terms, term_prior

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
