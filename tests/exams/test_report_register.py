"""The pre-appointment register: candidates, posts, attempts in the exam and its
make-ups, best result, certificate downloads for HR; scoped HR sees only their
subtree; officials are kept out."""

import datetime
import io

import pytest
from openpyxl import load_workbook

from exams.certificates import certificate_pdf
from exams.models import SessionCandidate, SessionKind
from exams.reports import register

from . import report_fixtures
from .factories import ExamSessionFactory
from .report_fixtures import finished_attempt, official, org, scoped
from .test_certificate_contents import certificate_fields

pytestmark = pytest.mark.django_db
YEAR = 2026
URL = "/admin/reports/register/"
DAY = datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC)


@pytest.fixture
def hr_user(db):
    return report_fixtures.hr()


@pytest.fixture
def world(db):
    """One pre-appointment exam (pass mark 60) with three candidates and a make-up:
    张三 (东区, 拟任副局长) failed with 50 then passed the make-up with 85;
    李四 (东区科室, 拟任科长) passed with 72 at the first of two attempts (then 65);
    王五 (西区, 拟任主任) has not sat it. An annual exam's attempt is not listed."""
    east, east_office, west = org()
    session = ExamSessionFactory(
        kind=SessionKind.PRE_APPOINTMENT, title="任前考试（六月）", year=YEAR, for_everyone=False
    )
    makeup = ExamSessionFactory(
        kind=SessionKind.MAKEUP, title="任前补考", year=YEAR, makes_up=session, for_everyone=False
    )
    zhang = official(east, "张三", "E001")
    li = official(east_office, "李四", "E002")
    wang = official(west, "王五", "W001")
    for person, post in ((zhang, "副局长"), (li, "科长"), (wang, "主任")):
        SessionCandidate.objects.create(session=session, official=person, intended_post=post)
    first = finished_attempt(session, zhang, 50, when=DAY)
    second = finished_attempt(makeup, zhang, 85, when=DAY + datetime.timedelta(days=10))
    li_best = finished_attempt(session, li, 72, when=DAY)
    finished_attempt(session, li, 65, number=2, when=DAY + datetime.timedelta(hours=2))
    annual = ExamSessionFactory(title="年度考试", year=YEAR)
    finished_attempt(annual, wang, 90)
    return {"east": east, "west": west, "session": session, "makeup": makeup, "zhang": zhang,
            "li": li, "wang": wang, "zhang_fail": first, "zhang_pass": second,
            "li_best": li_best}  # fmt: skip


def test_register_rows(world, hr_user):
    rows = {row.official.name: row for row in register.register(hr_user, YEAR)}
    assert set(rows) == {"张三", "李四", "王五"}
    zhang = rows["张三"]
    assert zhang.candidate.intended_post == "副局长"
    assert [m.title for m in zhang.makeups] == ["任前补考"]
    assert len(zhang.attempts) == 2
    assert zhang.best == world["zhang_pass"]
    assert zhang.result == register.PASSED
    assert zhang.date == datetime.date(2026, 6, 11)
    li = rows["李四"]
    assert len(li.attempts) == 2 and li.best == world["li_best"] and li.result == register.PASSED
    wang = rows["王五"]
    assert wang.attempts == [] and wang.best is None and wang.result == register.NOT_TAKEN


def test_failing_candidate(world, hr_user):
    world["zhang_pass"].delete()
    row = next(r for r in register.register(hr_user, YEAR) if r.official.name == "张三")
    assert row.result == register.FAILED and row.best == world["zhang_fail"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"result": "passed"}, {"张三", "李四"}),
        ({"result": "not_taken"}, {"王五"}),
        ({"result": "failed"}, set()),
        ({"q": "科长"}, {"李四"}),
        ({"q": "W001"}, {"王五"}),
    ],
)
def test_filters(world, hr_user, filters, expected):
    assert {r.official.name for r in register.register(hr_user, YEAR, **filters)} == expected


def test_other_years_are_not_listed(world, hr_user):
    assert register.register(hr_user, YEAR + 1) == []


def test_page(world, hr_user, client):
    client.force_login(hr_user)
    response = client.get(URL, {"year": YEAR})
    assert response.status_code == 200
    text = response.text
    for expected in (
        "张三",
        "副局长",
        "任前考试（六月）",
        "任前补考",
        "85.00 / 100.00",
        "2026-06-11",
    ):
        assert expected in text
    assert f"/admin/reports/register/certificate/{world['zhang_pass'].pk}/" in text


