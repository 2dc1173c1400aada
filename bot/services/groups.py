"""AGs, their chats, their members and roles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.events import ChatRef, UserRef
from bot.core.i18n import LANGUAGES
from bot.core.ports import Clock
from bot.services.text import MAX_DESCRIPTION, MAX_NAME, MAX_TOPIC, clean, fold
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
class GroupSummary:
    """What ``/ag`` shows about an AG."""

    group: WorkingGroup
    chats: list[Chat]
    coordinators: list[Person]
    kuemmerer: list[Person]
    members: int
    active_goals: int
    active_decisions: int


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

    async def seen(self, group: WorkingGroup, person: Person) -> tuple[Membership, bool]:
        """Note that a person is active in an AG; returns the membership and whether it is new."""
        return await self.people.touch_membership(group.id, person.id, self.clock.now())

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
        await self._log(group, creator, "group.create", "group", group.id, name=name, chat=chat.id)
        return group

    async def rename(self, group: WorkingGroup, name: str, actor: Person) -> None:
        """Give the AG a new name."""
        name = " ".join(clean(name, limit=MAX_NAME, what="name").split())
        await self._log(group, actor, "group.rename", "group", group.id, old=group.name, new=name)
        group.name = name

    async def set_topic(self, group: WorkingGroup, topic: str, actor: Person) -> None:
        """Set the Schwerpunktthema."""
        topic = clean(topic, limit=MAX_TOPIC)
        await self._log(group, actor, "group.topic", "group", group.id, old=group.topic, new=topic)
        group.topic = topic

    async def set_description(self, group: WorkingGroup, text: str, actor: Person) -> None:
        """Set the description."""
        text = clean(text, limit=MAX_DESCRIPTION)
        await self._log(group, actor, "group.description", "group", group.id, old=group.description, new=text)
        group.description = text

    async def set_language(self, group: WorkingGroup, language: str, actor: Person) -> None:
        """Switch the AG's interface language.

        Raises:
            UserError: The language is not offered.
        """
        language = language.strip().lower()
        if language not in LANGUAGES:
            raise UserError("ag.language_unknown", given=language, options=", ".join(LANGUAGES))
        await self._log(group, actor, "group.language", "group", group.id, old=group.language, new=language)
        group.language = language

    async def summary(self, group: WorkingGroup) -> GroupSummary:
        """Figures and people for ``/ag``."""
        return GroupSummary(
            group=group,
            chats=await self.repo.chats(group.id),
            coordinators=await self.people.with_role(group.id, Role.KOORDINATION),
            kuemmerer=await self.people.with_role(group.id, Role.KUEMMERER),
            members=len(await self.people.members(group.id)),
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
        await self._log(group, actor, "role.set", "person", target.id, old=previous.value, new=role.value)
        return previous

    async def _log(
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
