"""Storage limitation (Art. 5 Abs. 1 lit. e DSGVO): personal data goes when its period is over.

A daily job (:mod:`bot.handlers.datenschutz`) calls :meth:`RetentionService.run`; the operator's
``kuemmerer datenschutz bericht`` calls :meth:`RetentionService.report`, which changes nothing.
``docs/datenschutz.md`` lists every datum with its period; the periods come from the config's
``[datenschutz]`` section.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ports import Clock
from bot.services.erasure import ErasureService
from storage.models import AccountCode, LinkAttempt, LinkCode, OutboxMessage, Person, PollVote, ReopenHint
from storage.repositories.retention import RetentionRepository

# Rows per statement: small enough that no table is held long, large enough to be cheap.
BATCH = 500


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each kind of personal datum is kept (``[datenschutz]`` in the config)."""

    sent_messages: timedelta = timedelta(days=30)
    failed_messages: timedelta = timedelta(days=90)
    hint_texts: timedelta = timedelta(days=90)
    link_attempts: timedelta = timedelta(days=1)
    former_members: timedelta = timedelta(days=365)
    finished_reminders: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Sweep:
    """One kind of datum: how to find what is due and what to do with it."""

    key: str
    # German, for the operator's report and the log.
    label: str
    select: Callable[[RetentionPolicy, datetime], Select[Any]]
    apply: Callable[[RetentionService, Sequence[int]], Awaitable[int]]


def _deleting(model: Any) -> Callable[[RetentionService, Sequence[int]], Awaitable[int]]:
    async def apply(service: RetentionService, ids: Sequence[int]) -> int:
        return await service.repo.delete(model, ids)

    return apply


async def _pseudonymise(service: RetentionService, ids: Sequence[int]) -> int:
    for person_id in ids:
        person = await service.session.get(Person, person_id)
        if person is not None:
            await service.erasure.pseudonymise(person)
    return len(ids)


R = RetentionRepository
SWEEPS: tuple[Sweep, ...] = (
    Sweep(
        "outbox_zugestellt",
        "zugestellte Bot-Nachrichten",
        lambda p, now: R.sent_messages(now - p.sent_messages),
        _deleting(OutboxMessage),
    ),
    Sweep(
        "outbox_fehlgeschlagen",
        "nicht zustellbare Bot-Nachrichten",
        lambda p, now: R.failed_messages(now - p.failed_messages),
        _deleting(OutboxMessage),
    ),
    Sweep(
        "hinweis_texte",
        "Hinweise mit zitierter Nachricht",
        lambda p, now: R.old_hints(now - p.hint_texts),
        _deleting(ReopenHint),
    ),
    Sweep(
        "hinweis_absender",
        "Absender von Hinweisen, die Beispiele wurden",
        lambda p, now: R.labelled_hint_senders(now - p.hint_texts),
        lambda service, ids: service.repo.forget_hint_senders(ids),
    ),
    Sweep(
        "link_versuche",
        "Versuche, einen Verknüpfungscode einzulösen",
        lambda p, now: R.link_attempts(now - p.link_attempts),
        _deleting(LinkAttempt),
    ),
    Sweep(
        "link_codes",
        "abgelaufene Verknüpfungscodes",
        lambda p, now: R.link_codes(now - p.link_attempts),
        _deleting(LinkCode),
    ),
    Sweep(
        "konto_codes",
        "abgelaufene Codes zum Verknüpfen von Konten",
        lambda p, now: R.account_codes(now - p.link_attempts),
        _deleting(AccountCode),
    ),
    Sweep(
        "erinnerungen",
        "Texte erledigter Erinnerungen",
        lambda p, now: R.finished_reminders(now - p.finished_reminders),
        lambda service, ids: service.repo.blank_reminders(ids),
    ),
    Sweep(
        "ehemalige",
        "ehemalige Mitglieder (werden pseudonymisiert)",
        lambda p, now: R.former_members(now - p.former_members),
        _pseudonymise,
    ),
    Sweep(
        "umfrage_reste",
        "Entwürfe und Prüfsummen geschlossener Umfragen",
        lambda p, now: R.survey_leftovers(),
        lambda service, ids: service.repo.clear_survey_leftovers(ids),
    ),
    Sweep(
        "anonyme_stimmen",
        "Stimmen geschlossener anonymer Abstimmungen",
        lambda p, now: R.anonymous_votes(),
        _deleting(PollVote),
    ),
)


@dataclass
class RetentionRun:
    """What one run removed (or, for a report, would remove), by sweep key."""

    counts: dict[str, int]
    # A sweep stopped at its limit: more is due (the job comes back soon instead of tomorrow).
    more: bool = False

    @property
    def total(self) -> int:
        """All rows together."""
        return sum(self.counts.values())


class RetentionService:
    """Applies the retention periods to the whole database.

    Args:
        session: The transaction to work in.
        clock: Source of the current time.
        policy: The periods.
    """

    def __init__(self, session: AsyncSession, clock: Clock, policy: RetentionPolicy | None = None) -> None:
        self.session = session
        self.clock = clock
        self.policy = policy or RetentionPolicy()
        self.repo = RetentionRepository(session)
        self.erasure = ErasureService(session, clock)

    async def report(self) -> RetentionRun:
        """What :meth:`run` would remove now, by sweep (nothing is changed)."""
        now = self.clock.now()
        counts = {s.key: await self.repo.count(s.select(self.policy, now)) for s in SWEEPS}
        return RetentionRun(counts)

    async def run(self, limit: int = 10 * BATCH) -> RetentionRun:
        """Remove or pseudonymise what is due, at most ``limit`` rows per sweep.

        Idempotent: a second run at the same time finds nothing. Rows go in batches of
        :data:`BATCH` by primary key.
        """
        now = self.clock.now()
        counts: dict[str, int] = {}
        more = False
        for sweep in SWEEPS:
            done = 0
            while done < limit:
                ids = await self.repo.ids(sweep.select(self.policy, now), min(BATCH, limit - done))
                if not ids:
                    break
                done += await sweep.apply(self, ids)
                await self.session.flush()
                if len(ids) < BATCH:
                    break
            else:
                more = more or bool(await self.repo.ids(sweep.select(self.policy, now), 1))
            counts[sweep.key] = done
        return RetentionRun(counts, more)
