"""Pure Matrix → core translation: reply fallbacks, reply targets, chats, users, poll answers.

These functions receive raw event sources from the homeserver (``event.source``), so besides the
shapes Element and other clients send, malformed content must not raise: an exception in the
adapter's conversion skips the rest of the sync batch.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.matrix.convert import (
    POLL_RESPONSE_TYPES,
    chat_ref,
    poll_answer,
    reply_target,
    strip_reply_fallback,
    user_ref,
)
from bot.core.events import ChatKind, ChatRef, Platform, UserRef

ROOM = "!room:example.org"
ANNA = "@anna:example.org"
POLL = "$poll-start:example.org"


def source(content: Any) -> dict[str, Any]:
    """An event source as nio keeps it in ``event.source``."""
    return {
        "type": "m.room.message",
        "event_id": "$event:example.org",
        "sender": ANNA,
        "origin_server_ts": 1_700_000_000_000,
        "content": content,
    }


# strip_reply_fallback -------------------------------------------------------------------------


def test_element_reply_fallback_is_removed() -> None:
    """Element puts ``> <@user:server> original`` and a blank line in front of the reply."""
    body = "> <@bernd:example.org> Wir treffen uns dienstags.\n\n!beschluss"
    assert strip_reply_fallback(body) == "!beschluss"


def test_multi_line_quote_is_removed_completely() -> None:
    """Every line of a quoted multi-line original starts with ``>``; all of them go."""
    body = (
        "> <@bernd:example.org> Erste Zeile\n"
        "> zweite Zeile\n"
        ">\n"  # an empty line of the original, quoted without the trailing space
        "> vierte Zeile\n"
        "\n"
        "!beschluss Wir gießen reihum"
    )
    assert strip_reply_fallback(body) == "!beschluss Wir gießen reihum"


def test_reply_keeps_its_own_lines_after_the_fallback() -> None:
    """Only the fallback block is removed; the reply's own text, even a quote, stays intact."""
    body = "> <@bernd:example.org> Original\n\n> mein eigenes Zitat\nund mein Kommentar\n\nnoch ein Absatz"
    assert strip_reply_fallback(body) == "> mein eigenes Zitat\nund mein Kommentar\n\nnoch ein Absatz"


def test_fallback_of_a_reply_to_a_reply_is_removed() -> None:
    """A reply to a reply quotes the earlier fallback as ``> > …`` lines; those are quote lines too."""
    body = "> <@bernd:example.org> > <@anna:example.org> alt\n> \n> neu\n\n!beschluss"
    assert strip_reply_fallback(body) == "!beschluss"


@pytest.mark.parametrize(
    "body",
    [
        "!beschluss Wir treffen uns",
        "Hallo zusammen\n> kein Zitat am Anfang\n\nText",
        "",
        "Zeile 1\n\nZeile 2",
        ">kein Leerzeichen nach dem Zeichen\n\nText",
        "!beschluss > 5 Leute kommen",
    ],
)
def test_bodies_without_fallback_are_unchanged(body: str) -> None:
    """Only a body whose first line starts with the fallback prefix ``"> "`` is touched."""
    assert strip_reply_fallback(body) == body


def test_leading_quote_without_blank_line_follows_the_spec_algorithm() -> None:
    """Decision: a leading ``"> "`` block is stripped even when no blank line follows it.

    The Matrix spec's stripping algorithm ("remove lines starting with the fallback prefix, stop
    at the first line without it") and Element's ``stripPlainReply`` do not require the blank
    line; it is only removed when present. So a body that happens to start with a Markdown quote
    loses that quote. This is acceptable for the bot, because a body starting with ``>`` is never
    a command and the bot ignores free text; it is documented here so a change is deliberate.
    """
    assert strip_reply_fallback("> zitiert\nmein Text") == "mein Text"
    assert strip_reply_fallback("> zitiert\n> weiter\n!hilfe") == "!hilfe"


def test_body_that_is_only_a_fallback_becomes_empty() -> None:
    """A reply without text of its own (only the fallback) leaves nothing to parse."""
    assert strip_reply_fallback("> <@bernd:example.org> Original") == ""
    assert strip_reply_fallback("> <@bernd:example.org> Original\n\n") == ""


# reply_target ---------------------------------------------------------------------------------


def test_reply_target_reads_in_reply_to() -> None:
    """The replied-to event id comes from ``m.relates_to`` → ``m.in_reply_to`` → ``event_id``."""
    content = {
        "msgtype": "m.text",
        "body": "> <@bernd:example.org> x\n\n!beschluss",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$original:example.org"}},
    }
    assert reply_target(source(content)) == "$original:example.org"


def test_reply_target_inside_a_thread_relation() -> None:
    """A threaded reply carries ``rel_type: m.thread`` next to ``m.in_reply_to``; the target is read."""
    content = {
        "msgtype": "m.text",
        "body": "!beschluss",
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": "$thread-root:example.org",
            "is_falling_back": False,
            "m.in_reply_to": {"event_id": "$original:example.org"},
        },
    }
    assert reply_target(source(content)) == "$original:example.org"


