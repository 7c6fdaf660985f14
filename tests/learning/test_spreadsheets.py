"""The xlsx helpers every export uses: what goes in a cell, how it reads back."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from learning import spreadsheets


def _read(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return workbook, workbook.worksheets[0]


def test_cells_keep_their_kind_and_text_is_never_a_formula():
    aware = datetime.datetime(2026, 5, 1, 2, 30, tzinfo=ZoneInfo("UTC"))
    row = [
        "=1+1",
        "http://example.com/a",
        "0012",
        7,
        2.5,
        True,
        None,
        datetime.date(2026, 3, 9),
        aware,
        Decimal("1.50"),
        "",
    ]
    content = spreadsheets.table_xlsx("表", [f"h{i}" for i in range(len(row))], [row])
    _workbook, sheet = _read(content)
    values = [cell.value for cell in sheet[2]]
    assert values[:6] == ["=1+1", "http://example.com/a", "0012", 7, 2.5, True]
    assert sheet["A2"].data_type == "s" and not sheet["B2"].hyperlink
    assert values[6] is None and values[10] is None
    assert values[7] == datetime.datetime(2026, 3, 9)
    assert sheet["H2"].number_format == "yyyy-mm-dd"
    # Aware datetimes are written in the site's time zone (Asia/Shanghai), naive.
    assert values[8] == datetime.datetime(2026, 5, 1, 10, 30)
    assert sheet["I2"].number_format == "yyyy-mm-dd h:mm:ss"
    assert values[9] == "1.50"


def test_headers_widths_frozen_row_and_number_formats():
    rows = ([f"部门{i}", i / 3, datetime.date(2026, 1, 1)] for i in range(1200))
    content = spreadsheets.table_xlsx(
        "A sheet title longer than thirty-one characters",
        ["部门名称", "Hours", "Day"],
        rows,
        number_formats={1: "0.0", 2: "yyyy/mm/dd"},
    )
    workbook, sheet = _read(content)
    assert workbook.sheetnames == ["A sheet title longer than thirt"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["部门名称", "Hours", "Day"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.max_row == 1201
    assert sheet["B3"].number_format == "0.0" and sheet["B3"].value == pytest.approx(1 / 3)
    assert sheet["C1201"].number_format == "yyyy/mm/dd"
    # CJK characters count double: 部门名称 is 8 wide (the sampled 部门499 only 7), plus 2.
    assert 10 <= sheet.column_dimensions["A"].width < 11
    assert spreadsheets.MIN_WIDTH <= sheet.column_dimensions["B"].width <= spreadsheets.MAX_WIDTH


def test_several_sheets_in_one_workbook():
    workbook = spreadsheets.new_workbook()
    spreadsheets.add_sheet(workbook, "一", ["a"], [[1]])
    spreadsheets.add_sheet(workbook, "二", ["b"], [])
    book, _sheet = _read(spreadsheets.workbook_bytes(workbook))
    assert book.sheetnames == ["一", "二"]
    assert book["二"].max_row == 1
