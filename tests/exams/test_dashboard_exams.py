"""The exams panel of the dashboard at `/`: exactly the signed-in official's open and
upcoming exams (exams/dashboard.py shows the statuses open, in progress, submitted
with attempts left and upcoming; it hides passed, failed and missed ones, and
whatever is not assigned to the official), the empty state, and a query count that
does not grow with the number of sessions."""

import re
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import pytest

from exams import attempts as engine
from exams.models import SessionKind, SessionOverride
from learning.fast.dashboard import touch_everyone
from tests.factories import DepartmentFactory, OfficialFactory

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db

PANEL = re.compile(
    r'<section class="card panel" aria-labelledby="panel-exams">(.*?)</section>', re.S
)
ROW = re.compile(r'<li><a href="/exams/(\d+)/">(.*?)</a> · (.*?)\n')
EMPTY = "目前没有进行中或即将开始的考试。"  # "No open or upcoming exams."


def exams_panel(response):
    assert response.status_code == 200
    panels = PANEL.findall(response.content.decode())
    assert len(panels) == 1
    return panels[0]


def shown_rows(response):
    """[(title, status label)] of the exams panel, in its order."""
    return [(title, label.strip()) for _pk, title, label in ROW.findall(exams_panel(response))]


@pytest.fixture
def paper(db):
    return fixed_paper([QuestionFactory(answer="A")], points=Decimal("100"))


def sit(session, official, response):
    attempt = engine.start_attempt(session, official)
    engine.save_answer(attempt.pk, official, 1, response)
    return engine.submit_attempt(attempt)[0]


def window(opens_in_hours, closes_in_hours):
    now = timezone.now()
    return {
        "opens_at": now + timedelta(hours=opens_in_hours),
        "closes_at": now + timedelta(hours=closes_in_hours),
    }


def test_the_dashboard_shows_exactly_my_open_and_upcoming_exams(client, paper):
    official = OfficialFactory()
    mine = official.department

    def session(title, *, departments=None, **kwargs):
        created = ExamSessionFactory(
            title=title, paper=paper, for_everyone=departments is None, **kwargs
        )
        if departments:
            created.departments.add(*departments)
            created.save()
        return created

    # Shown, in the panel's order: open ones by closing time, then upcoming ones.
    session("本部门开放考试", departments=[mine], **window(-1, 24))
    in_progress = session("答题中的考试", **window(-1, 48))
    engine.start_attempt(in_progress, official)
    submitted = session("已交卷可再考", attempts_allowed=2, **window(-1, 72))
    assert not sit(submitted, official, "B").passed  # failed once, one attempt left
    session("开放的练习", kind=SessionKind.PRACTICE, **window(-1, 96))  # no rule hides practice
    # Upcoming ones come last even when they close before open ones do.
    session("即将开始的考试", **window(24, 60))
    # Not shown.
    session("别的部门考试", departments=[DepartmentFactory()], **window(-1, 24))
    session("领导干部考试", for_leaders=True, departments=[], **window(-1, 24))
    session("已结束的考试", **window(-72, -1))
    passed = session("已通过的考试", attempts_allowed=3, **window(-1, 24))
    assert sit(passed, official, "A").passed
    failed = session("未通过且无次数", attempts_allowed=1, **window(-1, 24))
    assert not sit(failed, official, "B").passed
    # Somebody else's progress does not make a session mine.
    other = OfficialFactory()
    elsewhere = session("他人部门在考", departments=[other.department], **window(-1, 24))
    engine.start_attempt(elsewhere, other)

    client.force_login(official.user)
    rows = shown_rows(client.get(reverse("home")))
    assert rows == [
        ("本部门开放考试", "进行中"),
        ("答题中的考试", "答题中"),
        ("已交卷可再考", "已交卷"),
        ("开放的练习", "进行中"),
        ("即将开始的考试", "未开始"),
    ]


def test_an_official_with_no_open_or_upcoming_exam_sees_the_empty_state(client, paper):
    official = OfficialFactory()
    ExamSessionFactory(title="已结束的考试", paper=paper, **window(-72, -1))
    elsewhere = ExamSessionFactory(title="别的部门考试", paper=paper, for_everyone=False)
    elsewhere.departments.add(DepartmentFactory())
    elsewhere.save()
    client.force_login(official.user)
    panel = exams_panel(client.get(reverse("home")))
    assert EMPTY in panel
    assert "<li>" not in panel
    assert "已结束的考试" not in panel and "别的部门考试" not in panel


def test_an_official_with_exams_does_not_see_the_empty_state(client, paper):
    official = OfficialFactory()
    ExamSessionFactory(title="开放考试", paper=paper)
    client.force_login(official.user)
    response = client.get(reverse("home"))
    assert shown_rows(response) == [("开放考试", "进行中")]
    assert EMPTY not in exams_panel(response)


def add_sessions(official, paper, count, start):
    """Sessions reaching the official every way the panel reads: through their
    department, with an override and with an attempt of theirs."""
    for i in range(start, start + count):
        session = ExamSessionFactory(
            title=f"考试{i:03d}",
            paper=paper,
            for_everyone=False,
            attempts_allowed=2,
            **window(-1, 24 + i),
        )
        session.departments.add(official.department)
        session.save()
        SessionOverride.objects.create(session=session, official=official, extra_minutes=5)
        sit(session, official, "B")


def test_the_dashboard_query_count_does_not_grow_with_sessions(
    client, paper, django_assert_max_num_queries
):
    official = OfficialFactory()
    add_sessions(official, paper, 3, 0)
    client.force_login(official.user)
    client.get(reverse("home"))  # warm up: session, content version, ...
    # The panels computed, not the kept copy (learning.fast.dashboard), both times.
    touch_everyone()
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("home"))
    assert len(shown_rows(response)) == 3

    add_sessions(official, paper, 27, 3)
    touch_everyone()
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("home"))
    rows = shown_rows(response)
    # Thirty submitted sessions with an attempt left; the panel lists the five that
    # close first.
    assert rows == [(f"考试{i:03d}", "已交卷") for i in range(5)]
