"""The shared spreadsheet reader: files made the way offices make them are read as
the person sees them in Excel, and anything it cannot read faithfully is refused
with every reason, never read wrongly and never crashed on."""

import datetime
import io
import random
import zipfile

from django.utils import translation
from django.utils.translation import gettext_lazy

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from learning.tabular import (
    Field,
    Problem,
    TableError,
    clean_name,
    clean_text,
    format_number,
    general_number,
    half_width,
    normalise_header,
    normalise_identifier,
    parse_date,
    read_table,
)
from tests import messy_files
from tests.xlsx_fuzz import build_zip, storable

FIELDS = (
    Field("name", gettext_lazy("Name"), ("姓名", "name"), required=True),
    Field("staff_number", gettext_lazy("Staff number"), ("工号", "人员编号"), required=True),
    Field("department", gettext_lazy("Department"), ("部门", "所在部门"), required=True),
    Field("section", "Section", ("科室",)),
    Field("mobile", gettext_lazy("Mobile"), ("手机号码", "手机")),
    Field("joined_on", gettext_lazy("Joined on"), ("入职日期",)),
)
HEADER = ["姓名", "工号", "部门"]
SAVE_AS = (
    "This is not a spreadsheet. In Excel or WPS choose File › Save as › "
    "Excel workbook (*.xlsx), or CSV."
)
UNREADABLE = (
    "The file is not a readable workbook: it may be damaged. Open it in Excel or WPS, "
    "choose File › Save as › Excel workbook (*.xlsx), and upload the copy."
)
PASSWORD = "The file is protected with a password; save a copy without a password."


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def read(data, filename="花名册.xlsx", max_rows=100, **options):
    return read_table(data, filename, FIELDS, max_rows=max_rows, **options)


def refusal(data, filename="花名册.xlsx", max_rows=100, **options):
    with pytest.raises(TableError) as caught:
        read(data, filename, max_rows, **options)
    return [str(problem) for problem in caught.value.problems]


def values(table, *keys):
    return [tuple(row.values[key] for key in keys) for row in table.rows]


# Where the header is ------------------------------------------------------------------


def test_title_rows_merged_across_the_top_are_not_the_header():
    data = messy_files.xlsx(
        [["序号", "姓名", "工号", "部门"], [1, "李娜", "BH1001", "办公室"]],
        title_rows=["2026年滨海新区机关人员花名册", "填表说明：工号以人事系统为准"],
        merges=["A1:D1", "A2:D2"],
    )
    table = read(data)
    assert table.header_row == 3
    assert table.columns == {"name": "姓名", "staff_number": "工号", "department": "部门"}
    assert [(row.number, row.values["name"]) for row in table.rows] == [(4, "李娜")]


def test_two_row_header_with_a_group_header_merged_over_two_columns():
    data = messy_files.xlsx(
        [
            ["姓名", "工号", "单位信息", None],
            [None, None, "部门", "科室"],
            ["李娜", "BH1001", "区财政局", "预算科"],
        ],
        title_rows=["花名册"],
        merges=["A2:A3", "B2:B3", "C2:D2"],
    )
    table = read(data)
    assert table.header_row == 3
    assert table.columns == {
        "name": "姓名",
        "staff_number": "工号",
        "department": "部门",
        "section": "科室",
    }
    assert values(table, "name", "staff_number", "department", "section") == [
        ("李娜", "BH1001", "区财政局", "预算科")
    ]
    assert table.unused == []


def test_two_row_header_whose_first_row_is_not_merged_down():
    data = messy_files.xlsx(
        [
            ["姓名", "工号", "单位", None],
            [None, None, "部门", "科室"],
            ["李娜", "BH1", "办公室", "秘书科"],
        ]
    )
    table = read(data)
    assert table.header_row == 2
    assert table.columns["name"] == "姓名"
    assert values(table, "name", "department") == [("李娜", "办公室")]


def test_department_merged_down_over_its_staff_applies_to_every_row():
    data = messy_files.xlsx(
        [
            HEADER,
            ["李娜", "BH1", "区财政局"],
            ["刘洋", "BH2", None],
            ["王小明", "BH3", None],
            ["赵敏", "BH4", "区司法局"],
            [None, None, None],
        ],
        merges=["C2:C4", "C5:C6"],
    )
    table = read(data)
    assert values(table, "name", "department") == [
        ("李娜", "区财政局"),
        ("刘洋", "区财政局"),
        ("王小明", "区财政局"),
        ("赵敏", "区司法局"),
    ]  # row 6 holds only the merged department: it is not a row with data


