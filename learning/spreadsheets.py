"""Writing xlsx downloads the same way everywhere: Chinese headers in bold, a frozen
header row, column widths that fit the content, numbers and dates as real cells."""

import datetime
import io

from django.http import HttpResponse
from django.utils import timezone

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIN_WIDTH, MAX_WIDTH = 6, 60


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


def add_sheet(workbook, title, headers, rows, *, number_formats=None):
    """Append a sheet (or fill the workbook's first, empty one) with a bold, frozen
    header row and `rows` (iterables of cell values). `number_formats` maps a
    0-based column index to an Excel number format (e.g. "0.0", "0%")."""
    first = workbook.worksheets[0] if len(workbook.worksheets) == 1 else None
    if first is not None and first.max_row == 1 and first["A1"].value is None:
        # Replace the blank sheet: looking at A1 made openpyxl start appending at row 2.
        workbook.remove(first)
        sheet = workbook.create_sheet(str(title)[:31], 0)
    else:
        sheet = workbook.create_sheet(str(title)[:31])
    headers = [str(h) for h in headers]
    sheet.append(headers)
    widths = [_display_width(h) for h in headers]
    for row in rows:
        values = [_cell_value(v) for v in row]
        sheet.append(values)
        for index, value in enumerate(values):
            if index < len(widths):
                widths[index] = max(widths[index], _display_width(value))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    for index, number_format in (number_formats or {}).items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            cell.number_format = number_format
    sheet.freeze_panes = "A2"
    return sheet


def workbook_bytes(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_xlsx(title, headers, rows, **kwargs):
    """One-sheet workbook as bytes."""
    workbook = Workbook()
    add_sheet(workbook, title, headers, rows, **kwargs)
    return workbook_bytes(workbook)


def xlsx_response(content, filename):
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
