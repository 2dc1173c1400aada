"""How a survey's results read: cell texts and labels, CSV and XLSX files, a PNG chart (pure).

:func:`cell_text` formats one figure for a reply, a comparison or a file and keeps the
small-cell rule; the labels of kinds and modes come from the catalog.

Both files have one row per activity with its classification and failed criteria, so a
coordinator can check every figure; the XLSX adds the totals (with the small-cell rule: a
breakdown row with fewer than :data:`~bot.services.survey_results.SMALL_CELL` respondents shows
"< 3" in every figure column; the rows themselves are the raw data and are not suppressed) and
the definition version the survey used.

Respondents type the descriptions, so no cell may become a formula: in the CSV a text starting
with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe (OWASP's advice for CSV
injection); in the XLSX every text cell is written as a string cell, which spreadsheet programs
never evaluate, so the text stays as typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal

from bot.core.i18n import Translator
from bot.services import charts
from bot.services.survey_model import Definition
from bot.services.survey_results import (
    FIGURES,
    ORGANISATION,
    PERSON,
    SMALL_CELL,
    Activity,
    ComparisonRow,
    Figures,
    Results,
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Literal keys, so the catalog tests see every key that is used.
_KIND_KEYS = {
    PERSON: "survey.figures.kind.person",
    "stiftung": "survey.figures.kind.stiftung",
    "kommune": "survey.figures.kind.kommune",
    "verein": "survey.figures.kind.verein",
    "unternehmen": "survey.figures.kind.unternehmen",
    "schule": "survey.figures.kind.schule",
    "andere": "survey.figures.kind.andere",
    ORGANISATION: "survey.figures.kind.organisation",
}
_MODE_KEYS = {"direct": "survey.figures.mode.direct", "indirect": "survey.figures.mode.indirect"}
_COUNTS = ("respondents", "activities", "people")  # whole numbers; the rest are amounts
_AMOUNTS = ("money", "money_median", "goods_value", "goods_median")  # in euros

_ACTIVITY_COLUMNS = (
    "survey.table.column.respondent",
    "survey.table.column.kind",
    "survey.table.column.org_name",
    "survey.table.column.position",
    "survey.table.column.description",
    "survey.table.column.mode",
    "survey.table.column.hours",
    "survey.table.column.people",
    "survey.table.column.money",
    "survey.table.column.goods",
    "survey.table.column.goods_value",
    "survey.table.column.counted",
    "survey.table.column.failed",
)
# One header per attribute of survey_results.FIGURES, in that order.
_FIGURE_COLUMNS = (
    "survey.table.column.respondents",
    "survey.table.column.activities",
    "survey.table.column.hours",
    "survey.table.column.hours_median",
    "survey.table.column.people",
    "survey.table.column.money",
    "survey.table.column.money_median",
    "survey.table.column.goods_value",
    "survey.table.column.goods_median",
)
_CRITERION_COLUMNS = (
    "survey.table.column.criterion_id",
    "survey.table.column.name",
    "survey.table.column.question",
    "survey.table.column.explanation",
    "survey.table.column.example",
    "survey.table.column.failed_text",
)


# Reading figures ----------------------------------------------------------------------------


def cell_text(figures: Figures | None, attr: str, tr: Translator) -> str:
    """One figure of a cell as text, keeping the small-cell rule.

    Args:
        figures: The cell (``None``: the cell has nothing counted, shown as "–").
        attr: One of :data:`FIGURES`.
        tr: The reader's translator (number format).

    Returns:
        "< 3" for a suppressed breakdown cell, "–" for an empty cell or a missing median,
        otherwise the number in the reader's format ("1.234,5").
    """
    if attr not in FIGURES:
        raise ValueError(f"not a figure: {attr!r}")
    if figures is None:
        return "–"
    if figures.suppressed:
        return small_cell_text(tr)
    value = getattr(figures, attr)
    if value is None:
        return "–"
    return format_number(value, tr.language, whole=attr in _COUNTS, money=attr in _AMOUNTS)


def small_cell_text(tr: Translator) -> str:
    """What a suppressed cell shows: "< 3"."""
    return tr.text("survey.figures.small_cell", minimum=SMALL_CELL)


def format_number(value: float, language: str, *, whole: bool = False, money: bool = False) -> str:
    """A number for reading: grouped, at most two decimals ("1.234,5" / "1,234.5"); an amount
    in euros with cents has both ("1.200,50"), a whole one none ("5.000")."""
    if money and value != int(value):
        return format_decimal(value, format="#,##0.00", locale=language)
    return format_decimal(value, format="#,##0" if whole else "#,##0.##", locale=language)


def kind_label(kind: str, tr: Translator) -> str:
    """The name of a respondent kind ("Stiftung"); a custom template's own kinds stay ids."""
    key = _KIND_KEYS.get(kind)
    return tr.text(key) if key else kind


