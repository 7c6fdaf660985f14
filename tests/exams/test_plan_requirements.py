"""Required exams in a study plan count as done once the official has passed."""

from django.utils import timezone

import pytest

from exams import attempts as engine
from exams.models import PlanExam, SessionKind
from learning.completion import completion_for
from learning.models import StudyPlan
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory

pytestmark = pytest.mark.django_db


def sit(session, official, right):
    attempt = engine.start_attempt(session, official)
    if right:
        for answer in attempt.answers.all():
            engine.save_answer(attempt.pk, official, answer.position, answer.snapshot["answer"])
    return engine.submit_attempt(attempt)[0]


@pytest.fixture
def plan_exam(exam):
    year = timezone.localdate().year
    plan = StudyPlan.objects.create(year=year, title="年度学法计划", audience="all")
    PlanExam.objects.create(plan=plan, session=exam)
    return plan


def test_exam_counts_once_passed(plan_exam, exam, official):
    year = plan_exam.year
    missing = completion_for(official, year).missing
    assert [item.key for item in missing] == [f"exams.session:{exam.pk}"]
    sit(exam, official, right=False)
    assert completion_for(official, year).missing
    sit(exam, official, right=True)
    completion = completion_for(official, year)
    assert [item.key for item in completion.done] == [f"exams.session:{exam.pk}"]
    assert not completion.missing


def test_passing_the_makeup_counts(plan_exam, exam, official):
    exam.attempts_allowed = 1
    exam.save()
    makeup = ExamSessionFactory(
        paper=exam.paper, kind=SessionKind.MAKEUP, makes_up=exam, for_everyone=False
    )
    sit(exam, official, right=False)
    assert completion_for(official, plan_exam.year).missing
    sit(makeup, official, right=True)
    assert not completion_for(official, plan_exam.year).missing


def test_last_grading_needs_the_last_attempt_to_pass(plan_exam, exam, official):
    exam.grading = "last"
    exam.save()
    sit(exam, official, right=True)
    sit(exam, official, right=False)
    assert completion_for(official, plan_exam.year).missing
    other = OfficialFactory()
    sit(exam, other, right=True)
    assert not completion_for(other, plan_exam.year).missing


def test_query_count_does_not_grow_with_officials(plan_exam, exam, django_assert_max_num_queries):
    from learning.completion import evaluate

    officials = [OfficialFactory() for _ in range(5)]
    for official in officials[:3]:
        sit(exam, official, right=True)
    with django_assert_max_num_queries(20):
        results = evaluate(officials, plan_exam.year)
    assert sum(1 for r in results.values() if not r.missing) == 3


def test_study_plan_edit_form_has_required_exams(client, superuser, plan_exam, exam):
    from django.urls import reverse

    client.force_login(superuser)
    url = reverse("wagtailsnippets_learning_studyplan:edit", args=[plan_exam.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "required_exams-TOTAL_FORMS" in response.content.decode()
