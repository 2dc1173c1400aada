"""Quality of the reopen guard on a labelled set (format: ``shared/reopen/README.md``).

Loads the set into the real service (:class:`bot.services.reopen.ReopenGuard`) and prints
precision, recall and F1 of the hints — a hint counts as correct only if it names the labelled
item — plus the misses and false hints, and the latency per message.

Modes (combinable):
  default          the shipped configuration for the embedder
  --cv             leave-one-group-out: fit the hint scorer on all groups but one, test on that one
  --tune           fit the hint scorer on the whole file and print it (in-sample!)
  --feedback       per group, feed the coordinators' corrections on the first half of the messages
                   back as labelled examples and score the second half, with and without them

Usage:
  .venv/bin/python bench/reopen_eval.py PATH [--embedder auto|e5+use|use|e5|lexical] [--sensitivity normal]
                                        [--cv] [--tune] [--feedback] [--quiet]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bot.services.embeddings import load_embedder  # noqa: E402
from bot.services.reopen import (  # noqa: E402
    DEFAULT_CONFIGS,
    LabelledExample,
    ReopenGuard,
    Sensitivity,
    SettledItem,
)
from bot.services.reopen_model import fit_hint_scorer, scored_hint  # noqa: E402
from bot.services.reopen_seed import SCENARIOS  # noqa: E402
from bot.services.reopen_seed_chat import chat_groups, chat_scenarios  # noqa: E402


class Memo:
    """An embedder that remembers every text's vector: the benchmark's guards (one per left-out
    AG) share the seed, so each text is embedded once."""

    def __init__(self, embedder: object) -> None:
        self.inner = embedder
        self.name = embedder.name  # type: ignore[attr-defined]
        self.key = embedder.key  # type: ignore[attr-defined]
        self.store_vectors = getattr(embedder, "store_vectors", True)
        self.dim = getattr(embedder, "dim", None)
        self._seen: dict[str, np.ndarray] = {}

    def load(self) -> None:
        load = getattr(self.inner, "load", None)
        if load is not None:
            load()

    def embed(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if new:
            self._seen.update(zip(new, self.inner.embed(new), strict=True))  # type: ignore[attr-defined]
        if not texts:
            return self.inner.embed([])  # type: ignore[attr-defined]
        return np.stack([self._seen[t] for t in texts])


@dataclass(frozen=True)
class Message:
    id: str
    group: int
    text: str
    gold: int | None  # item id


@dataclass
class Dataset:
    groups: dict[int, str]  # group id → name
    items: dict[int, list[SettledItem]]
    labels: dict[int, str]  # item id → label id in the file
    messages: list[Message]


def load(path: Path) -> Dataset:
    raw = json.loads(path.read_text(encoding="utf-8"))
    groups: dict[int, str] = {}
    items: dict[int, list[SettledItem]] = {}
    labels: dict[int, str] = {}
    by_label: dict[tuple[str, str], int] = {}
    group_ids: dict[str, int] = {}
    next_item = 1
    for gid, group in enumerate(raw["groups"], start=1):
        group_ids[group["id"]] = gid
        groups[gid] = group["id"]
        items[gid] = []
        for number, settled in enumerate(group["settled"], start=1):
            item = SettledItem(
                id=next_item,
                kind=settled["kind"],
                number=number,
                text=settled["text"],
                date=date.fromisoformat(settled["date"]) if settled.get("date") else None,
            )
            items[gid].append(item)
            labels[next_item] = settled["id"]
            by_label[(group["id"], settled["id"])] = next_item
            next_item += 1
    messages = [
        Message(
            m["id"],
            group_ids[m["group"]],
            m["text"],
            by_label[(m["group"], m["reopens"])] if m.get("reopens") else None,
        )
        for m in raw["messages"]
    ]
    return Dataset(groups, items, labels, messages)


@dataclass
class Scored:
    message: Message
    hint: int | None
    relevance: float
    challenge: float
    seconds: float


def run(
    guard: ReopenGuard,
    data: Dataset,
    messages: list[Message],
    sensitivity: Sensitivity,
    examples: dict[int, list[LabelledExample]] | None = None,
) -> list[Scored]:
    for gid in {m.group for m in messages}:
        checker = honest(guard, data, gid)
        checker.set_items(gid, data.items[gid])
        checker.set_examples(gid, (examples or {}).get(gid, []))
    out = []
    for m in messages:
        checker = honest(guard, data, m.group)
        start = time.perf_counter()
        hint = checker.check(m.group, m.text, sensitivity)
        seconds = time.perf_counter() - start
        out.append(
            Scored(
                m,
                hint.item_id if hint else None,
                hint.relevance if hint else 0.0,
                hint.challenge if hint else 0.0,
                seconds,
            )
        )
    return out


def prf(scored: list[Scored]) -> tuple[float, float, float, int, int, int]:
    tp = sum(1 for s in scored if s.hint is not None and s.hint == s.message.gold)
    fp = sum(1 for s in scored if s.hint is not None and s.hint != s.message.gold)
    fn = sum(1 for s in scored if s.message.gold is not None and s.hint != s.message.gold)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f, tp, fp, fn


def report(title: str, data: Dataset, scored: list[Scored], quiet: bool) -> None:
    p, r, f, tp, fp, fn = prf(scored)
    print(
        f"{title}: precision {p:.2f}  recall {r:.2f}  F1 {f:.2f}   "
        f"(hints right {tp}, wrong {fp}, missed {fn}, messages {len(scored)})"
    )
    if quiet:
        return
    label = data.labels.get
    for s in scored:
        m = s.message
        if s.hint is not None and s.hint != m.gold:
            kind = "FALSE HINT" if m.gold is None else "WRONG ITEM"
            print(
                f"  {kind:10s} {m.id:>5s} → {label(s.hint)} (labelled {label(m.gold) if m.gold else '-'}; "
                f"rel {s.relevance:.2f} chal {s.challenge:+.2f}): {m.text}"
            )
    for s in scored:
        m = s.message
        if m.gold is not None and s.hint is None:
            print(f"  {'MISS':10s} {m.id:>5s}   {label(m.gold)}: {m.text}")


def latency(scored: list[Scored]) -> str:
    ms = sorted(s.seconds * 1000 for s in scored)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return f"mean {statistics.fmean(ms):.2f} ms, median {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms"


# ------------------------------------------------------------------------------------------ fitting


@dataclass
class Row:
    """One message as the hint scorer sees it: the item it would be about and its features."""

    message: Message
    item_id: int
    features: list[float]


def rows(guard: ReopenGuard, data: Dataset, messages: list[Message]) -> list[Row]:
    """The hint scorer's input for ``messages`` (no feedback examples), each AG scored honestly."""
    for gid in {m.group for m in messages}:
        checker = honest(guard, data, gid)
        checker.set_items(gid, data.items[gid])
        checker.set_examples(gid, [])
    out = []
    for m in messages:
        checker = honest(guard, data, m.group)
        found = checker.features(m.group, m.text)
        assert found is not None
        slot, feats = found
        out.append(Row(m, checker.items(m.group)[slot].id, feats))
    return out


