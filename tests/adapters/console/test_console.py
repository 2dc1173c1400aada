"""The console adapter: directives, numbering, and the scripted register scenario."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import Application
from bot.core.ports import ManualClock
from storage import Database
from storage.models import Decision, Membership, Person

SCENARIO = """\
/ag anlegen AG Bildung Ruhr
/ag thema Bildungsbenachteiligung im Ruhrgebiet
/ziel Gemeinsame Übersicht der Bildungsangebote bis Ende 2019
/ziel Kooperationen bilateral anbahnen
/beschluss Beim nächsten Treffen befassen wir uns mit dem Lübecker Bildungsverbund #treffen
/beschluss Wir entwickeln kein gemeinsames Großprojekt #kooperation
/beschluss Die Treffen finden vierteljährlich statt #treffen
/beschluss ersetzen 1 Beim übernächsten Treffen befassen wir uns mit dem Lübecker Modell #treffen
/beschluss aufheben 2 Die Mitgliederversammlung wünscht doch ein Projekt
/beschluesse
/beschluesse #treffen
/ziele
"""


async def run_console(app: Application, script: str) -> str:
    out = io.StringIO()
    console = ConsoleAdapter(app, stdin=io.StringIO(script), stdout=out, interactive=False)
    await console.run()
    return out.getvalue()


def _listing(output: str, marker: str) -> str:
    """The bot's reply that follows the input line ``marker``."""
    after = output.split(marker, 1)[1]
    return after.split("\ngruppe #", 1)[0]


async def test_scripted_register_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}"
    database = Database(url)
    app = Application(database, clock=ManualClock())
    await app.start()
    output = await run_console(app, SCENARIO)
    await database.dispose()

    assert "✅ AG Bildung Ruhr ist als AG angelegt" in output
    listing = _listing(output, "> /beschluesse\n")
    assert "2 gültige Beschlüsse" in listing
    assert "Nr. 4" in listing and "übernächsten Treffen" in listing
    assert "Nr. 3" in listing and "vierteljährlich" in listing
    assert "Lübecker Bildungsverbund" not in listing and "Großprojekt" not in listing
    tagged = _listing(output, "> /beschluesse #treffen\n")
    assert "Nr. 4" in tagged and "Nr. 3" in tagged
    assert "2 aktive Ziele" in output

    # Second run on the same file: same active decisions, nothing replaced or revoked among them.
    database = Database(url)
    app = Application(database, clock=ManualClock())
    await app.start()
    again = await run_console(app, "/beschluesse\n/beschluss 1\n")
    await database.dispose()
    listing_again = _listing(again, "> /beschluesse\n")
    # Compare everything after the first line, which carries the session's message number.
    assert listing_again.split("\n", 1)[1] == listing.split("\n", 1)[1]
    assert "ersetzt" in again and "Nr. 4" in again


@pytest.fixture
async def console(app: Application) -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    return ConsoleAdapter(app, stdin=io.StringIO(""), stdout=out, interactive=False), out


async def test_directives(console, bot) -> None:
    adapter, out = console
    for line in [
        "/ag anlegen Test-AG",
        ":user bernd",
        "Hallo, ich bin neu",
        ":user carla admin",
        "/ag thema Von der Admin gesetzt",
        ":join dora",
        ":reply 3 /beschluss",
        ":chat carla privat",
        "/ziele",
        ":chat gruppe",
        ":leave dora",
        ":reply 99 x",
        ":bogus",
        ":help",
    ]:
        assert await adapter.process(line)
    assert not await adapter.process(":quit")
    text = out.getvalue()
    assert "gruppe #3 bernd> Hallo, ich bin neu" in text
    assert "Schwerpunktthema gesetzt: Von der Admin gesetzt" in text
    assert "Beschluss Nr. 1 festgehalten" in text
    # Carla's private chat (opening it makes her the writer) acts on her only AG.
    assert "[privat:carla #" in text and "noch keine aktiven Ziele" in text
    assert "(!) Nachricht #99 gibt es nicht" in text
    assert "(!) Unbekannte oder unvollständige Anweisung :bogus" in text
    assert ":reply N TEXT" in text
    [decision] = await bot.rows(Decision)
    assert decision.text == "Hallo, ich bin neu"
    names = {p.display_name for p in await bot.rows(Person)}
    assert {"ich", "bernd", "carla", "dora"} <= names
    assert await bot.count(Membership) == 4  # ich, bernd, carla and dora (joined)


