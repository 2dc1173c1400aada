"""Surveys end to end over HTTP (issue 12): the real adapter and PTB against the fake Bot API server.

The coordinator starts the Engagement-Erhebung in the group; the announcement carries a deep link
(``https://t.me/<bot>?start=umfrage-<id>``). Carla never opened a private chat with the bot, so her
invitation cannot be delivered: she follows the deep link and answers for a foundation (indirect
funding, counts). Bernd starts from his private invitation's button and answers as a person with
an activity that is not voluntary, and is told at once. Answers are a mix of typed messages and
inline-button presses (callback queries). After the deadline the coordinator gets the result with
its chart and both export files privately; their totals are checked against the typed answers.

The helpers that read the export files are used by the Matrix story, too.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

from bot.core.ports import TravelClock
from tests.adapters.telegram.conftest import ADMIN, GROUP, MEMBER, NEWCOMER
from tests.adapters.telegram.test_e2e_polls import PNG, WAIT, members, send
from tests.fakes.telegram_api import FakeTelegramServer, UploadedFile

START = "/umfrage starten Engagement-Erhebung bis in 3 Tagen"
ORGANISATION = "Bürgerstiftung Musterstadt"
FUNDING = "Förderung des Jugendtreffs"
MONEY_TYPED, MONEY = "5.000", 5000.0  # German thousands separator
DUTY = "Pflichtstunden im Verein"
HOURS_TYPED, HOURS = "12,5", 12.5  # German decimal comma
NOT_VOLUNTARY = (
    "Zählt nicht als Engagement im Sinne der Definition, weil: nicht freiwillig – "
    "z. B. Pflichtstunden im Rahmen des Arbeitsvertrags."
)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# Reading the export files (shared with the Matrix story) ---------------------------------------


def read_csv(data: bytes) -> list[dict[str, str]]:
    """The activity rows of a German CSV export (UTF-8 with BOM, ``;``, decimal comma)."""
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the byte order mark"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def number(cell: str) -> float:
    """A CSV number cell ("12,5", "" for none) as a float."""
    return float(cell.replace(",", ".")) if cell else 0.0


def check_csv(data: bytes) -> list[dict[str, str]]:
    """The CSV has the two activities as answered; returns its rows."""
    rows = read_csv(data)
    assert len(rows) == 2, rows
    [fund] = [r for r in rows if r["Beschreibung"] == FUNDING]
    [duty] = [r for r in rows if r["Beschreibung"] == DUTY]
    assert fund["Art"] == "Stiftung" and fund["Organisation"] == ORGANISATION
    assert fund["Form"] == "indirekt" and fund["Zählt"] == "ja" and fund["Nicht erfüllt"] == ""
    assert number(fund["EUR pro Jahr"]) == MONEY and number(fund["Stunden pro Monat"]) == 0
    assert duty["Art"] == "Person" and duty["Organisation"] == ""
    assert (
        duty["Form"] == "direkt" and duty["Zählt"] == "nein" and duty["Nicht erfüllt"] == "nicht freiwillig"
    )
    assert number(duty["Stunden pro Monat"]) == HOURS and number(duty["Personen"]) == 1
    return rows


def check_xlsx(data: bytes, csv_rows: list[dict[str, str]]) -> None:
    """The workbook's totals equal the counted activities of the CSV (computed here) and name the
    definition version; its activity sheet has the CSV's rows."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["Tätigkeiten", "Summen", "Definition"]
    activities = list(book["Tätigkeiten"].iter_rows(values_only=True))
    assert list(activities[0]) == list(csv_rows[0].keys())
    assert sorted(r[4] for r in activities[1:]) == sorted(r["Beschreibung"] for r in csv_rows)

    counted = [r for r in csv_rows if r["Zählt"] == "ja"]
    expected = {
        "Befragte": len({r["Befragte Nr."] for r in counted}),  # with a counted activity
        "Gezählte Tätigkeiten": len(counted),
        "Stunden pro Monat": sum(number(r["Stunden pro Monat"]) for r in counted),
        "EUR pro Jahr": sum(number(r["EUR pro Jahr"]) for r in counted),
        "Sachwert in EUR": sum(number(r["Sachwert in EUR"]) for r in counted),
    }
    assert expected == {
        "Befragte": 1,
        "Gezählte Tätigkeiten": 1,
        "Stunden pro Monat": 0,
        "EUR pro Jahr": MONEY,
        "Sachwert in EUR": 0,
    }
    totals = list(book["Summen"].iter_rows(values_only=True))
    facts = {row[0]: row[1] for row in totals if row and row[0] and len(row) > 1}
    assert facts["Version der Definition"] == 1
    assert facts["Befragte (abgeschlossene Antworten)"] == len({r["Befragte Nr."] for r in csv_rows}) == 2
    assert facts["davon gezählt"] == 1 and facts["davon nicht gezählt"] == 1
    header = next(row for row in totals if row and row[0] == "Aufschlüsselung")
    total = dict(zip(header, next(row for row in totals if row and row[0] == "Gesamt"), strict=False))
    for column, value in expected.items():
        assert (total[column] or 0) == value, (column, total)
    # Fewer than three respondents of each kind: the breakdown rows say so instead of figures.
    kinds = [row for row in totals if row and row[0] == "Art der Befragten"]
    assert kinds and all(row[2] == "< 3" for row in kinds), kinds
    failed = next(i for i, row in enumerate(totals) if row and row[0] == "Nicht erfülltes Kriterium")
    assert totals[failed + 1][:2] == ("Freiwillig", 1)
    definition = list(book["Definition"].iter_rows(values_only=True))
    assert definition[0][:2] == ("Version der Definition", 1)
    assert "freiwillig" in [row[0] for row in definition if row]


