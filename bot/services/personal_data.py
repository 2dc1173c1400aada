"""``/meine_daten``: everything Kümmerer stores about a person (Art. 15 and 20 DSGVO).

The export is a JSON document (schema below, also in ``docs/datenschutz.md``) and a readable
summary. Both come from :class:`~storage.repositories.personal_data.PersonalDataRepository`, so
they list the same rows.

JSON schema ``kuemmerer/meine-daten/1``::

    {
      "schema": "kuemmerer/meine-daten/1",
      "erstellt_am": "2026-12-01T10:00:00+00:00",
      "person": {"plattform": "telegram", "kennung": "123", "name": "Anna", "benutzername": "anna",
                 "verknuepfte_konten": [{"plattform": "matrix", "kennung": "@anna:example.org",
                                         "name": "Anna"}]},
      "abschnitte": {
        "<abschnitt>": [{"tabelle": "decisions", "id": 3, "<spalte>": <wert>, ...}, ...],
        ...
      },
      "nicht_enthalten": ["<text>", ...]
    }

Sections: profil, mitgliedschaften, privater_chat, ziele, beschluesse, treffen, abstimmungen,
umfragen, erinnerungen, hinweise, verknuepfungen, protokoll, nachrichten (bot messages to the
person's private chat), nachrichten_erwaehnt (bot messages elsewhere that name the person). Every
entry has every column of its table except keys and secrets; times are ISO 8601 in UTC.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.codec import decode_markup
from bot.core.markup import render_plain
from bot.core.ports import Clock
from bot.services.text import shorten
from storage.models import Person
from storage.repositories.accounts import AccountRepository
from storage.repositories.personal_data import PersonalDataRepository, identity, row_dict

SCHEMA = "kuemmerer/meine-daten/1"
# Sections in the order the summary shows them.
SECTIONS = (
    "profil",
    "mitgliedschaften",
    "privater_chat",
    "ziele",
    "beschluesse",
    "treffen",
    "abstimmungen",
    "umfragen",
    "erinnerungen",
    "hinweise",
    "verknuepfungen",
    "protokoll",
    "nachrichten",
    "nachrichten_erwaehnt",
)
# What the export cannot contain, and why (German: it goes into the person's file).
NOT_CONTAINED = (
    "Stimmen in anonymen Abstimmungen und Antworten in anonymen Umfragen: Kümmerer speichert dazu "
    "keine Verbindung zu dir, deshalb kann es sie weder zeigen noch löschen.",
    "Nachrichten, die du in Gruppen geschrieben hast: Kümmerer speichert sie nicht (nur Texte, auf "
    "die es mit einem Hinweis geantwortet hat, stehen im Abschnitt „hinweise“).",
    "Was die Chat-Plattform (Telegram, Matrix-Server) selbst speichert: dafür ist deren Betreiber zuständig.",
)
PREVIEW = 80
# Rows converted between two yields to the event loop.
YIELD_EVERY = 100


@dataclass(frozen=True, slots=True)
class PersonalData:
    """The rows about one person, as JSON-ready entries by section."""

    person: dict[str, Any]
    sections: dict[str, list[dict[str, Any]]]
    created_at: str

    def to_json(self) -> bytes:
        """The machine-readable export (UTF-8, indented)."""
        document = {
            "schema": SCHEMA,
            "erstellt_am": self.created_at,
            "person": self.person,
            "abschnitte": self.sections,
            "nicht_enthalten": list(NOT_CONTAINED),
        }
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")

    def count(self, section: str) -> int:
        """Entries in ``section``."""
        return len(self.sections.get(section, []))

    @property
    def total(self) -> int:
        """Entries in all sections."""
        return sum(len(rows) for rows in self.sections.values())

    def rows(self) -> set[tuple[str, Any]]:
        """Every entry as ``(table, primary key)``: what a test compares with a scan."""
        return {(entry["tabelle"], entry.get("id")) for rows in self.sections.values() for entry in rows}


class PersonalDataService:
    """Collects a person's data for ``/meine_daten``."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.repo = PersonalDataRepository(session)

    async def collect(self, person: Person) -> PersonalData:
        """Every row about ``person``, by section (see the module docstring for the schema)."""
        accounts = await AccountRepository(self.session).identities(person)
        found: dict[str, list[tuple[str, Any]]] = {}
        for account in accounts:  # linked accounts (/konto) are one person here
            for section, rows in (await self.repo.sections(identity(account))).items():
                known = {(table, row.id) for table, row in found.get(section, [])}
                found.setdefault(section, []).extend(r for r in rows if (r[0], r[1].id) not in known)
        # A bot message to one linked account's private chat may name another account: it is
        # listed once, as a message to the person.
        direct = {(table, row.id) for table, row in found.get("nachrichten", [])}
        found["nachrichten_erwaehnt"] = [
            (table, row)
            for table, row in found.get("nachrichten_erwaehnt", [])
            if (table, row.id) not in direct
        ]
        sections: dict[str, list[dict[str, Any]]] = {}
        converted = 0
        for section in SECTIONS:
            entries = sections[section] = []
            for table, row in found.get(section, []):
                entries.append({"tabelle": table, **row_dict(row)})
                converted += 1
                if converted % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # a long history must not hold the event loop
        profile = {
            "plattform": person.platform,
            "kennung": person.external_id,
            "name": person.display_name,
            "benutzername": person.username,
            "verknuepfte_konten": [
                {"plattform": a.platform, "kennung": a.external_id, "name": a.display_name}
                for a in accounts
                if a.id != person.id
            ],
        }
        return PersonalData(profile, sections, self.clock.now().isoformat())


def entry_preview(entry: dict[str, Any]) -> str:
    """A short, readable line for one entry of the summary (German field names are not needed:
    the section title says what it is)."""
    for key in ("text", "question", "title", "message_text", "display_name", "action"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            number = entry.get("number")
            prefix = f"Nr. {number}: " if isinstance(number, int) else ""
            return prefix + shorten(" ".join(value.split()), PREVIEW)
    payload = entry.get("payload")
    if isinstance(payload, dict) and isinstance(payload.get("markup"), list):
        with contextlib.suppress(Exception):  # an old or redacted row: fall back to its date
            flat = render_plain(decode_markup(payload["markup"]))
            if flat.strip():
                return shorten(" ".join(flat.split()), PREVIEW)
    when = next(
        (entry[k] for k in ("created_at", "first_seen", "cast_at", "started_at") if entry.get(k)), None
    )
    return str(when)[:10] if when else f"#{entry.get('id')}"