def test_header_notes_stars_brackets_and_spacing_do_not_matter():
    data = messy_files.xlsx(
        [
            ["*姓 名", "工号（必填）", "【必填】部门：", "手机\n号码(11位)"],
            ["李娜", "BH1", "办公室", "1"],
        ]
    )
    table = read(data)
    assert set(table.columns) == {"name", "staff_number", "department", "mobile"}
    assert table.columns["staff_number"] == "工号（必填）"


def test_headers_in_english_match_the_labels():
    data = messy_files.xlsx([["Name", "Staff number", "DEPARTMENT"], ["Li Na", "BH1", "Office"]])
    assert values(read(data), "name", "staff_number", "department") == [("Li Na", "BH1", "Office")]


def test_normalise_header():
    assert normalise_header(" ＊姓　名（必填）： ") == "姓名"
    assert normalise_header("工号*") == "工号"
    assert normalise_header("(选填)职务") == "职务"
    assert normalise_header("E-Mail") == "e-mail"


def test_missing_required_columns_name_the_row_that_looks_like_the_header():
    data = messy_files.xlsx(
        [["姓名", "职务", "备注"], ["李娜", "科员", ""]], title_rows=["花名册", ""]
    )
    assert refusal(data) == [
        "Required columns are missing: 工号、部门. Row 3 looks like the header; "
        "it has: 姓名、职务、备注."
    ]


def test_no_header_at_all_says_which_columns_are_needed():
    data = messy_files.xlsx([["甲", "乙"], ["1", "2"]])
    assert refusal(data) == [
        "No header row found in the first 20 rows: the file needs columns such as 姓名、工号、部门."
    ]


def test_a_header_below_row_20_is_not_looked_for():
    data = messy_files.xlsx([HEADER, ["李娜", "BH1", "办公室"]], title_rows=[""] * 20)
    assert refusal(data)[0].startswith("No header row found in the first 20 rows")


def test_two_columns_giving_the_same_field_are_refused():
    data = messy_files.xlsx(
        [["姓名", "工号", "部门", "人员编号"], ["李娜", "BH1", "办公室", "BH1"]]
    )
    assert refusal(data) == [
        "Row 1: Columns “工号” and “人员编号” both give the staff number; keep one."
    ]


def test_a_column_written_twice_is_refused():
    data = messy_files.xlsx([["姓名", "工号", "部门", "工号"], ["李娜", "BH1", "办公室", "BH1"]])
    assert refusal(data) == ["Row 1: Column “工号” appears more than once; keep one."]


def test_a_header_merged_across_two_columns_is_one_column():
    data = messy_files.xlsx(
        [["姓名", None, "工号", "部门"], ["李娜", None, "BH1", "办公室"]],
        merges=["A1:B1", "A2:B2"],
    )
    table = read(data)
    assert values(table, "name", "staff_number") == [("李娜", "BH1")]
    assert table.warnings == []


# What is left out is said ----------------------------------------------------------------


def test_unused_columns_are_listed_and_warned_about_by_name():
    data = messy_files.xlsx(
        [
            ["序号", "姓名", "工号", "部门", "备注", "空列"],
            [1, "李娜", "BH1", "办公室", "借调", None],
        ]
    )
    table = read(data)
    assert table.unused == ["序号", "备注", "空列"]
    assert [str(w) for w in table.warnings] == [
        "Column “序号” is not used; its values are ignored.",
        "Column “备注” is not used; its values are ignored.",
    ]
    assert table.warnings[0].column == "序号"


def test_values_in_a_column_without_header_are_warned_about():
    data = messy_files.xlsx([[*HEADER, None, None], ["李娜", "BH1", "办公室", None, "x"]])
    assert [str(w) for w in read(data).warnings] == [
        "Column E has values but no header; they are ignored."
    ]


def test_rows_with_only_unused_values_are_not_rows():
    data = messy_files.xlsx(
        [["序号", *HEADER], [1, "李娜", "BH1", "办公室"], [2, None, None, None]]
    )
    assert [row.number for row in read(data).rows] == [2]