async def test_buttons_are_printed_with_their_command(console, bot) -> None:
    adapter, out = console
    await adapter.process("/ag anlegen AG")
    for n in range(12):
        await adapter.process(f"/beschluss Beschluss {n}")
    await adapter.process("/beschluesse")
    assert "[Weiter ▶] → /beschluesse seite 2" in out.getvalue()


async def test_join_in_private_chat_is_refused(console) -> None:
    adapter, out = console
    await adapter.process(":chat mir private")
    await adapter.process(":join x")
    assert "nur in Gruppenchats" in out.getvalue()


async def test_the_kind_of_a_chat_is_inferred_or_announced(console) -> None:
    adapter, out = console
    await adapter.process(":chat privat:Lena")
    assert adapter.chat.is_private and adapter.chat.title == "Lena"
    await adapter.process(":join x")
    assert "nur in Gruppenchats" in out.getvalue()
    await adapter.process(":chat Private: Bernd")
    assert adapter.chat.is_private and adapter.chat.title == "Bernd"
    assert "(i)" not in out.getvalue()  # said plainly, nothing to announce

    # Without a kind: an existing chat of that name, else a new group chat, and it says so.
    await adapter.process(":chat Lena")
    assert adapter.chat.is_private and adapter.chat.title == "Lena"
    await adapter.process(":chat Plenum")
    assert not adapter.chat.is_private
    assert "(i) Neuer Gruppenchat „Plenum“. Einen privaten Chat öffnet :chat privat:Plenum" in out.getvalue()
    await adapter.process(":chat Vorstand gruppe")
    assert out.getvalue().count("(i)") == 1

    await adapter.process(":chat privat:Lena gruppe")
    await adapter.process(":chat privat:")
    assert "(!) „privat:Lena“ ist ein privater Chat. Gruppenchat: :chat Lena gruppe" in out.getvalue()
    assert "(!) Welcher private Chat?" in out.getvalue()
    assert adapter.chat.title == "Vorstand"


async def test_banner_and_help_speak_german(app: Application, tmp_path: Path) -> None:
    script = tmp_path / "hilfe.txt"
    script.write_text(":help\n", encoding="utf-8")
    out = io.StringIO()
    adapter = ConsoleAdapter(app, script=str(script), stdout=out, interactive=True)
    await adapter.start()
    await adapter.wait_closed()
    text = out.getvalue()
    assert text.startswith("Kümmerer-Konsole. Anweisungen: :help · Ende: :quit\n")
    assert "Anweisungen:" in text and ":chat privat:NAME" in text and "Sitzung beenden" in text
    for english in ("Directives", "switch", "this list", "Everything else"):
        assert english not in text


async def test_a_hint_is_shown_before_the_next_prompt(console) -> None:
    # The test application's guard is the lexical one (no model); the message repeats the
    # decision's words and questions it plainly.
    adapter, out = console
    await adapter.process("/ag anlegen AG")
    await adapter.process("/beschluss Die Treffen finden vierteljährlich statt.")
    await adapter.process("Warum finden die Treffen nur vierteljährlich statt? Das sollten wir ändern.")
    await adapter.process("/hinweise")
    text = out.getvalue()
    hint = text.split("Das sollten wir ändern.", 1)[1]
    assert hint.startswith("\n[gruppe #6] 💡") and "Beschluss Nr. 1" in hint
    assert "→ /hinweis falsch 1" in hint
    assert hint.index("💡") < hint.index("ich> /hinweise")


