"""Data protection end to end over HTTP (issue 14): the real adapter and PTB against the fake Bot
API server.

Bernd asks for his data in the group and is pointed to the private chat (a deep link); there he
gets the summary and the JSON file, then erases his data with the confirmation code. Afterwards
no table holds his Telegram id, name or the text of his private reminder, and the AG's register
is intact.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.core.ports import TravelClock
from storage.models import Decision
from tests.adapters.telegram.conftest import ADMIN, GROUP, MEMBER
from tests.adapters.telegram.test_e2e_polls import WAIT, members, say, send
from tests.fakes.telegram_api import FakeTelegramServer, UploadedFile
from tests.privacy_scan import Needles, traces

REMINDER = "Impfpass mitbringen"


def documents(server: FakeTelegramServer, chat: int) -> list[dict[str, Any]]:
    return [m for m in server.sent_messages(chat) if "document" in m]


async def test_a_member_sees_exports_and_erases_his_data(server, make_bot, database) -> None:
    running = await make_bot(clock=TravelClock())
    await members(server)
    await say(server, GROUP, ADMIN, "/beschluss Wir treffen uns vierteljährlich.")
    await say(server, GROUP, ADMIN, "/rolle bernd koordination")
    assert "Beschluss Nr. 2" in await say(server, GROUP, MEMBER, "/beschluss Protokolle sind intern.")
    assert "Erinnerung Nr. 1" in await say(server, MEMBER, MEMBER, f"/erinnerung morgen 9 Uhr: {REMINDER}")

    # In the group: only a pointer, with a deep link into the private chat.
    [pointer] = await send(server, GROUP, MEMBER, "/meine_daten")
    assert "nur im privaten Chat" in pointer["text"]
    [[button]] = pointer["reply_markup"]["inline_keyboard"]
    assert button["url"].endswith("?start=datenschutz-1")

    # Following the link: the summary and the file.
    [summary] = await send(server, MEMBER, MEMBER, "/start datenschutz-1")
    assert "Deine Daten bei Kümmerer" in summary["text"]
    assert "Protokolle sind intern." in summary["text"]
    await server.wait_for(lambda: len(documents(server, MEMBER)) == 1, WAIT, "the JSON file")
    [call] = [c for c in server.calls_to("sendDocument") if str(c.params["chat_id"]) == str(MEMBER)]
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile) and upload.filename.endswith(".json")
    document = json.loads(upload.data)
    assert document["person"] == {
        "plattform": "telegram",
        "kennung": str(MEMBER),
        "name": "Bernd",
        "benutzername": "bernd",
        "verknuepfte_konten": [],
    }
    assert [e["text"] for e in document["abschnitte"]["erinnerungen"]] == [REMINDER]

    # Erasing, with the code from the question.
    needles = Needles(
        strings=frozenset({REMINDER}), words=frozenset({"Bernd"}), values=frozenset({str(MEMBER)})
    )
    assert len(await traces(database, needles, skip={"platform_state"})) >= 6  # the scan sees him
    [ask] = await send(server, MEMBER, MEMBER, "/daten_loeschen")
    match = re.search(r"/daten_loeschen ja (\d{4})", ask["text"])
    assert match, ask["text"]
    [done] = await send(server, MEMBER, MEMBER, f"/daten_loeschen ja {match.group(1)}")
    assert "Deine Daten sind gelöscht" in done["text"]
    await running.app.outbox.drain()
    # The only row that may name his id is the adapter's own update checkpoint (a number).
    found = await traces(database, needles, skip={"platform_state"})
    assert found == set(), found
    async with database.transaction() as session:
        from sqlalchemy import select

        texts = list(await session.scalars(select(Decision.text).order_by(Decision.number)))
    assert texts == ["Wir treffen uns vierteljährlich.", "Protokolle sind intern."]
