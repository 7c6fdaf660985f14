"""The roster import against files made the way offices make them: each test builds
one messy file and states what importing it must do (or which exact problem it must
report), through the preview and apply functions the admin screens and the command
use."""

import datetime
import io
from decimal import Decimal

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from wagtail.models import ModelLogEntry

import openpyxl
import pytest

from exams.reports.behind import behind
from learning import roster
from learning.models import DepartmentMembership, Official, User
from tests import messy_files
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory

from .factories import make_plan

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "工号", "部门", "科室", "职务", "是否领导干部", "手机号码"]


@pytest.fixture
def org():
    government = DepartmentFactory(name="滨海新区人民政府")
    office = DepartmentFactory(name="区政府办公室", parent=government)
    return {
        "office": office,
        "secretariat": DepartmentFactory(name="秘书科", parent=office),
        "general": DepartmentFactory(name="综合科", parent=office),
        "bureau": DepartmentFactory(name="区财政局", parent=government),
    }


def preview_of(data, filename="roster.xlsx"):
    preview, _plan = roster.plan_file(data, filename)
    return preview


def problems(data, filename="roster.xlsx"):
    return [(p.row, p.column, p.message) for p in preview_of(data, filename).errors]


def imported(data, filename="roster.xlsx", **kwargs):
    preview, plan = roster.plan_file(data, filename)
    assert not preview.errors, [str(p) for p in preview.errors]
    options = {"deactivate": kwargs.get("deactivate", [])}
    return roster.apply_file(data, filename, preview.fingerprint, options)


def official(staff_number):
    return Official.objects.select_related("user", "department").get(staff_number=staff_number)


def test_title_rows_above_the_header_are_skipped(org):
    data = messy_files.xlsx(
        [HEADER, ["张三", "BH1001", "区政府办公室", "秘书科", "科员", "否", "13800001001"]],
        title_rows=[["2026年滨海新区机关工作人员花名册"], ["填报单位：区委组织部"]],
        merges=["A1:G1"],
    )
    assert imported(data)["created"] == 1
    assert official("BH1001").department == org["secretariat"]


def test_staff_numbers_formatted_with_leading_zeros_keep_them_and_reimport_as_text(org):
    rows = [HEADER, ["张三", 101, "区财政局", "", "科员", "否", ""]]
    data = messy_files.xlsx(rows, number_formats={"B2": "000000"})
    assert imported(data)["created"] == 1
    assert official("000101").user.username == "000101"

    # Next month's file has the staff numbers as text: the same official, no second account.
    again = messy_files.xlsx([HEADER, ["张三", "000101", "区财政局", "", "科员", "否", ""]])
    result = imported(again)
    assert (result["created"], result["unchanged"]) == (0, 1)
    assert Official.objects.count() == 1


def test_xls_number_that_lost_its_zeros_is_refused_not_duplicated(org):
    OfficialFactory(staff_number="000101", department=org["bureau"])
    data = messy_files.xls([HEADER, ["张三", 101, "区财政局", "", "科员", "否", ""]])

    preview = preview_of(data, "roster.xls")

    assert [(p.row, p.column) for p in preview.errors] == [(2, "工号")]
    assert "000101" in preview.errors[0].message
    assert any("工号" in p.message for p in preview.warnings), "the .xls numbers are warned"
    assert Official.objects.count() == 1


def test_leader_column_in_its_long_form_marks_leaders(org):
    data = messy_files.xlsx(
        [
            ["姓名", "工号", "部门", "职务", "是否领导干部"],
            ["李建国", "L1", "区政府办公室", "主任", "是"],
            ["王五", "L2", "区政府办公室", "科员", "否"],
        ]
    )
    imported(data)
    assert official("L1").is_leader and not official("L2").is_leader


def test_section_in_its_own_column_places_officials_in_the_section(org):
    data = messy_files.xlsx(
        [
            ["姓名", "工号", "单位", "处室"],
            ["张三", "S1", "区政府办公室", "综合科"],
            ["李四", "S2", "区政府办公室", ""],
        ]
    )
    imported(data)
    assert official("S1").department == org["general"]
    assert official("S2").department == org["office"]


