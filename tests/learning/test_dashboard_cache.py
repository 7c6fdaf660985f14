"""The dashboard kept per official (learning.fast.dashboard) is the dashboard: after
any event (credit, a finished lecture, an attempt started or submitted, attendance, a
plan changed, a lecture renamed, the clock passing an exam's opening) the kept panels
equal the panels computed with every fast path off, and a kept dashboard costs only
the session's and the user's queries."""

import contextlib
import datetime
import random
import re
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest

from exams import attempts as engine
from learning import credits
from tests.exams.factories import ExamSessionFactory, QuestionFactory, fixed_paper
from tests.factories import OfficialFactory

from .factories import lecture_index, make_lecture, make_plan, make_session

pytestmark = [pytest.mark.django_db, pytest.mark.fast_paths]

PANELS = re.compile(r'<div class="panels">(.*?)</main>', re.S)
START = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=datetime.UTC)
DONE = "您已完成本年度学法计划。"  # "You have completed this year's study plan."


@pytest.fixture(autouse=True)
def _heartbeats(settings):
    settings.XUEFA_HEARTBEAT_SECONDS = 30
    settings.XUEFA_HEARTBEAT_MARGIN_SECONDS = 5


class Clock:
    """timezone.now() for everything, moved by the test."""

    def __init__(self, now):
        self.now = now

    def advance(self, **delta):
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock():
    clock = Clock(START)
    with mock.patch("django.utils.timezone.now", lambda: clock.now):
        yield clock


def panels(client):
    response = client.get("/")
    assert response.status_code == 200
    return PANELS.search(response.content.decode()).group(1)


@contextmanager
def fast_paths_off(settings):
    settings.XUEFA_FAST_PATHS = False
    try:
        yield
    finally:
        settings.XUEFA_FAST_PATHS = True


def assert_kept_equals_plain(client, settings):
    kept = panels(client)
    with fast_paths_off(settings):
        plain = panels(client)
    assert kept == plain
    return kept


@pytest.fixture
def world(clock):
    official = OfficialFactory()
    index = lecture_index()
    lectures = [
        make_lecture(f"讲座{i}", parent=index, credit_minutes=1, slug=f"cache-{i}")
        for i in range(3)
    ]
    plan = make_plan(year=2026, lectures=lectures[:2])
    paper = fixed_paper([QuestionFactory(answer="A")], points=Decimal("100"))
    open_session = ExamSessionFactory(
        title="开放的考试",
        paper=paper,
        attempts_allowed=2,
        opens_at=START - datetime.timedelta(hours=1),
        closes_at=START + datetime.timedelta(days=2),
    )
    upcoming = ExamSessionFactory(
        title="稍后开考",
        paper=paper,
        opens_at=START + datetime.timedelta(minutes=25),
        closes_at=START + datetime.timedelta(days=2),
    )
    return {
        "official": official,
        "lectures": lectures,
        "plan": plan,
        "open": open_session,
        "upcoming": upcoming,
    }


def test_a_kept_dashboard_costs_the_session_and_user_queries_only(
    client, world, django_assert_max_num_queries
):
    client.force_login(world["official"].user)
    first = panels(client)
    with django_assert_max_num_queries(2):
        assert panels(client) == first


def test_a_lecture_finished_shows_at_once(client, world, clock):
    official = world["official"]
    client.force_login(official.user)
    assert DONE not in panels(client)  # kept while the two lectures are still required
    for lecture in world["lectures"][:2]:
        for event in (credits.START, credits.BEAT, credits.BEAT):
            assert DONE not in panels(client)  # kept between heartbeats
            credits.credit_heartbeat(official.user, lecture, event, now=clock.now)
            clock.advance(seconds=30)
    # The last heartbeat (an UPDATE, no signal) finished the plan's second lecture.
    assert DONE in panels(client)


def test_an_exam_opening_shows_when_it_opens_without_any_write(client, world, clock):
    client.force_login(world["official"].user)
    assert re.search(r"稍后开考</a> · 未开始", panels(client))
    clock.advance(minutes=26)
    assert re.search(r"稍后开考</a> · 进行中", panels(client))


def test_a_submitted_attempt_shows_at_once(client, world, settings):
    official = world["official"]
    client.force_login(official.user)
    attempt = engine.start_attempt(world["open"], official)
    assert "开放的考试</a> · 答题中" in assert_kept_equals_plain(client, settings)
    engine.save_answer(attempt.pk, official, 1, "B")
    engine.submit_attempt(attempt)
    assert "开放的考试</a> · 已交卷" in assert_kept_equals_plain(client, settings)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_dashboard_equals_the_plain_one_through_a_schedule_of_events(
    client, world, clock, settings, seed
):
    rng = random.Random(seed)
    official, lectures, plan = world["official"], world["lectures"], world["plan"]
    client.force_login(official.user)

    def study():
        lecture = rng.choice(lectures)
        event = rng.choice([credits.START, credits.BEAT, credits.BEAT])
        credits.credit_heartbeat(official.user, lecture, event, now=clock.now)

    def start():
        # The attempt in progress, or a new one; refused once no attempt is left.
        with contextlib.suppress(engine.ExamError):
            engine.start_attempt(world["open"], official)

    def submit():
        attempt = world["open"].attempts.filter(official=official, state="in_progress").first()
        if attempt is not None:
            engine.save_answer(attempt.pk, official, 1, rng.choice("AB"))
            engine.submit_attempt(attempt)

    def attend():
        make_session(attendees=[official], lecture=rng.choice(lectures), credit_minutes=30)

    def change_plan():
        plan.required_lectures.set(rng.sample(lectures, rng.randint(1, 3)))
        plan.save()

    def rename_lecture():
        lecture = rng.choice(lectures)
        lecture.title = f"{lecture.title}·新"
        lecture.save_revision().publish()

    def time_passes():
        clock.advance(minutes=rng.choice([1, 5, 12]))

    events = [study, study, study, start, submit, attend, change_plan, rename_lecture]
    events += [time_passes, time_passes]
    assert_kept_equals_plain(client, settings)
    for _ in range(14):
        rng.choice(events)()
        clock.advance(seconds=30)
        assert_kept_equals_plain(client, settings)
