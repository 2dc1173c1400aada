"""Meetings of an AG: one-off or recurring, their notices, cancelled occurrences and agendas.

A meeting keeps its time the way a reminder does (rule, timezone, local start; see
:mod:`bot.services.when`). Only the occurrence coming up has jobs: a notice per offset of the AG
(``meeting.remind``, default a day and an hour before) and the follow-up an hour after the start
(``meeting.followup``). The follow-up closes the occurrence and schedules the next one's jobs, so
a series of any length costs a handful of rows, and every decision about the next occurrence
(cancelled? series over? notices already past?) is taken when it is due, from the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, PermissionDenied, UsageError, UserError
from bot.core.i18n import Translator
from bot.core.ports import Clock
from bot.services.groups import ensure_open
from bot.services.schedule import ScheduleService
from bot.services.text import clean, fold
from bot.services.when import When, WhenError, parse_when
from storage.models import AgendaItem, JobStatus, Meeting, MeetingStatus, Person, Role, WorkingGroup
from storage.repositories import AuditRepository, GroupRepository, MeetingRepository

REMIND = "meeting.remind"
FOLLOWUP = "meeting.followup"
KINDS = (REMIND, FOLLOWUP)

FOLLOWUP_AFTER = timedelta(hours=1)
"""When koordination is asked to record the decisions: an hour after the start."""
DURATION = timedelta(hours=2)
"""How long a meeting lasts in the calendar file (nobody states it; two hours is the usual)."""

MAX_TITLE = 200
MAX_LOCATION = 300
MAX_AGENDA_TEXT = 300
MAX_AGENDA_ITEMS = 15
MAX_ACTIVE = 30
MAX_OFFSETS = 4
MAX_OFFSET = timedelta(weeks=4)
DEFAULT_OFFSETS = "1d 1h"
# Where the cancellation of a day looks for the occurrence: a date without a time is read as the
# end of that day, so "heute" still names today's evening meeting at noon.
_END_OF_DAY = time(23, 59)
# Longest run of occurrences skipped after a long downtime before the rest are left unchecked
# (a daily meeting and a bot down for years would otherwise loop for a long time).
_MAX_SKIPPED = 400

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "t": "days", "w": "weeks"}
_OFFSET = re.compile(r"(\d{1,5})([mhdtw])")
_OFF_WORDS = frozenset({"aus", "off", "keine", "none", "0"})
_INSIDE_TIME = re.compile(r"\d:\d")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a meeting: the meeting and its start (aware UTC)."""

    meeting: Meeting
    start: datetime


@dataclass(frozen=True, slots=True)
class Cancelled:
    """What ``/treffen absagen`` did.

    Attributes:
        meeting: The meeting.
        occurrence: The cancelled occurrence; ``None`` when the whole meeting was cancelled.
        following: The next occurrence that still takes place, if any.
        moved: Agenda items carried over from the cancelled occurrence to ``following``.
    """

    meeting: Meeting
    occurrence: datetime | None
    following: datetime | None
    moved: int = 0


# Offsets ------------------------------------------------------------------------------------


