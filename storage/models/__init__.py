"""ORM models, one per module; importing this package registers all of them on ``Base``."""

from storage.models.account_code import AccountCode
from storage.models.agenda_item import AgendaItem
from storage.models.audit_entry import AuditEntry, RegisterChange
from storage.models.base import Base
from storage.models.chat import Chat
from storage.models.decision import Decision
from storage.models.decision_tag import DecisionTag
from storage.models.engagement_definition import EngagementDefinition
from storage.models.enums import DecisionStatus, GoalStatus, Role
from storage.models.goal import Goal
from storage.models.link_attempt import LinkAttempt
from storage.models.link_code import LinkCode
from storage.models.meeting import Meeting, MeetingStatus
from storage.models.meeting_cancellation import MeetingCancellation
from storage.models.membership import Membership
from storage.models.outbox_message import REDACTED_PAYLOAD, OutboxMessage, OutboxStatus
from storage.models.person import Person
from storage.models.platform_state import PlatformState
from storage.models.poll import Poll, PollEffect, PollKind, PollStatus
from storage.models.poll_message import PollMessage
from storage.models.poll_vote import PollVote
from storage.models.reminder import Reminder, ReminderStatus
from storage.models.reopen_embedding import ReopenEmbedding
from storage.models.reopen_example import ReopenExample
from storage.models.reopen_hint import ReopenHint
from storage.models.scheduled_job import JobStatus, ScheduledJob
from storage.models.survey import Survey, SurveyStatus
from storage.models.survey_response import ResponseStatus, SurveyResponse
from storage.models.survey_template import SurveyTemplate
from storage.models.working_group import WorkingGroup

__all__ = [
    "AccountCode",
    "AgendaItem",
    "AuditEntry",
    "Base",
    "Chat",
    "Decision",
    "DecisionStatus",
    "DecisionTag",
    "EngagementDefinition",
    "Goal",
    "GoalStatus",
    "JobStatus",
    "LinkAttempt",
    "LinkCode",
    "Meeting",
    "MeetingCancellation",
    "MeetingStatus",
    "Membership",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "PlatformState",
    "Poll",
    "PollEffect",
    "PollKind",
    "PollMessage",
    "PollStatus",
    "PollVote",
    "REDACTED_PAYLOAD",
    "RegisterChange",
    "Reminder",
    "ReminderStatus",
    "ReopenEmbedding",
    "ReopenExample",
    "ReopenHint",
    "ResponseStatus",
    "Role",
    "ScheduledJob",
    "Survey",
    "SurveyResponse",
    "SurveyStatus",
    "SurveyTemplate",
    "WorkingGroup",
]
