"""Writing xlsx downloads the same way everywhere: Chinese headers in bold, a frozen
header row, column widths that fit the content, numbers and dates as real cells."""

import datetime
import io
import itertools

from django.http import HttpResponse
from django.utils import timezone

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIN_WIDTH, MAX_WIDTH = 6, 60
WIDTH_SAMPLE = 500  # rows measured for column widths


def _display_width(value):
    """Columns are measured in Latin characters; a CJK character takes two."""
    text = "" if value is None else str(value)
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def _cell_value(value):
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, bool):
        return value
    if value is None or isinstance(value, int | float | datetime.date):
        return value
    return str(value)


def new_workbook():
    """A workbook that streams its rows (openpyxl's write-only mode): a 50,000-row
    report costs a fraction of the memory and time of an ordinary workbook."""
    return Workbook(write_only=True)


def add_sheet(workbook, title, headers, rows, *, number_formats=None):
    """Add a sheet with a bold, frozen header row and `rows` (iterables of cell values,
    possibly a generator). `number_formats` maps a 0-based column index to an Excel
    number format (e.g. "0.0", "0%"). Column widths fit the header and the first
    WIDTH_SAMPLE rows. Works on `new_workbook()` and on ordinary workbooks."""
    if not workbook.write_only and len(workbook.worksheets) == 1:
        first = workbook.worksheets[0]
        if not first._cells:  # the empty sheet every ordinary workbook starts with
            workbook.remove(first)
    sheet = workbook.create_sheet(str(title)[:31])
    headers = [str(h) for h in headers]
    rows = iter(rows)
    sample = [[_cell_value(v) for v in row] for row in itertools.islice(rows, WIDTH_SAMPLE)]
    widths = [_display_width(h) for h in headers]
    for values in sample:
        for index, value in enumerate(values[: len(widths)]):
            widths[index] = max(widths[index], _display_width(value))
    for index, width in enumerate(widths, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    sheet.freeze_panes = "A2"
    formats = dict(number_formats or {})
    bold = Font(bold=True)

    def header_cell(text):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    def formatted(values):
        for index, number_format in formats.items():
            if index < len(values) and values[index] is not None:
                cell = WriteOnlyCell(sheet, value=values[index])
                cell.number_format = number_format
                values[index] = cell
        return values

    if workbook.write_only:
        sheet.append([header_cell(h) for h in headers])
    else:
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = bold
    for values in sample:
        sheet.append(formatted(values))
    for row in rows:
        sheet.append(formatted([_cell_value(v) for v in row]))
    return sheet


def workbook_bytes(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_xlsx(title, headers, rows, **kwargs):
    """One-sheet workbook as bytes."""
    workbook = new_workbook()
    add_sheet(workbook, title, headers, rows, **kwargs)
    return workbook_bytes(workbook)


def xlsx_response(content, filename):
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
