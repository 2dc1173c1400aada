"""The data of the data-protection inventory: every table and column, every log line with personal data.

This is the one source of truth behind ``docs/datenschutz.md`` (rendered by
:mod:`bot.services.privacy_inventory`) and the ``/datenschutz`` notice; the texts are German
because they are written for a network's data-protection officer and for members.
``tests/services/test_privacy_inventory.py`` compares the tables and columns with the models'
metadata, so a new column cannot go unlisted.

Retention and erasure texts may name ``[datenschutz]`` periods as ``{key}`` placeholders (e.g.
``{outbox_zugestellt}``): they are filled with the configured values, so a notice never states a
period the operator changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table.

    Attributes:
        name: The column name exactly as in the model.
        description: What it holds (German).
        personal: It holds data about a person or points to one. Free texts of the AG's own
            record (goal texts, meeting titles) count as not personal, although they may name people.
    """

    name: str
    description: str
    personal: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """One table: what it holds, why, on which legal basis, who sees it, how long it is kept.

    All texts are German. ``retention`` and ``erasure`` may contain ``{key}`` placeholders for
    ``[datenschutz]`` periods (see the module docstring).

    Attributes:
        name: The ``__tablename__``.
        title: A short title, e.g. "Personen".
        content: What is stored.
        purpose: Why it is stored (Zweck).
        legal_basis: The legal basis a network would typically name.
        visible_to: Who can see it.
        retention: How long it is kept.
        access: How a person gets it (Art. 15 and 20 DSGVO), or "nicht personenbezogen".
        erasure: How it is erased.
        columns: Every column of the table.
    """

    name: str
    title: str
    content: str
    purpose: str
    legal_basis: str
    visible_to: str
    retention: str
    access: str
    erasure: str
    columns: tuple[Column, ...]

    @property
    def personal(self) -> bool:
        """Whether any column holds personal data or points to a person."""
        return any(column.personal for column in self.columns)

    @property
    def period_keys(self) -> tuple[str, ...]:
        """The ``[datenschutz]`` keys named as placeholders in retention and erasure, in order."""
        return placeholders(self.retention, self.erasure)


@dataclass(frozen=True, slots=True)
class LogLine:
    """A log line that may contain personal data (texts German except ``logger`` and ``message``).

    Attributes:
        logger: The logger (module) that writes it.
        level: The lowest level at which it is written (``KUEMMERER_LOG_LEVEL``, default WARNING).
        message: The line's shape as in the code, with placeholders in angle brackets.
        content: Which personal data it can contain.
        purpose: Why it is written.
        retention: How long it is kept.
        erasure: How it is erased.
    """

    logger: str
    level: str
    message: str
    content: str
    purpose: str
    retention: str
    erasure: str


def placeholders(*texts: str) -> tuple[str, ...]:
    """The ``{key}`` placeholders in ``texts``, each once, in order of appearance."""
    found: list[str] = []
    for text in texts:
        for _, key, _, _ in Formatter().parse(text):
            if key and key not in found:
                found.append(key)
    return tuple(found)


# Texts several tables share ----------------------------------------------------------------------

ID = Column("id", "Technische Kennung des Eintrags")
CREATED_AT = Column("created_at", "Zeitpunkt der Anlage")
GROUP_ID = Column("group_id", "Verweis auf die AG")

# The legal bases a network would typically name; the operator checks them for its own case.
LB_AG = (
    "Art. 6 Abs. 1 lit. f DSGVO (berechtigtes Interesse der AG, ihre Arbeit gemeinsam und "
    "nachvollziehbar zu organisieren); sind die Beteiligten Mitglieder des Trägervereins, auch "
    "lit. b (satzungsgemäße Vereinsarbeit)"
)
LB_OPERATION = (
    "Art. 6 Abs. 1 lit. f DSGVO (berechtigtes Interesse am zuverlässigen und sicheren Betrieb "
    "des Bots); Art. 32 DSGVO (Sicherheit der Verarbeitung)"
)
LB_OWN = (
    "Art. 6 Abs. 1 lit. f DSGVO (die Person nutzt die Funktion selbst und auf eigenen Wunsch); "
    "bei Vereinsmitgliedern auch lit. b"
)
LB_NONE = "entfällt (keine personenbezogenen Daten)"

VISIBLE_AG = "Mitglieder der AG in deren Chats"
VISIBLE_OPERATORS = "nur Betreiber mit Zugriff auf die Datenbank"

AG_LIFETIME = "Solange die AG besteht; mit der AG gelöscht ({ag_loeschfrist} nach /ag loeschen)"
AG_DELETE = (
    "Mit der AG: /ag loeschen löscht sie {ag_loeschfrist} später endgültig (bis dahin "
    "/ag wiederherstellen); vorher ist ein Export des Registers möglich"
)
PSEUDONYMISED = (
    "Verweise auf Personen bleiben; nach /daten_loeschen oder der Pseudonymisierung ehemaliger "
    "Mitglieder zeigen sie auf „ehemaliges Mitglied“"
)
NOT_PERSONAL = "nicht personenbezogen"
EXPORT_AG = "nicht personenbezogen; mit dem Register der AG: kuemmerer export-ag"

# The tables ---------------------------------------------------------------------------------------

PEOPLE = Table(
    name="people",
    title="Personen",
    content=(
        "Eine Plattform-Identität je Eintrag: Telegram-Nutzer-ID oder Matrix-ID, angezeigter Name, "
        "Benutzername und wann die Person zuerst und zuletzt gesehen wurde. Dieselbe Person auf "
        "Telegram und Matrix sind zwei Einträge."
    ),
    purpose=(
        "Befehle einer Person zuordnen, Rollen prüfen, Urheber von Einträgen im Register und in "
        "Abstimmungen benennen, private Nachrichten zustellen."
    ),
    legal_basis=LB_AG,
    visible_to="Name und Benutzername: Mitglieder der AGs der Person (z. B. in Listen und Einträgen)",
    retention=(
        "Solange die Person einer AG angehört; wer keiner AG mehr angehört und {ehemalige} lang "
        "nicht gesehen wurde, wird pseudonymisiert"
    ),
    access="/meine_daten, Abschnitt „profil“",
    erasure=(
        "/daten_loeschen und der tägliche Löschlauf pseudonymisieren: der Name wird „ehemaliges "
        "Mitglied“, der Benutzername entfällt, die Plattform-Kennung wird durch einen Platzhalter "
        "ersetzt; der Eintrag bleibt, damit Beschlüsse und Ziele der AG ihren (nun namenlosen) "
        "Urheber behalten"
    ),
    columns=(
        ID,
        Column("platform", "Plattform (telegram, matrix, console)"),
        Column(
            "external_id",
            "Kennung der Person auf der Plattform (Telegram-Nutzer-ID, Matrix-ID); nach der "
            "Pseudonymisierung ein Platzhalter",
            True,
        ),
        Column("display_name", "Angezeigter Name, wie ihn die Plattform meldet", True),
        Column("username", "Benutzername (Telegram @name), falls vorhanden", True),
        Column("first_seen", "Wann der Bot die Person zum ersten Mal sah", True),
        Column(
            "last_seen", "Wann der Bot die Person zuletzt sah (höchstens alle 5 Minuten aktualisiert)", True
        ),
        Column("pseudonymised_at", "Wann die Person pseudonymisiert wurde", True),
        Column(
            "identity_id",
            "Verknüpfte Konten derselben Person (/konto verknuepfen) tragen dieselbe Nummer",
            True,
        ),
    ),
)

