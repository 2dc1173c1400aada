"""An in-process fake transport for python-telegram-bot (PTB 22), for unit tests.

:class:`FakeRequest` replaces PTB's HTTP layer (``HTTPXRequest``): a :class:`telegram.Bot` or a
PTB ``Application`` built with it never opens a socket. Every call is recorded with its method
name (taken from the URL) and its decoded parameters, and answered from a small per-method
script: tests queue error answers (an HTTP status plus a Bot API error object, exactly what PTB's
``BaseRequest`` turns into ``RetryAfter``, ``Forbidden``, ``BadRequest``, ``ChatMigrated``, …) or
exceptions raised directly from :meth:`FakeRequest.do_request` (``NetworkError``, ``TimedOut``);
everything else gets a realistic default answer.

Typical use::

    api = FakeRequest()
    bot = telegram.Bot("123456:TEST", request=api, get_updates_request=FakeRequest())
    await bot.initialize()                       # getMe -> @kuemmerer_unit_bot
    api.queue_error("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(telegram.error.RetryAfter):
        await bot.send_message(42, "Hallo")
    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "Hallo"

Unlike ``tests/fakes/telegram_api.py`` (a full fake Bot API *server* over real HTTP for
end-to-end tests), this fake has no model of the world beyond a few chats, admins and polls: it
answers instantly and deterministically, and it needs no event-loop-bound resources, so it can be
created outside a running loop.

``getUpdates`` behaves like a long poll without a timer: queued updates (see
:meth:`FakeRequest.push_update`) are returned at once; with none queued, a call with a positive
``timeout`` waits until an update is pushed (PTB cancels that wait when the updater stops), and a
call with ``timeout`` 0 returns an empty list.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from tests.fakes.telegram_api import ADMIN_RIGHTS

__all__ = [
    "ANONYMOUS_ADMIN",
    "ApiError",
    "Call",
    "FakeRequest",
    "Result",
    "bad_gateway",
    "chat_not_found",
    "flood",
    "forbidden",
    "migrated",
    "reply_not_found",
]

JSONDict = dict[str, Any]
Answer = Any  # ApiError | Result | BaseException | Callable[[Call], Any]

# The user Telegram shows as sender of anonymous group admins' messages.
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
BOT_USERNAME = "kuemmerer_unit_bot"
DEFAULT_DATE = 1795251600  # 2026-11-21 09:00 UTC, the test clock's start


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error answer of the Bot API: an HTTP status and the error object in the body.

    Args:
        status: HTTP status code (400, 403, 429, 502, …).
        description: Telegram's ``description`` (e.g. ``"Bad Request: chat not found"``).
        parameters: ``ResponseParameters`` such as ``retry_after`` or ``migrate_to_chat_id``.
    """

    status: int
    description: str
    parameters: Mapping[str, Any] | None = None

    def body(self) -> bytes:
        data: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            data["parameters"] = dict(self.parameters)
        return json.dumps(data).encode()


@dataclass(frozen=True, slots=True)
class Result:
    """A successful answer with an explicit ``result`` (overrides the default answer once)."""

    value: Any


def flood(retry_after: int) -> ApiError:
    """429 flood control, as Telegram sends it."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def forbidden(description: str = "Forbidden: bot was blocked by the user") -> ApiError:
    """403: blocked by the user, kicked from the group, or the user never started the bot."""
    return ApiError(403, description)


def chat_not_found() -> ApiError:
    """400 for a chat that does not exist (any more)."""
    return ApiError(400, "Bad Request: chat not found")


def migrated(new_chat_id: int) -> ApiError:
    """400 for a group that was upgraded to a supergroup with a new id."""
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


def reply_not_found() -> ApiError:
    """400 when the message to answer was deleted (and sending without it was not allowed)."""
    return ApiError(400, "Bad Request: message to be replied not found")


def bad_gateway() -> ApiError:
    """502 from Telegram's front end (its body is not even a Bot API object, but JSON is fine)."""
    return ApiError(502, "Bad Gateway")


