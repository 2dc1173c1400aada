"""Who may change what: a role × command × chat-kind matrix generated from the router's metadata.

Every state-changing command (and subcommand) of :func:`bot.handlers.build_router` has sample
argument lines in :data:`SAMPLES` that succeed when the koordination of AG A writes them in AG A's
group chat. Each sample is sent by people who must be refused – a plain member, a Kümmerer, the
koordination of AG B (in AG B's chat and in AG A's chat, where they are only a member) and the
koordination of AG A in a private chat – and the database is compared row by row before and
after. Only then does AG A's koordination send it in the group chat, which must change AG A's
rows: that proves the sample is meaningful in exactly the state where it was refused.

A command that is registered later without an entry here fails :func:`test_every_command_is_covered`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, NamedTuple

import pytest
from sqlalchemy import Table, select

from bot.core.router import Command
from bot.handlers import build_router
from bot.handlers.format import day_code
from storage.models import Base, Chat, Decision, Membership, Person, ReopenHint, Role
from tests.harness import BotHarness

# Sample data --------------------------------------------------------------------------------------

CHALLENGE = "Müssen wir uns wirklich nur alle drei Monate treffen?"
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


class Sample(NamedTuple):
    """The arguments of one command line, optionally sent as a reply.

    Attributes:
        args: The text after the command path; ``{hint}`` is replaced by the id of AG A's hint,
            ``{code}`` by the code that confirms deleting AG A for its koordination today.
        reply_to: ``(text, sender name)`` of the message the command answers, if any.
        setup: Command lines AG A's koordination sends in its chat first (the state the
            command needs: a closed AG to open).
    """

    args: str
    reply_to: tuple[str, str] | None = None
    setup: tuple[str, ...] = ()


SAMPLES: dict[str, list[Sample]] = {
    "cmd.ag.thema": [Sample("Bildungsangebote im Ruhrgebiet")],
    "cmd.ag.beschreibung": [Sample("Wir vernetzen Schulen, Vereine und Bibliotheken.")],
    "cmd.ag.name": [Sample("AG Bildung Ruhr")],
    "cmd.ag.sprache": [Sample("en")],
    "cmd.ag.zeitzone": [Sample("Europe/Vienna")],
    "cmd.ag.verknuepfen": [Sample("")],  # hands out a link code
    "cmd.ag.trennen": [Sample("")],
    "cmd.ag.schliessen": [Sample("")],
    "cmd.ag.oeffnen": [Sample("", setup=("/ag schliessen",))],
    "cmd.ag.loeschen": [Sample("ja {code}")],
    "cmd.ag.wiederherstellen": [Sample("", setup=("/ag loeschen ja {code}",))],
    "cmd.ziel": [Sample("Einen Fortbildungstag planen")],
    "cmd.ziel.erreicht": [Sample("1")],
    "cmd.ziel.verwerfen": [Sample("1 Nicht mehr aktuell")],
    "cmd.beschluss": [
        Sample("Protokolle gehen an alle Mitglieder #protokoll"),
        Sample("", reply_to=("Wir treffen uns künftig im Rathaus.", "mia")),
    ],
    "cmd.beschluss.ersetzen": [Sample("1 Die Treffen finden monatlich statt")],
    "cmd.beschluss.aufheben": [Sample("2 Überholt")],
    "cmd.beschluss.wichtig": [Sample("1")],
    "cmd.beschluss.unwichtig": [Sample("2")],
    "cmd.rolle": [
        Sample("mia koordination"),  # mia raising herself in the member case
        Sample("mia kuemmerer"),
        Sample("kurt koordination"),  # kurt raising himself in the kuemmerer case
        Sample("kurt mitglied"),
        Sample("koordination", reply_to=("Hallo zusammen", "mia")),
    ],
    "cmd.onboarding": [Sample("aus"), Sample("an")],
    "cmd.einfuehrung": [Sample("Willkommen in der AG Bildung!")],
    "cmd.hinweise": [Sample("aus"), Sample("an"), Sample("niedrig"), Sample("hoch"), Sample("abstand 3")],
    "cmd.hinweis": [Sample("1", reply_to=(CHALLENGE, "mia")), Sample("ziel 1", reply_to=(CHALLENGE, "mia"))],
    "cmd.hinweis.falsch": [Sample("{hint}")],
    "cmd.treffen": [Sample("jeden Donnerstag 19 Uhr: Werkstatt | Bürgerhaus")],
    "cmd.treffen.absagen": [Sample("1 24.11."), Sample("1")],  # the world's meeting 1: Tuesdays
    "cmd.treffen.erinnern": [Sample("2d 1h")],
    "cmd.abstimmung": [Sample("Sommerfest im Juni? | ja | nein | beschluss")],  # who may start polls
    "cmd.abstimmung.schliessen": [Sample("1")],  # the world's poll 1
    "cmd.abstimmung.termin": [
        Sample("Sommerfest | Do 3.12. 18 Uhr | Fr 4.12. 18 Uhr"),
        Sample("waehlen 2 1"),  # the world's date poll 2 becomes a meeting
    ],
    "cmd.ag.abstimmungen": [Sample("offen")],
    "cmd.umfrage.starten": [
        Sample("Engagement-Erhebung bis in 3 Tagen"),
        Sample("engagement bis Freitag anonym"),
    ],
    "cmd.umfrage.schliessen": [Sample("1"), Sample("")],  # the world's survey 1
}
"""Catalog key → argument lines that change AG A's rows when its koordination sends them there."""