MEMBERSHIPS = Table(
    name="memberships",
    title="Mitgliedschaften",
    content=(
        "Welche Person in welcher AG ist, ihre Rolle (Mitglied, Kümmerer, Koordination), wann sie "
        "zuerst und zuletzt in der AG gesehen wurde, Einführung erhalten und bestätigt, ausgetreten, "
        "Chat-Administrator."
    ),
    purpose=(
        "Rechte prüfen, Neuen die Einführung schicken, Rückkehrern Änderungen zusammenfassen, "
        "Beteiligung und Quoren von Abstimmungen und Umfragen berechnen."
    ),
    legal_basis=LB_AG,
    visible_to="Mitglieder der AG (Mitglieder- und Rollenlisten)",
    retention=(
        "Solange die AG besteht; nach dem Austritt als ausgetreten markiert (nach der "
        "Pseudonymisierung, {ehemalige} nach dem letzten Kontakt, ohne Namen)"
    ),
    access="/meine_daten, Abschnitt „mitgliedschaften“",
    erasure="/daten_loeschen löscht alle Mitgliedschaften und Rollen der Person; sonst mit der AG",
    columns=(
        ID,
        GROUP_ID,
        Column("person_id", "Verweis auf die Person", True),
        Column("role", "Rolle in der AG: mitglied, kuemmerer, koordination", True),
        Column("first_seen", "Erster Kontakt in dieser AG", True),
        Column("last_seen", "Letzter Kontakt in dieser AG", True),
        Column("briefed_at", "Wann die Einführung für Neue verschickt wurde", True),
        Column("acknowledged_at", "Wann die Person die Einführung bestätigt hat", True),
        Column("left_at", "Wann die Person den letzten Chat der AG verlassen hat", True),
        Column("chat_admin", "Die Plattform meldet die Person als Administrator eines Chats der AG", True),
    ),
)

CHATS = Table(
    name="chats",
    title="Chats",
    content=(
        "Gruppenchats und Matrix-Räume der AGs sowie private Chats mit dem Bot: Plattform-Kennung, "
        "Art und Titel. Bei einem privaten Chat ist die Kennung die der Person und der Titel ihr "
        "Name (Telegram) bzw. der Raumname (Matrix)."
    ),
    purpose="Nachrichten der richtigen AG zuordnen und Antworten zustellen.",
    legal_basis=LB_AG,
    visible_to="Gruppenchats: Mitglieder der AG (/ag); private Chats: " + VISIBLE_OPERATORS,
    retention=(
        "Gruppenchats solange die AG besteht; private Chats bis /daten_loeschen oder zur "
        "Pseudonymisierung ({ehemalige} nach dem letzten Kontakt)"
    ),
    access="/meine_daten, Abschnitt „privater_chat“ (Gruppenchats: nicht personenbezogen)",
    erasure=(
        "Der private Chat wird bei /daten_loeschen und bei der Pseudonymisierung gelöscht; "
        "Gruppenchats mit der AG (/ag loeschen, Frist {ag_loeschfrist})"
    ),
    columns=(
        ID,
        Column("platform", "Plattform"),
        Column("external_id", "Kennung des Chats; bei privaten Chats die der Person", True),
        Column("kind", "Art: group oder private"),
        Column("title", "Titel; bei privaten Chats der Name der Person oder des Raums", True),
        Column("group_id", "Die AG, zu der ein Gruppenchat gehört"),
        Column("current_group_id", "Privater Chat: die AG, die die Person zuletzt gewählt hat", True),
        CREATED_AT,
    ),
)

WORKING_GROUPS = Table(
    name="working_groups",
    title="Arbeitsgruppen (AGs)",
    content=(
        "Name, Thema, Beschreibung und Einstellungen einer AG (Zeitzone, Sprache, Begrüßungstext, "
        "Hinweise, Treffen, Abstimmungen) und die Zähler ihrer laufenden Nummern. Keine "
        "personenbezogenen Daten; Freitexte der Koordination können Namen von Ansprechpersonen "
        "enthalten."
    ),
    purpose="Die AG als Einheit ihres Registers, ihrer Chats und ihrer Einstellungen führen.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_AG,
    retention=AG_LIFETIME,
    access=EXPORT_AG,
    erasure=AG_DELETE,
    columns=(
        ID,
        Column("name", "Name der AG"),
        Column("topic", "Thema"),
        Column("description", "Beschreibung (Freitext der Koordination)"),
        Column("timezone", "Zeitzone"),
        Column("language", "Sprache der Bot-Nachrichten"),
        Column("goal_seq", "Zähler der Zielnummern"),
        Column("decision_seq", "Zähler der Beschlussnummern"),
        CREATED_AT,
        Column("welcome_text", "Begrüßungstext für Neue (Freitext der Koordination)"),
        Column("onboarding_enabled", "Einführung für Neue an/aus"),
        Column("absence_days", "Nach wie vielen Tagen Abwesenheit Rückkehrer eine Zusammenfassung erhalten"),
        Column("hints_enabled", "Hinweise auf Beschlossenes an/aus"),
        Column("hint_sensitivity", "Empfindlichkeit der Hinweise"),
        Column("hint_cooldown_days", "Tage bis zum erneuten Hinweis auf denselben Eintrag"),
        Column("hints_private", "Hinweise privat statt in der Gruppe"),
        Column("meeting_seq", "Zähler der Treffennummern"),
        Column("meeting_reminders", "Wann vor Treffen erinnert wird"),
        Column("poll_seq", "Zähler der Abstimmungsnummern"),
        Column("polls_open", "Alle Mitglieder dürfen Abstimmungen starten"),
        Column("closed_at", "Wann die AG geschlossen wurde (/ag schliessen)"),
        Column("delete_after", "Ab wann die AG gelöscht wird (/ag loeschen, nach der Frist)"),
    ),
)

GOALS = Table(
    name="goals",
    title="Ziele",
    content=(
        "Die Ziele der AG mit Nummer, Text und Status, wer sie angelegt und wer sie als erreicht "
        "oder verworfen markiert hat, mit Begründung."
    ),
    purpose="Das Register der AG: festhalten, was die AG erreichen will und erreicht hat.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_AG,
    retention=AG_LIFETIME,
    access="/meine_daten, Abschnitt „ziele“ (selbst angelegte und abgeschlossene)",
    erasure=AG_DELETE + ". " + PSEUDONYMISED,
    columns=(
        ID,
        GROUP_ID,
        Column("number", "Laufende Nummer in der AG"),
        Column("text", "Text des Ziels"),
        Column("status", "Status: aktiv, erreicht, verworfen"),
        Column("created_by_id", "Wer das Ziel angelegt hat", True),
        CREATED_AT,
        Column("closed_by_id", "Wer es als erreicht oder verworfen markiert hat", True),
        Column("closed_at", "Wann es abgeschlossen wurde"),
        Column("close_reason", "Begründung beim Abschluss"),
    ),
)

