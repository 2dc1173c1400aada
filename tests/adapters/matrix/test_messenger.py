"""MatrixMessenger against a fake nio client: notices with block HTML, replies, reactions as
buttons, splitting, MSC3381 polls, files, and the mapping of homeserver errors to the outbox's
delivery errors. No homeserver is involved; tests/adapters/matrix/test_e2e.py covers Synapse.
"""

from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import nio
import pytest

from bot.adapters.matrix.messenger import BUTTON_KEYS, EVENT_BUDGET, MatrixMessenger
from bot.core.errors import PermanentDeliveryError, RetryLater, TransientDeliveryError
from bot.core.events import (
    Attachment,
    Button,
    ChatKind,
    ChatRef,
    OutgoingMessage,
    Platform,
    PollSpec,
    SentMessage,
)
from bot.core.markup import Markup, bold, render_plain, render_rich_html

ROOM = "!ag-garten:example.org"
DM_ROOM = "!dm-anna:example.org"
ANNA = "@anna:example.org"
GROUP = ChatRef(Platform.MATRIX, ROOM, ChatKind.GROUP, "AG Garten")
PRIVATE = ChatRef(Platform.MATRIX, ANNA, ChatKind.PRIVATE, "Anna")
MXC = "mxc://x/y"
# Synapse rejects events whose canonical JSON exceeds 65,536 bytes; the envelope (ids, hashes,
# signatures, auth and prev events) takes a few hundred bytes, so content must stay clearly below.
EVENT_LIMIT = 65_536
ENVELOPE = 4_096


@dataclass
class Sent:
    """One recorded ``room_send`` call."""

    room_id: str
    type: str
    content: dict[str, Any]
    tx_id: str | None


class FakeClient:
    """Records what a ``nio.AsyncClient`` would send and answers like a homeserver.

    Like Synapse, a repeated transaction id returns the event id of the first send. Queued
    outcomes (per event type) are used before that: a nio error response is returned, an
    exception is raised.
    """

    def __init__(self) -> None:
        self.sends: list[Sent] = []
        self.uploads: list[dict[str, Any]] = []
        self.outcomes: dict[str, list[Any]] = {}
        self.upload_outcome: Any = None
        self.log: list[str] = []
        self._by_txn: dict[str, str] = {}
        self._counter = 0

    def fail(self, event_type: str, *outcomes: Any) -> None:
        """Answer the next sends of ``event_type`` with these outcomes."""
        self.outcomes.setdefault(event_type, []).extend(outcomes)

    async def room_send(
        self,
        room_id: str,
        message_type: str,
        content: dict[str, Any],
        tx_id: str | None = None,
        ignore_unverified_devices: bool = False,
    ) -> nio.RoomSendResponse | nio.RoomSendError:
        self.sends.append(Sent(room_id, message_type, copy.deepcopy(content), tx_id))
        self.log.append(f"send {message_type}")
        queued = self.outcomes.get(message_type)
        if queued:
            outcome = queued.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        if tx_id is not None and tx_id in self._by_txn:
            return nio.RoomSendResponse(self._by_txn[tx_id], room_id)
        self._counter += 1
        event_id = f"$event{self._counter}:example.org"
        if tx_id is not None:
            self._by_txn[tx_id] = event_id
        return nio.RoomSendResponse(event_id, room_id)

    async def upload(
        self,
        data_provider: Any,
        content_type: str = "application/octet-stream",
        filename: str | None = None,
        encrypt: bool = False,
        monitor: Any = None,
        filesize: int | None = None,
    ) -> tuple[Any, dict[str, Any] | None]:
        data = data_provider.read() if isinstance(data_provider, io.IOBase) else data_provider
        self.uploads.append(
            {"data": data, "content_type": content_type, "filename": filename, "filesize": filesize}
        )
        self.log.append("upload")
        if isinstance(self.upload_outcome, BaseException):
            raise self.upload_outcome
        if self.upload_outcome is not None:
            return self.upload_outcome, None
        return nio.UploadResponse.from_dict({"content_uri": MXC}), None

    def of_type(self, event_type: str) -> list[Sent]:
        return [s for s in self.sends if s.type == event_type]


