"""The exam-day save path (attempts.autosave): the frozen paper comes from the cache,
every rule that can change is checked by the database in the same UPDATE."""

import re
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
    """The right answer in the letters the page displays (what the browser sends)."""
    answer = attempt.answers.get(position=position)
    return answer.display_letters(answer.snapshot["answer"])


def the_key(attempt, position=1):
    """The right answer as stored: in the bank's letters."""
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
    assert data["ok"] and data["response"] == a_valid_response(attempt)
    assert answer.response == the_key(attempt)
    assert answer.saved_at is not None
    assert 0 < data["remaining"] <= (attempt.deadline - timezone.now()).total_seconds() + 1


def test_another_officials_attempt_is_not_found(official_client, attempt):
    assert save(official_client, attempt).status_code == 200  # the paper is now cached
    other = Client()
    other.force_login(OfficialFactory().user)
    assert save(other, attempt).status_code == 404
    assert Answer.objects.get(attempt=attempt, position=1).response == the_key(attempt)


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


@pytest.mark.fast_paths
def test_save_is_one_update_once_the_paper_is_cached(
    official_client, attempt, django_assert_num_queries
):
    save(official_client, attempt)
    response = a_valid_response(attempt, 2)
    # The session, the user and the conditional UPDATE.
    with django_assert_num_queries(3):
        assert save(official_client, attempt, 2, response).status_code == 200


# --- refusals at the door: who may save at all --------------------------------------


def test_an_anonymous_save_is_refused_with_json_the_page_can_act_on(attempt):
    # Not login_required's redirect: a fetch would follow it to the sign-in page.
    response = save(Client(), attempt)
    assert response.status_code == 401
    assert response.json()["signed_out"] is True and not response.json()["ok"]
    assert "重新登录" in response.json()["error"]
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
    assert response.status_code == 401 and response.json()["signed_out"] is True
    assert Answer.objects.get(attempt=attempt, position=2).response == ""


@pytest.mark.fast_paths
def test_the_paper_is_kept_in_memory_and_forgotten_for_a_new_attempt(
    official_client, attempt, django_assert_num_queries
):
    from django.core.cache import cache

    assert save(official_client, attempt).status_code == 200
    cache.clear()  # the shared cache is gone; this process still has the paper
    with django_assert_num_queries(0):
        assert engine.frozen_paper(attempt.pk)["user_id"] == attempt.official.user_id
    assert save(official_client, attempt, 2, a_valid_response(attempt, 2)).status_code == 200
    from exams.signals import attempt_saved

    attempt_saved(Attempt, attempt, created=True)  # an attempt made anew under this id
    with django_assert_num_queries(1):
        assert engine.frozen_paper(attempt.pk)["user_id"] == attempt.official.user_id


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


# --- the attempt page's check-in (status) and staying signed in -----------------------


def status_url(attempt):
    return reverse("exams:status", args=(attempt.session_id, attempt.pk))


def test_status_gives_the_time_left_by_the_servers_clock(official_client, attempt):
    response = official_client.get(status_url(attempt))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    left = (attempt.deadline - timezone.now()).total_seconds()
    assert response.json()["ok"] and left - 5 <= response.json()["remaining"] <= left


def test_status_refuses_others_anonymous_and_posts(official_client, attempt):
    other = Client()
    other.force_login(OfficialFactory().user)
    assert other.get(status_url(attempt)).status_code == 404
    anonymous = Client().get(status_url(attempt))
    assert anonymous.status_code == 401 and anonymous.json()["signed_out"] is True
    assert official_client.post(status_url(attempt)).status_code == 405
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.IN_PROGRESS


def test_status_of_a_finished_attempt_says_it_is_over(official_client, attempt):
    engine.submit_attempt(attempt)
    response = official_client.get(status_url(attempt))
    assert response.status_code == 409 and response.json()["closed"] is True


def test_status_after_the_deadline_submits_what_was_saved(official_client, attempt):
    assert save(official_client, attempt).status_code == 200
    past = timezone.now() - engine.grace() - timedelta(seconds=1)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=past)
    response = official_client.get(status_url(attempt))
    assert response.status_code == 409
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.AUTO_SUBMITTED and attempt.score is not None
    assert attempt.answers.get(position=1).response == the_key(attempt)


def test_status_is_three_queries(official_client, attempt, django_assert_num_queries):
    official_client.get(status_url(attempt))
    with django_assert_num_queries(3):  # the session, the user, the attempt
        assert official_client.get(status_url(attempt)).status_code == 200


@pytest.mark.parametrize(("idle", "touch"), [(1800, 300), (600, 300), (120, 60)])
def test_a_page_checking_in_as_told_stays_signed_in_for_a_whole_sitting(
    official_client, attempt, settings, monkeypatch, idle, touch
):
    """The interval the page is given, against the session's idle rule: an official
    who reads for two hours without answering is still signed in, while a page
    that stays silent past the idle limit is signed out."""
    from learning import middleware

    settings.XUEFA_SESSION_IDLE_SECONDS, settings.XUEFA_SESSION_TOUCH_SECONDS = idle, touch
    clock = [middleware.time.time()]
    monkeypatch.setattr(middleware.time, "time", lambda: clock[0])
    page = official_client.get(reverse("exams:attempt", args=(attempt.session_id, attempt.pk)))
    every = int(re.search(rb'data-keepalive-seconds="(\d+)"', page.content).group(1))
    assert 1 <= every <= 300
    as_the_page = {"x-requested-with": "XMLHttpRequest", "accept": "application/json"}
    elapsed = 0
    while elapsed < 2 * 3600:
        clock[0] += every
        elapsed += every
        checked_in = official_client.get(status_url(attempt), headers=as_the_page)
        assert checked_in.status_code == 200, elapsed
    assert save(official_client, attempt).status_code == 200
    clock[0] += idle + 1
    silent_too_long = official_client.get(status_url(attempt), headers=as_the_page)
    assert silent_too_long.status_code == 401 and silent_too_long.json()["signed_out"]


def test_the_attempt_page_gives_its_script_what_it_needs(official_client, attempt):
    assert save(official_client, attempt).status_code == 200
    page = official_client.get(reverse("exams:attempt", args=(attempt.session_id, attempt.pk)))
    html = page.content.decode()
    assert f'data-status-url="{status_url(attempt)}"' in html
    assert f'data-attempt-id="{attempt.pk}"' in html
    saved_at = Answer.objects.get(attempt=attempt, position=1).saved_at
    assert f'data-saved-at="{int(saved_at.timestamp() * 1000)}"' in html
    assert html.count("data-saved-at=") == 1  # only the saved question has one
    now = int(re.search(r'data-server-now="(\d+)"', html).group(1))
    assert abs(now - timezone.now().timestamp() * 1000) < 60_000


def test_a_submit_after_signing_out_leads_back_to_the_attempt(attempt):
    response = Client().post(
        reverse("exams:submit", args=(attempt.session_id, attempt.pk)), {"q1": "A"}
    )
    attempt_path = reverse("exams:attempt", args=(attempt.session_id, attempt.pk))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={attempt_path}"
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.IN_PROGRESS
