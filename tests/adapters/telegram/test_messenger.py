"""TelegramMessenger against an in-process fake transport: rendering, splitting, buttons, polls,
files and the mapping of Bot API errors to the outbox's delivery errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.adapters.telegram.messenger import CALLBACK_LIMIT, STORED_PREFIX, TelegramMessenger, utf16_length
from bot.core.errors import PermanentDeliveryError, RetryLater, TransientDeliveryError
from bot.core.events import (
    Attachment,
    Button,
    ChatKind,
    ChatRef,
    OutgoingMessage,
    Platform,
    PollSpec,
)
from bot.core.markup import Markup, bold, render_html, render_plain
from tests.adapters.telegram.fake_request import (
    ApiError,
    FakeRequest,
    bad_gateway,
    chat_not_found,
    flood,
    forbidden,
    migrated,
    reply_not_found,
)

TOKEN = "123456:TEST"
GROUP = ChatRef(Platform.TELEGRAM, "-1001000", ChatKind.GROUP, "AG Bildung")
BASIC_GROUP = ChatRef(Platform.TELEGRAM, "-4711", ChatKind.GROUP, "AG Alt")
PRIVATE = ChatRef(Platform.TELEGRAM, "42", ChatKind.PRIVATE, "Anna")
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024


@dataclass
class Harness:
    """The messenger under test, its fake transport and what its callbacks received."""

    api: FakeRequest
    messenger: TelegramMessenger
    stored: list[tuple[str, str]] = field(default_factory=list)
    migrations: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
async def tg() -> AsyncIterator[Harness]:
    api = FakeRequest()
    bot = Bot(TOKEN, request=api, get_updates_request=FakeRequest())
    await bot.initialize()
    stored: list[tuple[str, str]] = []
    migrations: list[tuple[str, str]] = []

    async def store_button(key: str, command: str) -> None:
        stored.append((key, command))

    async def on_migrate(old: str, new: str) -> None:
        migrations.append((old, new))

    harness = Harness(api, TelegramMessenger(bot, store_button, on_migrate), stored, migrations)
    try:
        yield harness
    finally:
        await bot.shutdown()


def text(*lines: str) -> Markup:
    markup = Markup()
    for line in lines:
        if line:
            markup.line(line)
        else:
            markup.blank()
    return markup


def html_units(markup: Markup) -> int:
    return utf16_length(render_html(markup))


# Rendering -------------------------------------------------------------------------------------


async def test_text_goes_as_html_with_user_text_escaped(tg: Harness) -> None:
    markup = Markup().line(bold("Beschluss Nr. 1"), ": ", "<b>fett</b> & <script>alert(1)</script>")
    sent = await tg.messenger.send(OutgoingMessage(GROUP, markup))
    [call] = tg.api.calls_to("sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"] == (
        "<b>Beschluss Nr. 1</b>: &lt;b&gt;fett&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;"
    )
    assert int(call.params["chat_id"]) == -1001000
    assert "reply_parameters" not in call.params and "reply_markup" not in call.params
    assert sent.chat == GROUP and sent.message_id == "1001" and sent.poll_id is None


async def test_numeric_reply_reference_becomes_reply_parameters(tg: Harness) -> None:
    await tg.messenger.send(OutgoingMessage(GROUP, text("Antwort"), reply_to="17"))
    await tg.messenger.send(OutgoingMessage(GROUP, text("Matrix-Id"), reply_to="$event:matrix.org"))
    first, second = tg.api.calls_to("sendMessage")
    assert first.params["reply_parameters"] == {"message_id": 17, "allow_sending_without_reply": True}
    assert "reply_parameters" not in second.params


async def test_message_ids_increase(tg: Harness) -> None:
    ids = [(await tg.messenger.send(OutgoingMessage(GROUP, text(f"Nr. {n}")))).message_id for n in range(3)]
    assert ids == ["1001", "1002", "1003"]


# Splitting -------------------------------------------------------------------------------------


def test_a_short_message_is_not_split(tg: Harness) -> None:
    message = OutgoingMessage(GROUP, text("kurz"), reply_to="5", buttons=[[Button("Weiter", "/weiter")]])
    assert tg.messenger.prepare(message) == [message]


def test_emoji_text_is_split_by_utf16_units_not_characters(tg: Harness) -> None:
    # 2 × 1,500 emoji: about 3,000 characters but 6,000 UTF-16 units.
    markup = text("😀" * 1500, "", "🎉" * 1500)
    assert len(render_html(markup)) <= TEXT_LIMIT < html_units(markup)
    parts = tg.messenger.prepare(OutgoingMessage(GROUP, markup))
    assert [render_plain(p.markup) for p in parts] == ["😀" * 1500, "🎉" * 1500]


def test_long_message_parts_fit_and_keep_reply_first_buttons_last(tg: Harness) -> None:
    paragraphs = [f"Absatz {n}: " + "🌻 Gießkanne & <Beet> " * 40 for n in range(20)]
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += [paragraph, ""]
    fallback = OutgoingMessage(GROUP, text("Bitte starte den Bot privat."))
    buttons = [[Button("Mehr", "/beschluesse seite 2")]]
    message = OutgoingMessage(PRIVATE, text(*lines), reply_to="9", buttons=buttons, fallback=fallback)

    parts = tg.messenger.prepare(message)

    assert len(parts) > 1
    assert all(html_units(p.markup) <= TEXT_LIMIT for p in parts)
    assert [p.reply_to for p in parts] == ["9"] + [None] * (len(parts) - 1)
    assert [p.buttons for p in parts] == [[]] * (len(parts) - 1) + [buttons]
    assert [p.fallback for p in parts] == [fallback] + [None] * (len(parts) - 1)
    # Nothing lost, nothing repeated, order kept; splits land between paragraphs.
    texts = [line.plain for p in parts for line in p.markup.lines if not line.is_blank]
    assert texts == paragraphs


def test_one_overlong_emoji_line_is_cut_without_loss(tg: Harness) -> None:
    line = "👩‍👩‍👧 Familie " * 900  # no paragraph or line break to split at
    parts = tg.messenger.prepare(OutgoingMessage(GROUP, text(line)))
    assert len(parts) > 1
    assert all(html_units(p.markup) <= TEXT_LIMIT for p in parts)
    assert "".join(render_plain(p.markup) for p in parts) == line


async def test_sent_parts_fit_the_limit_and_carry_reply_and_buttons_once(tg: Harness) -> None:
    markup = text(*[x for n in range(12) for x in (f"Teil {n} " + "✨🎈" * 300, "")])
    buttons = [[Button("Weiter", "/weiter")]]
    parts = tg.messenger.prepare(OutgoingMessage(GROUP, markup, reply_to="3", buttons=buttons))
    for part in parts:
        await tg.messenger.send(part)
    calls = tg.api.calls_to("sendMessage")
    assert len(calls) == len(parts) > 1
    assert all(utf16_length(c.params["text"]) <= TEXT_LIMIT for c in calls)
    assert ["reply_parameters" in c.params for c in calls] == [True] + [False] * (len(calls) - 1)
    assert ["reply_markup" in c.params for c in calls] == [False] * (len(calls) - 1) + [True]


def test_caption_at_the_limit_stays_a_caption(tg: Harness) -> None:
    file = Attachment("plan.png", "image/png", b"\x89PNG")
    message = OutgoingMessage(GROUP, text("🗓" * (CAPTION_LIMIT // 2)), attachment=file)
    assert html_units(message.markup) == CAPTION_LIMIT
    assert tg.messenger.prepare(message) == [message]


async def test_an_overlong_caption_becomes_a_bare_file_plus_text(tg: Harness) -> None:
    file = Attachment("beschluesse.csv", "text/csv", b"nr;text\n1;x\n")
    caption = text("🗓" * (CAPTION_LIMIT // 2 + 1))  # one UTF-16 unit pair too many
    buttons = [[Button("Alle", "/beschluesse")]]
    message = OutgoingMessage(GROUP, caption, reply_to="8", buttons=buttons, attachment=file)

    bare, *rest = tg.messenger.prepare(message)

    assert bare.attachment == file and not bare.markup.lines and bare.buttons == [] and bare.reply_to == "8"
    assert rest and all(p.attachment is None and p.reply_to is None for p in rest)
    assert rest[-1].buttons == buttons
    assert "".join(render_plain(p.markup) for p in rest) == render_plain(caption)
    for part in (bare, *rest):
        await tg.messenger.send(part)
    [document] = tg.api.calls_to("sendDocument")
    assert "caption" not in document.params and "reply_markup" not in document.params
    assert document.params["reply_parameters"]["message_id"] == 8
    assert [c.params["text"] for c in tg.api.calls_to("sendMessage")] == [render_html(caption)]


def test_an_overlong_caption_keeps_the_fallback_on_one_part_only(tg: Harness) -> None:
    # A blocked private chat fails every part; only one of them may trigger the fallback.
    fallback = OutgoingMessage(GROUP, text("Bitte starte den Bot privat."))
    file = Attachment("export.xlsx", "application/vnd.ms-excel", b"PK")
    message = OutgoingMessage(PRIVATE, text("x" * 2000), attachment=file, fallback=fallback)
    parts = tg.messenger.prepare(message)
    assert [p.fallback is not None for p in parts] == [True] + [False] * (len(parts) - 1)


# Buttons ---------------------------------------------------------------------------------------


async def test_command_buttons_become_callback_data(tg: Harness) -> None:
    exactly_64 = "/beschluesse suche " + "x" * (CALLBACK_LIMIT - len("/beschluesse suche "))
    assert len(exactly_64.encode()) == CALLBACK_LIMIT
    buttons = [[Button("Seite 2", "/beschluesse seite 2"), Button("Suche", exactly_64)]]
    await tg.messenger.send(OutgoingMessage(GROUP, text("Liste"), buttons=buttons))
    [call] = tg.api.calls_to("sendMessage")
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Seite 2", "callback_data": "/beschluesse seite 2"},
                {"text": "Suche", "callback_data": exactly_64},
            ]
        ]
    }
    assert tg.stored == []


async def test_commands_over_64_bytes_are_stored_under_a_short_key(tg: Harness) -> None:
    # 47 characters but 75 bytes: the limit is in bytes.
    command = "/beschluesse suche " + "Ä" * 21 + "ß" * 7
    assert len(command) < CALLBACK_LIMIT < len(command.encode())
    await tg.messenger.send(OutgoingMessage(GROUP, text("Liste"), buttons=[[Button("Suche", command)]]))
    await tg.messenger.send(OutgoingMessage(GROUP, text("Nochmal"), buttons=[[Button("Suche", command)]]))
    calls = tg.api.calls_to("sendMessage")
    keys = [c.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] for c in calls]
    assert keys[0] == keys[1]  # the key is a function of the command
    key = keys[0]
    assert key.startswith(STORED_PREFIX) and len(key.encode()) <= CALLBACK_LIMIT
    assert tg.stored == [(key, command), (key, command)]


async def test_url_and_deep_link_buttons(tg: Harness) -> None:
    buttons = [
        [Button("Satzung", url="https://example.org/satzung")],
        [Button("Privat weiter", start_payload="onboarding-7")],
    ]
    await tg.messenger.send(OutgoingMessage(GROUP, text("Links"), buttons=buttons))
    [call] = tg.api.calls_to("sendMessage")
    assert call.params["reply_markup"]["inline_keyboard"] == [
        [{"text": "Satzung", "url": "https://example.org/satzung"}],
        [{"text": "Privat weiter", "url": "https://t.me/kuemmerer_unit_bot?start=onboarding-7"}],
    ]


# Polls and files -------------------------------------------------------------------------------


async def test_poll_is_sent_natively_and_reports_its_id(tg: Harness) -> None:
    poll = PollSpec("Wann treffen wir uns?", ("Montag", "Mittwoch", "Freitag"), allows_multiple=True)
    sent = await tg.messenger.send(OutgoingMessage(GROUP, Markup(), reply_to="4", poll=poll))
    [call] = tg.api.calls_to("sendPoll")
    assert call.params["question"] == "Wann treffen wir uns?"
    assert call.params["options"] == [{"text": "Montag"}, {"text": "Mittwoch"}, {"text": "Freitag"}]
    assert call.params["is_anonymous"] is False and call.params["allows_multiple_answers"] is True
    assert call.params["reply_parameters"]["message_id"] == 4
    assert sent.poll_id == "5000000000000000001" and sent.message_id == "1001"


def test_a_poll_is_never_split(tg: Harness) -> None:
    message = OutgoingMessage(GROUP, text("x" * 5000), poll=PollSpec("Frage?", ("Ja", "Nein")))
    assert tg.messenger.prepare(message) == [message]


async def test_close_poll_stops_it(tg: Harness) -> None:
    sent = await tg.messenger.send(OutgoingMessage(GROUP, Markup(), poll=PollSpec("Frage?", ("Ja", "Nein"))))
    await tg.messenger.close_poll(GROUP.external_id, sent.message_id)
    [call] = tg.api.calls_to("stopPoll")
    assert int(call.params["chat_id"]) == -1001000 and call.params["message_id"] == 1001
    assert tg.api.polls[(-1001000, 1001)]["is_closed"] is True


async def test_an_outbox_row_with_close_poll_stops_the_poll_once(tg: Harness) -> None:
    """``OutgoingMessage.close_poll`` (durable, retried by the outbox) is stopPoll; a second stop
    (a retry after a lost answer) finds it closed and counts as done."""
    sent = await tg.messenger.send(OutgoingMessage(GROUP, Markup(), poll=PollSpec("Frage?", ("Ja", "Nein"))))
    end = OutgoingMessage(GROUP, text("Abstimmung Nr. 1 ist beendet."), close_poll=sent.message_id)
    assert tg.messenger.prepare(end) == [end]
    assert (await tg.messenger.send(end)).message_id == sent.message_id
    assert tg.api.polls[(-1001000, 1001)]["is_closed"] is True
    tg.api.queue_error("stopPoll", 400, "Bad Request: poll has already been closed")
    await tg.messenger.send(end)
    assert len(tg.api.calls_to("stopPoll")) == 2
    assert not tg.api.calls_to("sendMessage")
    with pytest.raises(PermanentDeliveryError):
        await tg.messenger.send(OutgoingMessage(GROUP, Markup(), close_poll="not-a-number"))


@pytest.mark.parametrize("mime_type", ["image/png", "image/jpeg"])
async def test_images_go_as_photos(tg: Harness, mime_type: str) -> None:
    image = Attachment("diagramm.png", mime_type, b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    await tg.messenger.send(OutgoingMessage(GROUP, Markup().line(bold("Ergebnis"), " <3"), attachment=image))
    [call] = tg.api.calls_to("sendPhoto")
    assert call.params["caption"] == "<b>Ergebnis</b> &lt;3" and call.params["parse_mode"] == "HTML"
    filename, content, _ = call.files["photo"]
    assert filename == "diagramm.png" and content == image.data
    assert not tg.api.calls_to("sendDocument")


@pytest.mark.parametrize(
    ("filename", "mime_type"),
    [
        ("beschluesse.csv", "text/csv"),
        ("ziele.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("treffen.ics", "text/calendar"),
    ],
)
async def test_other_files_go_as_documents_with_their_name(
    tg: Harness, filename: str, mime_type: str
) -> None:
    file = Attachment(filename, mime_type, b"BEGIN;data;\xc3\xa4\n")
    sent = await tg.messenger.send(OutgoingMessage(GROUP, Markup(), attachment=file))
    [call] = tg.api.calls_to("sendDocument")
    assert call.files["document"][:2] == (filename, file.data)
    assert "caption" not in call.params
    assert sent.message_id == "1001"
    assert not tg.api.calls_to("sendPhoto")


# Errors ----------------------------------------------------------------------------------------


async def test_flood_control_becomes_retry_later_with_the_seconds(tg: Harness) -> None:
    tg.api.queue("sendMessage", flood(7))
    with pytest.raises(RetryLater) as caught:
        await tg.messenger.send(OutgoingMessage(GROUP, text("Hallo")))
    assert caught.value.seconds == 7.0


@pytest.mark.parametrize(
    ("chat", "description", "blocked"),
    [
        (PRIVATE, "Forbidden: bot was blocked by the user", True),
        (PRIVATE, "Forbidden: bot can't initiate conversation with a user", True),
        (GROUP, "Forbidden: bot was kicked from the supergroup chat", False),
    ],
)
async def test_forbidden_is_permanent_and_marks_blocked_private_chats(
    tg: Harness, chat: ChatRef, description: str, blocked: bool
) -> None:
    tg.api.queue("sendMessage", forbidden(description))
    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.messenger.send(OutgoingMessage(chat, text("Hallo")))
    assert caught.value.blocked_private is blocked
    assert caught.value.reason.startswith("forbidden:")
    assert len(tg.api.calls_to("sendMessage")) == 1


async def test_chat_not_found_is_permanent(tg: Harness) -> None:
    tg.api.queue("sendMessage", chat_not_found())
    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.messenger.send(OutgoingMessage(GROUP, text("Hallo")))
    assert caught.value.blocked_private is False
    assert "chat not found" in caught.value.reason.lower()


async def test_invalid_token_is_permanent(tg: Harness) -> None:
    tg.api.queue("sendMessage", ApiError(401, "Unauthorized"))
    with pytest.raises(PermanentDeliveryError):
        await tg.messenger.send(OutgoingMessage(GROUP, text("Hallo")))


@pytest.mark.parametrize(
    "failure",
    [
        NetworkError("connection reset by peer"),
        TimedOut(),
        bad_gateway(),
        ApiError(500, "Internal Server Error"),
        ConnectionResetError("socket closed"),  # PTB wraps foreign exceptions in NetworkError
    ],
    ids=["network", "timeout", "502", "500", "oserror"],
)
async def test_transport_and_server_failures_are_transient(tg: Harness, failure: object) -> None:
    tg.api.queue("sendMessage", failure)
    with pytest.raises(TransientDeliveryError):
        await tg.messenger.send(OutgoingMessage(GROUP, text("Hallo")))
    assert (await tg.messenger.send(OutgoingMessage(GROUP, text("Hallo")))).message_id == "1001"


async def test_migrated_group_is_followed_and_the_message_resent(tg: Harness) -> None:
    tg.api.queue("sendMessage", migrated(-1004711))
    sent = await tg.messenger.send(OutgoingMessage(BASIC_GROUP, text("Hallo"), reply_to="12"))
    assert tg.migrations == [("-4711", "-1004711")]
    first, second = tg.api.calls_to("sendMessage")
    assert int(first.params["chat_id"]) == -4711 and int(second.params["chat_id"]) == -1004711
    assert second.params["text"] == first.params["text"] == "Hallo"
    assert sent.message_id == "1001"


async def test_migration_then_failure_maps_the_second_error(tg: Harness) -> None:
    tg.api.queue("sendMessage", migrated(-1004711), flood(3))
    with pytest.raises(RetryLater) as caught:
        await tg.messenger.send(OutgoingMessage(BASIC_GROUP, text("Hallo")))
    assert caught.value.seconds == 3.0
    assert tg.migrations == [("-4711", "-1004711")]


async def test_deleted_reply_target_is_answered_without_reference(tg: Harness) -> None:
    tg.api.queue("sendMessage", reply_not_found())
    sent = await tg.messenger.send(OutgoingMessage(GROUP, text("Antwort"), reply_to="99"))
    first, second = tg.api.calls_to("sendMessage")
    assert first.params["reply_parameters"]["message_id"] == 99
    assert "reply_parameters" not in second.params and second.params["text"] == "Antwort"
    assert sent.message_id == "1001"


async def test_other_bad_requests_are_permanent_without_retry(tg: Harness) -> None:
    tg.api.queue("sendMessage", ApiError(400, "Bad Request: can't parse entities: unclosed tag"))
    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.messenger.send(OutgoingMessage(GROUP, text("Antwort"), reply_to="99"))
    assert "parse entities" in caught.value.reason
    assert len(tg.api.calls_to("sendMessage")) == 1


async def test_reply_not_found_without_a_reference_is_permanent(tg: Harness) -> None:
    tg.api.queue("sendMessage", reply_not_found())
    with pytest.raises(PermanentDeliveryError):
        await tg.messenger.send(OutgoingMessage(GROUP, text("Antwort")))
    assert len(tg.api.calls_to("sendMessage")) == 1
