"""The reopen guard's data and tuning: what it compares, what it finds, how it is set, and its classifier.

Pure values and one pure function (:func:`train_logistic`), shared by :mod:`bot.services.reopen`
(the guard), :mod:`bot.services.hints` (the bookkeeping in the database) and the benchmarks.
Import them from :mod:`bot.services.reopen`, which re-exports every name here.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bot.services.reopen_seed import SeedScenario

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
    # The hint scorer (:func:`fit_hint_scorer`): weights of :data:`HINT_FEATURES` and a bias. When
    # set, a hint needs its logit ≥ ``min_score`` (moved by ``sensitivity_step``) and relevance ≥
    # ``min_relevance``; ``min_challenge`` is unused. When ``None``, the two thresholds
    # ``min_relevance`` and ``min_challenge`` decide on their own.
    hint_weights: tuple[float, ...] | None = None
    min_score: float = 0.0
    # Items whose relevance is within this of the best one count as fitting equally well; among
    # them a decision goes before a goal (a decision is what a challenge usually targets).
    tie_margin: float = 0.005


# Fitted with bench/reopen_fit.py (docs/reopen-guard.md) on the training groups only — the 17 chat
# AGs of the seed, each scored by a guard that leaves it out, and shared/reopen/dev.json; the
# held-out files in bench/data were never used. ``min_score`` is the highest threshold that keeps
# the leave-one-group-out recall ≥ 0.80 (a wrong hint costs more than a missed one); the lexical
# fallback never reaches that, so it takes its F1-optimal point. ``sensitivity_step`` is in logits.
# Leave-one-group-out over the 20 AGs at these points (P / R): e5+use 0.78 / 0.82, USE 0.74 / 0.82,
# e5 0.76 / 0.81, lexical 0.77 / 0.73.
_SCORED = {"lexical_weight": 0.5, "min_relevance": 0.05, "l2": 0.1, "sensitivity_step": 0.75}
DEFAULT_CONFIGS: dict[str, GuardConfig] = {
    "e5+use": GuardConfig(
        **_SCORED, hint_weights=(1.5324, 0.0316, 9.5149, -0.8139, 0.9531, -1.7152), min_score=-0.25
    ),
    "use": GuardConfig(
        **_SCORED, hint_weights=(1.1394, -0.0799, 9.344, 0.1819, -0.3193, -1.4743), min_score=-0.5
    ),
    "e5": GuardConfig(
        **_SCORED, hint_weights=(2.06, 1.4876, 6.4735, 1.0051, 1.2005, -2.3589), min_score=-0.5
    ),
    "lexical": GuardConfig(
        **_SCORED, hint_weights=(1.5588, 1.3181, 8.695, 1.0563, 0.6637, -1.7283), min_score=-0.25
    ),
}

HINT_FEATURES = ("challenge", "relevance", "margin", "lexical", "semantic")
"""What the hint scorer weighs for the best-fitting item: the stance logit, the item's relevance,
its lead over the runner-up, and the relevance's two parts (word overlap; standardised cosine,
clipped to 0–1)."""


def hint_logit(weights: Sequence[float], features: Sequence[float]) -> float:
    """The hint scorer's logit for one message's :data:`HINT_FEATURES` (``weights`` ends with the bias)."""
    return float(sum(w * f for w, f in zip(weights, features, strict=False)) + weights[-1])


def scored_hint(config: GuardConfig, features: Sequence[float], min_score: float) -> float | None:
    """The hint scorer's logit when the message gets a hint — relevance ≥ ``min_relevance`` and
    logit ≥ ``min_score`` — else ``None``. The one rule the guard and the benchmarks decide by;
    ``config.hint_weights`` must be set."""
    assert config.hint_weights is not None
    if features[1] < config.min_relevance:
        return None
    logit = hint_logit(config.hint_weights, features)
    return logit if logit >= min_score else None


def fit_hint_scorer(features: np.ndarray, correct: np.ndarray, l2: float = 0.1) -> tuple[float, ...]:
    """Fit the hint scorer: one row of :data:`HINT_FEATURES` per labelled message (for its
    best-fitting item), ``correct`` whether hinting that item would be right. Returns the weights
    in raw feature units followed by the bias (standardisation folded in), for
    :attr:`GuardConfig.hint_weights`. Class-balanced, so logit 0 is the balanced decision."""
    x = np.asarray(features, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-9
    coef, bias = train_logistic(
        ((x - mean) / scale).astype(np.float32),
        np.asarray(correct, dtype=np.float32),
        np.ones(len(x), dtype=np.float32),
        l2,
    )
    raw = coef.astype(np.float64) / scale
    return (*(round(float(w), 4) for w in raw), round(float(bias - (raw * mean).sum()), 4))


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


def seed_training_set(
    seed: Sequence[SeedScenario], generic_working: Sequence[str]
) -> tuple[list[str], list[float], list[str]]:
    """The seed's messages in scenario order, their labels (1.0 reopens) and the scenarios' items."""
    texts: list[str] = []
    labels: list[float] = []
    for scenario in seed:
        texts += scenario.reopening
        labels += [1.0] * len(scenario.reopening)
        texts += scenario.working
        labels += [0.0] * len(scenario.working)
    texts += generic_working
    labels += [0.0] * len(generic_working)
    return texts, labels, [s.item for s in seed]


def unrelated_similarity(vectors: np.ndarray, items: np.ndarray, seed: Sequence[SeedScenario]) -> float:
    """Mean similarity of each seed item to the other scenarios' messages (``vectors`` in the order
    of :func:`seed_training_set`): what an unrelated text scores with this embedder."""
    sims: list[float] = []
    offset = 0
    for i, scenario in enumerate(seed):
        count = len(scenario.reopening) + len(scenario.working)
        own = slice(offset, offset + count)
        other = np.ones(len(vectors), dtype=bool)
        other[own] = False
        sims.extend((vectors[other] @ items[i]).tolist())
        offset += count
    return float(np.mean(sims)) if sims else 0.0
