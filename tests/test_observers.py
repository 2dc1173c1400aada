"""Features plug into events that are not commands by registering on their router.

Each test builds a small feature of its own — a router with observers and a component — and runs
it next to the shipped features, without touching :class:`Application`: that is the point.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from bot.app import Application
from bot.core.context import Context
from bot.core.events import BotAdded, Platform, PollAnswered
from bot.core.markup import Markup
from bot.core.observers import Joined, Runtime, note_signal
from bot.core.ports import ManualClock
from bot.core.router import Args, Router
from bot.handlers import build_router
from bot.services.outbox import Outbox
from bot.services.reopen import ReopenGuard
from storage import Database
from storage.models import Person
from tests.harness import BotHarness, RecordingMessenger


@dataclass
class Recorder:
    """A component that counts its life cycle and what it was given."""

    started: int = 0
    stopped: int = 0
    drained: int = 0
    watched: list[tuple[str, int]] = field(default_factory=list)
    signals: list[object] = field(default_factory=list)

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1

    async def drain(self) -> None:
        self.drained += 1


def echo_feature() -> Router:
    """A feature with a conversation in private chats and observers for everything else."""
    router = Router()
    open_conversations: set[str] = set()

    @router.command("echo", needs_group=False)
    async def echo(ctx: Context, args: Args) -> None:
        open_conversations.add(ctx.person.external_id)
        note_signal(ctx.services.session, ("echo", ctx.person.external_id))
        ctx.reply(Markup().line("Sag etwas."))

    @router.on.on_private_text
    async def answer(ctx: Context) -> bool:
        if ctx.person.external_id not in open_conversations:
            return False
        open_conversations.discard(ctx.person.external_id)
        ctx.reply(Markup().line("Echo: ", ctx.message.text))
        return True

    @router.on.on_joined
    async def joined(ctx: Context, people: Sequence[Joined]) -> None:
        names = ", ".join(p.person.display_name for p in people)
        ctx.reply(Markup().line(f"joined: {names} returning={[p.returning for p in people]}"))

    @router.on.on_left
    async def left(ctx: Context, person: Person, membership: object) -> None:
        ctx.reply(Markup().line(f"left: {person.display_name}"))

    @router.on.on_bot_added
    async def added(ctx: Context) -> None:
        ctx.reply(Markup().line("echo is here"))

    @router.on.on_poll_answer
    async def voted(ctx: Context) -> None:
        recorder(ctx.runtime).signals.append(("vote", ctx.event.option_ids))

    @router.on.watch
    def watch(runtime: Runtime, message: object, group_id: int) -> None:
        recorder(runtime).watched.append((message.text, group_id))  # type: ignore[attr-defined]

    @router.on.on_committed
    def committed(runtime: Runtime, signals: list[object]) -> None:
        recorder(runtime).signals.extend(s for s in signals if isinstance(s, tuple))

    @router.on.component("echo")
    def make(runtime: Runtime) -> Recorder:
        return Recorder()

    return router


def recorder(runtime: Runtime | None) -> Recorder:
    assert runtime is not None
    return runtime.component("echo")


@pytest.fixture
async def echo_bot(
    database: Database, clock: ManualClock, messenger: RecordingMessenger, guard: ReopenGuard
) -> AsyncIterator[BotHarness]:
    router = build_router()
    router.include(echo_feature())
    outbox = Outbox(database, clock, monotonic=clock.monotonic, sleep=clock.sleep)
    app = Application(database, clock=clock, outbox=outbox, options={"reopen.guard": guard}, router=router)
    app.attach(messenger)
    yield BotHarness(app, messenger)
    await app.stop()


async def test_a_private_conversation_takes_plain_messages(echo_bot: BotHarness) -> None:
    bot = echo_bot
    assert await bot.say("/echo", private=True) == "Sag etwas."
    assert await bot.say("Hallo Welt", private=True) == "Echo: Hallo Welt"
    # Conversation over: the next plain message gets the general pointer again.
    assert "/hilfe" in await bot.say("Hallo Welt", private=True)
    assert recorder(bot.app).signals == [("echo", "id-anna")]


async def test_joins_leaves_and_the_bot_being_added_reach_the_feature(echo_bot: BotHarness) -> None:
    bot = echo_bot
    await bot.setup_group()
    assert await bot.join("bernd", "carla") == ["joined: Bernd, Carla returning=[False, False]"]
    assert await bot.leave("bernd") == ["left: Bernd"]
    assert await bot.join("bernd") == ["joined: Bernd returning=[True]"]
    await bot.app.handle(BotAdded(bot.chat("neu")))
    await bot.settle()
    texts = [m.markup.plain() for m in bot.messenger.sent if m.chat.external_id == "group:neu"]
    assert "echo is here" in texts and any("Kümmerer" in t for t in texts)


async def test_plain_group_messages_are_watched_also_on_the_fast_path(echo_bot: BotHarness) -> None:
    bot = echo_bot
    await bot.setup_group()
    await bot.send("erste Nachricht", user="bernd")
    await bot.send("zweite Nachricht", user="bernd")  # seen a moment ago: no transaction
    watched = recorder(bot.app).watched
    assert [text for text, _ in watched] == ["erste Nachricht", "zweite Nachricht"]
    await bot.send("/ziele", user="bernd")
    assert len(watched) == 2  # commands are not plain messages


async def test_poll_answers_and_component_life_cycle(echo_bot: BotHarness) -> None:
    bot = echo_bot
    await bot.app.handle(PollAnswered(Platform.CONSOLE, "p1", bot.user("bernd"), (0, 2)))
    assert ("vote", (0, 2)) in recorder(bot.app).signals
    await bot.app.resume()
    await bot.app.drain()
    await bot.app.stop()
    echo = recorder(bot.app)
    assert (echo.started, echo.drained, echo.stopped) == (1, 1, 1)


async def test_a_failing_observer_costs_its_event_not_the_bot(echo_bot: BotHarness) -> None:
    bot = echo_bot

    async def broken(ctx: Context, people: Sequence[Joined]) -> None:
        raise RuntimeError("boom")

    bot.app.observers.joined.append(broken)
    await bot.setup_group()
    await bot.join("bernd")
    # The join's transaction was rolled back, the bot still answers.
    assert "Bildung" in await bot.say("/ag")


async def test_a_transactional_group_text_observer_turns_the_fast_path_off(
    database: Database, clock: ManualClock, messenger: RecordingMessenger, guard: ReopenGuard
) -> None:
    router = build_router()
    feature = Router()
    seen: list[str] = []

    @feature.on.on_group_text
    async def count(ctx: Context) -> None:
        seen.append(ctx.message.text)

    router.include(feature)
    app = Application(database, clock=clock, options={"reopen.guard": guard}, router=router)
    app.attach(messenger)
    bot = BotHarness(app, messenger)
    try:
        await bot.setup_group()
        await bot.send("eins", user="bernd")
        await bot.send("zwei", user="bernd")
        assert seen == ["eins", "zwei"]
    finally:
        await app.stop()