def mode_label(mode: str | None, tr: Translator) -> str:
    """The name of a mode ("direkt"); "" for none, a custom template's own modes stay ids."""
    if mode is None:
        return ""
    key = _MODE_KEYS.get(mode)
    return tr.text(key) if key else mode


def row_label(row: ComparisonRow, tr: Translator) -> str:
    """What a comparison or totals row is called: "Gesamt", "direkt", "Stiftung"."""
    if row.section == "mode":
        return mode_label(row.key, tr)
    if row.section == "kind" and row.key is not None:
        return kind_label(row.key, tr)
    return tr.text("survey.figures.total")


def reasons(definition: Definition, failed: Iterable[str], language: str) -> str:
    """The failed criteria as their reasons: "nicht freiwillig, nicht gemeinwohlorientiert"."""
    texts = []
    for criterion_id in failed:
        criterion = definition.criterion(criterion_id)
        texts.append(criterion.failed.get(language) if criterion is not None else criterion_id)
    return ", ".join(texts)


# Files -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportMeta:
    """What the files say about the survey.

    Attributes:
        survey_title: The survey's title.
        survey_number: Its running number in the AG.
        group_name: The AG's name.
        anonymous: Whether the survey is anonymous.
        started: When it started.
        closed: When it closed (``None``: still open).
        definition_version: The definition version it uses.
        timezone: The AG's timezone, for the two timestamps.
    """

    survey_title: str
    survey_number: int
    group_name: str
    anonymous: bool
    started: datetime
    closed: datetime | None
    definition_version: int | None
    timezone: str = "Europe/Berlin"


def filename(meta: ExportMeta, extension: str, language: str) -> str:
    """The file name of an export: ``umfrage-3.csv`` / ``survey-3.xlsx``."""
    stem = Translator(language).text("survey.table.filename", number=meta.survey_number)
    return f"{stem}.{extension}"


def activity_rows(activities: Sequence[Activity], definition: Definition, tr: Translator) -> list[list[Any]]:
    """One row per activity, matching the activity columns: numbers stay numbers (or ``None``)."""
    yes, no = tr.text("survey.table.yes"), tr.text("survey.table.no")
    return [
        [
            a.respondent.index,
            kind_label(a.respondent.kind, tr),
            a.respondent.name or "",
            a.position,
            a.description,
            mode_label(a.mode, tr),
            a.hours,
            a.people,
            a.money,
            a.goods or "",
            a.goods_value,
            yes if a.counts else no,
            reasons(definition, a.failed, tr.language),
        ]
        for a in activities
    ]


# CSV ---------------------------------------------------------------------------------------


