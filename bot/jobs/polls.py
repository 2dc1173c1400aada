"""The jobs of polls: the close at the deadline and the reminder of non-voters before it, and
:func:`finish`, which every way of closing a poll goes through (deadline, ``/abstimmung
schliessen``, the last member voting in a ``bis: alle`` poll).

Both jobs take the poll's id and read everything else when they run, so a poll closed by hand
meanwhile is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.addressing import chat_ref, private_chat
from bot.core.events import OutgoingMessage
from bot.core.i18n import Translator
from bot.jobs import poll_dates_format, poll_format
from bot.services.polls import Closing
from storage.models import Person, Poll, PollKind, PollStatus, WorkingGroup

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.scheduler import JobRun


async def finish(
    services: Services, tr: Translator, group: WorkingGroup, poll: Poll, *, actor: Person | None = None
) -> list[OutgoingMessage]:
    """Close a poll: freeze the result, record it in the register if it decides something, end
    the native polls, and post the result with its chart in every chat of the AG.

    Returns:
        The messages to send in the closing transaction; none if the poll was closed already.
    """
    tally = await services.polls.close(poll, actor=actor)
    if tally is None:
        return []
    closing: Closing = await services.polls.record_result(
        group, poll, tally, poll_format.decision_text(tr, poll, tally)
    )
    messages = poll_format.end_natives(tr, poll, await services.polls.natives_to_end(poll))
    chats = await services.groups.repo.chats(group.id)
    if poll.kind is PollKind.DATES:  # a table, no chart: the koordination picks the date next
        counts = await services.poll_dates.counts(poll)
        by_person = await services.poll_dates.answers_by_person(poll)
        now = services.clock.now()
        markup = poll_dates_format.result(tr, poll, counts, tally.members, by_person, now)
        return messages + [OutgoingMessage(chat_ref(chat), markup) for chat in chats]
    messages += await poll_format.result_messages(tr, poll, closing, chats)
    return messages


async def close(run: JobRun) -> None:
    """The deadline: close the poll (also late, after a downtime: a result is never skipped)."""
    services = run.unit.services
    poll = await services.polls.by_id(run.job.ref_id)
    if poll is None or poll.status is not PollStatus.OPEN:
        return
    group = await services.groups.repo.get(poll.group_id)
    if group is None:
        return
    tr = Translator(group.language, group.timezone)
    await run.unit.enqueue(await finish(services, tr, group, poll))


async def remind(run: JobRun) -> None:
    """Before the deadline: a private note to each member who has not voted (the AG's chats get
    one note without names instead when some of them cannot be written to privately); in an
    anonymous poll, where nobody's vote is known, one note to the whole group."""
    services = run.unit.services
    poll = await services.polls.by_id(run.job.ref_id)
    if poll is None or poll.status is not PollStatus.OPEN or run.now >= poll.deadline:
        return
    group = await services.groups.repo.get(poll.group_id)
    if group is None:
        return
    tr = Translator(group.language, group.timezone)
    chats = await services.groups.repo.chats(group.id)
    dates = poll.kind is PollKind.DATES
    reminder = poll_dates_format.reminder if dates else poll_format.reminder
    group_note = [OutgoingMessage(chat_ref(c), reminder(tr, poll, group.name, private=False)) for c in chats]
    if poll.anonymous:
        await run.unit.enqueue(group_note)
        return
    missing = await services.polls.non_voters(poll)
    if not missing:
        return
    reachable = await services.polls.reachable(missing)
    note = reminder(tr, poll, group.name, private=True)
    buttons = poll_dates_format.answer_buttons(tr, poll) if dates else poll_format.ballot_buttons(poll)
    messages = [OutgoingMessage(private_chat(p), note, buttons=buttons) for p in missing if p.id in reachable]
    if len(messages) < len(missing):
        messages += group_note
    await run.unit.enqueue(messages)
