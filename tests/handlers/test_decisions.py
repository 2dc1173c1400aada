"""/beschluss and /beschluesse through the router, asserting on replies and rows."""

from __future__ import annotations

import pytest

from storage.models import Decision, DecisionStatus
from tests.harness import BotHarness


@pytest.fixture
async def group(bot: BotHarness) -> BotHarness:
    await bot.setup_group()
    return bot


async def test_record_show_replace_revoke(group: BotHarness) -> None:
    bot = group
    reply = await bot.say("/beschluss Treffen vierteljährlich, reihum #treffen")
    assert reply.startswith("✅ Beschluss Nr. 1 festgehalten (21.11.2026)")
    assert "Treffen vierteljährlich, reihum #treffen" in reply
    await bot.say("/beschluss Kein gemeinsames Großprojekt")
    replaced = await bot.say("/beschluss ersetzen 1 Treffen zweimonatlich #treffen")
    assert "Nr. 1" in replaced and "Nr. 3" in replaced
    revoked = await bot.say("/beschluss aufheben 2 Die Lage hat sich geändert")
    assert "aufgehoben" in revoked and "Die Lage hat sich geändert" in revoked

    shown = await bot.say("/beschluss 1")
    assert "ersetzt" in shown and "Treffen vierteljährlich" in shown and "Nr. 3" in shown
    newest = await bot.say("/beschluss 3")
    assert "Frühere Fassungen" in newest and "Nr. 1" in newest and "#treffen" in newest
    revoked_view = await bot.say("/beschluss Nr. 2")
    assert "aufgehoben" in revoked_view and "Die Lage hat sich geändert" in revoked_view

    listing = await bot.say("/beschluesse")
    assert "Treffen zweimonatlich" in listing
    assert "Treffen vierteljährlich" not in listing and "Großprojekt" not in listing
    rows = await bot.rows(Decision, order_by=[Decision.number])
    assert [r.status for r in rows] == [
        DecisionStatus.REPLACED,
        DecisionStatus.REVOKED,
        DecisionStatus.ACTIVE,
    ]


async def test_reply_without_text_records_the_replied_message(group: BotHarness) -> None:
    bot = group
    reply = await bot.say(
        "/beschluss", reply_to=("Wir laden die Kommunen zum nächsten Treffen ein.", "bernd")
    )
    assert "Beschluss Nr. 1" in reply
    [decision] = await bot.rows(Decision)
    assert decision.text == "Wir laden die Kommunen zum nächsten Treffen ein."


async def test_reply_to_message_without_text(group: BotHarness) -> None:
    reply = await group.say("/beschluss", reply_to=("", "bernd"))
    assert "keinen Text" in reply
    assert await group.count(Decision) == 0


async def test_non_koordination_is_refused_but_may_read(group: BotHarness) -> None:
    bot = group
    await bot.say("/beschluss Erster Beschluss")
    refused = await bot.say("/beschluss Ich beschließe etwas", user="bernd")
    assert refused == "Das darf nur die Koordination. Deine Rolle in dieser AG: Mitglied."
    assert await bot.count(Decision) == 1
    assert "Erster Beschluss" in await bot.say("/beschluss 1", user="bernd")
    assert "Erster Beschluss" in await bot.say("/beschluesse", user="bernd")
    assert "Koordination" in await bot.say("/beschluss aufheben 1 weil", user="bernd")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/beschluss", "Da fehlt der Text"),
        ("/beschluss ersetzen", "Nummer"),
        ("/beschluss ersetzen x neuer Text", "„x“ ist keine"),
        ("/beschluss ersetzen 1", "Da fehlt der Text"),
        ("/beschluss ersetzen 99 Neuer Text", "Nr. 99 gibt es in dieser AG nicht"),
        ("/beschluss aufheben 1", "Begründung"),
        ("/beschluss aufheben 99 weil", "Nr. 99 gibt es"),
        ("/beschluss 0", "Nr. 0 gibt es"),
        ("/beschluss 99999999999999", "Nr. 99999999999999 gibt es"),
        ("/beschluss ersetzen 3000000000 Text", "Nr. 3000000000 gibt es"),
        ("/beschluss aufheben -1 weil", "„-1“ ist keine"),
        ("/beschluesse seite 7", "Seite 7 gibt es nicht; es gibt nur 1 Seite."),
        ("/beschluesse nichtvorhanden", "Keine gültigen Beschlüsse"),
    ],
)
async def test_malformed_input_gets_a_clear_message(group: BotHarness, command: str, expected: str) -> None:
    bot = group
    await bot.say("/beschluss Bestehender Beschluss")
    before = await bot.count(Decision)
    reply = await bot.say(command)
    assert expected in reply, reply
    assert "Fehlercode" not in reply
    assert await bot.count(Decision) == before


