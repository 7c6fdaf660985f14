"""Who is blocked by an exam's credit gate (准入条件) shows wherever the exam is listed:
the list of who is behind (page, xlsx and reminder e-mail) says why a required exam
cannot be started yet, and the official's exam list and dashboard mark a session
they could start but for its entry requirements, linking to the session page. A
session without a gate costs no query; gated ones a batch each, however many rows."""

import datetime
import io
import re
from datetime import timedelta
from decimal import Decimal

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

import pytest
from openpyxl import load_workbook

from exams import gate
from exams.models import ExamSession, PlanExam
from exams.reports import behind
from learning.fast.dashboard import touch_everyone
from learning.models import StudyRecord
from tests.factories import OfficialFactory
from tests.learning.factories import LawTopicFactory, make_lecture, make_plan

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper
from .report_fixtures import finished_attempt, hr, official, org

pytestmark = pytest.mark.django_db
YEAR = 2026
IN_YEAR = datetime.datetime(2026, 5, 1, 10, tzinfo=datetime.UTC)
BEHIND = "/admin/reports/behind/"
BEHIND_XLSX = "/admin/reports/behind.xlsx"
BADGE = re.compile(r'<a class="badge badge-blocked" href="/exams/(\d+)/" data-gate-blocked>')


def studied(person, minutes, lecture=None):
    """Credit of `minutes` in 2026 (a study record, not necessarily complete)."""
    return StudyRecord.objects.create(
        official=person,
        lecture=lecture or make_lecture(),
        credited_seconds=minutes * 60,
        started_at=IN_YEAR - timedelta(minutes=minutes),
        last_heartbeat_at=IN_YEAR,
    )


def queries(call):
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


# Who is behind ---------------------------------------------------------------------


@pytest.fixture
def world(db):
    """Plan 2026: 1 credit hour, the exam 2026年度学法考试 (which asks 4 credit hours
    of 2026 before it may be started) and the exam 宪法考试 (no gate). 甲 studied half
    an hour (blocked: 3.5 hours short), 乙 studied 4 hours (may start), 丙 studied 4
    hours and passed both exams (not behind)."""
    east, _office, _west = org()
    gated = ExamSessionFactory(title="2026年度学法考试", year=YEAR, gate_hours=Decimal("4"))
    plain = ExamSessionFactory(title="宪法考试", year=YEAR)
    plan = make_plan(year=YEAR, required_credit_hours=1)
    PlanExam.objects.create(plan=plan, session=gated, sort_order=1)
    PlanExam.objects.create(plan=plan, session=plain, sort_order=2)
    people = {
        "jia": official(east, "甲", "E001"),
        "yi": official(east, "乙", "E002"),
        "bing": official(east, "丙", "E003"),
    }
    studied(people["jia"], 30)
    studied(people["yi"], 240)
    studied(people["bing"], 240)
    finished_attempt(gated, people["bing"], 90)
    finished_attempt(plain, people["bing"], 90)
    return {"gated": gated, "plain": plain, **people}


def english_rows(user):
    with translation.override("en"):
        return {row.official.name: row.missing for row in behind.behind(user, YEAR).rows()}


def test_a_required_exam_the_official_may_not_start_says_why(world):
    rows = english_rows(hr())
    assert rows == {
        "甲": [
            "Credit hours: 0.5 of 1.0 done",
            "Exams: 2026年度学法考试 (blocked by entry requirements: "
            "Study 3.5 more credit hours in 2026)、宪法考试",
        ],
        "乙": ["Exams: 2026年度学法考试、宪法考试"],
    }


def test_every_unmet_requirement_of_the_gate_is_named(world):
    make_plan(year=YEAR, title="宪法宣誓计划", lectures=[make_lecture("宪法宣誓讲座")])
    world["gated"].gate_required_lectures = True
    world["gated"].save()
    with translation.override("en"):
        (row,) = behind.behind(hr(), YEAR).rows([world["jia"].pk])
        exams = [line for line in row.missing if line.startswith("Exams:")]
    assert exams == [
        "Exams: 2026年度学法考试 (blocked by entry requirements: "
        "Study 3.5 more credit hours in 2026; "
        "Complete the required lecture “宪法宣誓讲座”)、宪法考试"
    ]


