"""The credit gate (准入条件): a session may require credit hours of its year (on some
law topics only), the required lectures of the official's plans, or for a make-up a
failed attempt at the original, before an official starts. Start refuses with what
is missing, the session page lists it with links, the register shows who is blocked."""

import datetime
import io
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

import pytest
from openpyxl import load_workbook

from exams import attempts as engine
from exams import gate
from exams.models import Attempt, ExamSession, PlanExam, SessionCandidate, SessionKind
from exams.reports import register
from learning.models import StudyRecord
from tests.admin_forms import edit_form_data
from tests.factories import OfficialFactory
from tests.learning.factories import (
    LawTopicFactory,
    complete,
    lecture_index,
    make_lecture,
    make_plan,
    make_series,
    make_session,
)

from .factories import ExamSessionFactory, fixed_paper
from .report_fixtures import finished_attempt, hr

pytestmark = pytest.mark.django_db
YEAR = 2026
IN_YEAR = datetime.datetime(2026, 5, 1, 10, tzinfo=datetime.UTC)
LAST_YEAR = datetime.datetime(2025, 11, 1, 10, tzinfo=datetime.UTC)
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def studied(official, lecture, minutes, when=IN_YEAR):
    """A study record of `minutes` credited, last studied at `when`."""
    return StudyRecord.objects.create(
        official=official,
        lecture=lecture,
        credited_seconds=minutes * 60,
        started_at=when - datetime.timedelta(minutes=minutes),
        last_heartbeat_at=when,
    )


def refusal(session, official):
    with translation.override("en"), pytest.raises(engine.ExamError) as caught:
        engine.start_attempt(session, official)
    return str(caught.value)


def english_blockers(session, official):
    with translation.override("en"):
        return gate.blockers(session, official)


def session_page(client, session):
    return client.get(reverse("exams:session", args=[session.pk]), **ENGLISH)


def gated(session, **fields):
    for name, value in fields.items():
        setattr(session, name, value)
    session.save()
    return session


def start_url(session):
    return reverse("exams:start", args=[session.pk])


# No gate -------------------------------------------------------------------------


