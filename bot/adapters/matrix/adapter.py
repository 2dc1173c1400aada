"""The Matrix adapter: a matrix-nio client syncing inside the bot's single event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RoomCreateResponse,
    RoomEncryptionEvent,
    RoomGetEventResponse,
    RoomMemberEvent,
    RoomMessagesResponse,
    RoomMessageText,
    SyncResponse,
    UnknownEvent,
    UploadFilterResponse,
    WhoamiResponse,
)
from nio.api import RoomPreset
from nio.crypto import ENCRYPTION_ENABLED

from bot.adapters.matrix.convert import (
    POLL_RESPONSE_TYPES,
    chat_ref,
    poll_answer,
    reply_target,
    strip_reply_fallback,
    user_ref,
)
from bot.adapters.matrix.messenger import MatrixMessenger
from bot.core.events import (
    ChatRef,
    Event,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    OutgoingMessage,
    Platform,
    PollAnswered,
    QuotedMessage,
)
from bot.core.i18n import Translator
from bot.core.logsafe import register_secret
from bot.core.startup import EXIT_CONFIG, StartupError
from bot.services.erasure import PersonErased
from storage.repositories import StateRepository

if TYPE_CHECKING:
    from bot.app import Application
    from bot.config import MatrixSection

log = logging.getLogger(__name__)

TIMELINE_LIMIT = 50
GAP_PAGE = 100
GAP_MAX_PAGES = 50
BACKOFF_MAX = 60.0
EVENT_MEMORY_DAYS = 7
SETTLE_SECONDS = 2.0
SAVE_EVERY_SECONDS = 5.0


class _Unavailable(Exception):
    """The homeserver answered, but with a server error: retried like an outage."""


def _rejected(response: Any) -> bool:
    """Whether an error response refuses the credentials (a Matrix errcode other than rate limiting);
    proxies' 5xx pages come without an errcode and are worth retrying."""
    code = response.status_code or ""
    return code.startswith("M_") and code != "M_LIMIT_EXCEEDED"


def _filter(limit: int) -> dict[str, Any]:
    return {
        "room": {"timeline": {"limit": limit}, "state": {"lazy_load_members": False}},
        "presence": {"types": []},
    }


