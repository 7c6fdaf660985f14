"""A meeting's sign-in list as attendance of its collective-study record, through the
shared preview → confirm import: messy files as offices make them, officials matched
by staff number or by name with department, anything unknown or ambiguous refused with
its row and nothing recorded, and the credit the collective-study rule gives."""

import io

from django.urls import reverse
from django.utils import translation

import pytest

from learning import agenda, agenda_attendance
from learning.completion import completion_for
from learning.imports import PlanChanged
from learning.models import ImportJob, SessionAttendance
from tests import messy_files
from tests.factories import AgendaItemFactory, DepartmentFactory, OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = ["序号", "姓名", "工号", "单位", "签到情况"]
TITLE = [["区政府常务会会前学法签到表"], ["时间：2026年9月10日 地点：第一会议室"]]


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def org():
    office = DepartmentFactory(name="区政府办公室")
    secretariat = DepartmentFactory(name="秘书科", parent=office)
    finance = DepartmentFactory(name="区财政局")
    stats = DepartmentFactory(name="区统计局")

    def person(name, number, department):
        return OfficialFactory(
            user=UserFactory(name=name, roles=["Official"]),
            staff_number=number,
            department=department,
        )

    return {
        "wang": person("王晓明", "BH0001", secretariat),
        "li": person("李建国", "BH0002", office),
        "zhang_finance": person("张伟", "BH0101", finance),
        "zhang_stats": person("张伟", "BH0102", stats),
        "zhao": person("赵敏", "BH0003", secretariat),
    }


@pytest.fixture
def session():
    item = AgendaItemFactory(title="法律专家讲座：《民法典》", credit_minutes=60)
    return agenda.record_held(item).session


def sign_in_list(rows, **options):
    return messy_files.xlsx([HEADER, *rows], title_rows=TITLE, merges=["A1:E1", "A2:E2"], **options)


def attending(session):
    return set(
        SessionAttendance.objects.filter(session=session).values_list(
            "official__staff_number", flat=True
        )
    )


def imported(data, session, filename="签到表.xlsx"):
    preview, plan = agenda_attendance.plan_file(data, filename)
    assert plan is not None, [str(p) for p in preview.errors]
    return agenda_attendance.apply_file(
        data, filename, preview.fingerprint, {"session": session.pk}
    )


def test_a_messy_sign_in_list_records_its_officials(org, session):
    data = sign_in_list(
        [
            ["1", "王 晓 明", "ＢＨ０００１", "区政府办公室", "出席"],  # full-width number
            ["2", "李建国", "", "区政府办公室", ""],  # by name, no number
            ["3", "张伟", "", "区财政局", "√"],  # a shared name, told apart by department
            ["4", "赵敏", "BH0003", "区政府办公室", "请假"],  # on leave: skipped
        ]
    )
    preview, plan = agenda_attendance.plan_file(data, "签到表.xlsx")
    assert not preview.errors
    assert preview.counts["created"] == 3 and preview.counts["skipped"] == 1
    assert [c.label for c in preview.created] == [
        "王晓明 (BH0001)",
        "李建国 (BH0002)",
        "张伟 (BH0101)",
    ]
    result = imported(data, session)
    assert (result["created"], result["unchanged"], result["skipped"]) == (3, 0, 1)
    assert attending(session) == {"BH0001", "BH0002", "BH0101"}
    # Importing the same list again records nobody twice.
    assert imported(data, session)["unchanged"] == 3
    assert SessionAttendance.objects.filter(session=session).count() == 3


def test_the_credit_is_the_collective_study_rule(org, session):
    imported(sign_in_list([["1", "王晓明", "BH0001", "", ""]]), session)
    assert completion_for(org["wang"], session.date.year).session_seconds == 60 * 60
    assert completion_for(org["li"], session.date.year).session_seconds == 0


def test_an_unknown_name_is_refused_with_its_row_and_nothing_is_recorded(org, session):
    data = sign_in_list(
        [["1", "王晓明", "BH0001", "", ""], ["2", "孙悟空", "", "区政府办公室", ""]]
    )
    preview, plan = agenda_attendance.plan_file(data, "签到表.xlsx")
    assert plan is None
    assert [str(p) for p in preview.errors] == [
        "Row 5, column “姓名”: No active official is called 孙悟空."
    ]
    with pytest.raises(PlanChanged):
        agenda_attendance.apply_file(
            data, "签到表.xlsx", preview.fingerprint, {"session": session.pk}
        )
    assert attending(session) == set()


def test_an_ambiguous_name_asks_for_the_number_or_department(org, session):
    preview, plan = agenda_attendance.plan_file(
        sign_in_list([["1", "张伟", "", "", ""]]), "签到表.xlsx"
    )
    assert plan is None
    assert [p.message for p in preview.errors] == [
        "More than one official is called 张伟 (区统计局、区财政局): add the staff number "
        "or the department."
    ]