READ_ONLY: frozenset[str] = frozenset(
    {
        "cmd.hilfe",
        "cmd.ag",
        "cmd.ziele",
        "cmd.beschluesse",
        "cmd.kalender",
        "cmd.erinnerungen",
        "cmd.abstimmungen",
        "cmd.umfrage",
        "cmd.umfrage.vorlagen",
        "cmd.umfrage.status",
        "cmd.umfrage.ergebnis",
        "cmd.umfrage.vergleich",
        "cmd.definition",
        "cmd.datenschutz",
        "cmd.meine_daten",
        "cmd.konto",
    }
)
"""Commands that never write (checked by :func:`test_reading_commands_change_nothing`)."""

SELF_SERVICE: frozenset[str] = frozenset(
    {"cmd.start", "cmd.ag.wechseln", "cmd.ag.anlegen", "cmd.gelesen"}
) | {
    "cmd.daten_loeschen",
    "cmd.konto.verknuepfen",
    "cmd.konto.trennen",
    "cmd.umfrage.weiter",
    "cmd.umfrage.aendern",
    "cmd.zurueck",
    "cmd.weiter",
    "cmd.abbrechen",
    "cmd.antwort",
}
"""Commands open to everybody by design: they touch only the sender's own rows (the brief read,
the AG a private chat acts on, one's own response to a survey) or found an AG in a chat that has
none (checked by :func:`test_self_service_commands_touch_only_own_rows`)."""

GATED_READERS: frozenset[str] = frozenset({"cmd.umfrage.export"})
"""Commands only the koordination may use that write no rows but send files privately (checked
by :func:`test_gated_readers_send_nothing_to_the_refused`)."""

OPEN_TO_MEMBERS: frozenset[str] = frozenset({"cmd.tagesordnung", "cmd.tagesordnung.loeschen"}) | {
    "cmd.erinnerung",
    "cmd.erinnerung.loeschen",
    "cmd.erinnerung.pause",
    "cmd.erinnerung.weiter",
    "cmd.stimme",
    "cmd.stimme.zurueck",
}
"""Commands every member may use to change their AG: the agenda of the next meeting, reminders and
votes (who may take whose items off or change whose reminders is checked in
tests/handlers/test_meetings.py and tests/handlers/test_reminders.py; a vote is only ever one's own,
tests/handlers/test_polls.py)."""


def all_commands() -> list[Command]:
    """Every callable command and subcommand of the root router, once each."""
    found: dict[int, Command] = {}
    for command in build_router():
        if command.handler is not None:
            found.setdefault(id(command), command)
        for sub in command.subcommands.values():
            found.setdefault(id(sub), sub)
    return list(found.values())