class MatrixAdapter:
    """Connects Matrix to the application.

    Args:
        app: The application.
        config: The ``[matrix]`` section.
    """

    name = "matrix"

    def __init__(self, app: Application, config: MatrixSection) -> None:
        if not (config.homeserver and config.user_id):
            raise ValueError("the Matrix adapter needs [matrix] homeserver and user_id")
        self.app = app
        self.config = config
        self.user_id = config.user_id
        # nio must not hide rate limits or outages: the outbox and the sync loop retry themselves.
        # With the e2e extra (libolm) installed, keys live in a persistent store next to the data.
        self.encryption = ENCRYPTION_ENABLED and config.encryption == "auto"
        client_config = AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=45,
            encryption_enabled=self.encryption,
            store_sync_tokens=False,
        )
        store = ""
        if self.encryption:
            Path(config.store_path).mkdir(parents=True, exist_ok=True)
            store = config.store_path
        self.client = AsyncClient(config.homeserver, config.user_id, store_path=store, config=client_config)
        self.messenger = MatrixMessenger(self.client, self.room_for, self._remember_buttons)
        self.next_batch: str | None = None
        self._dm_room: dict[str, str] = {}  # user id → direct room id
        self._room_dm: dict[str, str] = {}  # direct room id → user id
        self._last_event: dict[str, str] = {}  # room id → last handled event id
        self._joined_at: dict[str, int] = {}  # room id → when we joined (ms), to skip history
        self._buttons: dict[str, dict[str, str]] = {}
        self._filter_ids: dict[int, str] = {}
        self._replaying = False
        self._directs_changed = False
        self._saved_at = 0.0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()  # leaving rooms of erased people
        self._closed = asyncio.Event()
        self.synced = asyncio.Event()
        self._sleep = asyncio.sleep  # the backoff of retries; tests replace it (no real waits)

    def _key(self, name: str) -> str:
        return f"matrix:{self.user_id}:{name}"

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in (reusing the stored device), load state, and start syncing.

        Raises:
            StartupError: The homeserver rejected the credentials.
        """
        try:
            await self._login()
        except StartupError:
            await self.client.close()  # an open aiohttp session would add its own warning
            raise
        await self._load_state()
        self.app.observers.on_committed(self._on_committed)
        self.app.attach(self.messenger, bot_names=[self.user_id, self.user_id.split(":")[0].lstrip("@")])
        if self.next_batch is None:
            # First start ever: take the current position and skip all room history.
            response = await self._sync_once(await self._sync_filter(0), timeout=0)
            await self._handle_invites(response)
            self.next_batch = response.next_batch
            await self._save_position()
        else:
            self._replaying = True  # the first batch may hold events handled before a restart
        self._task = asyncio.create_task(self._sync_loop(), name="matrix sync")
        log.info("matrix: running as %s (device %s)", self.user_id, self.client.device_id)

    async def wait_closed(self) -> None:
        """Matrix runs until stopped."""
        await self._closed.wait()

    async def stop(self) -> None:
        """Stop syncing and close the connection."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._task is not None:
            await self._save_position()
        await self.client.close()
        self._closed.set()

    async def _login(self) -> None:
        """Log in with the access token (configured or stored) or the password.

        The homeserver being unreachable or answering with a server error is retried with
        backoff (one line per attempt); a rejected token or password ends the start.

        Raises:
            StartupError: The homeserver rejected the credentials (exit status 2).
        """
        async with self.app.db.transaction() as session:
            state = StateRepository(session)
            device_id = await state.get(self._key("device_id"))
            stored_token = await state.get(self._key("access_token"))
        register_secret(stored_token)
        token = self.config.access_token or stored_token
        delay = 1.0
        while True:
            try:
                if token:
                    self.client.access_token = token
                    self.client.user_id = self.user_id
                    who = await self.client.whoami()
                    if isinstance(who, WhoamiResponse):
                        # restore_login also opens the crypto store when encryption is on.
                        self.client.restore_login(self.user_id, who.device_id or device_id or "", token)
                        break
                    if not _rejected(who):
                        raise _Unavailable(f"{who.status_code or 'error'} {who.message}")
                    if self.config.access_token or not self.config.password:
                        raise StartupError(
                            f"matrix: {self.config.homeserver} rejected the access token of "
                            f"{self.user_id} ({who.status_code}: {who.message}); check [matrix] "
                            "access_token or $KUEMMERER_MATRIX_ACCESS_TOKEN",
                            status=EXIT_CONFIG,
                        )
                    token = None  # the stored token expired: log in again below
                    continue
                if device_id:
                    self.client.device_id = device_id  # reuse the device instead of creating one
                response = await self.client.login(self.config.password, device_name=self.config.device_name)
                if not isinstance(response, LoginResponse):
                    if not _rejected(response):
                        raise _Unavailable(f"{response.status_code or 'error'} {response.message}")
                    raise StartupError(
                        f"matrix: {self.config.homeserver} refused the login of {self.user_id} "
                        f"({response.status_code}: {response.message}); check [matrix] user_id and "
                        "password or $KUEMMERER_MATRIX_PASSWORD",
                        status=EXIT_CONFIG,
                    )
                # Known from now on: nio's DEBUG lines and ours must not show it.
                register_secret(response.access_token)
                async with self.app.db.transaction() as session:
                    state = StateRepository(session)
                    now = self.app.clock.now()
                    await state.set(self._key("device_id"), response.device_id, now)
                    await state.set(self._key("access_token"), response.access_token, now)
                break
            except (TimeoutError, aiohttp.ClientError, OSError, _Unavailable) as error:
                log.warning("matrix: homeserver unreachable at login (%s); retry in %.0f s", error, delay)
                await self._sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    async def _load_state(self) -> None:
        async with self.app.db.transaction() as session:
            state = StateRepository(session)
            self.next_batch = await state.get(self._key("next_batch"))
            directs = json.loads(await state.get(self._key("direct_rooms")) or "{}")
            last = json.loads(await state.get(self._key("last_events")) or "{}")
            await state.prune(f"{self._key('event')}:", self.app.clock.now(), EVENT_MEMORY_DAYS)
        self._dm_room = dict(directs)
        self._room_dm = {room: user for user, room in directs.items()}
        self._last_event = dict(last)

    async def _save_position(self) -> None:
        self._saved_at = time.monotonic()
        async with self.app.db.transaction() as session:
            state = StateRepository(session)
            now = self.app.clock.now()
            await state.set(self._key("next_batch"), self.next_batch or "", now)
            await state.set(self._key("last_events"), json.dumps(self._last_event), now)
            if self._directs_changed:
                await state.set(self._key("direct_rooms"), json.dumps(self._dm_room), now)
                self._directs_changed = False

    # Syncing -----------------------------------------------------------------------------------

    async def _sync_filter(self, limit: int) -> str | dict[str, Any]:
        """The sync filter as an id uploaded once per run (the inline JSON form would make the
        homeserver parse and validate it again for every sync); inline if the upload fails."""
        filter_id = self._filter_ids.get(limit)
        if filter_id is None:
            definition = _filter(limit)
            try:
                response = await self.client.upload_filter(
                    room=definition["room"], presence=definition["presence"]
                )
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                log.info("matrix: could not upload the sync filter (%s); sending it inline", error)
                return definition
            if not isinstance(response, UploadFilterResponse):
                log.info("matrix: could not upload the sync filter (%s); sending it inline", response.message)
                return definition
            filter_id = self._filter_ids[limit] = response.filter_id
        return filter_id

    async def _sync_once(self, sync_filter: str | dict[str, Any], timeout: int) -> SyncResponse:
        delay = 1.0
        while True:
            try:
                response = await self.client.sync(
                    timeout=timeout, since=self.next_batch, sync_filter=sync_filter
                )
                if isinstance(response, SyncResponse):
                    return response
                log.warning(
                    "matrix: sync failed (%s %s); retry in %.0f s",
                    response.status_code,
                    response.message,
                    delay,
                )
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                log.warning("matrix: homeserver unreachable (%s); retry in %.0f s", error, delay)
            await self._sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _keys(self) -> None:
        """Keep the device's encryption keys in shape (what nio's sync_forever does itself)."""
        if not self.encryption:
            return
        try:
            if self.client.should_upload_keys:
                await self.client.keys_upload()
            if self.client.should_query_keys:
                await self.client.keys_query()
            if self.client.should_claim_keys:
                await self.client.keys_claim(self.client.get_users_for_key_claiming())
        except Exception:
            log.exception("matrix: key maintenance failed; retried after the next sync")

    async def _sync_loop(self) -> None:
        delay = 1.0
        while not self._stopping:
            try:
                await self._sync_step()
                delay = 1.0
            except Exception:
                # The homeserver's outages are retried inside the step; anything else (the
                # database away, a bug) must not end the loop silently, or the bot would look alive
                # and never answer again.
                log.exception("matrix: sync step failed; retry in %.0f s", delay)
                await self._sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    async def _sync_step(self) -> None:
        """One sync: fetch, handle the batch, remember the position."""
        await self._keys()
        sync_filter = await self._sync_filter(TIMELINE_LIMIT)
        response = await self._sync_once(sync_filter, timeout=self.config.sync_timeout_ms)
        try:
            await self._process(response)
        except Exception:
            # One bad batch must not end the bot; its events are logged and skipped.
            log.exception("matrix: error while processing a sync batch")
        await self.app.outbox.settle(Platform.MATRIX, SETTLE_SECONDS)
        self.next_batch = response.next_batch
        self._replaying = False
        # The position is saved every few seconds, not after every batch: events that had an
        # effect are remembered by id, so re-reading a few batches after a crash is harmless.
        if self._directs_changed or time.monotonic() - self._saved_at >= SAVE_EVERY_SECONDS:
            await self._save_position()
        self.synced.set()

    async def _process(self, response: SyncResponse) -> None:
        await self._handle_invites(response)
        for room_id in response.rooms.leave:
            self._forget_room(room_id)
        for room_id, info in response.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited and room_id in self._last_event:
                events = await self._fill_gap(room_id, info.timeline.prev_batch, events)
            if self._joined_at.pop(room_id, None) is not None:
                events = self._after_own_join(events)
            for event in events:
                await self._on_event(room_id, event)
            if events:
                self._last_event[room_id] = events[-1].event_id

    def _after_own_join(self, events: list) -> list:
        """Drop the history in the first batch of a room just joined: everything up to our join."""
        for index in range(len(events) - 1, -1, -1):
            event = events[index]
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "join"
                and event.prev_membership != "join"  # not a later change of name or avatar
            ):
                return events[index + 1 :]
        return events

    async def _fill_gap(self, room_id: str, prev_batch: str | None, events: list) -> list:
        """Fetch the events a limited sync left out, back to the last one handled."""
        last = self._last_event[room_id]
        missing: list = []
        token = prev_batch
        for _ in range(GAP_MAX_PAGES):
            if token is None:
                break
            page = await self.client.room_messages(
                room_id, start=token, direction=MessageDirection.back, limit=GAP_PAGE
            )
            if not isinstance(page, RoomMessagesResponse):
                log.error("matrix: could not fetch missed events in %s: %s", room_id, page.message)
                break
            for event in page.chunk:  # newest first
                if event.event_id == last:
                    return list(reversed(missing)) + events
                missing.append(event)
            if not page.chunk or page.end is None or page.end == token:
                break
            token = page.end
        log.warning("matrix: gap in %s reached its limit; %d events recovered", room_id, len(missing))
        return list(reversed(missing)) + events

    async def _handle_invites(self, response: SyncResponse) -> None:
        for room_id, info in response.rooms.invite.items():
            inviter = next(
                (
                    e.sender
                    for e in info.invite_state
                    if isinstance(e, InviteMemberEvent)
                    and e.state_key == self.user_id
                    and e.membership == "invite"
                ),
                None,
            )
            if inviter is None or not self._may_invite(inviter):
                log.info("matrix: declining invite to %s from %s", room_id, inviter)
                await self.client.room_leave(room_id)
                continue
            self._joined_at[room_id] = int(time.time() * 1000)
            joined = await self.client.join(room_id)
            if isinstance(joined, JoinError):
                log.error("matrix: could not join %s: %s", room_id, joined.message)
                self._joined_at.pop(room_id, None)
            else:
                log.info("matrix: joined %s on invitation by %s", room_id, inviter)

    def _may_invite(self, user_id: str) -> bool:
        allowed = self.config.allowed_inviters or [":" + self.user_id.split(":", 1)[1]]
        server = ":" + user_id.split(":", 1)[-1]
        return any(
            user_id == entry or server == entry or server == ":" + entry.lstrip(":") for entry in allowed
        )

    def _on_committed(self, runtime: object, signals: list[object]) -> None:
        """A person's data was erased: the direct room with them is no longer known (its
        mapping names their Matrix id) and the bot leaves it."""
        for signal in signals:
            if isinstance(signal, PersonErased) and signal.platform == Platform.MATRIX.value:
                task = asyncio.get_running_loop().create_task(self._forget_direct(signal.external_id))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _forget_direct(self, user_id: str) -> None:
        room_id = self._dm_room.pop(user_id, None)
        if room_id is None:
            return
        self._room_dm.pop(room_id, None)
        self._last_event.pop(room_id, None)
        self._directs_changed = True
        try:
            await self.client.room_leave(room_id)
            await self._save_position()  # the mapping without the person, at once
        except Exception:  # the erasure stands; a room left open is only a nuisance
            log.exception("matrix: could not leave the direct room of an erased person")

    def _forget_room(self, room_id: str) -> None:
        log.info("matrix: left or removed from %s", room_id)
        user = self._room_dm.pop(room_id, None)
        if user is not None:
            self._dm_room.pop(user, None)
        self._last_event.pop(room_id, None)

    # Events ------------------------------------------------------------------------------------

    async def _on_event(self, room_id: str, event: Any) -> None:
        if getattr(event, "sender", None) == self.user_id:
            return
        key = f"{self._key('event')}:{event.event_id}"
        if self._replaying and await self.app.handled(key):
            return
        core = await self._convert(room_id, event)
        if core is not None:
            await self.app.handle(core, checkpoint=(key, "1"), per_event=True)

    async def _convert(self, room_id: str, event: Any) -> Event | None:
        room = self.client.rooms.get(room_id)
        if isinstance(event, RoomMessageText):
            chat = self._chat(room_id)
            sender = user_ref(event.sender, room.user_name(event.sender) if room else None)
            quoted = None
            target = reply_target(event.source)
            if target is not None:
                quoted = await self._quoted(room_id, target)
            return IncomingMessage(
                chat=chat,
                sender=sender,
                text=strip_reply_fallback(event.body) if quoted is not None else event.body,
                message_id=event.event_id,
                sender_is_admin=self._is_coordinator(room_id, event.sender),
                reply_to=quoted,
            )
        if isinstance(event, RoomMemberEvent):
            if event.state_key == self.user_id:
                if event.membership in ("leave", "ban"):
                    self._forget_room(room_id)
                return None
            chat = self._chat(room_id)
            if chat.is_private:
                return None
            member = user_ref(event.state_key, (event.content or {}).get("displayname"))
            if event.membership == "join" and event.prev_membership != "join":
                return MemberJoined(chat, (member,))
            if event.membership in ("leave", "ban") and event.prev_membership == "join":
                return MemberLeft(chat, member)
            return None
        if isinstance(event, ReactionEvent):
            command = (await self._buttons_of(event.reacts_to)).get(event.key)
            if command is None:
                return None
            sender = user_ref(event.sender, room.user_name(event.sender) if room else None)
            return IncomingMessage(
                self._chat(room_id),
                sender,
                command,
                event.event_id,
                self._is_coordinator(room_id, event.sender),
            )
        if isinstance(event, UnknownEvent) and event.type in POLL_RESPONSE_TYPES:
            answer = poll_answer(event.source)
            if answer is None:
                return None
            poll_id, options = answer
            # The display name as for messages: the voter's stored name must not become the id.
            voter = user_ref(event.sender, room.user_name(event.sender) if room else None)
            return PollAnswered(Platform.MATRIX, poll_id, voter, options)
        if isinstance(event, MegolmEvent):
            if self.encryption:
                # Keys for this message are missing; ask the sender's devices for them.
                with contextlib.suppress(Exception):
                    await self.client.request_room_key(event)
            else:
                await self._encrypted_notice(room_id)
        elif isinstance(event, RoomEncryptionEvent) and not self.encryption:
            await self._encrypted_notice(room_id)
        return None

    def _chat(self, room_id: str) -> ChatRef:
        """The core chat for a room: a direct chat while only the bot and one person are in it."""
        room = self.client.rooms.get(room_id)
        title = room.display_name if room else None
        direct_with = None
        if room is not None:
            others = [u for u in room.users if u != self.user_id]
            # A room is a direct chat only while it has exactly one other member: once a third
            # person joins, private messages must no longer go there.
            if len(others) == 1 and (room_id in self._room_dm or not (room.name or room.canonical_alias)):
                direct_with = others[0]
        known = self._room_dm.get(room_id)
        if direct_with is None and known is not None:
            self._room_dm.pop(room_id, None)
            if self._dm_room.get(known) == room_id:
                self._dm_room.pop(known, None)
            self._directs_changed = True
        elif direct_with is not None and room_id not in self._room_dm:
            self._room_dm[room_id] = direct_with
            current = self._dm_room.get(direct_with)
            if current is None or current not in self.client.rooms:
                # A second direct room with the same person does not replace a working first one.
                self._dm_room[direct_with] = room_id
            self._directs_changed = True
        return chat_ref(room_id, direct_with=direct_with, title=title)

    def _is_coordinator(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        if room is None:
            return False
        return room.power_levels.get_user_level(user_id) >= self.config.koordination_power_level

    async def _quoted(self, room_id: str, event_id: str) -> QuotedMessage:
        response = await self.client.room_get_event(room_id, event_id)
        if not isinstance(response, RoomGetEventResponse):
            return QuotedMessage(event_id, None)
        original = response.event
        body = getattr(original, "body", None)
        room = self.client.rooms.get(room_id)
        sender = user_ref(original.sender, room.user_name(original.sender) if room else None)
        return QuotedMessage(event_id, strip_reply_fallback(body) if isinstance(body, str) else None, sender)

    async def _encrypted_notice(self, room_id: str) -> None:
        key = f"{self._key('encrypted_notice')}:{room_id}"
        async with self.app.db.transaction() as session:
            state = StateRepository(session)
            if await state.get(key) is not None:
                return
            await state.set(key, "1", self.app.clock.now())
        text = Translator(self.app.language).markup("matrix.encrypted_unsupported")
        await self.app.outbox.send_now([OutgoingMessage(self._chat(room_id), text)])

    # Callbacks for the messenger ---------------------------------------------------------------

    async def _remember_buttons(self, event_id: str, keys: dict[str, str]) -> None:
        self._buttons[event_id] = keys
        async with self.app.db.transaction() as session:
            await StateRepository(session).set(
                f"{self._key('buttons')}:{event_id}", json.dumps(keys), self.app.clock.now()
            )

    async def _buttons_of(self, event_id: str) -> dict[str, str]:
        if event_id not in self._buttons:
            async with self.app.db.transaction() as session:
                stored = await StateRepository(session).get(f"{self._key('buttons')}:{event_id}")
            self._buttons[event_id] = json.loads(stored) if stored else {}
        return self._buttons[event_id]

    async def room_for(self, chat_id: str) -> str:
        """The room for a chat id: itself for a room id, the direct room for a user id."""
        if not chat_id.startswith("@"):
            return chat_id
        room_id = self._dm_room.get(chat_id)
        if room_id is not None and room_id in self.client.rooms:
            return room_id
        response = await self.client.room_create(
            is_direct=True, invite=[chat_id], preset=RoomPreset.trusted_private_chat
        )
        if not isinstance(response, RoomCreateResponse):
            from bot.adapters.matrix.messenger import _error

            raise _error(response, "create direct room")
        room_id = response.room_id
        if room_id not in self.client.rooms:
            # nio learns of the room with the next sync, which waits for the outbox to settle;
            # until then sending there fails when encryption is on (nio looks the room up), and
            # the next private message to the same person would create yet another room.
            self.client.rooms[room_id] = MatrixRoom(room_id, self.user_id)
        self._dm_room[chat_id] = room_id
        self._room_dm[room_id] = chat_id
        async with self.app.db.transaction() as session:
            await StateRepository(session).set(
                self._key("direct_rooms"), json.dumps(self._dm_room), self.app.clock.now()
            )
        await self._mark_direct(chat_id, room_id)
        return room_id

    async def _mark_direct(self, user_id: str, room_id: str) -> None:
        """Add the room to the bot's ``m.direct`` account data, as clients do for direct chats."""
        path = f"/_matrix/client/v3/user/{quote(self.user_id)}/account_data/m.direct"
        headers = {"Authorization": f"Bearer {self.client.access_token}", "Content-Type": "application/json"}
        try:
            current: dict[str, list[str]] = {}
            async with await self.client.send("GET", path, headers=headers) as response:
                if response.status == 200:
                    current = await response.json()
            rooms = current.setdefault(user_id, [])
            if room_id not in rooms:
                rooms.append(room_id)
            async with await self.client.send("PUT", path, json.dumps(current), headers=headers) as response:
                if response.status != 200:
                    log.warning("matrix: could not update m.direct: HTTP %s", response.status)
        except (TimeoutError, aiohttp.ClientError) as error:
            log.warning("matrix: could not update m.direct: %s", error)