@dataclass
class Harness:
    """The messenger under test, its fake client and what its callbacks received."""

    client: FakeClient
    messenger: MatrixMessenger
    resolved: list[str] = field(default_factory=list)
    remembered: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    resolve_error: BaseException | None = None


@pytest.fixture
def mx() -> Harness:
    client = FakeClient()
    harness = Harness(client, None)  # type: ignore[arg-type]

    async def resolve_room(chat_id: str) -> str:
        harness.resolved.append(chat_id)
        if harness.resolve_error is not None:
            raise harness.resolve_error
        return DM_ROOM if chat_id.startswith("@") else chat_id

    async def remember_buttons(event_id: str, keys: dict[str, str]) -> None:
        client.log.append("remember")
        harness.remembered.append((event_id, dict(keys)))

    harness.messenger = MatrixMessenger(client, resolve_room, remember_buttons)  # type: ignore[arg-type]
    return harness


def text(*lines: str) -> Markup:
    """A markup of plain lines; an empty string is a paragraph break."""
    markup = Markup()
    for line in lines:
        if line:
            markup.line(line)
        else:
            markup.blank()
    return markup


def message(
    markup: Markup | None = None,
    *,
    chat: ChatRef = GROUP,
    key: str | None = "kuemmerer-outbox-1",
    **kwargs: Any,
) -> OutgoingMessage:
    return OutgoingMessage(chat, markup if markup is not None else text("Hallo"), key=key, **kwargs)


def room_error(errcode: str | None = None, error: str = "nope", **extra: Any) -> nio.RoomSendError:
    """A send error as nio builds it from the homeserver's JSON (``{}`` for an HTML error page)."""
    body: dict[str, Any] = {} if errcode is None else {"errcode": errcode, "error": error, **extra}
    return nio.RoomSendError.from_dict(body, ROOM)


def canonical_size(content: dict[str, Any]) -> int:
    """Bytes of the content in canonical JSON (UTF-8, compact), as Synapse measures events."""
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())


def event_budget_size(markup: Markup) -> int:
    """What EVENT_BUDGET limits: body plus formatted body, in UTF-8 bytes."""
    return len(render_plain(markup).encode()) + len(render_rich_html(markup).encode())


# Text -----------------------------------------------------------------------------------------


async def test_text_is_a_notice_with_plain_body_and_escaped_block_html(mx: Harness) -> None:
    """User text travels escaped in ``formatted_body``; paragraphs and bullets become blocks."""
    markup = (
        Markup()
        .line(bold("Beschluss 3"), ": ", "<script>alert(1)</script> & Co")
        .blank()
        .bullet("eins")
        .bullet("<b>zwei</b>")
    )
    sent = await mx.messenger.send(message(markup))

    [call] = mx.client.sends
    assert call.room_id == ROOM
    assert call.type == "m.room.message"
    assert call.content == {
        "msgtype": "m.notice",
        "body": "Beschluss 3: <script>alert(1)</script> & Co\n\n• eins\n• <b>zwei</b>",
        "format": "org.matrix.custom.html",
        "formatted_body": (
            "<p><b>Beschluss 3</b>: &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</p>"
            "<ul><li>eins</li><li>&lt;b&gt;zwei&lt;/b&gt;</li></ul>"
        ),
    }
    assert sent == SentMessage(GROUP, "$event1:example.org")
    assert sent.poll_id is None
    assert mx.resolved == [ROOM]
    assert mx.remembered == []


async def test_outbox_key_is_the_transaction_id_so_retries_are_idempotent(mx: Harness) -> None:
    """A retry of the same outbox row reuses the transaction id; the homeserver deduplicates it."""
    first = await mx.messenger.send(message(key="kuemmerer-outbox-7"))
    again = await mx.messenger.send(message(key="kuemmerer-outbox-7"))
    other = await mx.messenger.send(message(key="kuemmerer-outbox-8"))

    assert [s.tx_id for s in mx.client.sends] == [
        "kuemmerer-outbox-7",
        "kuemmerer-outbox-7",
        "kuemmerer-outbox-8",
    ]
    assert first.message_id == again.message_id != other.message_id