def fit(train: list[Row], l2: float = 0.1) -> tuple[float, ...]:
    """The hint scorer fitted on ``train``: is hinting the row's item right?"""
    x = np.array([r.features for r in train])
    y = np.array([r.item_id == r.message.gold for r in train], dtype=np.float32)
    return fit_hint_scorer(x, y, l2)


def decide_rows(
    guard: ReopenGuard, weights: tuple[float, ...], test: list[Row], min_score: float | None = None
) -> list[Scored]:
    """Hints for ``test`` with the scorer ``weights`` at the guard's thresholds (normal sensitivity)
    or at ``min_score``. ``Scored.relevance`` carries the logit of a hint."""
    config = replace(guard.config, hint_weights=weights)
    threshold = config.min_score if min_score is None else min_score
    out = []
    for r in test:
        logit = scored_hint(config, r.features, threshold)
        out.append(Scored(r.message, None if logit is None else r.item_id, logit or 0.0, r.features[0], 0.0))
    return out


_LEFT_OUT: dict[tuple[int, str], ReopenGuard] = {}


def honest(guard: ReopenGuard, data: Dataset, group: int) -> ReopenGuard:
    """The guard to score ``group`` with: when the shipped seed holds that AG's own messages
    (``bot/services/reopen_data/*.json``), a guard whose seed leaves them out, so no
    figure is in-sample (leave-one-group-out for the seed's AGs); else ``guard`` itself."""
    name = data.groups[group]
    if name not in chat_groups():
        return guard
    key = (id(guard), name)
    if key not in _LEFT_OUT:
        seed = SCENARIOS + chat_scenarios(frozenset({name}))
        clone = ReopenGuard(guard.embedder, config=guard.config, seed=seed)
        clone.warm_up()
        _LEFT_OUT[key] = clone
    return _LEFT_OUT[key]