def to_csv(meta: ExportMeta, activities: Sequence[Activity], definition: Definition, language: str) -> bytes:
    """The activities as CSV, for the spreadsheet program of the reader's language.

    German: ``;`` between fields and a decimal comma, as Excel opens it with German settings;
    English: ``,`` and a decimal point. UTF-8 with a byte order mark (without it Excel reads
    UTF-8 as Windows-1252), CRLF line ends. Text cells that could start a formula get a leading
    apostrophe.

    Args:
        meta: The survey (not written: the CSV is the bare table).
        activities: Every activity, counted or not.
        definition: The survey's definition version (the failed criteria's texts).
        language: ``"de"`` or ``"en"``.

    Returns:
        The file's bytes.
    """
    tr = Translator(language, meta.timezone)
    german = tr.language == "de"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if german else ",", lineterminator="\r\n")
    writer.writerow([tr.text(key) for key in _ACTIVITY_COLUMNS])
    for row in activity_rows(activities, definition, tr):
        writer.writerow([csv_cell(value, german) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def csv_cell(value: Any, german: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        # No grouping: "1.200" would read as 1.2 in one locale or the other.
        text = str(value) if isinstance(value, int) else f"{value:.4f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if german else text
    return escape_formula(str(value))


def escape_formula(text: str) -> str:
    """``text`` with a leading apostrophe if a spreadsheet could take it for a formula."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


# XLSX --------------------------------------------------------------------------------------


def to_xlsx(
    meta: ExportMeta,
    results: Results,
    activities: Sequence[Activity],
    definition: Definition,
    language: str,
) -> bytes:
    """The results as an Excel workbook with three sheets.

    "Tätigkeiten" ("Activities"): the CSV's rows, numbers as numbers. "Summen" ("Totals"): the
    survey, then total, by mode and by kind (a breakdown row with fewer than three respondents
    shows "< 3" in every figure column), then the failed criteria. "Definition": its version,
    title and each criterion.

    Args:
        meta: The survey.
        results: Its results (:func:`~bot.services.survey_results.summarize`).
        activities: Every activity, counted or not.
        definition: The definition version the survey used.
        language: ``"de"`` or ``"en"``.

    Returns:
        The file's bytes.
    """
    from openpyxl import Workbook  # a second's import, paid only by an export

    tr = Translator(language, meta.timezone)
    book = Workbook()
    sheet = book.active
    sheet.title = tr.text("survey.table.sheet.activities")
    write_row(sheet, [tr.text(key) for key in _ACTIVITY_COLUMNS], bold=True)
    for row in activity_rows(activities, definition, tr):
        write_row(sheet, row)
    sheet.freeze_panes = "A2"
    set_widths(sheet, [10, 16, 24, 10, 48, 12, 12, 10, 12, 24, 12, 8, 40])

    _totals_sheet(book.create_sheet(tr.text("survey.table.sheet.totals")), meta, results, definition, tr)
    _definition_sheet(book.create_sheet(tr.text("survey.table.sheet.definition")), definition, tr)

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _totals_sheet(
    sheet: Any, meta: ExportMeta, results: Results, definition: Definition, tr: Translator
) -> None:
    yes, no = tr.text("survey.table.yes"), tr.text("survey.table.no")
    version = meta.definition_version if meta.definition_version is not None else results.definition_version
    facts: list[tuple[str, Any]] = [
        (
            "survey.table.meta.survey",
            tr.text("survey.table.survey", number=meta.survey_number, title=meta.survey_title),
        ),
        ("survey.table.meta.group", meta.group_name),
        ("survey.table.meta.anonymous", yes if meta.anonymous else no),
        ("survey.table.meta.started", tr.datetime(meta.started)),
        (
            "survey.table.meta.closed",
            tr.datetime(meta.closed) if meta.closed else tr.text("survey.table.open"),
        ),
        ("survey.table.meta.definition_version", version),
        ("survey.table.meta.respondents", results.respondents),
        ("survey.table.meta.activities", results.activities),
        ("survey.table.meta.counted", results.counted),
        ("survey.table.meta.not_counted", results.not_counted),
    ]
    for key, value in facts:
        write_row(sheet, [tr.text(key), value])
    write_row(sheet, [tr.text("survey.table.small_cell_note", minimum=SMALL_CELL)])
    write_row(sheet, [])

    headers = ["survey.table.column.section", "survey.table.column.cell", *_FIGURE_COLUMNS]
    write_row(sheet, [tr.text(key) for key in headers], bold=True)
    write_row(
        sheet,
        _figure_row(
            tr.text("survey.table.section.total"), tr.text("survey.figures.total"), results.total, tr
        ),
    )
    for mode, cell in results.by_mode.items():
        write_row(sheet, _figure_row(tr.text("survey.table.section.mode"), mode_label(mode, tr), cell, tr))
    for kind, cell in results.by_kind.items():
        write_row(sheet, _figure_row(tr.text("survey.table.section.kind"), kind_label(kind, tr), cell, tr))

    write_row(sheet, [])
    write_row(
        sheet, [tr.text("survey.table.column.criterion"), tr.text("survey.table.column.count")], bold=True
    )
    for criterion_id, count in results.failed:
        criterion = definition.criterion(criterion_id)
        write_row(sheet, [criterion.name.get(tr.language) if criterion else criterion_id, count])
    set_widths(sheet, [28, 28, *[14] * len(_FIGURE_COLUMNS)])


def _figure_row(section: str, label: str, cell: Figures, tr: Translator) -> list[Any]:
    """A totals row: the figures as numbers, or "< 3" in every figure column of a small cell."""
    if cell.suppressed:
        return [section, label, *[small_cell_text(tr)] * len(FIGURES)]
    return [section, label, *[getattr(cell, attribute) for attribute in FIGURES]]


def _definition_sheet(sheet: Any, definition: Definition, tr: Translator) -> None:
    language = tr.language
    write_row(sheet, [tr.text("survey.table.meta.definition_version"), definition.version])
    write_row(sheet, [tr.text("survey.table.definition_title"), definition.title.get(language)])
    if definition.summary is not None:
        write_row(sheet, [tr.text("survey.table.definition_summary"), definition.summary.get(language)])
    write_row(sheet, [])
    write_row(sheet, [tr.text(key) for key in _CRITERION_COLUMNS], bold=True)
    for c in definition.criteria:
        texts = (c.name, c.question, c.explanation, c.example, c.failed)
        write_row(sheet, [c.id, *(text.get(language) for text in texts)])
    set_widths(sheet, [24, 28, 48, 60, 48, 28])


def write_row(sheet: Any, values: Sequence[Any], *, bold: bool = False) -> None:
    """Append a row (none for an empty one: a blank row); text cells are forced to strings."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

    # Cells built here, not looked up after appending: sheet[max_row] scans the whole sheet,
    # which made a 1,000-row export take seconds.
    cells = []
    for value in values:
        if isinstance(value, str):
            cell = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"  # openpyxl would make "=…" a formula and "#N/A" an error
        else:
            cell = Cell(sheet, value=value)
        if bold:
            cell.font = _bold()
        cells.append(cell)
    sheet.append(cells)


def _bold() -> Any:
    from openpyxl.styles import Font

    return Font(bold=True)


def set_widths(sheet: Any, widths: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter

    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


# Chart -------------------------------------------------------------------------------------


def result_chart(results: Results, tr: Translator, definition: Definition | None = None) -> bytes | None:
    """Counted activities by kind of respondent as a bar chart (PNG); when no kind can be shown
    (fewer than three respondents of every kind) and ``definition`` is given, the activities by
    how they fared against it instead (counted, and not counted per failed criterion), which
    shows no breakdown by respondent at all.

    One bar per kind (person, Stiftung, Kommune, …) with at least :data:`SMALL_CELL`
    respondents: its length is the number of counted activities, its label names the kind with
    its hours per month, EUR per year and value of goods. Kinds with fewer respondents are
    pooled into "weitere" ("others"), drawn only if the pool itself has enough respondents.
    Blocking (matplotlib): call it in a thread.

    Returns:
        The PNG image, or ``None`` when nothing can be drawn (nothing counted, or only small cells).
    """
    shown = [(kind_label(kind, tr), cell) for kind, cell in results.by_kind.items() if not cell.suppressed]
    small = [cell for cell in results.by_kind.values() if cell.suppressed]
    if small:
        pooled = _pool(small)
        if not pooled.suppressed:
            shown.append((tr.text("survey.figures.kind.others"), pooled))
    if not shown:
        return _classification_chart(results, tr, definition) if definition is not None else None
    language = tr.language
    labels = [
        tr.text(
            "survey.figures.chart_label",
            kind=label,
            hours=format_number(cell.hours, language),
            money=format_number(cell.money, language),
            goods=format_number(cell.goods_value, language),
        )
        for label, cell in shown
    ]
    subtitle = tr.text(
        "survey.figures.chart_subtitle",
        results.respondents,
        counted=results.counted,
        activities=results.activities,
    )
    return charts.bar_chart(
        tr.text("survey.figures.chart_title"),
        labels,
        [cell.activities for _, cell in shown],
        subtitle=subtitle,
    )


def _classification_chart(results: Results, tr: Translator, definition: Definition) -> bytes | None:
    if not results.activities:
        return None
    labels = [tr.text("survey.figures.counted")]
    values = [results.counted]
    for criterion_id, count in results.failed:
        labels.append(
            tr.text("survey.figures.failed", reason=reasons(definition, [criterion_id], tr.language))
        )
        values.append(count)
    subtitle = tr.text(
        "survey.figures.chart_subtitle",
        results.respondents,
        counted=results.counted,
        activities=results.activities,
    )
    title = tr.text("survey.figures.classification_title", version=definition.version or 1)
    return charts.bar_chart(title, labels, values, subtitle=subtitle, highlight=0)


def _pool(cells: Sequence[Figures]) -> Figures:
    """Small kind cells taken together: respondents add up, since each has exactly one kind.

    Medians cannot be pooled from cells, but the chart does not show them.
    """
    return Figures(
        respondents=sum(c.respondents for c in cells),
        activities=sum(c.activities for c in cells),
        hours=sum(c.hours for c in cells),
        hours_median=None,
        people=sum(c.people for c in cells),
        money=sum(c.money for c in cells),
        money_median=None,
        goods_value=sum(c.goods_value for c in cells),
        goods_median=None,
    )
