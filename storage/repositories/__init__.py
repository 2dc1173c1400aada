"""Query helpers over one :class:`~sqlalchemy.ext.asyncio.AsyncSession`.

Repositories know SQL and nothing about rules; services decide what may happen.
"""

from storage.repositories.audit import AuditRepository
from storage.repositories.groups import GroupRepository
from storage.repositories.hints import HintRepository
from storage.repositories.jobs import JobRepository
from storage.repositories.links import LinkRepository
from storage.repositories.meetings import MeetingRepository
from storage.repositories.outbox import OutboxRepository, StateRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.polls import PollRepository
from storage.repositories.register import RegisterRepository

__all__ = [
    "AuditRepository",
    "GroupRepository",
    "HintRepository",
    "JobRepository",
    "LinkRepository",
    "MeetingRepository",
    "OutboxRepository",
    "PeopleRepository",
    "PollRepository",
    "RegisterRepository",
    "StateRepository",
]
