"""The reminder job: a due reminder is sent, and advanced or closed, in the firing transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.events import ChatKind, ChatRef, OutgoingMessage, Platform
from bot.core.i18n import Translator
from bot.core.markup import Markup
from bot.core.sanitize import shorten
from bot.core.when_format import describe_rule, moment_short, time_text
from bot.services.reminders import Firing

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.scheduler import JobRun

# How much of a reminder's text a line in the list of missed items shows.
MISSED_PREVIEW = 120


async def fire_reminder(run: JobRun) -> None:
    """Send the reminder ``run.job.ref_id`` (late with a note within the grace period) and move
    it to its next occurrence; what fell due longer ago is reported as missed: to the AG's
    koordination for a group's reminder, to the person for a private one."""
    services = run.unit.services
    if "reminders" not in run.cache:
        # The first reminder of a batch loads those of the whole batch (and their AGs); the cache
        # holds them for the batch (the session alone would let them go).
        ids = [job.ref_id for job in run.batch if job.kind == run.job.kind]
        run.cache["reminders"] = await services.reminders.repo.load(ids)
    firing = await services.reminders.fire(run.job.ref_id, now=run.now, grace=run.grace)
    if firing is None:
        return
    reminder = firing.reminder
    tr = await _translator(services, reminder.group_id, reminder.timezone)
    chat = ChatRef(Platform(reminder.platform), reminder.chat_id, ChatKind(reminder.chat_kind))
    if firing.deliver:
        run.send([OutgoingMessage(chat, _message(tr, firing, run))])
        return
    line = _missed_line(tr, firing, run)
    if chat.is_private:
        # A private reminder is nobody else's business: its person hears of it, not the AG.
        run.missed(None, line)
        markup = tr.markup("reminder.missed_private").bullet(line)
        run.send([OutgoingMessage(chat, markup)])
    else:
        run.missed(reminder.group_id, line)


async def _translator(services: Services, group_id: int | None, timezone: str) -> Translator:
    """The AG's language and timezone; the bot's default language for a reminder of no AG."""
    group = await services.groups.repo.get(group_id) if group_id is not None else None
    if group is not None:
        return Translator(group.language, group.timezone)
    return Translator(services.groups.default_language, timezone)


def _message(tr: Translator, firing: Firing, run: JobRun) -> Markup:
    """``⏰ Erinnerung: <Text>``, with a note when late or after missed times, and the next time
    of a series."""
    first, *rest = firing.reminder.text.split("\n")
    markup = tr.markup("reminder.fired", text=first)
    for line in rest:
        markup.line(line) if line.strip() else markup.blank()
    if firing.late:
        due = firing.due.astimezone(tr.zone)
        # The time alone when it was today; the day as well after midnight.
        same_day = due.date() == run.now.astimezone(tr.zone).date()
        shown = time_text(tr, due) if same_day else moment_short(tr, due)
        markup.extend(tr.lines("reminder.fired_late", due=shown))
    if firing.missed:
        markup.extend(tr.lines("reminder.fired_missed", firing.missed))
    if firing.next_due is not None:
        markup.extend(tr.lines("reminder.fired_next", next=moment_short(tr, firing.next_due, now=run.now)))
    return markup


def _missed_line(tr: Translator, firing: Firing, run: JobRun) -> str:
    """One line of the list of missed items."""
    reminder = firing.reminder
    text = shorten(reminder.text, MISSED_PREVIEW)
    summary = firing.when.summary
    if summary is None:
        due = moment_short(tr, firing.due, now=run.now)
        return tr.text("reminder.missed_line", number=reminder.number, due=due, text=text)
    rule = describe_rule(tr, summary)
    if firing.next_due is None:
        return tr.text(
            "reminder.missed_line_ended", firing.missed, number=reminder.number, rule=rule, text=text
        )
    upcoming = moment_short(tr, firing.next_due, now=run.now)
    return tr.text(
        "reminder.missed_line_recurring",
        firing.missed,
        number=reminder.number,
        rule=rule,
        next=upcoming,
        text=text,
    )