@pytest.mark.parametrize(
    "content",
    [
        {"msgtype": "m.text", "body": "!beschluss"},
        {"msgtype": "m.text", "body": "x", "m.relates_to": None},
        {"msgtype": "m.text", "body": "x", "m.relates_to": {}},
        {
            "msgtype": "m.text",
            "body": "x",
            "m.relates_to": {"rel_type": "m.annotation", "event_id": "$e", "key": "👍"},
        },
        {"msgtype": "m.text", "body": "x", "m.relates_to": {"m.in_reply_to": None}},
        {"msgtype": "m.text", "body": "x", "m.relates_to": {"m.in_reply_to": {}}},
        {"msgtype": "m.text", "body": "x", "m.relates_to": {"m.in_reply_to": {"event_id": 42}}},
        {"msgtype": "m.text", "body": "x", "m.relates_to": {"m.in_reply_to": {"event_id": None}}},
    ],
    ids=["absent", "relates-null", "relates-empty", "annotation", "null", "empty", "int-id", "null-id"],
)
def test_reply_target_absent_or_without_a_string_id(content: dict[str, Any]) -> None:
    """No usable ``m.in_reply_to`` → no reply."""
    assert reply_target(source(content)) is None


def test_reply_target_without_content() -> None:
    """A redacted or stripped event without ``content`` is no reply."""
    assert reply_target({"type": "m.room.message", "event_id": "$e"}) is None


MALFORMED_RELATION_BUG = (
    "convert.py reply_target (lines 14-16): a truthy non-dict m.relates_to or m.in_reply_to "
    "(string/list, accepted by the homeserver and by nio's RoomMessageText) raises AttributeError "
    "('str' object has no attribute 'get') instead of returning None; in the adapter that aborts "
    "the rest of the sync batch"
)


@pytest.mark.parametrize(
    "relates_to",
    ["$original:example.org", ["$original:example.org"], {"m.in_reply_to": "$original:example.org"}],
    ids=["relates-string", "relates-list", "in-reply-to-string"],
)
def test_reply_target_with_malformed_relation_is_none(relates_to: Any) -> None:
    """Malformed relation content is ignored rather than raising."""
    content = {"msgtype": "m.text", "body": "!beschluss", "m.relates_to": relates_to}
    assert reply_target(source(content)) is None


# chat_ref / user_ref --------------------------------------------------------------------------


def test_direct_chat_is_private_and_addressed_by_the_user_id() -> None:
    """A direct chat's external id is the other person's user id, not the room id."""
    chat = chat_ref("!dm:example.org", direct_with=ANNA, title="Anna")
    assert chat == ChatRef(Platform.MATRIX, ANNA, ChatKind.PRIVATE, "Anna")
    assert chat.is_private


def test_two_direct_rooms_with_one_person_are_one_chat() -> None:
    """Whichever room Matrix uses for the direct chat, the core sees the same chat."""
    first = chat_ref("!dm-one:example.org", direct_with=ANNA, title=None)
    second = chat_ref("!dm-two:example.org", direct_with=ANNA, title="Anna")
    assert (first.platform, first.external_id, first.kind) == (
        second.platform,
        second.external_id,
        second.kind,
    )


def test_room_is_a_group_addressed_by_the_room_id() -> None:
    """Any other room is a group chat keyed by its room id, with the room's name as title."""
    chat = chat_ref(ROOM, direct_with=None, title="AG Garten")
    assert chat == ChatRef(Platform.MATRIX, ROOM, ChatKind.GROUP, "AG Garten")
    assert not chat.is_private
    assert chat_ref(ROOM, direct_with=None, title=None).title is None


def test_user_ref_uses_the_display_name_and_the_user_id_as_username() -> None:
    """The user id identifies the person and doubles as username; the display name is for show."""
    assert user_ref(ANNA, "Anna Beispiel") == UserRef(Platform.MATRIX, ANNA, "Anna Beispiel", ANNA)


@pytest.mark.parametrize("name", [None, ""])
def test_user_ref_falls_back_to_the_user_id_as_display_name(name: str | None) -> None:
    """Without a display name the user id is shown."""
    assert user_ref(ANNA, name) == UserRef(Platform.MATRIX, ANNA, ANNA, ANNA)


# poll_answer ----------------------------------------------------------------------------------


def response(content: dict[str, Any], event_type: str = "org.matrix.msc3381.poll.response") -> dict[str, Any]:
    """A poll response event source."""
    return {**source(content), "type": event_type}


REFERENCE = {"rel_type": "m.reference", "event_id": POLL}


def test_poll_response_types_cover_unstable_and_stable() -> None:
    """The adapter listens for both event types."""
    assert set(POLL_RESPONSE_TYPES) == {"org.matrix.msc3381.poll.response", "m.poll.response"}


def test_unstable_msc3381_answers() -> None:
    """Element's unstable form: ``org.matrix.msc3381.poll.response.answers`` with our index ids."""
    content = {"m.relates_to": REFERENCE, "org.matrix.msc3381.poll.response": {"answers": ["1"]}}
    assert poll_answer(response(content)) == (POLL, (1,))


