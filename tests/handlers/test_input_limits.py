"""Regression tests for the inputs of issue 9 (points 1–5) and what the property test found.

Each input crashed, stalled or flooded a chat before; each must now get one clear, short answer.
"""

from __future__ import annotations

import time

import pytest

import bot.app as application
from bot.core.events import IncomingMessage
from storage.models import Decision, Goal, WorkingGroup
from tests.harness import BotHarness
from tests.limits import is_internal_error, telegram_parts


@pytest.fixture
async def group(bot: BotHarness) -> BotHarness:
    """An AG with a goal and a decision; anna coordinates, bernd is a member."""
    await bot.setup_group()
    await bot.say("/ziel Mehr junge Leute erreichen")
    await bot.say("/beschluss Wir treffen uns vierteljährlich #treffen")
    await bot.send("Hallo zusammen!", user="bernd")
    return bot


def short(value: object) -> str | None:
    """A readable test id for long inputs."""
    return f"{value[:24]}…({len(value)})" if isinstance(value, str) and len(value) > 40 else None


async def answer(bot: BotHarness, text: str, **kwargs: object) -> str:
    """The one reply to ``text``: no internal error, and one Telegram message."""
    before = len(bot.messenger.sent)
    reply = await bot.say(text, **kwargs)
    for message in bot.messenger.sent[before:]:
        assert len(telegram_parts(message)) == 1
    assert not is_internal_error(reply), reply
    return reply


# 1. A long plain message does not stall the event loop -----------------------------------------


@pytest.mark.parametrize(
    "text", ["a" * 60_000, "\u200b" * 60_000, "x@y." * 25_000], ids=["word", "zero-width", "at-signs"]
)
async def test_a_long_plain_message_is_handled_in_a_few_milliseconds(group: BotHarness, text: str) -> None:
    app = group.app
    fastest = float("inf")
    for _ in range(3):  # the fastest of three: other processes only ever add time
        start = time.perf_counter()
        await app.handle(group_message(group, text))
        fastest = min(fastest, time.perf_counter() - start)
        await group.settle()
    assert fastest <= 0.05


def group_message(bot: BotHarness, text: str) -> IncomingMessage:
    return IncomingMessage(bot.chat(), bot.user("bernd"), text, message_id="m")


# 2. Lone surrogates and control characters -----------------------------------------------------


@pytest.mark.parametrize("cleaned_on_entry", [True, False], ids=["cleaned", "defence-in-depth"])
async def test_lone_surrogates_get_an_answer(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, cleaned_on_entry: bool
) -> None:
    if not cleaned_on_entry:
        # Should one ever slip past Application.handle, storing and sending must still work.
        monkeypatch.setattr(application, "clean_event", lambda event: event)
    assert "kenne ich nicht" in await answer(bot, "/hilfe \udc80")
    assert "angelegt" in await answer(bot, "/ag anlegen AG \udc80 Bildung")
    [group] = await bot.rows(WorkingGroup)
    assert group.name == "AG \ufffd Bildung"
    assert "\ufffd" in await answer(bot, "/ag thema \ud800 Bildung\x00 für alle")
    await answer(bot, "/beschluss Text mit \udfff und \x1b[31m")
    [decision] = await bot.rows(Decision)
    assert decision.text == "Text mit \ufffd und [31m"


# 3. /beschluesse with too many or too long search words --------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (" ".join(["Wort"] * 997), "zu viele Suchbegriffe (997)"),
        ("#a,#b,#c,#d,#e,#f,#g,#h,#i,#j,#k", "zu viele Suchbegriffe (11)"),  # one word, eleven tags
        ("a" * 100_000, "ist zu lang"),
        ("\ufdfa" * 10, "ist zu lang"),  # folding makes each of these characters eighteen
    ],
    ids=short,
)
async def test_search_input_is_bounded_with_a_clear_message(
    group: BotHarness, query: str, expected: str
) -> None:
    reply = await answer(group, f"/beschluesse {query}", user="bernd")
    assert expected in reply, reply


async def test_search_with_the_most_words_still_works(group: BotHarness) -> None:
    reply = await answer(group, "/beschluesse " + " ".join(["treffen"] * 9) + " #treffen", user="bernd")
    assert "vierteljährlich" in reply


# 4. Numbers out of range ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/hinweis falsch 9223372036854775808", "Nr. 9223372036854775808 gibt es nicht"),
        ("/hinweis falsch -5", "„-5“ ist keine gültige Nummer"),
        ("/hinweis 9223372036854775808", "gibt es nicht"),
        ("/hinweis ziel 99999999999999999999999", "gibt es nicht"),
        ("/ziel erreicht " + "9" * 5000, "so große Nummern"),
        ("/ziel 0", "Nr. 0 gibt es nicht – Nummern beginnen bei 1."),
        ("/beschluss wichtig 2147483648", "gibt es nicht"),
        ("/gelesen 9223372036854775808", "gibt es nicht"),
        ("/onboarding 99999999999999999999", "gibt es nicht"),
        ("/hinweise abstand 0", "von 1 bis 365"),
        ("/hinweise abstand -3", "von 1 bis 365"),
        ("/hinweise abstand 99999999999999999999", "von 1 bis 365"),
    ],
    ids=short,
)
async def test_numbers_out_of_range_get_a_clear_message(
    group: BotHarness, command: str, expected: str
) -> None:
    reply = await answer(group, command, reply_to=("Eine Nachricht", "bernd"))
    assert expected in reply, reply


@pytest.mark.parametrize("command", ["/ziel erreicht", "/beschluss aufheben", "/hinweis"])
async def test_a_missing_number_is_asked_for(group: BotHarness, command: str) -> None:
    reply = await answer(group, command, reply_to=("Eine Nachricht", "bernd"))
    assert reply.startswith("Bitte gib eine Nummer an, z. B. 3."), reply
    assert "„–“" not in reply and "Verwendung:" in reply


@pytest.mark.parametrize("text", ["-1", "+2", "1.5", "1,5", "Nr. -3", "1e9"])
async def test_a_text_that_is_only_a_bad_number_is_no_decision_or_goal(group: BotHarness, text: str) -> None:
    assert "keine gültige Nummer" in await answer(group, f"/beschluss {text}")
    assert "keine gültige Nummer" in await answer(group, f"/ziel {text}")
    assert await group.count(Decision) == 1 and await group.count(Goal) == 1
    # A real text starting with a number is still a decision.
    assert "festgehalten" in await answer(group, f"/beschluss {text} Euro Beitrag pro Treffen")


@pytest.mark.parametrize("command", ["/onboarding foo", "/gelesen foo", "/onboarding aus!"])
async def test_unknown_arguments_get_the_usage(group: BotHarness, command: str) -> None:
    reply = await answer(group, command)
    assert "verstehe ich bei diesem Befehl nicht" in reply and "Verwendung:" in reply


# 5. Echoed input is quoted short ---------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "/hilfe " + "&" * 4090,  # in a chat without AG, from anyone
        "/" + "x" * 4090,  # an unknown command
        "/ag " + "&" * 4090,
        "/ag sprache " + "<" * 4090,
        "/rolle " + "&" * 4000 + " mitglied",
        "/hinweise " + "&" * 4090,
    ],
    ids=short,
)
async def test_echoed_input_is_quoted_short(bot: BotHarness, command: str) -> None:
    if not command.startswith("/hilfe"):
        await bot.setup_group()
    reply = await answer(bot, command)
    assert len(reply) < 400, reply
    assert "…" in reply
