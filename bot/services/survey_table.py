"""The export of a survey whose template does not classify (a custom survey): one row per
response, one column per question (a group's questions once per repetition), as CSV and XLSX.

Cells are built by the caller (answers as the respondent would read them, numbers as numbers);
this module only writes them, with the same rules as the engagement export: a BOM and ``;``
with a decimal comma for German spreadsheets, text that could start a formula escaped, text
cells stored as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from bot.services.survey_export import csv_cell, set_widths, write_row


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]], language: str) -> bytes:
    """The table as CSV for the spreadsheet program of ``language``."""
    german = language == "de"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if german else ",", lineterminator="\r\n")
    writer.writerow([csv_cell(h, german) for h in headers])
    for row in rows:
        writer.writerow([csv_cell(value, german) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Any]], sheet_title: str) -> bytes:
    """The table as an Excel workbook with one sheet."""
    from openpyxl import Workbook  # a second's import, paid only by an export

    book = Workbook()
    sheet = book.active
    # Excel refuses sheet titles over 31 characters and with []:*?/\ in them.
    sheet.title = "".join(c for c in sheet_title if c not in "[]:*?/\\")[:31] or "Sheet"
    write_row(sheet, list(headers), bold=True)
    for row in rows:
        write_row(sheet, list(row))
    set_widths(sheet, [min(60, max(12, len(h))) for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