def test_unstable_multiple_answers_keep_their_order() -> None:
    """A multiple-choice answer yields every chosen index."""
    content = {"m.relates_to": REFERENCE, "org.matrix.msc3381.poll.response": {"answers": ["2", "0"]}}
    assert poll_answer(response(content)) == (POLL, (2, 0))


def test_stable_selections() -> None:
    """The stable form carries ``m.selections``."""
    content = {"m.relates_to": REFERENCE, "m.selections": ["0", "3"]}
    assert poll_answer(response(content, "m.poll.response")) == (POLL, (0, 3))


def test_unstable_answers_take_precedence_over_selections() -> None:
    """Clients sending both forms during the transition are read through the unstable field."""
    content = {
        "m.relates_to": REFERENCE,
        "org.matrix.msc3381.poll.response": {"answers": ["1"]},
        "m.selections": ["0"],
    }
    assert poll_answer(response(content)) == (POLL, (1,))


def test_non_digit_answers_are_ignored() -> None:
    """Answer ids we never issued (text, negative, spaced, non-strings) are dropped."""
    content = {
        "m.relates_to": REFERENCE,
        "org.matrix.msc3381.poll.response": {"answers": ["ja", "-1", " 2", "1.5", 3, None, "0", "", "1"]},
    }
    assert poll_answer(response(content)) == (POLL, (0, 1))


def test_empty_answer_list_is_a_retracted_vote() -> None:
    """An empty selection is still a valid response (MSC3381: a spoiled or withdrawn vote)."""
    content = {"m.relates_to": REFERENCE, "org.matrix.msc3381.poll.response": {"answers": []}}
    assert poll_answer(response(content)) == (POLL, ())


@pytest.mark.parametrize(
    "content",
    [
        {"org.matrix.msc3381.poll.response": {"answers": ["0"]}},
        {"m.relates_to": None, "org.matrix.msc3381.poll.response": {"answers": ["0"]}},
        {"m.relates_to": {"rel_type": "m.reference"}, "org.matrix.msc3381.poll.response": {"answers": ["0"]}},
        {"m.relates_to": {"rel_type": "m.reference", "event_id": 7}, "m.selections": ["0"]},
    ],
    ids=["no-relation", "null-relation", "no-event-id", "int-event-id"],
)
def test_missing_relation_is_no_answer(content: dict[str, Any]) -> None:
    """Without the reference to the poll start there is nothing to attribute the vote to."""
    assert poll_answer(response(content)) is None


@pytest.mark.parametrize(
    "content",
    [
        {"m.relates_to": REFERENCE},
        {"m.relates_to": REFERENCE, "org.matrix.msc3381.poll.response": {}},
        {"m.relates_to": REFERENCE, "org.matrix.msc3381.poll.response": {"answers": "0"}},
        {"m.relates_to": REFERENCE, "m.selections": {"0": True}},
    ],
    ids=["no-answers", "empty-response", "answers-string", "selections-dict"],
)
def test_missing_or_malformed_answer_list_is_no_answer(content: dict[str, Any]) -> None:
    """A response without an answer list is not a vote."""
    assert poll_answer(response(content)) is None


def test_poll_answer_without_content() -> None:
    """A redacted response has no content."""
    assert poll_answer({"type": "org.matrix.msc3381.poll.response", "event_id": "$e"}) is None


UNICODE_DIGIT_BUG = (
    "convert.py poll_answer line 65: str.isdigit() accepts non-decimal digits such as '²' or "
    "'①' and very long digit strings, and int() then raises ValueError instead of the answer "
    "being ignored (str.isdecimal()/isascii() plus a length cap would be safe)"
)


@pytest.mark.parametrize("odd", ["²", "①", "9" * 5000], ids=["superscript", "circled", "huge"])
def test_digit_like_answers_are_ignored_not_raised(odd: str) -> None:
    """Characters that ``isdigit`` but ``int`` rejects must be ignored like other foreign ids."""
    content = {"m.relates_to": REFERENCE, "org.matrix.msc3381.poll.response": {"answers": [odd, "1"]}}
    assert poll_answer(response(content)) == (POLL, (1,))


MALFORMED_POLL_BUG = (
    "convert.py poll_answer lines 56-60: a truthy non-dict m.relates_to or "
    "org.matrix.msc3381.poll.response (string/list; nio delivers it as UnknownEvent unchecked) "
    "raises AttributeError instead of returning None"
)


@pytest.mark.parametrize(
    "content",
    [
        {"m.relates_to": POLL, "org.matrix.msc3381.poll.response": {"answers": ["0"]}},
        {"m.relates_to": REFERENCE, "org.matrix.msc3381.poll.response": ["0"]},
    ],
    ids=["relates-string", "response-list"],
)
def test_malformed_poll_response_is_no_answer(content: dict[str, Any]) -> None:
    """Malformed poll content is ignored rather than raising."""
    assert poll_answer(response(content)) is None