DECISIONS = Table(
    name="decisions",
    title="Beschlüsse",
    content=(
        "Die Beschlüsse der AG mit Nummer, Text, Datum und Status, wer sie eingetragen und wer sie "
        "ersetzt oder aufgehoben hat, mit Begründung; ersetzte und aufgehobene bleiben erhalten."
    ),
    purpose="Das Register der AG: nachvollziehbar festhalten, was beschlossen ist.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_AG,
    retention=AG_LIFETIME,
    access="/meine_daten, Abschnitt „beschluesse“ (selbst eingetragene und geschlossene)",
    erasure=AG_DELETE + ". " + PSEUDONYMISED,
    columns=(
        ID,
        GROUP_ID,
        Column("number", "Laufende Nummer in der AG"),
        Column("text", "Text des Beschlusses"),
        Column("search_text", "Vereinfachte Kopie von Text und Schlagworten für die Suche"),
        Column("status", "Status: gültig, ersetzt, aufgehoben"),
        Column("decided_on", "Datum des Beschlusses"),
        Column("author_id", "Wer den Beschluss eingetragen hat", True),
        CREATED_AT,
        Column("replaces_id", "Der Beschluss, den dieser ersetzt"),
        Column("closed_by_id", "Wer ihn ersetzt oder aufgehoben hat", True),
        Column("closed_at", "Wann er ersetzt oder aufgehoben wurde"),
        Column("close_reason", "Begründung der Aufhebung"),
        Column("important", "Wichtig: steht vorn in der Einführung für Neue"),
        Column("poll_id", "Die Abstimmung, deren Ergebnis er ist"),
    ),
)

DECISION_TAGS = Table(
    name="decision_tags",
    title="Schlagworte von Beschlüssen",
    content="Die #Schlagworte eines Beschlusses. Keine personenbezogenen Daten.",
    purpose="Beschlüsse nach Themen finden.",
    legal_basis=LB_NONE,
    visible_to=VISIBLE_AG,
    retention=AG_LIFETIME,
    access=EXPORT_AG,
    erasure=AG_DELETE,
    columns=(
        Column("decision_id", "Verweis auf den Beschluss"),
        Column("tag", "Schlagwort ohne #, in Kleinbuchstaben"),
    ),
)

AUDIT_LOG = Table(
    name="audit_log",
    title="Änderungsprotokoll",
    content=(
        "Jede Änderung am Register und an den Einstellungen einer AG: wer, was, wann, mit Details "
        "(z. B. alter und neuer Wert, Text eines neuen Ziels oder Beschlusses, Begründung, "
        "geänderte Rolle einer Person)."
    ),
    purpose=(
        "Nachvollziehbarkeit von Änderungen; Rückkehrer erfahren daraus, was sich seit ihrem "
        "letzten Besuch geändert hat."
    ),
    legal_basis=LB_AG,
    visible_to=(
        "Mitglieder der AG mittelbar (Zusammenfassung der Änderungen für Rückkehrer, ohne Namen); "
        "vollständig " + VISIBLE_OPERATORS
    ),
    retention=AG_LIFETIME,
    access="/meine_daten, Abschnitt „protokoll“ (Einträge, in denen die Person gehandelt hat)",
    erasure=AG_DELETE + ". " + PSEUDONYMISED,
    columns=(
        ID,
        GROUP_ID,
        Column("actor_id", "Wer die Änderung vorgenommen hat", True),
        Column("action", "Art der Änderung, z. B. decision.create, role.set"),
        Column("entity", "Art des geänderten Eintrags, z. B. decision, person"),
        Column(
            "entity_id",
            "Kennung des geänderten Eintrags; bei Rollenänderungen die der betroffenen Person",
            True,
        ),
        Column("details", "Einzelheiten: alte und neue Werte, Texte, Begründungen"),
        CREATED_AT,
    ),
)

MEETINGS = Table(
    name="meetings",
    title="Treffen",
    content=(
        "Treffen der AG, einmalig oder als Serie: Titel, Ort oder Link, Zeitregel, Zeitzone und "
        "wer das Treffen angelegt hat."
    ),
    purpose="Treffen ankündigen, daran erinnern und als Kalender (/kalender) ausgeben.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_AG + " (auch im Kalender-Export)",
    retention=AG_LIFETIME,
    access="/meine_daten, Abschnitt „treffen“ (selbst angelegte)",
    erasure=AG_DELETE + ". " + PSEUDONYMISED,
    columns=(
        ID,
        GROUP_ID,
        Column("number", "Laufende Nummer in der AG"),
        Column("title", "Titel des Treffens"),
        Column("location", "Ort oder Link (kann eine Privatadresse sein)"),
        Column("rule", "Wiederholungsregel"),
        Column("timezone", "Zeitzone"),
        Column("local_start", "Beginn in Ortszeit"),
        Column("first_start", "Erster Termin (UTC)"),
        Column("next_start", "Nächster Termin (UTC)"),
        Column("status", "Status: aktiv, abgesagt, beendet"),
        Column("created_by_id", "Wer das Treffen angelegt hat", True),
        CREATED_AT,
    ),
)

MEETING_CANCELLATIONS = Table(
    name="meeting_cancellations",
    title="Abgesagte Termine",
    content="Einzelne abgesagte Termine einer Serie und wer sie abgesagt hat.",
    purpose="Abgesagte Termine nicht ankündigen und im Kalender auslassen.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_AG,
    retention=AG_LIFETIME,
    access="/meine_daten, Abschnitt „treffen“ (selbst abgesagte Termine)",
    erasure=AG_DELETE + ". " + PSEUDONYMISED,
    columns=(
        ID,
        Column("meeting_id", "Verweis auf das Treffen"),
        Column("occurrence", "Der abgesagte Termin"),
        Column("cancelled_by_id", "Wer ihn abgesagt hat", True),
        CREATED_AT,
    ),
)

AGENDA_ITEMS = Table(
    name="agenda_items",
    title="Tagesordnungspunkte",
    content=(
        "Punkte der Tagesordnung eines Termins mit Text und wer sie eingebracht hat; gelöschte "
        "Punkte werden nur als gelöscht markiert."
    ),
    purpose="Die Tagesordnung eines Treffens gemeinsam sammeln.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_AG,
    retention=AG_LIFETIME,
    access="/meine_daten, Abschnitt „treffen“ (selbst eingebrachte Punkte)",
    erasure=AG_DELETE + ". " + PSEUDONYMISED,
    columns=(
        ID,
        Column("meeting_id", "Verweis auf das Treffen"),
        Column("occurrence", "Der Termin, zu dem der Punkt gehört"),
        Column("number", "Nummer auf der Tagesordnung"),
        Column("text", "Text des Punkts"),
        Column("added_by_id", "Wer den Punkt eingebracht hat", True),
        CREATED_AT,
        Column("deleted_at", "Wann er gelöscht wurde"),
    ),
)