def test_department_merged_down_over_its_staff_applies_to_every_row(org):
    data = messy_files.xlsx(
        [
            ["姓名", "工号", "部门"],
            ["张三", "M1", "区财政局"],
            ["李四", "M2", None],
            ["王五", "M3", None],
        ],
        merges=["C2:C4"],
    )
    imported(data)
    assert {o.department for o in Official.objects.all()} == {org["bureau"]}


def test_two_row_header_with_merged_group_cells(org):
    data = messy_files.xlsx(
        [
            ["姓名", "工号", "单位信息", None],
            [None, None, "部门", "科室"],
            ["张三", "H1", "区政府办公室", "秘书科"],
        ],
        merges=["A1:A2", "B1:B2", "C1:D1"],
    )
    imported(data)
    assert official("H1").department == org["secretariat"]


def test_unused_columns_are_named_as_warnings_never_dropped_silently(org):
    data = messy_files.xlsx(
        [["序号", "姓名", "工号", "部门", "备注"], [1, "张三", "U1", "区财政局", "借调"]]
    )
    preview = preview_of(data)
    warned = " ".join(str(p) for p in preview.warnings)
    assert "序号" in warned and "备注" in warned
    assert preview.can_apply


def test_officials_missing_from_the_roster_are_listed_and_deactivated_on_request(org):
    stays = OfficialFactory(staff_number="K1", department=org["bureau"])
    leaver = OfficialFactory(staff_number="K2", department=org["bureau"])
    elsewhere = OfficialFactory(staff_number="K3", department=org["office"])
    leaver.user.set_password("pw-of-the-leaver")
    leaver.user.save()
    data = messy_files.xlsx([["姓名", "工号", "部门"], [stays.user.name, "K1", "区财政局"]])

    preview = preview_of(data)
    assert [m["id"] for m in preview.missing] == [leaver.pk], "only the file's departments"

    result = imported(data, deactivate=[leaver.pk, elsewhere.pk])

    assert result["deactivated"] == 1
    leaver.refresh_from_db()
    leaver.user.refresh_from_db()
    assert not leaver.user.is_active
    assert authenticate(username="K2", password="pw-of-the-leaver") is None
    assert Official.objects.filter(pk=leaver.pk).exists(), "records stay"
    assert User.objects.get(pk=elsewhere.user_id).is_active
    entries = ModelLogEntry.objects.filter(action=roster.DEACTIVATED, object_id=str(leaver.pk))
    assert entries.count() == 1

    # A later roster that lists the leaver again brings them back.
    back = messy_files.xlsx(
        [
            ["姓名", "工号", "部门"],
            [stays.user.name, "K1", "区财政局"],
            [leaver.user.name, "K2", "区财政局"],
        ]
    )
    preview = preview_of(back)
    assert [c.label for c in preview.updated] == [f"{leaver.user.name} (K2)"]
    imported(back)
    assert User.objects.get(pk=leaver.user_id).is_active


def test_missing_officials_are_left_alone_unless_chosen(org):
    leaver = OfficialFactory(staff_number="K2", department=org["bureau"])
    data = messy_files.xlsx([["姓名", "工号", "部门"], ["张三", "K1", "区财政局"]])
    imported(data)
    assert User.objects.get(pk=leaver.user_id).is_active


def test_alignment_spaces_inside_chinese_names_are_dropped(org):
    data = messy_files.xlsx(
        [["姓名", "工号", "部门"], ["李 娜", "N1", "区财政局"], ["刘　洋", "N2", "区财政局"]]
    )
    imported(data)
    assert (official("N1").user.name, official("N2").user.name) == ("李娜", "刘洋")


def test_full_width_staff_numbers_and_mobiles_are_read_as_ordinary_characters(org):
    data = messy_files.xlsx(
        [
            ["姓名", "工号", "部门", "手机号"],
            ["张三", "ＢＨ１００１", "区财政局", "１３８００００１００１"],
        ]
    )
    imported(data)
    assert official("BH1001").mobile == "13800001001"


