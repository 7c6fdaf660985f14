"""The completion report (exams/reports/completion.py) against a hand-computed year.

2025, one plan for everyone: 4 credit hours, lecture L1 (1 h) and the annual exam E
(closed 30 June). L2 (2 h, not required), collective study S on 1 April (1 h) and a
court observation O on 10 September (2 h) add credit.

Department A (办公室):
  a1  L1 + L2 + S = 4 h, E 90 %           complete
  a2  leader, L1 + O = 3 h, E 70 %         not complete (credit)
  a3  L1 = 1 h, E 40 % (failed)            not complete
  x1  exempted, nothing done               exempted
Department B (司法局):
  b1  L1 + L2 + S = 4 h, E not taken       not complete (exam)
  b2  joined 15 Aug: 4 months → 1.5 h; E closed before → not required;
      L1 + O = 3 h                          complete
  t1  in A until 1 Oct, then B: L1 + L2 + S = 4 h, E 100 %   complete, under B
  t2  in B until Feb 2026, then A: nothing; E not taken      not complete, under B

A: 4 people, 1 exempt, 1 complete → 1/3; 8 of 12 h; lectures 3/3; exam 2/1/0; obs 1
B: 4 people, 0 exempt, 2 complete → 2/4; 11 of 13.5 h; lectures 3/4; exam 1/0/2; obs 1
Total: 8, 1 exempt, 3 complete → 3/7; 19 of 25.5 h; lectures 6/7; exam 3/1/2; obs 2
"""

import datetime
import io
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

import openpyxl
import pytest

from exams.models import Attempt, PlanExam, SessionKind
from exams.observations.models import Attendance
from exams.reports.completion import FAILED, NOT_TAKEN, PASSED, build_report, report_xlsx
from learning import roles
from learning.models import (
    DepartmentMembership,
    Official,
    ReportScope,
    StudyExemption,
    StudyPlan,
    User,
)
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory
from tests.learning.factories import complete, lecture_index, make_lecture, make_session

from .factories import ExamSessionFactory
from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db

YEAR = 2025
TZ = datetime.UTC


def at(month, day, hour=10, year=YEAR):
    return datetime.datetime(year, month, day, hour, tzinfo=TZ)


def sat(session, official, percent):
    """A finished attempt with the given percentage (pass mark 60)."""
    return Attempt.objects.create(
        session=session,
        official=official,
        paper=session.paper,
        number=1,
        state="submitted",
        seed=1,
        started_at=at(6, 10),
        deadline=at(6, 10, 12),
        submitted_at=at(6, 10, 11),
        score=Decimal(percent),
        max_score=Decimal(100),
        percent=Decimal(percent),
        passed=percent >= 60,
    )


def attend(observation, official):
    Attendance.objects.create(
        observation=observation, official=official, status="present", checked_in_at=at(9, 10, 9)
    )


def move(official, *stays):
    """Rewrite the official's department history: [(department, start, end)]."""
    DepartmentMembership.objects.filter(official=official).delete()
    for department, start, end in stays:
        DepartmentMembership.objects.create(
            official=official, department=department, start=start, end=end
        )


