"""The Telegram adapter: PTB's Application run by hand inside the bot's single event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application as PTBApplication
from telegram.ext import ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot.adapters.telegram.convert import ANONYMOUS_ADMIN_ID, chat_ref, update_events, user_ref
from bot.adapters.telegram.messenger import STORED_PREFIX, TelegramMessenger
from bot.core.events import BotAdded, ChatKind, IncomingMessage, MemberJoined, MemberLeft, Platform
from bot.core.i18n import Translator
from bot.core.logsafe import describe_event
from bot.core.router import parse_command
from bot.core.startup import EXIT_CONFIG, EXIT_UNAVAILABLE, StartupError
from bot.core.throttle import RateLimit, SendLimits
from storage.repositories import StateRepository

if TYPE_CHECKING:
    from bot.app import Application
    from bot.config import TelegramSection

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    "message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "poll",
    "poll_answer",
]
ADMIN_CACHE_SECONDS = 300.0
JOIN_DEDUP_SECONDS = 120.0
BOT_KEY = "<bot>"
START_BACKOFF_MAX = 30.0


class TelegramAdapter:
    """Connects Telegram to the application.

    Args:
        app: The application.
        config: The ``[telegram]`` section.
        request: PTB request object for API calls (tests inject an in-process fake transport).
        updates_request: PTB request object for ``getUpdates``.
    """

    name = "telegram"

    def __init__(
        self,
        app: Application,
        config: TelegramSection,
        *,
        request: BaseRequest | None = None,
        updates_request: BaseRequest | None = None,
    ) -> None:
        if not config.token:
            raise ValueError("the Telegram adapter needs [telegram] token")
        self.app = app
        self.config = config
        builder = PTBApplication.builder().token(config.token).job_queue(None).concurrent_updates(False)
        if config.base_url:
            builder = builder.base_url(config.base_url).base_file_url(_file_url(config.base_url))
        if request is not None:
            builder = builder.request(request)
        if updates_request is not None:
            builder = builder.get_updates_request(updates_request)
        self.ptb = builder.build()
        self.ptb.add_handler(TypeHandler(Update, self._on_update))
        self.ptb.add_error_handler(self._on_error)
        self.messenger = TelegramMessenger(self.ptb.bot, self._store_button, self._migrate)
        self.bot_id = 0
        self.username = ""
        self._last_update_id = -1
        self._admins: dict[str, tuple[float, frozenset[str]]] = {}
        self._recent_joins: dict[tuple[str, str], float] = {}
        self._closed = asyncio.Event()
        self._sleep = asyncio.sleep  # replaced in tests: the start's backoff must not really wait

    @property
    def _state_key(self) -> str:
        return f"telegram:{self.bot_id}:last_update_id"

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in (getMe), register commands, and start polling or the webhook.

        Raises:
            StartupError: The token was rejected (exit status 2), the Bot API stayed unreachable
                for ``start_timeout`` seconds (1), or the webhook port cannot be bound (2).
        """
        await self._connect()
        try:
            await self._run()
        except (TelegramError, StartupError) as error:
            # The Bot API went away right after getMe, or the webhook cannot listen.
            with contextlib.suppress(Exception):
                await self.stop()
            if isinstance(error, StartupError):
                raise
            raise self._startup_error(error) from None

    async def _connect(self) -> None:
        """getMe, retried with backoff while the Bot API is unreachable.

        The waits between attempts add up to ``start_timeout`` seconds at most (counted as waited,
        not by the clock, so tests can replace the sleep).
        """
        waited, delay, attempt = 0.0, 1.0, 1
        while True:
            try:
                await self.ptb.initialize()
                return
            except (NetworkError, RetryAfter) as error:  # NetworkError includes TimedOut
                remaining = self.config.start_timeout - waited
                if remaining <= 0:
                    raise self._startup_error(error, attempts=attempt) from None
                wait = error.retry_after if isinstance(error, RetryAfter) else delay
                seconds = min(_seconds(wait), remaining)
                waited += seconds
                log.warning(
                    "telegram: Bot API at %s unreachable at start (%s); attempt %d, next in %.0f s",
                    self._host,
                    error,
                    attempt,
                    seconds,
                )
                await self._sleep(seconds)
                delay, attempt = min(delay * 2, START_BACKOFF_MAX), attempt + 1
            except TelegramError as error:
                raise self._startup_error(error) from None

    @property
    def _host(self) -> str:
        return urlsplit(self.config.base_url or "https://api.telegram.org/bot").netloc

    def _startup_error(self, error: BaseException, attempts: int = 1) -> StartupError:
        """One line for the operator; PTB's own messages may contain the token, so not those."""
        if isinstance(error, InvalidToken):
            return StartupError(
                f"telegram: the Bot API at {self._host} rejected the token; check [telegram] token "
                "or $KUEMMERER_TELEGRAM_TOKEN (from @BotFather) and [telegram] base_url",
                status=EXIT_CONFIG,
            )
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if isinstance(error, NetworkError | RetryAfter):
            return StartupError(
                f"telegram: the Bot API at {self._host} is unreachable{tries} ({error}); check the "
                "network and [telegram] base_url",
                status=EXIT_UNAVAILABLE,
            )
        return StartupError(
            f"telegram: the Bot API at {self._host} refused to start the bot ({error})",
            status=EXIT_UNAVAILABLE,
        )

    async def _run(self) -> None:
        self.bot_id = self.ptb.bot.id
        self.username = self.ptb.bot.username
        self.app.attach(self.messenger, bot_names=[self.username], limits=self.limits())
        async with self.app.db.transaction() as session:
            stored = await StateRepository(session).get(self._state_key)
        self._last_update_id = int(stored) if stored else -1
        await self.publish_commands()
        await self.ptb.start()
        if self.config.mode == "webhook":
            url = self.config.webhook_url or ""
            try:
                await self.ptb.updater.start_webhook(
                    listen=self.config.webhook_listen,
                    port=self.config.webhook_port,
                    url_path=urlsplit(url).path.lstrip("/"),
                    webhook_url=url,
                    secret_token=self.config.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                )
            except OSError as error:  # the port is taken or the address is not ours
                listen = f"{self.config.webhook_listen}:{self.config.webhook_port}"
                raise StartupError(
                    f"telegram: cannot listen on {listen} for the webhook ({error.strerror or error}); "
                    "check [telegram] webhook_listen and webhook_port",
                    status=EXIT_CONFIG,
                ) from None
        else:
            await self.ptb.updater.start_polling(
                timeout=timedelta(seconds=self.config.poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                error_callback=self._on_polling_error,
            )
        log.info("telegram: running as @%s (%s)", self.username, self.config.mode)

    async def wait_closed(self) -> None:
        """Telegram runs until stopped."""
        await self._closed.wait()

    async def stop(self) -> None:
        """Stop fetching, finish the updates already fetched, and close the connection."""
        if self.ptb.updater is not None and self.ptb.updater.running:
            await self.ptb.updater.stop()
        if self.ptb.running:
            await self.ptb.stop()
        await self.ptb.shutdown()
        self._closed.set()

    def limits(self) -> SendLimits:
        """Telegram's send limits from the config (``None`` each when switched off)."""
        if not self.config.rate_limits:
            return SendLimits()
        return SendLimits(
            overall=RateLimit(self.config.messages_per_second, 1.0),
            group=RateLimit(self.config.group_messages_per_minute, 60.0),
        )

    async def publish_commands(self) -> None:
        """setMyCommands from the router: German by default, English for English clients."""
        visible = [c for c in self.app.router if not c.hidden]
        for language in ("de", "en"):
            tr = Translator(language)
            commands = []
            for command in visible:
                name = command.name if language == "de" else (command.aliases or (command.name,))[0]
                description = tr.text(f"{command.key}.help")[:256]
                commands.append(BotCommand(name, description))
            for scope in (BotCommandScopeAllGroupChats(), BotCommandScopeAllPrivateChats()):
                codes = (None, "de") if language == "de" else ("en",)
                for code in codes:
                    try:
                        await self.ptb.bot.set_my_commands(commands, scope=scope, language_code=code)
                    except TelegramError as error:
                        # The menu is a convenience; the bot works without it.
                        log.warning("telegram: setMyCommands failed: %s", error)
                        return

    # Incoming ----------------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.update_id <= self._last_update_id:
            log.info("telegram: update %s was handled before a restart; skipped", update.update_id)
            return
        checkpoint = (self._state_key, str(update.update_id))
        try:
            if update.message is not None and update.message.migrate_to_chat_id:
                await self._migrate(str(update.message.chat.id), str(update.message.migrate_to_chat_id))
            if update.callback_query is not None:
                await self._on_callback(update, checkpoint)
            else:
                events = update_events(update, self.bot_id)
                handled = False
                for event in events:
                    event = await self._enrich(event, update)
                    if event is None:
                        continue
                    await self.app.handle(event, checkpoint=checkpoint)
                    handled = True
                if not handled:
                    await self.app.handle_checkpoint(checkpoint)
            if update.chat_member is not None:
                # Admin changes must count at once, not after the cache expires.
                self._admins.pop(str(update.chat_member.chat.id), None)
        finally:
            self._last_update_id = max(self._last_update_id, update.update_id)

    async def _enrich(self, event, update: Update):
        """Add admin status to commands; drop join events Telegram reports twice."""
        if isinstance(event, IncomingMessage):
            if event.chat.kind is ChatKind.GROUP and parse_command(event.text) is not None:
                message = update.message
                anonymous = message is not None and (
                    (message.from_user is not None and message.from_user.id == ANONYMOUS_ADMIN_ID)
                    or (message.sender_chat is not None and message.sender_chat.id == message.chat.id)
                )
                admin = anonymous or event.sender.external_id in await self._admin_ids(event.chat.external_id)
                return _with_admin(event, admin)
            return event
        # Joins (of people and of the bot itself) arrive twice: as a service message and as a
        # chat_member / my_chat_member update. Only the first report counts.
        if isinstance(event, MemberJoined):
            fresh = tuple(
                m for m in event.members if self._first_report(event.chat.external_id, m.external_id)
            )
            return MemberJoined(event.chat, fresh, event.timestamp) if fresh else None
        if isinstance(event, BotAdded):
            return event if self._first_report(event.chat.external_id, BOT_KEY) else None
        if isinstance(event, MemberLeft):
            # Leaving ends the window, so a quick rejoin counts as a new join.
            self._recent_joins.pop((event.chat.external_id, event.member.external_id), None)
        return event

    def _first_report(self, chat_id: str, member_id: str) -> bool:
        now = time.monotonic()
        self._recent_joins = {k: t for k, t in self._recent_joins.items() if now - t < JOIN_DEDUP_SECONDS}
        key = (chat_id, member_id)
        if key in self._recent_joins:
            return False
        self._recent_joins[key] = now
        return True

    async def _on_callback(self, update: Update, checkpoint: tuple[str, str]) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
        except TelegramError as error:
            log.info("telegram: answerCallbackQuery failed: %s", error)
        data = query.data or ""
        if data.startswith(STORED_PREFIX):
            async with self.app.db.transaction() as session:
                data = await StateRepository(session).get(f"telegram:button:{data}") or ""
        message = query.message
        if not data or message is None or not hasattr(message, "chat"):
            await self.app.handle_checkpoint(checkpoint)
            return
        chat = chat_ref(message.chat)
        admin = False
        if chat.kind is ChatKind.GROUP:
            admin = str(query.from_user.id) in await self._admin_ids(chat.external_id)
        await self.app.handle(
            IncomingMessage(chat, user_ref(query.from_user), data, None, admin),
            checkpoint=checkpoint,
        )

    async def _admin_ids(self, chat_id: str) -> frozenset[str]:
        cached = self._admins.get(chat_id)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            admins = await self.ptb.bot.get_chat_administrators(int(chat_id))
            ids = frozenset(str(a.user.id) for a in admins)
        except TelegramError as error:
            log.info("telegram: getChatAdministrators(%s) failed: %s", chat_id, error)
            return cached[1] if cached else frozenset()
        self._admins[chat_id] = (now + ADMIN_CACHE_SECONDS, ids)
        return ids

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Ids only: the update holds the message text and the sender's names (see logsafe).
        what = f"update {update.update_id}" if isinstance(update, Update) else describe_event(update)
        log.error("telegram: error while handling %s", what, exc_info=context.error)

    def _on_polling_error(self, error: TelegramError) -> None:
        log.warning("telegram: polling failed (%s); PTB retries", error)

    # Callbacks for the messenger ---------------------------------------------------------------

    async def _store_button(self, key: str, command: str) -> None:
        async with self.app.db.transaction() as session:
            await StateRepository(session).set(f"telegram:button:{key}", command, self.app.clock.now())

    async def _migrate(self, old_id: str, new_id: str) -> None:
        log.info("telegram: chat %s moved to %s", old_id, new_id)
        await self.app.migrate_chat(Platform.TELEGRAM, old_id, new_id)
        self._admins.pop(old_id, None)


def _with_admin(event: IncomingMessage, admin: bool) -> IncomingMessage:
    return IncomingMessage(
        chat=event.chat,
        sender=event.sender,
        text=event.text,
        message_id=event.message_id,
        sender_is_admin=admin,
        reply_to=event.reply_to,
        timestamp=event.timestamp,
    )


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _file_url(base_url: str) -> str:
    """Bot API file URL for a base URL ending in ``/bot``."""
    return base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else base_url
