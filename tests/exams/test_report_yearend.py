"""Year-end figures for the annual rule-of-law report, against a small organisation
whose numbers are counted by hand below; the printable page and the xlsx say the
same; a scoped HR user's people figures cover only their subtree."""

import datetime
import io

from django.utils import timezone

import pytest
from openpyxl import load_workbook

from exams.models import SessionKind
from exams.observations.models import Attendance, Status
from exams.reports import yearend
from learning.models import LecturePage
from tests.learning.factories import SpeakerFactory, make_lecture, make_plan, make_session

from . import report_fixtures
from .factories import ExamSessionFactory
from .observation_factories import CourtObservationFactory
from .report_fixtures import finished_attempt, official, org, scoped

pytestmark = pytest.mark.django_db
YEAR = 2026
URL = "/admin/reports/year-end/"


@pytest.fixture
def hr_user(db):
    return report_fixtures.hr()


def _at(year, month, day):
    return datetime.datetime(year, month, day, 9, tzinfo=datetime.UTC)


@pytest.fixture
def world(db):
    """甲 and 乙 in 东区, 丙 in 西区; plan 2026: 1 credit hour.
    Lectures dated 2026: two live (speakers 付 + 陈, and 付), one draft; one live
    dated 2025 but first published in 2026. Collective study 2026: 60 min (甲, 乙;
    lecturer 李) and 90 min (甲; lecturer 付); one in 2025 (甲).
    Exams 2026: annual — 甲 80, 乙 40 then 70; pre-appointment — 丙 50; practice and
    a 2025 annual exam are left out. Observations 2026: 甲 present, 乙 late, 丙 absent;
    甲 excused at the second; one 2025 observation (甲 present) is left out."""
    east, _office, west = org()
    jia, yi = official(east, "甲", "E001"), official(east, "乙", "E002")
    bing = official(west, "丙", "W001")
    fu, chen, li = SpeakerFactory(name="付"), SpeakerFactory(name="陈"), SpeakerFactory(name="李")
    make_lecture("讲座一", date=datetime.date(2026, 3, 1), speakers=[fu, chen])
    make_lecture("讲座二", date=datetime.date(2026, 9, 1), speakers=[fu])
    make_lecture("草稿", date=datetime.date(2026, 10, 1), live=False, speakers=[chen])
    old = make_lecture("旧讲座", date=datetime.date(2025, 12, 1), speakers=[li])
    LecturePage.objects.exclude(pk=old.pk).update(first_published_at=_at(2026, 3, 1))
    LecturePage.objects.filter(pk=old.pk).update(first_published_at=_at(2026, 1, 5))
    make_session(
        attendees=[jia, yi], credit_minutes=60, lecturer=li, date=datetime.date(2026, 4, 1)
    )
    make_session(attendees=[jia], credit_minutes=90, lecturer=fu, date=datetime.date(2026, 5, 1))
    make_session(attendees=[jia], credit_minutes=60, date=datetime.date(2025, 5, 1))
    annual = ExamSessionFactory(year=YEAR, kind=SessionKind.ANNUAL)
    finished_attempt(annual, jia, 80)
    finished_attempt(annual, yi, 40)
    finished_attempt(annual, yi, 70, number=2)
    pre = ExamSessionFactory(year=YEAR, kind=SessionKind.PRE_APPOINTMENT, for_everyone=False)
    finished_attempt(pre, bing, 50)
    practice = ExamSessionFactory(year=YEAR, kind=SessionKind.PRACTICE)
    finished_attempt(practice, bing, 100)
    finished_attempt(ExamSessionFactory(year=2025), jia, 100)
    first = CourtObservationFactory(
        starts_at=_at(2026, 6, 1), registration_deadline=_at(2026, 5, 30)
    )
    second = CourtObservationFactory(
        starts_at=_at(2026, 7, 1), registration_deadline=_at(2026, 6, 30)
    )
    old_obs = CourtObservationFactory(
        starts_at=_at(2025, 7, 1), registration_deadline=_at(2025, 6, 30)
    )
    for obs, person, status in (
        (first, jia, Status.PRESENT),
        (first, yi, Status.LATE),
        (first, bing, Status.ABSENT),
        (second, jia, Status.EXCUSED),
        (old_obs, jia, Status.PRESENT),
    ):
        Attendance.objects.create(observation=obs, official=person, status=status)
    make_plan(year=YEAR, required_credit_hours=1)
    return {"east": east, "west": west}