def command_line(key: str, sample: Sample, hint: int, code: str = "") -> str:
    """``cmd.beschluss.ersetzen`` + ``1 Text`` → ``/beschluss ersetzen 1 Text``."""
    path = key.removeprefix("cmd.").replace(".", " ")
    return f"/{path} {sample.args.format(hint=hint, code=code)}".rstrip()


# Database snapshots --------------------------------------------------------------------------------

BOOKKEEPING_TABLES = frozenset({"outbox", "platform_state"})
"""Touched by any message (replies, checkpoints): not compared."""
BOOKKEEPING_COLUMNS = {"people": frozenset({"last_seen"}), "memberships": frozenset({"last_seen"})}
"""Columns any message bumps."""

Row = dict[str, Any]
Snapshot = dict[str, dict[tuple[Any, ...], Row]]


def tables() -> list[Table]:
    """Every mapped table except the bookkeeping ones (tables added later are compared too)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in BOOKKEEPING_TABLES]


async def snapshot(bot: BotHarness) -> Snapshot:
    """All rows and columns of every compared table, keyed by primary key."""
    result: Snapshot = {}
    async with bot.app.db.transaction() as session:
        for table in tables():
            ignored = BOOKKEEPING_COLUMNS.get(table.name, frozenset())
            key_columns = [c.name for c in table.primary_key.columns]
            rows = (await session.execute(select(table))).mappings()
            result[table.name] = {
                tuple(row[k] for k in key_columns): {k: v for k, v in row.items() if k not in ignored}
                for row in rows
            }
    return result


def owner(table: Table, row: Row, snap: Snapshot) -> int | None:
    """The AG a row belongs to: its own id, its ``group_id``, or that of a row it references
    (a decision's tags, a chat's link attempts); ``None`` for rows of no AG (people)."""
    if table.name == "working_groups":
        return row["id"]
    for column in table.columns:
        value = row.get(column.name)
        if value is None:
            continue
        for fk in column.foreign_keys:
            target = fk.column.table
            if target.name == "working_groups":
                return value
            referenced = snap.get(target.name, {}).get((value,))
            if target.name != table.name and referenced is not None:
                found = owner(target, referenced, snap)
                if found is not None:
                    return found
    return None


def first_sight(table: str, row: Row) -> bool:
    """A row any first message may create: a person, an unlinked chat, a plain membership."""
    if table == "people":
        return True
    if table == "chats":
        return row["group_id"] is None and row["current_group_id"] is None
    if table == "memberships":
        return row["role"] == Role.MITGLIED and not row["chat_admin"] and row["acknowledged_at"] is None
    return False


@dataclass(frozen=True)
class Change:
    """One row that differs between two snapshots."""

    table: str
    key: tuple[Any, ...]
    before: Row | None
    after: Row | None
    owners: frozenset[int | None]

    def __str__(self) -> str:
        if self.before is None or self.after is None:
            return f"{self.table}{self.key}: {self.before} -> {self.after}"
        changed = {k: (self.before[k], self.after[k]) for k in self.after if self.before[k] != self.after[k]}
        return f"{self.table}{self.key}: {changed}"


def diff(before: Snapshot, after: Snapshot, *, ignore_group: int | None = None) -> list[Change]:
    """Rows that changed, except rows created on first sight and, if given, rows that belong to
    ``ignore_group`` before and after (the sender's own AG may change)."""
    changes = []
    for table in tables():
        old_rows, new_rows = before[table.name], after[table.name]
        for key in old_rows.keys() | new_rows.keys():
            old, new = old_rows.get(key), new_rows.get(key)
            if old == new:
                continue
            if old is None and first_sight(table.name, new):
                continue
            owners = frozenset(
                owner(table, row, snap) for row, snap in ((old, before), (new, after)) if row is not None
            )
            if ignore_group is not None and owners == {ignore_group}:
                continue
            changes.append(Change(table.name, key, old, new, owners))
    return changes


# The world the samples run in ---------------------------------------------------------------------


@dataclass
class World:
    """AG A (chats ``ag`` and ``ag2``) and AG B (chat ``umwelt``), both with a register.

    AG A: anna coordinates, kurt is Kümmerer, mia is a member; bodo is a member too. AG B: bodo
    coordinates. AG A has a hint of the reopen guard in chat ``ag``, an open poll (Nr. 1), an
    open date poll (Nr. 2) and an open survey (Nr. 1).
    """

    bot: BotHarness
    group_a: int
    group_b: int
    hint: int

    async def deletion_code(self) -> str:
        """The code with which AG A's koordination (anna) confirms deleting it today."""
        [anna] = await self.bot.rows(Person, Person.username == "anna")
        return day_code(SimpleNamespace(clock=self.bot.app.clock, person=anna), "ag-loeschen", self.group_a)

    async def prepare(self, sample: Sample) -> None:
        """Send the sample's set-up lines as AG A's koordination."""
        code = await self.deletion_code()
        for line in sample.setup:
            await self.bot.send(line.format(code=code), user="anna", chat="ag")

    async def send(self, key: str, sample: Sample, *, user: str, chat: str, private: bool = False) -> str:
        """Send a sample as ``user``; returns the replies in that chat, joined."""
        line = command_line(key, sample, self.hint, await self.deletion_code())
        replies = await self.bot.send(line, user=user, chat=chat, private=private, reply_to=sample.reply_to)
        return "\n".join(replies)


async def fill_register(bot: BotHarness, user: str, chat: str, topic: str) -> None:
    """A goal, two decisions and the second one marked important."""
    await bot.say(f"/ziel {topic}: eine Übersicht erstellen", user=user, chat=chat)
    await bot.say(
        f"/beschluss {topic}: Die Treffen finden vierteljährlich statt #treffen", user=user, chat=chat
    )
    await bot.say(f"/beschluss {topic}: Protokolle sind intern", user=user, chat=chat)
    await bot.say("/beschluss wichtig 2", user=user, chat=chat)


async def group_id(bot: BotHarness, chat: str) -> int:
    [row] = await bot.rows(Chat, Chat.external_id == f"group:{chat}")
    assert row.group_id is not None
    return row.group_id


@pytest.fixture
async def world(bot: BotHarness) -> World:
    """The AGs, people, register, second chat and hint every sample needs."""
    await bot.setup_group("AG Bildung", user="anna", chat="ag")
    await fill_register(bot, "anna", "ag", "Bildung")
    for name in ("mia", "kurt", "bodo"):
        await bot.send("Hallo zusammen", user=name, chat="ag")
    await bot.say("/rolle kurt kuemmerer", user="anna", chat="ag")
    await bot.say("/treffen jeden Dienstag 18 Uhr: Plenum", user="anna", chat="ag")
    await bot.send("/abstimmung Grillen wir im Sommer? | ja | nein", user="anna", chat="ag")  # poll 1
    await bot.send("/abstimmung termin Fest | Sa 5.12. 15 Uhr | So 6.12. 15 Uhr", user="anna", chat="ag")  # 2
    await bot.send("/umfrage starten Engagement-Erhebung bis in 5 Tagen", user="anna", chat="ag")  # survey 1
    # A second chat, so that /ag trennen can succeed.
    match = CODE.search(await bot.say("/ag verknuepfen", user="anna", chat="ag"))
    assert match
    assert "gehört jetzt zu" in await bot.say(f"/ag verknuepfen {match.group(0)}", user="anna", chat="ag2")

    await bot.setup_group("AG Umwelt", user="bodo", chat="umwelt")
    await fill_register(bot, "bodo", "umwelt", "Umwelt")

    group_a, group_b = await group_id(bot, "ag"), await group_id(bot, "umwelt")
    [decision] = await bot.rows(Decision, Decision.group_id == group_a, Decision.number == 1)
    [mia] = await bot.rows(Person, Person.username == "mia")
    async with bot.app.db.transaction() as session:
        hint = ReopenHint(
            group_id=group_a,
            platform=bot.platform.value,
            chat_id=bot.chat("ag").external_id,
            item_kind="decision",
            item_id=decision.id,
            item_number=1,
            message_id="hinted",
            message_text=CHALLENGE,
            sender_id=mia.id,
            score=0.9,
            created_at=bot.app.clock.now(),
        )
        session.add(hint)
        await session.flush()
        hint_id = hint.id
    return World(bot, group_a, group_b, hint_id)


# The matrix --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Someone who must not change AG A's register with a sample, and where they write."""

    name: str
    user: str
    chat: str
    private: bool = False
    own_group: Callable[[World], int] | None = None
    """The AG whose rows may change (the sender coordinates it and writes in its chat)."""


REFUSED = [
    Actor("mitglied", "mia", "ag"),
    Actor("kuemmerer", "kurt", "ag"),
    Actor("koordination_b_in_b", "bodo", "umwelt", own_group=lambda w: w.group_b),
    Actor("koordination_b_in_a", "bodo", "ag"),
    Actor("koordination_a_private", "anna", "anna", private=True),
]

CASES = [
    pytest.param(key, sample, id=f"{key.removeprefix('cmd.')}[{n}]")
    for key, samples in SAMPLES.items()
    for n, sample in enumerate(samples)
]


@pytest.mark.parametrize("actor", REFUSED, ids=lambda a: a.name)
@pytest.mark.parametrize(("key", "sample"), CASES)
async def test_refused_then_allowed(world: World, key: str, sample: Sample, actor: Actor) -> None:
    await world.prepare(sample)
    before = await snapshot(world.bot)
    reply = await world.send(key, sample, user=actor.user, chat=actor.chat, private=actor.private)
    ignore = actor.own_group(world) if actor.own_group else None
    changes = diff(before, await snapshot(world.bot), ignore_group=ignore)
    assert not changes, f"{actor.name} changed rows ({reply!r}):\n" + "\n".join(map(str, changes))

    # Precondition: the same line from AG A's koordination in its group chat does change AG A.
    reply = await world.send(key, sample, user="anna", chat="ag")
    changes = [c for c in diff(before, await snapshot(world.bot)) if world.group_a in c.owners]
    assert changes, f"the sample changed nothing for the koordination: {reply!r}"


# Coverage of the router ---------------------------------------------------------------------------


def test_every_command_is_covered() -> None:
    keys = {c.key for c in all_commands()}
    uncovered = keys - SAMPLES.keys() - READ_ONLY - SELF_SERVICE - OPEN_TO_MEMBERS - GATED_READERS
    assert not uncovered, f"add samples to SAMPLES (or the key to READ_ONLY/SELF_SERVICE): {uncovered}"
    stale = (SAMPLES.keys() | READ_ONLY | SELF_SERVICE | OPEN_TO_MEMBERS | GATED_READERS) - keys
    assert not stale, f"no such command any more: {stale}"
    gated = {c.key for c in all_commands() if c.role is not None}
    missing = gated - SAMPLES.keys() - GATED_READERS
    assert not missing, f"commands with a required role need samples: {missing}"
    assert {c.key for c in all_commands() if c.key in GATED_READERS and c.role is not None} == GATED_READERS
    assert not SAMPLES.keys() & (READ_ONLY | SELF_SERVICE | GATED_READERS)
    assert all(SAMPLES.values())


# Commands that are not gated ----------------------------------------------------------------------

READERS = [("anna", "ag", False), ("mia", "ag", False), ("anna", "anna", True), ("mia", "mia", True)]


@pytest.mark.parametrize("key", sorted(READ_ONLY))
async def test_reading_commands_change_nothing(world: World, key: str) -> None:
    for user, chat, private in READERS:
        before = await snapshot(world.bot)
        reply = await world.send(key, Sample(""), user=user, chat=chat, private=private)
        assert reply
        changes = diff(before, await snapshot(world.bot))
        assert not changes, f"{user} in {chat}: " + "\n".join(map(str, changes))


OWN_COLUMNS = {
    "memberships": {"briefed_at", "acknowledged_at"},
    "chats": {"current_group_id"},
    "survey_responses": {
        "status",
        "answers",
        "draft",
        "cursor",
        "editing",
        "active",
        "started_at",
        "finished_at",
    },
}
OWN_NEW_ROWS = frozenset({"survey_responses", "account_codes"})
"""Tables in which a self-service command may create a row of the sender's own (a response, a
code to link another account)."""


@pytest.mark.parametrize("key", sorted(SELF_SERVICE))
async def test_self_service_commands_touch_only_own_rows(world: World, key: str) -> None:
    [mia] = await world.bot.rows(Person, Person.username == "mia")
    places = (("ag", False), ("mia", True))
    for (chat, private), args in itertools.product(places, ("", str(world.group_a), "Neue AG")):
        before = await snapshot(world.bot)
        await world.send(key, Sample(args), user="mia", chat=chat, private=private)
        for change in diff(before, await snapshot(world.bot)):
            assert change.after is not None, change
            if change.before is None:
                assert change.table in OWN_NEW_ROWS and change.after.get("person_id") == mia.id, change
                continue
            row = change.after
            own = (
                row.get("person_id") == mia.id or row.get("external_id") == world.bot.user("mia").external_id
            )
            columns = {k for k in row if change.before[k] != row[k]}
            assert own and columns <= OWN_COLUMNS.get(change.table, set()), change


@pytest.mark.parametrize("key", sorted(GATED_READERS))
async def test_gated_readers_send_nothing_to_the_refused(world: World, key: str) -> None:
    bot = world.bot
    # The koordination of AG A may export from the private chat too (the files go there
    # anyway), and the koordination of AG B exports AG B's surveys in its own chat.
    for actor in (a for a in REFUSED if a.user != "anna" and a.own_group is None):
        before, sent = await snapshot(bot), len(bot.messenger.sent)
        reply = await world.send(key, Sample(""), user=actor.user, chat=actor.chat, private=actor.private)
        assert reply and not diff(before, await snapshot(bot)), (actor.name, reply)
        files = [m for m in bot.messenger.sent[sent:] if m.attachment is not None]
        assert not files, f"{actor.name} got {[m.attachment.filename for m in files]}"
    # Precondition: AG A's koordination gets files privately.
    sent = len(bot.messenger.sent)
    await world.send(key, Sample(""), user="anna", chat="ag")
    files = [m for m in bot.messenger.sent[sent:] if m.attachment is not None]
    assert files and all(m.chat.external_id == bot.user("anna").external_id for m in files)


# Roles -------------------------------------------------------------------------------------------


async def role_of(bot: BotHarness, group: int, name: str) -> Role:
    [person] = await bot.rows(Person, Person.username == name)
    [membership] = await bot.rows(Membership, Membership.group_id == group, Membership.person_id == person.id)
    return membership.role


async def test_nobody_raises_themselves(world: World) -> None:
    bot = world.bot
    for user, role in (("mia", Role.MITGLIED), ("kurt", Role.KUEMMERER)):
        before = await snapshot(bot)
        await bot.send(f"/rolle {user} koordination", user=user)
        await bot.send("/rolle koordination", user=user, reply_to=("Hallo zusammen", user))
        await bot.send(f"/rolle {user} koordination", user=user, chat=user, private=True)
        assert await role_of(bot, world.group_a, user) is role
        assert not diff(before, await snapshot(bot))
    # AG B's koordination has no say in AG A, not even about themselves.
    await bot.send("/rolle bodo koordination", user="bodo", chat="ag")
    assert await role_of(bot, world.group_a, "bodo") is Role.MITGLIED


async def test_the_last_koordination_stays(world: World) -> None:
    bot = world.bot
    before = await snapshot(bot)
    assert "mindestens eine Person" in await bot.say("/rolle anna mitglied", user="anna")
    assert await role_of(bot, world.group_a, "anna") is Role.KOORDINATION
    assert not diff(before, await snapshot(bot))  # no audit entry either
    # With a second koordination anna may step back; then mia is the last one.
    await bot.say("/rolle mia koordination", user="anna")
    await bot.say("/rolle anna kuemmerer", user="anna")
    assert await role_of(bot, world.group_a, "anna") is Role.KUEMMERER
    assert "mindestens eine Person" in await bot.say("/rolle mia mitglied", user="mia")
    assert await role_of(bot, world.group_a, "mia") is Role.KOORDINATION
