# ruff: noqa: E501  (data module: example sentences are kept whole)
"""Generic German seed examples for the reopen guard.

Written for this purpose, on topics that none of the evaluation sets use (sports club, community
garden, food bank, tenants' initiative, choir, parents' council, climate, seniors, youth work, …),
so that the guard recognises a *challenge* by how it is said rather than by what it is about.

Each scenario is one settled item and messages that refer to it:

* ``reopens=True``: the message questions the item or proposes to change, drop or replace it —
  as a question, a counter-proposal, an opinion, a request to discuss it again, from newcomers and
  old hands, formal and colloquial, with and without umlauts.
* ``reopens=False``: the message uses the same words while *working on* the item: implementing,
  announcing, asking when/where/who, confirming, reminding others of the rule, sharing material,
  or criticising something that is not the AG's decision.

Do not add sentences from ``shared/reopen/dev.json`` or from the benchmark sets here: the figures in
``docs/reopen-guard.md`` rely on the seed being independent of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeedScenario:
    """One invented settled item with labelled messages about it."""

    item: str
    kind: str
    reopening: tuple[str, ...]
    working: tuple[str, ...]


SCENARIOS: tuple[SeedScenario, ...] = (
    SeedScenario(
        item="Das Training der Jugendmannschaften findet dienstags und donnerstags um 17 Uhr statt.",
        kind="decision",
        reopening=(
            "Dienstag und Donnerstag sind für viele Eltern total ungünstig. Können wir das Training auf "
            "Montag und Mittwoch verlegen?",
            "17 Uhr ist zu früh, da sind die Kids noch in der Ganztagsschule. Ich wäre für 18 Uhr.",
            "Ehrlich gesagt verstehe ich nicht, warum wir an den Trainingszeiten so festhalten, die passen "
            "doch keinem mehr.",
            "Die Trainingszeiten gehören auf den Prüfstand, so wie sie sind, funktionieren sie nicht.",
            "Warum ausgerechnet dienstags? Montag wäre besser.",
        ),
        working=(
            "Training am Donnerstag fällt wegen des Feiertags aus, bitte an die Eltern weitergeben.",
            "Wer kann am Dienstag um 17 Uhr die Halle aufschließen? Ich bin auf Dienstreise.",
            "Neue Spielerin für die U13: Sie kommt ab nächster Woche dienstags zum Training.",
            "Gut, dass wir bei dienstags und donnerstags geblieben sind, so planen die Familien verlässlich.",
            "Training heute ganz normal um 17 Uhr.",
            "Sollten wir zusätzlich in den Ferien ein Trainingscamp anbieten? Das wäre ein schönes Extra.",
        ),
    ),
    SeedScenario(
        item="Im Gemeinschaftsgarten wird ausschließlich ohne chemische Pflanzenschutzmittel gegärtnert.",
        kind="decision",
        reopening=(
            "Gegen die Blattläuse hilft nur noch Spritzmittel. Sollten wir die Regel ohne Chemie nicht "
            "lockern, wenigstens für die Rosen?",
            "Ist das Verbot von Pflanzenschutzmitteln wirklich sinnvoll? Wir verlieren jedes Jahr die halbe "
            "Ernte.",
            "ich fände es besser wenn jeder selbst entscheiden darf was er auf sein beet spritzt",
            "Ausnahmen beim Pflanzenschutz sollten möglich sein, die reine Lehre kostet uns die Ernte.",
        ),
        working=(
            "Hat jemand ein gutes Hausmittel gegen Blattläuse? Brennnesseljauche hat bei mir nicht gereicht.",
            "Ich habe Marienkäferlarven bestellt, die setzen wir am Samstag im Garten aus.",
            "Zur Erinnerung: Im Garten bitte wirklich keine chemischen Mittel benutzen, auch nicht Schneckenkorn.",
            (
                "Denkt bitte dran: Auch Unkrautvernichter zählt zu den chemischen Mitteln, die wir nicht "
                "nutzen."
            ),
            (
                "Der Nachbar hat auf seinem Grundstück Glyphosat gespritzt, das ist unverantwortlich. "
                "Sollen wir ihn ansprechen?"
            ),
        ),
    ),
    SeedScenario(
        item="Die Tafel gibt Lebensmittel nur gegen Vorlage eines Berechtigungsnachweises aus.",
        kind="decision",
        reopening=(
            "Die Nachweispflicht schreckt gerade die Bedürftigsten ab. Ich plädiere dafür, dass wir ohne "
            "Nachweis ausgeben.",
            "Warum bestehen wir eigentlich auf dem Berechtigungsschein? Andere Tafeln verzichten längst darauf.",
            "Können wir die Sache mit den Nachweisen noch einmal auf die Tagesordnung setzen? So wie es jetzt "
            "läuft, ist es unwürdig.",
            "Nachweispflicht abschaffen, sofort!",
        ),
        working=(
            "Die neuen Formulare für den Berechtigungsnachweis liegen jetzt an der Ausgabe.",
            "Eine Frau hatte heute keinen Nachweis dabei, ich habe ihr erklärt, wo sie ihn bekommt.",
            "Welche Nachweise gelten eigentlich, reicht auch der Bescheid vom Jobcenter?",
            "Seit wann gilt bei uns eigentlich die Nachweispflicht? Das Sozialamt fragt nach.",
            "Ich finde es richtig, dass wir auf dem Nachweis bestehen, so bleibt es fair für alle.",
        ),
    ),
    SeedScenario(
        item="Die Mieterinitiative tritt öffentlich nur gemeinsam auf; Einzelne geben keine Interviews.",
        kind="decision",
        reopening=(
            "Die Presse will Gesichter, keine Pressemitteilungen. Wir sollten einzelnen Mietern erlauben, mit "
            "Journalisten zu sprechen.",
            "Ich halte die Regel, dass niemand allein Interviews gibt, für einen Fehler. So bleiben wir unsichtbar.",
            "bin neu dabei – wieso darf eigentlich keiner von uns alleine mit der zeitung reden?",
            "Diese Regel mit den gemeinsamen Auftritten würde ich gern aufheben lassen.",
        ),
        working=(
            "Der Lokalsender hat angefragt. Ich habe gesagt, dass wir nur gemeinsam auftreten, und einen Termin "
            "für die ganze Gruppe vorgeschlagen.",
            "Wer schreibt die gemeinsame Stellungnahme für die Zeitung? Ich kann Korrektur lesen.",
            "Die Pressemitteilung zur Mieterhöhung ist raus, danke an alle, die mitgeschrieben haben.",
            "Bei Interviews sollten wir unbedingt weiter als Gruppe auftreten, das hat uns stark gemacht.",
            (
                "Die Zeitung hat unsere Aussagen völlig verdreht, das ist unmöglich. Ich schreibe einen "
                "Leserbrief."
            ),
        ),
    ),
    SeedScenario(
        item="Ziel: Bis Ende nächsten Jahres sinkt der Stromverbrauch im Vereinsheim um 20 Prozent.",
        kind="goal",
        reopening=(
            "20 Prozent weniger Strom schaffen wir nie, solange die alte Kühltruhe läuft. Lasst uns das Ziel auf "
            "10 Prozent senken.",
            "Mal ehrlich: Ist Stromsparen im Vereinsheim wirklich unser dringendstes Thema? Mir wäre eine "
            "Solaranlage wichtiger.",
            "Das Sparziel beim Strom ist völlig unrealistisch, das sollten wir neu festlegen.",
        ),
        working=(
            "Zählerstand vom Vereinsheim für März: 1.240 kWh, schon 8 Prozent weniger als letztes Jahr.",
            "Ich habe LED-Röhren für den Umkleideraum besorgt, damit kommen wir beim Stromsparen ein Stück "
            "weiter.",
            "Wer hat Lust, eine Stromspar-Checkliste für das Vereinsheim zu entwerfen?",
            "Bis wann wollten wir die 20 Prozent beim Strom erreicht haben? Ich schreibe den Jahresbericht.",
            "Wäre es nicht gut, außerdem den Wasserverbrauch zu messen? Nur als zusätzliche Info.",
        ),
    ),
    SeedScenario(
        item="Der Chor singt bei Auftritten nur ohne Noten, alles wird auswendig gelernt.",
        kind="decision",
        reopening=(
            "Auswendig singen überfordert die Neuen total. Können wir nicht zumindest bei schwierigen Stücken mit "
            "Noten auftreten?",
            "Wer hat sich das mit dem Auswendiglernen eigentlich ausgedacht? Viele Chöre singen mit Mappe und "
            "klingen super.",
            "Ich würde die Auswendig-Regel gern abschaffen, sie kostet uns jedes Jahr Mitglieder.",
            "Vielleicht lassen wir das Auswendigsingen mal für eine Saison ruhen und schauen, wie es läuft?",
            "Noten beim Auftritt erlauben, bitte!",
        ),
        working=(
            "Für das Auswendiglernen habe ich Übungsaufnahmen der Stimmen hochgeladen.",
            "Kann jemand mit mir den Text vom zweiten Lied auswendig üben? Ich hänge in der dritten Strophe.",
            "Beim Konzert am Sonntag singen wir wie immer ohne Noten, bitte Texte bis dahin sicher haben.",
            "Bitte denkt daran, dass wir beim Konzert auswendig singen, Notenmappen bleiben im Auto.",
            "Auswendig singen ist anstrengend, aber es lohnt sich. Bleiben wir unbedingt dabei!",
            "Probe am Freitag fällt aus!",
        ),
    ),
    SeedScenario(
        item="Der Elternbeirat lädt zu seinen Sitzungen alle Eltern ein; die Sitzungen sind öffentlich.",
        kind="decision",
        reopening=(
            "Öffentliche Sitzungen machen es unmöglich, heikle Themen zu besprechen. Ich schlage vor, dass wir "
            "künftig wieder nichtöffentlich tagen.",
            "Müssen die Sitzungen wirklich für alle Eltern offen sein? Letztes Mal haben wir nur diskutiert und "
            "nichts beschlossen.",
            "Oeffentliche Sitzungen waren gut gemeint, aber ich finde, das sollten wir zurücknehmen.",
        ),
        working=(
            "Die Einladung zur öffentlichen Sitzung am 3. März geht heute an alle Eltern raus.",
            "Wie viele Eltern kamen eigentlich zur letzten öffentlichen Sitzung? Ich brauche die Zahl fürs "
            "Protokoll.",
            "Danke an alle Eltern, die gestern zur Sitzung gekommen sind, das war eine lebendige Runde!",
            "Der Schulträger hat die Sitzung des Stadtrats nichtöffentlich gemacht, das finde ich falsch.",
        ),
    ),
    SeedScenario(
        item="Die Seniorennachmittage finden im Gemeindehaus statt, nicht in Privatwohnungen.",
        kind="decision",
        reopening=(
            "Das Gemeindehaus ist ungemütlich und schwer erreichbar. Warum treffen wir uns nicht reihum bei "
            "jemandem zu Hause?",
            "Ich würde die Seniorennachmittage lieber ins Café am Markt verlegen, da ist es viel netter.",
            "Das Gemeindehaus als fester Ort passt für viele nicht mehr, darüber müssen wir nochmal reden.",
            "Das Gemeindehaus als Treffpunkt ist überholt, ich beantrage, dass wir uns davon verabschieden.",
        ),
        working=(
            "Der Schlüssel fürs Gemeindehaus liegt ab jetzt beim Küster, bitte dort abholen.",
            "Für den Seniorennachmittag im Gemeindehaus brauchen wir noch Kuchen, wer backt?",
            "Frau Becker fragt, ob jemand sie zum Seniorennachmittag ins Gemeindehaus fahren kann.",
            "Könnten wir im Gemeindehaus zusätzlich einen Computerkurs für Senioren anbieten?",
        ),
    ),
    SeedScenario(
        item="Ziel der AG ist ein wöchentliches, kostenloses Sprachcafé für Geflüchtete.",
        kind="goal",
        reopening=(
            "Ein Sprachcafé gibt es schon bei der Volkshochschule. Sollten wir nicht lieber Hilfe bei Behörden "
            "anbieten statt Deutsch zu üben?",
            "Wöchentlich ist zu viel für uns paar Ehrenamtliche, ich wäre für ein Sprachcafé alle zwei Wochen.",
            "Kostenlos ist nett, aber ein kleiner Beitrag würde die Verbindlichkeit erhöhen. Können wir das "
            "überdenken?",
            "Sprachcafé hin oder her, ich bezweifle, dass das noch der richtige Schwerpunkt für uns ist.",
        ),
        working=(
            "Beim Sprachcafé am Mittwoch waren zwölf Leute da, so viele wie noch nie!",
            "Ich suche Spiele und Bildkarten für das Sprachcafé, hat jemand was übrig?",
            "Kann am Mittwoch jemand das Sprachcafé übernehmen? Ich bin krank.",
        ),
    ),
    SeedScenario(
        item="Der Jugendtreff schließt an Wochentagen um 21 Uhr.",
        kind="decision",
        reopening=(
            "21 Uhr ist für die Älteren viel zu früh, die hängen danach nur auf der Straße rum. Lasst uns bis 22 "
            "Uhr aufmachen.",
            "Ich bin gegen die feste Schließzeit um neun. Am Freitag sollte länger offen sein.",
            "Gibt es einen guten Grund für 21 Uhr? Sonst würde ich vorschlagen, die Öffnungszeit zu verlängern.",
            "Länger auf lassen! 21 Uhr ist zu früh.",
        ),
        working=(
            "Wer schließt heute um 21 Uhr ab? Ich muss früher los.",
            "Die Jugendlichen haben gestern ohne Murren um 21 Uhr zusammengeräumt, lief gut.",
            "Kann jemand einen Aushang mit den Öffnungszeiten bis 21 Uhr für die Tür machen?",
            "Die feste Schließzeit um 21 Uhr hat sich bewährt, die Nachbarn beschweren sich nicht mehr.",
        ),
    ),
    SeedScenario(
        item="Beiträge für die Vereinszeitung werden nur per Post oder E-Mail angenommen, nicht über WhatsApp.",
        kind="decision",
        reopening=(
            "Kein WhatsApp für die Vereinszeitung ist doch von gestern. Die meisten schicken ihre Fotos eh "
            "übers Handy.",
            "Wieso nehmen wir Beiträge nicht auch per WhatsApp an? Das würde vieles einfacher machen.",
            "Ich finde, wir sollten die Regel zur Einsendung ändern und Messenger zulassen.",
        ),
        working=(
            "Redaktionsschluss für die Vereinszeitung ist der 15., Beiträge bitte per Mail an die Redaktion.",
            "Herr Schulz hat seinen Bericht per Post geschickt, ich tippe ihn ab.",
            "Jemand hat mir einen Beitrag über WhatsApp geschickt, ich habe ihn gebeten, ihn per Mail zu senden.",
        ),
    ),
    SeedScenario(
        item="Die Aufräumaktion im Stadtpark findet zweimal im Jahr statt, im Frühjahr und im Herbst.",
        kind="decision",
        reopening=(
            "Zweimal im Jahr reicht doch hinten und vorne nicht, der Park ist nach drei Wochen wieder vermüllt. "
            "Ich bin für eine Aktion jeden Monat.",
            "Ist die Aufräumaktion im Herbst überhaupt sinnvoll? Da liegt nur Laub, ich würde sie streichen.",
            "Sollen wir das mit den zwei Aufräumterminen nicht nochmal grundsätzlich besprechen?",
            "Die Herbstaktion kann weg, dafür lieber eine im Sommer.",
        ),
        working=(
            "Für die Aufräumaktion im Frühjahr stellt das Grünflächenamt Greifzangen und Säcke.",
            "Wann genau ist die Herbstaktion im Park? Ich will meine Klasse mitbringen.",
            "Tolle Bilanz der Frühjahrsaktion: 60 Säcke Müll aus dem Stadtpark!",
            "Die Stadtreinigung leert die Mülleimer im Park viel zu selten, das ist ein Ärgernis.",
            "Wir sollten bei den zwei Terminen im Jahr bleiben, mehr schaffen wir personell nicht.",
        ),
    ),
    SeedScenario(
        item="Die AG nimmt keine Sponsorengelder von Unternehmen an.",
        kind="decision",
        reopening=(
            "Ohne Sponsoren können wir das Projekt nicht finanzieren. Ich bin dafür, dass wir Geld von lokalen "
            "Firmen annehmen.",
            "Warum lehnen wir Sponsoring eigentlich grundsätzlich ab? Die Sparkasse würde uns sofort unterstützen.",
            "Das Sponsoringverbot finde ich zu streng, wir sollten wenigstens Ausnahmen zulassen.",
        ),
        working=(
            "Ein Autohaus wollte uns sponsern, ich habe mit Verweis auf unseren Beschluss freundlich abgesagt.",
            "Welche Stiftungen fördern Projekte wie unseres ohne Firmengeld? Ich suche Alternativen zu Sponsoren.",
            "Der Förderantrag bei der Bürgerstiftung ist raus, ganz ohne Sponsoring.",
            "Bitte keine Firmenlogos auf unsere Plakate, wir nehmen ja kein Sponsoring an.",
        ),
    ),
    SeedScenario(
        item="Ziel: Bis Ende des Jahres hat jedes Mitglied einen Erste-Hilfe-Kurs besucht.",
        kind="goal",
        reopening=(
            "Einen Erste-Hilfe-Kurs für alle finde ich übertrieben. Es reicht doch, wenn pro Termin zwei Leute "
            "geschult sind.",
            "Das Ziel mit dem Erste-Hilfe-Kurs für jedes Mitglied ist bis Jahresende nicht zu schaffen, wir "
            "sollten es verschieben.",
            "Muss wirklich jeder einen Erste-Hilfe-Kurs machen? Für die Älteren ist das eine Zumutung.",
        ),
        working=(
            "Nächster Erste-Hilfe-Kurs beim Roten Kreuz ist am 12. Oktober, es gibt noch acht Plätze.",
            "Schon 23 von 30 Mitgliedern haben den Erste-Hilfe-Kurs gemacht.",
            "Kann jemand die Bescheinigungen vom Erste-Hilfe-Kurs einsammeln?",
            (
                "Sollten wir zusätzlich einen Auffrischungskurs für die anbieten, die schon einen "
                "Erste-Hilfe-Kurs haben?"
            ),
        ),
    ),
    SeedScenario(
        item="Das Repair-Café repariert nur Geräte von Privatpersonen, nicht von Firmen.",
        kind="decision",
        reopening=(
            "Kleine Handwerksbetriebe könnten wir doch auch bedienen, die Trennung nach privat und Firma ergibt "
            "für mich keinen Sinn.",
            "Ich schlage vor, dass wir künftig auch Geräte von Vereinen und kleinen Firmen annehmen.",
            "Warum eigentlich nur Privatleute? Die Bäckerei um die Ecke hat gefragt und wir mussten absagen.",
        ),
        working=(
            "Beim Repair-Café am Samstag kamen 25 Leute mit Toastern, Lampen und einem Fahrrad.",
            "Eine Firma wollte ihre Kaffeemaschine bringen, ich habe auf unsere Regel verwiesen.",
            "Wer kennt sich mit Nähmaschinen aus? Fürs nächste Repair-Café sind schon drei angemeldet.",
        ),
    ),
    SeedScenario(
        item="Die Mitgliederversammlung wählt den Vorstand für zwei Jahre.",
        kind="decision",
        reopening=(
            "Zwei Jahre Amtszeit sind zu lang, da traut sich keiner zu kandidieren. Wie wäre es mit einem Jahr?",
            "Ich finde, wir sollten die Amtszeit des Vorstands nochmal neu verhandeln.",
            "Warum wählen wir den Vorstand eigentlich für zwei Jahre? Eine jährliche Wahl wäre demokratischer.",
            "Eine Amtszeit von zwei Jahren ist nicht mehr zeitgemäß.",
            "Ein Jahr Amtszeit würde doch reichen.",
        ),
        working=(
            "Die nächste Vorstandswahl ist im März, Kandidaturen bitte bis Ende Januar melden.",
            "Wer übernimmt bei der Mitgliederversammlung die Wahlleitung?",
            "Glückwunsch an den neuen Vorstand, auf zwei gute Jahre!",
            "Die zweijährige Amtszeit gibt dem Vorstand Ruhe zum Arbeiten, das sehe ich positiv.",
            "Danke, super gemacht mit der Wahl!",
        ),
    ),
    SeedScenario(
        item="Ziel: Wir gewinnen in diesem Jahr zehn neue Ehrenamtliche für den Besuchsdienst im Pflegeheim.",
        kind="goal",
        reopening=(
            "Zehn neue Leute für den Besuchsdienst ist illusorisch. Lasst uns lieber die Ehrenamtlichen halten, "
            "die wir haben.",
            "Ich zweifle, ob mehr Ehrenamtliche für das Pflegeheim das richtige Ziel ist. Die Bewohner brauchen "
            "feste Bezugspersonen, keine wechselnden Gesichter.",
            "Statt neue Ehrenamtliche anzuwerben, sollten wir uns auf bessere Schulung konzentrieren.",
        ),
        working=(
            "Zwei Studentinnen wollen beim Besuchsdienst im Pflegeheim mitmachen, ich melde mich bei ihnen.",
            "Ich habe einen Flyer zur Gewinnung von Ehrenamtlichen entworfen, Feedback gern bis Freitag.",
            "Wie viele neue Ehrenamtliche haben wir dieses Jahr schon gewonnen? Ich glaube, es sind sechs.",
        ),
    ),
    SeedScenario(
        item="Die Gruppe kommuniziert intern über den Matrix-Raum, nicht über private Messenger.",
        kind="decision",
        reopening=(
            "Matrix nutzt außer uns doch niemand. Wir sollten auf Signal umsteigen, das haben alle schon.",
            "Kann man die Entscheidung für den Matrix-Raum nochmal aufmachen? Die Hälfte liest hier nie mit.",
            "ehrlich, dieser matrix raum nervt nur. lass uns wieder ne normale gruppe machen",
        ),
        working=(
            "Willkommen im Matrix-Raum! Hier findet ihr alle Infos zu unseren Treffen.",
            "Wie lade ich jemanden in den Matrix-Raum ein? Bei mir fehlt der Knopf.",
            "Ich habe die Anleitung für den Matrix-Raum angepinnt, damit Neue sich zurechtfinden.",
            "Seit wann nutzen wir eigentlich den Matrix-Raum? Ich brauche das für die Chronik.",
        ),
    ),
    SeedScenario(
        item="Die Wanderungen des Vereins sind höchstens 15 Kilometer lang.",
        kind="decision",
        reopening=(
            "15 Kilometer sind für die Fitten unter uns ein Witz. Können wir nicht auch mal längere Touren "
            "anbieten?",
            "Ich finde die Begrenzung auf 15 km zu starr, lass uns das lockern.",
            "Warum eigentlich nur kurze Wanderungen? Eine Tagestour mit 25 Kilometern wäre mal was.",
            "Die 15-Kilometer-Grenze schränkt uns ein, die sollten wir kippen.",
            "Lieber mal 25 km statt immer nur 15.",
        ),
        working=(
            "Route für Sonntag steht: 14 Kilometer rund um den Stausee, Treffpunkt 9 Uhr am Bahnhof.",
            "Hat jemand eine schöne Strecke um die 12 Kilometer im Sauerland?",
            "Die 15-Kilometer-Tour gestern war perfekt, danke fürs Organisieren!",
            "Wann genau, Sonntag um neun?",
        ),
    ),
    SeedScenario(
        item="Der Kleiderladen verkauft gespendete Kleidung zu einem symbolischen Preis von einem Euro pro Teil.",
        kind="decision",
        reopening=(
            "Ein Euro pro Teil deckt nicht mal die Miete. Ich würde die Preise staffeln, Jacken für fünf Euro.",
            "Ist der Einheitspreis von einem Euro noch zeitgemäß? Andere Läden nehmen deutlich mehr.",
            "Wir sollten die Kleidung lieber ganz verschenken statt einen Euro zu verlangen.",
            "Einen Euro pro Teil? Viel zu billig.",
        ),
        working=(
            "Heute 140 Teile zu je einem Euro verkauft, Rekord!",
            "Wir brauchen neue Preisschilder mit einem Euro, die alten sind verblichen.",
            "Eine Kundin fragt, ob Kinderschuhe auch einen Euro kosten – ja, oder?",
            "Beim Ein-Euro-Preis sollten wir unbedingt bleiben, genau das macht den Laden aus.",
            "Neue Ware ist da, alles wie immer ein Euro.",
        ),
    ),
    SeedScenario(
        item="Ziel des Netzwerks: Jede Grundschule im Landkreis bietet bis 2027 eine Leseförderung mit "
        "Lesepaten an.",
        kind="goal",
        reopening=(
            "Lesepaten an jeder Grundschule bis 2027 klingt schön, ist aber ohne hauptamtliche Koordination "
            "nicht machbar. Wir sollten das Ziel zurückschrauben.",
            "Sollte das Netzwerk nicht eher auf Mathe setzen? Die Rechenschwäche ist inzwischen das größere "
            "Problem als das Lesen.",
            "Brauchen wir echt an jeder Schule Lesepaten? Die kleinen Dorfschulen haben das doch längst anders "
            "gelöst.",
        ),
        working=(
            "Die Grundschule am Bach hat jetzt sechs Lesepaten, damit sind es schon 14 Schulen im Landkreis.",
            "Ich habe eine Schulung für neue Lesepaten im Mai organisiert, Anmeldung über mich.",
            "Welche Schulen fehlen uns noch für die Leseförderung? Ich kann im Norden des Landkreises anfragen.",
        ),
    ),
    SeedScenario(
        item="Über Anschaffungen über 500 Euro entscheidet die Mitgliederversammlung, nicht der Vorstand allein.",
        kind="decision",
        reopening=(
            "Für jede Anschaffung über 500 Euro eine Versammlung einzuberufen, lähmt uns. Die Grenze sollte auf "
            "2.000 Euro steigen.",
            "Ich schlage vor, dass der Vorstand künftig allein über größere Anschaffungen entscheiden darf.",
            "Die 500-Euro-Regel ist viel zu bürokratisch, darüber sollten wir neu abstimmen.",
        ),
        working=(
            "Der neue Rasenmäher kostet 650 Euro, das müssen wir also in die Mitgliederversammlung bringen.",
            "Kann jemand die Kostenvoranschläge für die Anschaffung bis zur Versammlung zusammenstellen?",
            "Die Mitgliederversammlung hat dem Kauf des Beamers zugestimmt, ich bestelle ihn.",
            (
                "Zur Erinnerung: Alles über 500 Euro muss vorher in die Mitgliederversammlung, auch "
                "Reparaturen."
            ),
        ),
    ),
)

# Messages that refer to no settled item (chatter, organisation, new topics, outside criticism).
GENERIC_WORKING: tuple[str, ...] = (
    "Hallo in die Runde, ich bin Jonas und seit heute dabei.",
    "Schönes Wochenende euch allen!",
    "Bin heute etwas später, der Bus ist ausgefallen.",
    "Danke für die Organisation, war ein richtig gutes Treffen.",
    "Hat jemand eine Idee, wo man günstig Stehtische leihen kann?",
    "Die Stadt hat die Zuschüsse für Vereine gekürzt, das ist ein Skandal.",
    "Kennt jemand eine gute Ansprechperson beim Sozialamt?",
    "Ich schicke euch nachher das Protokoll der letzten Sitzung.",
    "Gute Besserung an Martina!",
    "Wer hat Zeit für ein kurzes Telefonat morgen Vormittag?",
    "Sollten wir nicht mal ein Sommergrillen für alle Aktiven machen?",
    "Warum ist eigentlich der Drucker im Büro schon wieder kaputt?",
    "Ich finde die neue Baustelle vor dem Rathaus eine Katastrophe, da kommt keiner mehr durch.",
    "Kurze Frage: Wo finde ich die Liste mit den Telefonnummern?",
    "Ich bin nächste Woche im Urlaub, Vertretung macht Sabine.",
)
