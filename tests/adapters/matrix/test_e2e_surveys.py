"""Surveys on a real Synapse (issue 12): the Engagement-Erhebung answered in direct messages.

The coordinator starts the survey in the AG's room; the bot invites every member to a direct room
it creates and writes the invitation there. Buttons are reactions on Matrix: Carla opens the
survey with the invitation's reaction and answers for a foundation (indirect funding, counts)
partly with reactions, partly typed; Bernd opens it by typing ``!umfrage weiter`` and answers as a
person with an activity that is not voluntary, is told so at once, and answers the criterion with
a reaction. After the deadline the coordinator gets the result and its chart (``m.image``) in the
room and both export files as ``m.file`` in her direct room; they are downloaded from the media
repository and checked like on Telegram.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import nio

from bot.adapters.matrix.messenger import BUTTON_KEYS
from bot.core.ports import TravelClock
from tests.adapters.matrix.conftest import MatrixUser, RunningBot
from tests.adapters.matrix.test_e2e_polls import PNG, WAIT, ask, images, room_with
from tests.adapters.telegram.test_e2e_surveys import (
    DUTY,
    FUNDING,
    HOURS_TYPED,
    MONEY_TYPED,
    NOT_VOLUNTARY,
    ORGANISATION,
    START,
    XLSX_MIME,
    check_csv,
    check_xlsx,
)


async def direct_room(user: MatrixUser, *known: str) -> str:
    """Join the direct room the bot invited the user to; return its id."""

    def invited() -> list[str]:
        return [r for r in user.client.invited_rooms if r not in known]

    await user.wait_for(lambda: bool(invited()), "the bot's direct message")
    [dm] = invited()
    await user.join(dm)
    return dm


def key_for(user: MatrixUser, dm: str, label: str) -> tuple[str, str]:
    """The reaction key of the button starting with ``label`` on the bot's last message with
    buttons in the room (listed as ``1️⃣ Label`` lines), and that message's event id."""
    for notice in reversed(user.notices(dm)):
        lines = [line for line in notice.body.splitlines() if line.startswith(BUTTON_KEYS)]
        if not lines:
            continue
        keys = [key for key in BUTTON_KEYS for line in lines if line.startswith(f"{key} {label}")]
        assert len(keys) == 1, (label, lines)
        return keys[0], notice.event_id
    raise AssertionError(f"no buttons in {dm}")


async def turn(bot: RunningBot, user: MatrixUser, dm: str, answer: str, expect: str) -> list[str]:
    """One step in the direct room: a typed answer, or ``[Label]`` to react with the key of that
    button. Returns the bot's notices after it, up to the first one that contains ``expect``."""
    before = len(user.notices(dm))
    if answer.startswith("["):
        # The bot stores which reaction means what once its message is out.
        await bot.app.outbox.drain()
        key, event_id = key_for(user, dm, answer.strip("[]"))
        reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        response = await user.client.room_send(dm, "m.reaction", reaction)
        assert isinstance(response, nio.RoomSendResponse), response
    else:
        await user.send(dm, answer)

    def found() -> int | None:
        later = user.notices(dm)[before:]
        return next((i for i, n in enumerate(later) if expect in n.body), None)

    await user.wait_for(lambda: found() is not None, f"{expect!r} after {answer!r}", WAIT)
    end = found()
    assert end is not None
    return [n.body for n in user.notices(dm)[before : before + end + 1]]


def files(user: MatrixUser, room: str) -> list[nio.RoomMessageFile]:
    return [e for r, e in user.seen if r == room and isinstance(e, nio.RoomMessageFile)]


async def download(user: MatrixUser, event: Any) -> bytes:
    response = await user.client.download(mxc=event.url)
    assert isinstance(response, nio.DownloadResponse), response
    return response.body