class _ClosingOutput(io.StringIO):
    """Output that breaks after the first line, like a pipe into ``head -1``."""

    def write(self, text: str) -> int:
        if self.getvalue().count("\n") >= 1:
            raise BrokenPipeError("reader gone")
        return super().write(text)


async def test_closed_output_ends_the_session_instead_of_waiting_forever(app: Application) -> None:
    out = _ClosingOutput()
    adapter = ConsoleAdapter(app, stdin=io.StringIO(""), stdout=out, interactive=False)
    # The reply cannot be printed: the session ends and nothing is retried for ever.
    assert not await asyncio.wait_for(adapter.process("/hilfe"), timeout=5)
    assert adapter.output_closed
    assert not await adapter.process("/ag anlegen X")


async def test_time_travel_fires_reminders_and_meeting_notices_in_order(console) -> None:
    """The console story of issue 10: set things up, jump ahead with :zeit, see them fire."""
    adapter, out = console
    for line in [
        "/ag anlegen AG Garten",
        "/erinnerung morgen 18 Uhr: Gießplan aufhängen",
        "/erinnerung jeden Dienstag 18 Uhr: Werkzeug zurückbringen",
        "/treffen Mittwoch 19 Uhr: Gartentreffen | Gemeinschaftsgarten",
        "/tagesordnung Kompost",
        ":zeit",
        ":zeit +5d",
        ":zeit 2026-12-30 08:00",
        ":zeit +2x",
    ]:
        assert await adapter.process(line)
    text = out.getvalue()
    # The clock starts on Saturday 21 Nov 2026, 10:00 in Berlin.
    assert "(i) Jetzt: 21.11.2026, 10:00 (Europe/Berlin)" in text
    fired = [line for line in text.splitlines() if "⏰" in line or "Gartentreffen" in line]
    order = [
        next(i for i, line in enumerate(fired) if "Gießplan aufhängen" in line),
        next(i for i, line in enumerate(fired) if "Werkzeug zurückbringen" in line),
    ]
    assert order == sorted(order)
    after = text.split("(i) Jetzt: 21.11.2026", 1)[1]
    assert "Kompost" in after.split("🔔", 1)[1]  # the notice carries the agenda
    # Each message that fell due says when it arrived.
    assert "[gruppe #11 · 22.11.2026, 18:00] ⏰ Erinnerung: Gießplan aufhängen" in text
    assert "(i) Jetzt: 26.11.2026, 10:00" in text
    assert "(i) Jetzt: 30.12.2026, 08:00" in text
    assert "(!) „+2x“ verstehe ich nicht als Zeitsprung." in text
    # Weekly: Tuesdays 24 Nov, 1, 8, 15, 22 and 29 Dec fired, each once.
    assert sum("Werkzeug zurückbringen" in line and "⏰" in line for line in text.splitlines()) == 6


async def test_a_poll_in_the_console_is_voted_on_and_ended(console) -> None:
    """Numbered options answered with /stimme; at the deadline the poll is ended and the result
    comes with its chart."""
    adapter, out = console
    for line in [
        "/ag anlegen AG Garten",
        ":user bernd",
        "Hallo",
        ":user ich",
        "/abstimmung Pflanzen wir Tomaten? | Ja | Nein | bis: morgen 18 Uhr | beschluss",
        "/stimme 1",
        ":user bernd",
        "/stimme 1: 1",
        ":zeit +2d",
    ]:
        assert await adapter.process(line)
    text = out.getvalue()
    assert "🗳 Abstimmung Nr. 1: Pflanzen wir Tomaten?" in text
    assert "Umfrage zu Abstimmung Nr. 1\n  1. Ja\n  2. Nein" in text  # the native poll, printed
    poll_number = text.split("] 🗳 Umfrage zu Abstimmung Nr. 1", 1)[0].rsplit("#", 1)[1]
    assert f"[gruppe] ■ Umfrage #{poll_number} beendet" in text
    assert "Mehrheit für „Ja“ (2 von 2 Stimmen)." in text and "Als Beschluss Nr. 1 festgehalten" in text
    assert "📎 abstimmung-1.png (image/png, " in text
