"""A REPL and script runner that speaks to the bot like a chat platform.

Plain lines are messages from the current person in the current chat; lines starting with ``:``
are directives (see :data:`DIRECTIVES`). Every message of the session, the person's and the
bot's, gets a running number so ``:reply N`` can refer to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from bot.core.errors import PermanentDeliveryError, UserError
from bot.core.events import (
    ChatKind,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    OutgoingMessage,
    Platform,
    QuotedMessage,
    SentMessage,
    UserRef,
)
from bot.core.i18n import Translator
from bot.core.router import as_number
from bot.core.sanitize import shorten

if TYPE_CHECKING:
    from bot.app import Application

BOT_NAME = "Kümmerer"

# The console speaks German like the bot; directive names and kind words stay as they are
# (English kind words are accepted too).
DIRECTIVES = """\
Anweisungen:
  :user NAME [admin]          als diese Person schreiben (admin: verwaltet die Chats)
  :chat NAME [gruppe|privat]  in einen Chat wechseln oder ihn anlegen
  :chat privat:NAME           in einen privaten Chat mit dem Bot wechseln oder ihn anlegen
  :join NAME / :leave NAME    jemand tritt dem aktuellen Gruppenchat bei oder verlässt ihn
  :reply N TEXT               TEXT als Antwort auf Nachricht #N schicken
  :zeit [+2h|+3d|+90m|+1w]    Zeit vorstellen: alles, was dazwischen fällig wird, kommt der Reihe nach
  :zeit 2026-12-01 18:00      Zeit auf diesen Zeitpunkt stellen (Ortszeit der AG des Chats);
                              ohne Angabe: die aktuelle Zeit zeigen
  :help                       diese Übersicht
  :quit                       Sitzung beenden