POLLS = Table(
    name="polls",
    title="Abstimmungen",
    content=(
        "Frage, Optionen, Einstellungen, Frist und Ergebnis einer Abstimmung (auch "
        "Terminabstimmungen), wer sie gestartet und wer sie beendet hat. Bei anonymen "
        "Abstimmungen ein Schlüssel für die Prüfwerte der Stimmen, der beim Ende gelöscht wird."
    ),
    purpose="Entscheidungen der AG herbeiführen und ihr Ergebnis festhalten.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_AG,
    retention=AG_LIFETIME + "; der Schlüssel anonymer Abstimmungen nur bis zum Ende",
    access="/meine_daten, Abschnitt „abstimmungen“ (selbst gestartete und beendete)",
    erasure=AG_DELETE + ". " + PSEUDONYMISED,
    columns=(
        ID,
        GROUP_ID,
        Column("number", "Laufende Nummer in der AG"),
        Column("question", "Frage"),
        Column("options", "Antwortmöglichkeiten"),
        Column("yes_no", "Ja/Nein-Abstimmung"),
        Column("multiple", "Mehrfachauswahl erlaubt"),
        Column("anonymous", "Anonyme Abstimmung"),
        Column("effect", "Was ein angenommenes Ergebnis wird (Beschluss, Ziel, …)"),
        Column("replaces_number", "Nummer des Beschlusses, den das Ergebnis ersetzt"),
        Column("quorum_count", "Quorum als Anzahl"),
        Column("quorum_percent", "Quorum in Prozent"),
        Column("until_all", "Endet, sobald alle abgestimmt haben"),
        Column("deadline", "Frist"),
        Column("remind_minutes", "Erinnerung an Nicht-Abstimmende so lange vor der Frist"),
        Column("status", "Status: offen, beendet"),
        Column("created_by_id", "Wer die Abstimmung gestartet hat", True),
        CREATED_AT,
        Column("closed_at", "Wann sie endete"),
        Column("closed_by_id", "Wer sie vorzeitig beendet hat", True),
        Column("secret", "Anonyme Abstimmung: Schlüssel der Prüfwerte; beim Ende gelöscht"),
        Column("counts", "Eingefrorenes Ergebnis: Stimmen je Option"),
        Column("voter_count", "Anzahl der Abstimmenden"),
        Column("member_count", "Anzahl der Mitglieder beim Ende"),
        Column("outcome", "Ergebnis (angenommen, abgelehnt, Gleichstand, …)"),
        Column("recorded_number", "Nummer des Beschlusses oder Ziels, das daraus wurde"),
        Column("not_recorded", "Warum das Ergebnis nicht eingetragen wurde"),
        Column("kind", "Art: Standard- oder Terminabstimmung"),
        Column("option_starts", "Terminabstimmung: Beginn jedes Termins"),
        Column("location", "Terminabstimmung: Ort des Treffens"),
        Column("answer_counts", "Terminabstimmung: eingefrorene Antworten je Termin"),
        Column("chosen_position", "Terminabstimmung: gewählter Termin"),
        Column("meeting_number", "Terminabstimmung: das daraus angelegte Treffen"),
    ),
)

POLL_VOTES = Table(
    name="poll_votes",
    title="Stimmen",
    content=(
        "Die aktuelle Stimme je Person und Abstimmung. Nicht anonyme Abstimmungen: mit Person und "
        "Zeitpunkt. Anonyme Abstimmungen: nur ein Prüfwert (verschlüsselter Hash der "
        "Personenkennung), kein Verweis auf die Person und keine Zeit."
    ),
    purpose="Stimmen zählen, eine Stimme je Person sichern, Nicht-Abstimmende erinnern.",
    legal_basis=LB_AG + "; die Teilnahme an der Abstimmung ist freiwillig",
    visible_to=(
        "Nicht anonyme Abstimmungen: Mitglieder der AG sehen, wer abgestimmt hat (bei den Umfragen der "
        "Plattform auch wie); anonyme: niemand in der AG. Solange eine anonyme Abstimmung läuft, "
        "könnten Betreiber mit Zugriff auf die Datenbank die Prüfwerte Personen zuordnen"
    ),
    retention=(
        "Anonyme Abstimmungen: bis zum Ende der Abstimmung, dann bleibt nur das Ergebnis. "
        "Nicht anonyme: solange die AG besteht"
    ),
    access="/meine_daten, Abschnitt „abstimmungen“ (eigene Stimmen in nicht anonymen Abstimmungen)",
    erasure=(
        "Anonyme Stimmen beim Ende der Abstimmung (der tägliche Löschlauf räumt Reste auf); "
        "/daten_loeschen löscht die eigenen Stimmen (eingefrorene Ergebnisse beendeter Abstimmungen "
        "bleiben unverändert); nach der Pseudonymisierung ehemaliger Mitglieder bleiben sie ohne "
        "Namen; sonst mit der AG ({ag_loeschfrist} nach /ag loeschen)"
    ),
    columns=(
        ID,
        Column("poll_id", "Verweis auf die Abstimmung"),
        Column("voter_key", "p<Personennummer> oder, anonym, ein verschlüsselter Hash davon", True),
        Column("person_id", "Wer abgestimmt hat (nur bei nicht anonymen Abstimmungen)", True),
        Column("choices", "Gewählte Optionen", True),
        Column("answers", "Terminabstimmung: Antwort je Termin (ja, vielleicht, nein)", True),
        Column("cast_at", "Zeitpunkt der Stimme (nur bei nicht anonymen Abstimmungen)", True),
    ),
)

POLL_MESSAGES = Table(
    name="poll_messages",
    title="Nachrichten von Abstimmungen",
    content=(
        "Kennungen der Nachrichten und nativen Umfragen, mit denen eine Abstimmung in den "
        "Gruppenchats angekündigt wurde. Keine personenbezogenen Daten."
    ),
    purpose="Antworten in den Umfragen der Plattform der Abstimmung zuordnen und sie beenden.",
    legal_basis=LB_NONE,
    visible_to=VISIBLE_OPERATORS,
    retention=AG_LIFETIME,
    access=NOT_PERSONAL,
    erasure=AG_DELETE,
    columns=(
        ID,
        Column("poll_id", "Verweis auf die Abstimmung"),
        Column("platform", "Plattform"),
        Column("chat_id", "Kennung des Gruppenchats"),
        Column("message_id", "Kennung der Nachricht"),
        Column("native_poll_id", "Kennung der Umfrage auf der Plattform"),
        Column("closed", "Die Umfrage der Plattform wurde beendet"),
    ),
)