def test_figures(world, hr_user):
    f = yearend.year_end(hr_user, YEAR)
    assert (f.lectures_held, f.lectures_published) == (2, 3)
    assert f.speakers == 3  # 付, 陈 (lectures), 李 (collective study); 付 counted once
    assert (f.study_sessions, f.study_attendances, f.study_attendees) == (2, 3, 2)
    assert f.study_credit_hours == 3.5  # 60 × 2 + 90 minutes
    exams = {e.kind: e for e in f.exams}
    assert SessionKind.PRACTICE not in exams
    annual = exams[SessionKind.ANNUAL]
    assert (annual.sessions, annual.attempts, annual.participants, annual.passed) == (1, 3, 2, 2)
    assert annual.pass_rate == 100.0
    assert annual.average_percent == 63.3  # (80 + 40 + 70) / 3
    pre = exams[SessionKind.PRE_APPOINTMENT]
    assert (pre.sessions, pre.participants, pre.passed, pre.pass_rate) == (1, 1, 0, 0.0)
    assert exams[SessionKind.MAKEUP].pass_rate is None
    assert (f.exams_held, f.exam_participants) == (2, 3)
    assert f.observations == 2
    statuses = {status: count for status, _label, count in f.observation_statuses}
    assert statuses[Status.PRESENT] == 1 and statuses[Status.LATE] == 1
    assert statuses[Status.ABSENT] == 1 and statuses[Status.EXCUSED] == 1
    assert f.observation_attended == 2
    # 甲 150 min, 乙 60 min: complete; 丙 nothing.
    assert (f.officials, f.officials_with_plan, f.officials_complete) == (3, 3, 2)
    assert f.complete_share == 66.7


def test_scoped_figures_count_only_the_subtree(world, hr_user):
    scoped(hr_user, world["east"])
    f = yearend.year_end(hr_user, YEAR)
    assert f.lectures_held == 2 and f.observations == 2  # events are the organisation's
    assert f.study_attendances == 3  # 甲 and 乙 are both in 东区
    exams = {e.kind: e for e in f.exams}
    assert exams[SessionKind.PRE_APPOINTMENT].participants == 0
    statuses = {status: count for status, _label, count in f.observation_statuses}
    assert statuses[Status.ABSENT] == 0
    assert (f.officials, f.officials_complete, f.complete_share) == (2, 2, 100.0)


def test_page_print_and_xlsx(world, hr_user, client):
    client.force_login(hr_user)
    page = client.get(URL, {"year": YEAR})
    assert page.status_code == 200
    assert "举办讲座" in page.text and "66.7" in page.text
    printable = client.get("/admin/reports/year-end/print/", {"year": YEAR})
    assert printable.status_code == 200
    assert "exams/yearend_print.css" in printable.text and "2026" in printable.text
    assert "wagtail" not in printable.text.lower()  # a plain page, no admin chrome
    response = client.get("/admin/reports/year-end.xlsx", {"year": YEAR})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    summary, exams = book.worksheets
    assert summary.freeze_panes == "A2" and exams.freeze_panes == "A2"
    assert [c.value for c in summary[1]] == ["类别", "项目", "数值"]
    values = {row[1]: row[2] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert values["举办讲座"] == 2 and isinstance(values["举办讲座"], int)
    assert values["集体学法学时"] == 3.5
    assert values["完成比例（%）"] == 66.7
    exam_rows = {row[0]: row for row in exams.iter_rows(min_row=2, values_only=True)}
    assert exam_rows["年度学法用法考试"][1:] == (1, 3, 2, 2, 100, 63.3)


def test_year_defaults_to_this_year_and_bad_year_is_an_error(world, hr_user, client):
    client.force_login(hr_user)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["figures"].year == timezone.localdate().year
    response = client.get(URL, {"year": "1800"})
    assert response.context["figures"] is None
    assert "2000" in response.text  # "greater than or equal to 2000"


@pytest.mark.parametrize(
    "url", [URL, "/admin/reports/year-end/print/", "/admin/reports/year-end.xlsx"]
)
def test_officials_and_anonymous_are_refused(world, client, url):
    response = client.get(url, {"year": YEAR})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(official(world["east"], "丁", "E009").user)
    assert client.get(url, {"year": YEAR}).status_code == 403


@pytest.mark.parametrize("size", [4, 40])
def test_query_count_does_not_grow(size, hr_user, client, django_assert_max_num_queries):
    east, _office, _west = org()
    make_plan(year=YEAR, required_credit_hours=1)
    people = [official(east, f"人{n}", f"P{n:03d}") for n in range(size)]
    make_session(attendees=people, credit_minutes=60, date=datetime.date(2026, 4, 1))
    session = ExamSessionFactory(year=YEAR)
    for person in people:
        finished_attempt(session, person, 70)
    client.force_login(hr_user)
    with django_assert_max_num_queries(35):
        response = client.get(URL, {"year": YEAR})
    assert response.context["figures"].study_attendances == size
