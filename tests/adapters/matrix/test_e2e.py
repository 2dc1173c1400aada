"""The Matrix adapter against a real Synapse: users are scripted with matrix-nio."""

from __future__ import annotations

from datetime import timedelta

import nio
from sqlalchemy import select

from bot.core.ports import TravelClock
from storage.models import Decision, Membership, Person, Role
from tests.adapters.matrix.conftest import stop, until


async def rows(database, model):
    async with database.transaction() as session:
        return list(await session.scalars(select(model)))


async def test_invite_commands_permissions_and_joins(matrix_bot, people, database) -> None:
    bot = await matrix_bot()
    anna = await people("anna")
    room = await anna.create_room(bot.user_id)
    await anna.wait_joined(room, bot.user_id)

    created = await anna.command(room, "!ag anlegen AG Garten")
    assert "AG Garten ist als AG angelegt" in created
    recorded = await anna.command(room, "!beschluss Wir gießen reihum #garten")
    assert "Beschluss Nr. 1" in recorded
    listing = await anna.command(room, "!beschluesse")
    assert "Wir gießen reihum" in listing
    formatted = anna.notices(room)[-1].formatted_body
    assert "<ul><li>" in formatted

    bernd = await people("bernd")
    await anna.client.room_invite(room, bernd.user_id)
    await bernd.sync()
    await bernd.join(room)
    refused = await bernd.command(room, "!beschluss Ich will auch")
    assert refused == "Das darf nur die Koordination. Deine Rolle in dieser AG: Mitglied."
    assert len(await rows(database, Decision)) == 1
    # Bernd's join reached the core as a join event: he is a member of the AG.
    await until(lambda: True, "")
    people_rows = {p.external_id: p for p in await rows(database, Person)}
    assert bernd.user_id in people_rows
    member = [m for m in await rows(database, Membership) if m.person_id == people_rows[bernd.user_id].id]
    assert member and member[0].role is Role.MITGLIED


async def test_slash_commands_and_replies(matrix_bot, people, database) -> None:
    bot = await matrix_bot()
    anna = await people("anna")
    room = await anna.create_room(bot.user_id)
    await anna.wait_joined(room, bot.user_id)
    await anna.command(room, "/ag anlegen AG")
    original = await anna.send(room, "Wir treffen uns jeden zweiten Dienstag.")
    reply = await anna.command(room, "> <@x> Wir treffen uns\n\n!beschluss", reply_to=original)
    assert "Beschluss Nr. 1" in reply
    [decision] = await rows(database, Decision)
    assert decision.text == "Wir treffen uns jeden zweiten Dienstag."


async def test_restart_rehandles_nothing(matrix_bot, people, database) -> None:
    bot = await matrix_bot()
    anna = await people("anna")
    room = await anna.create_room(bot.user_id)
    await anna.wait_joined(room, bot.user_id)
    await anna.command(room, "!ag anlegen AG")
    await anna.command(room, "!beschluss Einmal festgehalten")
    await stop(bot)
    again = await matrix_bot()
    await until(lambda: again.adapter.synced.is_set(), "the first sync after the restart")
    await anna.command(room, "!beschluesse")
    assert [d.text for d in await rows(database, Decision)] == ["Einmal festgehalten"]
    assert sum("festgehalten (" in n for n in await anna.wait_for_notices(room, 3)) == 1
    assert again.adapter.client.device_id == bot.adapter.client.device_id  # no new device


async def test_a_burst_while_offline_loses_nothing(matrix_bot, people, database) -> None:
    bot = await matrix_bot()
    anna = await people("anna")
    room = await anna.create_room(bot.user_id)
    await anna.wait_joined(room, bot.user_id)
    await anna.command(room, "!ag anlegen AG")
    await stop(bot)
    for n in range(120):  # more than one sync timeline holds
        await anna.send(room, f"!beschluss Beschluss {n}")
    await matrix_bot()
    await until(lambda: False, "", timeout=0) if False else None
    await anna.wait_for_notices(room, 121, timeout=60)
    assert sorted(d.number for d in await rows(database, Decision)) == list(range(1, 121))