Alles andere geht als Nachricht in den aktuellen Chat; Befehle an den Bot beginnen mit / oder !."""

BANNER = "Kümmerer-Konsole. Anweisungen: :help · Ende: :quit"

_KINDS = {
    "gruppe": ChatKind.GROUP,
    "group": ChatKind.GROUP,
    "privat": ChatKind.PRIVATE,
    "private": ChatKind.PRIVATE,
}
_PRIVATE_PREFIXES = ("privat:", "private:")


@dataclass(slots=True)
class _Logged:
    chat: ChatRef
    sender: UserRef | None
    text: str


class ConsoleAdapter:
    """The console platform: reads lines, turns them into events, prints the bot's replies.

    Args:
        app: The application to feed.
        script: Read lines from this file instead of standard input.
        stdin: Input stream (default ``sys.stdin``).
        stdout: Output stream (default ``sys.stdout``).
        interactive: Prompt for input; default: whether ``stdin`` is a terminal and no script.
    """

    name = "console"
    platform = Platform.CONSOLE

    def __init__(
        self,
        app: Application,
        *,
        script: str | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.app = app
        self.script = script
        self.stdin = stdin or sys.stdin
        self.out = stdout or sys.stdout
        self.interactive = (
            interactive if interactive is not None else (script is None and self.stdin.isatty())
        )
        self.user = UserRef(Platform.CONSOLE, "ich", "ich", "ich")
        self.admins: set[str] = set()
        self.chats: dict[str, ChatRef] = {}
        self.chat = self._chat("gruppe", ChatKind.GROUP)
        self.log: list[_Logged] = []
        self._task: asyncio.Task[None] | None = None
        self.output_closed = False
        self._travel_zone: ZoneInfo | None = None
        app.attach(self)

    # Adapter lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start reading input in the background."""
        if self.interactive:
            self._print(BANNER)
        self._task = asyncio.create_task(self.run(), name="console")

    async def wait_closed(self) -> None:
        """Return when the input is used up or ``:quit`` was given."""
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def run(self) -> None:
        """Process every input line until end of input or ``:quit``."""
        for_lines = self._script_lines() if self.script else self._stream_lines()
        async for line in for_lines:
            if not await self.process(line):
                break

    async def _script_lines(self):
        assert self.script is not None
        # Scripts are small; reading them whole off the loop keeps the loop responsive.
        text = await asyncio.to_thread(Path(self.script).read_text, encoding="utf-8")
        for line in text.splitlines():
            yield line

    async def _stream_lines(self):
        loop = asyncio.get_running_loop()
        while True:
            if self.interactive:
                try:
                    line = await loop.run_in_executor(None, input, self._prompt())
                except EOFError:
                    return
                yield line
            else:
                line = await loop.run_in_executor(None, self.stdin.readline)
                if not line:
                    return
                yield line

    # Input -------------------------------------------------------------------------------------

    async def process(self, raw: str) -> bool:
        """Handle one input line; returns ``False`` when the session should end."""
        if self.output_closed:
            return False
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#!"):
            return True
        if line.startswith(":"):
            return await self._directive(line)
        await self._send(line)
        # Output gone (``kuemmerer console | head``): the session is over.
        return not self.output_closed

    async def _send(self, text: str, reply_to: int | None = None) -> None:
        number = self._remember(self.chat, self.user, text)
        if not self.interactive:
            self._print(f"{self._prompt(number)}{text}")
        quoted = None
        if reply_to is not None:
            original = self.log[reply_to - 1]
            quoted = QuotedMessage(str(reply_to), original.text, original.sender)
        await self.app.handle(
            IncomingMessage(
                chat=self.chat,
                sender=self.user,
                text=text,
                message_id=str(number),
                sender_is_admin=self.user.external_id in self.admins,
                reply_to=quoted,
                timestamp=self.app.clock.now(),
            )
        )
        # Show the answers before the next prompt, as a chat client would; a hint of the reopen
        # guard, too (it runs beside the update path, so it is waited for here).
        await self.app.drain()

    async def _directive(self, line: str) -> bool:
        word, _, rest = line[1:].partition(" ")
        word, rest = word.lower(), rest.strip()
        if word in ("quit", "exit", "q"):
            return False
        if word == "help":
            self._print(DIRECTIVES)
        elif word == "user" and rest:
            parts = rest.split()
            admin = len(parts) > 1 and parts[-1].lower() == "admin"
            name = " ".join(parts[:-1] if admin else parts)
            self.user = self._user(name)
            if admin:
                self.admins.add(name)
            else:
                self.admins.discard(name)
        elif word == "chat" and rest:
            self._switch_chat(rest)
        elif word in ("join", "leave") and rest:
            if self.chat.is_private:
                self._error("Beitreten und Verlassen gibt es nur in Gruppenchats.")
                return True
            member = self._user(rest)
            ts = self.app.clock.now()
            event = (
                MemberJoined(self.chat, (member,), ts)
                if word == "join"
                else MemberLeft(self.chat, member, ts)
            )
            await self.app.handle(event)
            await self.app.outbox.drain()
        elif word == "zeit" or word == "time":
            await self._travel(rest)
        elif word == "reply":
            number_text, _, text = rest.partition(" ")
            try:  # the bot's checked number parser: "²" or 5,000 digits must not crash int()
                number = as_number(number_text, high=max(len(self.log), 1)) if number_text else None
            except UserError:
                number = None
            if number is None or number > len(self.log):
                self._error(
                    f"Nachricht #{shorten(number_text, 20) or '?'} gibt es nicht (1–{len(self.log)})."
                )
            elif not text.strip():
                self._error("Verwendung: :reply N TEXT")
            else:
                await self._send(text.strip(), reply_to=number)
        else:
            self._error(f"Unbekannte oder unvollständige Anweisung :{word}. Hilfe: :help")
        return True

    async def _travel(self, rest: str) -> None:
        """``:zeit``: show the time, or move it forward and fire what falls due on the way."""
        clock = self.app.clock
        zone = ZoneInfo(await self._timezone())
        now = clock.now()
        if not rest:
            self._print(f"(i) Jetzt: {_local(now, zone)} ({zone.key})")
            return
        if not hasattr(clock, "set"):
            self._error("Die Uhr dieser Sitzung lässt sich nicht verstellen.")
            return
        try:
            target = _travel_target(rest, now, zone)
        except ValueError as exc:
            self._error(f"{exc} Beispiele: :zeit +2h · :zeit +3d · :zeit 2026-12-01 18:00")
            return
        if target <= now:
            self._error(f"{_local(target, zone)} liegt nicht in der Zukunft (jetzt: {_local(now, zone)}).")
            return
        # While time travels, each message says when it arrived.
        self._travel_zone = zone
        try:
            fired = await self.app.component("scheduler").advance_to(target, settle=self.app.outbox.drain)
            await self.app.drain()
        finally:
            self._travel_zone = None
        self._print(f"(i) Jetzt: {_local(clock.now(), zone)} ({zone.key}); {fired} fällig geworden.")

    async def _timezone(self) -> str:
        """The timezone of the current chat's AG (else the bot's)."""
        async with self.app.unit() as unit:
            chat = await unit.services.groups.repo.chat(self.chat.platform.value, self.chat.external_id)
            group = await unit.services.groups.group_of(chat) if chat is not None else None
        return group.timezone if group is not None else self.app.timezone

    def _switch_chat(self, rest: str) -> None:
        """``:chat NAME [gruppe|privat]`` or ``:chat privat:NAME``.

        Without a kind word or prefix, an existing chat of that name is meant (a group chat if
        there are both); a new one becomes a group chat, and the console says so, because
        ``:chat privat:Lena`` used to become a group chat named "privat:Lena" without a word.
        """
        parts = rest.split()
        explicit = _KINDS[parts.pop().lower()] if len(parts) > 1 and parts[-1].lower() in _KINDS else None
        name = " ".join(parts)
        prefix = next((p for p in _PRIVATE_PREFIXES if name.lower().startswith(p)), None)
        if prefix is not None:
            name = name[len(prefix) :].strip()
            if not name:
                self._error("Welcher private Chat? Zum Beispiel: :chat privat:Lena")
                return
            if explicit is ChatKind.GROUP:
                self._error(f"„{prefix}{name}“ ist ein privater Chat. Gruppenchat: :chat {name} gruppe")
                return
            explicit = ChatKind.PRIVATE
        if explicit is not None:
            self.chat = self._chat(name, explicit)
            return
        existing = self.chats.get(name) or self.chats.get(f"privat:{name}")
        if existing is not None:
            self.chat = self._chat(name, existing.kind)
            return
        self.chat = self._chat(name, ChatKind.GROUP)
        self._print(f"(i) Neuer Gruppenchat „{name}“. Einen privaten Chat öffnet :chat privat:{name}")

    # Output (the Messenger port) ---------------------------------------------------------------

    def prepare(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        """A terminal has no length limit: one part."""
        return [message]

    async def send(self, message: OutgoingMessage) -> SentMessage:
        """Print a bot message with its chat's name and number.

        A poll is printed with numbered options (answered with ``/stimme``); its number doubles
        as the poll's id, so the end of the poll (``close_poll``) can name it.
        """
        if message.close_poll is not None:
            label = self._chat_label(message.chat)
            self._print(f"[{label}] ■ Umfrage #{message.close_poll} beendet")
            return SentMessage(message.chat, message.close_poll)
        text = message.markup.plain()
        bot = UserRef(Platform.CONSOLE, "kuemmerer-bot", BOT_NAME)
        number = self._remember(message.chat, bot, text)
        lines = text.split("\n")
        when = f" · {_local(self.app.clock.now(), self._travel_zone)}" if self._travel_zone else ""
        self._print(f"[{self._chat_label(message.chat)} #{number}{when}] {lines[0]}")
        for line in lines[1:]:
            self._print(f"  {line}")
        if message.attachment is not None:
            attachment = message.attachment
            self._print(f"  📎 {attachment.filename} ({attachment.mime_type}, {len(attachment.data)} Bytes)")
        if message.poll is not None:
            for i, option in enumerate(message.poll.options, 1):
                self._print(f"  {i}. {option}")
        for row in message.buttons:
            self._print(
                "  "
                + "  ".join(
                    f"[{b.label}] → {b.command or b.url or '/start ' + str(b.start_payload)}" for b in row
                )
            )
        if self.output_closed:
            # Nobody reads any more: retrying would wait forever.
            raise PermanentDeliveryError("console output closed")
        return SentMessage(message.chat, str(number), poll_id=str(number) if message.poll else None)

    # Helpers -----------------------------------------------------------------------------------

    def _chat(self, name: str, kind: ChatKind) -> ChatRef:
        """The chat of that name and kind (a private chat is the one of the person ``name``).

        As on Telegram, a person's private chat with the bot is addressed by the person's id, so
        what the bot sends privately (a newcomer's brief) lands in the chat opened with
        ``:chat privat:NAME``; opening it makes NAME the one who writes.
        """
        key = name if kind is ChatKind.GROUP else f"privat:{name}"
        existing = self.chats.get(key)
        if existing is None:
            external = name if kind is ChatKind.GROUP else self._user(name).external_id
            existing = ChatRef(Platform.CONSOLE, external, kind, name)
            self.chats[key] = existing
        if kind is ChatKind.PRIVATE:
            self.user = self._user(name)
        return existing

    @staticmethod
    def _user(name: str) -> UserRef:
        return UserRef(Platform.CONSOLE, name, name, name.replace(" ", "_"))

    def _chat_label(self, chat: ChatRef) -> str:
        # Messages come back from the outbox without titles; the session knows the names.
        for name, known in self.chats.items():
            if known.external_id == chat.external_id:
                return name
        if chat.is_private:  # the bot writing privately to someone, e.g. a newcomer's brief
            return f"privat:{chat.external_id}"
        return chat.title or chat.external_id

    def _remember(self, chat: ChatRef, sender: UserRef | None, text: str) -> int:
        self.log.append(_Logged(chat, sender, text))
        return len(self.log)

    def _prompt(self, number: int | None = None) -> str:
        number = number if number is not None else len(self.log) + 1
        return f"{self._chat_label(self.chat)} #{number} {self.user.display_name}> "

    def _print(self, text: str) -> None:
        if self.output_closed:
            return
        try:
            print(text, file=self.out, flush=True)
        except (BrokenPipeError, ValueError, OSError):
            # The reader went away (a pipe into ``head``, a closed terminal).
            self.output_closed = True
            if self.out is sys.stdout:
                # Point stdout at /dev/null so the interpreter's final flush stays quiet.
                with contextlib.suppress(OSError, ValueError):
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, sys.stdout.fileno())

    def _error(self, text: str) -> None:
        self._print(f"(!) {text}")


_STEP = re.compile(r"^\+\s*(\d{1,5})\s*(m|min|h|std|d|t|w)$", re.IGNORECASE)
_STEP_UNITS = {"m": 60, "min": 60, "h": 3600, "std": 3600, "d": 86400, "t": 86400, "w": 604800}
_MOMENT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def _travel_target(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """Where ``:zeit`` goes: ``+2h`` from now, or a local moment such as ``2026-12-01 18:00``."""
    text = " ".join(text.split())
    step = _STEP.match(text)
    if step:
        return now + timedelta(seconds=int(step.group(1)) * _STEP_UNITS[step.group(2).lower()])
    for fmt in _MOMENT_FORMATS:
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=zone).astimezone(now.tzinfo)
    raise ValueError(f"„{shorten(text, 40)}“ verstehe ich nicht als Zeitsprung.")


def _local(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as the bot writes it in German (``30.11.2026, 15:44``), in ``zone``."""
    return Translator("de", zone.key).datetime(moment)