def test_a_note_under_the_table_is_skipped_with_a_warning_but_a_total_row_is_kept():
    data = messy_files.xlsx(
        [
            HEADER,
            ["李娜", "BH1", "办公室"],
            ["合计", "1人", None],
            ["制表人：张三  审核人：李四", None, None],
            ["注：工号以人事系统为准。", None, None],
        ],
        merges=["A5:C5"],
    )
    table = read(data)
    assert [row.number for row in table.rows] == [2, 3]
    assert [str(w) for w in table.warnings] == [
        "Row 4: This looks like a note and was skipped: “制表人：张三  审核人：李四”.",
        "Row 5: This looks like a note and was skipped: “注：工号以人事系统为准。”.",
    ]


def test_a_name_that_merely_starts_like_a_note_is_a_row():
    data = messy_files.xlsx([HEADER, ["注意", None, None], ["审核", "BH2", "办公室"]])
    assert [row.number for row in read(data).rows] == [2, 3]


def test_the_header_repeated_below_is_skipped_with_a_warning():
    data = messy_files.xlsx([HEADER, ["李娜", "BH1", "办公室"], HEADER, ["刘洋", "BH2", "办公室"]])
    table = read(data)
    assert [row.number for row in table.rows] == [2, 4]
    assert [str(w) for w in table.warnings] == [
        "Row 3: This row repeats the header and was skipped."
    ]


# Values as the person sees them ---------------------------------------------------------


def test_number_formats_show_numbers_as_excel_does():
    data = messy_files.xlsx(
        [
            [*HEADER, "手机号码"],
            ["李娜", 101, "办公室", 13800001001],
            ["刘洋", 7, "办公室", 13800001002.0],
            ["王小明", 1001, "办公室", 0.1 + 0.2],
            ["赵敏", 1002, "办公室", 3.14159],
            ["孙丽", 12345678, "办公室", 1234.5],
        ],
        number_formats={
            "B2": "000000",
            "B3": '"BH"0000',
            "B4": "\\B\\H0000",
            "B5": "00000000",
            "D5": "0.00",
            "D6": "#,##0.00",
        },
    )
    table = read(data)
    assert values(table, "staff_number", "mobile") == [
        ("000101", "13800001001"),
        ("BH0007", "13800001002"),
        ("BH1001", "0.3"),
        ("00001002", "3.14"),
        ("12345678", "1,234.50"),
    ]
    assert all(row.numeric == {"staff_number", "mobile"} for row in table.rows)


def test_format_number_cases_offices_use():
    assert format_number(5, "0_ ") == "5"
    assert format_number(1234567, "000-0000") == "123-4567"
    assert format_number(0.256, "0.0%") == "25.6%"
    assert format_number(-5, "0.00;[Red]-0.00") == "-5.00"
    assert format_number(1234.5, "[$¥-804]#,##0.00") == "¥1,234.50"
    assert format_number(2.675, "0.00") == "2.68"  # Excel rounds half away from zero
    assert format_number(42, "yyyy-mm-dd") == "42"  # not a date cell: shown as General
    assert format_number(12, '"第"0"名"') == "第12名"


def test_general_numbers_are_never_scientific():
    assert general_number(13800001001.0) == "13800001001"
    assert general_number(1.10101199001011e17) == "110101199001011000"
    assert general_number(0.1 + 0.2) == "0.3"
    assert general_number(1e-7) == "0.0000001"
    assert general_number(12) == "12"


def test_date_cells_give_iso_text_and_the_date():
    data = messy_files.xlsx(
        [
            [*HEADER, "入职日期"],
            ["李娜", "BH1", "办公室", datetime.date(2021, 3, 5)],
            ["刘洋", "BH2", "办公室", datetime.datetime(2021, 3, 5, 8, 30)],
            ["王小明", "BH3", "办公室", 44260],
            ["赵敏", "BH4", "办公室", "2021年3月5日"],
        ],
        number_formats={"D2": 'yyyy"年"m"月"d"日"', "D4": "yyyy-mm-dd"},
    )
    table = read(data)
    assert values(table, "joined_on") == [("2021-03-05",)] * 3 + [("2021年3月5日",)]
    assert [row.dates for row in table.rows] == [{"joined_on": datetime.date(2021, 3, 5)}] * 3 + [
        {}
    ]
    assert [row.numeric for row in table.rows] == [frozenset()] * 4


