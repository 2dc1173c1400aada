"""``/rolle``: give a member of the AG a role."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.router import Args, Router, normalise_name
from bot.handlers.format import person_name, role_name
from storage.models import Role

router = Router()

ROLE_WORDS = {
    "koordination": Role.KOORDINATION,
    "koordinator": Role.KOORDINATION,
    "koordinatorin": Role.KOORDINATION,
    "coordination": Role.KOORDINATION,
    "coordinator": Role.KOORDINATION,
    "kuemmerer": Role.KUEMMERER,
    "kuemmerin": Role.KUEMMERER,
    "caretaker": Role.KUEMMERER,
    "mitglied": Role.MITGLIED,
    "member": Role.MITGLIED,
}


@router.command("rolle", aliases=("role",), role=Role.KOORDINATION)
async def set_role(ctx: Context, args: Args) -> None:
    """``/rolle <Person> <koordination|kuemmerer|mitglied>``, or as a reply: ``/rolle <Rolle>``."""
    group = ctx.require_group()
    words = args.words
    if not words:
        raise UsageError()
    role = ROLE_WORDS.get(normalise_name(words[-1]))
    if role is None:
        raise UsageError("role.unknown_role", given=words[-1])
    who = " ".join(words[:-1])
    services = ctx.services.groups
    if who:
        target = await services.find_member(group, who)
    elif ctx.event.reply_to is not None and ctx.event.reply_to.sender is not None:
        target = await services.person(ctx.event.reply_to.sender)
    else:
        raise UsageError("role.person_missing")
    previous = await services.set_role(group, ctx.person, target, role)
    if previous is role:
        ctx.say("role.unchanged", person=person_name(target), role=role_name(ctx.tr, role))
    else:
        ctx.say("role.set", person=person_name(target), role=role_name(ctx.tr, role))