async def test_engagement_survey_in_direct_messages_with_reactions_chart_and_exports(
    matrix_bot, people
) -> None:
    clock = TravelClock()
    bot, (anna, bernd, carla), room = await room_with(
        matrix_bot, people, "anna", "bernd", "carla", clock=clock
    )
    announcement = await ask(anna, room, "!" + START.removeprefix("/"))
    assert "Umfrage Nr. 1 der AG Garten: Engagement-Erhebung" in announcement
    # Every member (the coordinator, too) is invited to a direct room the bot creates.
    dms = {user.user_id: await direct_room(user, room) for user in (anna, bernd, carla)}
    for user in (anna, bernd, carla):
        [invitation] = await user.wait_for_notices(dms[user.user_id], 1)
        assert "Engagement-Erhebung" in invitation and "1️⃣ 📋 Los geht's" in invitation

    dm = dms[carla.user_id]
    for answer, expect in [
        ("[📋 Los geht's]", "Antwortest du als Person oder für eine Organisation?"),
        ("[Für eine Organisation]", "Wie heißt die Organisation?"),
        (ORGANISATION, "Was für eine Organisation ist es?"),
        ("[Stiftung]", "Beschreibe die Tätigkeit in einem Satz."),
        (FUNDING, "Ist es direktes oder indirektes Engagement?"),
        ("2", "Was wird eingebracht?"),  # indirect, by its number
        ("Geld", "Wie viel Geld wird im Jahr eingebracht (in EUR)?"),
        (MONEY_TYPED, "Dient die Tätigkeit dem Gemeinwohl"),
        ("[Ja]", "Wird die Tätigkeit freiwillig ausgeübt"),
        ("ja", "Findet die Tätigkeit im öffentlichen Raum statt"),
        ("ja", "Ist die Tätigkeit nicht auf Gewinn ausgerichtet?"),
        ("ja", "Wird die Tätigkeit in der Regel gemeinsam mit anderen ausgeübt?"),
        ("[Ja]", "Möchtest du eine weitere Tätigkeit erfassen?"),
        ("nein", "Danke!"),
    ]:
        [*_, reply] = await turn(bot, carla, dm, answer, expect)
    assert "Tätigkeiten: 1, davon zählen 1 als Engagement" in reply

    dm = dms[bernd.user_id]
    for answer, expect in [
        ("!umfrage weiter", "Antwortest du als Person oder für eine Organisation?"),
        ("1", "Beschreibe die Tätigkeit in einem Satz."),
        (DUTY, "Ist es direktes oder indirektes Engagement?"),
        ("direkt", "Was wird eingebracht?"),
        ("Zeit", "Wie viele Stunden im Monat sind es"),
        (HOURS_TYPED, "Wie viele Personen bringen diese Zeit ein?"),
        ("1", "Dient die Tätigkeit dem Gemeinwohl"),
        ("ja", "Wird die Tätigkeit freiwillig ausgeübt"),
    ]:
        await turn(bot, bernd, dm, answer, expect)
    # Told at once why the activity does not count; then the next criterion is asked.
    notice, following = await turn(bot, bernd, dm, "[Nein]", "Findet die Tätigkeit im öffentlichen Raum")
    assert NOT_VOLUNTARY in notice and "/zurueck" in notice
    assert "1️⃣ Ja" in following and "2️⃣ Nein" in following
    for answer, expect in [
        ("ja", "Ist die Tätigkeit nicht auf Gewinn ausgerichtet?"),
        ("ja", "Wird die Tätigkeit in der Regel gemeinsam mit anderen ausgeübt?"),
        ("ja", "Möchtest du eine weitere Tätigkeit erfassen?"),
        ("nein", "Danke!"),
    ]:
        [*_, reply] = await turn(bot, bernd, dm, answer, expect)
    assert "davon zählen 0" in reply and f"„{DUTY}“ zählt nicht: nicht freiwillig" in reply

    # The deadline passes on the travelling clock; the scheduler closes the survey.
    await bot.app.component("scheduler").advance_to(clock.now() + timedelta(days=4))
    await anna.wait_for(
        lambda: any("ist beendet" in n.body for n in anna.notices(room)), "the closing note", WAIT
    )
    assert any("2 von 3 Mitgliedern haben geantwortet" in n.body for n in anna.notices(room))

    result = await ask(anna, room, "!umfrage ergebnis")
    assert "Ergebnis der Umfrage Nr. 1: Engagement-Erhebung" in result, result
    assert "Tätigkeiten: 2 – gezählt: 1, nicht gezählt: 1." in result
    assert "Geld: 5.000 € pro Jahr" in result and "Zeit: 0 Std./Monat" in result
    assert f"{DUTY} – nicht freiwillig" in result
    await anna.wait_for(lambda: bool(images(anna, room)), "the chart", WAIT)
    [chart] = images(anna, room)
    assert chart.source["content"]["info"]["mimetype"] == "image/png"
    assert (await download(anna, chart)).startswith(PNG)

    assert "privat geschickt" in await ask(anna, room, "!umfrage export")
    dm = dms[anna.user_id]
    await anna.wait_for(lambda: len(files(anna, dm)) == 2, "the two export files", WAIT)
    csv_file, xlsx_file = files(anna, dm)
    assert [csv_file.body, xlsx_file.body] == ["umfrage-1.csv", "umfrage-1.xlsx"]
    mimetypes = [f.source["content"]["info"]["mimetype"] for f in (csv_file, xlsx_file)]
    assert mimetypes == ["text/csv", XLSX_MIME]
    rows = check_csv(await download(anna, csv_file))
    check_xlsx(await download(anna, xlsx_file), rows)
    await anna.wait_for(
        lambda: sum("Umfrage Nr. 1: Engagement-Erhebung" in n.body for n in anna.notices(dm)) >= 2,
        "the captions of the files",
        WAIT,
    )