def test_a_serial_day_number_in_a_general_cell_is_a_number_parse_date_understands():
    data = messy_files.xlsx([[*HEADER, "入职日期"], ["李娜", "BH1", "办公室", 44260]])
    row = read(data).rows[0]
    assert (row.values["joined_on"], row.numeric, row.dates) == ("44260", {"joined_on"}, {})
    assert parse_date(row.values["joined_on"], numeric=True) == datetime.date(2021, 3, 5)
    assert parse_date(row.values["joined_on"]) is None


@pytest.mark.parametrize(
    "text",
    [
        "2021-03-05",
        "2021/3/5",
        "2021.3.5",
        "2021年3月5日",
        "2021-03-05 00:00:00",
        "２０２１年３月５日",
    ],
)
def test_parse_date_reads_the_forms_people_write(text):
    assert parse_date(text) == datetime.date(2021, 3, 5)


def test_parse_date_refuses_what_is_not_a_date():
    assert parse_date("2021-02-30") is None
    assert parse_date("2021年3月") is None
    assert parse_date("张三") is None
    assert parse_date("60", numeric=True) is None  # 29 February 1900 never was
    assert parse_date("59", numeric=True) == datetime.date(1900, 2, 28)
    assert parse_date("61", numeric=True) == datetime.date(1900, 3, 1)


def test_booleans_times_and_line_breaks():
    data = messy_files.xlsx(
        [
            [*HEADER, "手机号码", "入职日期"],
            ["李娜", "BH1", "区财政局\n预算科", True, datetime.time(8, 30)],
        ]
    )
    row = read(data).rows[0]
    assert row.values["department"] == "区财政局\n预算科"
    assert (row.values["mobile"], row.values["joined_on"]) == ("TRUE", "08:30")
    assert (row.numeric, row.dates) == (frozenset(), {})


def test_clean_text_decodes_excel_escapes():
    assert clean_text("  甲_x000D_\n乙\r丙_x005F_x000D_  ") == "甲\n乙\n丙_x000D_"
    assert clean_text("问：（　）正确？\x07") == "问：（　）正确？"


def test_names_lose_alignment_spaces():
    assert clean_name("李  娜") == "李娜"
    assert clean_name("刘　洋") == "刘洋"
    assert clean_name(" 王 小 明 ") == "王小明"
    assert clean_name("阿依古丽 • 买买提") == "阿依古丽·买买提"
    assert clean_name("John  Smith") == "John Smith"
    assert clean_name("ＪＯＨＮ　Smith") == "JOHN Smith"


def test_full_width_letters_and_digits():
    assert half_width("ＢＨ１００１　Ａ") == "BH1001 A"
    assert normalise_identifier("bh 1001") == "BH1001"
    assert normalise_identifier(" ｂｈ００１２ ") == "BH0012"


# Formulas ---------------------------------------------------------------------------------


def test_a_formula_without_a_saved_result_is_refused_at_its_cell():
    data = messy_files.xlsx(
        [[*HEADER, "科室"], ["李娜", "BH1", "办公室", None], ["刘洋", "BH2", "办公室", None]],
        formulas={"D3": '=C3&"秘书科"', "E2": "=1+1"},
    )
    assert refusal(data) == [
        "Row 3, column “科室”: The cell holds a formula without a saved result; open the "
        "file in Excel or WPS, save it, and upload it again."
    ]  # E2 is in no column that is read


def test_a_formula_with_a_saved_result_is_read():
    data = messy_files.xlsx(
        [[*HEADER, "科室", "手机号码"], ["李娜", "BH1", "办公室", None, None]],
        formulas={"D2": '=C2&"秘书科"', "E2": "=13800001000+1"},
    )
    data = messy_files.with_saved_results(data, {"D2": "办公室秘书科", "E2": 13800001001})
    row = read(data).rows[0]
    assert (row.values["section"], row.values["mobile"]) == ("办公室秘书科", "13800001001")


def test_a_formula_whose_saved_result_is_empty_text_is_read_as_empty():
    data = messy_files.xlsx(
        [[*HEADER, "科室"], ["李娜", "BH1", "办公室", None]], formulas={"D2": '=IF(C2="","","")'}
    )
    row = read(messy_files.with_saved_results(data, {"D2": ""})).rows[0]
    assert row.values["section"] == ""


