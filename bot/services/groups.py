"""AGs, their chats, their members and roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.events import ChatKind, ChatRef, UserRef
from bot.core.i18n import LANGUAGES
from bot.core.ports import Clock
from bot.services.text import MAX_DESCRIPTION, MAX_NAME, MAX_TOPIC, clean, fold, shorten
from storage.models import (
    Chat,
    DecisionStatus,
    GoalStatus,
    Membership,
    Person,
    Role,
    WorkingGroup,
)
from storage.repositories import (
    AuditRepository,
    GroupRepository,
    PeopleRepository,
    RegisterRepository,
)


@dataclass(frozen=True, slots=True)
class PrivateScope:
    """The AG a person's private chat acts on.

    Attributes:
        group: The AG, when the person is in exactly one or chose one (``/ag wechseln``).
        membership: The person's membership in it.
        choices: ``(id, name)`` of the person's AGs when they are in several and chose none.
    """

    group: WorkingGroup | None
    membership: Membership | None
    choices: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """What ``/ag`` shows about an AG."""

    group: WorkingGroup
    chats: list[Chat]
    coordinators: list[Person]
    kuemmerer: list[Person]
    members: int
    active_goals: int
    active_decisions: int


def ensure_open(group: WorkingGroup) -> None:
    """Refuse to plan anything new in a closed AG (``/ag schliessen``).

    Raises:
        UserError: The AG is closed (or about to be deleted).
    """
    if group.closed_at is not None:
        raise UserError("ag.closed_refused", name=group.name)


class GroupService:
    """Creates and describes AGs; tracks who is in them and with which role."""

    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        *,
        default_timezone: str = "Europe/Berlin",
        default_language: str = "de",
    ) -> None:
        self.clock = clock
        self.repo = GroupRepository(session)
        self.people = PeopleRepository(session)
        self.audit = AuditRepository(session)
        self.register = RegisterRepository(session)
        self.default_timezone = default_timezone
        self.default_language = default_language

    # Identities --------------------------------------------------------------------------------

    async def chat(self, ref: ChatRef) -> Chat:
        """The stored chat for a chat reference (created on first sight)."""
        return await self.repo.upsert_chat(
            ref.platform.value, ref.external_id, ref.kind.value, ref.title, self.clock.now()
        )

    async def person(self, ref: UserRef) -> Person:
        """The stored person for a user reference (created on first sight, last seen bumped)."""
        name = " ".join(ref.display_name.split())[:255] or ref.external_id[:255]
        return await self.people.upsert_person(
            ref.platform.value, ref.external_id, name, ref.username, self.clock.now()
        )

    async def group_of(self, chat: Chat) -> WorkingGroup | None:
        """The AG a chat belongs to, if any."""
        return await self.repo.get(chat.group_id) if chat.group_id is not None else None

    async def seen(
        self, group: WorkingGroup, person: Person, *, admin: bool | None = None
    ) -> tuple[Membership, bool]:
        """Note that a person is active in an AG; returns the membership and whether it is new.

        Args:
            group: The AG.
            person: Who was active.
            admin: What the platform says about the person administering the chat, if it said
                anything (kept, so lists of the koordination show admins, who act as such).
        """
        membership, created = await self.people.touch_membership(group.id, person.id, self.clock.now())
        # Compared first: most messages change nothing, and they must stay read-only.
        if membership.left_at is not None:
            membership.left_at = None
        if admin is not None and membership.chat_admin != admin:
            membership.chat_admin = admin
        return membership, created

    async def leave(self, group: WorkingGroup, person: Person) -> Membership | None:
        """Note that a person left a chat of the AG: no longer counted as a member.

        The membership and its history stay (a person who comes back is not a newcomer); an AG
        with several chats counts the person again as soon as they write in any of them.
        """
        membership = await self.people.membership(group.id, person.id)
        if membership is not None and membership.left_at is None:
            membership.left_at = self.clock.now()
            membership.chat_admin = False
        return membership

    async def groups_of(self, person: Person) -> list[WorkingGroup]:
        """The AGs a person belongs to (and has not left), by name."""
        return [g for m, g in await self.people.groups_of(person.id) if m.left_at is None]

    async def private_scope(self, chat: Chat, person: Person) -> PrivateScope:
        """The AG a person's private chat acts on: the only one, or the one they chose.

        A choice that is no longer valid (the person left that AG) is forgotten.
        """
        memberships = [(m, g) for m, g in await self.people.groups_of(person.id) if m.left_at is None]
        if chat.current_group_id is not None:
            chosen = next(((m, g) for m, g in memberships if g.id == chat.current_group_id), None)
            if chosen is not None:
                return PrivateScope(chosen[1], chosen[0])
            chat.current_group_id = None
        if len(memberships) == 1:
            membership, group = memberships[0]
            return PrivateScope(group, membership)
        return PrivateScope(None, None, [(g.id, g.name) for _, g in memberships])

    async def switch_private(self, chat: Chat, person: Person, group: WorkingGroup) -> PrivateScope:
        """Make a private chat act on one of the person's AGs (``/ag wechseln``).

        Raises:
            UserError: The chat is not private, or the person is not in that AG.
        """
        if chat.kind != ChatKind.PRIVATE.value:
            raise UserError("ag.switch.only_private")
        membership = await self.people.membership(group.id, person.id)
        if membership is None or membership.left_at is not None:
            raise UserError("ag.switch.unknown", given=str(group.id), options="–")
        chat.current_group_id = group.id
        return PrivateScope(group, membership)

    @staticmethod
    def effective_role(membership: Membership | None, is_admin: bool) -> Role:
        """The role that counts: the stored one, raised to koordination for chat admins."""
        role = membership.role if membership is not None else Role.MITGLIED
        return Role.KOORDINATION if is_admin else role

    # AG lifecycle ------------------------------------------------------------------------------

    async def create(self, chat: Chat, name: str, creator: Person) -> WorkingGroup:
        """Create an AG for a chat; its creator becomes koordination.

        Raises:
            UserError: The chat already belongs to an AG, or the name is empty or too long.
        """
        name = " ".join(clean(name, limit=MAX_NAME, what="name").split())
        existing = await self.group_of(chat)
        if existing is not None:
            raise UserError("ag.already_exists", name=existing.name)
        now = self.clock.now()
        group = await self.repo.create(
            name, timezone=self.default_timezone, language=self.default_language, at=now
        )
        chat.group_id = group.id
        membership, _ = await self.people.touch_membership(group.id, creator.id, now)
        membership.role = Role.KOORDINATION
        # The founder knows the AG: no brief for them, and none is listed as sent.
        membership.acknowledged_at = now
        await self.log_change(group, creator, "group.create", "group", group.id, name=name, chat=chat.id)
        return group

    async def rename(self, group: WorkingGroup, name: str, actor: Person) -> None:
        """Give the AG a new name."""
        name = " ".join(clean(name, limit=MAX_NAME, what="name").split())
        await self.log_change(group, actor, "group.rename", "group", group.id, old=group.name, new=name)
        group.name = name

    async def set_topic(self, group: WorkingGroup, topic: str, actor: Person) -> None:
        """Set the Schwerpunktthema."""
        topic = clean(topic, limit=MAX_TOPIC)
        await self.log_change(group, actor, "group.topic", "group", group.id, old=group.topic, new=topic)
        group.topic = topic

    async def set_description(self, group: WorkingGroup, text: str, actor: Person) -> None:
        """Set the description."""
        text = clean(text, limit=MAX_DESCRIPTION)
        await self.log_change(
            group, actor, "group.description", "group", group.id, old=group.description, new=text
        )
        group.description = text

    async def set_timezone(self, group: WorkingGroup, name: str, actor: Person) -> None:
        """Set the AG's timezone (an IANA name such as ``Europe/Berlin``).

        Raises:
            UserError: The name is no timezone this machine knows.
        """
        name = name.strip()
        try:
            zone = ZoneInfo(name) if "/" in name or name == "UTC" else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            raise UserError("ag.timezone_unknown", given=shorten(name, 60))
        await self.log_change(group, actor, "group.timezone", "group", group.id, old=group.timezone, new=name)
        group.timezone = name

    async def set_language(self, group: WorkingGroup, language: str, actor: Person) -> None:
        """Switch the AG's interface language.

        Raises:
            UserError: The language is not offered.
        """
        language = language.strip().lower()
        if language not in LANGUAGES:
            raise UserError("ag.language_unknown", given=language, options=", ".join(LANGUAGES))
        await self.log_change(
            group, actor, "group.language", "group", group.id, old=group.language, new=language
        )
        group.language = language

    async def summary(self, group: WorkingGroup) -> GroupSummary:
        """Figures and people for ``/ag``."""
        return GroupSummary(
            group=group,
            chats=await self.repo.chats(group.id),
            coordinators=await self.people.coordinators(group.id),
            kuemmerer=await self.people.with_role(group.id, Role.KUEMMERER),
            members=await self.people.count_members(group.id),
            active_goals=await self.register.count_goals(group.id, GoalStatus.ACTIVE),
            active_decisions=await self.register.count_decisions(group.id, DecisionStatus.ACTIVE),
        )

    # Roles -------------------------------------------------------------------------------------

    async def find_member(self, group: WorkingGroup, query: str) -> Person:
        """Find a member of the AG by ``@username``, name or unique part of the name.

        Raises:
            NotFound: Nobody matches.
            UserError: Several people match; the message lists them.
        """
        wanted = fold(query.strip().lstrip("@"))
        if not wanted:
            raise NotFound("role.person_missing", show_usage=True)
        people = [p for _, p in await self.people.members(group.id)]

        def handle(p: Person) -> str:
            return fold((p.username or "").lstrip("@"))

        for matcher in (
            lambda p: handle(p) == wanted or fold(p.external_id) == wanted,
            lambda p: fold(p.display_name) == wanted,
            lambda p: wanted in fold(p.display_name) or (bool(handle(p)) and wanted in handle(p)),
        ):
            hits = [p for p in people if matcher(p)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise UserError(
                    "role.person_ambiguous",
                    query=query,
                    candidates=", ".join(_label(p) for p in hits[:8]),
                )
        raise NotFound("role.person_unknown", query=query)

    async def set_role(self, group: WorkingGroup, actor: Person, target: Person, role: Role) -> Role:
        """Give a member a role; returns the previous role.

        Raises:
            UserError: The change would leave the AG without any koordination.
        """
        membership, _ = await self.people.touch_membership(group.id, target.id, self.clock.now())
        previous = membership.role
        if previous is Role.KOORDINATION and role is not Role.KOORDINATION:
            coordinators = await self.people.with_role(group.id, Role.KOORDINATION)
            if len(coordinators) <= 1:
                raise UserError("role.last_coordinator")
        membership.role = role
        await self.log_change(
            group, actor, "role.set", "person", target.id, old=previous.value, new=role.value
        )
        return previous

    async def log_change(
        self,
        group: WorkingGroup,
        actor: Person | None,
        action: str,
        entity: str,
        entity_id: int | None,
        **details: object,
    ) -> None:
        await self.audit.add(
            group_id=group.id,
            actor_id=actor.id if actor else None,
            action=action,
            entity=entity,
            entity_id=entity_id,
            at=self.clock.now(),
            details=details,
        )


def _label(person: Person) -> str:
    return (
        f"{person.display_name} (@{person.username.lstrip('@')})" if person.username else person.display_name
    )