def test_a_session_without_a_gate_asks_nothing_and_costs_no_query(
    exam, official, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert gate.blockers(exam, official) == []
        assert gate.blocked_officials(exam, [official, OfficialFactory.build(pk=999)]) == {}


def test_topics_without_hours_are_no_gate(exam, official):
    exam.gate_topics.set([LawTopicFactory(name="宪法", slug="xianfa")])
    exam.save()
    assert not gate.has_gate(exam)
    assert engine.start_attempt(exam, official).pk


# Credit hours ----------------------------------------------------------------------


def test_hours_count_the_years_credit_as_the_study_record_does(exam, official):
    """Lectures and collective study sessions of the session's year count; a lecture
    studied last year does not."""
    gated(exam, gate_hours=Decimal("2"))
    lecture = make_lecture("宪法讲座")
    studied(official, lecture, 30)
    studied(official, make_lecture("去年的讲座"), 120, when=LAST_YEAR)
    make_session(attendees=[official], credit_minutes=30, date=datetime.date(2026, 4, 1))
    assert refusal(exam, official) == "Study 1.0 more credit hours in 2026"
    assert not Attempt.objects.filter(official=official).exists()
    studied(official, make_lecture("民法典讲座"), 60)
    assert engine.start_attempt(exam, official).state == "in_progress"


def test_missing_hours_are_rounded_up_to_a_tenth(exam, official):
    gated(exam, gate_hours=Decimal("1"))
    studied(official, make_lecture(), 59)  # a minute short: 0.0167 h
    assert refusal(exam, official) == "Study 0.1 more credit hours in 2026"


def test_hours_on_topics_count_only_lectures_of_those_topics(exam, official):
    """Lectures on another topic and collective study sessions do not count; a lecture
    on two of the topics counts once."""
    constitution = LawTopicFactory(name="宪法", slug="xianfa", sort_order=1)
    civil_code = LawTopicFactory(name="民法典", slug="minfadian", sort_order=2)
    criminal = LawTopicFactory(name="刑法", slug="xingfa", sort_order=3)
    gated(exam, gate_hours=Decimal("2"))
    exam.gate_topics.set([civil_code, constitution])
    exam.save()
    studied(official, make_lecture("宪法讲座", topics=[constitution]), 60)
    studied(official, make_lecture("两法讲座", topics=[constitution, civil_code]), 30)
    studied(official, make_lecture("刑法讲座", topics=[criminal]), 120)
    make_session(attendees=[official], credit_minutes=120, date=datetime.date(2026, 4, 1))
    (blocker,) = english_blockers(exam, official)
    assert blocker.message == "Study 0.5 more credit hours in 2026 on 宪法, 民法典"
    assert blocker.url == lecture_index().url  # two topics: the whole index
    assert refusal(exam, official) == blocker.message
    studied(official, make_lecture("民法典讲座", topics=[civil_code]), 30)
    assert gate.blockers(exam, official) == []
    assert engine.start_attempt(exam, official).pk


def test_hours_on_one_topic_link_to_its_listing(exam, official, official_client):
    topic = LawTopicFactory(name="宪法", slug="xianfa")
    lecture = make_lecture("宪法讲座", topics=[topic])
    gated(exam, gate_hours=Decimal("0.5"))
    exam.gate_topics.set([topic])
    exam.save()
    (blocker,) = english_blockers(exam, official)
    assert blocker.url == f"{lecture_index().url}?topic=xianfa"
    listing = official_client.get(blocker.url)
    assert listing.status_code == 200 and "宪法讲座" in listing.text
    studied(official, lecture, 30)
    assert gate.blockers(exam, official) == []


# Required lectures ---------------------------------------------------------------


def test_required_lectures_gate_names_each_missing_lecture_and_series(exam, official):
    required = make_lecture("宪法宣誓讲座")
    series = make_series("民法典专题")
    in_series = make_lecture("物权编", parent=series)
    make_plan(year=YEAR, lectures=[required], series=[series])
    gated(exam, gate_required_lectures=True)
    blockers = english_blockers(exam, official)
    assert [(b.message, b.url) for b in blockers] == [
        ("Complete the required lecture “宪法宣誓讲座”", required.url),
        ("Complete the required series “民法典专题”", series.url),
    ]
    assert refusal(exam, official) == "Complete the required lecture “宪法宣誓讲座”"
    complete(official, required)
    assert refusal(exam, official) == "Complete the required series “民法典专题”"
    complete(official, in_series)
    assert engine.start_attempt(exam, official).pk


def test_required_lectures_gate_ignores_plan_hours_and_required_exams(exam, official):
    """Only lectures and series: the plan's hours and its exams (this one, perhaps)
    are not entry requirements."""
    plan = make_plan(year=YEAR, required_credit_hours=Decimal("40"))
    PlanExam.objects.create(plan=plan, session=exam)
    gated(exam, gate_required_lectures=True)
    assert gate.blockers(exam, official) == []


# Make-up after a failure ---------------------------------------------------------


@pytest.fixture
def makeup(bank):
    """A make-up open to everyone, limited to those who failed the original."""
    original = ExamSessionFactory(title="2026年度学法考试", paper=fixed_paper(bank))
    return ExamSessionFactory(
        kind=SessionKind.MAKEUP,
        title="2026年度学法补考",
        makes_up=original,
        paper=fixed_paper(bank),
        gate_makeup_after_fail=True,
    )


def test_makeup_after_fail_admits_one_who_failed_the_original(makeup, official):
    finished_attempt(makeup.makes_up, official, 40)
    assert gate.blockers(makeup, official) == []
    assert engine.start_attempt(makeup, official).session == makeup


@pytest.mark.parametrize("original_percent", [None, 85], ids=["missed", "passed"])
def test_makeup_after_fail_refuses_one_who_missed_or_passed_the_original(
    makeup, official, original_percent
):
    if original_percent is not None:
        finished_attempt(makeup.makes_up, official, original_percent)
    message = "Only officials who failed 2026年度学法考试 can sit this make-up"
    assert refusal(makeup, official) == message
    (blocker,) = english_blockers(makeup, official)
    assert blocker.url == reverse("exams:session", args=[makeup.makes_up.pk])


def test_makeup_after_fail_goes_by_the_counting_attempt(makeup, official):
    """Best attempt counts on the original: a pass after a failure is a pass."""
    finished_attempt(makeup.makes_up, official, 40)
    finished_attempt(makeup.makes_up, official, 70, number=2)
    assert len(gate.blockers(makeup, official)) == 1


def test_clean_refuses_the_failed_only_switch_on_a_session_that_is_not_a_make_up(exam, makeup):
    exam.gate_makeup_after_fail = True
    with pytest.raises(ValidationError) as caught:
        exam.clean()
    assert list(caught.value.message_dict) == ["gate_makeup_after_fail"]
    makeup.clean()  # a make-up may


# Enforcement and the session page --------------------------------------------------


def test_an_attempt_in_progress_is_returned_when_a_gate_is_set_after_it_started(
    exam, official, official_client
):
    attempt = engine.start_attempt(exam, official)
    gated(exam, gate_hours=Decimal("5"))
    assert engine.start_attempt(exam, official) == attempt
    page = session_page(official_client, exam)
    assert page.context["blockers"] == []
    assert reverse("exams:attempt", args=[exam.pk, attempt.pk]) in page.text


def test_session_page_lists_what_is_missing_with_links_and_offers_no_start(
    exam, official, official_client
):
    required = make_lecture("宪法宣誓讲座")
    make_plan(year=YEAR, lectures=[required])
    gated(exam, gate_hours=Decimal("1"), gate_required_lectures=True)
    page = session_page(official_client, exam)
    assert page.status_code == 200
    assert page.context["can_start"] is False
    assert "Before you can start" in page.text
    assert "Study 1.0 more credit hours in 2026" in page.text
    assert f'<a href="{lecture_index().url}">' in page.text
    assert f'<a href="{required.url}">Complete the required lecture “宪法宣誓讲座”</a>' in page.text
    assert start_url(exam) not in page.text
    # Posting the start anyway is refused with the first thing missing.
    response = official_client.post(start_url(exam), follow=True, **ENGLISH)
    assert response.redirect_chain == [(reverse("exams:session", args=[exam.pk]), 302)]
    assert "Study 1.0 more credit hours in 2026" in [str(m) for m in response.context["messages"]]
    assert not Attempt.objects.exists()


def test_session_page_lists_the_gate_before_the_window_opens(exam, official, official_client):
    exam.opens_at = exam.closes_at - datetime.timedelta(hours=1)
    gated(exam, gate_hours=Decimal("1"))
    page = session_page(official_client, exam)
    assert [b.message for b in page.context["blockers"]] == ["Study 1.0 more credit hours in 2026"]


def test_session_page_with_the_gate_met_offers_the_start(exam, official, official_client):
    gated(exam, gate_hours=Decimal("0.5"))
    studied(official, make_lecture(), 30)
    page = session_page(official_client, exam)
    assert page.context["can_start"] is True and page.context["gate_met"] is True
    assert "Before you can start" not in page.text
    assert "Entry requirements met." in page.text and start_url(exam) in page.text
    response = official_client.post(start_url(exam))
    assert response.status_code == 302
    assert response.url == reverse("exams:attempt", args=[exam.pk, Attempt.objects.get().pk])


def test_session_page_without_a_gate_says_nothing_of_it(exam, official_client):
    page = session_page(official_client, exam)
    assert "Entry requirements met." not in page.text and "data-gate" not in page.text


def test_makeup_page_links_to_the_original_session(makeup, official, official_client):
    page = session_page(official_client, makeup)
    original = reverse("exams:session", args=[makeup.makes_up.pk])
    message = "Only officials who failed 2026年度学法考试 can sit this make-up"
    assert f'<a href="{original}">{message}</a>' in page.text
    assert start_url(makeup) not in page.text


# The session form ------------------------------------------------------------------


def test_organizer_sets_the_entry_requirements_in_the_session_form(organizer_client, exam):
    topic = LawTopicFactory(name="宪法", slug="xianfa")
    url = reverse("wagtailsnippets_exams_examsession:edit", args=[exam.pk])
    data = edit_form_data(organizer_client, url)
    data.update(gate_hours="3.5", gate_topics=[str(topic.pk)], gate_required_lectures="on")
    response = organizer_client.post(url, data)
    assert response.status_code == 302
    exam.refresh_from_db()
    assert exam.gate_hours == Decimal("3.5") and exam.gate_required_lectures
    assert list(exam.gate_topics.all()) == [topic]


def test_organizer_creates_a_make_up_for_those_who_failed(organizer_client, exam):
    """The add form as the browser posts it (its defaults), with the gate filled in."""
    url = reverse("wagtailsnippets_exams_examsession:add")
    data = edit_form_data(organizer_client, url)
    data.update(
        kind="makeup",
        year="2026",
        title="补考（仅限未通过者）",
        paper=str(exam.paper_id),
        makes_up=str(exam.pk),
        opens_at="2026-07-01 09:00",
        closes_at="2026-07-08 17:00",
        gate_hours="1.5",
        gate_makeup_after_fail="on",
    )
    response = organizer_client.post(url, data)
    assert response.status_code == 302
    makeup = ExamSession.objects.get(title="补考（仅限未通过者）")
    assert makeup.gate_makeup_after_fail and makeup.gate_hours == Decimal("1.5")
    assert not makeup.gate_required_lectures and not makeup.gate_topics.exists()


def test_session_form_refuses_the_failed_only_switch_on_an_annual_exam(organizer_client, exam):
    url = reverse("wagtailsnippets_exams_examsession:edit", args=[exam.pk])
    data = edit_form_data(organizer_client, url)
    data["gate_makeup_after_fail"] = "on"
    response = organizer_client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["gate_makeup_after_fail"]
    assert not ExamSession.objects.get(pk=exam.pk).gate_makeup_after_fail


# The register ----------------------------------------------------------------------


@pytest.fixture
def gated_register(db):
    """A pre-appointment exam requiring an hour of study, with three candidates:
    甲 has not studied (blocked), 乙 studied an hour (may start), 丙 sat the exam
    without studying (sat before the gate was set: not blocked)."""
    session = ExamSessionFactory(
        kind=SessionKind.PRE_APPOINTMENT,
        title="任前考试",
        year=YEAR,
        for_everyone=False,
        gate_hours=Decimal("1"),
    )
    people = {}
    for name in ("甲", "乙", "丙"):
        people[name] = OfficialFactory(user__name=name)
        SessionCandidate.objects.create(session=session, official=people[name])
    studied(people["乙"], make_lecture(), 60)
    finished_attempt(session, people["丙"], 70)
    return session, people


def test_register_shows_candidates_blocked_by_entry_requirements(gated_register, client):
    session, people = gated_register
    user = hr()
    with translation.override("en"):
        rows = {row.official.name: row for row in register.register(user, YEAR)}
        expected = gate.blockers(session, people["甲"])
    assert rows["甲"].result == register.BLOCKED and rows["甲"].blockers == expected
    assert rows["乙"].result == register.NOT_TAKEN and rows["乙"].blockers == []
    assert rows["丙"].result == register.PASSED and rows["丙"].blockers == []
    assert {r.official.name for r in register.register(user, YEAR, result="blocked")} == {"甲"}
    assert {r.official.name for r in register.register(user, YEAR, result="not_taken")} == {"乙"}
    client.force_login(user)
    page = client.get("/admin/reports/register/", {"year": YEAR})
    with translation.override("zh-hans"):
        label = str(register.RESULTS[-1][1])
        reason = gate.blockers(session, people["甲"])[0].message
    assert label in page.text and reason in page.text


def test_register_export_has_the_blocking_reason_as_text(gated_register, client):
    session, people = gated_register
    client.force_login(hr())
    response = client.get("/admin/reports/register.xlsx", {"year": YEAR})
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    with translation.override("zh-hans"):
        column = header.index(str(register.RESULTS[-1][1]))
        reason = gate.blockers(session, people["甲"])[0].message
    rows = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    assert rows["甲"][column].value == reason and rows["甲"][column].data_type == "s"
    assert rows["乙"][column].value in (None, "") and rows["丙"][column].value in (None, "")


# Query budgets ---------------------------------------------------------------------


def queries(call):
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def every_gate(exam, topics=()):
    """Hours, required lectures and (for a make-up) the failed-only switch."""
    make_plan(year=YEAR, lectures=[make_lecture("必修讲座")], series=[make_series()])
    gated(exam, gate_hours=Decimal("2"), gate_required_lectures=True)
    if topics:
        exam.gate_topics.set(topics)
        exam.save()


@pytest.mark.parametrize("on_topics", [False, True], ids=["any topic", "on topics"])
def test_batch_queries_do_not_grow_with_the_officials(exam, makeup, on_topics):
    topics = [LawTopicFactory(name="宪法", slug="xianfa")] if on_topics else []
    every_gate(exam, topics)
    lecture = make_lecture("宪法讲座", topics=topics)
    counts = {}
    for size in (5, 50):
        officials = OfficialFactory.create_batch(size)
        for person in officials[::2]:
            studied(person, lecture, 30)
            finished_attempt(makeup.makes_up, person, 40)
        gated(makeup, gate_hours=exam.gate_hours, gate_required_lectures=True)
        gate.blocked_officials(exam, officials[:1])  # Wagtail's site root paths, cached
        counts[size] = (
            queries(lambda: gate.blocked_officials(exam, officials)),  # noqa: B023
            queries(lambda: gate.blocked_officials(makeup, officials)),  # noqa: B023
        )
        blocked = gate.blocked_officials(makeup, officials)
        assert len(blocked) == size
    assert counts[5] == counts[50]
    # The topics, evaluate's plans, items, progress and credit, the attempts at the
    # original, the topic credit and the lecture index.
    assert max(counts[50]) <= 17


@pytest.mark.fast_paths
def test_session_page_query_budget_with_a_gate(
    exam, official, official_client, django_assert_max_num_queries
):
    every_gate(exam)
    session_page(official_client, exam)  # the navigation's and the site's cached answers
    # The page's six (tests/exams/test_views.py) and the gate's: evaluate's plans,
    # items, progress and credit, and the lecture index.
    with django_assert_max_num_queries(22):
        assert session_page(official_client, exam).status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_register_query_count_does_not_grow_with_gated_candidates(
    size, client, django_assert_max_num_queries
):
    session = ExamSessionFactory(
        kind=SessionKind.PRE_APPOINTMENT, year=YEAR, for_everyone=False, gate_hours=Decimal("1")
    )
    session.gate_topics.set([LawTopicFactory(name="宪法", slug="xianfa")])
    session.save()
    for person in OfficialFactory.create_batch(size):
        SessionCandidate.objects.create(session=session, official=person)
    make_lecture()  # the lecture index the blockers link to
    client.force_login(hr())
    # The register's own budget (tests/exams/test_report_register.py) holds; the
    # gate adds three: its topics, the credit on them and the lecture index.
    with django_assert_max_num_queries(20):
        response = client.get("/admin/reports/register/", {"year": YEAR})
    assert response.context["total"] == size
    assert all(row.result == register.BLOCKED for row in response.context["page"])
    with django_assert_max_num_queries(15):
        assert client.get("/admin/reports/register.xlsx", {"year": YEAR}).status_code == 200
