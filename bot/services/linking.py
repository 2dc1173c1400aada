"""Linking chats of any platform into one AG with one-time codes, and leaving an AG.

A code is shown once and stored only as its hash; wrong codes are limited per person and
overall (see the constants), so guessing stays hopeless and nobody can lock others out.
"""

from __future__ import annotations

import enum
import hashlib
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.events import ChatKind
from bot.core.ports import Clock
from bot.services.groups import GroupService
from bot.services.text import shorten
from storage.models import Chat, LinkCode, Person, WorkingGroup
from storage.repositories import LinkRepository

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


async def draw_code(taken: Callable[[str], Awaitable[bool]]) -> str:
    """A new random code whose hash ``taken`` does not know yet.

    The hash columns are unique; a collision (about one in 1e12 per stored code) just means
    drawing again instead of failing on the constraint.
    """
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not await taken(hash_code(code)):
            return code


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


class LinkService:
    """Link codes: hand them out, redeem them, and let a chat leave its AG.

    Args:
        session: The update's database session.
        clock: Source of time.
        groups: The group service of the same session (AGs, chats, people, audit).
    """

    def __init__(self, session: AsyncSession, clock: Clock, groups: GroupService) -> None:
        self.clock = clock
        self.groups = groups
        self.links = LinkRepository(session)

    async def create_link_code(self, group: WorkingGroup, actor: Person) -> IssuedCode:
        """Hand out a one-time code with which another chat joins the AG.

        Only the hash is stored. Older codes of the AG that are still open stop working, so
        there is at most one open code per AG and a code shown in the wrong place can be
        withdrawn by asking for a new one.
        """
        now = self.clock.now()
        code = await draw_code(self.links.hash_exists)
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
        await self.groups.log_change(
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
        current = await self.groups.group_of(chat)
        if current is not None:
            raise UserError("ag.link.already_linked", name=current.name)
        code = normalise_code(text)
        if code is None:
            # Not counted: a malformed text cannot match any code, so it is no guess.
            raise UserError("ag.link.code_malformed", given=shorten(text, 40))
        now = self.clock.now()
        failures = await check_attempts(self.links, actor.id, now)

        row = await self.links.code_by_hash(hash_code(code))
        rejection = _rejection(row, now)
        if rejection is None and row is not None:
            if await self.links.redeem(row.id, now, chat.id, actor.id):
                return await self._join(chat, row, actor, now)
            rejection = CodeRejection.USED  # redeemed by another chat a moment ago
        assert rejection is not None
        left, retry_in = await record_failure(self.links, chat.id, actor.id, now, failures)
        return LinkResult(None, rejection=rejection, attempts_left=left, retry_in=retry_in)

    async def _join(self, chat: Chat, code: LinkCode, actor: Person, now: datetime) -> LinkResult:
        group = await self.groups.repo.get(code.group_id)
        assert group is not None, "the foreign key cascades, a code never outlives its AG"
        await self.groups.repo.lock(group.id)
        others = await self.groups.repo.chats(group.id)
        chat.group_id = group.id
        await self.groups.people.touch_membership(group.id, actor.id, now)
        await self.groups.log_change(
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
        await self.groups.repo.lock(group.id)
        chats = await self.groups.repo.chats(group.id)
        if chat.group_id != group.id:  # pragma: no cover - the caller passes the chat's own AG
            raise ValueError(f"chat {chat.id} is not in group {group.id}")
        remaining = [c for c in chats if c.id != chat.id]
        if not remaining:
            raise UserError("ag.unlink.last_chat", name=group.name)
        chat.group_id = None
        await self.groups.log_change(
            group, actor, "group.unlink", "chat", chat.id, platform=chat.platform, title=chat.title
        )
        return remaining


async def check_attempts(links: LinkRepository, person_id: int, now: datetime) -> list[datetime]:
    """The brute-force limits on redeeming any code (AG link codes and account codes share
    them): the person's rejected codes within the window, oldest first.

    Raises:
        UserError: The person has used up their attempts for now, or the overall cooldown is on.
    """
    await links.lock_attempts()
    failures = await links.attempts_of_person_since(person_id, now - ATTEMPT_WINDOW)
    if len(failures) >= MAX_FAILED_ATTEMPTS:
        raise UserError("ag.link.locked", minutes=minutes(_retry_at(failures) - now))
    overall, latest = await links.attempts_overall_since(now - ATTEMPT_WINDOW)
    if overall >= GLOBAL_FAILED_ATTEMPTS and latest is not None and now - latest < GLOBAL_COOLDOWN:
        wait = latest + GLOBAL_COOLDOWN - now
        raise UserError("ag.link.busy", seconds=max(1, math.ceil(wait.total_seconds())))
    return failures


async def record_failure(
    links: LinkRepository, chat_id: int, person_id: int, now: datetime, failures: list[datetime]
) -> tuple[int, timedelta | None]:
    """Record a rejected code; returns the attempts left and, when none, the wait until the next."""
    await links.prune_attempts(now - ATTEMPT_WINDOW)
    await links.add_attempt(chat_id, person_id, now)
    failures.append(now)
    left = max(0, MAX_FAILED_ATTEMPTS - len(failures))
    return left, (_retry_at(failures) - now if left == 0 else None)


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