async def test_without_key_nio_chooses_the_transaction_id(mx: Harness) -> None:
    """Messages sent outside the outbox pass no transaction id (nio generates one)."""
    await mx.messenger.send(message(key=None))
    assert mx.client.sends[0].tx_id is None


async def test_reply_to_becomes_in_reply_to(mx: Harness) -> None:
    """``reply_to`` is a rich reply relation to the original event."""
    await mx.messenger.send(message(reply_to="$original:example.org"))
    assert mx.client.sends[0].content["m.relates_to"] == {
        "m.in_reply_to": {"event_id": "$original:example.org"}
    }


async def test_no_relation_without_reply_to(mx: Harness) -> None:
    """A plain message carries no relation."""
    await mx.messenger.send(message())
    assert "m.relates_to" not in mx.client.sends[0].content


async def test_private_chat_is_resolved_from_the_user_id(mx: Harness) -> None:
    """A private chat's external id is the user id; the room comes from ``resolve_room``."""
    sent = await mx.messenger.send(message(chat=PRIVATE))
    assert mx.resolved == [ANNA]
    assert mx.client.sends[0].room_id == DM_ROOM
    assert sent.chat == PRIVATE


def test_platform_is_matrix(mx: Harness) -> None:
    """The outbox registers the messenger under its platform."""
    assert mx.messenger.platform is Platform.MATRIX


# Buttons --------------------------------------------------------------------------------------


async def test_command_buttons_are_listed_remembered_and_offered_as_reactions(mx: Harness) -> None:
    """Matrix has no inline buttons: numbered lines, a stored key→command map, one reaction each."""
    buttons = [
        [Button("Ja", command="/abstimmen 1 ja"), Button("Nein", command="/abstimmen 1 nein")],
        [Button("Enthaltung", command="/abstimmen 1 enthaltung")],
    ]
    sent = await mx.messenger.send(message(text("Abstimmung über Beschluss 1"), buttons=buttons, key="k1"))

    main, *reactions = mx.client.sends
    assert main.type == "m.room.message"
    assert main.content["body"] == "Abstimmung über Beschluss 1\n\n1️⃣ Ja\n2️⃣ Nein\n3️⃣ Enthaltung"
    assert "<p>1️⃣ Ja<br>2️⃣ Nein<br>3️⃣ Enthaltung</p>" in main.content["formatted_body"]
    assert mx.remembered == [
        (
            sent.message_id,
            {"1️⃣": "/abstimmen 1 ja", "2️⃣": "/abstimmen 1 nein", "3️⃣": "/abstimmen 1 enthaltung"},
        )
    ]
    assert [r.type for r in reactions] == ["m.reaction"] * 3
    assert [r.content for r in reactions] == [
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": sent.message_id, "key": key}}
        for key in ("1️⃣", "2️⃣", "3️⃣")
    ]
    assert [r.room_id for r in reactions] == [ROOM] * 3
    # Each reaction has a transaction id of its own, derived from the key: retries stay idempotent.
    assert [r.tx_id for r in reactions] == ["k1-r0", "k1-r1", "k1-r2"]
    # The map is stored before the reactions appear, so an early click is already understood.
    assert mx.client.log == ["send m.room.message", "remember"] + ["send m.reaction"] * 3


async def test_url_buttons_are_listed_as_text_without_reactions(mx: Harness) -> None:
    """Link buttons become ``label: url`` lines; nothing to react to, nothing to remember."""
    buttons = [[Button("Protokoll", url="https://example.org/protokoll?id=1&x=2")]]
    await mx.messenger.send(message(text("Siehe:"), buttons=buttons))

    [call] = mx.client.sends
    assert call.content["body"].splitlines()[-1] == "Protokoll: https://example.org/protokoll?id=1&x=2"
    assert "Protokoll: https://example.org/protokoll?id=1&amp;x=2" in call.content["formatted_body"]
    assert mx.remembered == []


