"""``/konto``: one person's accounts linked with a code, then seen and erased together."""

from __future__ import annotations

import json
import re

from storage.models import AccountCode, Decision, LinkAttempt, Person
from storage.models.person import FORMER_NAME
from tests.harness import BotHarness
from tests.privacy_scan import Needles, traces

CODE = re.compile(r"/konto verknuepfen ([A-Z2-9]{4}-[A-Z2-9]{4})")


async def linked(bot: BotHarness) -> None:
    """mia (the AG's second koordination) links her second account "mia2" to it."""
    await bot.setup_group("AG Bildung")
    await bot.send("Hallo", user="mia")
    await bot.say("/rolle mia koordination")
    await bot.say("/beschluss Protokolle sind intern.", user="mia")
    await bot.send("/erinnerung morgen 9 Uhr: Tee", user="mia2", private=True)
    assert "mit keinem anderen verknüpft" in await bot.say("/konto", user="mia", private=True)
    reply = await bot.say("/konto verknuepfen", user="mia", private=True)
    match = CODE.search(reply)
    assert match, reply
    assert bot.last.secret  # the outbox forgets the code once delivered
    assert "ist der Code dieses Kontos" in await bot.say(
        f"/konto verknuepfen {match.group(1)}", user="mia", private=True
    )
    done = await bot.say(f"/konto verknuepfen {match.group(1)}", user="mia2", private=True)
    assert "Verknüpft" in done and "Mia2" in done and "Mia" in done


async def test_linking_needs_the_code_from_the_other_account(bot: BotHarness) -> None:
    await linked(bot)
    reply = await bot.say("/konto", user="mia", private=True)
    assert "mit 1 weiteren verknüpft" in reply and "Mia2" in reply
    people = {p.username: p for p in await bot.rows(Person)}
    assert people["mia"].identity_id == people["mia2"].identity_id == people["mia"].id
    assert await bot.count(AccountCode) == 0  # redeemed codes are gone
    # A used code does not work twice, and a wrong one counts against the limit.
    reply = await bot.say("/konto verknuepfen ABCD-EFGH", user="ben", private=True)
    assert "kenne ich nicht" in reply and "Noch 4 Versuche" in reply
    assert await bot.count(LinkAttempt) == 1
    assert "kein Code" in await bot.say("/konto verknuepfen hallo", user="ben", private=True)


async def test_meine_daten_and_daten_loeschen_cover_linked_accounts(bot: BotHarness) -> None:
    await linked(bot)
    summary, _file_caption = await bot.send("/meine_daten", user="mia2", private=True)
    assert "AG Bildung: Koordination" in summary  # mia's membership, named
    files = [m for m in bot.sent_to("mia2") if m.attachment is not None]
    document = json.loads(files[-1].attachment.data)
    assert document["person"]["verknuepfte_konten"] == [
        {"plattform": "console", "kennung": "id-mia", "name": "Mia"}
    ]
    sections = document["abschnitte"]
    assert [e["text"] for e in sections["beschluesse"]] == ["Protokolle sind intern."]  # mia's
    assert [e["text"] for e in sections["erinnerungen"]] == ["Tee"]  # mia2's
    assert len(sections["profil"]) == 2
    direct = {e["id"] for e in sections["nachrichten"]}
    assert direct and not direct & {e["id"] for e in sections["nachrichten_erwaehnt"]}

    needles = Needles(strings=frozenset({"id-mia", "Tee"}), words=frozenset({"Mia", "Mia2"}))
    assert await traces(bot.app.db, needles)
    ask = await bot.say("/daten_loeschen", user="mia2", private=True)
    code = re.search(r"/daten_loeschen ja (\d{4})", ask).group(1)
    assert "Deine Daten sind gelöscht" in await bot.say(
        f"/daten_loeschen ja {code}", user="mia2", private=True
    )
    assert await traces(bot.app.db, needles) == set()
    names = sorted(p.display_name for p in await bot.rows(Person))
    assert names == ["Anna", FORMER_NAME, FORMER_NAME]
    [decision] = await bot.rows(Decision, Decision.text == "Protokolle sind intern.")
    assert decision.author_id is not None


async def test_unlinking_and_the_group_pointer(bot: BotHarness) -> None:
    await linked(bot)
    assert "nicht mehr verknüpft" in await bot.say("/konto trennen", user="mia2", private=True)
    assert "mit keinem anderen verknüpft" in await bot.say("/konto", user="mia", private=True)
    assert all(p.identity_id is None for p in await bot.rows(Person))
    reply = await bot.say("/konto verknuepfen", user="mia")
    assert "nur im privaten Chat" in reply and "/konto verknuepfen" in reply
    assert await bot.count(AccountCode) == 0


async def test_a_third_account_joins_the_group(bot: BotHarness) -> None:
    await linked(bot)
    reply = await bot.say("/konto verknuepfen", user="mia3", private=True)
    code = CODE.search(reply).group(1)
    done = await bot.say(f"/konto verknuepfen {code}", user="mia2", private=True)
    assert "Mia3" in done and "Mia2" in done and "Mia" in done
    [mia] = await bot.rows(Person, Person.username == "mia")
    assert {p.identity_id for p in await bot.rows(Person, Person.username.like("mia%"))} == {mia.id}
