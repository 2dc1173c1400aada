"""A fake Telegram Bot API server for end-to-end tests over real HTTP.

The server speaks the Bot API wire protocol closely enough that an unmodified
python-telegram-bot (PTB) ``Bot`` or ``Application`` can talk to it: requests
arrive as ``{base_url}{token}/{method}`` with JSON, form or multipart bodies,
answers are ``{"ok": true, "result": ...}`` or Bot API error objects.

Behind the HTTP layer sits a small in-memory world (users, chats, admins,
messages, polls, files) used to answer requests and to build realistic
updates that tests inject. Everything the bot does is recorded, and faults
(flood control, proxy errors, dropped connections, slow answers) can be
scripted per method.

Typical use::

    async with FakeTelegramServer() as server:
        server.add_user(42, "Alice", username="alice")
        server.add_chat(-100123, type="supergroup", title="AG Garten")
        bot = telegram.Bot(server.token, base_url=server.base_url,
                           base_file_url=server.base_file_url)
        async with bot:
            server.inject_message(-100123, 42, "/start")
            updates = await bot.get_updates(timeout=5)
            await bot.send_message(-100123, "Hallo!")
        [sent] = await server.wait_for_messages(-100123, 1)

Notes on fidelity (deliberate simplifications are listed here, not hidden):

* HTML ``parse_mode`` is parsed into plain text plus entities, and malformed
  HTML is rejected with Telegram's "can't parse entities" error. Markdown
  modes are passed through unparsed.
* Leading and trailing whitespace of texts and captions is trimmed, as
  Telegram does.
* ``allowed_updates`` is honoured like Telegram does: it is persisted between
  ``getUpdates`` calls, and updates of a type that is not allowed at the time
  they are injected are never queued (see :attr:`FakeTelegramServer.dropped_updates`).
  Without any setting, ``chat_member``, ``message_reaction`` and
  ``message_reaction_count`` updates are not delivered.
* Polls never close by themselves (``open_period``/``close_date`` are ignored).
* Photos are not decoded; every photo gets one fixed-size ``PhotoSize``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Final, Literal, TypeAlias

from aiohttp import web

__all__ = [
    "ApiError",
    "ChatMemberStatus",
    "ChatType",
    "Drop",
    "FakeChat",
    "FakeServerError",
    "FakeTelegramServer",
    "FakeUser",
    "Fault",
    "RecordedCall",
    "RetryAfter",
    "ServerError",
    "Slow",
    "StoredFile",
    "UploadedFile",
]

_LOGGER = logging.getLogger(__name__)

JSONDict: TypeAlias = dict[str, Any]
ChatType: TypeAlias = Literal["private", "group", "supergroup", "channel"]
ChatMemberStatus: TypeAlias = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

_CHAT_TYPES: Final = frozenset({"private", "group", "supergroup", "channel"})
_MEMBER_STATUSES: Final = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})

#: Update types Telegram delivers when ``allowed_updates`` was never set or
#: set to an empty list: everything except these three.
_NOT_DELIVERED_BY_DEFAULT: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Bot API limits the fake enforces because exceeding them is a classic
# production-only failure.
_MAX_TEXT_LENGTH: Final = 4096
_MAX_CAPTION_LENGTH: Final = 1024
_MAX_CALLBACK_DATA_BYTES: Final = 64
_MIN_POLL_OPTIONS: Final = 2
_MAX_POLL_OPTIONS: Final = 12
_MAX_UPDATES_LIMIT: Final = 100
# Telegram accepts uploads up to 50 MB; leave headroom for multipart framing.
_CLIENT_MAX_SIZE: Final = 64 * 1024 * 1024
# Photos are not decoded, so every uploaded photo reports this size.
_PHOTO_WIDTH: Final = 1280
_PHOTO_HEIGHT: Final = 720

_FORBIDDEN_CANT_INITIATE: Final = "Forbidden: bot can't initiate conversation with a user"
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
_CONFLICT_OTHER_POLL: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_CONFLICT_WEBHOOK: Final = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
    "to delete the webhook first"
)

# In form and multipart bodies PTB sends strings verbatim and everything else
# JSON-encoded, so "123" could be either. These parameters are strings in the
# Bot API and must therefore never be JSON-decoded (a text "42" stays "42").
_STRING_PARAMS: Final = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "custom_title",
        "description",
        "description_parse_mode",
        "document",
        "emoji",
        "explanation",
        "explanation_parse_mode",
        "file_id",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "photo",
        "question",
        "question_parse_mode",
        "secret_token",
        "short_description",
        "text",
        "thumbnail",
        "title",
        "type",
        "url",
    }
)

# Any one of these turns a dict into a valid inline keyboard button.
_INLINE_BUTTON_ACTIONS: Final = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)

# The rights and permissions the Bot API lists for administrators and restricted members
# (shared with the unit tests' fakes).
ADMIN_RIGHTS: Final = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)
RESTRICTED_PERMISSIONS: Final = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
    "can_react_to_messages",
)

_BOT_COMMAND_RE: Final = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}")
_COMMAND_NAME_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_TEXT_MENTION_RE: Final = re.compile(r"tg://user\?id=(\d+)")
# Telegram's HTML parser treats every "<" as the start of a tag, so a bare
# "<" (as in "1 < 2" or "<3") is an error there, unlike in browsers.
_STRAY_LT_RE: Final = re.compile(r"<(?![A-Za-z]|/[A-Za-z])([^\s>]*)")


# --------------------------------------------------------------------------
# Fault kinds
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryAfter:
    """Flood control: answer HTTP 429 with ``parameters.retry_after``.

    Attributes:
        seconds: Value of ``retry_after``; PTB raises ``telegram.error.RetryAfter``.
    """

    seconds: int


@dataclass(frozen=True)
class ServerError:
    """An HTTP error with a non-JSON body, like a reverse proxy in front of Telegram.

    Attributes:
        status: HTTP status code; PTB maps 5xx to ``telegram.error.NetworkError``.
        body: Response body, deliberately not JSON.
    """

    status: int = 502
    body: str = "<html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass(frozen=True)
class Drop:
    """Close the connection without sending any response.

    Attributes:
        after_processing: If true the request is fully executed first (the
            message *is* sent) and only the answer is lost; this is the case
            that produces duplicates when a client retries blindly.
    """

    after_processing: bool = False


@dataclass(frozen=True)
class Slow:
    """Delay the answer, then process the request normally.

    The request is executed even if the client gave up waiting meanwhile,
    exactly like Telegram would.

    Attributes:
        seconds: Delay before processing.
    """

    seconds: float


@dataclass(frozen=True)
class ApiError:
    """Answer with an arbitrary Bot API error object.

    Attributes:
        error_code: HTTP status and ``error_code``, e.g. 400.
        description: Bot API description, e.g. ``"Bad Request: chat not found"``.
        parameters: Optional ``parameters`` object (``retry_after``,
            ``migrate_to_chat_id``).
    """

    error_code: int
    description: str
    parameters: Mapping[str, Any] | None = None


Fault: TypeAlias = RetryAfter | ServerError | Drop | Slow | ApiError


# --------------------------------------------------------------------------
# Records and world objects
# --------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file part of a multipart request.

    Attributes:
        field_name: Name of the multipart part.
        filename: File name the client declared.
        content_type: MIME type the client declared.
        data: Raw content.
    """

    field_name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class RecordedCall:
    """One Bot API request as received by the server.

    Unpacks like a ``(method, params, timestamp)`` tuple; the remaining
    fields are extra information.

    Attributes:
        method: Canonical method name (``sendMessage``); unknown methods keep
            the spelling used in the URL.
        params: Decoded parameters. File parts appear as :class:`UploadedFile`.
        timestamp: ``time.monotonic()`` when the request arrived.
        token: Bot token taken from the URL.
        http_method: ``GET`` or ``POST``.
        fault: Scripted fault applied to this call, if any.
        status: HTTP status answered; ``None`` while in flight or if dropped.
    """

    method: str
    params: JSONDict
    timestamp: float
    token: str
    http_method: str = "POST"
    fault: Fault | None = None
    status: int | None = None

    def __iter__(self) -> Iterator[Any]:
        """Yield ``method``, ``params`` and ``timestamp`` for tuple unpacking."""
        return iter((self.method, self.params, self.timestamp))


