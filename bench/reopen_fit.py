"""Fit the reopen guard's hint scorer for one embedder and print it for ``DEFAULT_CONFIGS``.

The hint scorer (``bot/services/reopen_model.py``, :func:`fit_hint_scorer`) decides whether the
item a message fits best gets a hint, from the stance logit, the relevance, its lead over the
runner-up and the relevance's two parts. It is fitted on the training groups only: the chat AGs
of the shipped seed (``bot/services/reopen_data/*.json``, each scored by a guard whose stance
classifier leaves that AG out, so its features look as they will on an unseen AG) and
``shared/reopen/dev.json``. The held-out files in ``bench/data/`` are never read here.

Prints the leave-one-group-out figures of the scorer (fitted on the other training groups) and
the weights fitted on all of them.

Usage:
  .venv/bin/python bench/reopen_fit.py [--embedder auto|e5+use|use|e5|lexical] [--dev PATH]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reopen_eval import (
    Dataset,
    Memo,
    Message,
    fit,
    leave_one_group_out,
    load,
    prf,
    report,
    rows,
)  # noqa: E402

from bot.services.embeddings import load_embedder  # noqa: E402
from bot.services.reopen import DEFAULT_CONFIGS, GuardConfig, ReopenGuard  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def merge(parts: list[Dataset]) -> Dataset:
    """One dataset of several files' groups (ids renumbered so that they stay unique)."""
    merged = Dataset({}, {}, {}, [])
    group_offset = item_offset = 0
    for data in parts:
        for gid, name in data.groups.items():
            merged.groups[gid + group_offset] = name
            merged.items[gid + group_offset] = [replace(i, id=i.id + item_offset) for i in data.items[gid]]
        merged.labels.update({i + item_offset: label for i, label in data.labels.items()})
        merged.messages += [
            Message(m.id, m.group + group_offset, m.text, m.gold + item_offset if m.gold else None)
            for m in data.messages
        ]
        group_offset += max(data.groups)
        item_offset += max(data.labels)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedder", default="auto")
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "reopen" / "dev.json")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="try another setting, e.g. l2=1"
    )
    args = parser.parse_args()

    files = sorted((ROOT / "bot" / "services" / "reopen_data").glob("*.json")) + [args.dev]
    data = merge([load(f) for f in files])
    embedder = load_embedder(args.embedder)
    config = DEFAULT_CONFIGS.get(embedder.name, GuardConfig())
    config = replace(config, **{k: float(v) for k, v in (a.split("=", 1) for a in args.set)})
    guard = ReopenGuard(Memo(embedder), config=config)
    guard.warm_up()
    print(
        f"training groups: {len(data.groups)} ({', '.join(data.groups.values())}); "
        f"{len(data.messages)} messages; embedder {guard.embedder.name}; config {guard.config}"
    )
    all_rows = rows(guard, data, data.messages)
    report("leave-one-group-out", data, leave_one_group_out(guard, all_rows, data.groups), args.quiet)
    print("leave-one-group-out by threshold (min_score: precision / recall / F1):")
    for step in range(-4, 9):
        p, r, f, *_ = prf(leave_one_group_out(guard, all_rows, data.groups, step / 4))
        print(f"  {step / 4:+.2f}: {p:.2f} / {r:.2f} / {f:.2f}")
    print(f"hint_weights={fit(all_rows, guard.config.l2)}")


if __name__ == "__main__":
    main()
