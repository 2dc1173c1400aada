"""Scrubbing of untrusted text where events enter the core, and short quotes of it."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime

import pytest

from bot.adapters.matrix.messenger import _size as matrix_size
from bot.adapters.telegram.messenger import utf16_length
from bot.core import events
from bot.core.codec import decode_message, encode_message
from bot.core.events import (
    BotAdded,
    ChatKind,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    OutgoingMessage,
    Platform,
    PollAnswered,
    QuotedMessage,
    UserRef,
    clean_event,
)
from bot.core.markup import Markup, render_html, render_plain, render_rich_html, split
from bot.core.sanitize import ECHO_LIMIT, MAX_LABEL, echo, scrub

DIRTY = "a\ud800b\x00c\udc80\x1bd\x7f\x85e"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Guten Morgen! 👋\n\tEinrückung", "Guten Morgen! 👋\n\tEinrückung"),
        (DIRTY, "a\ufffdbc\ufffdde"),
        ("\ud83d\ude00", "😀"),  # a pair that arrived as two code points is the character it encodes
        ("\ude00\ud83d", "\ufffd\ufffd"),  # the wrong order is no pair
        ("Zeile 1\r\nZeile 2\rZeile 3", "Zeile 1\nZeile 2\nZeile 3"),
        ("\u200b\u202eRTL\u200d", "\u200b\u202eRTL\u200d"),  # format characters are text rules' business
    ],
)
def test_scrub(raw: str, clean: str) -> None:
    assert scrub(raw) == clean
    clean.encode("utf-8")  # storable and sendable


def test_clean_text_is_returned_as_it_is() -> None:
    text = "Ein ganz normaler Satz."
    assert scrub(text) is text


def sender(name: str = "Anna") -> UserRef:
    return UserRef(Platform.MATRIX, "@anna:example.org", name, "@anna:example.org")


CHAT = ChatRef(Platform.MATRIX, "!room:example.org", ChatKind.GROUP, "AG Bildung")


def test_every_user_supplied_string_of_a_message_is_cleaned() -> None:
    event = IncomingMessage(
        chat=ChatRef(Platform.MATRIX, "!room\x00:example.org", ChatKind.GROUP, "Titel\ud800"),
        sender=UserRef(Platform.MATRIX, "@anna:example.org", "Anna\udc80", "@anna\x00"),
        text="/hilfe \udc80",
        message_id="$event\x01",
        reply_to=QuotedMessage("$q", "zitiert\ud800", UserRef(Platform.MATRIX, "@ben", "Ben\x00")),
        timestamp=datetime(2026, 11, 21, tzinfo=UTC),
    )
    cleaned = clean_event(event)
    assert cleaned.text == "/hilfe \ufffd"
    assert cleaned.chat == ChatRef(Platform.MATRIX, "!room:example.org", ChatKind.GROUP, "Titel\ufffd")
    assert (cleaned.sender.display_name, cleaned.sender.username) == ("Anna\ufffd", "@anna")
    assert cleaned.message_id == "$event"
    assert cleaned.reply_to == QuotedMessage("$q", "zitiert\ufffd", UserRef(Platform.MATRIX, "@ben", "Ben"))
    assert cleaned.timestamp == event.timestamp and cleaned.chat.platform is Platform.MATRIX


@pytest.mark.parametrize(
    "event",
    [
        MemberJoined(CHAT, (sender("Anna\x00"), sender("Ben\ud800"))),
        MemberLeft(CHAT, sender("Anna\x00")),
        BotAdded(ChatRef(Platform.TELEGRAM, "-1", ChatKind.GROUP, "AG\x00"), sender("\udc80")),
        PollAnswered(Platform.MATRIX, "$poll\x00", sender("Anna\ud800"), (0, 2)),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_event_type_is_cleaned(event: events.Event) -> None:
    cleaned = clean_event(event)
    assert type(cleaned) is type(event)
    assert not strings_with_bad_characters(cleaned)
    assert strings_with_bad_characters(event)  # the case is not vacuous


def test_the_event_union_is_covered() -> None:
    # clean_event walks dataclasses generically; this fails if an event type is not one.
    for event_type in typing.get_args(events.Event):
        assert dataclasses.is_dataclass(event_type), event_type


def test_a_clean_event_is_the_same_object() -> None:
    event = IncomingMessage(CHAT, sender(), "Hallo zusammen", "$1", reply_to=QuotedMessage("$0", "Hi"))
    assert clean_event(event) is event


def test_names_and_titles_are_capped_but_texts_and_ids_are_not() -> None:
    long = "x" * 70_000
    event = IncomingMessage(ChatRef(Platform.MATRIX, "!r", title=long), sender(long), long, long)
    cleaned = clean_event(event)
    assert len(cleaned.chat.title) == len(cleaned.sender.display_name) == MAX_LABEL
    assert cleaned.text == long and cleaned.message_id == long


def strings_with_bad_characters(value: object) -> list[str]:
    found: list[str] = []
    if isinstance(value, str):
        if value != scrub(value):
            found.append(value)
    elif isinstance(value, tuple):
        for item in value:
            found += strings_with_bad_characters(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found += strings_with_bad_characters(getattr(value, f.name))
    return found


# Defence in depth: a surrogate that still reaches a reply never crashes -----------------------


def test_renderers_splitting_and_the_outbox_codec_survive_lone_surrogates() -> None:
    markup = Markup().line("Den Befehl /", "\udc80" * 5000, " kenne ich nicht.")
    message = OutgoingMessage(CHAT, markup)
    for render in (render_plain, render_html, render_rich_html):
        render(markup)
    assert utf16_length("\udc80") == 1 and utf16_length("😀") == 2
    assert matrix_size(markup) > 15_000  # measured in UTF-8 bytes, 3 for each surrogate
    parts = split(markup, 4096, lambda m: utf16_length(render_html(m)))
    assert len(parts) > 1 and all(utf16_length(render_html(p)) <= 4096 for p in parts)
    stored = encode_message(message)
    restored = decode_message(CHAT, stored)
    render_html(restored.markup).encode("utf-8")  # storable (JSON column) and sendable


# Quoting input in replies -----------------------------------------------------------------------


def test_echo_keeps_one_short_line() -> None:
    assert echo("kurz") == "kurz"
    assert echo("zwei\n  Zeilen") == "zwei Zeilen"
    quoted = echo("&" * 4096)
    assert len(quoted) == ECHO_LIMIT and quoted.endswith("…")
    words = echo("Wort " * 100)
    assert len(words) <= ECHO_LIMIT and words.endswith("Wort…")