def offset_delta(token: str) -> timedelta:
    """``"2d"`` as a :class:`timedelta` (the token must be canonical, see :func:`parse_offsets`)."""
    match = _OFFSET.fullmatch(token)
    if match is None:
        raise ValueError(f"not an offset: {token!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_offsets(text: str) -> tuple[str, ...]:
    """Read notice offsets as people type them (``2d 1h``, ``2 d, 30m``, ``aus``).

    Returns:
        Canonical tokens, longest first, without duplicates (``("2d", "1h")``); empty for
        ``aus``/``off`` (no notices).

    Raises:
        UserError: An unknown unit, zero, more than :data:`MAX_OFFSETS` or one over four weeks.
    """
    words = text.replace(",", " ").split()
    if len(words) == 1 and fold(words[0]) in _OFF_WORDS:
        return ()
    # "2 d" → "2d": a number and its unit may stand apart.
    compact = re.sub(r"(\d)\s+(?=[^\W\d_])", r"\1", " ".join(words)).split()
    found: dict[timedelta, str] = {}
    for word in compact:
        match = _OFFSET.fullmatch(fold(word))
        if match is None:
            raise UsageError("meetings.offset_invalid", given=word)
        amount, unit = int(match.group(1)), "d" if match.group(2) == "t" else match.group(2)
        token = f"{amount}{unit}"
        delta = offset_delta(token)
        if not timedelta(0) < delta <= MAX_OFFSET:
            raise UserError("meetings.offset_range", given=word)
        found.setdefault(delta, token)
    if not found:
        raise UsageError("meetings.offset_invalid", given=text.strip() or "–")
    if len(found) > MAX_OFFSETS:
        raise UserError("meetings.offset_too_many", limit=MAX_OFFSETS)
    return tuple(found[d] for d in sorted(found, reverse=True))


def group_offsets(group: WorkingGroup) -> list[tuple[str, timedelta]]:
    """The AG's notice offsets, longest first (a stored value that no longer parses counts as
    the default rather than silencing every notice)."""
    try:
        tokens = parse_offsets(group.meeting_reminders or "aus")
    except UserError:
        tokens = parse_offsets(DEFAULT_OFFSETS)
    return [(t, offset_delta(t)) for t in tokens]


def split_meeting(text: str) -> tuple[str, str, str | None]:
    """``<wann>: <Titel> [| <Ort>]`` (or ``<wann> | <Titel> | <Ort>``) into its three parts.

    The separator after the time is the first colon that is not inside a time like ``17:30``,
    unless a ``|`` comes first; the location follows the next ``|``.

    Raises:
        WhenError: ``when.no_text`` without a title, ``when.missing`` without a time.
    """
    pipe = text.find("|")
    colon = next(
        (i for i, c in enumerate(text) if c == ":" and not _INSIDE_TIME.fullmatch(text[i - 1 : i + 2])),
        -1,
    )
    if colon >= 0 and (pipe < 0 or colon < pipe):
        head, tail = text[:colon], text[colon + 1 :]
    elif pipe >= 0:
        head, tail = text[:pipe], text[pipe + 1 :]
    else:
        raise WhenError("when.no_text")
    title, _, location = tail.partition("|")
    head, title, location = head.strip(), " ".join(title.split()), " ".join(location.split())
    if not title:
        raise WhenError("when.no_text")
    if not head:
        raise WhenError("when.missing")
    return head, title, location or None


def meeting_when(meeting: Meeting) -> When:
    """The meeting's time as a :class:`When` (rebuilt from the stored parts)."""
    return When(
        first=meeting.first_start, rule=meeting.rule, tz=meeting.timezone, local_start=meeting.local_start
    )


class MeetingService:
    """Creates, lists and cancels meetings, keeps their agendas and schedules their jobs."""

    def __init__(self, session: AsyncSession, clock: Clock, schedule: ScheduleService | None = None) -> None:
        self.session = session
        self.clock = clock
        self.repo = MeetingRepository(session)
        self.groups = GroupRepository(session)
        self.schedule = schedule or ScheduleService(session, clock)

    # Meetings ---------------------------------------------------------------------------------

    async def create(self, group: WorkingGroup, text: str, person: Person) -> Meeting:
        """``/treffen <wann>: <Titel> [| <Ort oder Link>]``: a new meeting, its jobs scheduled.

        Raises:
            UserError: The time is not understood or past, the title is empty or too long, or
                the AG has too many meetings already.
        """
        ensure_open(group)
        when_text, title, location = split_meeting(text)
        when = parse_when(when_text, now=self.clock.now(), tz=group.timezone, language=group.language)
        return await self.add(group, when, title, location, person)

    async def add(
        self, group: WorkingGroup, when: When, title: str, location: str | None, person: Person
    ) -> Meeting:
        """A new meeting at an understood time (``/treffen``, a date chosen in a date poll),
        its jobs scheduled with the AG's notice offsets.

        Raises:
            UserError: The title is empty or too long, or the AG has too many meetings already.
        """
        now = self.clock.now()
        title = clean(title, limit=MAX_TITLE)
        location = clean(location, limit=MAX_LOCATION) if location else None
        if len(await self.repo.active(group.id)) >= MAX_ACTIVE:
            raise UserError("meetings.too_many", limit=MAX_ACTIVE)
        number = await self.groups.next_number(group.id, "meeting_seq")
        meeting = Meeting(
            group_id=group.id,
            number=number,
            title=title,
            location=location,
            rule=when.rule,
            timezone=when.tz,
            local_start=when.local_start,
            first_start=when.first,
            next_start=when.first,
            status=MeetingStatus.ACTIVE,
            created_by_id=person.id,
            created_at=now,
        )
        self.session.add(meeting)
        await self.session.flush()
        # Notices whose time has passed already are left out: a meeting in 30 minutes gets no
        # "tomorrow" notice (the confirmation in the chat announces it).
        await self.schedule_occurrence(meeting, when.first, anchor=now, offsets=group_offsets(group))
        return meeting

    async def get(self, group: WorkingGroup, number: int) -> Meeting:
        """A meeting of the AG by number.

        Raises:
            NotFound: There is none.
        """
        meeting = await self.repo.by_number(group.id, number)
        if meeting is None:
            raise NotFound("meetings.not_found", number=number)
        return meeting

    async def next_after(self, meeting: Meeting, moment: datetime) -> datetime | None:
        """The meeting's next occurrence strictly after ``moment`` that is not cancelled."""
        when = meeting_when(meeting)
        cancelled = await self.repo.cancellations(meeting.id)
        found = when.next_after(moment)
        while found is not None and found in cancelled:
            found = when.next_after(found)
        return found

    async def occurrences(self, meeting: Meeting, after: datetime, count: int) -> list[datetime]:
        """Up to ``count`` occurrences after ``after`` that take place."""
        found: list[datetime] = []
        moment: datetime | None = after
        while moment is not None and len(found) < count:
            moment = await self.next_after(meeting, moment)
            if moment is not None:
                found.append(moment)
        return found

    async def upcoming(self, group: WorkingGroup, limit: int = 10) -> list[Occurrence]:
        """The next occurrence of each active meeting still ahead, earliest first."""
        now = self.clock.now()
        found = []
        for meeting in await self.repo.active(group.id):
            start = await self.next_after(meeting, now)
            if start is not None:
                found.append(Occurrence(meeting, start))
        found.sort(key=lambda o: (o.start, o.meeting.number))
        return found[:limit]

    async def next_meeting(self, group: WorkingGroup) -> Occurrence | None:
        """The AG's next meeting (the newcomer's brief names it; agenda items go there)."""
        upcoming = await self.upcoming(group, limit=1)
        return upcoming[0] if upcoming else None

    async def cancel(self, group: WorkingGroup, number: int, day_text: str, person: Person) -> Cancelled:
        """``/treffen absagen <Nr> [Datum]``: one occurrence, or the whole meeting.

        A cancelled occurrence's agenda moves on to the next occurrence, and its jobs are
        replaced by the next one's.

        Raises:
            UserError: No such meeting, not active any more, the date is not one of its
                occurrences still ahead, or that one is cancelled already.
        """
        meeting = await self.get(group, number)
        if meeting.status is not MeetingStatus.ACTIVE:
            raise UserError("meetings.not_active", number=number)
        now = self.clock.now()
        if not day_text.strip():
            meeting.status = MeetingStatus.CANCELLED
            meeting.next_start = None
            await self.schedule.cancel(KINDS, meeting.id)
            return Cancelled(meeting, None, None)
        day = self._day(group, meeting, day_text, now)
        occurrence = self._occurrence_on(meeting, day, now)
        if occurrence is None or occurrence in await self.repo.cancellations(meeting.id):
            # Dates in errors are shown the way the bot shows dates (cf. bot/services/when/).
            shown = Translator(group.language, meeting.timezone).date(day)
            key = "meetings.no_occurrence_on" if occurrence is None else "meetings.already_cancelled"
            raise UserError(key, number=number, date=shown)
        await self.repo.add_cancellation(meeting.id, occurrence, person.id, now)
        following = await self.next_after(meeting, occurrence)
        moved = 0
        if following is not None:
            await self.repo.lock(meeting.id)
            taken = await self.repo.last_agenda_number(meeting.id, following)
            moved = await self.repo.move_agenda(meeting.id, occurrence, following, taken)
        if meeting.next_start == occurrence:
            await self.schedule.cancel(KINDS, meeting.id)
            if following is None:
                meeting.status = MeetingStatus.CANCELLED
                meeting.next_start = None
            else:
                meeting.next_start = following
                await self.schedule_occurrence(meeting, following, anchor=now, offsets=group_offsets(group))
        return Cancelled(meeting, occurrence, following, moved)

    def _day(self, group: WorkingGroup, meeting: Meeting, text: str, now: datetime) -> date:
        """The local date a person named ("3.12.", "nächsten Dienstag", "heute")."""
        when = parse_when(
            text, now=now, tz=meeting.timezone, language=group.language, default_time=_END_OF_DAY
        )
        if when.is_recurring:
            raise UsageError("meetings.date_expected", given=text.strip())
        return when.local_first.date()

    @staticmethod
    def _occurrence_on(meeting: Meeting, day: date, now: datetime) -> datetime | None:
        """The meeting's occurrence on a local day that is still ahead, cancelled or not."""
        zone = ZoneInfo(meeting.timezone)
        start_of_day = datetime.combine(day, time.min).replace(tzinfo=zone)
        moment = max(start_of_day - timedelta(microseconds=1), now)
        found = meeting_when(meeting).next_after(moment)
        if found is None or found.astimezone(zone).date() != day:
            return None
        return found

    # Notices ----------------------------------------------------------------------------------

    async def set_offsets(self, group: WorkingGroup, text: str, person: Person) -> tuple[str, ...]:
        """``/treffen erinnern 2d 1h``: the AG's notice offsets; the next notices follow.

        Pending notices of an offset that stays keep their job; notices of a new offset are
        scheduled when their time is still ahead, so none is sent twice.
        """
        tokens = parse_offsets(text)
        await self._log(
            group, person, "group.meeting_reminders", old=group.meeting_reminders, new=" ".join(tokens)
        )
        group.meeting_reminders = " ".join(tokens) or "aus"
        now = self.clock.now()
        wanted = {t: offset_delta(t) for t in tokens}
        for meeting in await self.repo.active(group.id):
            start = meeting.next_start
            if start is None:
                continue
            pending = await self.schedule.pending(REMIND, meeting.id)
            kept = set()
            for job in pending:
                if job.data.get("offset") in wanted and job.data.get("occurrence") == start.isoformat():
                    kept.add(job.data["offset"])
                else:
                    job.status = JobStatus.CANCELLED
                    job.fired_at = now
            for token, delta in wanted.items():
                if token not in kept and start - delta > now:
                    await self._schedule_notice(meeting, start, token, delta)
        return tokens

    async def schedule_occurrence(
        self,
        meeting: Meeting,
        start: datetime,
        *,
        anchor: datetime,
        offsets: list[tuple[str, timedelta]],
    ) -> None:
        """The jobs of one occurrence: a notice per offset due after ``anchor``, the follow-up.

        ``anchor`` is when the previous occurrence ended (its follow-up's due time) or, for a
        new meeting or a changed schedule, now: notices due before it are left out, those after
        it are scheduled even when their time has passed since (a downtime), so the scheduler
        sends them late or reports them missed.
        """
        for token, delta in offsets:
            if start - delta > anchor:
                await self._schedule_notice(meeting, start, token, delta)
        await self.schedule.schedule(
            FOLLOWUP,
            meeting.id,
            start + FOLLOWUP_AFTER,
            group_id=meeting.group_id,
            data={"occurrence": start.isoformat()},
        )

    async def _schedule_notice(self, meeting: Meeting, start: datetime, token: str, delta: timedelta) -> None:
        await self.schedule.schedule(
            REMIND,
            meeting.id,
            start - delta,
            group_id=meeting.group_id,
            data={"occurrence": start.isoformat(), "offset": token},
        )

    async def finish(
        self, meeting: Meeting, start: datetime, *, anchor: datetime, now: datetime, grace: timedelta
    ) -> list[datetime]:
        """Close an occurrence (its follow-up ran) and schedule the next one's jobs.

        Occurrences whose follow-up would already be later than ``grace`` (the bot was down
        through them) are skipped and returned, so the caller reports them; the series goes on
        with the next one.
        """
        group = await self.groups.get(meeting.group_id)
        assert group is not None  # the meeting goes with its AG
        skipped: list[datetime] = []
        following = await self.next_after(meeting, start)
        while following is not None and now - (following + FOLLOWUP_AFTER) > grace:
            skipped.append(following)
            anchor = following + FOLLOWUP_AFTER
            if len(skipped) >= _MAX_SKIPPED:
                following = await self.next_after(meeting, now)
                break
            following = await self.next_after(meeting, following)
        if following is None:
            meeting.status = MeetingStatus.DONE
            meeting.next_start = None
            return skipped
        meeting.next_start = following
        await self.schedule_occurrence(meeting, following, anchor=anchor, offsets=group_offsets(group))
        return skipped

    @staticmethod
    def is_current(meeting: Meeting | None, occurrence: datetime) -> bool:
        """Whether a job's occurrence is still the meeting's scheduled one (not cancelled)."""
        return (
            meeting is not None
            and meeting.status is MeetingStatus.ACTIVE
            and meeting.next_start == occurrence
        )

    # Agenda -----------------------------------------------------------------------------------

    async def _next_or_refuse(self, group: WorkingGroup) -> Occurrence:
        upcoming = await self.next_meeting(group)
        if upcoming is None:
            raise UserError("meetings.agenda_no_meeting")
        return upcoming

    async def agenda(self, meeting: Meeting, start: datetime) -> list[AgendaItem]:
        """The agenda of one occurrence."""
        return await self.repo.agenda(meeting.id, start)

    async def next_agenda(self, group: WorkingGroup) -> tuple[Occurrence, list[AgendaItem]]:
        """The next meeting and its agenda.

        Raises:
            UserError: The AG has no meeting ahead.
        """
        upcoming = await self._next_or_refuse(group)
        return upcoming, await self.agenda(upcoming.meeting, upcoming.start)

    async def add_agenda_item(
        self, group: WorkingGroup, text: str, person: Person
    ) -> tuple[Occurrence, AgendaItem]:
        """``/tagesordnung <Punkt>``: an item for the next meeting (any member).

        Raises:
            UserError: No meeting ahead, the text is empty or too long, the agenda is full.
        """
        text = clean(" ".join(text.split()), limit=MAX_AGENDA_TEXT)
        upcoming = await self._next_or_refuse(group)
        meeting, start = upcoming.meeting, upcoming.start
        await self.repo.lock(meeting.id)
        if len(await self.repo.agenda(meeting.id, start)) >= MAX_AGENDA_ITEMS:
            raise UserError("meetings.agenda_full", limit=MAX_AGENDA_ITEMS)
        number = await self.repo.last_agenda_number(meeting.id, start) + 1
        item = await self.repo.add_agenda_item(meeting.id, start, number, text, person.id, self.clock.now())
        return upcoming, item

    async def delete_agenda_item(
        self, group: WorkingGroup, number: int, person: Person, role: Role | None
    ) -> tuple[Occurrence, AgendaItem]:
        """``/tagesordnung loeschen <Nr>``: its author or the koordination takes an item off.

        Raises:
            UserError: No meeting ahead or no such item.
            PermissionDenied: Somebody else's item, and the person is not koordination.
        """
        upcoming = await self._next_or_refuse(group)
        items = {i.number: i for i in await self.agenda(upcoming.meeting, upcoming.start)}
        item = items.get(number)
        if item is None:
            raise NotFound("meetings.agenda_item_not_found", number=number)
        if item.added_by_id != person.id and (role is None or role.rank < Role.KOORDINATION.rank):
            raise PermissionDenied("meetings.agenda_not_yours", number=number)
        item.deleted_at = self.clock.now()
        return upcoming, item

    # Calendar ---------------------------------------------------------------------------------

    async def calendar(self, group: WorkingGroup, horizon: timedelta) -> list[tuple[Meeting, set[datetime]]]:
        """The AG's meetings with an occurrence within ``horizon`` from now, each with its
        cancelled occurrences (the calendar file's EXDATEs)."""
        now = self.clock.now()
        found = []
        for meeting in await self.repo.active(group.id):
            # The occurrence under way counts too: a calendar imported during the meeting has it.
            start = await self.next_after(meeting, now - DURATION)
            if start is not None and start <= now + horizon:
                found.append((meeting, await self.repo.cancellations(meeting.id)))
        return found

    async def _log(self, group: WorkingGroup, actor: Person, action: str, **details: object) -> None:
        await AuditRepository(self.session).group_setting(
            group.id, actor.id, action, self.clock.now(), **details
        )