@dataclass
class FakeUser:
    """A Telegram user (or bot) known to the fake world.

    Attributes:
        id: User id.
        first_name: First name.
        username: Username without ``@``.
        is_bot: Whether the user is a bot.
        last_name: Last name.
        language_code: IETF language tag, e.g. ``"de"``.
    """

    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False
    last_name: str | None = None
    language_code: str | None = None

    def to_api(self) -> JSONDict:
        """Return the Bot API ``User`` object."""
        data: JSONDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass
class FakeChat:
    """A chat known to the fake world.

    Attributes:
        id: Chat id (negative for groups, ``-100…`` for supergroups by convention).
        type: Chat type.
        title: Title of groups, supergroups and channels.
        username: Public username without ``@``.
        first_name: First name of the private chat partner.
        last_name: Last name of the private chat partner.
        is_forum: Whether the supergroup has topics enabled.
        member_status: Known membership status per user id, including the bot.
        messages: Live messages by id (deleted ones are removed).
        blocked_description: For private chats: if set, sending answers 403
            with this description.
        next_message_id: Id the next message in this chat gets.
    """

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    member_status: dict[int, str] = field(default_factory=dict)
    messages: dict[int, JSONDict] = field(default_factory=dict)
    blocked_description: str | None = None
    next_message_id: int = 1

    def to_api(self) -> JSONDict:
        """Return the Bot API ``Chat`` object."""
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class StoredFile:
    """A file the bot uploaded (or referenced by URL).

    Attributes:
        file_id: Bot API ``file_id``.
        file_unique_id: Bot API ``file_unique_id``.
        file_path: Path used by ``getFile`` and the file download URL.
        kind: ``"document"`` or ``"photo"``.
        file_name: Original file name, if known.
        mime_type: MIME type, if known.
        data: Content; ``None`` for files sent by URL.
    """

    file_id: str
    file_unique_id: str
    file_path: str
    kind: str
    file_name: str | None = None
    mime_type: str | None = None
    data: bytes | None = None

    @property
    def file_size(self) -> int | None:
        """Size in bytes, if the content is known."""
        return None if self.data is None else len(self.data)


@dataclass
class _PollState:
    """Server-side state of a poll the bot sent."""

    poll: JSONDict  # the very object embedded in the message, so edits show everywhere
    chat_id: int
    message_id: int
    votes: dict[int, list[int]] = field(default_factory=dict)


class FakeServerError(RuntimeError):
    """Raised on exit when a request handler of the fake itself crashed."""