def leave_one_group_out(
    guard: ReopenGuard, all_rows: list[Row], groups: dict[int, str], min_score: float | None = None
) -> list[Scored]:
    """Each group scored by a hint scorer fitted on the other groups' rows."""
    out: list[Scored] = []
    for gid in groups:
        weights = fit([r for r in all_rows if r.message.group != gid], guard.config.l2)
        out += decide_rows(guard, weights, [r for r in all_rows if r.message.group == gid], min_score)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--embedder", default="auto", help="auto (default), e5+use, use, e5 or lexical")
    parser.add_argument("--sensitivity", default="normal", choices=[s.value for s in Sensitivity])
    parser.add_argument("--cv", action="store_true", help="leave-one-group-out cross-validation")
    parser.add_argument("--tune", action="store_true", help="tune on the whole file (in-sample)")
    parser.add_argument("--feedback", action="store_true", help="simulate coordinator feedback")
    parser.add_argument("--quiet", action="store_true", help="figures only, no message lists")
    args = parser.parse_args()

    data = load(args.path)
    start = time.perf_counter()
    embedder = load_embedder(args.embedder)
    guard = ReopenGuard(Memo(embedder), config=DEFAULT_CONFIGS.get(embedder.name))
    guard.warm_up()  # loads the model, embeds the seed
    load_s = time.perf_counter() - start
    sensitivity = Sensitivity(args.sensitivity)
    print(
        f"{args.path.name}: {len(data.groups)} groups, {len(data.messages)} messages, "
        f"{sum(m.gold is not None for m in data.messages)} reopening; embedder {embedder.name} "
        f"(model load + seed {load_s:.1f} s); sensitivity {sensitivity.value}; config {guard.config}"
    )

    scored = run(guard, data, data.messages, sensitivity)
    report("shipped settings", data, scored, args.quiet)
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"latency per message (check, incl. embedding): {latency(scored)}; peak RSS {rss:.0f} MB")

    if args.cv or args.tune:
        all_rows = rows(guard, data, data.messages)
    if args.tune:
        weights = fit(all_rows, guard.config.l2)
        report(
            f"hint scorer fitted in-sample (hint_weights={weights})",
            data,
            decide_rows(guard, weights, all_rows),
            args.quiet,
        )
    if args.cv:
        report(
            "leave-one-group-out (hint scorer fitted on the other groups)",
            data,
            leave_one_group_out(guard, all_rows, data.groups),
            args.quiet,
        )

    if args.feedback:
        before: list[Scored] = []
        after: list[Scored] = []
        examples: dict[int, list[LabelledExample]] = {}
        second: list[Message] = []
        for gid in data.groups:
            msgs = [m for m in data.messages if m.group == gid]
            half = len(msgs) // 2
            first_scored = run(guard, data, msgs[:half], sensitivity)
            for s in first_scored:
                if s.hint is not None and s.hint != s.message.gold:  # /hinweis falsch
                    examples.setdefault(gid, []).append(LabelledExample(s.message.text, s.hint, False))
                if s.message.gold is not None and s.hint != s.message.gold:  # /hinweis <Nr>
                    examples.setdefault(gid, []).append(LabelledExample(s.message.text, s.message.gold, True))
            second += msgs[half:]
        before = run(guard, data, second, sensitivity)
        after = run(guard, data, second, sensitivity, examples)
        count = sum(len(v) for v in examples.values())
        report("second halves, without feedback", data, before, True)
        report(
            f"second halves, after {count} feedback examples from the first halves", data, after, args.quiet
        )


if __name__ == "__main__":
    main()
