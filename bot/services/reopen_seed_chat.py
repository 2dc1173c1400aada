"""Labelled chat messages of five invented AGs (climate, neighbourhood, street festival, sports
club, parents' council) for the reopen guard's stance classifier, read from
``reopen_data/chat_train.json`` (the format of ``shared/reopen/README.md``).

They are written in chat language (short, informal, typos, emojis, Denglisch) and cover the ways
a settled item is challenged (objections, rhetorical questions, suggestions, complaints,
newcomers' wondering) and the hard negatives that mention it without challenging it (agreement,
logistics, reports). Each scenario keeps its AG, so ``bench/reopen_eval.py`` can leave an AG's
own messages out when it scores that AG. The held-out file
``bench/data/reopen_chat_heldout.json`` is never used here.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from bot.services.reopen_seed import SeedScenario


@cache
def _scenarios() -> tuple[tuple[str, SeedScenario], ...]:
    raw = json.loads(
        resources.files("bot.services").joinpath("reopen_data", "chat_train.json").read_text("utf-8")
    )
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
    return tuple(result)


def chat_scenarios(leave_out: frozenset[str] = frozenset()) -> tuple[SeedScenario, ...]:
    """The chat scenarios, without those of the AGs whose ids are in ``leave_out``."""
    return tuple(scenario for group, scenario in _scenarios() if group not in leave_out)


def chat_groups() -> frozenset[str]:
    """The ids of the AGs the chat scenarios come from."""
    return frozenset(group for group, _ in _scenarios())