class _BotApiError(Exception):
    """Internal: abort a method handler with a Bot API error answer."""

    def __init__(
        self, error_code: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def _bad_request(detail: str) -> _BotApiError:
    return _BotApiError(400, f"Bad Request: {detail}")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


class _ChangeNotifier:
    """Wakes every waiter whenever the server's state changed.

    An ``asyncio.Condition`` would need its lock for notifying, which the
    synchronous ``inject_*`` helpers cannot take. Swapping a fresh Event on
    each notification gives the same semantics without a lock; waiters
    re-check their predicate, so spurious wake-ups are harmless.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            # No await between checking the predicate and taking the current
            # event, so a notification can never slip through unnoticed.
            while not predicate():
                await self._event.wait()


def _utf16_len(text: str) -> int:
    # Entity offsets and lengths are counted in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _decode_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _json_param(value: Any, name: str) -> Any:
    """Accept objects given either natively (JSON body) or JSON-encoded (form)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None
    return value


def _opt_int_param(params: Mapping[str, Any], name: str) -> int | None:
    """Read an optional integer parameter, accepting numbers given as strings."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value))
    except ValueError:
        raise _bad_request(f"invalid {name} specified") from None


def _int_param(params: Mapping[str, Any], name: str) -> int:
    """Read a required integer parameter."""
    value = _opt_int_param(params, name)
    if value is None:
        raise _bad_request(f"{name} is empty")
    return value


def _bool_param(params: Mapping[str, Any], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace like Telegram does, keeping entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    trimmed: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    return stripped, trimmed


@dataclass
class _OpenTag:
    tag: str
    entity: JSONDict | None
    offset: int


class _TelegramHtmlParser(HTMLParser):
    """Turns Telegram-flavoured HTML into plain text plus message entities.

    Only the tags Telegram supports are accepted; anything else raises the
    same "can't parse entities" error Telegram answers, because unescaped
    user input (``<Admin>``) in HTML messages is a common production bug.
    """

    _SIMPLE_TAGS: Final = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "pre": "pre",
    }

    def __init__(self, source: str, users: Mapping[int, FakeUser]) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._users = users
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self._parts: list[str] = []
        self._length = 0
        self._stack: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        index = self._line_starts[line - 1] + column
        return len(self._source[:index].encode("utf-8"))

    def _fail(self, detail: str) -> _BotApiError:
        return _bad_request(f"can't parse entities: {detail}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        entity: JSONDict | None
        if tag in self._SIMPLE_TAGS:
            entity = {"type": self._SIMPLE_TAGS[tag]}
        elif tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise self._fail('Tag "span" must have class "tg-spoiler"')
            entity = {"type": "spoiler"}
        elif tag == "a":
            entity = self._link_entity(attributes.get("href"))
        elif tag == "code":
            entity = {"type": "code"}
            language = attributes.get("class") or ""
            top = self._stack[-1] if self._stack else None
            # <pre><code class="language-x"> is one pre entity with a language.
            if (
                top is not None
                and top.entity is not None
                and top.entity["type"] == "pre"
                and language.startswith("language-")
            ):
                top.entity["language"] = language.removeprefix("language-")
                entity = None
        elif tag == "blockquote":
            expandable = "expandable" in attributes
            entity = {"type": "expandable_blockquote" if expandable else "blockquote"}
        elif tag == "tg-emoji":
            emoji_id = attributes.get("emoji-id")
            if not emoji_id:
                raise self._fail('Tag "tg-emoji" must have attribute "emoji-id"')
            entity = {"type": "custom_emoji", "custom_emoji_id": emoji_id}
        else:
            raise self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        self._stack.append(_OpenTag(tag, entity, self._length))

    def _link_entity(self, href: str | None) -> JSONDict | None:
        if not href:
            return None
        match = _TEXT_MENTION_RE.fullmatch(href)
        if match and int(match.group(1)) in self._users:
            return {"type": "text_mention", "user": self._users[int(match.group(1))].to_api()}
        return {"type": "text_link", "url": href}

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            raise self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        top = self._stack[-1]
        if top.tag != tag:
            raise self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{top.tag}>", found "</{tag}>"'
            )
        self._stack.pop()
        if top.entity is not None and self._length > top.offset:
            self.entities.append({**top.entity, "offset": top.offset, "length": self._length - top.offset})

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._length += _utf16_len(data)

    def close(self) -> None:
        super().close()
        if self._stack:
            raise self._fail(f'Can\'t find end tag corresponding to start tag "{self._stack[-1].tag}"')


def _parse_html(source: str, users: Mapping[int, FakeUser]) -> tuple[str, list[JSONDict]]:
    stray = _STRAY_LT_RE.search(source)
    if stray is not None:
        offset = len(source[: stray.start()].encode("utf-8"))
        raise _bad_request(
            f'can\'t parse entities: Unsupported start tag "{stray.group(1)}" at byte offset {offset}'
        )
    parser = _TelegramHtmlParser(source, users)
    parser.feed(source)
    parser.close()
    # Telegram lists outer entities before the inner ones starting at the same offset.
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return parser.text, entities


def _command_entities(text: str) -> list[JSONDict]:
    entities: list[JSONDict] = []
    for regex, kind in ((_BOT_COMMAND_RE, "bot_command"), (_MENTION_RE, "mention")):
        for match in regex.finditer(text):
            entities.append(
                {
                    "type": kind,
                    "offset": _utf16_len(text[: match.start()]),
                    "length": _utf16_len(match.group()),
                }
            )
    entities.sort(key=lambda e: e["offset"])
    return entities


_API_METHOD_ATTR: Final = "_bot_api_method"


def _api_method(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler under its canonical Bot API method name."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, _API_METHOD_ATTR, name)
        return func

    return decorate


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


class FakeTelegramServer:
    """An in-process fake of the Telegram Bot API served over real HTTP.

    Use as ``async with FakeTelegramServer() as server:`` or call
    :meth:`start` and :meth:`stop` explicitly. Any token is accepted; tokens
    are recorded per call. The server and the code under test must share one
    event loop.

    Attributes:
        bot_user: The bot's own user, as returned by ``getMe``.
        calls: Every request received, in arrival order.
        allowed_updates: The persisted ``allowed_updates`` setting; ``None``
            means Telegram's default (see module docstring).
        dropped_updates: Injected updates that were not queued because their
            type was not allowed at injection time.
        webhook: Parameters of the last ``setWebhook`` call, or ``None``.
        callback_answers: ``answerCallbackQuery`` parameters by query id.
        my_commands: Command lists by ``(scope JSON, language_code)``.
        files: Stored files by ``file_id``.
        internal_errors: Exceptions raised by the fake's own handlers (bugs).
    """

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "kuemmerer_test_bot",
        bot_first_name: str = "Kümmerer",
        host: str = "127.0.0.1",
        port: int = 0,
        allowed_updates: Sequence[str] | None = None,
    ) -> None:
        """Create a stopped server with an empty world.

        Args:
            bot_id: User id of the bot.
            bot_username: Username of the bot (used for ``/cmd@username``).
            bot_first_name: Display name of the bot.
            host: Interface to bind.
            port: Port to bind; 0 picks a free one. After the first start the
                chosen port is kept, so a restarted server keeps its URLs.
            allowed_updates: Initial persisted ``allowed_updates`` setting, for
                tests that inject updates before the bot's first ``getUpdates``.
        """
        self.bot_user = FakeUser(bot_id, bot_first_name, username=bot_username, is_bot=True)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._changes = _ChangeNotifier()

        self._users: dict[int, FakeUser] = {bot_id: self.bot_user}
        self._chats: dict[int, FakeChat] = {}
        self._sent: list[JSONDict] = []
        self._polls: dict[str, _PollState] = {}
        self._open_callback_queries: set[str] = set()
        self._faults: dict[str, deque[Fault]] = {}
        self._poll_generation: dict[str, int] = {}

        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._poll_ids = itertools.count(5_000_000_001)
        self._callback_ids = itertools.count(4_000_000_001)
        self._file_numbers = itertools.count(1)

        self.calls: list[RecordedCall] = []
        self.allowed_updates: list[str] | None = list(allowed_updates) if allowed_updates else None
        self.dropped_updates: list[JSONDict] = []
        self.webhook: JSONDict | None = None
        self.callback_answers: dict[str, JSONDict] = {}
        self.my_commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.files: dict[str, StoredFile] = {}
        self.internal_errors: list[BaseException] = []

        self._handlers: dict[str, tuple[str, Callable[..., Any]]] = {}
        for attribute in dir(type(self)):
            func = getattr(type(self), attribute)
            name = getattr(func, _API_METHOD_ATTR, None)
            if name is not None:
                # Telegram treats method names case-insensitively.
                self._handlers[name.lower()] = (name, getattr(self, attribute))

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeTelegramServer:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server; raise :class:`FakeServerError` if a handler crashed."""
        await self.stop()
        # A crash inside the fake would otherwise only show up as a confusing
        # client-side error, so make it loud unless the test already failed.
        if exc_type is None and self.internal_errors:
            raise FakeServerError(
                f"{len(self.internal_errors)} request handler(s) of the fake crashed"
            ) from self.internal_errors[0]

    async def start(self) -> None:
        """Bind the port and start serving.

        Raises:
            RuntimeError: If the server is already running.
        """
        if self._runner is not None:
            raise RuntimeError("FakeTelegramServer is already running")
        self._closing = False
        app = web.Application(client_max_size=_CLIENT_MAX_SIZE)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # A short shutdown timeout: our own waits end on stop(), so anything
        # still running after that is a client that went away.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner
        _LOGGER.debug("fake Telegram Bot API listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving; pending long polls return empty. State is kept.

        Calling it on a stopped server does nothing.
        """
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        self._closing = True
        self._notify()
        await runner.cleanup()

    @property
    def running(self) -> bool:
        """Whether the server is accepting requests."""
        return self._runner is not None

    @property
    def port(self) -> int:
        """The bound TCP port.

        Raises:
            RuntimeError: Before the first start.
        """
        if self._port == 0:
            raise RuntimeError("FakeTelegramServer has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url``: ``http://127.0.0.1:PORT/bot``."""
        return f"http://{self._host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url``: ``http://127.0.0.1:PORT/file/bot``."""
        return f"http://{self._host}:{self.port}/file/bot"

    @property
    def token(self) -> str:
        """A well-formed token for this bot (any token is accepted, though)."""
        return f"{self.bot_user.id}:AAFakeTokenForKuemmererTests_0123456789"

    # ------------------------------------------------------------------ world

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        is_bot: bool = False,
        *,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        """Add (or replace) a user.

        Args:
            user_id: User id.
            first_name: First name.
            username: Username without ``@``.
            is_bot: Whether the user is a bot.
            last_name: Last name.
            language_code: IETF language tag.

        Returns:
            The user.
        """
        user = FakeUser(user_id, first_name, username, is_bot, last_name, language_code)
        self._users[user_id] = user
        return user

    def add_chat(
        self,
        chat_id: int,
        type: ChatType = "group",  # noqa: A002 - mirrors the Bot API field name
        title: str | None = None,
        *,
        username: str | None = None,
        is_forum: bool = False,
    ) -> FakeChat:
        """Add (or replace) a chat; the bot is a plain member of it.

        Private chats take their names from the user with the same id, so
        call :meth:`add_user` first. Private chats with known users are also
        created on demand when the bot sends to them.

        Args:
            chat_id: Chat id.
            type: ``"private"``, ``"group"``, ``"supergroup"`` or ``"channel"``.
            title: Title; defaults to ``"Chat <id>"`` for non-private chats.
            username: Public username without ``@``.
            is_forum: Whether topics are enabled (supergroups only).

        Returns:
            The chat.

        Raises:
            ValueError: For an unknown chat type.
        """
        if type not in _CHAT_TYPES:
            raise ValueError(f"unknown chat type {type!r}")
        if type == "private":
            user = self._users.get(chat_id)
            chat = FakeChat(
                chat_id,
                "private",
                first_name=user.first_name if user else (title or f"User {chat_id}"),
                last_name=user.last_name if user else None,
                username=user.username if user else username,
            )
        else:
            chat = FakeChat(
                chat_id,
                type,
                title=title if title is not None else f"Chat {chat_id}",
                username=username,
                is_forum=is_forum,
            )
        chat.member_status[self.bot_user.id] = "member"
        self._chats[chat_id] = chat
        return chat

    def remove_chat(self, chat_id: int, *, kicked: bool = False) -> None:
        """Make a chat unreachable for the bot.

        Args:
            chat_id: Chat id.
            kicked: If false the chat is forgotten entirely and requests answer
                400 "Bad Request: chat not found". If true the chat stays but
                the bot was kicked: requests answer 403 "Forbidden: bot was
                kicked from the group chat" (wording follows the chat type).
        """
        if kicked:
            self._require_chat(chat_id).member_status[self.bot_user.id] = "kicked"
        else:
            self._chats.pop(chat_id, None)

    def block_private(self, user_id: int, description: str = _FORBIDDEN_CANT_INITIATE) -> None:
        """Make sending to the user's private chat answer 403.

        Args:
            user_id: The user.
            description: The 403 description; the default is what Telegram
                answers when the user never started the bot.
        """
        self._private_chat(user_id).blocked_description = description

    def unblock_private(self, user_id: int) -> None:
        """Undo :meth:`block_private`."""
        self._private_chat(user_id).blocked_description = None

    def set_admins(self, chat_id: int, user_ids: Sequence[int], *, creator_id: int | None = None) -> None:
        """Define the chat's administrators (may include the bot's id).

        Former administrators not listed become plain members.

        Args:
            chat_id: Chat id.
            user_ids: Users with status ``"administrator"``.
            creator_id: User with status ``"creator"``; need not be in ``user_ids``.
        """
        chat = self._require_chat(chat_id)
        for uid, status in list(chat.member_status.items()):
            if status in ("creator", "administrator"):
                chat.member_status[uid] = "member"
        for uid in user_ids:
            self._require_user(uid)
            chat.member_status[uid] = "administrator"
        if creator_id is not None:
            self._require_user(creator_id)
            chat.member_status[creator_id] = "creator"

    def set_member_status(self, chat_id: int, user_id: int, status: ChatMemberStatus) -> None:
        """Set a user's status in a chat without producing an update.

        Args:
            chat_id: Chat id.
            user_id: User id (may be the bot's).
            status: New status.
        """
        self._require_user(user_id)
        self._require_chat(chat_id).member_status[user_id] = self._check_status(status)

    def chat(self, chat_id: int) -> FakeChat:
        """Return a known chat (live object).

        Raises:
            KeyError: If the chat is unknown.
        """
        return self._require_chat(chat_id)

    def user(self, user_id: int) -> FakeUser:
        """Return a known user (live object).

        Raises:
            KeyError: If the user is unknown.
        """
        return self._require_user(user_id)

    # ------------------------------------------------------------------ injection

    def inject_update(self, payload: Mapping[str, Any]) -> JSONDict:
        """Queue an arbitrary update; ``update_id`` is assigned here.

        Args:
            payload: The update without ``update_id``, e.g. ``{"message": {...}}``.

        Returns:
            A copy of the update as queued (or dropped, see ``allowed_updates``).
        """
        update: JSONDict = {"update_id": next(self._update_ids), **copy.deepcopy(dict(payload))}
        kind = next((key for key in update if key != "update_id"), "")
        if self._update_allowed(kind):
            self._updates.append(update)
        else:
            _LOGGER.info(
                "fake Telegram: dropping %s update %s, not in allowed_updates %s",
                kind,
                update["update_id"],
                self.allowed_updates,
            )
            self.dropped_updates.append(update)
        self._notify()
        return copy.deepcopy(update)

    def inject_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        reply_to_message_id: int | None = None,
        *,
        entities: Sequence[Mapping[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> JSONDict:
        """Inject a text message written by a user.

        ``bot_command`` entities (``/cmd`` and ``/cmd@botname``) and
        ``mention`` entities are derived from the text unless ``entities`` is
        given. A private chat with a known user is created if needed.

        Args:
            chat_id: Chat the message is posted in.
            user_id: Author.
            text: Message text.
            reply_to_message_id: Id of a message in the same chat this replies to.
            entities: Explicit entities instead of the derived ones.
            extra: Additional ``Message`` fields merged in verbatim.

        Returns:
            The update.

        Raises:
            KeyError: For unknown chats, users or replied-to messages.
        """
        chat = self._chat_for_injection(chat_id)
        fields: JSONDict = {"text": text}
        derived = list(entities) if entities is not None else _command_entities(text)
        if derived:
            fields["entities"] = [dict(e) for e in derived]
        if reply_to_message_id is not None:
            if reply_to_message_id not in chat.messages:
                raise KeyError(f"no message {reply_to_message_id} in chat {chat_id}")
            fields["reply_to_message"] = self._reply_snapshot(chat.messages[reply_to_message_id])
        fields.update(extra or {})
        message = self._new_message(chat, self._require_user(user_id), fields)
        return self.inject_update({"message": message})

    def inject_new_members(self, chat_id: int, user_ids: Sequence[int], by_user_id: int) -> JSONDict:
        """Inject a service message announcing new chat members.

        Args:
            chat_id: Group chat.
            user_ids: Users who joined (may include the bot's id).
            by_user_id: Who added them; the joining user for self-joins.

        Returns:
            The update.
        """
        chat = self._require_chat(chat_id)
        members = [self._require_user(uid) for uid in user_ids]
        for member in members:
            chat.member_status[member.id] = "member"
        message = self._new_message(
            chat,
            self._require_user(by_user_id),
            {"new_chat_members": [m.to_api() for m in members]},
        )
        return self.inject_update({"message": message})

    def inject_left_member(self, chat_id: int, user_id: int, by_user_id: int | None = None) -> JSONDict:
        """Inject a service message announcing that a member left (or was removed).

        Args:
            chat_id: Group chat.
            user_id: User who left.
            by_user_id: Who removed them; defaults to the user (left by themselves).

        Returns:
            The update.
        """
        chat = self._require_chat(chat_id)
        user = self._require_user(user_id)
        chat.member_status[user_id] = "left" if by_user_id in (None, user_id) else "kicked"
        actor = self._require_user(user_id if by_user_id is None else by_user_id)
        message = self._new_message(chat, actor, {"left_chat_member": user.to_api()})
        return self.inject_update({"message": message})

    def inject_chat_member(
        self,
        chat_id: int,
        user_id: int,
        old_status: ChatMemberStatus,
        new_status: ChatMemberStatus,
        *,
        by_user_id: int | None = None,
    ) -> JSONDict:
        """Inject a ``chat_member`` update and apply the new status.

        Note that Telegram only delivers these when ``allowed_updates``
        explicitly contains ``"chat_member"``.

        Args:
            chat_id: Chat.
            user_id: Member whose status changed.
            old_status: Previous status.
            new_status: New status.
            by_user_id: Who changed it; defaults to the member.

        Returns:
            The update (possibly dropped, see :attr:`dropped_updates`).
        """
        payload = self._member_update(chat_id, user_id, old_status, new_status, by_user_id)
        return self.inject_update({"chat_member": payload})

    def inject_my_chat_member(
        self,
        chat_id: int,
        by_user_id: int,
        old_status: ChatMemberStatus,
        new_status: ChatMemberStatus,
    ) -> JSONDict:
        """Inject a ``my_chat_member`` update about the bot and apply it.

        After ``"kicked"`` or ``"left"`` sending to the chat answers 403, as in
        Telegram; in private chats ``"kicked"`` means the user blocked the bot.

        Args:
            chat_id: Chat.
            by_user_id: Who changed the bot's status.
            old_status: Previous status of the bot.
            new_status: New status of the bot.

        Returns:
            The update.
        """
        if chat_id not in self._chats and chat_id in self._users:
            self._private_chat(chat_id)
        payload = self._member_update(chat_id, self.bot_user.id, old_status, new_status, by_user_id)
        return self.inject_update({"my_chat_member": payload})

    def inject_callback_query(self, chat_id: int, user_id: int, message_id: int, data: str) -> JSONDict:
        """Inject a button press on an inline keyboard.

        Args:
            chat_id: Chat of the message carrying the keyboard.
            user_id: User who pressed.
            message_id: Message carrying the keyboard.
            data: ``callback_data`` of the pressed button.

        Returns:
            The update; its ``callback_query.id`` is what ``answerCallbackQuery`` expects.

        Raises:
            KeyError: For unknown chats, users or messages.
        """
        chat = self._require_chat(chat_id)
        if message_id not in chat.messages:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        query_id = str(next(self._callback_ids))
        self._open_callback_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._require_user(user_id).to_api(),
            "message": copy.deepcopy(chat.messages[message_id]),
            # Telegram's chat_instance is an opaque per-chat string.
            "chat_instance": str(abs(chat_id) * 7919),
            "data": data,
        }
        return self.inject_update({"callback_query": query})

    def inject_poll_answer(self, poll_id: str, user_id: int, option_ids: Sequence[int]) -> JSONDict:
        """Inject a vote in a poll the bot sent and update the counts.

        An empty ``option_ids`` retracts the user's vote.

        Args:
            poll_id: ``poll.id`` of the sent poll.
            user_id: Voter.
            option_ids: Chosen option indices.

        Returns:
            The ``poll_answer`` update.

        Raises:
            KeyError: For unknown polls or users.
            ValueError: If the poll is closed or the options are invalid.
        """
        state = self._polls.get(str(poll_id))
        if state is None:
            raise KeyError(f"unknown poll {poll_id!r}")
        poll = state.poll
        if poll["is_closed"]:
            raise ValueError(f"poll {poll_id} is closed")
        options = list(option_ids)
        if any(not 0 <= i < len(poll["options"]) for i in options) or len(set(options)) != len(options):
            raise ValueError(f"invalid option ids {options} for poll {poll_id}")
        if len(options) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError(f"poll {poll_id} does not allow multiple answers")
        user = self._require_user(user_id)
        if options:
            state.votes[user_id] = options
        else:
            state.votes.pop(user_id, None)
        for index, option in enumerate(poll["options"]):
            option["voter_count"] = sum(index in chosen for chosen in state.votes.values())
        poll["total_voter_count"] = len(state.votes)
        answer = {
            "poll_id": poll["id"],
            "user": user.to_api(),
            "option_ids": options,
            "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in options],
        }
        return self.inject_update({"poll_answer": answer})

    # ------------------------------------------------------------------ faults

    def fail_next(self, method: str, times: int = 1, kind: Fault = ServerError()) -> None:
        """Script a fault for the next ``times`` calls of ``method``.

        Faults queue up per method in the order they were scripted. ``"*"``
        matches every method that has no fault of its own queued.

        Args:
            method: Bot API method name (case-insensitive) or ``"*"``.
            times: How many consecutive calls are affected.
            kind: :class:`RetryAfter`, :class:`ServerError`, :class:`Drop`,
                :class:`Slow` or :class:`ApiError`.
        """
        if times < 0:
            raise ValueError("times must not be negative")
        self._faults.setdefault(method.lower(), deque()).extend([kind] * times)

    def clear_faults(self) -> None:
        """Forget all scripted faults that have not fired yet."""
        self._faults.clear()

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Return the recorded calls of one method (case-insensitive), in order."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_messages(self, chat_id: int | None = None) -> list[JSONDict]:
        """Return copies of the messages the bot sent, in sending order.

        Each message reflects later edits; deleted messages are still listed.

        Args:
            chat_id: Only messages to this chat; ``None`` for all chats.
        """
        return [
            copy.deepcopy(message)
            for message in self._sent
            if chat_id is None or message["chat"]["id"] == chat_id
        ]

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """Return a copy of a live message, or ``None`` if unknown or deleted."""
        chat = self._chats.get(chat_id)
        message = chat.messages.get(message_id) if chat else None
        return copy.deepcopy(message) if message is not None else None

    def poll(self, poll_id: str) -> JSONDict:
        """Return a copy of the current state of a poll the bot sent.

        Raises:
            KeyError: If the poll is unknown.
        """
        return copy.deepcopy(self._polls[str(poll_id)].poll)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Copies of the queued, not yet confirmed updates."""
        return copy.deepcopy(self._updates)

    def get_commands(self, scope: Mapping[str, Any] | None = None, language_code: str = "") -> list[JSONDict]:
        """Return the commands set for a scope and language (empty if none).

        Args:
            scope: ``BotCommandScope`` as dict; ``None`` for the default scope.
            language_code: Language the commands were set for.
        """
        return copy.deepcopy(self.my_commands.get(self._commands_key(scope, language_code), []))

    @property
    def tokens_used(self) -> list[str]:
        """Distinct tokens seen in requests, in order of first use."""
        return list(dict.fromkeys(call.token for call in self.calls))

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` is true, re-checking on every state change.

        Args:
            predicate: Checked now and after every request, injection or send.
            timeout: Seconds to wait at most.
            what: Description used in the timeout error.

        Raises:
            TimeoutError: If the predicate did not become true in time.
        """
        try:
            await self._changes.wait_for(predicate, timeout)
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}") from None

    async def wait_for_messages(
        self, chat_id: int | None, count: int = 1, timeout: float = 5.0
    ) -> list[JSONDict]:
        """Wait until the bot has sent at least ``count`` messages to a chat.

        Args:
            chat_id: Chat, or ``None`` for any chat.
            count: Minimum number of messages.
            timeout: Seconds to wait at most.

        Returns:
            All messages sent to the chat so far (at least ``count``).

        Raises:
            TimeoutError: With the texts seen so far, if too few arrived.
        """
        try:
            await self._changes.wait_for(lambda: self._sent_count(chat_id) >= count, timeout)
        except TimeoutError:
            seen = [m.get("text", m.get("caption")) for m in self.sent_messages(chat_id)]
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {count} message(s) to chat "
                f"{chat_id}; got {len(seen)}: {seen!r}"
            ) from None
        return self.sent_messages(chat_id)

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedCall]:
        """Wait until ``method`` has been called at least ``count`` times.

        Args:
            method: Bot API method name (case-insensitive).
            count: Minimum number of calls.
            timeout: Seconds to wait at most.

        Returns:
            All calls of the method so far.

        Raises:
            TimeoutError: If too few calls arrived.
        """
        await self.wait_for(
            lambda: len(self.calls_to(method)) >= count,
            timeout,
            what=f"{count} call(s) of {method} (got {len(self.calls_to(method))})",
        )
        return self.calls_to(method)

    async def wait_for_updates_consumed(self, timeout: float = 5.0) -> None:
        """Wait until every queued update has been confirmed via ``offset``.

        Raises:
            TimeoutError: If updates are still pending.
        """
        await self.wait_for(lambda: not self._updates, timeout, what="updates to be confirmed")

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        requested = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except _BotApiError as exc:
            return self._error_response(exc.error_code, exc.description, exc.parameters)
        handler = self._handlers.get(requested.lower())
        call = RecordedCall(
            method=handler[0] if handler else requested,
            params=params,
            timestamp=time.monotonic(),
            token=token,
            http_method=request.method,
        )
        self.calls.append(call)
        _LOGGER.debug("fake Telegram: %s %s", call.method, params)
        self._notify()

        fault = self._take_fault(call.method)
        call.fault = fault
        if isinstance(fault, Slow):
            await self._sleep(fault.seconds)
        elif isinstance(fault, Drop) and not fault.after_processing:
            return self._drop(request)
        elif isinstance(fault, RetryAfter):
            return self._finish(
                call,
                self._error_response(
                    429,
                    f"Too Many Requests: retry after {fault.seconds}",
                    {"retry_after": fault.seconds},
                ),
            )
        elif isinstance(fault, ServerError):
            return self._finish(
                call, web.Response(status=fault.status, text=fault.body, content_type="text/html")
            )
        elif isinstance(fault, ApiError):
            return self._finish(
                call, self._error_response(fault.error_code, fault.description, fault.parameters)
            )

        if handler is None:
            response = self._error_response(404, "Not Found")
        else:
            try:
                result = await handler[1](params, call)
            except _BotApiError as exc:
                response = self._error_response(exc.error_code, exc.description, exc.parameters)
            except Exception as exc:  # a bug in the fake, not in the code under test
                _LOGGER.exception("fake Telegram: handler for %s crashed", call.method)
                self.internal_errors.append(exc)
                response = self._error_response(500, f"Internal Server Error: {exc!r}")
            else:
                response = web.json_response({"ok": True, "result": result}, dumps=_dumps)
        self._notify()
        if isinstance(fault, Drop):
            return self._drop(request)
        return self._finish(call, response)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["file_path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None or stored.data is None:
            return self._error_response(404, "Not Found")
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def _handle_unknown_path(self, request: web.Request) -> web.StreamResponse:
        return self._error_response(404, "Not Found")

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {key: _decode_form_value(key, value) for key, value in request.query.items()}
        if not request.body_exists:
            return params
        if request.content_type == "application/json":
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise _bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise _bad_request("JSON request body must be an object")
                params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = UploadedFile(key, value.filename, value.content_type, value.file.read())
                elif isinstance(value, str):
                    params[key] = _decode_form_value(key, value)
        return params

    def _take_fault(self, method: str) -> Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _finish(self, call: RecordedCall, response: web.StreamResponse) -> web.StreamResponse:
        call.status = response.status
        return response

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        # With the transport closed, aiohttp's attempt to write the response
        # below fails with a ConnectionError it swallows quietly; raising from
        # the handler instead would log a scary traceback for an intended event.
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    @staticmethod
    def _error_response(
        error_code: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> web.Response:
        body: JSONDict = {"ok": False, "error_code": error_code, "description": description}
        if parameters:
            body["parameters"] = dict(parameters)
        return web.json_response(body, status=error_code, dumps=_dumps)

    async def _sleep(self, seconds: float) -> None:
        # Wake early on stop() so a scripted delay never stalls shutdown.
        with contextlib.suppress(TimeoutError):
            await self._changes.wait_for(lambda: self._closing, seconds)

    # ------------------------------------------------------------------ internals

    def _notify(self) -> None:
        self._changes.notify()

    def _sent_count(self, chat_id: int | None) -> int:
        return sum(1 for m in self._sent if chat_id is None or m["chat"]["id"] == chat_id)

    def _update_allowed(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _NOT_DELIVERED_BY_DEFAULT

    @staticmethod
    def _check_status(status: str) -> str:
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        return status

    def _require_user(self, user_id: int) -> FakeUser:
        try:
            return self._users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}; call add_user() first") from None

    def _require_chat(self, chat_id: int) -> FakeChat:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise KeyError(f"unknown chat {chat_id}; call add_chat() first") from None

    def _private_chat(self, user_id: int) -> FakeChat:
        chat = self._chats.get(user_id)
        if chat is None:
            self._require_user(user_id)
            chat = self.add_chat(user_id, "private")
        return chat

    def _chat_for_injection(self, chat_id: int) -> FakeChat:
        if chat_id not in self._chats and chat_id in self._users:
            return self._private_chat(chat_id)
        return self._require_chat(chat_id)

    def _new_message(self, chat: FakeChat, sender: FakeUser, fields: Mapping[str, Any]) -> JSONDict:
        message: JSONDict = {
            "message_id": chat.next_message_id,
            "from": sender.to_api(),
            "chat": chat.to_api(),
            "date": int(time.time()),
        }
        message.update({key: value for key, value in fields.items() if value is not None})
        chat.next_message_id += 1
        chat.messages[message["message_id"]] = message
        return message

    @staticmethod
    def _reply_snapshot(message: Mapping[str, Any]) -> JSONDict:
        # Telegram never nests replies more than one level deep.
        snapshot = copy.deepcopy(dict(message))
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _member_object(self, user: FakeUser, status: str) -> JSONDict:
        data: JSONDict = {"status": status, "user": user.to_api()}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            data.update({"can_be_edited": False, "is_anonymous": False})
            data.update(dict.fromkeys(ADMIN_RIGHTS, True))
        elif status == "restricted":
            data.update({"is_member": True, "until_date": 0})
            data.update(dict.fromkeys(RESTRICTED_PERMISSIONS, False))
        elif status == "kicked":
            data["until_date"] = 0
        return data

    def _member_update(
        self,
        chat_id: int,
        user_id: int,
        old_status: str,
        new_status: str,
        by_user_id: int | None,
    ) -> JSONDict:
        chat = self._require_chat(chat_id)
        user = self._require_user(user_id)
        actor = self._require_user(user_id if by_user_id is None else by_user_id)
        payload = {
            "chat": chat.to_api(),
            "from": actor.to_api(),
            "date": int(time.time()),
            "old_chat_member": self._member_object(user, self._check_status(old_status)),
            "new_chat_member": self._member_object(user, self._check_status(new_status)),
        }
        chat.member_status[user_id] = new_status
        return payload

    def _status_of(self, chat: FakeChat, user_id: int) -> str:
        return chat.member_status.get(user_id, "member")

    def _resolve_chat(self, raw: Any, *, sending: bool) -> FakeChat:
        """Find the target chat of a request and check the bot may use it."""
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        chat: FakeChat | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            wanted = raw[1:].lower()
            chat = next((c for c in self._chats.values() if (c.username or "").lower() == wanted), None)
        else:
            try:
                chat_id = int(raw)
            except (TypeError, ValueError):
                raise _bad_request("chat not found") from None
            chat = self._chats.get(chat_id)
            if chat is None and chat_id > 0 and chat_id in self._users:
                chat = self._private_chat(chat_id)
        if chat is None:
            raise _bad_request("chat not found")

        bot_status = self._status_of(chat, self.bot_user.id)
        if chat.type == "private":
            if bot_status == "kicked" and sending:
                raise _BotApiError(403, "Forbidden: bot was blocked by the user")
            if chat.blocked_description and sending:
                raise _BotApiError(403, chat.blocked_description)
        elif bot_status == "kicked":
            raise _BotApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        elif bot_status == "left":
            raise _BotApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _render(
        self,
        raw: Any,
        parse_mode: Any,
        entities: Any,
        *,
        what: str,
        limit: int,
        required: bool,
        too_long: str,
    ) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode/entities, trim, and enforce Telegram's length limits."""
        text = "" if raw is None else str(raw)
        mode = parse_mode.strip().lower() if isinstance(parse_mode, str) else ""
        if entities is not None:
            # Explicit entities take precedence over parse_mode, as in Telegram.
            parsed = [dict(e) for e in _json_param(entities, "entities")]
        elif mode == "html":
            text, parsed = _parse_html(text, self._users)
        elif mode in ("", "markdown", "markdownv2"):
            parsed = []
        else:
            raise _bad_request("unsupported parse_mode")
        text, parsed = _trim(text, parsed)
        if not text and required:
            raise _bad_request(f"{what} is empty")
        if _utf16_len(text) > limit:
            raise _bad_request(too_long)
        return text, parsed

    @staticmethod
    def _inline_markup(raw: Any) -> JSONDict | None:
        """Validate reply_markup; return it if Telegram would echo it (inline only)."""
        if raw is None or raw == "":
            return None
        markup = _json_param(raw, "reply markup")
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            # Reply keyboards, ForceReply and ReplyKeyboardRemove are accepted
            # but never part of the returned Message.
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request("can't parse inline keyboard button: Text is empty")
                if not _INLINE_BUTTON_ACTIONS & button.keys():
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in "
                        "the inline keyboard"
                    )
                data = button.get("callback_data")
                size = None if data is None else len(str(data).encode())
                if size is not None and not 1 <= size <= _MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
        return {"inline_keyboard": copy.deepcopy(rows)}

    def _reply_target(self, chat: FakeChat, params: Mapping[str, Any]) -> JSONDict | None:
        """Resolve reply_parameters (or the legacy reply_to_message_id)."""
        allow_missing = _bool_param(params, "allow_sending_without_reply", False)
        message_id: int | None
        if params.get("reply_parameters") is not None:
            reply = _json_param(params["reply_parameters"], "reply parameters")
            if not isinstance(reply, dict):
                raise _bad_request("can't parse reply parameters JSON object")
            message_id = _int_param(reply, "message_id")
            allow_missing = _bool_param(reply, "allow_sending_without_reply", allow_missing)
        else:
            message_id = _opt_int_param(params, "reply_to_message_id")
        if message_id is None:
            return None
        target = chat.messages.get(message_id)
        if target is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return self._reply_snapshot(target)

    def _send(self, params: Mapping[str, Any], fields: JSONDict) -> JSONDict:
        """Store a message from the bot; ``fields`` may still hold None values."""
        chat = self._resolve_chat(params.get("chat_id"), sending=True)
        fields["reply_markup"] = self._inline_markup(params.get("reply_markup"))
        fields["reply_to_message"] = self._reply_target(chat, params)
        thread_id = _opt_int_param(params, "message_thread_id")
        if thread_id is not None:
            fields["message_thread_id"] = thread_id
            fields["is_topic_message"] = True if chat.is_forum else None
        if _bool_param(params, "protect_content", False):
            fields["has_protected_content"] = True
        message = self._new_message(chat, self.bot_user, fields)
        self._sent.append(message)
        return copy.deepcopy(message)

    def _message_to_edit(self, params: Mapping[str, Any]) -> JSONDict:
        chat = self._resolve_chat(params.get("chat_id"), sending=True)
        message = chat.messages.get(_int_param(params, "message_id"))
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_user.id:
            raise _bad_request("message can't be edited")
        return message

    def _resolve_media(self, params: Mapping[str, Any], name: str) -> StoredFile:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        number = next(self._file_numbers)
        # Real file_ids start with a type-specific prefix (BQAC documents, AgAC photos).
        prefix = "BQAC" if name == "document" else "AgAC"
        if isinstance(value, UploadedFile):
            stored = StoredFile(
                file_id=f"{prefix}-fake-{number}",
                file_unique_id=f"AQAD-fake-{number}",
                file_path=f"{name}s/file_{number}",
                kind=name,
                file_name=value.filename,
                mime_type=value.content_type,
                data=value.data,
            )
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            stored = StoredFile(
                file_id=f"{prefix}-fake-{number}",
                file_unique_id=f"AQAD-fake-{number}",
                file_path=f"{name}s/file_{number}",
                kind=name,
                file_name=value.rstrip("/").rsplit("/", 1)[-1] or None,
            )
        elif isinstance(value, str) and value:
            if value not in self.files:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            return self.files[value]
        else:
            raise _bad_request(f"there is no {name} in the request")
        self.files[stored.file_id] = stored
        return stored

    def _caption_fields(self, params: Mapping[str, Any]) -> JSONDict:
        caption, entities = self._render(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            what="message caption",
            limit=_MAX_CAPTION_LENGTH,
            required=False,
            too_long="message caption is too long",
        )
        return {"caption": caption or None, "caption_entities": entities or None}

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_obj = _json_param(scope, "scope") if scope else {"type": "default"}
        return json.dumps(scope_obj, sort_keys=True), str(language_code or "")

    # ------------------------------------------------------------------ Bot API methods

    @_api_method("getMe")
    async def _get_me(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        return {
            **self.bot_user.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @_api_method("getUpdates")
    async def _get_updates(self, params: JSONDict, call: RecordedCall) -> list[JSONDict]:
        if self.webhook is not None:
            raise _BotApiError(409, _CONFLICT_WEBHOOK)
        offset = _opt_int_param(params, "offset")
        limit = _opt_int_param(params, "limit") or _MAX_UPDATES_LIMIT
        limit = min(max(limit, 1), _MAX_UPDATES_LIMIT)
        timeout = params.get("timeout") or 0
        try:
            timeout = max(float(timeout), 0.0)
        except (TypeError, ValueError):
            raise _bad_request("invalid timeout specified") from None
        if "allowed_updates" in params:
            allowed = _json_param(params["allowed_updates"], "allowed_updates") or []
            # An empty list means "back to the default", like in Telegram.
            self.allowed_updates = [str(kind) for kind in allowed] or None

        if offset is not None:
            if offset < 0:
                # A negative offset keeps only the last -offset updates.
                self._updates = self._updates[offset:]
            else:
                # Confirmation is permanent: these updates are gone for good.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]

        # A newer getUpdates of the same token terminates this one (409), so
        # two pollers running by accident show up as in production.
        generation = self._poll_generation.get(call.token, 0) + 1
        self._poll_generation[call.token] = generation
        self._notify()

        def superseded() -> bool:
            return self._poll_generation[call.token] != generation

        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await self._changes.wait_for(
                    lambda: bool(self._updates) or superseded() or self._closing, timeout
                )
        if superseded():
            raise _BotApiError(409, _CONFLICT_OTHER_POLL)
        return copy.deepcopy(self._updates[:limit])

    @_api_method("setWebhook")
    async def _set_webhook(self, params: JSONDict, call: RecordedCall) -> bool:
        if not params.get("url"):
            # Telegram treats an empty url as "remove the webhook".
            self.webhook = None
            return True
        self.webhook = dict(params)
        if "allowed_updates" in params:
            allowed = _json_param(params["allowed_updates"], "allowed_updates") or []
            self.allowed_updates = [str(kind) for kind in allowed] or None
        if _bool_param(params, "drop_pending_updates", False):
            self._updates.clear()
        return True

    @_api_method("deleteWebhook")
    async def _delete_webhook(self, params: JSONDict, call: RecordedCall) -> bool:
        self.webhook = None
        if _bool_param(params, "drop_pending_updates", False):
            self._updates.clear()
        return True

    @_api_method("getWebhookInfo")
    async def _get_webhook_info(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        info: JSONDict = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.allowed_updates:
            info["allowed_updates"] = list(self.allowed_updates)
        return info

    @_api_method("sendMessage")
    async def _send_message(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        text, entities = self._render(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            what="message text",
            limit=_MAX_TEXT_LENGTH,
            required=True,
            too_long="message is too long",
        )
        return self._send(params, {"text": text, "entities": entities or None})

    @_api_method("sendPoll")
    async def _send_poll(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        question = str(params.get("question") or "").strip()
        if not question:
            raise _bad_request("poll question must be non-empty")
        raw_options = _json_param(params.get("options") or [], "options")
        texts = [
            str(option.get("text", "")) if isinstance(option, dict) else str(option) for option in raw_options
        ]
        if len(texts) < _MIN_POLL_OPTIONS:
            raise _bad_request("poll must have at least 2 option")
        if len(texts) > _MAX_POLL_OPTIONS:
            raise _bad_request(f"poll can't have more than {_MAX_POLL_OPTIONS} options")
        if any(not text.strip() for text in texts):
            raise _bad_request("poll options must be non-empty")
        poll_type = str(params.get("type") or "regular")
        poll_id = str(next(self._poll_ids))
        poll: JSONDict = {
            "id": poll_id,
            "question": question,
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": f"{poll_id}-{index}"}
                for index, text in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": _bool_param(params, "is_closed", False),
            "is_anonymous": _bool_param(params, "is_anonymous", True),
            "type": poll_type,
            "allows_multiple_answers": _bool_param(params, "allows_multiple_answers", False),
            "allows_revoting": _bool_param(params, "allows_revoting", poll_type != "quiz"),
            "members_only": _bool_param(params, "members_only", False),
        }
        correct = params.get("correct_option_ids")
        if correct is None and params.get("correct_option_id") is not None:
            correct = [params["correct_option_id"]]
        if correct is not None:
            correct_ids = _json_param(correct, "correct_option_ids")
            poll["correct_option_ids"] = [int(i) for i in correct_ids]
        if params.get("explanation"):
            poll["explanation"] = str(params["explanation"])
        # The message must embed the same dict as the poll state so votes and
        # stopPoll are visible in sent_messages() too; _send copies the result.
        fields: JSONDict = {"poll": poll}
        result = self._send(params, fields)
        self._polls[poll_id] = _PollState(poll, result["chat"]["id"], result["message_id"])
        return result

    @_api_method("stopPoll")
    async def _stop_poll(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        message = self._message_to_edit(params)
        poll = message.get("poll")
        if poll is None:
            raise _bad_request("message with poll to stop not found")
        if poll["is_closed"]:
            raise _bad_request("poll has already been closed")
        poll["is_closed"] = True
        markup = self._inline_markup(params.get("reply_markup"))
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return copy.deepcopy(poll)

    @_api_method("editMessageText")
    async def _edit_message_text(self, params: JSONDict, call: RecordedCall) -> JSONDict | bool:
        text, entities = self._render(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            what="message text",
            limit=_MAX_TEXT_LENGTH,
            required=True,
            too_long="message is too long",
        )
        markup = self._inline_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            # Inline messages live outside any chat; Telegram answers True.
            return True
        message = self._message_to_edit(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        if (
            message["text"] == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        # Omitting reply_markup in an edit removes the keyboard, as in Telegram.
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    @_api_method("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, params: JSONDict, call: RecordedCall) -> JSONDict | bool:
        markup = self._inline_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        if message.get("reply_markup") == markup:
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    @_api_method("deleteMessage")
    async def _delete_message(self, params: JSONDict, call: RecordedCall) -> bool:
        chat = self._resolve_chat(params.get("chat_id"), sending=True)
        if chat.messages.pop(_int_param(params, "message_id"), None) is None:
            raise _bad_request("message to delete not found")
        return True

    @_api_method("answerCallbackQuery")
    async def _answer_callback_query(self, params: JSONDict, call: RecordedCall) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callback_queries:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        # A query can be answered only once.
        self._open_callback_queries.discard(query_id)
        self.callback_answers[query_id] = dict(params)
        return True

    @_api_method("getChatMember")
    async def _get_chat_member(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        chat = self._resolve_chat(params.get("chat_id"), sending=False)
        user = self._users.get(_int_param(params, "user_id"))
        if user is None:
            raise _bad_request("user not found")
        return self._member_object(user, self._status_of(chat, user.id))

    @_api_method("getChatAdministrators")
    async def _get_chat_administrators(self, params: JSONDict, call: RecordedCall) -> list[JSONDict]:
        chat = self._resolve_chat(params.get("chat_id"), sending=False)
        if chat.type == "private":
            raise _bad_request("there are no administrators in the private chat")
        admins = [
            (status, self._users[uid])
            for uid, status in chat.member_status.items()
            if status in ("creator", "administrator")
        ]
        # Telegram lists the owner first.
        admins.sort(key=lambda pair: pair[0] != "creator")
        return [self._member_object(user, status) for status, user in admins]

    @_api_method("getChat")
    async def _get_chat(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        chat = self._resolve_chat(params.get("chat_id"), sending=False)
        return {
            **chat.to_api(),
            # Fields ChatFullInfo requires; their values do not matter here.
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    @_api_method("leaveChat")
    async def _leave_chat(self, params: JSONDict, call: RecordedCall) -> bool:
        chat = self._resolve_chat(params.get("chat_id"), sending=False)
        chat.member_status[self.bot_user.id] = "left"
        return True

    @_api_method("sendChatAction")
    async def _send_chat_action(self, params: JSONDict, call: RecordedCall) -> bool:
        self._resolve_chat(params.get("chat_id"), sending=True)
        if not params.get("action"):
            raise _bad_request("action is empty")
        return True

    @_api_method("setMyCommands")
    async def _set_my_commands(self, params: JSONDict, call: RecordedCall) -> bool:
        commands = _json_param(params.get("commands") or [], "commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME_RE.fullmatch(
                str(command.get("command", ""))
            ):
                # Upper-case letters are a classic: Telegram rejects them.
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.my_commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    @_api_method("deleteMyCommands")
    async def _delete_my_commands(self, params: JSONDict, call: RecordedCall) -> bool:
        self.my_commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    @_api_method("getMyCommands")
    async def _get_my_commands(self, params: JSONDict, call: RecordedCall) -> list[JSONDict]:
        return self.get_commands(params.get("scope"), params.get("language_code") or "")

    @_api_method("sendDocument")
    async def _send_document(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        caption = self._caption_fields(params)
        stored = self._resolve_media(params, "document")
        document: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        if stored.file_size is not None:
            document["file_size"] = stored.file_size
        return self._send(params, {"document": document, **caption})

    @_api_method("sendPhoto")
    async def _send_photo(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        caption = self._caption_fields(params)
        stored = self._resolve_media(params, "photo")
        size: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": _PHOTO_WIDTH,
            "height": _PHOTO_HEIGHT,
        }
        if stored.file_size is not None:
            size["file_size"] = stored.file_size
        return self._send(params, {"photo": [size], **caption})

    @_api_method("getFile")
    async def _get_file(self, params: JSONDict, call: RecordedCall) -> JSONDict:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        result: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_path": stored.file_path,
        }
        if stored.file_size is not None:
            result["file_size"] = stored.file_size
        return result


def _dumps(obj: Any) -> str:
    # Keep umlauts readable in captured traffic; Telegram does the same.
    return json.dumps(obj, ensure_ascii=False)