@dataclass(slots=True)
class Call:
    """One request PTB made.

    Attributes:
        method: Bot API method, e.g. ``"sendMessage"`` (the last path segment of the URL).
        params: Parameters as PTB serialised them (``RequestData.parameters``): nested values
            such as ``reply_markup`` are dicts, dates and durations are numbers; the JSON wire
            form of each is in ``raw``.
        raw: ``RequestData.json_parameters``: every value as the string sent on the wire.
        files: Uploaded files by part name: ``(filename, content, mime type)``.
        url: The full URL (contains the token).
        http_method: ``"POST"`` for API calls, ``"GET"`` for file downloads.
        timeouts: The four timeouts PTB passed (``BaseRequest.DEFAULT_NONE`` when unset).
    """

    method: str
    params: JSONDict
    raw: dict[str, str]
    files: dict[str, tuple[str, bytes, str]]
    url: str
    http_method: str
    timeouts: dict[str, Any] = field(default_factory=dict)


class FakeRequest(BaseRequest):
    """A scripted, recording stand-in for PTB's HTTP transport.

    Args:
        bot_id: The bot's user id; by default the number before ``:`` in the token.
        username: The bot's username (without ``@``).
        first_name: The bot's display name.
        read_timeout: What :attr:`read_timeout` reports (PTB adds it to long-poll timeouts).
    """

    def __init__(
        self,
        *,
        bot_id: int | None = None,
        username: str = BOT_USERNAME,
        first_name: str = "Kümmerer",
        read_timeout: float | None = 5.0,
    ) -> None:
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self._read_timeout = read_timeout
        self.calls: list[Call] = []
        self.initialized = 0
        self.shut_down = 0
        # Chat objects to answer with, by chat id; unknown ids get a plausible chat.
        self.chats: dict[int, JSONDict] = {}
        # getChatAdministrators: user ids by chat (the first one is the creator).
        self.admins: dict[int, list[int]] = {}
        self.polls: dict[tuple[int, int], JSONDict] = {}
        self._script: dict[str, deque[Answer]] = {}
        self._defaults: dict[str, Callable[[Call], Any]] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendPoll": self._send_poll,
            "stopPoll": self._stop_poll,
            "getChatAdministrators": self._get_chat_administrators,
            "getUpdates": self._get_updates,
            "setMyCommands": lambda call: True,
            "answerCallbackQuery": lambda call: True,
            "deleteWebhook": lambda call: True,
            "close": lambda call: True,
            "logOut": lambda call: True,
        }
        self._message_ids = itertools.count(1001)
        self._poll_ids = itertools.count(5_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._updates: deque[JSONDict] = deque()
        self._update_ids = itertools.count(1)
        self._updates_waiting: asyncio.Event | None = None

    # BaseRequest --------------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (seconds)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to set up; counted so tests can see PTB's lifecycle calls."""
        self.initialized += 1

    async def shutdown(self) -> None:
        """Nothing to release; counted so tests can see PTB's lifecycle calls."""
        self.shut_down += 1

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Record the call and answer it from the script or with the method's default."""
        call = Call(
            method=url.rstrip("/").rsplit("/", 1)[-1],
            params=dict(request_data.parameters) if request_data else {},
            raw=dict(request_data.json_parameters) if request_data else {},
            files=_files(request_data),
            url=url,
            http_method=method,
            timeouts={
                "read": read_timeout,
                "write": write_timeout,
                "connect": connect_timeout,
                "pool": pool_timeout,
            },
        )
        if self.bot_id is None:
            self.bot_id = _bot_id_from_url(url)
        self.calls.append(call)
        scripted = self._script.get(call.method)
        if scripted:
            answer = scripted.popleft()
        else:
            handler = self._defaults.get(call.method)
            if handler is None:
                # Telegram answers 404 for unknown methods (PTB raises InvalidToken); say why.
                hint = f"Not Found: FakeRequest has no answer for {call.method}; use set_default()"
                return 404, ApiError(404, hint).body()
            answer = handler
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, ApiError):
            return answer.status, answer.body()
        if isinstance(answer, Result):
            return 200, _ok(answer.value)
        try:
            result = answer(call)
            if asyncio.iscoroutine(result):
                result = await result
        except _Answer as error:
            return error.answer.status, error.answer.body()
        return 200, _ok(result)

    # Scripting ----------------------------------------------------------------------------------

    def queue(self, method: str, *answers: Answer) -> None:
        """Answer the next calls of ``method`` with ``answers``, in order, then the default again.

        An answer is an :class:`ApiError`, a :class:`Result`, an exception instance to raise from
        :meth:`do_request` (e.g. ``telegram.error.TimedOut()``) or a function of the
        :class:`Call` returning the ``result`` (it may be a coroutine function).
        """
        self._script.setdefault(method, deque()).extend(answers)

    def queue_error(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """Shortcut: answer the next call of ``method`` with a Bot API error."""
        self.queue(method, ApiError(status, description, parameters or None))

    def raise_next(self, method: str, error: BaseException) -> None:
        """Shortcut: raise ``error`` (e.g. ``NetworkError("…")``) from the next call of ``method``."""
        self.queue(method, error)

    def set_default(self, method: str, handler: Callable[[Call], Any]) -> None:
        """Replace the default answer of ``method`` (a function of the call returning ``result``)."""
        self._defaults[method] = handler

    def pending(self, method: str) -> int:
        """How many scripted answers for ``method`` are still unused."""
        return len(self._script.get(method, ()))

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    # World --------------------------------------------------------------------------------------

    @property
    def bot_user(self) -> JSONDict:
        """The bot's ``User`` object, as getMe returns it."""
        return {
            "id": self.bot_id or 123456,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def chat(self, chat_id: int | str) -> JSONDict:
        """The ``Chat`` object for an id: a registered one, else one guessed from the id's form."""
        key = int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0
        if key in self.chats:
            return self.chats[key]
        if key > 0:
            return {"id": key, "type": "private", "first_name": f"User {key}"}
        if key <= -1_000_000_000_000:
            return {"id": key, "type": "supergroup", "title": f"Supergroup {key}"}
        return {"id": key, "type": "group", "title": f"Group {key}"}

    def set_admins(self, chat_id: int, *user_ids: int) -> None:
        """getChatAdministrators of ``chat_id``: the first id is the creator."""
        self.admins[chat_id] = list(user_ids)

    def push_update(self, update: Mapping[str, Any]) -> JSONDict:
        """Queue an update for getUpdates (an ``update_id`` is added when missing)."""
        data = dict(update)
        data.setdefault("update_id", next(self._update_ids))
        self._updates.append(data)
        if self._updates_waiting is not None:
            self._updates_waiting.set()
        return data

    # Default answers ----------------------------------------------------------------------------

    def _get_me(self, call: Call) -> JSONDict:
        return self.bot_user

    def _message(self, call: Call, **content: Any) -> JSONDict:
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "date": DEFAULT_DATE,
            "chat": self.chat(call.params["chat_id"]),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            **content,
        }
        if "reply_markup" in call.params:
            message["reply_markup"] = call.params["reply_markup"]
        return message

    def _send_message(self, call: Call) -> JSONDict:
        return self._message(call, text=_visible(call.params["text"], call.params.get("parse_mode")))

    def _caption(self, call: Call) -> JSONDict:
        caption = call.params.get("caption")
        return {"caption": _visible(caption, call.params.get("parse_mode"))} if caption else {}

    def _send_photo(self, call: Call) -> JSONDict:
        n = next(self._file_ids)
        size = len(call.files["photo"][1]) if "photo" in call.files else 0
        photo = [
            {
                "file_id": f"photo-{n}-s",
                "file_unique_id": f"ph{n}s",
                "width": 90,
                "height": 60,
                "file_size": 900,
            },
            {
                "file_id": f"photo-{n}",
                "file_unique_id": f"ph{n}",
                "width": 800,
                "height": 600,
                "file_size": size,
            },
        ]
        return self._message(call, photo=photo, **self._caption(call))

    def _send_document(self, call: Call) -> JSONDict:
        n = next(self._file_ids)
        filename, content, mime_type = call.files.get("document", ("file", b"", "application/octet-stream"))
        document = {
            "file_id": f"document-{n}",
            "file_unique_id": f"doc{n}",
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return self._message(call, document=document, **self._caption(call))

    def _send_poll(self, call: Call) -> JSONDict:
        options = [o["text"] if isinstance(o, Mapping) else str(o) for o in call.params["options"]]
        poll_id = str(next(self._poll_ids))
        poll_type = call.params.get("type", "regular")
        # PTB 22.8 insists on the Bot API 9.6/10.0 fields persistent_id, allows_revoting and
        # members_only: without them Message.de_json raises TypeError.
        poll = {
            "id": poll_id,
            "question": call.params["question"],
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": f"{poll_id}-{i}"}
                for i, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": call.params.get("is_anonymous", True),
            "type": poll_type,
            "allows_multiple_answers": call.params.get("allows_multiple_answers", False),
            "allows_revoting": call.params.get("allows_revoting", poll_type != "quiz"),
            "members_only": call.params.get("members_only", False),
        }
        message = self._message(call, poll=poll)
        self.polls[(message["chat"]["id"], message["message_id"])] = poll
        return message

    def _stop_poll(self, call: Call) -> JSONDict:
        key = (self.chat(call.params["chat_id"])["id"], int(call.params["message_id"]))
        poll = self.polls.get(key)
        if poll is None:
            raise _Answer(ApiError(400, "Bad Request: poll not found"))
        poll["is_closed"] = True
        return poll

    def _get_chat_administrators(self, call: Call) -> list[JSONDict]:
        chat_id = int(call.params["chat_id"])
        ids = self.admins.get(chat_id, [1])
        return [_owner(ids[0])] + [_administrator(user_id) for user_id in ids[1:]]

    async def _get_updates(self, call: Call) -> list[JSONDict]:
        offset = int(call.params.get("offset") or 0)
        while True:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()  # confirmed by the offset, as Telegram forgets them
            if self._updates or not call.params.get("timeout"):
                return list(self._updates)
            self._updates_waiting = asyncio.Event()
            await self._updates_waiting.wait()


class _Answer(Exception):
    """Raised inside a default answer to answer with a Bot API error instead."""

    def __init__(self, answer: ApiError) -> None:
        super().__init__(answer.description)
        self.answer = answer


def _ok(result: Any) -> bytes:
    return json.dumps({"ok": True, "result": result}).encode()


def _files(request_data: RequestData | None) -> dict[str, tuple[str, bytes, str]]:
    if request_data is None or not request_data.contains_files:
        return {}
    files = {}
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        files[name] = (filename, data, mime_type)
    return files


def _bot_id_from_url(url: str) -> int | None:
    match = re.search(r"/bot(\d+):[^/]+/", url)
    return int(match.group(1)) if match else None


_TAG = re.compile(r"<[^>]+>")


def _visible(text: str, parse_mode: str | None) -> str:
    """What Telegram shows for ``text``: HTML tags removed and entities decoded."""
    if parse_mode == "HTML":
        return html.unescape(_TAG.sub("", text)).strip()
    return text.strip()


def _user(user_id: int) -> JSONDict:
    return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}


def _owner(user_id: int) -> JSONDict:
    return {"status": "creator", "user": _user(user_id), "is_anonymous": False}


def _administrator(user_id: int) -> JSONDict:
    return {
        "status": "administrator",
        "user": _user(user_id),
        "can_be_edited": False,
        "is_anonymous": False,
        **dict.fromkeys(ADMIN_RIGHTS, True),
    }
