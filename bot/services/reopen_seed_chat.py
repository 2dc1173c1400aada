"""Labelled chat messages of invented AGs for the reopen guard's stance classifier, read from
every ``reopen_data/*.json`` (the format of ``shared/reopen/README.md``): climate, neighbourhood,
street festival, sports club, parents' council (``chat_train.json``); repair café, language café,
seniors' club, citizens' budget (``chat_train_b.json``); food sharing, library friends, choir,
volunteer agency (``chat_train_c.json``); education network, foundations' funding criteria,
integration council, school partnerships, written in a more formal register (``chat_train_d.json``).

They are written in chat language (short, informal, typos, emojis, Denglisch) and cover the ways
a settled item is challenged (objections, rhetorical questions, suggestions, complaints,
newcomers' wondering) and the hard negatives that mention it without challenging it (agreement,
logistics, reports). Each scenario keeps its AG, so ``bench/reopen_eval.py`` can leave an AG's
own messages out when it scores that AG. The held-out files
``bench/data/reopen_chat_heldout*.json`` are never used here.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from bot.services.reopen_seed import SeedScenario


def _files() -> list[dict]:
    folder = resources.files("bot.services").joinpath("reopen_data")
    names = sorted(f.name for f in folder.iterdir() if f.name.endswith(".json"))
    return [json.loads(folder.joinpath(name).read_text("utf-8")) for name in names]


@cache
def _scenarios() -> tuple[tuple[str, SeedScenario], ...]:
    result: list[tuple[str, SeedScenario]] = []
    for raw in _files():
        result += _file_scenarios(raw)
    return tuple(result)


def _file_scenarios(raw: dict) -> list[tuple[str, SeedScenario]]:
    result: list[tuple[str, SeedScenario]] = []
    for group in raw["groups"]:
        messages = [m for m in raw["messages"] if m["group"] == group["id"]]
        # The classifier learns from messages, not from which item they are about: an AG's
        # messages that challenge nothing go with its first item.
        working = tuple(m["text"] for m in messages if not m["reopens"])
        for position, item in enumerate(group["settled"]):
            reopening = tuple(m["text"] for m in messages if m["reopens"] == item["id"])
            scenario = SeedScenario(item["text"], item["kind"], reopening, working if position == 0 else ())
            result.append((group["id"], scenario))
    return result


def chat_scenarios(leave_out: frozenset[str] = frozenset()) -> tuple[SeedScenario, ...]:
    """The chat scenarios, without those of the AGs whose ids are in ``leave_out``."""
    return tuple(scenario for group, scenario in _scenarios() if group not in leave_out)


def chat_groups() -> frozenset[str]:
    """The ids of the AGs the chat scenarios come from."""
    return frozenset(group for group, _ in _scenarios())
