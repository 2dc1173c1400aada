"""Data protection on a real Synapse (issue 14).

Bernd asks for his data in the AG's room and gets a pointer whose reaction opens a direct room;
there he gets the summary and the JSON file (``m.file``), then erases his data with the code.
Afterwards no table holds his Matrix id or name (the adapter's map of direct rooms included),
the bot has left the direct room, and the AG's register is intact.
"""

from __future__ import annotations

import json
import re

import nio
from sqlalchemy import select

from bot.core.ports import TravelClock
from storage.models import Decision
from tests.adapters.matrix.test_e2e_polls import ask, room_with
from tests.adapters.matrix.test_e2e_surveys import direct_room, download, files
from tests.privacy_scan import Needles, traces


async def test_a_member_sees_exports_and_erases_his_data(matrix_bot, people, database) -> None:
    bot, (anna, bernd), room = await room_with(matrix_bot, people, "anna", "bernd", clock=TravelClock())
    assert "Beschluss Nr. 1" in await ask(anna, room, "!beschluss Wir treffen uns vierteljährlich.")
    await ask(anna, room, f"!rolle {bernd.user_id} koordination")
    assert "Beschluss Nr. 2" in await ask(bernd, room, "!beschluss Protokolle sind intern.")

    pointer = await ask(bernd, room, "!meine_daten")
    assert "nur im privaten Chat" in pointer and "1️⃣" in pointer
    await bot.app.outbox.drain()  # the bot knows what the reaction means once the message is out
    event_id = bernd.notices(room)[-1].event_id
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": "1️⃣"}}
    response = await bernd.client.room_send(room, "m.reaction", reaction)
    assert isinstance(response, nio.RoomSendResponse), response

    dm = await direct_room(bernd, room)  # his brief came first (his first message after a decision)

    def summaries() -> list[str]:
        return [n.body for n in bernd.notices(dm) if "Deine Daten bei Kümmerer" in n.body]

    await bernd.wait_for(lambda: bool(summaries()), "the summary of his data")
    assert "Protokolle sind intern." in summaries()[0]
    await bernd.wait_for(lambda: bool(files(bernd, dm)), "the JSON file")
    [event] = files(bernd, dm)
    document = json.loads(await download(bernd, event))
    assert document["person"]["kennung"] == bernd.user_id
    assert [e["text"] for e in document["abschnitte"]["beschluesse"]] == ["Protokolle sind intern."]

    needles = Needles(strings=frozenset({bernd.user_id}), words=frozenset({"bernd"}))
    assert await traces(database, needles)  # the scan sees him (the direct room map too)
    question = await ask(bernd, dm, "!daten_loeschen")
    match = re.search(r"/daten_loeschen ja (\d{4})", question)
    assert match, question
    done = await ask(bernd, dm, f"!daten_loeschen ja {match.group(1)}")
    assert "Deine Daten sind gelöscht" in done

    # The bot leaves the direct room; then nothing in the database names him.
    def left() -> bool:
        members = bernd.client.rooms[dm].users if dm in bernd.client.rooms else {}
        return bot.user_id not in members

    await bernd.wait_for(left, "the bot leaving the direct room")
    await bot.app.outbox.drain()
    await bot.adapter._save_position()
    assert await traces(database, needles) == set()
    async with database.transaction() as session:
        texts = list(await session.scalars(select(Decision.text).order_by(Decision.number)))
    assert texts == ["Wir treffen uns vierteljährlich.", "Protokolle sind intern."]