REMINDERS = Table(
    name="reminders",
    title="Erinnerungen",
    content=(
        "Erinnerungen mit Text, Zeitregel und Ziel-Chat: solche der AG (in ihrem Gruppenchat "
        "angelegt) und private (im privaten Chat angelegt, der Ziel-Chat ist dann die Person); "
        "gelöschte werden nur als gelöscht markiert."
    ),
    purpose="Zur gewünschten Zeit erinnern.",
    legal_basis=LB_AG + "; private Erinnerungen: " + LB_OWN,
    visible_to="Erinnerungen der AG: Mitglieder der AG; private: nur die Person",
    retention=(
        "Der Text erledigter, verpasster und gelöschter Erinnerungen {outbox_zugestellt} nach der "
        "letzten Erinnerung (die Zeile bleibt ohne Text, damit ihre Nummer nicht neu vergeben "
        "wird); aktive und pausierte solange die AG besteht, private längstens bis /daten_loeschen "
        "oder zur Pseudonymisierung ({ehemalige} nach dem letzten Kontakt)"
    ),
    access="/meine_daten, Abschnitt „erinnerungen“ (private und selbst angelegte)",
    erasure=(
        "Täglicher Löschlauf leert die Texte beendeter Erinnerungen; /daten_loeschen und die "
        "Pseudonymisierung löschen die privaten Erinnerungen der Person; was sie in einer AG "
        "angelegt hat, bleibt bei der AG ({ag_loeschfrist} nach /ag loeschen gelöscht). " + PSEUDONYMISED
    ),
    columns=(
        ID,
        Column("group_id", "Die AG (fehlt bei privaten Erinnerungen ohne AG)"),
        Column("owner_id", "Wer die Erinnerung angelegt hat", True),
        Column("number", "Laufende Nummer in der AG bzw. bei der Person"),
        Column("platform", "Plattform des Ziel-Chats"),
        Column("chat_id", "Kennung des Ziel-Chats; bei privaten Erinnerungen die der Person", True),
        Column("chat_kind", "Art des Ziel-Chats"),
        Column("text", "Text der Erinnerung (bei privaten Erinnerungen persönlich)", True),
        Column("rule", "Wiederholungsregel"),
        Column("timezone", "Zeitzone"),
        Column("local_start", "Beginn in Ortszeit"),
        Column("next_due", "Nächste Fälligkeit"),
        Column("status", "Status: aktiv, pausiert, erledigt, verpasst, gelöscht"),
        Column("fired_count", "Wie oft sie schon erinnert hat"),
        CREATED_AT,
        Column("last_fired_at", "Wann sie zuletzt erinnert hat"),
    ),
)

SCHEDULED_JOBS = Table(
    name="scheduled_jobs",
    title="Geplante Aufgaben",
    content=(
        "Was wann fällig ist (Erinnerung, Ankündigung eines Treffens, Ende einer Abstimmung oder "
        "Umfrage) als Art und Kennung des Eintrags. Keine personenbezogenen Daten."
    ),
    purpose="Fällige Aufgaben auch nach einem Neustart pünktlich und genau einmal ausführen.",
    legal_basis=LB_NONE,
    visible_to=VISIBLE_OPERATORS,
    retention="Bis der Eintrag, auf den sie verweisen, gelöscht wird; mit der AG",
    access=NOT_PERSONAL,
    erasure=AG_DELETE,
    columns=(
        ID,
        Column("kind", "Art der Aufgabe, z. B. reminder, poll.close"),
        Column("ref_id", "Kennung des Eintrags, um den es geht (Erinnerung, Abstimmung, …)"),
        GROUP_ID,
        Column("due_at", "Fälligkeit"),
        Column("status", "Status: wartend, erledigt, verpasst, abgebrochen, fehlgeschlagen"),
        Column("data", "Kleine technische Angaben (z. B. der Termin eines Treffens)"),
        Column("attempts", "Anzahl der Versuche"),
        CREATED_AT,
        Column("fired_at", "Wann sie ausgeführt wurde"),
    ),
)

OUTBOX = Table(
    name="outbox",
    title="Ausgehende Nachrichten",
    content=(
        "Jede Nachricht des Bots wird vor dem Versand gespeichert: Ziel-Chat (bei privaten "
        "Nachrichten die Kennung der Person), vollständiger Inhalt samt Anhängen (z. B. "
        "Umfrage-Exporte, Kalender) und Zustellstatus. Nachrichten mit Geheimnissen "
        "oder besonders schutzwürdigen Inhalten (Verknüpfungscodes, Stimmzettel anonymer "
        "Abstimmungen, Gespräche anonymer Umfragen, Auskünfte von /meine_daten) verlieren ihren "
        "Inhalt, sobald sie zugestellt oder gescheitert sind."
    ),
    purpose=(
        "Keine Nachricht geht verloren (Zustellung nach Ausfällen und Neustarts); Fehlersuche bei "
        "nicht zugestellten Nachrichten."
    ),
    legal_basis=LB_OPERATION,
    visible_to=(
        "Die Empfänger sehen die Nachrichten in ihrem Chat; die gespeicherten Kopien nur Betreiber "
        "mit Zugriff auf die Datenbank"
    ),
    retention=(
        "Zugestellte Nachrichten {outbox_zugestellt} nach der Zustellung, nicht zustellbare "
        "{outbox_fehlgeschlagen}; wartende bis zur Zustellung"
    ),
    access=(
        "/meine_daten, Abschnitte „nachrichten“ (an den privaten Chat) und „nachrichten_erwaehnt“ "
        "(Nachrichten in Gruppen, die den Namen der Person enthalten)"
    ),
    erasure=(
        "Täglicher Löschlauf nach den Fristen; /daten_loeschen und die Pseudonymisierung löschen "
        "alle Nachrichten an den privaten Chat der Person, auch wartende; Nachrichten in Gruppen, "
        "die sie nennen, gehen mit der Frist"
    ),
    columns=(
        ID,
        Column("platform", "Plattform"),
        Column("chat_id", "Ziel-Chat; bei privaten Nachrichten die Kennung der Person", True),
        Column("chat_kind", "Art des Ziel-Chats"),
        Column("payload", "Inhalt der Nachricht: Text, Schaltflächen, Anhänge, Umfragen", True),
        Column("status", "Status: wartend, zugestellt, fehlgeschlagen"),
        Column("attempts", "Anzahl der Zustellversuche"),
        CREATED_AT,
        Column("sent_at", "Zeitpunkt der Zustellung"),
        Column("external_id", "Kennung der Nachricht auf der Plattform"),
        Column("error", "Fehlermeldung der Plattform (z. B. Bot blockiert)", True),
        Column("secret", "Der Inhalt enthält ein Geheimnis und wird nach der Zustellung entfernt"),
        Column("source", "Kennung des Ereignisses, auf das die Nachricht antwortet"),
        Column("tag", "Wozu die Nachricht gehört, z. B. poll:12"),
    ),
)