async def test_direct_message_is_created_once_and_reused(matrix_bot, people) -> None:
    from bot.core.events import ChatKind, ChatRef, OutgoingMessage, Platform
    from bot.core.markup import Markup

    bot = await matrix_bot()
    anna = await people("anna")
    chat = ChatRef(Platform.MATRIX, anna.user_id, ChatKind.PRIVATE)
    await bot.app.outbox.send_now([OutgoingMessage(chat, Markup().line("Erste private Nachricht"))])
    await bot.app.outbox.drain()
    await anna.wait_for(lambda: bool(anna.client.invited_rooms), "the invitation")
    [dm] = list(anna.client.invited_rooms)
    await anna.join(dm)
    await bot.app.outbox.send_now([OutgoingMessage(chat, Markup().line("Zweite private Nachricht"))])
    bodies = await anna.wait_for_notices(dm, 2)
    assert bodies[-1] == "Zweite private Nachricht"
    assert len(anna.client.rooms) == 1  # reused, not a second room
    # A private command answered in the same room.
    reply = await anna.command(dm, "!hilfe")
    assert "Kümmerer" in reply


async def test_reaction_works_as_a_button(matrix_bot, people) -> None:
    bot = await matrix_bot()
    anna = await people("anna")
    room = await anna.create_room(bot.user_id)
    await anna.wait_joined(room, bot.user_id)
    await anna.command(room, "!ag anlegen AG")
    for n in range(12):
        await anna.command(room, f"!beschluss Beschluss {n}")
    listing = await anna.command(room, "!beschluesse")
    assert "1️⃣ Weiter ▶" in listing
    event_id = anna.notices(room)[-1].event_id
    before = len(anna.notices(room))
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": "1️⃣"}}
    response = await anna.client.room_send(room, "m.reaction", reaction)
    assert isinstance(response, nio.RoomSendResponse)
    bodies = await anna.wait_for_notices(room, before + 1)
    assert "Seite 2 von 2" in bodies[before]


async def test_encrypted_room_gets_one_notice_without_encryption_support(matrix_bot, people) -> None:
    bot = await matrix_bot(encryption="off")
    anna = await people("anna")
    encryption = {
        "type": "m.room.encryption",
        "state_key": "",
        "content": {"algorithm": "m.megolm.v1.aes-sha2"},
    }
    room = await anna.create_room(bot.user_id, initial_state=[encryption])
    await anna.wait_joined(room, bot.user_id)
    for _ in range(2):
        fake = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgA",
            "device_id": "X",
            "sender_key": "k",
            "session_id": "s",
        }
        await anna.send_plain(room, "m.room.encrypted", fake)
    bodies = await anna.wait_for_notices(room, 1)
    assert "verschlüsselt" in bodies[0]
    # An unencrypted command is still answered, and the notice came only once.
    await anna.send_plain(room, "m.room.message", {"msgtype": "m.text", "body": "!hilfe"})
    bodies = await anna.wait_for_notices(room, 2)
    assert sum("verschlüsselt" in b for b in bodies) == 1


async def test_invites_from_strangers_are_declined(matrix_bot, people) -> None:
    anna = await people("anna")
    bot = await matrix_bot(allowed_inviters=["@nobody:localhost"])
    room = await anna.create_room(bot.user_id)
    await until(lambda: bot.adapter.synced.is_set(), "a sync")
    await anna.wait_for(
        lambda: bot.user_id not in anna.client.rooms[room].invited_users, "the invitation to be declined"
    )
    assert bot.user_id not in anna.client.rooms[room].users


async def test_poll_responses_reach_the_core(matrix_bot, people) -> None:
    from bot.core.events import PollAnswered

    bot = await matrix_bot()
    seen: list[PollAnswered] = []
    original = bot.app.handle

    async def recording(event, **kwargs):
        if isinstance(event, PollAnswered):
            seen.append(event)
        await original(event, **kwargs)

    bot.app.handle = recording
    anna = await people("anna")
    room = await anna.create_room(bot.user_id)
    await anna.wait_joined(room, bot.user_id)
    poll = await anna.send(room, "Stellvertretend für eine Umfrage")
    first = await anna.client.room_send(
        room,
        "org.matrix.msc3381.poll.response",
        {
            "m.relates_to": {"rel_type": "m.reference", "event_id": poll},
            "org.matrix.msc3381.poll.response": {"answers": ["1"]},
        },
    )
    second = await anna.client.room_send(
        room,
        "m.poll.response",
        {"m.relates_to": {"rel_type": "m.reference", "event_id": poll}, "m.selections": ["0", "2"]},
    )
    assert isinstance(first, nio.RoomSendResponse) and isinstance(second, nio.RoomSendResponse), (
        first,
        second,
    )
    await until(lambda: len(seen) == 2, "two poll answers")
    assert [(e.poll_id, e.option_ids) for e in seen] == [(poll, (1,)), (poll, (0, 2))]


