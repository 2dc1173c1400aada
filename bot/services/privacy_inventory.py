"""The data-protection inventory (DSGVO): ``docs/datenschutz.md`` and the ``/datenschutz`` notice.

The inventory itself (every table, column and log line with personal data) is data in
:mod:`bot.services.privacy_tables`; this module renders it. After changing the inventory,
regenerate the document::

    python -m bot.services.privacy_inventory > docs/datenschutz.md

``tests/services/test_privacy_inventory.py`` fails while the document is stale or a model has a
column the inventory does not list.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import DatenschutzSection, parse_duration
from bot.services.privacy_tables import LOG_LINES, TABLES, Column, LogLine, Table

__all__ = [
    "LOG_LINES",
    "REGENERATE",
    "TABLES",
    "Column",
    "LogLine",
    "NoticeItem",
    "Table",
    "german_duration",
    "notice_items",
    "period_texts",
    "render_markdown",
]

REGENERATE = "python -m bot.services.privacy_inventory > docs/datenschutz.md"


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One line of the short ``/datenschutz`` notice: what is stored and for how long (German)."""

    title: str
    retention: str


def german_duration(value: str) -> str:
    """A ``[datenschutz]`` period such as ``"30d"`` in German words ("30 Tage").

    Raises:
        ValueError: ``value`` is not a duration (see :func:`bot.config.parse_duration`).
    """
    seconds = int(parse_duration(value).total_seconds())
    for size, one, many in ((86400, "Tag", "Tage"), (3600, "Stunde", "Stunden"), (60, "Minute", "Minuten")):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {one if count == 1 else many}"
    raise AssertionError("parse_duration only returns whole minutes")  # pragma: no cover


def period_texts(section: DatenschutzSection | None = None) -> dict[str, str]:
    """Every period of ``[datenschutz]`` in German words, by key (defaults when ``section`` is None).

    These fill the ``{key}`` placeholders of retention and erasure texts.
    """
    section = section or DatenschutzSection()
    texts = {}
    for key in type(section).model_fields:
        value = getattr(section, key)
        try:
            texts[key] = german_duration(value)
        except (TypeError, ValueError):
            continue  # not a period (the operator's name, the time of day of the job)
    return texts


def notice_items(section: DatenschutzSection | None = None) -> tuple[NoticeItem, ...]:
    """The short summary a ``/datenschutz`` command shows: each table with personal data and how
    long it is kept, with the configured periods filled in.

    Args:
        section: The configured ``[datenschutz]`` section; ``None`` for the defaults.
    """
    periods = period_texts(section)
    return tuple(NoticeItem(t.title, t.retention.format(**periods)) for t in TABLES if t.personal)


# Markdown -----------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Plain text for Markdown: ``<…>`` would vanish as HTML, ``|`` would split a table cell."""
    return text.replace("\\", "\\\\").replace("<", "\\<").replace("|", "\\|")


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _yes(personal: bool) -> str:
    return "ja" if personal else "nein"


def _table_section(table: Table, periods: dict[str, str], defaults: DatenschutzSection) -> list[str]:
    lines = [
        f"### {_md(table.title)} (`{table.name}`)",
        "",
        f"- **Inhalt:** {_md(table.content)}",
        f"- **Zweck:** {_md(table.purpose)}",
        f"- **Rechtsgrundlage:** {_md(table.legal_basis)}",
        f"- **Sichtbar für:** {_md(table.visible_to)}",
        f"- **Speicherdauer:** {_md(table.retention.format(**periods))}",
    ]
    if table.period_keys:
        keys = ", ".join(f"`{key}` (Standard `{getattr(defaults, key)}`)" for key in table.period_keys)
        lines.append(f"- **Einstellbare Fristen** in `[datenschutz]`: {keys}")
    lines += [
        f"- **Auskunft/Export:** {_md(table.access)}",
        f"- **Löschung:** {_md(table.erasure.format(**periods))}",
        "",
    ]
    lines += _table(
        ("Spalte", "Inhalt", "Personenbezogen"),
        ((f"`{c.name}`", _md(c.description), _yes(c.personal)) for c in table.columns),
    )
    return [*lines, ""]


def _log_section(line: LogLine) -> list[str]:
    return [
        f"### `{line.logger}` ({line.level})",
        "",
        f"- **Zeile:** `{line.message}`",
        f"- **Inhalt:** {_md(line.content)}",
        f"- **Zweck:** {_md(line.purpose)}",
        f"- **Speicherdauer:** {_md(line.retention)}",
        f"- **Löschung:** {_md(line.erasure)}",
        "",
    ]


