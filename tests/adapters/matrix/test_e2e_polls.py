"""Polls on a real Synapse (issue 11): MSC3381 poll events both ways, and one poll across a Matrix
room and a Telegram group (the fake Bot API server) linked into one AG, both real adapters on one
application.

The poll starts with its fallback text and an ``org.matrix.msc3381.poll.start`` event; people answer
with the unstable (``org.matrix.msc3381.poll.response``) and the stable (``m.poll.response``)
form; when the deadline has passed on the travelling clock the bot ends the poll
(``org.matrix.msc3381.poll.end``) and posts the chart (``m.image``) and the result.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import nio
from telegram import Update

from bot.adapters.telegram import TelegramAdapter
from bot.config import TelegramSection
from bot.core.ports import TravelClock
from tests.adapters.matrix.conftest import MatrixUser, RunningBot
from tests.fakes.telegram_api import FakeTelegramServer, UploadedFile

QUESTION = "Machen wir im Juni ein Sommerfest?"
START = "org.matrix.msc3381.poll.start"
END = "org.matrix.msc3381.poll.end"
PNG = b"\x89PNG\r\n\x1a\n"
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")
WAIT = 30.0


def events(user: MatrixUser, room: str, event_type: str) -> list[nio.UnknownEvent]:
    """Events of a type nio does not know (the poll events) that the user has seen in a room."""
    return [e for r, e in user.seen if r == room and isinstance(e, nio.UnknownEvent) and e.type == event_type]


def images(user: MatrixUser, room: str) -> list[nio.RoomMessageImage]:
    return [e for r, e in user.seen if r == room and isinstance(e, nio.RoomMessageImage)]


def results(user: MatrixUser, room: str) -> list[str]:
    """The results of polls the user has seen in a room (the chart's caption, after the chart)."""
    return [n.body for n in user.notices(room) if "Ergebnis der Abstimmung" in n.body]


async def wait_for_the_end(user: MatrixUser, room: str) -> tuple[nio.UnknownEvent, nio.RoomMessageImage, str]:
    """The poll's end event, the chart and the result, once all three arrived."""
    await user.wait_for(
        lambda: events(user, room, END) and images(user, room) and results(user, room),
        "the end of the poll, the chart and the result",
    )
    [end], [chart], [result] = events(user, room, END), images(user, room), results(user, room)
    return end, chart, result


async def respond(user: MatrixUser, room: str, poll: str, answer: str, *, stable: bool = False) -> None:
    """Answer a poll the way Element does (unstable MSC3381) or in the stable form of Matrix 1.7."""
    relation = {"rel_type": "m.reference", "event_id": poll}
    if stable:
        event_type, content = "m.poll.response", {"m.relates_to": relation, "m.selections": [answer]}
    else:
        event_type = "org.matrix.msc3381.poll.response"
        content = {"m.relates_to": relation, "org.matrix.msc3381.poll.response": {"answers": [answer]}}
    response = await user.client.room_send(room, event_type, content)
    assert isinstance(response, nio.RoomSendResponse), response


async def ask(user: MatrixUser, room: str, text: str) -> str:
    """Send a command; return the bot's first notice after it in the room's timeline (robust
    against notices the user's client has not synced yet when it sends)."""
    sent = await user.send(room, text)

    def answer() -> nio.RoomMessageNotice | None:
        timeline = [e for r, e in user.seen if r == room]
        ids = [e.event_id for e in timeline]
        if sent not in ids:
            return None
        later = timeline[ids.index(sent) + 1 :]
        return next((e for e in later if isinstance(e, nio.RoomMessageNotice)), None)

    await user.wait_for(lambda: answer() is not None, f"the answer to {text!r}")
    notice = answer()
    assert notice is not None
    return notice.body


async def room_with(
    matrix_bot, people, *names: str, clock: TravelClock
) -> tuple[RunningBot, list[MatrixUser], str]:
    """The bot and people in one room; the first person founds the AG and coordinates it."""
    bot = await matrix_bot(clock=clock)
    users = [await people(name) for name in names]
    founder = users[0]
    room = await founder.create_room(bot.user_id, *(u.user_id for u in users[1:]))
    await founder.wait_joined(room, bot.user_id)
    assert "angelegt" in await ask(founder, room, "!ag anlegen AG Garten")
    for user in users[1:]:
        await user.sync()
        await user.join(room)
    # The joins came before in the timeline: every one of them is a member now.
    assert f"Mitglieder: {len(users)}" in await ask(founder, room, "!ag")
    return bot, users, room


async def the_poll(bot: RunningBot, user: MatrixUser, room: str) -> nio.UnknownEvent:
    """The poll start event the bot sent (once the bot knows it went out)."""
    await user.wait_for(lambda: bool(events(user, room, START)), "the poll start event")
    [start] = events(user, room, START)
    # The outbox reported the delivery, so the bot can map answers to the poll.
    await bot.app.outbox.drain()
    return start


async def test_an_msc3381_poll_round_trip_ends_in_a_decision(matrix_bot, people) -> None:
    clock = TravelClock()
    bot, (anna, bernd, carla), room = await room_with(
        matrix_bot, people, "anna", "bernd", "carla", clock=clock
    )

    text = await ask(anna, room, f"!abstimmung {QUESTION} | ja | nein | bis: morgen 18 Uhr | beschluss")
    assert f"Abstimmung Nr. 1: {QUESTION}" in text and "1. ja\n2. nein" in text
    start = await the_poll(bot, anna, room)
    content = start.source["content"]
    poll = content[START]
    assert poll["question"] == {"org.matrix.msc1767.text": f"Nr. 1: {QUESTION}", "body": f"Nr. 1: {QUESTION}"}
    assert poll["kind"] == "org.matrix.msc3381.poll.disclosed" and poll["max_selections"] == 1
    assert poll["answers"] == [
        {"id": "0", "org.matrix.msc1767.text": "ja"},
        {"id": "1", "org.matrix.msc1767.text": "nein"},
    ]
    fallback = f"Nr. 1: {QUESTION}\n1. ja\n2. nein"  # for clients without polls
    assert content["body"] == fallback and content["org.matrix.msc1767.text"] == fallback

    await respond(anna, room, start.event_id, "0")
    await respond(bernd, room, start.event_id, "1")
    await respond(bernd, room, start.event_id, "0", stable=True)  # Bernd changes his mind
    await respond(carla, room, start.event_id, "1", stable=True)
    standing = await ask(carla, room, "!abstimmung 1")
    assert "ja: 2 (67 %)" in standing and "nein: 1 (33 %)" in standing, standing
    assert "Abgestimmt: 3 von 3 Mitgliedern." in standing

    await bot.app.component("scheduler").advance_to(clock.now() + timedelta(days=2))
    end, chart, result = await wait_for_the_end(anna, room)
    assert end.source["content"]["m.relates_to"] == {"rel_type": "m.reference", "event_id": start.event_id}
    assert end.source["content"]["body"] == "Abstimmung Nr. 1 ist beendet."
    assert chart.source["content"]["info"]["mimetype"] == "image/png" and chart.url.startswith("mxc://")
    downloaded = await anna.client.download(mxc=chart.url)
    assert isinstance(downloaded, nio.DownloadResponse) and downloaded.body.startswith(PNG)
    assert f"Ergebnis der Abstimmung Nr. 1: {QUESTION}" in result
    assert "ja: 2 (67 %)" in result and "nein: 1 (33 %)" in result
    assert "Mehrheit für „ja“ (2 von 3 Stimmen)." in result and "Als Beschluss Nr. 1 festgehalten" in result

    listing = await ask(bernd, room, "!beschluesse")
    assert f"{QUESTION} – ja (Abstimmung Nr. 1, 2 von 3 Stimmen)" in listing
    await respond(carla, room, start.event_id, "0")  # too late: nothing changes, nothing is said
    assert "schon beendet" in await ask(carla, room, "!stimme 1: 1")
    assert "ja: 2 (67 %)" in await ask(carla, room, "!abstimmung 1")
    assert len(events(anna, room, END)) == 1 and len(images(anna, room)) == 1


# One AG across Matrix and Telegram ------------------------------------------------------------

TG_GROUP, TOM, UTE = -1001000, 11, 22


async def tg_send(server: FakeTelegramServer, user: int, text: str, count: int = 1) -> list[dict[str, Any]]:
    before = len(server.sent_messages(TG_GROUP))
    server.inject_message(TG_GROUP, user, text)
    return (await server.wait_for_messages(TG_GROUP, before + count, timeout=WAIT))[before:]


async def tg_say(server: FakeTelegramServer, user: int, text: str) -> str:
    [reply] = await tg_send(server, user, text)
    return reply.get("text") or reply.get("caption") or ""


async def test_one_poll_and_one_tally_across_a_matrix_room_and_a_telegram_group(matrix_bot, people) -> None:
    clock = TravelClock()
    bot, (anna, bernd), room = await room_with(matrix_bot, people, "anna", "bernd", clock=clock)
    async with FakeTelegramServer(allowed_updates=Update.ALL_TYPES) as server:
        server.add_user(TOM, "Tom", username="tom")
        server.add_user(UTE, "Ute", username="ute")
        server.add_chat(TG_GROUP, type="supergroup", title="AG Garten (Telegram)")
        server.set_admins(TG_GROUP, [TOM], creator_id=TOM)
        # The Telegram adapter on the same application as the Matrix adapter, as `kuemmerer run`
        # does with both platforms configured.
        config = TelegramSection(
            token="123456:TEST", base_url=server.base_url, poll_timeout=1, rate_limits=False
        )
        telegram = TelegramAdapter(bot.app, config)
        await telegram.start()
        try:
            code = CODE.search(await ask(anna, room, "!ag verknuepfen")).group(0)
            assert "gehört jetzt zu" in await tg_say(server, TOM, f"/ag verknuepfen {code}")
            server.inject_new_members(TG_GROUP, [UTE], by_user_id=TOM)
            before = len(server.sent_messages(TG_GROUP))
            server.inject_message(TG_GROUP, TOM, "/ag")
            await server.wait_for(
                lambda: any(
                    "Mitglieder: 4" in (m.get("text") or "") for m in server.sent_messages(TG_GROUP)[before:]
                ),
                WAIT,
                "the AG with two members in each chat",
            )

            text, native = await tg_send(
                server, TOM, f"/abstimmung {QUESTION} | ja | nein | bis: morgen 18 Uhr | beschluss", 2
            )
            assert f"Abstimmung Nr. 1: {QUESTION}" in text["text"]
            assert [o["text"] for o in native["poll"]["options"]] == ["ja", "nein"]
            # The same poll in the Matrix room: its text and its MSC3381 poll.
            start = await the_poll(bot, anna, room)
            assert start.source["content"][START]["question"]["body"] == f"Nr. 1: {QUESTION}"
            assert any(f"Abstimmung Nr. 1: {QUESTION}" in n.body for n in anna.notices(room))

            poll_id = native["poll"]["id"]
            server.inject_poll_answer(poll_id, TOM, [0])
            server.inject_poll_answer(poll_id, UTE, [1])
            await respond(anna, room, start.event_id, "0")
            await respond(bernd, room, start.event_id, "1", stable=True)
            # Votes again, by command and in the other way: each person still counts once.
            assert "war schon „nein“" in await tg_say(server, UTE, "/stimme 2")
            assert "geändert: „ja“" in await ask(bernd, room, "!stimme 1: ja")
            standing = await ask(anna, room, "!abstimmung 1")
            assert "ja: 3 (75 %)" in standing and "nein: 1 (25 %)" in standing, standing
            assert "Abgestimmt: 4 von 4 Mitgliedern." in standing

            tg_before = len(server.sent_messages(TG_GROUP))
            await bot.app.component("scheduler").advance_to(clock.now() + timedelta(days=2))
            [stop] = await server.wait_for_calls("stopPoll", 1, timeout=WAIT)
            assert stop.params["message_id"] == native["message_id"]
            [tg_result] = (await server.wait_for_messages(TG_GROUP, tg_before + 1, timeout=WAIT))[tg_before:]
            [photo] = server.calls_to("sendPhoto")
            assert isinstance(photo.params["photo"], UploadedFile)
            assert photo.params["photo"].data.startswith(PNG)
            _end, _chart, mx_result = await wait_for_the_end(anna, room)
            for result in (tg_result["caption"], mx_result):
                assert "ja: 3 (75 %)" in result and "nein: 1 (25 %)" in result, result
                assert "Abgestimmt: 4 von 4 Mitgliedern." in result
                assert "Als Beschluss Nr. 1 festgehalten" in result

            decision = f"{QUESTION} – ja (Abstimmung Nr. 1, 3 von 4 Stimmen)"
            assert decision in await tg_say(server, UTE, "/beschluesse")
            assert decision in await ask(bernd, room, "!beschluesse")
        finally:
            await telegram.stop()
