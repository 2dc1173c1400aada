"""``/treffen``, ``/tagesordnung`` and ``/kalender``: the AG's meetings, agendas and calendar file.

Creating, cancelling and the notice settings are the koordination's, in the group chat where
everybody sees them. Any member may put an item on the next meeting's agenda — also from the
private chat: an agenda item is a proposal, not a change to the register, and preparing one
quietly is the point of writing privately; it is announced to everybody with the notices.
Items are taken off by their author or the koordination.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.events import Attachment, OutgoingMessage
from bot.core.i18n import Translator
from bot.core.markup import Markup, bold
from bot.core.router import Args, Router, as_number
from bot.core.when_format import day_short, describe_rule, describe_when, moment_text
from bot.handlers.format import person_name
from bot.jobs import meetings as jobs
from bot.services.calendar import build_calendar
from bot.services.meetings import (
    FOLLOWUP,
    REMIND,
    group_offsets,
    meeting_when,
)
from bot.services.text import fold, shorten
from storage.models import Meeting, MeetingStatus, Person, Role, WorkingGroup

router = Router()
router.on.job(REMIND)(jobs.remind)
router.on.job(FOLLOWUP)(jobs.followup)

CALENDAR_HORIZON = timedelta(days=365)
AGENDA_PREVIEW = 160
_MEETING_NUMBER = re.compile(r"(?:nr\.?\s*|#)?\d{1,10}", re.IGNORECASE)
# Singular/plural catalog keys of the offset units.
_UNIT_KEYS = {
    "m": "meetings.unit.minutes",
    "h": "meetings.unit.hours",
    "d": "meetings.unit.days",
    "w": "meetings.unit.weeks",
}
_STATUS_KEYS = {
    MeetingStatus.ACTIVE: "meetings.status.active",
    MeetingStatus.CANCELLED: "meetings.status.cancelled",
    MeetingStatus.DONE: "meetings.status.done",
}


def offsets_text(tr: Translator, group: WorkingGroup) -> str:
    """``2 Tage und 1 Stunde`` (the AG's notice offsets in words), empty for none."""
    parts = []
    for token, _ in group_offsets(group):
        amount, unit = int(token[:-1]), token[-1]
        parts.append(tr.text(_UNIT_KEYS[unit], amount))
    if len(parts) <= 1:
        return "".join(parts)
    return tr.text("when.and", items=", ".join(parts[:-1]), last=parts[-1])


def _offsets_line(tr: Translator, group: WorkingGroup) -> list:
    text = offsets_text(tr, group)
    if not text:
        return tr.lines("meetings.offsets_none")
    return tr.lines("meetings.offsets_current", offsets=text)


def calendar_filename(group: WorkingGroup) -> str:
    """``ag-bildung.ics`` for "AG Bildung" (and for "Bildung")."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(group.name)).strip("-")[:60].strip("-")
    if not slug.startswith("ag-") and slug != "ag":
        slug = f"ag-{slug}" if slug else "ag"
    return f"{slug}.ics"


# /treffen ------------------------------------------------------------------------------------


@router.command("treffen", aliases=("meeting", "meetings"), private=True)
async def meetings(ctx: Context, args: Args) -> None:
    """``/treffen <wann>: <Titel> [| <Ort>]`` plans a meeting (koordination); ``/treffen`` lists
    the next ones, ``/treffen <Nr>`` shows one."""
    group = ctx.require_group()
    text = args.text
    if not text:
        await _list(ctx, group)
        return
    if _MEETING_NUMBER.fullmatch(text):
        number = as_number(text)
        if number is not None:
            await _show(ctx, group, number)
            return
    ctx.require_group_chat()
    ctx.require_role(Role.KOORDINATION)
    meeting = await ctx.services.meetings.create(group, text, ctx.person)
    ctx.reply(created(ctx.tr, group, meeting, ctx.clock.now()))


def created(tr: Translator, group: WorkingGroup, meeting: Meeting, now: datetime) -> Markup:
    """The confirmation of a new meeting (``/treffen``, a date chosen in a date poll): when,
    where, the AG's notices."""
    markup = tr.markup("meetings.created", number=meeting.number, title=meeting.title)
    markup.line(bold(describe_when(tr, meeting_when(meeting), now=now)))
    if meeting.location:
        markup.line(tr.text("meetings.location", location=meeting.location))
    markup.blank().extend(_offsets_line(tr, group))
    return markup.extend(tr.lines("meetings.created_footer"))


async def _list(ctx: Context, group: WorkingGroup) -> None:
    tr = ctx.tr
    upcoming = await ctx.services.meetings.upcoming(group)
    if not upcoming:
        ctx.say("meetings.none")
        return
    markup = tr.markup("meetings.list_title", ag=tr.group_phrase(group.name))
    for occurrence in upcoming:
        meeting = occurrence.meeting
        items = await ctx.services.meetings.agenda(meeting, occurrence.start)
        extra = []
        if meeting.rule:
            summary = meeting_when(meeting).summary
            assert summary is not None
            extra.append(" · " + describe_rule(tr, summary))
        if items:
            extra.append(" · " + tr.text("meetings.agenda_count", len(items)))
        markup.bullet(
            bold(tr.text("meetings.label", number=meeting.number)),
            " ",
            *jobs.meeting_line(tr, meeting, occurrence.start),
            *extra,
        )
    markup.blank().extend(_offsets_line(ctx.tr, group))
    markup.extend(tr.lines("meetings.list_footer"))
    ctx.reply(markup)


async def _show(ctx: Context, group: WorkingGroup, number: int) -> None:
    tr = ctx.tr
    meeting = await ctx.services.meetings.get(group, number)
    markup = tr.markup("meetings.detail_title", number=meeting.number, title=meeting.title)
    summary = meeting_when(meeting).summary
    if summary is not None:
        markup.line(describe_rule(tr, summary))
    if meeting.location:
        markup.line(tr.text("meetings.location", location=meeting.location))
    if meeting.status is not MeetingStatus.ACTIVE:
        markup.line(tr.text(_STATUS_KEYS[meeting.status]))
    else:
        now = ctx.clock.now()
        coming = await ctx.services.meetings.occurrences(meeting, now, 3)
        if coming:
            dates = ", ".join(day_short(tr, start, now=now) for start in coming)
            markup.line(tr.text("meetings.coming", dates=dates))
            items = await ctx.services.meetings.agenda(meeting, coming[0])
            markup.blank()
            jobs.agenda_lines(tr, markup, items)
    ctx.reply(markup)


@router.subcommand("treffen", "absagen", aliases=("cancel",), role=Role.KOORDINATION)
async def cancel(ctx: Context, args: Args) -> None:
    """``/treffen absagen <Nr> [Datum]``: one occurrence, or the whole meeting."""
    group = ctx.require_group()
    number, rest = args.take_number()
    result = await ctx.services.meetings.cancel(group, number, rest.text, ctx.person)
    meeting, tr = result.meeting, ctx.tr
    if result.occurrence is None:
        key = "meetings.cancelled_series" if meeting.rule else "meetings.cancelled_meeting"
        ctx.say(key, number=meeting.number, title=meeting.title)
        return
    markup = tr.markup(
        "meetings.cancelled_occurrence", title=meeting.title, when=moment_text(tr, result.occurrence)
    )
    if result.following is None:
        markup.extend(tr.lines("meetings.no_more_occurrences"))
    else:
        markup.extend(tr.lines("meetings.next_occurrence", when=moment_text(tr, result.following)))
        if result.moved:
            markup.extend(tr.lines("meetings.agenda_moved", result.moved))
    ctx.reply(markup)


@router.subcommand("treffen", "erinnern", aliases=("remind", "notices"), private=True)
async def notices(ctx: Context, args: Args) -> None:
    """``/treffen erinnern 2d 1h``: when notices go out before each meeting (koordination);
    without arguments it says the current setting."""
    group = ctx.require_group()
    if not args.text:
        ctx.reply(ctx.tr.markup("meetings.offsets_title").extend(_offsets_line(ctx.tr, group)))
        return
    ctx.require_group_chat()
    ctx.require_role(Role.KOORDINATION)
    tokens = await ctx.services.meetings.set_offsets(group, args.text, ctx.person)
    if tokens:
        ctx.say("meetings.offsets_set", offsets=offsets_text(ctx.tr, group))
    else:
        ctx.say("meetings.offsets_off")


# /tagesordnung -------------------------------------------------------------------------------


@router.command("tagesordnung", aliases=("agenda",), private=True)
async def agenda(ctx: Context, args: Args) -> None:
    """``/tagesordnung <Punkt>`` puts an item on the next meeting's agenda (any member);
    ``/tagesordnung`` shows it."""
    group = ctx.require_group()
    tr = ctx.tr
    if args.text:
        occurrence, item = await ctx.services.meetings.add_agenda_item(group, args.text, ctx.person)
        ctx.say(
            "meetings.agenda_added",
            number=item.number,
            text=item.text,
            when=moment_text(tr, occurrence.start),
            title=occurrence.meeting.title,
        )
        return
    occurrence, items = await ctx.services.meetings.next_agenda(group)
    markup = tr.markup("meetings.agenda_for")
    markup.line(*jobs.meeting_line(tr, occurrence.meeting, occurrence.start))
    markup.blank()
    if not items:
        markup.extend(tr.lines("meetings.agenda_empty"))
    else:
        markup.extend(tr.lines("meetings.agenda_title", len(items)))
        authors = await _authors(ctx, {i.added_by_id for i in items if i.added_by_id is not None})
        for item in items:
            by = authors.get(item.added_by_id) if item.added_by_id is not None else None
            markup.bullet(
                bold(f"{item.number}."),
                " ",
                shorten(item.text, AGENDA_PREVIEW),
                *((f" ({shorten(person_name(by), 40)})",) if by is not None else ()),
            )
        markup.blank().extend(tr.lines("meetings.agenda_footer"))
    ctx.reply(markup)


async def _authors(ctx: Context, ids: set[int]) -> dict[int, Person]:
    found = {}
    for person_id in ids:
        person = await ctx.services.session.get(Person, person_id)
        if person is not None:
            found[person_id] = person
    return found


@router.subcommand("tagesordnung", "loeschen", aliases=("delete", "entfernen", "remove"), private=True)
async def agenda_delete(ctx: Context, args: Args) -> None:
    """``/tagesordnung loeschen <Nr>``: the author or the koordination takes an item off."""
    group = ctx.require_group()
    number, rest = args.take_number()
    if rest.text:
        raise UsageError()
    occurrence, item = await ctx.services.meetings.delete_agenda_item(group, number, ctx.person, ctx.role)
    ctx.say(
        "meetings.agenda_deleted",
        number=item.number,
        text=item.text,
        when=moment_text(ctx.tr, occurrence.start),
    )


# /kalender -----------------------------------------------------------------------------------


@router.command("kalender", aliases=("calendar", "ics"), private=True)
async def calendar(ctx: Context, args: Args) -> None:
    """``/kalender``: the AG's meetings of the next twelve months as an .ics file."""
    group = ctx.require_group()
    tr = ctx.tr
    entries = await ctx.services.meetings.calendar(group, CALENDAR_HORIZON)
    if not entries:
        ctx.say("meetings.calendar_empty")
        return

    def describe(meeting: Meeting) -> str:
        return tr.text("meetings.calendar_description", number=meeting.number, ag=tr.group_phrase(group.name))

    data = build_calendar(group.name, entries, now=ctx.clock.now(), describe=describe)
    caption = tr.markup("meetings.calendar_caption", len(entries), ag=tr.group_phrase(group.name))
    attachment = Attachment(calendar_filename(group), "text/calendar", data)
    ctx.outgoing.append(OutgoingMessage(ctx.event.chat, caption, attachment=attachment))
