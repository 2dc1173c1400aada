"""A custom survey (the Raumbedarf example of docs/): imported, answered by three members with a
repeating group and a condition, its results counted per answer with the small-cell rule, and
its export one row per response (CSV and XLSX opened and checked)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook

from bot.core.events import ChatKind, ChatRef, IncomingMessage, OutgoingMessage
from bot.services.survey_template import load_template
from tests.harness import BotHarness

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "umfrage-beispiel.toml"
MEMBERS = ("mia", "kurt", "bodo")


async def dm(bot: BotHarness, user: str, text: str) -> list[str]:
    chat = ChatRef(bot.platform, bot.user(user).external_id, ChatKind.PRIVATE, user)
    before = len(bot.messenger.sent)
    await bot.app.handle(IncomingMessage(chat, bot.user(user), text))
    await bot.settle()
    return [m.markup.plain() for m in bot.messenger.sent[before:] if m.chat.external_id == chat.external_id]


async def answer_all(bot: BotHarness, user: str, answers: list[str]) -> str:
    await dm(bot, user, "/umfrage weiter")
    replies: list[str] = []
    for text in answers:
        replies = await dm(bot, user, text)
    return "\n".join(replies)


def attachments(messages: list[OutgoingMessage], suffix: str) -> list[bytes]:
    return [m.attachment.data for m in messages if m.attachment and m.attachment.filename.endswith(suffix)]


async def test_a_custom_survey_is_counted_per_answer_and_exported_one_row_per_response(
    bot: BotHarness,
) -> None:
    async with bot.app.unit() as unit:
        await unit.services.surveys.import_template(load_template(EXAMPLE.read_text("utf-8")), source="t")
    await bot.setup_group("AG Räume", user="anna")
    for name in MEMBERS:
        await bot.send("Hallo", user=name)
    await bot.send("/umfrage starten raumbedarf bis in 5 Tagen", user="anna")

    # Two rooms: a meeting room (no equipment, skipped with "-") and a hall with equipment.
    done = await answer_all(
        bot,
        "mia",
        [
            "ja",
            "Repair-Café",
            "1",
            "12",
            "-",
            "1.3.2027",
            "150,50 €",
            "ja",
            "Saal",
            "80",
            "1, 3",
            "März 2027",
            "/weiter",
            "nein",
            "Danke!",
        ],
    )
    assert "✅ Danke!" in done
    await answer_all(
        bot, "kurt", ["ja", "Lesepaten", "Besprechung", "6", "2", "15.01.2027", "-", "nein", "-"]
    )
    await answer_all(bot, "bodo", ["nein", "-"])

    result = "\n".join(await bot.send("/umfrage ergebnis 1", user="anna"))
    assert "Antworten: 3 von 4 Mitgliedern." in result
    # Two of three need rooms: a cell of two respondents reads "< 3", the three answers to the
    # first question are shown.
    assert "Ja: < 3" in result and "Nein: < 3" in result
    # Numbers: people per room over three rooms from two respondents -> suppressed.
    assert "Für wie viele Personen?\n• < 3" in result
    # In the template's order, although the first room skipped its equipment.
    assert result.index("Was muss der Raum haben?") < result.index("Ab wann brauchst du den Raum?")
    assert "Ab wann brauchst du den Raum?\n• Antworten: 3 (im Export)" in result

    await bot.send("/umfrage export 1", user="anna")
    sent = bot.sent_to("anna")
    [csv_data] = attachments(sent, ".csv")
    [xlsx_data] = attachments(sent, ".xlsx")
    rows = list(csv.reader(io.StringIO(csv_data.decode("utf-8-sig")), delimiter=";"))
    header, *body = rows
    assert len(body) == 3
    assert header[1] == "Braucht deine Initiative im nächsten Jahr Räume?"
    assert "Raum 2: Für wie viele Personen?" in header
    first = dict(zip(header, body[0], strict=False))
    assert first["Raum 1: Was für ein Raum?"] == "Besprechungsraum"
    assert first["Raum 2: Was für ein Raum?"] == "Saal für Veranstaltungen"
    assert first["Raum 2: Was muss der Raum haben?"] == "barrierefrei, Küche"
    assert first["Raum 1: Wie viel Miete im Monat könnt ihr höchstens zahlen (in EUR)?"] == "150,5"
    assert first["Raum 2: Ab wann brauchst du den Raum?"] == "01.03.2027"
    third = dict(zip(header, body[2], strict=False))
    assert third["Braucht deine Initiative im nächsten Jahr Räume?"] == "Nein"
    assert third.get("Raum 1: Was für ein Raum?", "") == ""

    book = load_workbook(io.BytesIO(xlsx_data))
    sheet = book.active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == header
    assert values[1][header.index("Raum 2: Für wie viele Personen?")] == 80