INTRO = """\
Kümmerer ist ein Chat-Bot für offene Arbeitsgruppen (AGs) zivilgesellschaftlicher Netzwerke auf
Telegram und Matrix. Er führt das Register einer AG (Ziele und Beschlüsse), Treffen, Erinnerungen,
Abstimmungen und Umfragen und speichert dazu Daten in der Datenbank des Betreibers (SQLite oder
PostgreSQL).

**Verantwortlicher** im Sinne von Art. 4 Nr. 7 DSGVO ist der Betreiber der Installation, in der
Regel das Netzwerk oder sein Trägerverein. Er trägt sich in der Konfiguration unter
`[datenschutz] verantwortlich` mit Name und Kontakt ein; der Befehl `/datenschutz` nennt ihn.

Dieses Verzeichnis führt jede Tabelle und jede Spalte der Datenbank auf und die Protokollzeilen,
die personenbezogene Daten enthalten können: Inhalt, Zweck, Rechtsgrundlage, wer die Daten sieht,
wie lange sie gespeichert und wie sie herausgegeben und gelöscht werden. Es kann als Grundlage
des Verzeichnisses von Verarbeitungstätigkeiten (Art. 30 DSGVO) dienen. Die Rechtsgrundlagen sind
die, die ein Netzwerk typischerweise nennen würde; der Verantwortliche prüft sie für seinen Fall.
Die Speicherdauern nennen die Standardwerte; der Betreiber kann sie ändern (siehe „Speicherfristen
einstellen“).

**Was Kümmerer nicht speichert:** Chatverläufe. Der Bot liest die Nachrichten in den Chats einer
AG, um Befehle zu erkennen und Hinweise auf Beschlossenes zu geben, und speichert sie nicht.
Ausgenommen sind Nachrichten, auf die er mit einem Hinweis antwortet (`reopen_hints`), Antworten
auf Umfragen im privaten Chat und Texte, die Mitglieder mit Befehlen eintragen (Ziele, Beschlüsse,
Tagesordnung, Erinnerungen …). Von jeder Person, die in einem Chat einer AG schreibt, speichert er
Plattform-Kennung, Namen und Zeitpunkte (`people`, `memberships`). Die Nachrichten selbst liegen
bei Telegram bzw. auf dem Matrix-Server; dafür gelten deren Bedingungen.

**Besondere Kategorien (Art. 9 DSGVO):** Die Zugehörigkeit zu einer AG, Abstimmungen und
Umfrageantworten können politische Meinungen oder weltanschauliche Überzeugungen erkennen lassen.
Für Organisationen mit politischer, weltanschaulicher, religiöser oder gewerkschaftlicher
Ausrichtung kommt für ihre Mitglieder Art. 9 Abs. 2 lit. d DSGVO in Betracht; der
Verantwortliche prüft das.

In den Spaltentabellen heißt „ja“: die Spalte enthält Angaben zu einer Person oder verweist auf
eine. Freitexte der AG (Texte von Zielen, Beschlüssen, Treffen) stehen auf „nein“, können aber
Namen enthalten."""

LOGS_INTRO = """\
Kümmerer schreibt seine Protokolle nach stderr, in der Stufe `KUEMMERER_LOG_LEVEL` (Standard
`WARNING`). Ab `INFO` nennen sie Chats und Personen nur mit Kennungen, nie mit Namen oder
Nachrichtentext (`bot/core/logsafe.py`). Geheimnisse (Telegram-Token, Webhook-Geheimnis,
Matrix-Passwort und Zugangstoken, Datenbankpasswort) entfernt ein Filter in jeder Stufe, auch
`DEBUG`, und die Datenbank zeigt in Fehlermeldungen keine SQL-Parameter. Diese Zeilen können
personenbezogene Daten enthalten:"""

