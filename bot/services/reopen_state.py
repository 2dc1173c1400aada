"""The reopen guard's per-AG state and the first stage that reads it on the update path.

:class:`GroupState` holds one AG's active items in slots, with their text digests, embedding rows
and lexical index; the guard (:mod:`bot.services.reopen`) changes it only under its lock, one
item at a time (O(that item)). :class:`View` is the immutable snapshot :func:`screen` reads without
the lock. :func:`text_digest` names a text by its content: the guard uses it to notice edited texts
and the watcher (:mod:`bot.services.reopen_watch`) to store embeddings keyed by it. Pure, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.services.embeddings import content_terms, term_prior
from bot.services.reopen_lexical import LexicalIndex
from bot.services.reopen_model import LabelledExample, SettledItem

# screen: from this total weight of content terms (two topic words; generic AG words count 0.3) a
# message may match an item through its embedding alone, so it goes to check even without a word
# in common with the AG's items. 2.5 would drop more chit-chat, but also paraphrases such as
# "Babyboomer statt Hochbetagte, das wäre mein Vorschlag." (2.3) — recall comes first. One topic
# word and one generic word suffice: "Sollten wir uns nicht lieber monatlich treffen?" (1.3) shares
# no word with "Die AG trifft sich vierteljährlich." and must still reach the check.
SCREEN_SUBSTANCE = 1.25
# screen reads long messages in chunks and stops at the first that suffices: a wall of text costs
# about as much as its beginning.
SCREEN_CHUNK = 256
# Links, e-mail addresses and @mentions carry no topic of their own (a bare link is chit-chat).
# Linear time whatever the text: every alternative may start only where its run of characters
# starts (the look-behinds), and possessive repeats never give characters back, so a long run
# without a match is scanned once instead of once per position (the plain "\S+@\S+\.\S+" took
# 4–5 s on 60,000 characters without spaces, blocking every chat).
NOISE = re.compile(
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


def text_digest(text: str) -> str:
    """SHA-256 (hex) of a text exactly as the guard embeds it (UTF-8, nothing normalised).

    The guard compares digests to notice an edited text, and stored embeddings are keyed by
    it (``reopen_embeddings.digest``): hashing 10,000 item texts takes about 10 ms.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunks(text: str, size: int = SCREEN_CHUNK) -> Iterable[str]:
    """``text`` in pieces of at most about ``size`` characters, cut at spaces where possible."""
    start = 0
    while start < len(text):
        end = start + size
        if end < len(text):
            cut = text.rfind(" ", start, end)
            end = cut if cut > start else end
        yield text[start:end]
        start = end


@dataclass(frozen=True, slots=True)
class View:
    """What :func:`screen` reads without the guard's lock: immutable, replaced as a whole (one
    dict assignment, atomic) whenever the AG's item count or index object changes."""

    items: int
    index: LexicalIndex


def screen(view: View | None, text: str) -> bool:
    """Whether a message is worth the guard's check in the AG whose ``view`` this is: the body of
    :meth:`bot.services.reopen.ReopenGuard.screen`.

    True when the AG has active items and the message has substance: content terms (stems
    without stop words, links and @mentions) of total weight ≥ 2, generic AG words such as
    *Treffen* or *Idee* counting 0.3 — or any content term that the AG's item index knows,
    exactly or as a compound part (*"Warum nur online?"* in an AG with an online survey).
    So *ok*, *danke 👍*, emoji, a bare link or *Gute Idee!* are screened out.

    Why this shape and no list of cue words (*warum*, *lieber* …): cue words are fitted to the
    phrasing of the groups one has seen and miss other groups' wording; the two conditions above
    mirror the two ways the check can find an item relevant — word overlap with the AG's
    vocabulary, or a sentence long enough for the embedding alone to match a paraphrase. On
    dev, the own held-out sets and the seed, no message that the check hints, even at
    ``hoch``, is screened out (``tests/services/test_reopen.py``, ``docs/reopen-guard.md``).

    Thread-safety: it reads the AG's snapshot (immutable, swapped atomically) and the index
    vocabulary with single atomic lookups (:meth:`LexicalIndex.knows`), never the guard's lock, so
    it does not wait for a check or an update running in a worker thread; during a concurrent
    update it may see the state just before or after that update. Long messages are read in
    chunks and stop at the first that suffices; only the first :data:`MAX_READ` characters count
    (what the check reads), so the cost per message is bounded (≤ 5 ms even for 100,000
    characters, ``tests/services/test_reopen_bounds.py``).
    """
    if view is None or not view.items:
        return False
    seen: set[str] = set()
    substance = 0.0
    for chunk in chunks(NOISE.sub(" ", text[:MAX_READ])):
        for term in content_terms(chunk):
            if term not in seen:
                seen.add(term)
                substance += term_prior(term)
                if substance >= SCREEN_SUBSTANCE:
                    return True
    return any(view.index.knows(term) for term in seen)


@dataclass
class GroupState:
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

    def view(self) -> View:
        """The snapshot :func:`screen` reads."""
        return View(len(self.items), self.lexical)

    def alias_texts(self) -> dict[int, list[str]]:
        """Item id → texts of the positive feedback examples pointing to it, in example order."""
        aliases: dict[int, list[str]] = {}
        for example in self.examples:
            if example.reopens and example.item_id is not None:
                aliases.setdefault(example.item_id, []).append(example.text)
        return aliases

    def install(self, item: SettledItem, digest: str, vector: np.ndarray) -> None:
        """Add ``item`` or replace the item with its id. O(this item)."""
        aliases = self.alias_texts().get(item.id, []) if self.examples else []
        slot = self.position.get(item.id)
        if slot is None:
            slot = len(self.items)
            if self.vectors is None:
                self.vectors = np.zeros((16, len(vector)), dtype=np.float32)
            elif slot == len(self.vectors):  # grow by a quarter: amortised O(1), little slack
                grown = np.zeros((slot + max(16, slot // 4), self.vectors.shape[1]), dtype=np.float32)
                grown[:slot] = self.vectors
                self.vectors = grown
            self.vectors[slot] = vector
            self.items.append(item)
            self.digests.append(digest)
            self.position[item.id] = slot
            self.lexical.add(item.text, aliases)
            return
        if digest != self.digests[slot]:
            assert self.vectors is not None
            self.vectors[slot] = vector
            self.digests[slot] = digest
            self.lexical.replace(slot, item.text, aliases)
        self.items[slot] = item

    def remove(self, item_id: int) -> bool:
        """Remove the item; the last item moves into its slot. O(this item)."""
        slot = self.position.pop(item_id, None)
        if slot is None:
            return False
        assert self.vectors is not None
        self.lexical.remove(slot)
        last = len(self.items) - 1
        if slot != last:
            self.items[slot], self.digests[slot] = self.items[last], self.digests[last]
            self.vectors[slot] = self.vectors[last]
            self.position[self.items[slot].id] = slot
        self.items.pop()
        self.digests.pop()
        if len(self.vectors) > 64 and len(self.items) < len(self.vectors) // 2:  # give memory back
            self.vectors = self.vectors[: len(self.vectors) // 2 + 16].copy()
        return True

    def reorder(self, order: Sequence[int]) -> None:
        """Move the item in slot ``order[j]`` to slot ``j``. O(items), vectorised."""
        assert self.vectors is not None
        self.items = [self.items[o] for o in order]
        self.digests = [self.digests[o] for o in order]
        self.vectors[: len(order)] = self.vectors[list(order)]
        self.position = {item.id: n for n, item in enumerate(self.items)}
        self.lexical.reorder(order)
