"""The exam-day save path (attempts.autosave): the frozen paper comes from the cache,
every rule that can change is checked by the database in the same UPDATE."""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

import pytest

from exams import attempts as engine
from exams.models import Answer, Attempt, AttemptState
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory, fixed_paper

pytestmark = pytest.mark.django_db


def save_url(attempt, session_id=None):
    return reverse("exams:save", args=(session_id or attempt.session_id, attempt.pk))


def a_valid_response(attempt, position=1):
    return attempt.answers.get(position=position).snapshot["answer"]


@pytest.fixture
def attempt(exam, official):
    return engine.start_attempt(exam, official)


def save(client, attempt, position=1, response=None, session_id=None):
    if response is None:
        response = a_valid_response(attempt, position)
    return client.post(save_url(attempt, session_id), {"position": position, "response": response})


def test_save_writes_the_answer(official_client, attempt):
    response = save(official_client, attempt)
    assert response.status_code == 200
    data = response.json()
    answer = Answer.objects.get(attempt=attempt, position=1)
    assert data["ok"] and data["response"] == answer.response == a_valid_response(attempt)
    assert answer.saved_at is not None
    assert 0 < data["remaining"] <= (attempt.deadline - timezone.now()).total_seconds() + 1


def test_another_officials_attempt_is_not_found(official_client, attempt):
    assert save(official_client, attempt).status_code == 200  # the paper is now cached
    other = Client()
    other.force_login(OfficialFactory().user)
    assert save(other, attempt).status_code == 404
    assert Answer.objects.get(attempt=attempt, position=1).response == a_valid_response(attempt)


def test_attempt_in_another_session_is_not_found(official_client, attempt, bank):
    assert save(official_client, attempt).status_code == 200
    elsewhere = ExamSessionFactory(paper=fixed_paper(bank))
    assert save(official_client, attempt, session_id=elsewhere.pk).status_code == 404


def test_question_not_in_the_paper_and_invalid_answer_are_refused(official_client, attempt):
    assert save(official_client, attempt, position=999, response="A").status_code == 400
    response = save(official_client, attempt, position=1, response="Z")
    assert response.status_code == 400 and not response.json()["ok"]


def test_deadline_moved_earlier_is_enforced_despite_the_cached_paper(official_client, attempt):
    assert save(official_client, attempt).status_code == 200
    # An organizer closes the session early: the deadline moves, the paper does not.
    past = timezone.now() - engine.grace() - timedelta(seconds=5)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=past)
    response = save(official_client, attempt, position=2)
    assert response.status_code == 409 and response.json()["closed"]
    assert Answer.objects.get(attempt=attempt, position=2).response == ""


def test_remaining_follows_a_changed_deadline(official_client, attempt):
    assert save(official_client, attempt).status_code == 200
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=90))
    assert save(official_client, attempt).json()["remaining"] <= 90


def test_submitted_attempt_refuses_saves(official_client, attempt):
    assert save(official_client, attempt).status_code == 200
    engine.submit_attempt(attempt)
    response = save(official_client, attempt, position=2)
    assert response.status_code == 409 and response.json()["closed"]
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED
    assert Answer.objects.get(attempt=attempt, position=2).response == ""


def test_save_is_one_update_once_the_paper_is_cached(
    official_client, attempt, django_assert_num_queries
):
    save(official_client, attempt)
    response = a_valid_response(attempt, 2)
    # The session, the user and the conditional UPDATE.
    with django_assert_num_queries(3):
        assert save(official_client, attempt, 2, response).status_code == 200
