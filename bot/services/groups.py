"""AGs, their chats, their members and roles."""

from __future__ import annotations

import enum
import hashlib
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
    LinkCode,
    Membership,
    Person,
    Role,
    WorkingGroup,
)
from storage.repositories import (
    AuditRepository,
    GroupRepository,
    LinkRepository,
    PeopleRepository,
    RegisterRepository,
)

# Link codes: 8 characters from an alphabet without look-alikes (no 0/O, no 1/I), so a code read
# out aloud or typed from another screen survives; 32**8 ≈ 1.1e12 codes.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(hours=24)
# Brute-force limits on redeeming codes (rejected codes only; a redeemed one counts nothing).
#
# Per person: MAX_FAILED_ATTEMPTS per ATTEMPT_WINDOW, across all chats, so one account gains
# nothing by opening fresh chats, and only the person who failed is held up: a troll cannot
# block linking in a chat for the others there (the old per-chat limit could).
#
# Overall: a wrong guess cannot tell which AG's code it was aimed at, so there is no per-code
# counter to exhaust; and voiding open codes after many failures would let anybody void
# everybody's codes. Instead, once GLOBAL_FAILED_ATTEMPTS rejected codes arrived within
# ATTEMPT_WINDOW from anybody, a code is checked only if no rejected code arrived within the
# last GLOBAL_COOLDOWN; otherwise the attempt is refused unchecked and not recorded. Codes stay
# valid. This bounds guessing whatever the number of accounts: in any hour at most about
# GLOBAL_FAILED_ATTEMPTS + 1 h / GLOBAL_COOLDOWN = 110 checked wrong codes, some 2,700 per code
# lifetime; even with 1,000 open codes at once the chance that any of them is hit within a day
# is below 2,700 * 1,000 / 32**8 ≈ 2.5e-6. The cost: while some ten accounts or more
# keep guessing, everybody's attempts wait up to GLOBAL_COOLDOWN; nobody loses a code, and no
# single person's failures ever hold up anyone else. Checks and records are serialised
# (LinkRepository.lock_attempts), so concurrent attempts cannot overrun the limits.
MAX_FAILED_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(hours=1)
GLOBAL_FAILED_ATTEMPTS = 50
GLOBAL_COOLDOWN = timedelta(minutes=1)
# What people put around a code when they copy it: dashes (also typographic ones from
# autocorrect), spaces, underscores, dots and the backticks of code formatting.
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.`]+")


class CodeRejection(enum.StrEnum):
    """Why a link code was not accepted."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A fresh link code; the plain code exists only here, the database keeps its hash.

    Attributes:
        code: The code as shown to people, grouped like ``K7QX-2M9P``.
        expires_at: When it stops working.
        replaced: How many older open codes of the AG it invalidated.
    """

    code: str
    expires_at: datetime
    replaced: int


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The outcome of ``/ag verknuepfen <Code>``.

    Attributes:
        group: The AG the chat belongs to now; ``None`` when the code was rejected.
        other_chats: The AG's other chats (to tell them), when linked.
        rejection: Why the code was rejected, if it was.
        attempts_left: Further rejected codes the person may try within the window (in any chat).
        retry_in: When no attempts are left: how long until the person's next one is accepted.
    """

    group: WorkingGroup | None
    other_chats: list[Chat] = field(default_factory=list)
    rejection: CodeRejection | None = None
    attempts_left: int = MAX_FAILED_ATTEMPTS
    retry_in: timedelta | None = None


def format_code(code: str) -> str:
    """Group a normalised code for reading: ``K7QX2M9P`` → ``K7QX-2M9P``."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(text: str) -> str | None:
    """The code in what somebody typed (any case, with or without dash), or ``None``."""
    code = _CODE_SEPARATORS.sub("", text).upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def hash_code(code: str) -> str:
    """The stored form of a normalised code (hex SHA-256)."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def minutes(delta: timedelta) -> int:
    """A waiting time in whole minutes, rounded up and at least one."""
    return max(1, math.ceil(delta.total_seconds() / 60))


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
        self.links = LinkRepository(session)
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
            coordinators=await self.people.coordinators(group.id),
            kuemmerer=await self.people.with_role(group.id, Role.KUEMMERER),
            members=await self.people.count_members(group.id),
            active_goals=await self.register.count_goals(group.id, GoalStatus.ACTIVE),
            active_decisions=await self.register.count_decisions(group.id, DecisionStatus.ACTIVE),
        )

    # Linking chats -----------------------------------------------------------------------------

    async def create_link_code(self, group: WorkingGroup, actor: Person) -> IssuedCode:
        """Hand out a one-time code with which another chat joins the AG.

        Only the hash is stored. Older codes of the AG that are still open stop working, so
        there is at most one open code per AG and a code shown in the wrong place can be
        withdrawn by asking for a new one.
        """
        now = self.clock.now()
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            # The hash column is unique; a collision (about one in 1e12 per stored code) just
            # means drawing again instead of failing on the constraint.
            if not await self.links.hash_exists(hash_code(code)):
                break
        replaced = await self.links.replace_open_codes(group.id, now)
        row = await self.links.add_code(
            LinkCode(
                group_id=group.id,
                code_hash=hash_code(code),
                created_by_id=actor.id,
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
        )
        await self._log(
            group,
            actor,
            "group.link_code",
            "link_code",
            row.id,
            expires_at=row.expires_at.isoformat(),
            replaced=replaced,
        )
        return IssuedCode(format_code(code), row.expires_at, replaced)

    async def link_chat(self, chat: Chat, text: str, actor: Person) -> LinkResult:
        """Add a chat to the AG of a link code.

        Rules: private chats are never linked (they belong to one person, not to the AG); a
        chat that already belongs to an AG is refused (also for the same AG) without looking
        at the code. Anybody in a chat without an AG may redeem a code, as anybody there may
        ``/ag anlegen``: the koordination of the AG gave permission by handing out the code.

        A rejected code is recorded and returned, not raised: raising would roll the
        attempt back with the rest of the update, and the brute-force limits would count
        nothing. The caller must let the transaction commit. The limits (see
        ``MAX_FAILED_ATTEMPTS`` and ``GLOBAL_FAILED_ATTEMPTS``) hold up the person who failed,
        never the chat, and everybody only briefly while unusually many wrong codes arrive.

        Args:
            chat: The chat to link (the one the command was written in).
            text: The code as typed.
            actor: Who redeems it; becomes a member of the AG.

        Returns:
            The AG and its other chats, or why the code was rejected and how many attempts
            are left.

        Raises:
            UserError: The chat is private or already in an AG, the text is no code at all,
                the person has used up their attempts for now, or the overall cooldown is on
                (nothing is recorded then).
        """
        if chat.kind == ChatKind.PRIVATE.value:
            raise UserError("ag.link.private_chat")
        current = await self.group_of(chat)
        if current is not None:
            raise UserError("ag.link.already_linked", name=current.name)
        code = normalise_code(text)
        if code is None:
            # Not counted: a malformed text cannot match any code, so it is no guess.
            raise UserError("ag.link.code_malformed", given=shorten(text, 40))
        now = self.clock.now()
        window_start = now - ATTEMPT_WINDOW
        await self.links.lock_attempts()
        failures = await self.links.attempts_of_person_since(actor.id, window_start)
        if len(failures) >= MAX_FAILED_ATTEMPTS:
            raise UserError("ag.link.locked", minutes=minutes(_retry_at(failures) - now))
        overall, latest = await self.links.attempts_overall_since(window_start)
        if overall >= GLOBAL_FAILED_ATTEMPTS and latest is not None and now - latest < GLOBAL_COOLDOWN:
            wait = latest + GLOBAL_COOLDOWN - now
            raise UserError("ag.link.busy", seconds=max(1, math.ceil(wait.total_seconds())))

        row = await self.links.code_by_hash(hash_code(code))
        rejection = _rejection(row, now)
        if rejection is None and row is not None:
            if await self.links.redeem(row.id, now, chat.id, actor.id):
                return await self._join(chat, row, actor, now)
            rejection = CodeRejection.USED  # redeemed by another chat a moment ago
        assert rejection is not None

        await self.links.prune_attempts(window_start)
        await self.links.add_attempt(chat.id, actor.id, now)
        failures.append(now)
        left = max(0, MAX_FAILED_ATTEMPTS - len(failures))
        retry_in = _retry_at(failures) - now if left == 0 else None
        return LinkResult(None, rejection=rejection, attempts_left=left, retry_in=retry_in)

    async def _join(self, chat: Chat, code: LinkCode, actor: Person, now: datetime) -> LinkResult:
        group = await self.repo.get(code.group_id)
        assert group is not None, "the foreign key cascades, a code never outlives its AG"
        await self.repo.lock(group.id)
        others = await self.repo.chats(group.id)
        chat.group_id = group.id
        await self.people.touch_membership(group.id, actor.id, now)
        await self._log(
            group,
            actor,
            "group.link",
            "chat",
            chat.id,
            platform=chat.platform,
            title=chat.title,
            code=code.id,
        )
        return LinkResult(group, other_chats=others)

    async def unlink_chat(self, group: WorkingGroup, chat: Chat, actor: Person) -> list[Chat]:
        """Remove a chat from its AG; the AG keeps its register, people and other chats.

        Returns:
            The chats that remain in the AG.

        Raises:
            UserError: It is the AG's last chat (the AG would be unreachable).
        """
        # Serialise with other unlinks of this AG: two chats leaving at once must not both see
        # the other one as the chat that remains.
        await self.repo.lock(group.id)
        chats = await self.repo.chats(group.id)
        if chat.group_id != group.id:  # pragma: no cover - the caller passes the chat's own AG
            raise ValueError(f"chat {chat.id} is not in group {group.id}")
        remaining = [c for c in chats if c.id != chat.id]
        if not remaining:
            raise UserError("ag.unlink.last_chat", name=group.name)
        chat.group_id = None
        await self._log(
            group, actor, "group.unlink", "chat", chat.id, platform=chat.platform, title=chat.title
        )
        return remaining

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


def _rejection(code: LinkCode | None, now: datetime) -> CodeRejection | None:
    """Why a code cannot be redeemed now, or ``None`` if it can."""
    if code is None:
        return CodeRejection.UNKNOWN
    if code.used_at is not None:
        return CodeRejection.USED
    if code.replaced_at is not None:
        return CodeRejection.REPLACED
    if code.expires_at <= now:
        return CodeRejection.EXPIRED
    return None


def _retry_at(failures: list[datetime]) -> datetime:
    """When the window holds fewer than the allowed failures again (``failures`` oldest first)."""
    return failures[len(failures) - MAX_FAILED_ATTEMPTS] + ATTEMPT_WINDOW