async def test_command_and_url_buttons_together(mx: Harness) -> None:
    """Commands get the number keys, links follow them."""
    buttons = [[Button("Ja", command="/ja"), Button("Hilfe", url="https://example.org/hilfe")]]
    await mx.messenger.send(message(text("Frage"), buttons=buttons, key="k2"))

    assert mx.client.sends[0].content["body"] == "Frage\n\n1️⃣ Ja\nHilfe: https://example.org/hilfe"
    assert [r.content["m.relates_to"]["key"] for r in mx.client.of_type("m.reaction")] == ["1️⃣"]
    assert mx.remembered[0][1] == {"1️⃣": "/ja"}


async def test_reactions_without_key_get_no_transaction_id(mx: Harness) -> None:
    """Without an outbox key, reactions leave the transaction id to nio as well."""
    await mx.messenger.send(message(buttons=[[Button("Ja", command="/ja")]], key=None))
    assert [r.tx_id for r in mx.client.of_type("m.reaction")] == [None]


@pytest.mark.parametrize(
    "failure",
    [
        room_error("M_FORBIDDEN"),
        room_error("M_LIMIT_EXCEEDED", retry_after_ms=500),
        aiohttp.ClientConnectionError(),
    ],
    ids=["forbidden", "rate-limited", "network"],
)
async def test_failed_reaction_does_not_fail_the_message(mx: Harness, failure: Any) -> None:
    """The message is out once its event is sent; a missing reaction shortcut is cosmetic."""
    mx.client.fail("m.reaction", failure)
    buttons = [[Button("Ja", command="/ja"), Button("Nein", command="/nein")]]
    sent = await mx.messenger.send(message(buttons=buttons))

    assert sent.message_id == "$event1:example.org"
    assert len(mx.client.of_type("m.reaction")) == 2  # the second reaction is still tried
    assert mx.remembered == [(sent.message_id, {"1️⃣": "/ja", "2️⃣": "/nein"})]


def test_button_keys_are_nine_distinct_keycaps() -> None:
    """Reaction keys are the keycap emoji 1–9 that clients offer in their picker."""
    assert len(BUTTON_KEYS) == len(set(BUTTON_KEYS)) == 9
    assert BUTTON_KEYS[0] == "1️⃣" and BUTTON_KEYS[-1] == "9️⃣"


# Splitting ------------------------------------------------------------------------------------


def long_markup() -> Markup:
    """Far more than one event's worth of paragraphs and bullets with escapable user text."""
    markup = Markup()
    for chapter in range(40):
        markup.line(bold(f"Kapitel {chapter}"), ": Beschlüsse & <Ziele>")
        for item in range(40):
            markup.bullet(f'Beschluss {chapter}.{item}: Wir gießen die Tomaten & Gurken <täglich> "früh"')
        markup.blank()
    return markup


def content_lines(markups: list[Markup]) -> list[str]:
    return [line.plain for markup in markups for line in markup.lines if not line.is_blank]


def test_small_message_is_not_split(mx: Harness) -> None:
    """A message within the budget is returned as it is."""
    original = message(buttons=[[Button("Ja", command="/ja")]])
    assert mx.messenger.prepare(original) == [original]


def test_large_message_is_split_within_the_event_budget(mx: Harness) -> None:
    """Each part's body plus formatted body stays within EVENT_BUDGET; no line is lost."""
    markup = long_markup()
    assert event_budget_size(markup) > 3 * EVENT_BUDGET
    buttons = [[Button("Mehr", command="/beschluesse 2")]]
    original = message(markup, buttons=buttons, reply_to="$question:example.org", key=None)

    parts = mx.messenger.prepare(original)

    assert len(parts) >= 4
    assert all(event_budget_size(p.markup) <= EVENT_BUDGET for p in parts)
    assert content_lines([p.markup for p in parts]) == content_lines([markup])
    assert [p.buttons for p in parts] == [[]] * (len(parts) - 1) + [buttons]
    assert [p.reply_to for p in parts] == ["$question:example.org"] + [None] * (len(parts) - 1)
    assert all(p.chat == GROUP for p in parts)
    # The original is not modified.
    assert original.buttons == buttons and original.markup is markup


def test_overlong_single_line_is_cut_within_the_budget(mx: Harness) -> None:
    """A single line larger than an event is cut into pieces, each within the budget."""
    markup = Markup().line("Wir gießen reihum. " * 4000)
    parts = mx.messenger.prepare(message(markup))
    assert len(parts) > 1
    assert all(event_budget_size(p.markup) <= EVENT_BUDGET for p in parts)
    assert "".join(p.markup.lines[0].plain for p in parts) == markup.lines[0].plain