PLATFORM_STATE = Table(
    name="platform_state",
    title="Zustand der Plattform-Anbindungen",
    content=(
        "Schlüssel-Wert-Paare der Anbindungen an Telegram und Matrix: Position im Nachrichtenstrom, "
        "gespeicherte Befehle von Schaltflächen, Kennungen bearbeiteter Ereignisse, die "
        "Zuordnung Matrix-ID → Direktchat-Raum und, nach einer Matrix-Anmeldung mit Passwort, "
        "Geräte-ID und Zugangstoken des Bot-Kontos (ein Geheimnis)."
    ),
    purpose="Nach einem Neustart ohne Verlust und ohne Doppelungen weiterarbeiten.",
    legal_basis=LB_OPERATION,
    visible_to=VISIBLE_OPERATORS,
    retention=(
        "Kennungen bearbeiteter Matrix-Ereignisse 7 Tage; die übrigen Werte solange der Bot "
        "betrieben wird (sie werden überschrieben)"
    ),
    access=(
        "nicht in /meine_daten; die Zuordnung des eigenen Matrix-Direktchats nennt der Betreiber auf Anfrage"
    ),
    erasure=(
        "Die Zuordnung des Matrix-Direktchats einer Person entfernen /daten_loeschen und die "
        "Pseudonymisierung bisher nicht, sondern der Betreiber auf Anfrage. Das Zugangstoken "
        "kommt in keinen Export und (ohne --with-secrets) in keine Sicherung"
    ),
    columns=(
        Column("key", "Schlüssel, z. B. matrix:<Bot-ID>:direct_rooms, telegram:<Bot-ID>:last_update_id"),
        Column(
            "value",
            "Wert: Position, Kennungen, Befehle; direct_rooms enthält Matrix-IDs von Personen; "
            "access_token ist ein Geheimnis",
            True,
        ),
        Column("updated_at", "Letzte Änderung"),
    ),
)

LINK_CODES = Table(
    name="link_codes",
    title="Verknüpfungscodes",
    content=(
        "Einmalcodes, mit denen weitere Chats einer AG beitreten (/ag verknuepfen): nur der Hash "
        "des Codes, wer ihn erzeugt und wer ihn in welchem Chat eingelöst hat, Gültigkeit."
    ),
    purpose="Chats sicher zu einer AG verbinden und nachvollziehen, wer das getan hat.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_OPERATORS,
    retention="{link_versuche} nach dem Ablauf des Codes (Codes gelten 24 Stunden)",
    access="/meine_daten, Abschnitt „verknuepfungen“",
    erasure=(
        "Täglicher Löschlauf, {link_versuche} nach dem Ablauf; /daten_loeschen und die "
        "Pseudonymisierung entfernen vorher die Verweise auf die Person"
    ),
    columns=(
        ID,
        GROUP_ID,
        Column("code_hash", "SHA-256-Hash des Codes (der Code selbst wird nicht gespeichert)"),
        Column("created_by_id", "Wer den Code erzeugt hat", True),
        CREATED_AT,
        Column("expires_at", "Ablauf (24 Stunden nach Erzeugung)"),
        Column("used_at", "Wann er eingelöst wurde"),
        Column("used_by_id", "Wer ihn eingelöst hat", True),
        Column("used_in_chat_id", "In welchem Chat er eingelöst wurde"),
        Column("replaced_at", "Wann ein neuerer Code ihn ersetzt hat"),
    ),
)

ACCOUNT_CODES = Table(
    name="account_codes",
    title="Codes zum Verknüpfen von Konten",
    content=(
        "Einmalcodes, mit denen eine Person ihre Konten auf mehreren Plattformen verknüpft "
        "(/konto verknuepfen): nur der Hash des Codes, für welches Konto und wie lange er gilt."
    ),
    purpose="Nachweisen, dass beide Konten derselben Person gehören, bevor sie verknüpft werden.",
    legal_basis=LB_OWN,
    visible_to=VISIBLE_OPERATORS,
    retention="Bis zum Einlösen; sonst {link_versuche} nach dem Ablauf (Codes gelten 24 Stunden)",
    access="/meine_daten, Abschnitt „verknuepfungen“",
    erasure="Beim Einlösen; täglicher Löschlauf nach dem Ablauf; /daten_loeschen",
    columns=(
        ID,
        Column("person_id", "Das Konto, das den Code erzeugt hat", True),
        Column("code_hash", "SHA-256-Hash des Codes (der Code selbst wird nicht gespeichert)"),
        CREATED_AT,
        Column("expires_at", "Ablauf (24 Stunden nach Erzeugung)"),
    ),
)

LINK_ATTEMPTS = Table(
    name="link_attempts",
    title="Abgelehnte Verknüpfungsversuche",
    content=(
        "Abgelehnte Versuche, einen Verknüpfungscode einzulösen: wer, in welchem Chat, wann. Der "
        "eingegebene Code wird nicht gespeichert."
    ),
    purpose="Das Erraten von Codes verhindern (Begrenzung der Fehlversuche je Person und insgesamt).",
    legal_basis=LB_OPERATION,
    visible_to=VISIBLE_OPERATORS,
    retention="{link_versuche} nach dem Versuch",
    access="/meine_daten, Abschnitt „verknuepfungen“",
    erasure=(
        "Täglicher Löschlauf, {link_versuche} nach dem Versuch; /daten_loeschen und die "
        "Pseudonymisierung löschen die Versuche der Person"
    ),
    columns=(
        ID,
        Column("chat_id", "Chat, in dem der Code eingegeben wurde"),
        Column("person_id", "Wer den Code eingegeben hat", True),
        Column("created_at", "Zeitpunkt des Versuchs", True),
    ),
)

REOPEN_HINTS = Table(
    name="reopen_hints",
    title="Hinweise auf Beschlossenes",
    content=(
        "Wenn eine Nachricht in einem Chat ein aktives Ziel oder einen gültigen Beschluss infrage "
        "zu stellen scheint, gibt der Bot einen Hinweis und speichert dazu den Text der Nachricht, "
        "ihren Absender, den Eintrag und die Bewertung. Andere Chatnachrichten speichert er nicht."
    ),
    purpose=(
        "Denselben Hinweis nicht zu oft geben; die Koordination kann einen falschen Hinweis "
        "markieren (/hinweis falsch), damit die Hinweisfunktion daraus lernt."
    ),
    legal_basis=LB_AG,
    visible_to=(
        "Der Hinweis selbst: die Mitglieder im Chat (oder bei privaten Hinweisen der Absender); "
        "die gespeicherten Texte " + VISIBLE_OPERATORS
    ),
    retention=(
        "{hinweis_texte}; hat die Koordination einen Hinweis zum Beispiel gemacht (reopen_examples), "
        "bleibt er danach ohne Absender solange die AG besteht"
    ),
    access="/meine_daten, Abschnitt „hinweise“ (Hinweise auf eigene Nachrichten und selbst bewertete)",
    erasure=(
        "Täglicher Löschlauf, {hinweis_texte} nach dem Hinweis (bei Beispielen nur der Absender); "
        "/daten_loeschen und die Pseudonymisierung löschen die Hinweise auf Nachrichten der Person, "
        "bei Beispielen den Absender"
    ),
    columns=(
        ID,
        GROUP_ID,
        Column("platform", "Plattform"),
        Column("chat_id", "Chat der Nachricht"),
        Column("item_kind", "Art des Eintrags: Ziel oder Beschluss"),
        Column("item_id", "Kennung des Eintrags"),
        Column("item_number", "Nummer des Eintrags"),
        Column("message_id", "Kennung der Nachricht auf der Plattform", True),
        Column("message_text", "Text der Nachricht eines Mitglieds", True),
        Column("sender_id", "Wer die Nachricht geschrieben hat", True),
        Column("score", "Bewertung durch die Hinweisfunktion"),
        Column("outbox_id", "Die ausgehende Nachricht mit dem Hinweis"),
        CREATED_AT,
        Column("wrong_at", "Wann der Hinweis als falsch markiert wurde"),
        Column("wrong_by_id", "Wer ihn als falsch markiert hat", True),
    ),
)

