"""The jobs of meetings: the notices before each occurrence and the follow-up after it.

Both take the meeting's id and the occurrence (``job.data``) and read everything else from the
database when they run, so a cancelled occurrence, a changed agenda or a renamed AG are seen as
they are then. The message builders live here too; ``bot/handlers/meetings.py`` shows meetings
the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.addressing import chat_ref, privately
from bot.core.events import OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup, Span, bold
from bot.core.when_format import moment_text, time_text
from bot.services.meetings import REMIND, Occurrence
from bot.services.scheduler import JobRun
from bot.services.text import shorten
from storage.models import AgendaItem, Meeting, WorkingGroup

# Skipped occurrences listed one by one in the report of a downtime; the rest are counted.
MAX_SKIPPED_LINES = 5
AGENDA_PREVIEW = 200


# Presentation ---------------------------------------------------------------------------------


def meeting_line(tr: Translator, meeting: Meeting, start: datetime) -> tuple[Span | str, ...]:
    """``Di, 24.11.2026 um 18:00 – Plenum (Raum 3)`` as spans (title and place stay plain)."""
    place = (f" ({shorten(meeting.location, 120)})",) if meeting.location else ()
    return (bold(moment_text(tr, start)), " – ", meeting.title, *place)


def agenda_lines(tr: Translator, markup: Markup, items: Sequence[AgendaItem]) -> Markup:
    """The agenda as numbered bullets, or the note that there is none yet."""
    if not items:
        return markup.extend(tr.lines("meetings.agenda_empty"))
    markup.extend(tr.lines("meetings.agenda_title", len(items)))
    for item in items:
        markup.bullet(bold(f"{item.number}."), " ", shorten(item.text, AGENDA_PREVIEW))
    return markup


def notice_markup(
    tr: Translator,
    group: WorkingGroup,
    meeting: Meeting,
    start: datetime,
    items: Sequence[AgendaItem],
    *,
    late_due: datetime | None = None,
    now: datetime | None = None,
) -> Markup:
    """The notice before an occurrence: when, what, where, and its agenda."""
    markup = tr.markup("meetings.notice_title", ag=tr.group_phrase(group.name), number=meeting.number)
    if now is not None and start > now:
        # Notices 1 day and 1 hour ahead would otherwise read the same.
        markup.line(tr.text("meetings.starts_in", relative=tr.until(start, now)))
    markup.line(*meeting_line(tr, meeting, start))
    if late_due is not None:
        markup.line(tr.text("meetings.late", due=due_text(tr, late_due, now or late_due)))
    markup.blank()
    return agenda_lines(tr, markup, items)


def due_text(tr: Translator, due: datetime, now: datetime) -> str:
    """A due time as the late note names it: the time alone when it was today."""
    if due.astimezone(tr.zone).date() == now.astimezone(tr.zone).date():
        return time_text(tr, due)
    return moment_text(tr, due)


# Jobs -----------------------------------------------------------------------------------------


async def remind(run: JobRun) -> None:
    """A notice before an occurrence, to every chat of the AG, with the agenda.

    Sent late with a note within the grace period; after that, or once the meeting has begun
    (a notice then helps nobody), it is reported as missed instead. Of two notices that both fell
    due during a downtime, only the later one goes out: it says the same.
    """
    services = run.unit.services
    meeting = await services.meetings.repo.get(run.job.ref_id)
    start = datetime.fromisoformat(run.job.data["occurrence"])
    if not services.meetings.is_current(meeting, start):
        return  # cancelled or moved on since it was scheduled
    assert meeting is not None
    group = await services.groups.repo.get(meeting.group_id)
    if group is None:
        return
    pending = await services.schedule.pending(REMIND, meeting.id)
    if any(
        j.id != run.job.id
        and run.job.due_at < j.due_at <= run.now
        and j.data.get("occurrence") == start.isoformat()
        for j in pending
    ):
        return
    tr = Translator(group.language, group.timezone)
    if run.overdue or run.now >= start:
        run.missed(
            group.id, tr.text("meetings.missed_notice", title=meeting.title, when=moment_text(tr, start))
        )
        return
    items = await services.meetings.agenda(meeting, start)
    markup = notice_markup(
        tr, group, meeting, start, items, late_due=run.job.due_at if run.is_late else None, now=run.now
    )
    chats = await services.groups.repo.chats(group.id)
    await run.unit.enqueue([OutgoingMessage(chat_ref(c), markup) for c in chats])


async def followup(run: JobRun) -> None:
    """An hour after the start: koordination is asked privately (the AG's first chat if they
    cannot be written to) to record the decisions; then the next occurrence is scheduled."""
    services = run.unit.services
    meeting = await services.meetings.repo.get(run.job.ref_id)
    start = datetime.fromisoformat(run.job.data["occurrence"])
    if not services.meetings.is_current(meeting, start):
        return
    assert meeting is not None
    group = await services.groups.repo.get(meeting.group_id)
    if group is None:
        return
    tr = Translator(group.language, group.timezone)
    if run.overdue:
        line = tr.text("meetings.missed_followup", title=meeting.title, when=moment_text(tr, start))
        run.missed(group.id, line)
    else:
        items = await services.meetings.agenda(meeting, start)
        await run.unit.enqueue(await _followup_messages(run, tr, group, Occurrence(meeting, start), items))
    skipped = await services.meetings.finish(
        meeting, start, anchor=run.job.due_at, now=run.now, grace=run.grace
    )
    _report_skipped(run, tr, group, meeting, skipped)


async def _followup_messages(
    run: JobRun, tr: Translator, group: WorkingGroup, occurrence: Occurrence, items: Sequence[AgendaItem]
) -> list[OutgoingMessage]:
    services = run.unit.services
    meeting, start = occurrence.meeting, occurrence.start
    markup = tr.markup("meetings.followup_title", ag=tr.group_phrase(group.name))
    markup.line(*meeting_line(tr, meeting, start))
    if run.is_late:
        markup.line(tr.text("meetings.late", due=due_text(tr, run.job.due_at, run.now)))
    if items:
        markup.blank()
        agenda_lines(tr, markup, items)
    markup.blank().extend(tr.lines("meetings.followup_ask"))
    chats = await services.groups.repo.chats(group.id)
    # Nobody coordinates, or cannot be written to privately: the AG's chat is asked instead.
    return privately(await services.groups.people.coordinators(group.id), markup, chats)


def _report_skipped(
    run: JobRun, tr: Translator, group: WorkingGroup, meeting: Meeting, skipped: Sequence[datetime]
) -> None:
    """Occurrences the bot was down through: one line each (a few, then a count)."""
    for start in skipped[:MAX_SKIPPED_LINES]:
        run.missed(
            group.id, tr.text("meetings.missed_occurrence", title=meeting.title, when=moment_text(tr, start))
        )
    if len(skipped) > MAX_SKIPPED_LINES:
        rest = len(skipped) - MAX_SKIPPED_LINES
        run.missed(group.id, tr.text("meetings.missed_more", rest, title=meeting.title))