def test_the_list_page_shows_the_reason(world, client):
    client.force_login(hr())
    page = client.get(BEHIND, {"year": YEAR})
    assert page.status_code == 200
    (reason,) = gate.blockers(world["gated"], world["jia"])  # in the site's language
    assert page.text.count(reason.message) == 1  # 甲's line, not 乙's


def test_the_xlsx_has_the_reason_as_text(world, client):
    client.force_login(hr())
    response = client.get(BEHIND_XLSX, {"year": YEAR})
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    column = header.index(str(behind.headers()[8]))  # What is missing
    rows = {row[1].value: row[column] for row in sheet.iter_rows(min_row=2)}
    (reason,) = gate.blockers(world["gated"], world["jia"])
    assert reason.message in rows["甲"].value and rows["甲"].data_type == "s"
    assert reason.message not in rows["乙"].value and rows["乙"].data_type == "s"


def test_the_reminder_tells_the_official_why(world, client):
    client.force_login(hr())
    client.post(BEHIND + "remind/", {"year": YEAR, "officials": [world["jia"].pk]})
    (message,) = mail.outbox
    (reason,) = gate.blockers(world["gated"], world["jia"])
    assert reason.message in message.body


def test_one_who_meets_the_gate_gets_no_reason(world):
    rows = behind.behind(hr(), YEAR).rows([world["yi"].pk])
    assert rows[0].blocked == {}


def _gated_world(size):
    """A plan requiring two gated exams (hours on a topic; hours and required
    lectures) and one without a gate, and `size` officials who did nothing."""
    east, _office, _west = org()
    topic = LawTopicFactory(name="宪法", slug="xianfa")
    plan = make_plan(year=YEAR, lectures=[make_lecture("必修讲座", topics=[topic])])
    on_topic = ExamSessionFactory(year=YEAR, gate_hours=Decimal("2"))
    on_topic.gate_topics.set([topic])
    on_topic.save()
    lectures = ExamSessionFactory(year=YEAR, gate_hours=Decimal("1"), gate_required_lectures=True)
    for order, session in enumerate([on_topic, lectures, ExamSessionFactory(year=YEAR)]):
        PlanExam.objects.create(plan=plan, session=session, sort_order=order)
    add_officials(east, size)
    return east, [on_topic, lectures]


def add_officials(department, count):
    for _ in range(count):
        OfficialFactory(department=department)


def list_and_xlsx_queries(client):
    return [
        queries(lambda: client.get(BEHIND, {"year": YEAR})),
        queries(lambda: client.get(BEHIND_XLSX, {"year": YEAR})),
    ]


def test_behind_queries_do_not_grow_with_officials_of_gated_exams(client):
    east, gated = _gated_world(3)
    client.force_login(hr())
    client.get(BEHIND, {"year": YEAR})  # the session, Wagtail's site root paths
    few = list_and_xlsx_queries(client)
    add_officials(east, 27)
    response = client.get(BEHIND, {"year": YEAR})
    assert response.context["total"] == 30
    assert all(len(row.blocked) == 2 for row in response.context["rows"])
    many = list_and_xlsx_queries(client)
    assert few == many
    ExamSession.objects.filter(pk__in=[s.pk for s in gated]).update(
        gate_hours=0, gate_required_lectures=False
    )
    ungated = list_and_xlsx_queries(client)
    # One batch per gated exam: for hours on a topic its topics, the credit on them and
    # the lecture index (3); for hours and required lectures its topics, evaluate's
    # plans, items, progress and credit (16) and the lecture index (18).
    for gated_count, plain_count in zip(many, ungated, strict=True):
        assert 0 < gated_count - plain_count <= 3 + 18


# My exams and the dashboard --------------------------------------------------------