def test_many_formulas_without_results_are_listed_up_to_a_limit():
    rows = [HEADER] + [[f"人{n}", f"BH{n}", None] for n in range(30)]
    data = messy_files.xlsx(rows, formulas={f"C{n}": "=1" for n in range(2, 32)})
    problems = refusal(data)
    assert len(problems) == 21
    assert problems[-1] == "10 more cells hold formulas without a saved result."


# Other makers and formats ------------------------------------------------------------------


def test_a_wps_workbook():
    data = messy_files.wps_xlsx(
        [
            ["序号", "姓名", "工号", "部门", "手机号码"],
            [1, "李  娜", "BH1001", "区财政局\n预算科", 13800001001],
            [2, "刘洋", "BH1002", "区司法局", 13800001002],
            [3, "王小明", "BH1003", "区司法局", 13800001003],
        ]
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet2.xml")
        assert b'<dimension ref="A1"/>' in sheet and b"inlineStr" in sheet
        assert b"_x000D_" in archive.read("xl/sharedStrings.xml") + sheet
    table = read(data)
    assert values(table, "name", "department", "mobile") == [
        ("李  娜", "区财政局\n预算科", "13800001001"),
        ("刘洋", "区司法局", "13800001002"),
        ("王小明", "区司法局", "13800001003"),
    ]


def test_the_first_visible_sheet_with_data_is_read():
    data = messy_files.xlsx(
        [HEADER, ["李娜", "BH1", "办公室"]], empty_first_sheet=True, hidden_first_sheet=True
    )
    assert values(read(data), "name") == [("李娜",)]


def test_a_forged_sheet_size_is_ignored():
    data = messy_files.with_dimension(
        messy_files.xlsx([HEADER, ["李娜", "BH1", "办公室"]]), "A1:XFD1048576"
    )
    assert values(read(data), "name") == [("李娜",)]


def test_an_xls_file_with_merges_warns_that_numbers_lose_leading_zeros():
    data = messy_files.xls(
        [
            ["序号", *HEADER, "入职日期"],
            [1, "李娜", 1001, "区财政局", datetime.date(2021, 3, 5)],
            [2, "刘洋", "BH0002", None, "2021-03-06"],
        ],
        merges=["A1:E1", "D3:D4"],
        title_rows=["2026年花名册"],
        empty_first_sheet=True,
    )
    table = read(data, filename="花名册.xls")
    assert table.format == "xls"
    assert values(table, "name", "staff_number", "department", "joined_on") == [
        ("李娜", "1001", "区财政局", "2021-03-05"),
        ("刘洋", "BH0002", "区财政局", "2021-03-06"),
    ]
    assert table.rows[0].dates == {"joined_on": datetime.date(2021, 3, 5)}
    assert table.rows[0].numeric == {"staff_number"}
    assert str(table.warnings[0]) == (
        "This .xls file stores some values as numbers (column 工号); leading zeros cannot be "
        "read from .xls files. Check them, or save the file as .xlsx."
    )


def test_an_xls_file_whose_workbook_is_in_the_mini_stream():
    data = messy_files.xls_in_mini_stream([HEADER, ["李娜", "001", "办公室"]])
    assert len(data) < 4096
    assert values(read(data, filename="a.xls"), "staff_number") == [("001",)]


@pytest.mark.parametrize("build", [messy_files.xls, messy_files.xls_in_mini_stream])
def test_an_xls_file_with_a_value_in_a_far_cell_is_refused_before_it_is_laid_out(build):
    rows = [HEADER, ["李娜", "BH1", "办公室"]] + [[] for _ in range(65532)] + [[None] * 255 + ["x"]]
    assert refusal(build(rows), "a.xls") == [
        "The sheet has values as far as row 65535, column IV. Delete the empty rows and "
        "columns in between, or save the file as .xlsx."
    ]


def test_the_first_visible_sheet_with_data_of_an_xls_file_is_read():
    data = messy_files.xls(
        [HEADER, ["李娜", "BH1", "办公室"]], empty_first_sheet=True, hidden_first_sheet=True
    )
    assert values(read(data, filename="a.xls"), "name") == [("李娜",)]


def test_an_xls_file_without_numbers_gets_no_number_warning():
    data = messy_files.xls([HEADER, ["李娜", "BH1", "办公室"]])
    assert read(data, filename="a.xls").warnings == []


def test_the_format_is_judged_by_content_not_by_name():
    data = messy_files.xlsx([HEADER, ["李娜", "BH1", "办公室"]])
    assert read(data, filename="花名册.xls").format == "xlsx"
    assert read(messy_files.csv_bytes([HEADER]), filename="花名册.xlsx").format == "csv"


ROWS = [["姓名", "工号", "部门"], ["李娜", "001001", "区财政局"], ["刘洋", "001002", "区司法局"]]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("utf-8", ","), ("gb18030", ","), ("gb18030", "\t"), ("utf-16", "\t")],
)
def test_csv_in_the_encodings_and_delimiters_offices_use(encoding, delimiter):
    data = messy_files.csv_bytes(ROWS, encoding=encoding, delimiter=delimiter)
    table = read(data, filename="花名册.csv")
    assert table.format == "csv"
    assert values(table, "name", "staff_number", "department") == [tuple(r) for r in ROWS[1:]]
    assert all(row.numeric == frozenset() for row in table.rows)