CUT_LINE_BUG = (
    "bot/core/markup.py _cut_line (used by split() via MatrixMessenger.prepare): the chunk size "
    "(limit - 64) // 5 assumes at most 5 measure units per character, but MatrixMessenger._size "
    "counts UTF-8 bytes of the plain body plus the HTML body: '&' costs 1+5=6 and a 4-byte emoji "
    "4+4=8 bytes, so a single long line of '&' yields parts of 28,729 and of emoji 38,303 bytes, "
    "above EVENT_BUDGET (24,000); a single chunk is never re-checked against the limit"
)


@pytest.mark.parametrize("char", ["&", "🌱"], ids=["ampersand", "emoji"])
def test_overlong_line_of_wide_characters_is_cut_within_the_budget(mx: Harness, char: str) -> None:
    """Pieces of an overlong line must respect the budget whatever the characters cost."""
    parts = mx.messenger.prepare(message(Markup().line(char * 30_000)))
    assert [event_budget_size(p.markup) for p in parts if event_budget_size(p.markup) > EVENT_BUDGET] == []


@pytest.mark.parametrize(
    "markup",
    [long_markup(), Markup().line("🌱" * 30_000), Markup().line("&<>\"'\\" * 8_000)],
    ids=["paragraphs", "emoji-line", "escapes-line"],
)
async def test_every_sent_part_fits_into_a_matrix_event(mx: Harness, markup: Markup) -> None:
    """Whatever the split, each event sent (with its button lines) stays below the 64 KiB limit."""
    buttons = [[Button(f"Option {i} " + "ä" * 60, command=f"/wahl {i}") for i in range(9)]]
    parts = mx.messenger.prepare(message(markup, buttons=buttons, key=None))
    for index, part in enumerate(parts):
        part.key = f"kuemmerer-outbox-{index}"
        await mx.messenger.send(part)

    texts = mx.client.of_type("m.room.message")
    assert len(texts) == len(parts) > 1
    assert all(canonical_size(s.content) + ENVELOPE <= EVENT_LIMIT for s in texts)
    # Buttons (and so reactions) only on the last part.
    assert {r.content["m.relates_to"]["event_id"] for r in mx.client.of_type("m.reaction")} == {
        f"$event{len(parts)}:example.org"
    }
    assert [s.tx_id for s in texts] == [f"kuemmerer-outbox-{i}" for i in range(len(parts))]


def test_polls_and_files_are_not_split(mx: Harness) -> None:
    """Polls and attachments are sent as one event each."""
    poll = message(long_markup(), poll=PollSpec("Wann?", ("Mo", "Di")))
    file = message(long_markup(), attachment=Attachment("a.csv", "text/csv", b"x"))
    assert mx.messenger.prepare(poll) == [poll]
    assert mx.messenger.prepare(file) == [file]


# Polls ----------------------------------------------------------------------------------------


async def test_poll_is_an_msc3381_poll_start_with_index_answer_ids(mx: Harness) -> None:
    """Answer ids are the option indices, so responses map straight to option ids."""
    poll = PollSpec("Wann treffen wir uns?", ("Montag", "Dienstag", "<Mittwoch>"))
    sent = await mx.messenger.send(message(text(""), poll=poll, key="kuemmerer-outbox-3"))

    [call] = mx.client.sends
    assert call.room_id == ROOM
    assert call.type == "org.matrix.msc3381.poll.start"
    assert call.tx_id == "kuemmerer-outbox-3"
    start = call.content["org.matrix.msc3381.poll.start"]
    assert start["question"]["org.matrix.msc1767.text"] == "Wann treffen wir uns?"
    assert start["answers"] == [
        {"id": "0", "org.matrix.msc1767.text": "Montag"},
        {"id": "1", "org.matrix.msc1767.text": "Dienstag"},
        {"id": "2", "org.matrix.msc1767.text": "<Mittwoch>"},
    ]
    assert start["kind"] == "org.matrix.msc3381.poll.disclosed"
    assert start["max_selections"] == 1
    # Clients without poll support show the text fallback.
    fallback = "Wann treffen wir uns?\n1. Montag\n2. Dienstag\n3. <Mittwoch>"
    assert call.content["body"] == fallback
    assert call.content["org.matrix.msc1767.text"] == fallback
    assert sent == SentMessage(GROUP, sent.message_id, poll_id=sent.message_id)
    assert sent.poll_id == "$event1:example.org"


