"""Data protection in the chat: ``/datenschutz``, ``/meine_daten``, ``/daten_loeschen``.

The ground truth is :func:`tests.privacy_scan.traces`, a scan of every column of every table
for the person's ids, names and private texts, which knows nothing of the export's queries.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core.events import ChatKind
from bot.services.embeddings import load_embedder
from bot.services.reopen import Hint, ReopenGuard, Sensitivity
from storage.models import (
    Decision,
    Goal,
    Membership,
    OutboxMessage,
    Person,
    PollVote,
    Reminder,
    ReopenHint,
)
from storage.models.person import FORMER_NAME
from tests.harness import BotHarness
from tests.privacy_scan import Needles, traces

MARKER = "ZWEIFEL"
PRIVATE_REMINDER = "Steuererklärung abgeben"
HINTED = f"{MARKER}: vierteljährlich ist viel zu selten, ich will monatliche Treffen"


class MarkerGuard(ReopenGuard):
    """A guard that hints on every message with :data:`MARKER`, at the AG's first item: the
    hint's rows are what these tests need, not the model's judgement."""

    def screen(self, group_id: int, text: str) -> bool:
        return MARKER in text

    def check(self, group_id: int, text: str, sensitivity: Sensitivity = Sensitivity.NORMAL) -> Hint | None:
        items = self.items(group_id)
        if MARKER not in text or not items:
            return None
        return Hint(items[0], 0.9, 0.9, 2.0)


@pytest.fixture(scope="module")
def marker_guard() -> ReopenGuard:
    return MarkerGuard(load_embedder("lexical"))


@pytest.fixture
def guard(marker_guard: ReopenGuard) -> ReopenGuard:
    return marker_guard


async def world(bot: BotHarness) -> Person:
    """An AG in which mia has left traces of every kind; returns mia."""
    await bot.setup_group("AG Bildung")
    await bot.send("Hallo zusammen", user="mia")  # her brief goes to her private chat
    await bot.send("Moin", user="ben")
    await bot.say("/rolle mia koordination")  # "Mia ist jetzt …" in the group
    await bot.say("/beschluss Wir treffen uns vierteljährlich.", user="mia")
    await bot.say("/ziel Bis 2027 eine Übersicht der Bildungsangebote.", user="mia")
    await bot.say("/beschluss Protokolle sind intern.", user="anna")
    await bot.send(f"/erinnerung morgen 9 Uhr: {PRIVATE_REMINDER}", user="mia", private=True)
    await bot.send("/erinnerung morgen 18 Uhr: Raum buchen", user="mia")
    await bot.send("/abstimmung Sommerfest im Juli? | ja | nein", user="anna")
    await bot.send("/stimme 1", user="mia")
    await bot.send(HINTED, user="mia")
    [mia] = await bot.rows(Person, Person.username == "mia")
    assert await bot.count(ReopenHint, ReopenHint.sender_id == mia.id) == 1
    assert await bot.count(PollVote, PollVote.person_id == mia.id) == 1
    return mia


def needles_of(bot: BotHarness, person: Person, *, ids: bool) -> Needles:
    return Needles(
        person_ids=frozenset({person.id}) if ids else frozenset(),
        strings=frozenset({bot.user("mia").external_id, PRIVATE_REMINDER, MARKER}),
        words=frozenset({"Mia"}),
    )


def exported(bot: BotHarness) -> dict[str, Any]:
    files = [m for m in bot.sent_to("mia") if m.attachment is not None]
    assert files, "no file"
    assert files[-1].attachment is not None
    return json.loads(files[-1].attachment.data)


async def test_meine_daten_lists_exactly_the_rows_a_scan_finds(bot: BotHarness) -> None:
    mia = await world(bot)
    expected = await traces(bot.app.db, needles_of(bot, mia, ids=True))
    replies = await bot.send("/meine_daten", user="mia", private=True)
    summary = replies[0]
    assert "Deine Daten bei Kümmerer" in summary
    assert "AG Bildung: Koordination" in summary
    assert "Wir treffen uns vierteljährlich." in summary
    document = exported(bot)
    assert document["schema"] == "kuemmerer/meine-daten/1"
    assert document["person"]["name"] == "Mia"
    listed = {(e["tabelle"], e["id"]) for rows in document["abschnitte"].values() for e in rows}
    assert listed == expected
    # Every section the scenario touched is there, with readable content.
    sections = document["abschnitte"]
    assert [e["text"] for e in sections["beschluesse"]] == ["Wir treffen uns vierteljährlich."]
    assert [e["text"] for e in sections["ziele"]] == ["Bis 2027 eine Übersicht der Bildungsangebote."]
    assert {e["text"] for e in sections["erinnerungen"]} == {PRIVATE_REMINDER, "Raum buchen"}
    assert [e["message_text"] for e in sections["hinweise"]] == [HINTED]
    assert sections["abstimmungen"][0]["tabelle"] == "poll_votes"
    assert sections["nachrichten"], "her brief and the reminder's confirmation"
    assert any(
        "Mia" in json.dumps(e["payload"], ensure_ascii=False) for e in sections["nachrichten_erwaehnt"]
    )
    # Keys that tie anonymous data to people are never exported.
    assert all("voter_key" not in e for rows in sections.values() for e in rows)
    # Both messages are secret: once delivered, the outbox keeps neither text nor file.
    rows = await bot.rows(OutboxMessage, OutboxMessage.chat_id == bot.user("mia").external_id)
    assert all("Deine Daten" not in json.dumps(r.payload, ensure_ascii=False) for r in rows)


async def test_meine_daten_in_a_group_only_points_to_the_private_chat(bot: BotHarness) -> None:
    await world(bot)
    sent = len(bot.messenger.sent)
    replies = await bot.send("/meine_daten", user="mia")
    assert len(replies) == 1 and "nur im privaten Chat" in replies[0]
    assert "vierteljährlich" not in replies[0]
    assert len(bot.messenger.sent) == sent + 1  # nothing privately either
    assert bot.last.buttons[0][0].start_payload == "datenschutz-1"
    # The deep link opens it in the private chat.
    replies = await bot.send("/start datenschutz-1", user="mia", private=True)
    assert "Deine Daten bei Kümmerer" in replies[0]


async def test_daten_loeschen_leaves_no_trace_but_keeps_the_register(bot: BotHarness) -> None:
    mia = await world(bot)
    ask = await bot.send("/daten_loeschen", user="mia", private=True)
    assert "Gelöscht" in ask[0] and "Bleiben" in ask[0]
    command = bot.last.buttons[0][0].command
    assert command is not None and command.startswith("/daten_loeschen ja ")
    done = await bot.send(command, user="mia", private=True)
    assert "Deine Daten sind gelöscht" in done[0]
    assert "ehemaliges Mitglied" in done[0]
    # No platform id, name or private text anywhere (foreign keys to her pseudonymised row are
    # the register's attribution and carry nothing about her).
    assert await traces(bot.app.db, needles_of(bot, mia, ids=False)) == set()
    [row] = await bot.rows(Person, Person.id == mia.id)
    assert row.display_name == FORMER_NAME and row.username is None
    # The register is intact and attributes her entries to the pseudonym.
    decisions = await bot.rows(Decision, order_by=[Decision.number])
    assert [d.text for d in decisions] == ["Wir treffen uns vierteljährlich.", "Protokolle sind intern."]
    assert decisions[0].author_id == mia.id
    assert await bot.count(Goal) == 1
    assert await bot.count(Membership, Membership.person_id == mia.id) == 0
    assert await bot.count(PollVote, PollVote.person_id == mia.id) == 0
    assert await bot.count(Reminder, Reminder.text == "Raum buchen") == 1  # the AG's reminder
    listing = await bot.say("/beschluesse")
    assert "vierteljährlich" in listing
    # Writing again creates a new, unrelated person.
    await bot.send("/ziele", user="mia")
    people = await bot.rows(Person, Person.username == "mia")
    assert len(people) == 1 and people[0].id != mia.id


async def test_daten_loeschen_needs_the_right_code(bot: BotHarness) -> None:
    mia = await world(bot)
    reply = await bot.say("/daten_loeschen ja 00000", user="mia", private=True)
    assert "Bestätigungscode stimmt nicht" in reply
    reply = await bot.say("/daten_loeschen vielleicht", user="mia", private=True)
    assert "/daten_loeschen" in reply
    [row] = await bot.rows(Person, Person.id == mia.id)
    assert row.display_name == "Mia"


async def test_the_last_koordination_hands_over_first(bot: BotHarness) -> None:
    await world(bot)
    await bot.say("/rolle mia mitglied")
    reply = await bot.say("/daten_loeschen", user="anna", private=True)
    assert "einzige Koordination von AG Bildung" in reply
    await bot.say("/rolle ben koordination")
    reply = await bot.say("/daten_loeschen", user="anna", private=True)
    assert "Deine Daten löschen?" in reply


async def test_datenschutz_names_periods_commands_and_the_operator(bot: BotHarness) -> None:
    reply = await bot.say("/datenschutz")
    # Generated from the inventory: every table with personal data, with the configured periods.
    from bot.services.privacy_inventory import notice_items

    assert all(item.title in reply for item in notice_items())
    assert "Zugestellte Nachrichten 30 Tage nach der Zustellung" in reply
    assert "/meine_daten" in reply and "/daten_loeschen" in reply
    assert "noch keinen Kontakt eingetragen" in reply
    from bot.config import DatenschutzSection

    bot.app.options["datenschutz"] = DatenschutzSection(
        verantwortlich="Netzwerk Bürgerstiftungen e.V., datenschutz@example.org", outbox_zugestellt="14d"
    )
    reply = await bot.say("/privacy", private=True)
    assert "Verantwortlich: Netzwerk Bürgerstiftungen e.V., datenschutz@example.org" in reply
    assert "Zugestellte Nachrichten 14 Tage nach der Zustellung" in reply


async def test_english_ag_gets_english_texts(bot: BotHarness) -> None:
    await world(bot)
    await bot.say("/ag sprache en")
    reply = await bot.say("/mydata", user="mia")
    assert "only in the private chat" in reply
    assert bot.last.chat.kind is ChatKind.GROUP


async def test_introduction_and_brief_link_to_the_notice(bot: BotHarness) -> None:
    from bot.core.events import BotAdded

    await bot.app.handle(BotAdded(bot.chat("neu")))
    await bot.settle()
    assert "/datenschutz" in bot.last.markup.plain()
    await bot.setup_group("AG Bildung")
    await bot.say("/beschluss Wir treffen uns vierteljährlich.")
    await bot.send("Hallo", user="mia")
    [brief] = [m.markup.plain() for m in bot.sent_to("mia")]
    assert "vierteljährlich" in brief and "/datenschutz" in brief