REOPEN_EXAMPLES = Table(
    name="reopen_examples",
    title="Beispiele für die Hinweise auf Beschlossenes",
    content=(
        "Nachrichtentexte, die die Koordination als Beispiel markiert hat (stellt einen Eintrag "
        "infrage oder nicht), ohne den Absender; dazu wer das Beispiel angelegt hat."
    ),
    purpose="Die Hinweisfunktion lernt je AG, was einen Eintrag wirklich infrage stellt.",
    legal_basis=LB_AG,
    visible_to=VISIBLE_OPERATORS,
    retention=AG_LIFETIME,
    access=(
        "/meine_daten, Abschnitt „hinweise“ (selbst angelegte und, solange der Hinweis den Absender "
        "noch kennt, aus eigenen Nachrichten gemachte Beispiele)"
    ),
    erasure=(
        "/daten_loeschen löscht Beispiele aus Nachrichten der Person, solange der Hinweis den "
        "Absender noch kennt (höchstens {hinweis_texte}). " + AG_DELETE + ". " + PSEUDONYMISED
    ),
    columns=(
        ID,
        GROUP_ID,
        Column("text", "Text der Nachricht (ohne Absender; kann Namen enthalten)"),
        Column("item_kind", "Art des Eintrags"),
        Column("item_id", "Kennung des Eintrags"),
        Column("reopens", "Stellt den Eintrag infrage: ja oder nein"),
        Column("source", "Herkunft: falscher oder verpasster Hinweis"),
        Column("hint_id", "Der Hinweis, aus dem das Beispiel wurde"),
        Column("created_by_id", "Wer das Beispiel angelegt hat", True),
        CREATED_AT,
    ),
)

REOPEN_EMBEDDINGS = Table(
    name="reopen_embeddings",
    title="Textvektoren der Hinweise auf Beschlossenes",
    content=(
        "Zahlenvektoren von Registertexten und Beispielen, gefunden über den SHA-256-Hash des "
        "Textes; der Text selbst wird nicht gespeichert. Keine personenbezogenen Daten."
    ),
    purpose="Texte nicht bei jedem Start neu berechnen.",
    legal_basis=LB_NONE,
    visible_to=VISIBLE_OPERATORS,
    retention="Unbefristet (gemeinsam für alle AGs; ohne Text)",
    access=NOT_PERSONAL,
    erasure="Durch den Betreiber; kann jederzeit gelöscht werden und wird dann neu berechnet",
    columns=(
        Column("model", "Das Sprachmodell"),
        Column("digest", "SHA-256-Hash des Textes"),
        Column("vector", "Der Zahlenvektor"),
        CREATED_AT,
    ),
)

SURVEYS = Table(
    name="surveys",
    title="Umfragen",
    content=(
        "Umfragen einer AG: Vorlage, Titel, Frist, anonym oder nicht, wer sie gestartet hat, "
        "Mitgliederzahl beim Ende und ein Schlüssel für die Prüfwerte der Antwortenden."
    ),
    purpose="Umfragen durchführen und auswerten (z. B. zum bürgerschaftlichen Engagement).",
    legal_basis=LB_AG,
    visible_to=VISIBLE_AG,
    retention=AG_LIFETIME + "; der Schlüssel anonymer Umfragen nur bis zum Ende",
    access="/meine_daten, Abschnitt „umfragen“ (selbst gestartete)",
    erasure=AG_DELETE + ". " + PSEUDONYMISED,
    columns=(
        ID,
        GROUP_ID,
        Column("number", "Laufende Nummer in der AG"),
        Column("template_key", "Schlüssel der Vorlage"),
        Column("title", "Titel"),
        Column("spec", "Kopie der Vorlage (Fragen)"),
        Column("definition_id", "Verwendete Version der Engagement-Definition"),
        Column("anonymous", "Anonyme Umfrage"),
        Column("status", "Status: offen, beendet"),
        Column("deadline", "Frist"),
        Column("created_by_id", "Wer die Umfrage gestartet hat", True),
        CREATED_AT,
        Column("closed_at", "Wann sie endete"),
        Column("secret", "Schlüssel der Prüfwerte; bei anonymen Umfragen beim Ende gelöscht"),
        Column("member_count", "Mitgliederzahl beim Ende"),
    ),
)

SURVEY_RESPONSES = Table(
    name="survey_responses",
    title="Umfrageantworten",
    content=(
        "Eine Antwort je Person und Umfrage: abgeschickte Antworten (auch Freitext, Stunden, "
        "Beträge), ein Entwurf während des Ausfüllens im privaten Chat und ein Prüfwert. Bei "
        "anonymen Umfragen ohne Person und ohne Zeiten."
    ),
    purpose="Die Umfrage im privaten Chat führen, Antworten auswerten, eine Antwort je Person sichern.",
    legal_basis=(
        "Art. 6 Abs. 1 lit. a DSGVO (freiwillige Teilnahme nach dem Datenschutzhinweis in der "
        "Einladung); bei anonymen Umfragen nach dem Ende ohne Personenbezug"
    ),
    visible_to=(
        "Nicht anonyme Umfragen: die Koordination (Ergebnis und Export mit Namen); anonyme: nur "
        "Ergebnisse, Aufschlüsselungen mit weniger als 3 Antwortenden zeigen „< 3“. Solange eine "
        "anonyme Umfrage läuft, könnten Betreiber mit Datenbankzugriff die Prüfwerte zuordnen"
    ),
    retention=(
        "Entwürfe und (anonym) die Prüfwerte bis zum Ende der Umfrage; abgeschickte Antworten "
        "solange die AG besteht"
    ),
    access="/meine_daten, Abschnitt „umfragen“ (eigene Antworten nicht anonymer Umfragen)",
    erasure=(
        "Entwürfe und Prüfwerte beim Ende der Umfrage (der tägliche Löschlauf räumt Reste auf); "
        "/daten_loeschen löscht die eigenen Antworten nicht anonymer Umfragen; nach der "
        "Pseudonymisierung ehemaliger Mitglieder bleiben sie ohne Namen; sonst mit der AG "
        "({ag_loeschfrist} nach /ag loeschen)"
    ),
    columns=(
        ID,
        Column("survey_id", "Verweis auf die Umfrage"),
        Column("respondent_key", "Prüfwert: verschlüsselter Hash der Personenkennung", True),
        Column("person_id", "Wer geantwortet hat (nur bei nicht anonymen Umfragen)", True),
        Column("status", "Entwurf oder abgeschickt"),
        Column("answers", "Die abgeschickten Antworten", True),
        Column("draft", "Entwurf während des Ausfüllens", True),
        Column("cursor", "Die gerade gestellte Frage"),
        Column("editing", "Die Person ändert ihre Antworten gerade"),
        Column("active", "Das Gespräch im privaten Chat ist offen"),
        Column("started_at", "Beginn (nur bei nicht anonymen Umfragen)", True),
        Column("finished_at", "Abgeschickt am (nur bei nicht anonymen Umfragen)", True),
    ),
)

