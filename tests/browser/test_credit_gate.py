"""The demo official opens an exam that requires half an hour of study on a law
topic first: the page says what is missing with a link to the topic's lectures, and
offers no start; once the hours are studied the start button appears and starting
opens the exam."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def gated_exam():
    """An open exam for everyone that requires 0.5 credit hours on 准入测试法, and the
    one lecture on that topic."""
    from tests.exams.factories import ExamSessionFactory, QuestionFactory, fixed_paper
    from tests.learning.factories import LawTopicFactory, make_lecture

    topic = LawTopicFactory(name="准入测试法", slug="zhunru")
    lecture = make_lecture("准入测试法讲座", topics=[topic], slug="gate-lecture", credit_minutes=30)
    exam = ExamSessionFactory(
        title="准入测试考试",
        year=timezone.localdate().year,
        paper=fixed_paper(QuestionFactory.create_batch(4)),
        gate_hours=Decimal("0.5"),
    )
    exam.gate_topics.set([topic])
    exam.save()
    return exam, lecture


def test_official_sees_what_is_missing_follows_the_link_and_starts_once_met(
    page, live_server, demo_data
):
    from exams.models import Attempt
    from learning.models import Official, StudyRecord

    exam, lecture = gated_exam()
    official = Official.objects.get(user__username="official")
    session_url = live_server.url + reverse("exams:session", args=[exam.pk])
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(session_url)
    missing = page.locator("[data-gate-blockers] li")
    assert missing.count() == 1
    text = missing.inner_text()
    assert "0.5" in text and "准入测试法" in text and str(exam.year) in text
    assert page.locator(f"form[action='{reverse('exams:start', args=[exam.pk])}']").count() == 0

    missing.get_by_role("link").click()
    page.wait_for_url("**/lectures/?topic=zhunru")
    page.get_by_role("link", name="准入测试法讲座").click()
    page.wait_for_url(f"**{lecture.url}")
    assert page.locator("h1").inner_text() == "准入测试法讲座"

    # Half an hour studied (opening the page started the record), set in the database.
    now = timezone.now()
    StudyRecord.objects.update_or_create(
        official=official,
        lecture=lecture,
        defaults={
            "credited_seconds": 30 * 60,
            "started_at": now - datetime.timedelta(minutes=30),
            "last_heartbeat_at": now,
            "completed_at": now,
        },
    )
    page.goto(session_url)
    assert page.locator("[data-gate-blockers]").count() == 0
    page.locator("[data-gate-met]").wait_for()
    page.get_by_role("button", name="开始考试").click()
    page.wait_for_selector("#attempt-form")
    assert page.locator("fieldset.question").count() == 4
    assert Attempt.objects.get(official=official, session=exam).state == "in_progress"