def test_mobiles_stored_as_numbers_or_written_with_prefix_and_dashes(org):
    data = messy_files.xlsx(
        [
            ["姓名", "工号", "部门", "手机号码"],
            ["张三", "P1", "区财政局", 13800001001],
            ["李四", "P2", "区财政局", "+86 138-0000-1002"],
        ]
    )
    imported(data)
    assert (official("P1").mobile, official("P2").mobile) == ("13800001001", "13800001002")


@pytest.mark.parametrize(
    "cell, number_format",
    [
        (datetime.datetime(2021, 3, 5), "yyyy-mm-dd"),
        ("2021.3.5", None),
        ("2021年3月5日", None),
        ("2021/03/05", None),
        ("２０２１－０３－０５", None),
    ],
)
def test_join_dates_as_date_cells_and_as_text(org, cell, number_format):
    formats = {"D2": number_format} if number_format else {}
    data = messy_files.xlsx(
        [["姓名", "工号", "部门", "入职日期"], ["张三", "D1", "区财政局", cell]],
        number_formats=formats,
    )
    imported(data)
    assert official("D1").joined_on == datetime.date(2021, 3, 5)


def test_excel_serial_date_in_a_number_cell(org):
    data = messy_files.xlsx(
        [["姓名", "工号", "部门", "入职日期"], ["张三", "D1", "区财政局", 44260]]
    )
    imported(data)
    assert official("D1").joined_on == datetime.date(2021, 3, 5)


def test_excel_line_break_escape_does_not_reach_the_name(org):
    data = messy_files.xlsx(
        [["姓名", "工号", "部门", "职务"], ["张三_x000D_", "X1", "区财政局", "科员_x000D_\n"]]
    )
    imported(data)
    assert (official("X1").user.name, official("X1").position) == ("张三", "科员")


def test_required_markers_and_notes_in_headers(org):
    data = messy_files.xlsx(
        [["姓名*", "工号（必填）", " 部 门 ", "职务(选填)"], ["张三", "R1", "区财政局", "科员"]]
    )
    imported(data)
    assert official("R1").position == "科员"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_the_encodings_offices_save(org, encoding):
    data = messy_files.csv_bytes(
        [["姓名", "工号", "部门", "科室"], ["张三", "000101", "区政府办公室", "秘书科"]],
        encoding=encoding,
    )
    imported(data, "roster.csv")
    assert official("000101").department == org["secretariat"]


def test_wps_saved_workbook(org):
    data = messy_files.wps_xlsx(
        [["姓名", "工号", "部门"], ["张三", "W1", "区财政局"], ["李四", "W2", "区财政局"]]
    )
    assert imported(data)["created"] == 2


def test_blank_rows_do_not_count_toward_the_limit(org, monkeypatch):
    monkeypatch.setattr(roster, "MAX_ROWS", 3)
    rows = [["姓名", "工号", "部门"]]
    for number in range(3):
        rows += [[f"人{number}", f"B{number}", "区财政局"], [None, None, None], [None] * 3]
    assert imported(messy_files.xlsx(rows))["created"] == 3

    rows.append(["人9", "B9", "区财政局"])
    assert [p.row for p in preview_of(messy_files.xlsx(rows)).errors] == [None]


def test_a_column_the_file_lacks_changes_nothing(org):
    leader = OfficialFactory(staff_number="L1", department=org["office"], is_leader=True)
    data = messy_files.xlsx([["姓名", "工号", "部门"], [leader.user.name, "L1", "区政府办公室"]])
    result = imported(data)
    assert result["unchanged"] == 1
    assert official("L1").is_leader


def test_a_move_is_previewed_field_by_field_and_kept_in_the_history(org):
    moving = OfficialFactory(staff_number="T1", department=org["office"], position="科员")
    data = messy_files.xlsx(
        [["姓名", "工号", "部门", "职务"], [moving.user.name, "T1", "区财政局", "副科长"]]
    )
    preview = preview_of(data)
    assert preview.updated[0].fields == [
        ("部门", "滨海新区人民政府 / 区政府办公室", "滨海新区人民政府 / 区财政局"),
        ("职务", "科员", "副科长"),
    ]
    imported(data)
    history = DepartmentMembership.objects.filter(official=moving).order_by("pk")
    assert [m.department for m in history][-2:] == [org["office"], org["bureau"]]