SURVEY_TEMPLATES = Table(
    name="survey_templates",
    title="Umfragevorlagen",
    content="Vom Betreiber importierte Umfragevorlagen. Keine personenbezogenen Daten.",
    purpose="Umfragen für alle AGs bereitstellen.",
    legal_basis=LB_NONE,
    visible_to="Allen AGs (beim Start einer Umfrage)",
    retention="Bis der Betreiber sie ersetzt",
    access=NOT_PERSONAL,
    erasure="Durch den Betreiber",
    columns=(
        ID,
        Column("key", "Schlüssel der Vorlage"),
        Column("spec", "Inhalt der Vorlage (Fragen)"),
        Column("source", "Name der importierten Datei"),
        Column("imported_at", "Zeitpunkt des Imports"),
    ),
)

ENGAGEMENT_DEFINITIONS = Table(
    name="engagement_definitions",
    title="Definition von Engagement",
    content=(
        "Die Versionen der gemeinsamen Definition bürgerschaftlichen Engagements im Netzwerk. "
        "Keine personenbezogenen Daten."
    ),
    purpose="Umfrageergebnisse nach einer festen, benannten Definition auswerten.",
    legal_basis=LB_NONE,
    visible_to="Allen (/definition)",
    retention="Unbefristet (Umfragen verweisen auf ihre Version)",
    access=NOT_PERSONAL,
    erasure="Nicht vorgesehen",
    columns=(
        ID,
        Column("version", "Versionsnummer"),
        Column("content", "Kriterien mit Erläuterungen"),
        Column("digest", "SHA-256-Hash des Inhalts"),
        Column("source", "Herkunft: default oder Name der importierten Datei"),
        CREATED_AT,
    ),
)

TABLES: tuple[Table, ...] = (
    PEOPLE,
    MEMBERSHIPS,
    CHATS,
    WORKING_GROUPS,
    GOALS,
    DECISIONS,
    DECISION_TAGS,
    AUDIT_LOG,
    MEETINGS,
    MEETING_CANCELLATIONS,
    AGENDA_ITEMS,
    POLLS,
    POLL_VOTES,
    POLL_MESSAGES,
    REMINDERS,
    SCHEDULED_JOBS,
    OUTBOX,
    PLATFORM_STATE,
    LINK_CODES,
    ACCOUNT_CODES,
    LINK_ATTEMPTS,
    REOPEN_HINTS,
    REOPEN_EXAMPLES,
    REOPEN_EMBEDDINGS,
    SURVEYS,
    SURVEY_RESPONSES,
    SURVEY_TEMPLATES,
    ENGAGEMENT_DEFINITIONS,
)

# Log lines --------------------------------------------------------------------------------------

# Logs go to stderr; where they end up (journald, a container's log) and for how long is the
# operator's choice, so every line shares these two texts.
LOG_RETENTION = (
    "Bestimmt der Betreiber (stderr, z. B. journald oder Container-Log); empfohlen höchstens 14 "
    "Tage, z. B. MaxRetentionSec=14day in journald.conf"
)
LOG_ERASURE = (
    "Durch den Betreiber nach der Frist (z. B. journalctl --vacuum-time=14d); einzelne Zeilen zu "
    "einer Person lassen sich nicht gezielt löschen, daher die kurze Frist"
)

LOG_LINES: tuple[LogLine, ...] = (
    LogLine(
        logger="bot.app",
        level="ERROR",
        message="error <Fehlernummer> while handling <Ereignis> (auch: error in a watcher of <Ereignis>)",
        content=(
            "Das Ereignis nur mit Kennungen (bot.core.logsafe.describe_event): Plattform-Kennung "
            "des Chats und des Absenders (Telegram-Nutzer-ID, Matrix-ID), Nachrichten-IDs und die "
            "Länge von Texten, keine Texte und Namen; dazu der technische Fehlerverlauf"
        ),
        purpose="Fehler finden; die Fehlernummer nennt der Bot auch der Person, die ihn meldet",
        retention=LOG_RETENTION,
        erasure=LOG_ERASURE,
    ),
    LogLine(
        logger="bot.adapters.matrix.adapter",
        level="INFO",
        message=(
            "matrix: declining invite to <Raum> from <Matrix-ID> / matrix: joined <Raum> on "
            "invitation by <Matrix-ID>"
        ),
        content="Matrix-ID der einladenden Person (enthält oft den Namen)",
        purpose="Nachvollziehen, wer den Bot in welchen Raum eingeladen hat",
        retention=LOG_RETENTION,
        erasure=LOG_ERASURE,
    ),
    LogLine(
        logger="bot.adapters.matrix.adapter",
        level="INFO",
        message=(
            "matrix: left or removed from <Raum> (auch: could not join <Raum>, gap in <Raum>, "
            "could not fetch missed events in <Raum>)"
        ),
        content="Kennung eines Raums; ein Direktchat-Raum ist über platform_state einer Person zuzuordnen",
        purpose="Störungen der Matrix-Anbindung erkennen",
        retention=LOG_RETENTION,
        erasure=LOG_ERASURE,
    ),
    LogLine(
        logger="bot.services.outbox",
        level="WARNING",
        message="outbox <Nr>: undeliverable (<Grund>)",
        content=(
            "Nummer der ausgehenden Nachricht und Fehlermeldung der Plattform (z. B. dass eine "
            "Person den Bot blockiert hat); über die Nummer und outbox.chat_id einer Person zuzuordnen"
        ),
        purpose="Zustellprobleme erkennen",
        retention=LOG_RETENTION,
        erasure=LOG_ERASURE,
    ),
    LogLine(
        logger="alle (bot.*, telegram, httpx, nio)",
        level="DEBUG",
        message="vollständige Updates und Ereignisse der Plattformen, Anfragen an ihre Schnittstellen",
        content="Nachrichtentexte, Namen, Benutzernamen und Kennungen von Personen",
        purpose=(
            "Nur zur gezielten Fehlersuche: DEBUG muss der Betreiber ausdrücklich einschalten "
            "(KUEMMERER_LOG_LEVEL=DEBUG); Standard ist WARNING"
        ),
        retention="Nur für die Dauer der Fehlersuche; danach löschen. " + LOG_RETENTION,
        erasure=LOG_ERASURE,
    ),
)
