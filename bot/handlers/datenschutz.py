"""Data protection: ``/datenschutz``, ``/meine_daten``, ``/daten_loeschen`` and the daily
retention job (``docs/datenschutz.md``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.core.addressing import private_chat
from bot.core.context import Context
from bot.core.errors import UsageError, UserError
from bot.core.events import Attachment, Button, ChatRef, OutgoingMessage, SentMessage
from bot.core.markup import bold
from bot.core.observers import Runtime, Unit, note_signal
from bot.core.router import Args, Router
from bot.handlers.format import day_code, role_name
from bot.handlers.help import on_start
from bot.jobs.retention import JOB_KIND, job_data, next_run, run_retention
from bot.services.erasure import ErasureService, PersonErased
from bot.services.personal_data import SECTIONS, PersonalDataService, entry_preview
from bot.services.privacy_inventory import notice_items
from bot.services.retention import RetentionPolicy
from storage.models import Role
from storage.repositories import OutboxRepository

log = logging.getLogger(__name__)
router = Router()
router.on.job(JOB_KIND)(run_retention)

# Entries per section that the readable summary quotes (the JSON file has them all).
SUMMARY_ENTRIES = 3
# The tag of the message that confirms an erasure: once delivered, its outbox row goes too (it
# names the chat, which is the person's platform id).
FORGET_TAG = "vergessen"
# Deep links from a group into the private chat: /start datenschutz-<n> opens the n-th command.
START_PREFIX = "datenschutz-"
PRIVATE_COMMANDS = ("meine_daten", "daten_loeschen")
CONFIRM_WORDS = frozenset({"ja", "yes", "bestaetigen", "bestätigen", "confirm"})


# Settings ------------------------------------------------------------------------------------------


def policy_from(options: dict[str, Any]) -> tuple[RetentionPolicy, tuple[int, int], str]:
    """The periods, the daily time and the operator text from the ``datenschutz`` option (the
    config's ``[datenschutz]`` section); defaults without it."""
    section = options.get("datenschutz")
    if section is None:
        return RetentionPolicy(), (3, 30), ""
    policy = RetentionPolicy(
        sent_messages=section.period("outbox_zugestellt"),
        failed_messages=section.period("outbox_fehlgeschlagen"),
        hint_texts=section.period("hinweis_texte"),
        link_attempts=section.period("link_versuche"),
        former_members=section.period("ehemalige"),
        finished_reminders=section.period("outbox_zugestellt"),
    )
    return policy, section.run_at, section.verantwortlich.strip()


class RetentionSchedule:
    """Keeps one pending retention job, with the current settings, in ``scheduled_jobs``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def start(self) -> None:
        """Replace the pending job by one with today's settings at the next daily time."""
        policy, at, _ = policy_from(self.runtime.options)
        timezone = str(
            self.runtime.options.get("datenschutz.timezone") or getattr(self.runtime, "timezone", "")
        )
        data = job_data(policy, at, timezone or "Europe/Berlin")
        async with self.runtime.unit() as unit:
            now = self.runtime.clock.now()
            pending = await unit.services.schedule.pending(JOB_KIND, 0)
            # A job that fell due while the bot was down runs now; otherwise the next daily time.
            due = min([j.due_at for j in pending] + [next_run(data, now)])
            await unit.services.schedule.cancel((JOB_KIND,), 0)
            await unit.services.schedule.schedule(JOB_KIND, 0, due, group_id=None, data=data)

    async def stop(self) -> None:
        """Nothing runs outside the scheduler."""

    async def drain(self) -> None:
        """Nothing runs outside the scheduler."""


@router.on.component("datenschutz")
def retention_schedule(runtime: Runtime) -> RetentionSchedule:
    """The component that plans the daily retention job."""
    return RetentionSchedule(runtime)


# /datenschutz --------------------------------------------------------------------------------------


@router.command("datenschutz", aliases=("privacy",), needs_group=False)
async def datenschutz(ctx: Context, args: Args) -> None:
    """The privacy notice: what is stored, for how long, the two commands, who is responsible."""
    options = ctx.runtime.options if ctx.runtime is not None else {}
    _, _, responsible = policy_from(options)
    tr = ctx.tr
    markup = tr.markup("privacy.title")
    markup.blank().extend(tr.lines("privacy.stored"))
    # Generated from the inventory (docs/datenschutz.md), with the configured periods; tables
    # kept alike share a line.
    grouped: dict[str, list[str]] = {}
    for item in notice_items(options.get("datenschutz")):
        grouped.setdefault(item.retention, []).append(item.title)
    for retention, titles in grouped.items():
        markup.bullet(bold(", ".join(titles)), ": ", retention)
    markup.extend(tr.lines("privacy.not_stored"))
    markup.blank().extend(tr.lines("privacy.rights"))
    markup.blank().extend(
        tr.lines("privacy.responsible", who=responsible)
        if responsible
        else tr.lines("privacy.responsible_unset")
    )
    ctx.reply(markup)


# /meine_daten --------------------------------------------------------------------------------------


def only_private(ctx: Context, command: str) -> bool:
    """In a group: point to the private chat and do nothing else (the answer would show one
    person's data to everybody)."""
    if ctx.is_private:
        return True
    buttons = []
    if command in PRIVATE_COMMANDS:  # a deep link opens it in the private chat
        payload = f"{START_PREFIX}{PRIVATE_COMMANDS.index(command) + 1}"
        buttons = [[Button(ctx.tr.text("privacy.open_private"), start_payload=payload)]]
    ctx.reply(ctx.tr.markup("privacy.private_only", command=command), buttons=buttons)
    return False


@on_start(START_PREFIX)
async def started(ctx: Context, number: int) -> None:
    """``/start datenschutz-<n>``: the deep link of :func:`only_private` opens the command."""
    if not 1 <= number <= len(PRIVATE_COMMANDS):
        return
    # On Telegram the link opens the private chat; on Matrix the reaction runs it where the
    # pointer was, so the answer goes to the private chat from here.
    chat = ctx.event.chat if ctx.is_private else private_chat(ctx.person)
    if PRIVATE_COMMANDS[number - 1] == "meine_daten":
        await send_my_data(ctx, chat)
    else:
        await ask_erasure(ctx, chat)
    if not ctx.is_private:
        ctx.say("privacy.sent_privately", person=ctx.person.display_name)


@router.command("meine_daten", aliases=("mydata", "meinedaten"), needs_group=False)
async def meine_daten(ctx: Context, args: Args) -> None:
    """Everything stored about the sender, as a summary and a JSON file (privately)."""
    if only_private(ctx, "meine_daten"):
        await send_my_data(ctx, ctx.event.chat)


async def send_my_data(ctx: Context, chat: ChatRef) -> None:
    """The summary and the JSON file of the sender's data, to ``chat`` (their private chat)."""
    tr = ctx.tr
    data = await PersonalDataService(ctx.services.session, ctx.clock).collect(ctx.person)
    names: dict[int, str] = {}
    for entry in data.sections["mitgliedschaften"]:  # of every linked account
        group = await ctx.services.groups.repo.get(entry["group_id"])
        if group is not None:
            names[group.id] = group.name
    markup = tr.markup("mydata.title", date=tr.date(ctx.clock.now().astimezone(tr.zone).date()))
    markup.blank()
    for section in SECTIONS:
        entries = data.sections[section]
        if not entries:
            continue
        markup.bullet(tr.text(f"mydata.section.{section}", len(entries)))
        for entry in entries[:SUMMARY_ENTRIES]:
            if entry["tabelle"] == "memberships":
                group = names.get(entry["group_id"], f"#{entry['group_id']}")
                line = f"{group}: {role_name(tr, Role(entry['role']))}"
                if entry.get("left_at"):
                    line += " – " + tr.text("mydata.left")
            else:
                line = entry_preview(entry)
            markup.line("   ", line)
        if len(entries) > SUMMARY_ENTRIES:
            markup.line("   ", tr.text("mydata.more", len(entries) - SUMMARY_ENTRIES))
    markup.blank().extend(tr.lines("mydata.footer"))
    # Secret: the outbox keeps neither text nor file once they were delivered.
    ctx.send(chat, markup, secret=True)
    filename = f"kuemmerer-meine-daten-{ctx.clock.now().date().isoformat()}.json"
    ctx.outgoing.append(
        OutgoingMessage(
            chat,
            tr.markup("mydata.file_caption"),
            # Serialising a long history is pure CPU: off the event loop.
            attachment=Attachment(filename, "application/json", await asyncio.to_thread(data.to_json)),
            secret=True,
        )
    )


# /daten_loeschen -----------------------------------------------------------------------------------


@router.command("daten_loeschen", aliases=("deletemydata", "datenloeschen"), needs_group=False)
async def daten_loeschen(ctx: Context, args: Args) -> None:
    """Erase the sender's data after a confirmation (privately)."""
    if not only_private(ctx, "daten_loeschen"):
        return
    words = [w.lower() for w in args.words]
    if not words:
        await ask_erasure(ctx, ctx.event.chat)
        return
    tr = ctx.tr
    erasure = ErasureService(ctx.services.session, ctx.clock)
    await _refuse_sole_coordination(erasure, ctx)
    code = day_code(ctx, "daten-loeschen")
    if words[0] not in CONFIRM_WORDS:
        raise UsageError()
    if len(words) < 2 or words[1] != code:
        raise UserError("erase.wrong_code", code=code)
    chat = private_chat(ctx.person)
    done = await erasure.erase_all(ctx.person)
    log.info(
        "erased a person's data: %d messages, %d reminders, %d hints, %d votes, %d responses",
        done.messages,
        done.reminders,
        done.hints,
        done.votes,
        done.responses,
    )
    ctx.outgoing.append(OutgoingMessage(chat, tr.markup("erase.done"), secret=True, tag=f"{FORGET_TAG}:0"))


async def _refuse_sole_coordination(erasure: ErasureService, ctx: Context) -> None:
    blocking = await erasure.sole_coordination(ctx.person)
    if blocking:
        raise UserError("erase.last_coordination", groups=", ".join(g.name for g in blocking))


async def ask_erasure(ctx: Context, chat: ChatRef) -> None:
    """What erasing would delete and keep, and the command that confirms it, to ``chat``."""
    tr = ctx.tr
    await _refuse_sole_coordination(ErasureService(ctx.services.session, ctx.clock), ctx)
    code = day_code(ctx, "daten-loeschen")
    data = await PersonalDataService(ctx.services.session, ctx.clock).collect(ctx.person)
    markup = tr.markup("erase.ask", total=data.total, code=code)
    command = f"/daten_loeschen ja {code}"
    ctx.send(chat, markup, buttons=[[Button(tr.text("erase.button"), command=command)]])


@router.on.on_sent(FORGET_TAG)
async def forget_confirmation(unit: Unit, tag: str, sent: SentMessage) -> None:
    """The erasure's confirmation was delivered: its row would still name the chat, so it goes,
    and the adapters may now forget the chat (the Matrix adapter leaves the direct room)."""
    platform, chat_id = sent.chat.platform.value, sent.chat.external_id
    await OutboxRepository(unit.session).forget_sent(tag, platform, chat_id)
    note_signal(unit.session, PersonErased(platform, chat_id))