async def test_anonymous_multiple_choice_poll(mx: Harness) -> None:
    """Anonymous polls are undisclosed; multiple choice allows every option."""
    poll = PollSpec("Welche Themen?", ("A", "B", "C", "D"), allows_multiple=True, anonymous=True)
    await mx.messenger.send(message(poll=poll))
    start = mx.client.sends[0].content["org.matrix.msc3381.poll.start"]
    assert start["kind"] == "org.matrix.msc3381.poll.undisclosed"
    assert start["max_selections"] == 4


async def test_poll_in_private_chat_goes_to_the_resolved_room(mx: Harness) -> None:
    """Polls are routed like text."""
    await mx.messenger.send(message(chat=PRIVATE, poll=PollSpec("Ok?", ("ja", "nein"))))
    assert mx.resolved == [ANNA]
    assert mx.client.sends[0].room_id == DM_ROOM


async def test_close_poll_sends_poll_end_referencing_the_start(mx: Harness) -> None:
    """Ending the poll references its start event; clients then show the final result."""
    await mx.messenger.close_poll(ROOM, "$poll-start:example.org", "Die Umfrage ist beendet.")

    [call] = mx.client.sends
    assert call.room_id == ROOM
    assert call.type == "org.matrix.msc3381.poll.end"
    assert call.content["m.relates_to"] == {"rel_type": "m.reference", "event_id": "$poll-start:example.org"}
    assert call.content["org.matrix.msc3381.poll.end"] == {}
    assert call.content["body"] == "Die Umfrage ist beendet."
    assert call.content["org.matrix.msc1767.text"] == "Die Umfrage ist beendet."


async def test_an_outbox_row_with_close_poll_ends_the_poll(mx: Harness) -> None:
    """``OutgoingMessage.close_poll`` is a poll end whose fallback text is the markup, sent with
    the outbox key as transaction id (a retry never ends it twice)."""
    end = message(text("Abstimmung Nr. 1 ist beendet."), close_poll="$poll-start:example.org")
    assert mx.messenger.prepare(end) == [end]
    sent = await mx.messenger.send(end)
    [call] = mx.client.sends
    assert call.type == "org.matrix.msc3381.poll.end" and call.tx_id == "kuemmerer-outbox-1"
    assert call.content["m.relates_to"]["event_id"] == "$poll-start:example.org"
    assert call.content["body"] == "Abstimmung Nr. 1 ist beendet."
    assert sent.message_id == "$event1:example.org"


async def test_close_poll_maps_errors(mx: Harness) -> None:
    """A refused poll end is reported like any failed send."""
    mx.client.fail("org.matrix.msc3381.poll.end", room_error("M_FORBIDDEN"))
    with pytest.raises(PermanentDeliveryError):
        await mx.messenger.close_poll(ROOM, "$poll-start:example.org", "Ende")


# Files ----------------------------------------------------------------------------------------


async def test_csv_is_uploaded_then_sent_as_m_file(mx: Harness) -> None:
    """The file goes to the media repository first; the event points at its mxc URI."""
    data = "nr;text\n1;Wir gießen\n".encode()
    sent = await mx.messenger.send(
        message(Markup(), attachment=Attachment("beschluesse.csv", "text/csv", data), key="k5")
    )

    assert mx.client.uploads == [
        {"data": data, "content_type": "text/csv", "filename": "beschluesse.csv", "filesize": len(data)}
    ]
    [call] = mx.client.sends
    assert call.room_id == ROOM
    assert call.type == "m.room.message"
    assert call.tx_id == "k5"
    assert call.content == {
        "msgtype": "m.file",
        "body": "beschluesse.csv",
        "filename": "beschluesse.csv",
        "url": MXC,
        "info": {"mimetype": "text/csv", "size": len(data)},
    }
    assert sent == SentMessage(GROUP, "$event1:example.org")
    assert mx.client.log == ["upload", "send m.room.message"]