def test_certificate_download_for_hr(world, hr_user, client):
    client.force_login(hr_user)
    response = client.get(f"/admin/reports/register/certificate/{world['zhang_pass'].pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_certificate_names_the_post_for_a_makeup(world):
    # The make-up names no candidates: the post is the one on the session it makes up,
    # read back from the PDF's text (its bytes differ every time: reportlab stamps them).
    _title, fields = certificate_fields(certificate_pdf(world["zhang_pass"]))
    assert fields["考试"] == "任前补考" and fields["姓名"] == "张三"
    assert fields["拟任职务"] == "副局长"
    SessionCandidate.objects.filter(official=world["zhang"]).update(intended_post="")
    assert certificate_fields(certificate_pdf(world["zhang_pass"]))[1]["拟任职务"] == "—"


def test_certificate_refusals(world, hr_user, client):
    url = f"/admin/reports/register/certificate/{world['li_best'].pk}/"
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(world["li"].user)  # even the candidate: their copy is on /exams/
    assert client.get(url).status_code == 403
    client.force_login(hr_user)
    annual_attempt = world["wang"].exam_attempts.get()
    assert (
        client.get(f"/admin/reports/register/certificate/{annual_attempt.pk}/").status_code == 404
    )
    assert client.get("/admin/reports/register/certificate/999999/").status_code == 404


def test_scoped_hr_sees_only_their_subtree(world, hr_user, client):
    scoped(hr_user, world["east"])
    assert {r.official.name for r in register.register(hr_user, YEAR)} == {"张三", "李四"}
    client.force_login(hr_user)
    response = client.get(URL, {"year": YEAR})
    assert "王五" not in response.text and "张三" in response.text
    west_candidate = SessionCandidate.objects.get(official=world["wang"])
    attempt = finished_attempt(west_candidate.session, world["wang"], 77)
    assert client.get(f"/admin/reports/register/certificate/{attempt.pk}/").status_code == 404
    ok = client.get(f"/admin/reports/register/certificate/{world['li_best'].pk}/")
    assert ok.status_code == 200


def test_officials_are_refused(world, client):
    client.force_login(world["zhang"].user)
    assert client.get(URL, {"year": YEAR}).status_code == 403
    assert client.get("/admin/reports/register.xlsx", {"year": YEAR}).status_code == 403


def test_xlsx(world, hr_user, client):
    client.force_login(hr_user)
    response = client.get("/admin/reports/register.xlsx", {"year": YEAR})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["工号", "姓名", "部门", "拟任职务"]
    rows = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    zhang = rows["张三"]
    assert zhang[3] == "副局长" and zhang[5] == "任前补考"
    assert zhang[6] == 2 and zhang[7] == 85 and zhang[8] == 85
    assert zhang[9] == "合格"
    assert zhang[10] == datetime.datetime(2026, 6, 11)
    assert rows["王五"][7] is None and rows["王五"][9] == "未参加"


def _candidates(size):
    east, _office, _west = org()
    session = ExamSessionFactory(kind=SessionKind.PRE_APPOINTMENT, year=YEAR, for_everyone=False)
    for n in range(size):
        person = official(east, f"候选人{n}", f"C{n:03d}")
        SessionCandidate.objects.create(session=session, official=person, intended_post="科长")
        finished_attempt(session, person, 70)


@pytest.mark.parametrize("size", [3, 30])
def test_query_count_does_not_grow(size, hr_user, client, django_assert_max_num_queries):
    _candidates(size)
    client.force_login(hr_user)
    with django_assert_max_num_queries(20):
        response = client.get(URL, {"year": YEAR})
    assert response.context["total"] == size
    with django_assert_max_num_queries(12):
        assert client.get("/admin/reports/register.xlsx", {"year": YEAR}).status_code == 200


def test_departures_from_the_page_are_summed_over_the_attempts(world, hr_user, client):
    """The integrity log's count shows in the register, page and xlsx alike."""
    from exams.models import Attempt

    Attempt.objects.filter(pk=world["zhang_fail"].pk).update(departures=2)
    Attempt.objects.filter(pk=world["zhang_pass"].pk).update(departures=1)
    rows = {row.official.name: row for row in register.register(hr_user, YEAR)}
    assert rows["张三"].departures == 3 and rows["李四"].departures == 0
    assert rows["王五"].departures == 0
    client.force_login(hr_user)
    book = load_workbook(
        io.BytesIO(client.get("/admin/reports/register.xlsx", {"year": YEAR}).content)
    )
    last = len(register.headers()) - 1
    found = [line[last] for line in book.active.iter_rows(values_only=True) if "张三" in line]
    assert found == [3]
