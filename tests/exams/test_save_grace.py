"""The grace period after the deadline, through the pages: a save or a submit form
still in flight when time runs out is kept; one that arrives after the deadline and
the grace period is refused (a save) or ignored (the form: the attempt is submitted
automatically with what was saved before)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from exams import attempts as engine
from exams.models import Answer, Attempt, AttemptState

pytestmark = pytest.mark.django_db

GRACE = 30
TIME_IS_UP = "时间已到：截止时间之后保存的答案不予接受。"


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.XUEFA_EXAM_GRACE_SECONDS = GRACE


@pytest.fixture
def attempt(exam, official):
    return engine.start_attempt(exam, official)


def keys(attempt):
    """The right answers in the letters the page displays (what the browser sends)."""
    return {a.position: a.display_letters(a.snapshot["answer"]) for a in attempt.answers.all()}


def bank_keys(attempt):
    """The right answers as stored: in the bank's letters."""
    return dict(attempt.answers.values_list("position", "snapshot__answer"))


def shown(answer):
    return answer.display_letters(answer.response)


def wrong(key):
    """A valid response that earns nothing, even with partial credit."""
    return {"T": "F", "F": "T"}.get(key) or next(c for c in "ABCD" if c not in key)


def deadline_ago(attempt, seconds):
    """Move the deadline `seconds` into the past (an organizer closing early does the
    same to a sitting in progress)."""
    Attempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() - timedelta(seconds=seconds)
    )


def save(client, attempt, position, response):
    url = reverse("exams:save", args=(attempt.session_id, attempt.pk))
    return client.post(url, {"position": position, "response": response})


def submit(client, attempt, responses):
    url = reverse("exams:submit", args=(attempt.session_id, attempt.pk))
    form = {f"q{position}": list(response) for position, response in responses.items()}
    return client.post(url, form)


def test_grace_is_the_setting(settings):
    settings.XUEFA_EXAM_GRACE_SECONDS = 45
    assert engine.grace() == timedelta(seconds=45)


def test_a_save_within_the_grace_period_is_stored(official_client, attempt):
    key = keys(attempt)[1]
    deadline_ago(attempt, GRACE - 10)
    response = save(official_client, attempt, 1, key)
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] and data["response"] == key and data["remaining"] == 0
    answer = Answer.objects.get(attempt=attempt, position=1)
    assert answer.response == bank_keys(attempt)[1] and answer.saved_at is not None


def test_a_longer_grace_from_the_settings_keeps_a_later_save(official_client, attempt, settings):
    settings.XUEFA_EXAM_GRACE_SECONDS = 120
    deadline_ago(attempt, 90)
    assert save(official_client, attempt, 1, keys(attempt)[1]).status_code == 200
    assert Answer.objects.get(attempt=attempt, position=1).response == bank_keys(attempt)[1]


def test_a_save_after_deadline_and_grace_is_refused(official_client, attempt):
    key = keys(attempt)
    assert save(official_client, attempt, 1, key[1]).status_code == 200  # paper cached
    deadline_ago(attempt, GRACE + 5)
    response = save(official_client, attempt, 2, key[2])
    assert response.status_code == 409
    assert response.json() == {"ok": False, "closed": True, "error": TIME_IS_UP}
    second = Answer.objects.get(attempt=attempt, position=2)
    assert second.response == "" and second.saved_at is None
    # Changing an answer saved in time is refused too.
    assert save(official_client, attempt, 1, wrong(key[1])).status_code == 409
    assert Answer.objects.get(attempt=attempt, position=1).response == bank_keys(attempt)[1]


def test_the_submit_form_within_the_grace_period_is_saved_and_graded(official_client, attempt):
    key = keys(attempt)
    assert save(official_client, attempt, 1, key[1]).status_code == 200
    deadline_ago(attempt, GRACE - 10)
    # The page's unsent answers travel with the submit: 2 and 3 right, 4 wrong.
    form = {2: key[2], 3: key[3], 4: wrong(key[4])}
    response = submit(official_client, attempt, form)
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED
    answers = {a.position: a for a in attempt.answers.all()}
    for position in (1, 2, 3):
        assert shown(answers[position]) == key[position]
        assert answers[position].is_correct is True and answers[position].points_awarded == 10
        assert answers[position].saved_at is not None
    assert shown(answers[4]) == wrong(key[4]) and answers[4].is_correct is False
    assert attempt.score == 30


def test_the_submit_form_after_deadline_and_grace_is_ignored(official_client, attempt):
    key = keys(attempt)
    assert save(official_client, attempt, 1, key[1]).status_code == 200
    deadline_ago(attempt, GRACE + 5)
    response = submit(official_client, attempt, {1: wrong(key[1]), 2: key[2], 3: key[3]})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.AUTO_SUBMITTED
    answers = {a.position: a for a in attempt.answers.all()}
    assert shown(answers[1]) == key[1] and answers[1].is_correct is True
    assert answers[2].response == answers[3].response == ""
    assert answers[2].saved_at is None
    assert attempt.score == 10


def test_a_late_submit_that_passed_the_page_ignores_the_form(attempt):
    """The engine's own guard, for a submit that began in time and reaches grading late
    (the page auto-submits expired attempts before it gets here)."""
    key = keys(attempt)
    late = attempt.deadline + timedelta(seconds=GRACE + 1)
    attempt, graded = engine.submit_attempt(attempt, now=late, responses={1: key[1]})
    assert graded and attempt.state == AttemptState.SUBMITTED
    assert Answer.objects.get(attempt=attempt, position=1).response == ""
    assert attempt.score == 0
    in_grace = engine.start_attempt(attempt.session, attempt.official)
    key = keys(in_grace)
    on_time = in_grace.deadline + timedelta(seconds=GRACE - 1)
    in_grace, _graded = engine.submit_attempt(in_grace, now=on_time, responses={1: key[1]})
    assert Answer.objects.get(attempt=in_grace, position=1).response == bank_keys(in_grace)[1]
    assert in_grace.score == 10