RIGHTS = """\
Die Befehle funktionieren im privaten Chat mit dem Bot, auf jeder Plattform für das dortige Konto
(dieselbe Person auf Telegram und Matrix sind zwei Konten); in einer Gruppe verweist der Bot in
den privaten Chat.

- **Auskunft (Art. 15 DSGVO):** `/meine_daten` (englisch `/mydata`) zeigt alle Einträge über die
  Person, nach den oben genannten Abschnitten gruppiert (`profil`, `mitgliedschaften`,
  `privater_chat`, `ziele`, `beschluesse`, `treffen`, `abstimmungen`, `umfragen`, `erinnerungen`,
  `hinweise`, `verknuepfungen`, `protokoll`, `nachrichten`, `nachrichten_erwaehnt`), und schickt
  sie vollständig als JSON-Datei. Die Datei nennt auch, was sie nicht enthalten kann: Stimmen und
  Antworten in anonymen Abstimmungen und Umfragen (es gibt keine Verbindung zur Person), Nachrichten
  in Gruppen (nicht gespeichert) und was die Plattform selbst speichert.
- **Datenübertragbarkeit (Art. 20 DSGVO):** die JSON-Datei von `/meine_daten` ist maschinenlesbar
  (Schema `kuemmerer/meine-daten/1`).
- **Löschung (Art. 17 DSGVO):** `/daten_loeschen` (englisch `/deletemydata`) löscht nach einer
  Bestätigung alles über die Person, was nicht zur Dokumentation einer AG gehört: den privaten Chat
  und alle Nachrichten dorthin, Mitgliedschaften und Rollen, private Erinnerungen, Stimmen in nicht
  anonymen Abstimmungen, Antworten in nicht anonymen Umfragen, Hinweise auf ihre Nachrichten und
  daraus gemachte Beispiele, Verknüpfungsversuche. Einträge im Register (Ziele, Beschlüsse,
  Treffen, Tagesordnung, Abstimmungen, Protokoll) bleiben als Dokumentation der AG und heißen dann
  „ehemaliges Mitglied“; Name und Benutzername werden entfernt, die Plattform-Kennung durch einen
  Platzhalter ersetzt. Wer als Einzige oder Einziger die Koordination einer AG mit weiteren
  Mitgliedern innehat, gibt die Rolle vorher ab (`/rolle`).
- **Berichtigung (Art. 16 DSGVO):** Namen übernimmt der Bot bei jeder Nachricht von der Plattform;
  eine Namensänderung dort gilt mit der nächsten Nachricht. Einträge im Register berichtigt die
  Koordination (z. B. einen Beschluss ersetzen).
- **Widerspruch (Art. 21 DSGVO):** an den Verantwortlichen (`[datenschutz] verantwortlich`,
  `/datenschutz`).
- **Nach dem Austritt:** Wer keiner AG mehr angehört und {ehemalige} lang nicht gesehen wurde, wird
  pseudonymisiert: Name, Benutzername und Plattform-Kennung werden ersetzt, privater Chat,
  Nachrichten dorthin, private Erinnerungen, Hinweise auf eigene Nachrichten und
  Verknüpfungsversuche gelöscht. Mitgliedschaften, Stimmen und Antworten bleiben, ohne Namen.
- **Ende einer AG:** `/ag schliessen` beendet die Arbeit einer AG, ihre Daten bleiben bis
  `/ag loeschen`. Das löscht die AG mit allen Daten {ag_loeschfrist} später endgültig (bis dahin
  `/ag wiederherstellen`); vorher erhält die Koordination einen abschließenden Export des
  Registers."""

PERIODS_INTRO = """\
Die Fristen stehen im Abschnitt `[datenschutz]` der Konfiguration (`config.toml`), als Dauer mit
Einheit `d` (Tage), `h` (Stunden) oder `m` (Minuten). Ein Löschlauf entfernt einmal täglich um
`uhrzeit` (Zeitzone des Bots) alles, was älter ist, und pseudonymisiert ehemalige Mitglieder;
`kuemmerer datenschutz bericht` zeigt, was er jetzt entfernen würde."""

PERIOD_MEANINGS = {
    "outbox_zugestellt": "Zugestellte Nachrichten des Bots (`outbox`)",
    "outbox_fehlgeschlagen": "Nicht zustellbare Nachrichten des Bots (`outbox`)",
    "hinweis_texte": "Texte der Nachrichten mit Hinweis auf Beschlossenes (`reopen_hints`)",
    "link_versuche": "Abgelehnte Verknüpfungsversuche (`link_attempts`)",
    "ehemalige": "Ehemalige Mitglieder: so lange nach dem letzten Kontakt pseudonymisiert (`people`)",
    "ag_loeschfrist": "Frist zwischen `/ag loeschen` und der endgültigen Löschung einer AG",
    "verantwortlich": "Name und Kontakt des Verantwortlichen, wie `/datenschutz` ihn nennt",
    "uhrzeit": "Uhrzeit des täglichen Löschlaufs",
}