@pytest.fixture
def year_data():
    root = DepartmentFactory(name="区政府")
    a = DepartmentFactory(name="办公室", parent=root)
    b = DepartmentFactory(name="司法局", parent=root)
    index = lecture_index()
    l1 = make_lecture("宪法", parent=index, credit_minutes=60)
    l2 = make_lecture("民法典", parent=index, credit_minutes=120)
    plan = StudyPlan.objects.create(year=YEAR, title="2025年度学法计划", required_credit_hours=4)
    plan.required_lectures.set([l1])
    plan.save()
    exam = ExamSessionFactory(
        year=YEAR, kind=SessionKind.ANNUAL, opens_at=at(6, 1), closes_at=at(6, 30)
    )
    PlanExam.objects.create(plan=plan, session=exam)
    observation = CourtObservationFactory(
        starts_at=at(9, 10, 9), ends_at=at(9, 10, 11), registration_deadline=at(9, 1)
    )

    people = {
        "a1": OfficialFactory(department=a, staff_number="A1"),
        "a2": OfficialFactory(department=a, staff_number="A2", is_leader=True, position="局长"),
        "a3": OfficialFactory(department=a, staff_number="A3"),
        "x1": OfficialFactory(department=a, staff_number="X1"),
        "b1": OfficialFactory(department=b, staff_number="B1"),
        "b2": OfficialFactory(
            department=b, staff_number="B2", joined_on=datetime.date(2025, 8, 15)
        ),
        "t1": OfficialFactory(department=b, staff_number="T1"),
        "t2": OfficialFactory(department=a, staff_number="T2"),
    }
    p = people
    move(p["t1"], (a, None, datetime.date(2025, 10, 1)), (b, datetime.date(2025, 10, 1), None))
    move(p["t2"], (b, None, datetime.date(2026, 2, 1)), (a, datetime.date(2026, 2, 1), None))
    for key in ("a1", "a2", "a3", "b1", "b2", "t1"):
        complete(p[key], l1, when=at(5, 1))
    for key in ("a1", "b1", "t1"):
        complete(p[key], l2, when=at(5, 2))
    make_session(
        attendees=[p["a1"], p["b1"], p["t1"]], date=datetime.date(2025, 4, 1), credit_minutes=60
    )
    attend(observation, p["a2"])
    attend(observation, p["b2"])
    sat(exam, p["a1"], 90)
    sat(exam, p["a2"], 70)
    sat(exam, p["a3"], 40)
    sat(exam, p["t1"], 100)
    StudyExemption.objects.create(official=p["x1"], year=YEAR, reason="长期病假")
    return {"a": a, "b": b, "root": root, "people": p, "exam": exam}


@pytest.fixture
def hr_user(db):
    """HR staff without an official profile of their own, so the year has 8 officials."""
    return UserFactory(roles=[roles.HR])


@pytest.fixture
def organizer(db):
    return UserFactory(roles=[roles.ORGANIZER])


def figures(row):
    return {
        "headcount": row.headcount,
        "exempt": row.exempt,
        "complete": row.complete,
        "share": row.complete_share,
        "credit": (row.credited_hours, row.required_hours),
        "lectures": (row.lectures_done, row.lectures_required),
        "exam": (row.exam_passed, row.exam_failed, row.exam_not_taken),
        "observations": row.observations,
    }


def test_department_rows_and_totals_match_the_hand_computed_year(year_data, hr_user):
    report = build_report(YEAR, user=hr_user)
    assert [row.department for row in report.rows] == [year_data["a"], year_data["b"]]
    a, b = report.rows
    assert figures(a) == {
        "headcount": 4,
        "exempt": 1,
        "complete": 1,
        "share": pytest.approx(1 / 3),
        "credit": (8.0, 12.0),
        "lectures": (3, 3),
        "exam": (2, 1, 0),
        "observations": 1,
    }
    assert figures(b) == {
        "headcount": 4,
        "exempt": 0,
        "complete": 2,
        "share": 0.5,
        "credit": (11.0, 13.5),
        "lectures": (3, 4),
        "exam": (1, 0, 2),
        "observations": 1,
    }
    assert figures(report.totals) == {
        "headcount": 8,
        "exempt": 1,
        "complete": 3,
        "share": pytest.approx(3 / 7),
        "credit": (19.0, 25.5),
        "lectures": (6, 7),
        "exam": (3, 1, 2),
        "observations": 2,
    }
    assert report.has_annual_exam and not report.has_pre_appointment
    assert dict(report.histogram) == {
        "0–9": 0,
        "10–19": 0,
        "20–29": 0,
        "30–39": 0,
        "40–49": 1,
        "50–59": 0,
        "60–69": 0,
        "70–79": 1,
        "80–89": 0,
        "90–100": 2,
    }