async def test_png_is_sent_as_m_image_with_a_caption_notice(mx: Harness) -> None:
    """Images are ``m.image``; markup text follows as a notice with a transaction id of its own."""
    data = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    caption = Markup().line("Diagramm für ", "<AG & Co>")
    sent = await mx.messenger.send(
        message(caption, attachment=Attachment("diagramm.png", "image/png", data), chat=PRIVATE, key="k6")
    )

    image, note = mx.client.sends
    assert image.content["msgtype"] == "m.image"
    assert image.content["url"] == MXC
    assert image.content["info"] == {"mimetype": "image/png", "size": len(data)}
    assert image.room_id == note.room_id == DM_ROOM
    assert note.content["msgtype"] == "m.notice"
    assert note.content["body"] == "Diagramm für <AG & Co>"
    assert note.content["formatted_body"] == "<p>Diagramm für &lt;AG &amp; Co&gt;</p>"
    assert (image.tx_id, note.tx_id) == ("k6", "k6-caption")
    assert sent.message_id == "$event1:example.org"  # the file event is the message
    assert mx.resolved == [ANNA]


async def test_caption_buttons_become_reactions_on_the_caption(mx: Harness) -> None:
    """Buttons of a file message are attached to its caption notice."""
    await mx.messenger.send(
        message(
            text("Export"),
            attachment=Attachment("a.csv", "text/csv", b"x"),
            buttons=[[Button("Nochmal", command="/export")]],
            key="k7",
        )
    )
    file_event, caption = mx.client.of_type("m.room.message")
    [reaction] = mx.client.of_type("m.reaction")
    assert reaction.content["m.relates_to"]["event_id"] == "$event2:example.org"
    assert reaction.tx_id == "k7-caption-r0"
    assert mx.remembered == [("$event2:example.org", {"1️⃣": "/export"})]


async def test_failed_upload_sends_nothing(mx: Harness) -> None:
    """An upload refused as too large is permanent, and no event points at a missing file."""
    mx.client.upload_outcome = nio.UploadError.from_dict({"errcode": "M_TOO_LARGE", "error": "too big"})
    with pytest.raises(PermanentDeliveryError):
        await mx.messenger.send(message(attachment=Attachment("a.csv", "text/csv", b"x")))
    assert mx.client.sends == []


async def test_rate_limited_upload_is_retried_later(mx: Harness) -> None:
    """Upload rate limits map like send rate limits."""
    mx.client.upload_outcome = nio.UploadError.from_dict(
        {"errcode": "M_LIMIT_EXCEEDED", "error": "slow down", "retry_after_ms": 3000}
    )
    with pytest.raises(RetryLater) as caught:
        await mx.messenger.send(message(attachment=Attachment("a.csv", "text/csv", b"x")))
    assert caught.value.seconds == 3.0


async def test_upload_network_error_is_transient(mx: Harness) -> None:
    """A connection lost during the upload is retried."""
    mx.client.upload_outcome = aiohttp.ClientConnectionError("reset")
    with pytest.raises(TransientDeliveryError):
        await mx.messenger.send(message(attachment=Attachment("a.csv", "text/csv", b"x")))


async def test_failed_caption_fails_the_message_and_a_retry_does_not_duplicate_the_file(mx: Harness) -> None:
    """The retry re-sends the file with the same transaction id, which the homeserver deduplicates."""
    mx.client.fail("m.room.message", nio.RoomSendResponse("$file:example.org", ROOM), room_error("M_UNKNOWN"))
    msg = message(text("Export"), attachment=Attachment("a.csv", "text/csv", b"x"), key="k8")
    with pytest.raises(TransientDeliveryError):
        await mx.messenger.send(msg)
    await mx.messenger.send(msg)
    assert [s.tx_id for s in mx.client.sends] == ["k8", "k8-caption", "k8", "k8-caption"]


# Errors ---------------------------------------------------------------------------------------