@pytest.fixture
def paper(db):
    return fixed_paper([QuestionFactory(answer="A")], points=Decimal("100"))


def window(opens_in_hours, closes_in_hours):
    now = timezone.now()
    return {
        "opens_at": now + timedelta(hours=opens_in_hours),
        "closes_at": now + timedelta(hours=closes_in_hours),
    }


@pytest.fixture
def sessions(paper, official):
    """Open, upcoming and passed (by `official`) sessions asking an hour of 2026
    credit, and an open one without a gate."""
    gated = {"gate_hours": Decimal("1"), "year": YEAR, "paper": paper}
    found = {
        "open": ExamSessionFactory(title="开放的考试", **gated, **window(-1, 24)),
        "upcoming": ExamSessionFactory(title="即将开始的考试", **gated, **window(24, 48)),
        "passed": ExamSessionFactory(title="已通过的考试", **gated, **window(-1, 24)),
        "plain": ExamSessionFactory(title="无条件的考试", paper=paper, **window(-1, 24)),
    }
    finished_attempt(found["passed"], official, 90)
    return found


def badges(response):
    assert response.status_code == 200
    return {int(pk) for pk in BADGE.findall(response.text)}


def test_my_exams_mark_the_sessions_the_gate_blocks(sessions, official_client):
    response = official_client.get(reverse("exams:index"))
    expected = {sessions["open"].pk, sessions["upcoming"].pk}
    assert badges(response) == expected
    assert response.context["blocked"] == expected


def test_the_dashboard_marks_the_sessions_the_gate_blocks(sessions, official_client):
    response = official_client.get(reverse("home"))
    assert badges(response) == {sessions["open"].pk, sessions["upcoming"].pk}


def test_no_mark_for_one_who_meets_the_gate(sessions, official, official_client):
    studied(official, 60)
    assert badges(official_client.get(reverse("exams:index"))) == set()
    assert badges(official_client.get(reverse("home"))) == set()


def test_a_retry_the_gate_blocks_is_marked(paper, official, official_client):
    """Failed once with an attempt left, then the organizer set a gate: the next
    attempt is refused, so the list says so."""
    session = ExamSessionFactory(title="可再考的考试", year=YEAR, paper=paper, attempts_allowed=2)
    finished_attempt(session, official, 10)
    session.gate_hours = Decimal("1")
    session.save()
    assert badges(official_client.get(reverse("exams:index"))) == {session.pk}


def test_the_badge_names_the_gate(sessions, official_client):
    response = official_client.get(reverse("exams:index"))
    label = translation.gettext("Entry requirements not met")  # the site's language
    found = re.findall(r"data-gate-blocked>(?:<svg .*?</svg>)?([^<]*)</a>", response.text)
    assert found == [label, label]


@pytest.mark.fast_paths
def test_only_gated_sessions_cost_queries(paper, official, official_client):
    """Sessions without a gate add nothing (their budget is in test_views.py and
    test_dashboard_exams.py); each gated one adds the gate's batch for one official."""
    for _ in range(3):
        ExamSessionFactory(paper=paper, **window(-1, 24))
    pages = (reverse("exams:index"), reverse("home"))

    def computed(url):
        # The dashboard's panels computed, not the copy kept per official.
        touch_everyone()
        return queries(lambda: official_client.get(url))

    for url in pages:
        official_client.get(url)  # warm up: the session, the navigation's cache
    plain = [computed(url) for url in pages]
    make_lecture()  # the lecture index the blocker links to (and Wagtail's site root)
    # Closing first, so the dashboard's five include it.
    ExamSessionFactory(paper=paper, year=YEAR, gate_hours=Decimal("1"), **window(-1, 12))
    for url in pages:
        official_client.get(url)
    one_gated = [computed(url) for url in pages]
    for _ in range(27):
        ExamSessionFactory(paper=paper, **window(-1, 24))
    assert [computed(url) for url in pages] == one_gated
    for before, after in zip(plain, one_gated, strict=True):
        assert 0 < after - before <= 6
