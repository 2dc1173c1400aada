"""The durable outbox shared by all adapters.

Every outgoing message is written to the database in the transaction of the update that caused
it, and marked sent once its platform confirmed delivery. One worker per chat sends in order, so
a busy group never delays answers in other chats; sliding windows keep each platform's limits.
After a crash or restart, unsent messages are loaded again and go out. A message marked
``secret`` (a link code) keeps its full payload for every retry, restarts included, and loses it
in the statement that marks it sent or failed: finished rows hold no secrets.

Delivery is at least once: a crash between the platform's confirmation and the ``sent`` mark, or
a connection lost after the platform accepted a message, can repeat that one message; nothing is
repeated in normal operation and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.codec import decode_message, encode_message
from bot.core.errors import PermanentDeliveryError, RetryLater, TransientDeliveryError
from bot.core.events import ChatKind, ChatRef, OutgoingMessage, Platform, SentMessage
from bot.core.ports import Clock, Messenger
from bot.core.throttle import UNLIMITED, SendLimits, SlidingWindow
from storage import Database
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories import OutboxRepository

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
SentHook = Callable[[str, SentMessage], Awaitable[None]]


@dataclass(slots=True)
class _Entry:
    id: int
    message: OutgoingMessage
    age_start: float
    attempts: int = 0


@dataclass(slots=True)
class _Platform:
    messenger: Messenger
    limits: SendLimits
    overall: SlidingWindow | None
    windows: dict[str, SlidingWindow] = field(default_factory=dict)


class Outbox:
    """Stores outgoing messages and delivers them per chat, in order, within rate limits.

    Args:
        database: Where messages are stored.
        clock: Wall-clock time for timestamps.
        monotonic: Time source for rate limits and backoff (seconds).
        sleep: How to wait; tests pass one that does not really sleep.
        max_age: Transient failures are retried until a message is this old, then it fails.
        backoff_cap: Longest wait between two attempts after transient errors (seconds).
    """

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_age: timedelta = timedelta(hours=24),
        backoff_cap: float = 300.0,
    ) -> None:
        self.db = database
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.max_age = max_age.total_seconds()
        self.backoff_cap = backoff_cap
        self._platforms: dict[Platform, _Platform] = {}
        self._queues: dict[tuple[Platform, str], deque[_Entry]] = {}
        self._workers: dict[tuple[Platform, str], asyncio.Task[None]] = {}
        self._known: set[str] = set()  # message keys queued or being sent
        # Sent marks waiting to be written (see _mark_sent), and the task writing them.
        self._marks: list[tuple[_Entry, str | None, datetime, asyncio.Future[None]]] = []
        self._marker: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.on_sent: SentHook | None = None
        """Called with the tag and the platform's answer after a tagged message was delivered
        and marked sent (the application routes it to the features' ``on_sent`` observers)."""

    # Set-up ------------------------------------------------------------------------------------

    def register(self, messenger: Messenger, limits: SendLimits = UNLIMITED) -> None:
        """Deliver messages of ``messenger.platform`` through ``messenger`` within ``limits``."""
        overall = SlidingWindow(limits.overall, self.monotonic) if limits.overall else None
        self._platforms[messenger.platform] = _Platform(messenger, limits, overall)

    def messenger(self, platform: Platform) -> Messenger | None:
        """The registered messenger of a platform."""
        entry = self._platforms.get(platform)
        return entry.messenger if entry else None

    async def resume(self) -> int:
        """Queue every unsent message of the registered platforms (after a start or restart).

        Returns:
            How many messages were queued.
        """
        async with self.db.transaction() as session:
            rows = await OutboxRepository(session).pending([p.value for p in self._platforms])
        self.submit(rows)
        return len(rows)

    # Writing -----------------------------------------------------------------------------------

    async def enqueue(
        self, session: AsyncSession, messages: Sequence[OutgoingMessage], *, source: str | None = None
    ) -> list[OutboxMessage]:
        """Store messages in the caller's transaction; call :meth:`submit` after the commit.

        Messages are split into platform-sized parts first, so each stored row is one send and
        a retry never repeats parts that already arrived. ``source`` (the key of the event they
        answer) is stored on the first row.
        """
        rows = []
        now = self.clock.now()
        for message in messages:
            messenger = self.messenger(message.chat.platform)
            parts = messenger.prepare(message) if messenger is not None else [message]
            for part in parts:
                rows.append(
                    OutboxMessage(
                        platform=part.chat.platform.value,
                        chat_id=part.chat.external_id,
                        chat_kind=part.chat.kind.value,
                        payload=encode_message(part),
                        status=OutboxStatus.PENDING,
                        attempts=0,
                        created_at=now,
                        source=None if rows else source,
                        secret=part.secret,
                        tag=part.tag,
                    )
                )
        if rows:
            await OutboxRepository(session).add_all(rows)
        return rows

    async def send_now(self, messages: Sequence[OutgoingMessage]) -> None:
        """Store messages in a transaction of their own and queue them."""
        if not messages:
            return
        async with self.db.transaction() as session:
            rows = await self.enqueue(session, messages)
        self.submit(rows)

    def submit(self, rows: Sequence[OutboxMessage]) -> None:
        """Queue committed rows for delivery (rows of unregistered platforms wait in the database)."""
        now = self.monotonic()
        for row in rows:
            platform = Platform(row.platform)
            # Stable across retries, and unique although SQLite gives the id of a deleted last
            # row again (retention and erasure delete rows): Matrix would take a reused
            # transaction id for the earlier message and not send the new one.
            message_key = f"kuemmerer-outbox-{row.id}-{int(row.created_at.timestamp() * 1_000_000)}"
            if message_key in self._known or platform not in self._platforms:
                continue
            chat = ChatRef(platform, row.chat_id, ChatKind(row.chat_kind))
            age = (self.clock.now() - row.created_at).total_seconds()
            message = decode_message(chat, row.payload)
            message.key = message_key
            message.secret = row.secret
            message.tag = row.tag
            entry = _Entry(row.id, message, now - max(age, 0.0), row.attempts)
            key = (platform, row.chat_id)
            self._known.add(message_key)
            self._queues.setdefault(key, deque()).append(entry)
            if key not in self._workers:
                self._idle.clear()
                self._workers[key] = asyncio.create_task(self._work(key), name=f"outbox {key}")

    # Delivering --------------------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until every queued message was sent or given up (console, tests)."""
        await self._idle.wait()

    async def settle(self, platform: Platform, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until ``platform`` has nothing queued.

        A sync-based adapter calls this before its next long poll, so its replies go out while
        the homeserver is not also answering the bot's own sync (the pattern of a plain nio bot).
        """
        workers = [task for (p, _), task in self._workers.items() if p is platform]
        if workers:
            await asyncio.wait(workers, timeout=timeout)

    async def stop(self) -> None:
        """Stop the workers; unsent messages stay pending in the database."""
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if self._marker is not None:
            # Deliveries confirmed before the stop are recorded, unless the database is stuck.
            marker = self._marker
            await asyncio.wait([marker], timeout=2.0)
            marker.cancel()
            await asyncio.gather(marker, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        self._known.clear()
        self._idle.set()

    async def _work(self, key: tuple[Platform, str]) -> None:
        queue = self._queues[key]
        try:
            while queue:
                entry = queue[0]
                if await self._attempt(key, entry):
                    queue.popleft()
                    self._known.discard(entry.message.key or "")
        finally:
            self._workers.pop(key, None)
            if not queue:
                self._queues.pop(key, None)
            if not self._workers:
                self._idle.set()

    async def _attempt(self, key: tuple[Platform, str], entry: _Entry) -> bool:
        """One delivery attempt; returns whether the entry is finished (sent or failed)."""
        platform = self._platforms.get(key[0])
        if platform is None:  # unregistered meanwhile: leave it pending in the database
            return True
        await self._throttle(platform, entry.message.chat)
        try:
            sent = await platform.messenger.send(entry.message)
        except RetryLater as wait:
            log.info("outbox %s: platform asks to wait %.1f s", entry.id, wait.seconds)
            await self.sleep(max(wait.seconds, 0.0))
            return False
        except PermanentDeliveryError as error:
            log.warning("outbox %s: undeliverable (%s)", entry.id, error.reason)
            await self._mark_failed(entry, error.reason)
            if error.blocked_private and entry.message.fallback is not None:
                await self.send_now([entry.message.fallback])
            return True
        except (TransientDeliveryError, OSError, TimeoutError) as error:
            entry.attempts += 1
            age = self.monotonic() - entry.age_start
            if age >= self.max_age:
                await self._mark_failed(entry, f"expired after {entry.attempts} attempts: {error}")
                return True
            delay = min(self.backoff_cap, 2.0 ** min(entry.attempts - 1, 16))
            log.info(
                "outbox %s: attempt %d failed (%s); retry in %.0f s", entry.id, entry.attempts, error, delay
            )
            await self._note_attempt(entry, str(error))
            await self.sleep(delay)
            return False
        except Exception as error:  # a bug in an adapter must not retry forever or stop the worker
            log.exception("outbox %s: unexpected error while sending", entry.id)
            await self._mark_failed(entry, f"unexpected: {error!r}")
            return True
        await self._mark_sent(entry, sent.message_id)
        if entry.message.tag and self.on_sent is not None:
            try:
                await self.on_sent(entry.message.tag, sent)
            except Exception:  # the message is out; a feature's bookkeeping must not resend it
                log.exception("outbox %s: the sent observer failed", entry.id)
        return True

    async def _throttle(self, platform: _Platform, chat: ChatRef) -> None:
        limit = platform.limits.private if chat.is_private else platform.limits.group
        window = None
        if limit is not None:
            window = platform.windows.get(chat.external_id)
            if window is None:
                window = platform.windows[chat.external_id] = SlidingWindow(limit, self.monotonic)
        while True:
            delay = max(
                window.delay() if window else 0.0,
                platform.overall.delay() if platform.overall else 0.0,
            )
            if delay <= 0:
                break
            await self.sleep(delay)
        if window:
            window.record()
        if platform.overall:
            platform.overall.record()

    async def _mark_sent(self, entry: _Entry, external_id: str | None) -> None:
        """Record the delivery before the chat's next message goes out.

        The marks of messages confirmed meanwhile in other chats are written together: one
        transaction for all that arrived while the previous one was written (on SQLite each
        transaction waits for its turn, e.g. behind a batch of the scheduler).
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((entry, external_id, self.clock.now(), future))
        if self._marker is None:
            self._marker = asyncio.create_task(self._write_marks(), name="outbox sent marks")
        # Shielded: a cancelled worker does not take the mark of a delivered message with it.
        await asyncio.shield(future)

    async def _write_marks(self) -> None:
        try:
            while self._marks:
                marks, self._marks = self._marks, []
                # The platform has the messages now; resending because the database hiccuped
                # would duplicate them, so insist on recording the deliveries.
                delay = 0.5
                while True:
                    try:
                        async with self.db.transaction() as session:
                            await OutboxRepository(session).mark_sent_many(
                                [(e.id, at, external_id, e.message.secret) for e, external_id, at, _ in marks]
                            )
                        break
                    except Exception:
                        ids = ", ".join(str(e.id) for e, *_ in marks)
                        log.exception("outbox %s: sent, but recording that failed; retrying", ids)
                        await self.sleep(delay)
                        delay = min(delay * 2, 30.0)
                for *_, future in marks:
                    if not future.done():
                        future.set_result(None)
        finally:
            self._marker = None
            for *_, future in self._marks:  # stopped: nobody writes these any more
                future.cancel()
            self._marks = []

    async def _mark_failed(self, entry: _Entry, reason: str) -> None:
        async with self.db.transaction() as session:
            await OutboxRepository(session).mark_failed(entry.id, reason, redact=entry.message.secret)

    async def _note_attempt(self, entry: _Entry, reason: str) -> None:
        async with self.db.transaction() as session:
            await OutboxRepository(session).note_attempt(entry.id, reason)