def test_the_report_is_the_same_in_one_chunk_or_many(year_data, hr_user, monkeypatch):
    def summary(report):
        return (
            [figures(row) for row in report.rows],
            figures(report.totals),
            [
                (
                    row.profile.staff_number,
                    row.department.pk,
                    row.completion.credited_seconds,
                    row.completion.required_seconds,
                    [item.key for item in row.completion.done],
                    [item.key for item in row.completion.missing],
                    row.exempt,
                    row.exam,
                    row.observations,
                )
                for row in report.officials
            ],
        )

    whole = summary(build_report(YEAR, user=hr_user))
    monkeypatch.setattr("exams.reports.completion.REPORT_CHUNK", 3)  # 8 officials
    assert summary(build_report(YEAR, user=hr_user)) == whole


def test_officials_rows_hold_each_edge_case(year_data, hr_user):
    rows = {row.official.staff_number: row for row in build_report(YEAR, user=hr_user).officials}
    p = year_data["people"]
    assert rows["T1"].department == year_data["b"]  # where they were at the year's end
    assert rows["T2"].department == year_data["b"]  # moved to A only in 2026
    assert rows["B2"].completion.required_seconds == 5400 and rows["B2"].completion.prorated
    assert rows["B2"].exam == "" and rows["B2"].is_complete
    assert rows["X1"].exempt and rows["X1"].is_complete and rows["X1"].exam == ""
    exams = [rows[k].exam for k in ("A1", "A3", "B1", "T2")]
    assert exams == [PASSED, FAILED, NOT_TAKEN, NOT_TAKEN]
    assert rows["A2"].completion.other_seconds == 7200 and rows["A2"].observations == 1
    assert len(rows) == 8 and {r.official.pk for r in rows.values()} == {o.pk for o in p.values()}


def test_filters_narrow_the_report(year_data, hr_user):
    leaders = build_report(YEAR, user=hr_user, leaders_only=True)
    assert [r.official.staff_number for r in leaders.officials] == ["A2"]
    assert leaders.totals.headcount == 1
    assert build_report(YEAR, user=hr_user, position="局长").totals.headcount == 1
    assert build_report(YEAR, user=hr_user, rank="不存在").totals.headcount == 0
    only_b = build_report(YEAR, user=hr_user, department=year_data["b"])
    assert [r.department for r in only_b.rows] == [year_data["b"]]
    assert only_b.totals.headcount == 4


def test_joiners_after_the_year_are_not_in_it(year_data, hr_user):
    OfficialFactory(department=year_data["a"], joined_on=datetime.date(2026, 3, 1))
    assert build_report(YEAR, user=hr_user).totals.headcount == 8


def test_report_equals_each_officials_own_record(year_data, hr_user, client):
    report = build_report(YEAR, user=hr_user)
    assert len(report.officials) == 8
    for row in report.officials:
        client.force_login(row.official.user)
        own = client.get("/me/record/", {"year": YEAR}).context["completion"]
        mine = row.completion
        assert (own.credited_seconds, own.required_seconds) == (
            mine.credited_seconds,
            mine.required_seconds,
        )
        assert [i.key for i in own.done] == [i.key for i in mine.done]
        assert [i.key for i in own.missing] == [i.key for i in mine.missing]
        assert (own.is_complete, own.exempt) == (mine.is_complete, mine.exempt)


def test_rows_make_the_official_instance_only_when_asked(
    year_data, hr_user, django_assert_num_queries
):
    report = build_report(YEAR, user=hr_user)
    for row in report.officials:
        fresh = Official.objects.select_related("user").get(pk=row.profile.id)
        with django_assert_num_queries(0):
            official = row.official
            assert official is row.official
            assert (official.pk, official.user.pk) == (fresh.pk, fresh.user.pk)
            assert official.name == row.profile.name == fresh.name
            assert (official.staff_number, official.is_leader, official.joined_on) == (
                fresh.staff_number,
                fresh.is_leader,
                fresh.joined_on,
            )
        with django_assert_num_queries(1):  # what the report does not read is deferred
            assert official.mobile == fresh.mobile


