"""A rule paper the bank can no longer fill (questions deactivated or deleted after
the paper was saved): the official is told so at the start and nothing is created;
the organizer sees why on the session and the paper."""

from django.contrib.messages import get_messages
from django.urls import reverse

import pytest

from exams import attempts as engine
from exams.models import Answer, Attempt, QuestionType

from .factories import ExamSessionFactory, random_paper

pytestmark = pytest.mark.django_db

REFUSED = "题库中的试题已不足以组成本场考试的试卷"


@pytest.fixture
def session(bank):
    """Five of the bank's six single-choice questions drawn per attempt."""
    return ExamSessionFactory(paper=random_paper([(bank[0].topic, QuestionType.SINGLE, 5, 2)]))


def deactivate_singles(bank, keep):
    singles = [q for q in bank if q.type == QuestionType.SINGLE]
    for question in singles[keep:]:
        question.active = False
        question.save()  # as the admin saves it


def test_start_is_refused_with_a_message_and_creates_nothing(
    official_client, official, bank, session
):
    deactivate_singles(bank, keep=3)
    url = reverse("exams:start", args=[session.pk])
    response = official_client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("exams:session", args=[session.pk])
    [message] = get_messages(response.wsgi_request)
    assert REFUSED in str(message) and "请联系考试组织者" in str(message)
    assert not Attempt.objects.exists() and not Answer.objects.exists()
    page = official_client.get(response.url)
    assert page.status_code == 200 and REFUSED in page.content.decode()


def test_deleted_questions_refuse_the_start_too(official, bank, session):
    singles = [q for q in bank if q.type == QuestionType.SINGLE]
    for question in singles[2:]:
        question.delete()
    with pytest.raises(engine.ExamError, match=REFUSED):
        engine.start_attempt(session, official)
    assert not Attempt.objects.exists()


def test_the_start_works_again_once_the_bank_is_restocked(official_client, bank, session):
    deactivate_singles(bank, keep=3)
    official_client.post(reverse("exams:start", args=[session.pk]))
    for question in bank:
        question.active = True
        question.save()
    response = official_client.post(reverse("exams:start", args=[session.pk]))
    assert response.status_code == 302 and "/attempts/" in response.url
    assert Attempt.objects.get().answers.count() == 5


def test_the_organizer_is_told_on_the_session_and_the_paper(organizer_client, bank, session):
    warning = "考生无法开始使用试卷"
    for name, pk in (
        ("wagtailsnippets_exams_examsession:edit", session.pk),
        ("wagtailsnippets_exams_paper:edit", session.paper_id),
    ):
        assert warning not in organizer_client.get(reverse(name, args=[pk])).content.decode()
    deactivate_singles(bank, keep=3)
    for name, pk in (
        ("wagtailsnippets_exams_examsession:edit", session.pk),
        ("wagtailsnippets_exams_paper:edit", session.paper_id),
    ):
        page = organizer_client.get(reverse(name, args=[pk])).content.decode()
        assert warning in page and "题库中启用的只有 3 道" in page, name