BACKUP = """\
- `kuemmerer backup DATEI` schreibt eine konsistente Sicherung der Datenbank (auch während der Bot
  läuft), `kuemmerer restore DATEI` stellt sie wieder her (bei gestopptem Bot). Eine Sicherung
  enthält die hier genannten personenbezogenen Daten: Sicherungsdateien werden nur für das Konto
  des Betreibers lesbar angelegt (Rechte 0600), gehören verschlüsselt aufbewahrt und nach einer
  festen Frist gelöscht. Bei SQLite bleibt die Datenbank vor einer Wiederherstellung als
  `…vor-restore-<Zeit>` daneben liegen; sie ist nach der Prüfung zu löschen.
- **Geheimnisse stehen in keiner Sicherung und keinem Export** (außer mit `--with-secrets`):
  Telegram-Token, Webhook-Geheimnis und Matrix-Passwort stehen nur in der Konfiguration oder
  Umgebung; das Matrix-Zugangstoken in `platform_state` und noch nicht zugestellte Nachrichten mit
  Verknüpfungscodes werden ausgelassen. Bei PostgreSQL enthält die Sicherung die Zeilen von
  `platform_state` und `outbox` gar nicht. Nach einer Wiederherstellung meldet sich der Bot mit
  dem Passwort neu an. Die Schlüssel der Prüfwerte laufender anonymer Abstimmungen und Umfragen
  (`polls.secret`, `surveys.secret`) bleiben in der Sicherung, damit diese weiterlaufen können.
- `kuemmerer export-ag <AG>` exportiert das Register einer AG (Ziele und Beschlüsse mit ihrer
  Geschichte) als Markdown oder JSON, für ihr Archiv oder vor `/ag loeschen`: ohne
  Plattform-Kennungen, Chats, Mitgliederliste und Geheimnisse; wer einen Beschluss erfasst hat,
  steht dort nur mit dem Anzeigenamen, nach einer Pseudonymisierung gar nicht.
- Der Schlüsselspeicher für verschlüsselte Matrix-Räume (`[matrix] store_path`) liegt außerhalb
  der Datenbank und ist nicht Teil der Sicherung. Er enthält die Schlüssel des Bot-Geräts,
  verschlüsselt nur mit dem festen Standardschlüssel der Bibliothek matrix-nio, ist also allein
  durch die Dateirechte geschützt: das Verzeichnis darf nur das Konto des Bots lesen.
- Nach einer Wiederherstellung ist alles wieder da, was nach der Sicherung gelöscht wurde: der
  nächste Löschlauf entfernt Abgelaufenes erneut, `/daten_loeschen` und `/ag loeschen` aus der
  Zwischenzeit muss der Betreiber wiederholen. Kurze Aufbewahrungsfristen für Sicherungen halten
  das klein."""


def render_markdown() -> str:
    """The whole ``docs/datenschutz.md`` (German), with the default periods of ``[datenschutz]``."""
    defaults = DatenschutzSection()
    periods = period_texts(defaults)
    lines = [
        "<!-- Generated from bot/services/privacy_tables.py by bot/services/privacy_inventory.py;",
        f"     do not edit by hand. Regenerate: {REGENERATE} -->",
        "",
        "# Datenschutz: Verzeichnis der personenbezogenen Daten",
        "",
        INTRO,
        "",
        "## Überblick",
        "",
    ]
    lines += _table(
        ("Tabelle", "Titel", "Personenbezogen", "Speicherdauer"),
        ((f"`{t.name}`", _md(t.title), _yes(t.personal), _md(t.retention.format(**periods))) for t in TABLES),
    )
    lines += ["", "## Tabellen", ""]
    for table in TABLES:
        lines += _table_section(table, periods, defaults)
    lines += ["## Protokollzeilen (Logs)", "", LOGS_INTRO, ""]
    for line in LOG_LINES:
        lines += _log_section(line)
    lines += ["## Rechte der betroffenen Personen", "", RIGHTS.format(**periods), ""]
    lines += ["## Speicherfristen einstellen", "", PERIODS_INTRO, ""]
    lines += _table(
        ("Schlüssel", "Standard", "Bedeutung"),
        (
            (f"`{key}`", f"`{getattr(defaults, key)}`" if getattr(defaults, key) else "(leer)", meaning)
            for key, meaning in PERIOD_MEANINGS.items()
        ),
    )
    lines += ["", "## Sicherung und Wiederherstellung", "", BACKUP, ""]
    return "\n".join(lines)


def main() -> None:
    """Print the document (UTF-8, whatever the terminal's encoding)."""
    sys.stdout.buffer.write(render_markdown().encode("utf-8"))


if __name__ == "__main__":
    main()