def test_xlsx_reads_back_with_chinese_headers_and_numbers(year_data, hr_user):
    calls = []
    with translation.override("zh-hans"):
        report = build_report(YEAR, user=hr_user)
        content = report_xlsx(report, progress=lambda done, total: calls.append((done, total)))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    departments, officials = workbook.worksheets
    assert departments.freeze_panes == officials.freeze_panes == "A2"
    header = [c.value for c in departments[1]]
    assert header[:3] == ["部门", "人数", "免学"]
    rows = list(departments.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["区政府 / 办公室", "区政府 / 司法局", "合计"]
    total = rows[-1]
    assert total[1:10] == (8, 1, 19.0, 25.5, 6, 7, 3, 1, 2)
    assert total[13:15] == (2, 3)
    assert total[15] == pytest.approx(3 / 7, abs=1e-4)
    assert departments.cell(row=4, column=16).number_format == "0.0%"
    assert departments.column_dimensions["A"].width > 10
    people = {r[1]: r for r in officials.iter_rows(min_row=2, values_only=True)}
    assert [c.value for c in officials[1]][:3] == ["部门", "工号", "姓名"]
    assert len(people) == 8
    assert people["B2"][7:9] == (3.0, 1.5)
    assert people["B2"][6] == datetime.datetime(2025, 8, 15)
    assert people["A3"][11] == "不合格" and people["A3"][12] == 40.0
    assert people["X1"][16] == "免学"
    assert calls and calls[-1] == (10, 10)


# --- Screens and permissions ---------------------------------------------------------

INDEX = "completion_report:index"


def test_hr_sees_the_report_page(year_data, hr_user, client):
    client.force_login(hr_user)
    response = client.get(reverse(INDEX), {"year": YEAR})
    assert response.status_code == 200
    assert response.context["report"].totals.headcount == 8
    body = response.content.decode()
    assert "<svg" in body and "data-totals" in body
    xlsx = client.get(reverse("completion_report:xlsx"), {"year": YEAR})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd")


def test_bad_year_is_refused_with_a_clear_error(hr_user, client):
    client.force_login(hr_user)
    with translation.override("zh-hans"):
        response = client.get(reverse(INDEX), {"year": "1900"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response.context["form"].errors["year"]


def test_drill_down_to_department_and_official(year_data, organizer, client):
    client.force_login(organizer)
    b = year_data["b"]
    page = client.get(reverse("completion_report:department", args=[b.pk]), {"year": YEAR})
    assert page.status_code == 200
    listed = [row.official.staff_number for row in page.context["report"].officials]
    assert listed == ["B1", "B2", "T1", "T2"]
    t1 = year_data["people"]["t1"]
    record = client.get(reverse("completion_report:official", args=[t1.pk]), {"year": YEAR})
    assert record.status_code == 200
    assert record.context["completion"].credited_seconds == 4 * 3600
    assert record.context["department"] == b


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse(INDEX))
    assert response.status_code == 302 and "login" in response["Location"]


def test_officials_are_refused(official_client):
    assert official_client.get(reverse(INDEX)).status_code == 403
    assert official_client.get(reverse("completion_report:xlsx")).status_code == 403


def test_hr_cannot_change_anything_through_the_report(year_data, hr_user, client):
    client.force_login(hr_user)
    b2 = year_data["people"]["b2"]
    urls = [
        reverse(INDEX),
        reverse("completion_report:xlsx"),
        reverse("completion_report:department", args=[year_data["b"].pk]),
        reverse("completion_report:official", args=[b2.pk]),
    ]
    before = (Official.objects.count(), StudyExemption.objects.count(), Attempt.objects.count())
    for url in urls:
        assert client.post(url, {"year": YEAR, "joined_on": ""}).status_code == 405
    after = (Official.objects.count(), StudyExemption.objects.count(), Attempt.objects.count())
    assert before == after
    b2.refresh_from_db()
    assert b2.joined_on == datetime.date(2025, 8, 15)


def test_scoped_hr_sees_only_their_subtree(year_data, hr_user, client):
    ReportScope.objects.create(user=hr_user, department=year_data["a"])
    client.force_login(hr_user)
    page = client.get(reverse(INDEX), {"year": YEAR})
    assert [row.department for row in page.context["report"].rows] == [year_data["a"]]
    assert page.context["report"].totals.headcount == 4
    b = year_data["b"]
    assert client.get(reverse("completion_report:department", args=[b.pk])).status_code == 404
    for key in ("b1", "t1", "t2"):  # t2 is in A today but was in B in 2025
        official = year_data["people"][key]
        url = reverse("completion_report:official", args=[official.pk])
        assert client.get(url, {"year": YEAR}).status_code == 404, key
    a1 = year_data["people"]["a1"]
    url = reverse("completion_report:official", args=[a1.pk])
    assert client.get(url, {"year": YEAR}).status_code == 200
    # Picking a department outside the scope is not offered and reports nothing.
    other = client.get(reverse(INDEX), {"year": YEAR, "department": b.pk})
    assert other.context["form"].errors["department"]
    assert other.context["report"].totals.headcount == 4


# --- Query counts ------------------------------------------------------------------


def _bulk_officials(department, count, start):
    group = Group.objects.get_or_create(name=roles.OFFICIAL)[0]
    users = User.objects.bulk_create(
        [User(username=f"bulk{start + i}", name=f"批量{i}") for i in range(count)]
    )
    group.user_set.add(*users)
    Official.objects.bulk_create(
        [
            Official(user=user, staff_number=f"BK{start + i:05d}", department=department)
            for i, user in enumerate(users)
        ]
    )


def _count(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_officials(year_data, hr_user, client):
    client.force_login(hr_user)
    _bulk_officials(year_data["a"], 2, 0)  # 10 officials
    urls = [
        (reverse(INDEX), {"year": YEAR}),
        (reverse("completion_report:xlsx"), {"year": YEAR}),
        (reverse("completion_report:department", args=[year_data["a"].pk]), {"year": YEAR}),
    ]
    client.get(reverse(INDEX))  # the first request saves the session
    small = [_count(client, url, params) for url, params in urls]
    _bulk_officials(year_data["a"], 995, 100)
    _bulk_officials(year_data["b"], 995, 2000)  # 2,000 officials in all
    assert Official.objects.count() == 2000
    large = [_count(client, url, params) for url, params in urls]
    assert large == small
    assert max(small) < 60


def test_exemptions_are_managed_by_hr_in_the_admin(year_data, hr_user, client):
    client.force_login(hr_user)
    url = reverse("study_exemptions:add")
    assert client.get(url).status_code == 200
    b1 = year_data["people"]["b1"]
    response = client.post(url, {"official": b1.pk, "year": YEAR, "reason": "借调"})
    assert response.status_code == 302
    exemption = StudyExemption.objects.get(official=b1)
    assert exemption.created_by == hr_user
    assert build_report(YEAR, user=hr_user).rows[1].exempt == 1


def test_only_superusers_manage_report_scopes(hr_user, superuser, client):
    client.force_login(hr_user)
    response = client.get(reverse("report_scopes:index"))
    assert (response.status_code, response.url) == (302, reverse("wagtailadmin_home"))
    client.force_login(superuser)
    assert client.get(reverse("report_scopes:index")).status_code == 200


def test_organizer_may_view_but_officials_with_no_role_may_not(year_data, client):
    user = UserFactory(roles=[roles.OFFICIAL, roles.ORGANIZER])
    client.force_login(user)
    assert client.get(reverse(INDEX), {"year": YEAR}).status_code == 200


def test_scoped_hr_reaches_only_their_subtrees_exemptions(year_data, hr_user, client):
    ReportScope.objects.create(user=hr_user, department=year_data["b"])
    client.force_login(hr_user)
    x1 = year_data["people"]["x1"]  # in A
    exemption = StudyExemption.objects.get(official=x1)
    index = client.get(reverse("study_exemptions:index"))
    assert index.status_code == 200 and "长期病假" not in index.content.decode()
    assert client.get(reverse("study_exemptions:edit", args=[exemption.pk])).status_code == 404
    assert client.post(reverse("study_exemptions:delete", args=[exemption.pk])).status_code == 404
    assert StudyExemption.objects.filter(pk=exemption.pk).exists()
    # Nor can they exempt someone outside it.
    response = client.post(
        reverse("study_exemptions:add"), {"official": x1.pk, "year": YEAR + 1, "reason": "借调"}
    )
    assert response.status_code == 200 and response.context["form"].errors["official"]