async def test_restarting_synapse_loses_no_outgoing_message(matrix_bot, tmp_path) -> None:
    from bot.core.events import ChatKind, ChatRef, OutgoingMessage, Platform
    from bot.core.markup import Markup
    from tests.adapters.matrix.conftest import MatrixUser
    from tests.fakes.synapse import SynapseServer

    async with SynapseServer(tmp_path / "own-synapse") as server:
        bot = await matrix_bot(server)
        anna = MatrixUser(await server.client_for("anna"))
        try:
            await anna.sync()
            room = await anna.create_room(bot.user_id)
            await anna.wait_joined(room, bot.user_id)
            await anna.command(room, "!ag anlegen AG")
            await server.astop()
            chat = ChatRef(Platform.MATRIX, room, ChatKind.GROUP)
            await bot.app.outbox.send_now(
                [OutgoingMessage(chat, Markup().line(f"Während des Ausfalls {n}")) for n in range(5)]
            )
            await server.astart()
            bodies = await anna.wait_for_notices(room, 6, timeout=60)
            assert bodies[1:] == [f"Während des Ausfalls {n}" for n in range(5)]
            # The sync loop reconnected, too: commands are answered again.
            assert "Beschluss Nr. 1" in await anna.command(room, "!beschluss Nach dem Neustart")
            await bot.app.outbox.drain()
            assert len(anna.notices(room)) == 7  # nothing twice
        finally:
            await stop(bot)
            await anna.client.close()


async def test_invitation_waiting_at_a_restart(matrix_bot, people) -> None:
    anna = await people("anna")
    # The bot is invited while it is not running.
    bot = await matrix_bot()
    await stop(bot)
    room = await anna.create_room(bot.user_id)
    fresh = await matrix_bot()
    await anna.wait_joined(room, fresh.user_id)
    assert "AG Garten ist als AG angelegt" in await anna.command(room, "!ag anlegen AG Garten")


async def test_encrypted_room_with_the_e2e_extra(matrix_bot, synapse_server, tmp_path) -> None:
    import pytest

    from tests.adapters.matrix.conftest import MatrixUser, unique

    if not nio.crypto.ENCRYPTION_ENABLED:
        pytest.skip("the e2e extra (python-olm) is not installed")
    bot = await matrix_bot()
    localpart, password = unique("anna"), "anna-password"
    await synapse_server.aregister_user(localpart, password)
    store = tmp_path / "anna-store"
    store.mkdir()
    client = nio.AsyncClient(
        synapse_server.base_url,
        synapse_server.user_id(localpart),
        store_path=str(store),
        config=nio.AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
    )
    anna = MatrixUser(client)
    try:
        assert isinstance(await client.login(password, device_name="anna-phone"), nio.LoginResponse)
        await anna.sync()
        encryption = {
            "type": "m.room.encryption",
            "state_key": "",
            "content": {"algorithm": "m.megolm.v1.aes-sha2"},
        }
        room = await anna.create_room(bot.user_id, initial_state=[encryption])
        await anna.wait_joined(room, bot.user_id)
        reply = await anna.command(room, "!ag anlegen AG Vertraulich")
        assert "AG Vertraulich ist als AG angelegt" in reply
        [notice] = [n for n in anna.notices(room) if "Vertraulich" in n.body]
        assert notice.decrypted  # the answer itself was encrypted
        assert not any("verschlüsselt" in n.body for n in anna.notices(room))
    finally:
        await client.close()


async def test_a_reminder_is_set_and_fires_in_the_room(matrix_bot, people) -> None:
    """Issue 10 on a real Synapse: a recurring German reminder, confirmed and fired at its time."""
    clock = TravelClock()
    bot = await matrix_bot(clock=clock)
    anna = await people("anna")
    room = await anna.create_room(bot.user_id)
    await anna.wait_joined(room, bot.user_id)
    await anna.command(room, "!ag anlegen AG Garten")
    confirmed = await anna.command(room, "!erinnerung täglich 9 Uhr: Tomaten gießen")
    assert "Tomaten gießen" in confirmed and "täglich" in confirmed
    before = len(anna.notices(room))
    await bot.app.component("scheduler").advance_to(clock.now() + timedelta(days=1, minutes=1))
    bodies = await anna.wait_for_notices(room, before + 1)
    assert "Tomaten gießen" in bodies[before] and "⏰" in bodies[before]