def test_a_staff_number_of_someone_else_is_refused(org, session):
    preview, plan = agenda_attendance.plan_file(
        sign_in_list([["1", "李建国", "BH0001", "", ""], ["2", "王晓明", "BH9999", "", ""]]),
        "签到表.xlsx",
    )
    assert plan is None
    assert [p.message for p in preview.errors] == [
        "Staff number BH0001 belongs to 王晓明, not 李建国.",
        "No active official has the staff number BH9999.",
    ]


def test_a_name_in_the_wrong_department_and_an_unclear_mark_are_refused(org, session):
    preview, plan = agenda_attendance.plan_file(
        sign_in_list([["1", "王晓明", "", "区财政局", ""], ["2", "李建国", "", "", "迟到?"]]),
        "签到表.xlsx",
    )
    assert plan is None
    assert [(p.row, p.column) for p in preview.errors] == [(4, "单位"), (5, "签到情况")]


def test_a_name_listed_twice_counts_once_with_a_warning(org, session):
    data = sign_in_list([["1", "王晓明", "", "", ""], ["2", "王晓明", "BH0001", "", ""]])
    preview, plan = agenda_attendance.plan_file(data, "签到表.xlsx")
    assert plan.official_ids == [org["wang"].pk]
    assert "already listed in row 4" in str(preview.warnings[-1])


def test_xls_and_gbk_csv_sign_in_lists(org, session):
    rows = [["姓名", "工号", "部门"], ["王晓明", "BH0001", "秘书科"]]
    assert imported(messy_files.xls(rows), session, "签到表.xls")["created"] == 1
    csv = messy_files.csv_bytes([["姓名", "部门"], ["李建国", "区政府办公室"]], encoding="gbk")
    assert imported(csv, session, "签到表.csv")["created"] == 1
    assert attending(session) == {"BH0001", "BH0002"}


# --- Through the screens: upload, preview, confirm ------------------------------------------


def upload(data, name="签到表.xlsx"):
    fileobj = io.BytesIO(data)
    fileobj.name = name
    return fileobj


def test_organizer_previews_then_confirms_a_sign_in_list(client, organizer, org, session):
    client.force_login(organizer)
    url = reverse("agenda_attendance:upload", args=[session.pk])
    assert client.get(url).status_code == 200
    data = sign_in_list([["1", "王晓明", "ＢＨ０００１", "", ""], ["2", "李建国", "", "", ""]])
    response = client.post(url, {"file": upload(data)})
    job = ImportJob.objects.get()
    assert job.options == {"session": session.pk}
    assert response["Location"] == reverse("agenda_attendance:job", args=[job.pk])
    page = client.get(response["Location"])
    assert "王晓明 (BH0001)" in page.content.decode()
    assert attending(session) == set()  # nothing before the confirmation

    confirm = reverse("agenda_attendance:confirm", args=[job.pk])
    client.post(confirm, {"fingerprint": job.preview["fingerprint"]})
    assert attending(session) == {"BH0001", "BH0002"}
    client.post(confirm, {"fingerprint": job.preview["fingerprint"]})  # a second click
    assert SessionAttendance.objects.filter(session=session).count() == 2
    done = client.get(reverse("agenda_attendance:job", args=[job.pk]))
    assert done.context["done_url"] == reverse("agenda_admin:attendance", args=[session.pk])


def test_a_list_with_an_unknown_name_shows_why_and_offers_no_confirmation(
    client, organizer, org, session
):
    client.force_login(organizer)
    data = sign_in_list([["1", "王晓明", "", "", ""], ["2", "孙悟空", "", "", ""]])
    response = client.post(
        reverse("agenda_attendance:upload", args=[session.pk]), {"file": upload(data)}
    )
    page = client.get(response["Location"]).content.decode()
    assert "No active official is called 孙悟空." in page
    assert 'id="import-confirm"' not in page
    job = ImportJob.objects.get()
    client.post(reverse("agenda_attendance:confirm", args=[job.pk]), {"fingerprint": "x"})
    assert attending(session) == set()


def test_someone_elses_upload_is_not_found(client, organizer, org, session):
    client.force_login(organizer)
    client.post(
        reverse("agenda_attendance:upload", args=[session.pk]),
        {"file": upload(sign_in_list([["1", "王晓明", "", "", ""]]))},
    )
    job = ImportJob.objects.get()
    other = OfficialFactory(user=UserFactory(roles=["Official", "Organizer"])).user
    client.force_login(other)
    assert client.get(reverse("agenda_attendance:job", args=[job.pk])).status_code == 404
    response = client.post(
        reverse("agenda_attendance:confirm", args=[job.pk]),
        {"fingerprint": job.preview["fingerprint"]},
    )
    assert response.status_code == 404
    assert attending(session) == set()