async def test_rate_limit_with_retry_after_is_retry_later(mx: Harness) -> None:
    """``M_LIMIT_EXCEEDED`` tells the outbox how long to wait, in seconds."""
    mx.client.fail("m.room.message", room_error("M_LIMIT_EXCEEDED", "Too Many Requests", retry_after_ms=2500))
    with pytest.raises(RetryLater) as caught:
        await mx.messenger.send(message())
    assert caught.value.seconds == 2.5


async def test_rate_limit_without_retry_after_waits_a_second(mx: Harness) -> None:
    """Without a hint the outbox waits a default second."""
    mx.client.fail("m.room.message", room_error("M_LIMIT_EXCEEDED", "Too Many Requests"))
    with pytest.raises(RetryLater) as caught:
        await mx.messenger.send(message())
    assert caught.value.seconds == 1.0


@pytest.mark.parametrize("errcode", ["M_FORBIDDEN", "M_NOT_FOUND", "M_TOO_LARGE", "M_BAD_JSON"])
async def test_refusals_are_permanent(mx: Harness, errcode: str) -> None:
    """The bot was removed, the room is gone or the event is invalid: retrying cannot help."""
    mx.client.fail("m.room.message", room_error(errcode, "You are not in this room"))
    with pytest.raises(PermanentDeliveryError) as caught:
        await mx.messenger.send(message())
    assert errcode in caught.value.reason
    assert not caught.value.blocked_private


@pytest.mark.parametrize(
    "response",
    [
        room_error("M_UNKNOWN", "Internal server error"),
        room_error("M_UNKNOWN_TOKEN", "Invalid access token"),
        room_error("ORG_EXAMPLE_NEW_CODE", "something new"),
        room_error(None),  # a 502 HTML page: nio builds "unknown error" without errcode
    ],
    ids=["unknown", "unknown-token", "new-errcode", "html-5xx"],
)
async def test_unknown_errcodes_and_server_errors_are_transient(
    mx: Harness, response: nio.RoomSendError
) -> None:
    """Anything else may heal (server back, token fixed): the outbox retries with backoff."""
    mx.client.fail("m.room.message", response)
    with pytest.raises(TransientDeliveryError):
        await mx.messenger.send(message())


@pytest.mark.parametrize(
    "error",
    [
        aiohttp.ClientConnectionError("connection refused"),
        aiohttp.ServerDisconnectedError(),
        TimeoutError(),
        ConnectionResetError("reset by peer"),
    ],
    ids=["client-connection", "server-disconnected", "timeout", "connection-reset"],
)
async def test_network_errors_raised_by_the_client_are_transient(mx: Harness, error: BaseException) -> None:
    """Exceptions from the transport become transient delivery errors, chained to the cause."""
    mx.client.fail("m.room.message", error)
    with pytest.raises(TransientDeliveryError) as caught:
        await mx.messenger.send(message())
    assert caught.value.__cause__ is error


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (room_error("M_LIMIT_EXCEEDED", retry_after_ms=4000), RetryLater),
        (room_error("M_FORBIDDEN"), PermanentDeliveryError),
        (TimeoutError(), TransientDeliveryError),
    ],
    ids=["rate-limited", "forbidden", "timeout"],
)
async def test_poll_errors_are_mapped_like_text(
    mx: Harness, response: Any, expected: type[Exception]
) -> None:
    """Poll sends share the mapping."""
    mx.client.fail("org.matrix.msc3381.poll.start", response)
    with pytest.raises(expected):
        await mx.messenger.send(message(poll=PollSpec("Ok?", ("ja", "nein"))))


async def test_resolve_room_errors(mx: Harness) -> None:
    """A delivery error from creating the direct room passes through; a network error is transient."""
    mx.resolve_error = PermanentDeliveryError("create direct room: M_FORBIDDEN")
    with pytest.raises(PermanentDeliveryError):
        await mx.messenger.send(message(chat=PRIVATE))
    mx.resolve_error = aiohttp.ClientConnectionError("refused")
    with pytest.raises(TransientDeliveryError):
        await mx.messenger.send(message(chat=PRIVATE))
    assert mx.resolved == [ANNA, ANNA]
    assert mx.client.sends == []