def test_csv_quoted_line_breaks_and_a_title_row():
    data = messy_files.csv_bytes(
        [
            ["2026年花名册", "", ""],
            *ROWS[:1],
            ["李娜", "BH1", "区财政局\n预算科"],
            ["刘洋", "BH2", "x"],
        ]
    )
    table = read(data, filename="a.csv")
    assert table.header_row == 2
    assert values(table, "department") == [("区财政局\n预算科",), ("x",)]
    assert [row.number for row in table.rows] == [3, 4]


def test_csv_in_an_unknown_encoding_is_refused_with_advice():
    data = "姓名,工号,部门\n李娜,1,办公室\n".encode("gb18030") + b"\x80\xff"
    assert refusal(data, filename="a.csv") == [
        "The CSV file is in an encoding that cannot be read. Save it as “CSV UTF-8” or as an "
        "Excel workbook (*.xlsx)."
    ]


def test_a_web_page_saved_as_xls_is_refused_with_advice():
    problems = refusal(b"<html><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table>", "a.xls")
    assert problems[0].startswith("This file is a web page or XML file")


# Limits -------------------------------------------------------------------------------------


def test_blank_rows_do_not_count_towards_max_rows():
    rows = [
        HEADER,
        ["李娜", "BH1", "办公室"],
        [None] * 3,
        ["", " ", None],
        ["刘洋", "BH2", "办公室"],
    ]
    table = read(messy_files.xlsx(rows), max_rows=2)
    assert [row.number for row in table.rows] == [2, 5]


def test_one_row_more_than_max_rows_is_refused():
    rows = [HEADER] + [[f"人{n}", f"BH{n}", "办公室"] for n in range(3)]
    assert len(read(messy_files.xlsx(rows), max_rows=3).rows) == 3
    assert refusal(messy_files.xlsx(rows), max_rows=2) == [
        "The file has more than 2 rows with data."
    ]


def test_an_empty_file_and_a_too_large_file_are_refused():
    assert refusal(b"") == ["The file is empty."]
    assert refusal(b"x" * 3000, max_bytes=2000) == ["The file is larger than 1 KB."]
    assert refusal(b"x" * (3 * 1024 * 1024), max_bytes=2 * 1024 * 1024) == [
        "The file is larger than 2 MB."
    ]


def test_an_upload_is_read_no_further_than_the_limit():
    class Upload(io.BytesIO):
        asked = None

        def read(self, size=-1):
            Upload.asked = size
            return super().read(size)

    data = messy_files.xlsx([HEADER, ["李娜", "BH1", "办公室"]])
    assert values(read(Upload(data)), "name") == [("李娜",)]
    assert refusal(Upload(data), max_bytes=1000) == ["The file is larger than 1 KB."]
    assert Upload.asked == 1001


def test_a_workbook_without_data_is_refused():
    assert refusal(messy_files.xlsx([])) == ["The file has no data in it."]


@pytest.mark.parametrize(
    "data",
    [
        messy_files.pdf(),
        messy_files.docx(),
        messy_files.word_97_document(),
        random.Random(4).randbytes(4000),
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
    ],
    ids=["pdf", "docx", "doc", "random", "png"],
)
def test_what_is_not_a_spreadsheet_is_refused_with_how_to_save_one(data):
    assert refusal(data) == [SAVE_AS]


