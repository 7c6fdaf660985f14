"""以案释法 make-up (补学): the demo leader, who missed the demo hearing, opens its case
page from their court observations, studies it (server-measured heartbeats), passes
its quiz, and sees the make-up recorded on the observation's page."""

import time

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ANSWERS = {"CASE-GI-01": "T", "CASE-GI-02": "A", "CASE-GI-03": "C"}


def _wait_for_completion(official, case, seconds):
    from learning.models import StudyRecord

    deadline = time.monotonic() + seconds
    record = None
    while time.monotonic() < deadline:
        record = StudyRecord.objects.filter(official=official, lecture_id=case.pk).first()
        if record is not None and record.completed_at is not None:
            return record
        time.sleep(0.5)
    return record


def test_a_missed_official_makes_up_by_studying_the_case(page, live_server, demo_data, settings):
    from exams.models import LectureQuiz
    from exams.observations.models import Attendance, CasePage
    from learning.models import Official

    settings.XUEFA_HEARTBEAT_SECONDS = 1
    settings.XUEFA_HEARTBEAT_MARGIN_SECONDS = 1
    case = CasePage.objects.get(observation__isnull=False)
    # One minute of study instead of the demo's thirty (the least a lecture asks).
    case.credit_minutes = 1
    case.save_revision().publish()
    leader = Official.objects.get(user__username="leader")
    attendance = Attendance.objects.get(official=leader, observation=case.observation)
    assert attendance.made_up_at is None

    sign_in(page, live_server, "leader")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/observations/")
    page.click("a[data-make-up]")
    page.wait_for_url(f"{live_server.url}{case.url}")
    assert page.locator("h1").inner_text() == case.title
    # The case's sections and a consenting attendee's reflection are on the page.
    assert "原告某科技公司向区政府申请公开" in page.content()
    assert case.featured_reflections.first().excerpt[:10] in page.content()

    record = _wait_for_completion(leader, case, 100)
    assert record is not None and record.completed_at is not None
    # Credit never exceeds the time actually spent on the page.
    assert (
        record.credited_seconds
        <= (record.last_heartbeat_at - record.started_at).total_seconds() + 1
    )

    page.goto(f"{live_server.url}/exams/quiz/{case.pk}/")
    quiz = LectureQuiz.objects.get(lecture_id=case.pk)
    for item in quiz.items.select_related("question"):
        answer = ANSWERS[item.question.key]
        page.check(f"input[name=q{item.question_id}][value={answer}]")
    page.click("#submit-quiz")
    page.wait_for_load_state()

    attendance.refresh_from_db()
    assert attendance.made_up_at is not None and attendance.made_up_case_id == case.pk
    page.goto(f"{live_server.url}/observations/{case.observation_id}/")
    assert page.locator("[data-made-up]").count() == 1
    page.goto(f"{live_server.url}/observations/")
    assert page.locator("a[data-make-up]").count() == 0