# Talking to the bot -----------------------------------------------------------------------------


def text_of(message: dict[str, Any]) -> str:
    return message.get("text") or message.get("caption") or ""


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def turn(server: FakeTelegramServer, user: int, answer: str, expect: str) -> list[dict[str, Any]]:
    """One step in a private chat: a typed answer, or ``[Label]`` to press the button that starts
    with ``Label`` on the bot's last message with buttons there. Returns the bot's messages after
    it, up to the first one that contains ``expect``."""
    before = len(server.sent_messages(user))
    if answer.startswith("["):
        last = [m for m in server.sent_messages(user) if buttons(m)][-1]
        label = answer.strip("[]")
        pressed = [b for b in buttons(last) if b["text"].startswith(label)]
        assert len(pressed) == 1, (label, buttons(last))
        server.inject_callback_query(user, user, last["message_id"], pressed[0]["callback_data"])
    else:
        server.inject_message(user, user, answer)

    def found() -> int | None:
        later = server.sent_messages(user)[before:]
        return next((i for i, m in enumerate(later) if expect in text_of(m)), None)

    await server.wait_for(lambda: found() is not None, WAIT, f"{expect!r} after {answer!r}")
    end = found()
    assert end is not None
    return server.sent_messages(user)[before : before + end + 1]