def test_an_ods_file_is_refused_with_how_to_save_it():
    assert refusal(messy_files.ods())[0].startswith("OpenDocument spreadsheets (.ods)")


def test_a_password_protected_workbook_is_refused_as_such():
    assert refusal(messy_files.password_protected_xlsx()) == [PASSWORD]


def test_ole2_garbage_is_refused_cleanly():
    data = messy_files.xls([HEADER, ["李娜", "BH1", "办公室"]])
    assert refusal(data[:1500], "a.xls") == [UNREADABLE]


def test_a_zip_bomb_is_refused():
    assert refusal(messy_files.zip_bomb()) == [
        "The workbook expands to an unreasonable size; refused."
    ]


def test_a_zip_with_too_many_members_is_refused():
    assert refusal(messy_files.many_members_zip()) == [
        "The workbook has too many parts; it is not a normal spreadsheet."
    ]


def test_a_truncated_workbook_is_refused_cleanly():
    data = messy_files.xlsx([HEADER, ["李娜", "BH1", "办公室"]])
    assert refusal(data[: len(data) // 2]) == [UNREADABLE]


def test_problems_read_with_row_and_column():
    assert str(Problem(5, "工号", "Bad.")) == "Row 5, column “工号”: Bad."
    assert str(Problem(5, "", "Bad.")) == "Row 5: Bad."
    assert str(Problem(None, "", "Bad.")) == "Bad."


# The xlsx reader equals openpyxl's own ------------------------------------------------------

WIDE = tuple(Field(f"f{n}", f"F{n}", (f"列{n}",)) for n in range(6))
typed_cells = st.one_of(
    st.none(),
    st.text(max_size=12).map(storable).map(lambda text: text.lstrip("=")),  # "=…" is a formula
    st.sampled_from(["BH0012", "第_x000D_一", " 李 娜 ", "a\nb"]),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.dates(min_value=datetime.date(1900, 3, 1), max_value=datetime.date(2100, 1, 1)),
    st.datetimes(min_value=datetime.datetime(1900, 3, 1), max_value=datetime.datetime(2100, 1, 1)),
    st.times(),
    st.builds(lambda a, b: CellRichText([a, TextBlock(InlineFont(b=True), b)]),
              st.text("甲乙ab", min_size=1, max_size=3), st.text("丙c", min_size=1, max_size=3)),
)  # fmt: skip
number_formats = st.sampled_from(
    ["General", "000000", '"BH"0000', "0.00", "#,##0.00", "0%", "@", "0_ ", "yyyy-mm-dd", "h:mm"]
)


def as_openpyxl_reads(cell):
    """A cell as openpyxl's own read-only reader gives it, shown as read_table shows it."""
    value = cell.value
    if value is None:
        return None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE", False, None)
    if isinstance(value, int | float):
        return (format_number(value, cell.number_format), True, None)
    if isinstance(value, datetime.datetime):
        return (value.date().isoformat(), False, value.date())
    if isinstance(value, datetime.time):
        return (value.strftime("%H:%M"), False, None)
    text = clean_text(value)
    return (text, False, None) if text else None


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(typed_cells, min_size=6, max_size=6), min_size=1, max_size=8),
    formats=st.dictionaries(
        st.tuples(st.integers(2, 9), st.integers(1, 6)), number_formats, max_size=12
    ),
    shared=st.booleans(),
)
def test_xlsx_cells_read_as_openpyxl_reads_them(rows, formats, shared):
    data = messy_files.xlsx(
        [[f"列{n}" for n in range(6)], *rows], number_formats=formats, shared_strings=shared
    )
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    expected = []
    for number, cells in enumerate(workbook.worksheets[0].iter_rows(min_row=2), start=2):
        shown = [as_openpyxl_reads(cell) for cell in cells]
        if any(shown):
            expected.append((number, [value or ("", False, None) for value in shown]))
    workbook.close()
    table = read_table(data, "a.xlsx", WIDE, max_rows=100)
    assert [
        (row.number, [
            (row.values[f.key], f.key in row.numeric, row.dates.get(f.key)) for f in WIDE
        ])
        for row in table.rows
    ] == expected  # fmt: skip


# Garbage never raises anything else -----------------------------------------------------------