async def test_usage_line_is_shown_for_usage_errors(group: BotHarness) -> None:
    reply = await group.say("/beschluss ersetzen")
    assert "Verwendung: /beschluss ersetzen <Nr> <neuer Text>" in reply
    assert "/hilfe beschluss" in reply


async def test_ten_thousand_characters_are_refused(group: BotHarness) -> None:
    reply = await group.say("/beschluss " + "Ä" * 10_000)
    assert "zu lang" in reply and "10000" in reply.replace(".", "")
    assert await group.count(Decision) == 0


@pytest.mark.parametrize(
    "text",
    [
        "Wir feiern 🎉🎉 mit 👩🏽‍💻 und 🇩🇪",
        "<script>alert('x')</script> & <b>fett</b>",
        "**nicht fett** __nicht kursiv__ `kein code` [link](http://x) {name} {{}}",
        "Zeile eins\nZeile zwei\n\n\n\nZeile drei",
        "‮umgedreht",
    ],
)
async def test_special_characters_are_kept_and_escaped(group: BotHarness, text: str) -> None:
    bot = group
    reply = await bot.say(f"/beschluss {text}")
    assert "Beschluss Nr. 1" in reply
    [decision] = await bot.rows(Decision)
    html = bot.last_html()
    assert "<script>" not in html and "<b>fett</b>" not in html
    if "<script>" in text:
        assert "&lt;script&gt;" in html and "&amp;" in html
    if "**nicht fett**" in text:
        assert decision.text == text and "**nicht fett**" in html and "{name}" in html
    assert "\u202e" not in decision.text


async def test_listing_pages_have_buttons_and_a_typed_fallback(group: BotHarness) -> None:
    bot = group
    for n in range(1, 24):
        await bot.say(f"/beschluss Beschluss Nummer {n} #alle")
    first = await bot.say("/beschluesse")
    assert "23 gültige Beschlüsse" in first and "Seite 1 von 3" in first
    assert "/beschluesse seite 2" in first
    buttons = bot.last.buttons[0]
    assert [b.command for b in buttons] == ["/beschluesse seite 2"]
    second = await bot.say(buttons[0].command)
    assert "Seite 2 von 3" in second
    assert [b.command for b in bot.last.buttons[0]] == ["/beschluesse seite 1", "/beschluesse seite 3"]
    tagged = await bot.say("/beschluesse #alle seite 3")
    assert "Seite 3 von 3" in tagged and "Beschluss Nummer 1" in tagged
    assert "Seite 4 gibt es nicht; es gibt nur 3 Seiten." in await bot.say("/beschluesse seite 4")
    await bot.say("/ag sprache en")
    assert "There is no page 4; there are only 3 pages." in await bot.say("/decisions page 4")


async def test_search_by_word_and_tag(group: BotHarness) -> None:
    bot = group
    await bot.say("/beschluss Treffen in Essen #ort")
    await bot.say("/beschluss Umfrage mit gemeinsamer Definition von Bürgerengagement #umfrage")
    found = await bot.say("/beschluesse buergerengagement")
    assert "1 Beschluss zu „buergerengagement“" in found and "Umfrage" in found
    assert "Essen" in await bot.say("/beschluesse #ORT")


async def test_english_aliases_and_prefixes(group: BotHarness) -> None:
    bot = group
    assert "Beschluss Nr. 1" in await bot.say("!decision Ein Beschluss")
    assert "Ein Beschluss" in await bot.say("/DECISIONS")
    assert "Ein Beschluss" in await bot.say("!beschlüsse")