async def test_engagement_survey_with_deep_link_buttons_chart_and_exports(server, make_bot) -> None:
    clock = TravelClock()
    running = await make_bot(clock=clock)
    await members(server)
    server.block_private(NEWCOMER)  # Carla never pressed "Start" in a private chat with the bot

    [announcement] = await send(server, GROUP, ADMIN, START)
    assert "Umfrage Nr. 1 der AG Bildung: Engagement-Erhebung" in announcement["text"]
    [button] = buttons(announcement)
    assert button["text"] == "📋 Jetzt teilnehmen"
    link = re.fullmatch(r"https://t\.me/kuemmerer_test_bot\?start=(umfrage-\d+)", button["url"])
    assert link, button
    await running.app.outbox.drain()
    # Every member is invited privately; Carla's invitation cannot be delivered (403).
    assert "Engagement-Erhebung" in text_of(server.sent_messages(MEMBER)[-1])
    assert "Engagement-Erhebung" in text_of(server.sent_messages(ADMIN)[-1])
    assert not server.sent_messages(NEWCOMER)
    refused = [c for c in server.calls_to("sendMessage") if str(c.params["chat_id"]) == str(NEWCOMER)]
    assert refused and all(c.status == 403 for c in refused)

    # Carla follows the deep link: Telegram opens the private chat and sends /start <payload>.
    server.unblock_private(NEWCOMER)
    carla = [
        (f"/start {link.group(1)}", "Antwortest du als Person oder für eine Organisation?"),
        ("[Für eine Organisation]", "Wie heißt die Organisation?"),
        (ORGANISATION, "Was für eine Organisation ist es?"),
        ("[Stiftung]", "Beschreibe die Tätigkeit in einem Satz."),
        (FUNDING, "Ist es direktes oder indirektes Engagement?"),
        ("[indirekt]", "Was wird eingebracht?"),
        ("Geld", "Wie viel Geld wird im Jahr eingebracht (in EUR)?"),
        (MONEY_TYPED, "Dient die Tätigkeit dem Gemeinwohl"),
        ("[Ja]", "Wird die Tätigkeit freiwillig ausgeübt"),
        ("ja", "Findet die Tätigkeit im öffentlichen Raum statt"),
        ("[Ja]", "Ist die Tätigkeit nicht auf Gewinn ausgerichtet?"),
        ("ja", "Wird die Tätigkeit in der Regel gemeinsam mit anderen ausgeübt?"),
        ("[Ja]", "Möchtest du eine weitere Tätigkeit erfassen?"),
        ("[Nein]", "Danke!"),
    ]
    for answer, expect in carla:
        [*_, reply] = await turn(server, NEWCOMER, answer, expect)
    assert "Tätigkeiten: 1, davon zählen 1 als Engagement" in text_of(reply)
    assert not any("Zählt nicht" in text_of(m) for m in server.sent_messages(NEWCOMER))

    # Bernd starts from the button of his invitation (a command button: no deep link needed).
    invitation = server.sent_messages(MEMBER)[-1]
    assert [b["callback_data"] for b in buttons(invitation)] == [f"/start {link.group(1)}"]
    bernd = [
        ("[📋 Los geht's]", "Antwortest du als Person oder für eine Organisation?"),
        ("[Als Person]", "Beschreibe die Tätigkeit in einem Satz."),
        (DUTY, "Ist es direktes oder indirektes Engagement?"),
        ("direkt", "Was wird eingebracht?"),
        ("Zeit", "Wie viele Stunden im Monat sind es"),
        (HOURS_TYPED, "Wie viele Personen bringen diese Zeit ein?"),
        ("1", "Dient die Tätigkeit dem Gemeinwohl"),
        ("[Ja]", "Wird die Tätigkeit freiwillig ausgeübt"),
        # "?" explains the criterion (with its counter-example); the question stays open.
        ("[?]", "Pflichtstunden im Rahmen des Arbeitsvertrags"),
    ]
    for answer, expect in bernd:
        await turn(server, MEMBER, answer, expect)
    # Told at once why the activity does not count; then the next criterion is asked.
    notice, following = await turn(server, MEMBER, "[Nein]", "Findet die Tätigkeit im öffentlichen Raum")
    assert NOT_VOLUNTARY in text_of(notice) and "/zurueck" in text_of(notice)
    assert [b["text"] for b in buttons(following)][:2] == ["Ja", "Nein"]
    for answer, expect in [
        ("ja", "Ist die Tätigkeit nicht auf Gewinn ausgerichtet?"),
        ("[Ja]", "Wird die Tätigkeit in der Regel gemeinsam mit anderen ausgeübt?"),
        ("ja", "Möchtest du eine weitere Tätigkeit erfassen?"),
        ("nein", "Danke!"),
    ]:
        [*_, reply] = await turn(server, MEMBER, answer, expect)
    assert "davon zählen 0" in text_of(reply) and f"„{DUTY}“ zählt nicht: nicht freiwillig" in text_of(reply)
    assert server.calls_to("answerCallbackQuery")

    # The deadline passes on the travelling clock; the scheduler closes the survey.
    before = len(server.sent_messages(GROUP))
    await running.app.component("scheduler").advance_to(clock.now() + timedelta(days=4))

    def closing() -> list[str]:
        return [text_of(m) for m in server.sent_messages(GROUP)[before:] if "ist beendet" in text_of(m)]

    await server.wait_for(lambda: bool(closing()), WAIT, "the closing note")
    [closed] = closing()
    assert (
        "Umfrage Nr. 1: Engagement-Erhebung" in closed and "2 von 3 Mitgliedern haben geantwortet" in closed
    )

    result, chart = await send(server, GROUP, ADMIN, "/umfrage ergebnis", 2)
    text = result["text"]
    assert "Ergebnis der Umfrage Nr. 1: Engagement-Erhebung" in text, text
    assert "Antworten: 2 von 3 Mitgliedern." in text
    assert "Tätigkeiten: 2 – gezählt: 1, nicht gezählt: 1." in text
    assert "Geld: 5.000 € pro Jahr" in text and "Zeit: 0 Std./Monat" in text
    assert f"{DUTY} – nicht freiwillig" in text and "Häufigste Gründe: nicht freiwillig (1)" in text
    assert chart["photo"] and "Umfrage Nr. 1" in chart["caption"]
    [photo] = server.calls_to("sendPhoto")
    assert isinstance(photo.params["photo"], UploadedFile) and photo.params["photo"].data.startswith(PNG)

    [sent] = await send(server, GROUP, ADMIN, "/umfrage export")
    assert "privat geschickt" in sent["text"]

    def documents() -> list[dict[str, Any]]:
        return [m for m in server.sent_messages(ADMIN) if "document" in m]

    await server.wait_for(lambda: len(documents()) == 2, WAIT, "the two export files")
    files = documents()
    assert [f["document"]["file_name"] for f in files] == ["umfrage-1.csv", "umfrage-1.xlsx"]
    assert all("Umfrage Nr. 1: Engagement-Erhebung" in f["caption"] for f in files)
    calls = server.calls_to("sendDocument")
    assert [str(c.params["chat_id"]) for c in calls] == [str(ADMIN)] * 2
    uploads = [c.params["document"] for c in calls]
    assert all(isinstance(u, UploadedFile) for u in uploads)
    assert [u.filename for u in uploads] == ["umfrage-1.csv", "umfrage-1.xlsx"]
    assert [u.content_type for u in uploads] == ["text/csv", XLSX_MIME]
    rows = check_csv(uploads[0].data)
    check_xlsx(uploads[1].data, rows)