cells = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["姓名", "工号", "部门", "注：", "合计", "_x000D_", " "]),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=datetime.date(1900, 3, 1), max_value=datetime.date(2100, 1, 1)),
)
sheets = st.lists(st.lists(cells, max_size=6), max_size=8)
formats = st.dictionaries(
    st.tuples(st.integers(1, 8), st.integers(1, 6)),
    st.sampled_from(["000000", '"BH"0000', "0.00", "#,##0", "0%", "@", "General", ";;;", "[Red]0"]),
    max_size=4,
)


def storable_rows(rows):
    return [[storable(value) for value in row] for row in rows]


def cut(data, at):
    return data[:at]


def replace_member(data, name, content):
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return build_zip(
            (info.filename, content if info.filename == name else source.read(info))
            for info in source.infolist()
        )


SHEET_START = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\xa7\x93\xe5\x90\x8d</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>\xe5\xb7\xa5\xe5\x8f\xb7</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>\xe9\x83\xa8\xe9\x97\xa8</t></is></c></row>'
)
sheet_parts = st.lists(
    st.sampled_from(
        [
            b'<row r="2"><c r="A2"><f>1+1</f></c><c r="B2"><f>x</f><v></v></c></row>',
            b'<row r="3"><c r="C3" t="s"><v>999</v></c></row>',
            b'<row r="x"><c r="ZZZZZZ1"><v>1</v></c></row>',
            b'<row r="4"><c><v>1</v></c><c t="b"><v>7</v></c><c t="d"><v>x</v></c></row>',
            b'<row r="5"><c r="A5" s="999"><v>1</v></c><c r="B5" t="e"><v>#N/A</v></c></row>',
            b'<row r="1048577"><c r="A1048577"><v>1</v></c></row>',
            b"</sheetData><mergeCells>",
            b'<mergeCell ref="A1:XFD1048576"/><mergeCell ref="nonsense"/><mergeCell/>',
            b'<mergeCell ref="B2:B9"/><mergeCell ref="B2:C3"/>',
            b"</mergeCells>",
            b"<sheetData>",
            b"</worksheet>",
        ]
    ),
    max_size=8,
).map(lambda parts: SHEET_START + b"".join(parts))
sheet_xml = st.one_of(
    st.binary(max_size=300),
    sheet_parts,
    st.just(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet>&a;</worksheet>'),
)
garbage = st.one_of(
    st.builds(
        lambda rows, xml: replace_member(
            messy_files.xlsx(storable_rows([HEADER, *rows]), shared_strings=False),
            "xl/worksheets/sheet1.xml",
            xml,
        ),
        sheets,
        sheet_xml,
    ),
    st.builds(
        lambda xml: replace_member(messy_files.xlsx([HEADER]), "xl/workbook.xml", xml), sheet_xml
    ),
    st.binary(max_size=2048),
    st.builds(lambda tail: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + tail, st.binary(max_size=2048)),
    st.dictionaries(
        st.sampled_from(
            ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "mimetype"]
        ),
        st.one_of(
            st.binary(max_size=256),
            st.just(b"spreadsheetml.sheet.main+xml spreadsheetml.worksheet+xml"),
        ),
        max_size=4,
    ).map(lambda members: build_zip(members.items())),
    st.builds(
        lambda rows, nf: messy_files.xlsx(storable_rows(rows), number_formats=nf), sheets, formats
    ),
    st.builds(lambda rows: messy_files.wps_xlsx(storable_rows([HEADER, *rows])), sheets),
    st.builds(
        lambda rows, at: cut(messy_files.xlsx(storable_rows([HEADER, *rows])), at),
        sheets,
        st.integers(0, 6000),
    ),  # fmt: skip
    st.builds(lambda rows: messy_files.xls(storable_rows([HEADER, *rows])), sheets),
    st.builds(
        lambda rows, at: cut(messy_files.xls(storable_rows([HEADER, *rows])), at),
        sheets,
        st.integers(0, 6000),
    ),  # fmt: skip
    st.builds(lambda rows: messy_files.csv_bytes(storable_rows([HEADER, *rows])), sheets),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=garbage)
def test_garbage_only_ever_raises_table_error(data):
    try:
        table = read(data, max_rows=5)
    except TableError as error:
        assert error.problems
        assert all(problem.message for problem in error.problems)
    else:
        assert table.format in ("xlsx", "xls", "csv")
        assert all(set(row.values) == {f.key for f in FIELDS} for row in table.rows)
        assert len(table.rows) <= 5