def test_same_roster_twice_changes_nothing(org):
    data = messy_files.xlsx(
        [HEADER, ["张三", "E1", "区政府办公室", "秘书科", "科员", "是", "13800001001"]]
    )
    imported(data)
    before = User.objects.get(username="E1").password
    result = imported(data)
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 1)
    assert User.objects.get(username="E1").password == before


def test_email_differing_only_in_case_is_unchanged(org):
    user = UserFactory(username="C1", email="Zhang.San@Example.cn")
    OfficialFactory(user=user, staff_number="C1", department=org["bureau"])
    data = messy_files.xlsx(
        [["姓名", "工号", "部门", "邮箱"], [user.name, "C1", "区财政局", "zhang.san@example.cn"]]
    )
    assert imported(data)["unchanged"] == 1


def test_formula_without_a_saved_result_is_refused_with_its_cell(org):
    data = messy_files.xlsx(
        [["姓名", "工号", "部门"], ["张三", "F1", "区财政局"], [None, "F2", "区财政局"]],
        formulas={"A3": '="李"&"四"'},
    )
    assert [(row, column) for row, column, _ in problems(data)] == [(3, "姓名")]
    assert not Official.objects.exists()


@pytest.mark.parametrize(
    "make",
    [messy_files.pdf, messy_files.docx, messy_files.word_97_document],
    ids=["pdf", "docx", "doc"],
)
def test_a_document_that_is_not_a_spreadsheet_says_how_to_save_one(org, make):
    found = problems(make(), "roster.xlsx")
    assert len(found) == 1 and found[0][0] is None
    assert "xlsx" in found[0][2]


def test_dry_run_prints_the_preview_and_writes_nothing(org, tmp_path):
    source = tmp_path / "roster.xlsx"
    source.write_bytes(
        messy_files.xlsx([["姓名", "工号", "部门", "备注"], ["张三", "Y1", "区财政局", "x"]])
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("import_roster", source, dry_run=True, stdout=out, stderr=err)
    text = out.getvalue()
    assert "1 new" in text and "Dry run" in text and "备注" in text
    assert not Official.objects.exists()


def test_an_exported_roster_reimports_unchanged(org):
    header = ["姓名", "工号", "部门", "科室", "职务", "职级", "是否领导干部", "手机号", "邮箱"]
    rows = [
        ["张三", "000101", "区政府办公室", "综合科", "=科员", "一级科员", "是", "13800001001", ""],
        ["李四", "BH2", "区财政局", "", "+副局长", "", "否", "", "ls@example.cn"],
    ]
    imported(messy_files.csv_bytes([header, *rows]), "roster.csv")
    Official.objects.filter(staff_number="000101").update(joined_on=datetime.date(2021, 3, 5))
    exported = roster.export_workbook()

    result = imported(exported)

    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 2)
    assert official("000101").position == "=科员"


def test_hr_downloads_the_current_roster(org, client):
    hr = OfficialFactory(user=UserFactory(roles=["Official", "HR"]), department=org["bureau"])
    client.force_login(hr.user)
    response = client.get(reverse("roster:export"))
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[1][1] == hr.staff_number
    client.force_login(OfficialFactory().user)
    assert client.get(reverse("roster:export")).status_code == 403


def test_a_deactivated_leaver_drops_out_of_the_officials_behind(org):
    year = timezone.localdate().year
    make_plan(year, required_credit_hours=Decimal("2"))
    stays = OfficialFactory(staff_number="K1", department=org["bureau"])
    leaver = OfficialFactory(staff_number="K2", department=org["bureau"])
    superuser = UserFactory(is_superuser=True, is_staff=True)
    assert set(behind(superuser, year).official_ids) == {stays.pk, leaver.pk}

    data = messy_files.xlsx([["姓名", "工号", "部门"], [stays.user.name, "K1", "区财政局"]])
    imported(data, deactivate=[leaver.pk])

    assert behind(superuser, year).official_ids == [stays.pk]
