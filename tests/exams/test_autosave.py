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


# --- refusals at the door: who may save at all --------------------------------------


def test_an_anonymous_save_is_refused(attempt):
    response = save(Client(), attempt)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Answer.objects.get(attempt=attempt, position=1).response == ""


def test_a_save_without_the_csrf_token_is_refused(official, attempt):
    client = Client(enforce_csrf_checks=True)
    client.force_login(official.user)
    assert save(client, attempt).status_code == 403
    assert Answer.objects.get(attempt=attempt, position=1).response == ""
    client.get(reverse("exams:attempt", args=(attempt.session_id, attempt.pk)))
    token = client.cookies["csrftoken"].value
    bad = client.post(
        save_url(attempt), {"position": 1, "response": "A"}, HTTP_X_CSRFTOKEN="x" * 32
    )
    assert bad.status_code == 403
    good = client.post(
        save_url(attempt),
        {"position": 1, "response": a_valid_response(attempt)},
        HTTP_X_CSRFTOKEN=token,
    )
    assert good.status_code == 200


def test_a_save_on_an_idle_session_signs_out_and_saves_nothing(
    official_client, attempt, settings, monkeypatch
):
    from learning import middleware

    assert save(official_client, attempt).status_code == 200
    settings.XUEFA_SESSION_IDLE_SECONDS = 60
    later = middleware.time.time() + 61
    monkeypatch.setattr(middleware.time, "time", lambda: later)
    response = official_client.post(
        save_url(attempt),
        {"position": 2, "response": a_valid_response(attempt, 2)},
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    assert response.status_code == 401 and response.json()["signed_out"] is True
    assert Answer.objects.get(attempt=attempt, position=2).response == ""


def test_a_save_after_a_password_change_elsewhere_is_refused(official_client, official, attempt):
    assert save(official_client, attempt).status_code == 200
    official.user.set_password("another-long-passphrase")
    official.user.save()
    response = save(official_client, attempt, position=2)
    assert response.status_code == 302
    assert Answer.objects.get(attempt=attempt, position=2).response == ""


def test_the_paper_is_kept_in_memory_and_forgotten_for_a_new_attempt(
    official_client, attempt, django_assert_num_queries
):
    from django.core.cache import cache

    assert save(official_client, attempt).status_code == 200
    cache.clear()  # the shared cache is gone; this process still has the paper
    with django_assert_num_queries(0):
        assert engine.frozen_paper(attempt.pk)["user_id"] == attempt.official.user_id
    assert save(official_client, attempt, 2, a_valid_response(attempt, 2)).status_code == 200
    engine._forget_paper(Attempt, attempt, created=True)
    assert attempt.pk not in engine._PAPERS


def test_every_save_reply_is_json_that_nothing_may_store(official_client, attempt):
    replies = [
        save(official_client, attempt),  # saved
        save(official_client, attempt, position=1, response="Z"),  # invalid answer
        official_client.post(save_url(attempt), {"response": "A"}),  # no question number
    ]
    Attempt.objects.filter(pk=attempt.pk).update(state=AttemptState.SUBMITTED)
    replies.append(save(official_client, attempt, position=2))  # closed
    assert [reply.status_code for reply in replies] == [200, 400, 400, 409]
    for reply in replies:
        assert reply["Content-Type"] == "application/json"
        assert reply["Cache-Control"] == "no-store"
        assert reply.json()["ok"] is (reply.status_code == 200)
