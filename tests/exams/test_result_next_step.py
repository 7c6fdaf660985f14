"""The result page offers a next step (issue #20): the pass mark and the attempts used
and left, 再考一次 exactly when the rules of a start allow one now (exams.next_step,
which the start view applies again), the wrong-answer notebook when the attempt put
questions in it, and back to my exams; pending and voided results keep saying so."""

import re
from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone, translation

import pytest

from exams import attempts as engine
from exams.models import Attempt, AttemptState, NotebookEntry, SessionOverride
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db

TRY_AGAIN = 'id="try-again"'
NOTEBOOK_LINK = 'id="notebook-link"'


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read the English msgids (the lead adds the Chinese)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def result_url(attempt):
    return reverse("exams:result", args=[attempt.session_id, attempt.pk])


def result_page(client, attempt):
    response = client.get(result_url(attempt))
    assert response.status_code == 200
    return response.content.decode()


def sit(session, official, *, right=False):
    """A finished attempt: every answer right, or nothing answered (all wrong)."""
    attempt = engine.start_attempt(session, official)
    if right:
        for answer in attempt.answers.all():
            engine.save_answer(attempt.pk, official, answer.position, answer.snapshot["answer"])
    engine.submit_attempt(attempt)
    attempt.refresh_from_db()
    return attempt


def try_again_form(page, session):
    """The 再考一次 form: a POST to the session's start view, with a CSRF token."""
    form = re.search(
        r'<form method="post" action="([^"]+)" id="try-again-form">(.*?)</form>', page, re.S
    )
    assert form is not None
    assert form.group(1) == reverse("exams:start", args=[session.pk])
    assert 'name="csrfmiddlewaretoken"' in form.group(2) and TRY_AGAIN in form.group(2)
    return form


def test_a_failed_attempt_with_attempts_left_offers_try_again(official_client, official, exam):
    exam.pass_mark = 70
    exam.save()
    attempt = sit(exam, official)
    page = result_page(official_client, attempt)
    assert 'data-pass-mark="70">70%' in page
    assert 'data-percent="0"' in page and "you scored 0%" in page
    assert '<dd id="attempts-used">1 of 3 used</dd>' in page
    assert 'data-attempts-left="2">2</dd>' in page
    try_again_form(page, exam)
    assert f'href="{reverse("exams:index")}"' in page
    # The button starts the next attempt, as the session page's does.
    response = official_client.post(reverse("exams:start", args=[exam.pk]))
    second = Attempt.objects.get(official=official, number=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("exams:attempt", args=[exam.pk, second.pk])


def test_a_pass_still_offers_the_attempts_left_and_shows_the_score_against_the_mark(
    official_client, official, exam
):
    attempt = sit(exam, official, right=True)
    assert attempt.passed
    page = result_page(official_client, attempt)
    assert 'data-pass-mark="60">60%' in page and "you scored 100%" in page
    try_again_form(page, exam)  # the best attempt counts: more may only improve it
    assert NOTEBOOK_LINK not in page  # nothing wrong, nothing in the notebook


def test_no_try_again_once_no_attempt_is_left(official_client, official, exam):
    exam.attempts_allowed = 1
    exam.save()
    attempt = sit(exam, official)
    page = result_page(official_client, attempt)
    assert TRY_AGAIN not in page and "try-again-form" not in page
    assert 'data-attempts-left="0">0</dd>' in page and "1 of 1 used" in page
    assert f'href="{reverse("exams:index")}"' in page


def test_an_override_adds_an_attempt(official_client, official, exam):
    exam.attempts_allowed = 1
    exam.save()
    attempt = sit(exam, official)
    SessionOverride.objects.create(session=exam, official=official, extra_attempts=1)
    page = result_page(official_client, attempt)
    assert "1 of 2 used" in page
    try_again_form(page, exam)


def test_no_try_again_once_the_session_closed(official_client, official, exam):
    attempt = sit(exam, official)
    exam.closes_at = timezone.now() - timedelta(minutes=1)
    exam.save()
    page = result_page(official_client, attempt)
    assert TRY_AGAIN not in page
    assert 'data-attempts-left="2">2</dd>' in page


def test_no_try_again_past_the_entry_cut_off_and_it_says_so(official_client, official, exam):
    attempt = sit(exam, official)
    exam.entry_cutoff_minutes = 10  # the exam opened an hour ago
    exam.save()
    page = result_page(official_client, attempt)
    assert TRY_AGAIN not in page and 'id="retry-entry-closed"' in page


def test_a_later_window_says_when_another_attempt_can_start(official_client, official, exam):
    attempt = sit(exam, official)
    opens = timezone.now() + timedelta(days=1)
    SessionOverride.objects.create(
        session=exam, official=official, opens_at=opens, closes_at=opens + timedelta(days=1)
    )
    page = result_page(official_client, attempt)
    assert TRY_AGAIN not in page
    when = timezone.localtime(opens).strftime("%Y-%m-%d %H:%M")
    assert f"You can start another attempt from {when}." in page


def test_an_unmet_entry_requirement_is_listed_instead_of_try_again(official_client, official, exam):
    attempt = sit(exam, official)
    exam.gate_hours = Decimal("2")
    exam.save()
    page = result_page(official_client, attempt)
    assert TRY_AGAIN not in page and 'id="retry-blocked"' in page
    assert "Study 2.0 more credit hours in 2026" in page
    assert official_client.post(reverse("exams:start", args=[exam.pk])).status_code == 302
    assert not Attempt.objects.filter(official=official, number=2).exists()


def test_pending_marking_says_so_and_offers_no_try_again(official_client, official, exam):
    attempt = sit(exam, official)
    Attempt.objects.filter(pk=attempt.pk).update(
        marking_pending=True, score=None, percent=None, passed=None, band=""
    )
    page = result_page(official_client, attempt)
    assert 'id="marking-pending"' in page and 'id="score" data-marking-pending' in page
    assert TRY_AGAIN not in page and "you scored" not in page
    assert 'data-pass-mark="60">60%</dd>' in page and "1 of 3 used" in page


def test_a_voided_result_says_so_and_offers_no_try_again(official_client, official, exam):
    attempt = sit(exam, official)
    Attempt.objects.filter(pk=attempt.pk).update(
        voided_at=timezone.now(),
        void_reason="经核查系他人代考",
        score=None,
        percent=None,
        passed=None,
        band="",
    )
    page = result_page(official_client, attempt)
    assert 'id="result-voided"' in page and "经核查系他人代考" in page
    assert TRY_AGAIN not in page and NOTEBOOK_LINK not in page and "you scored" not in page
    assert f'href="{reverse("exams:index")}"' in page


def test_an_attempt_in_progress_is_continued_not_started_again(official_client, official, exam):
    first = sit(exam, official)
    second = engine.start_attempt(exam, official)
    page = result_page(official_client, first)
    assert TRY_AGAIN not in page
    assert f'href="{reverse("exams:attempt", args=[exam.pk, second.pk])}"' in page
    assert "2 of 3 used" in page


def test_wrong_answers_link_to_the_notebook_and_say_when_they_show(official_client, official, exam):
    attempt = sit(exam, official)
    assert NotebookEntry.objects.filter(official=official, cleared=False).count() == 10
    page = result_page(official_client, attempt)
    assert f'href="{reverse("exams:notebook")}"' in page and NOTEBOOK_LINK in page
    # Attempts are left, so the exam is still open to them: the notebook hides them.
    assert 'id="notebook-later"' in page
    exam.attempts_allowed = 1
    exam.review_policy = "after_submit"
    exam.save()
    page = result_page(official_client, attempt)
    assert NOTEBOOK_LINK in page and 'id="notebook-later"' not in page


def test_no_notebook_link_once_the_wrong_answers_are_cleared(official_client, official, exam):
    attempt = sit(exam, official)
    NotebookEntry.objects.filter(official=official).update(cleared=True)
    assert NOTEBOOK_LINK not in result_page(official_client, attempt)


def test_a_withheld_practice_score_says_nothing_of_hidden_wrong_answers(
    official_client, official, bank
):
    formal = ExamSessionFactory(paper=fixed_paper(bank[:3]))  # open to them, not sat
    practice = ExamSessionFactory(paper=fixed_paper(bank[:3]), kind="practice")
    attempt = sit(practice, official)
    page = result_page(official_client, attempt)
    assert "data-score-withheld" in page and "you scored" not in page
    assert NOTEBOOK_LINK not in page and 'id="notebook-later"' not in page
    assert formal.pk  # the open exam asking the same questions is what withholds them


def _no_attempt_left(exam, official):
    exam.attempts_allowed = 1
    exam.save()


def _closed(exam, official):
    exam.closes_at = timezone.now() - timedelta(minutes=1)
    exam.save()


def _past_the_entry_cut_off(exam, official):
    exam.entry_cutoff_minutes = 10
    exam.save()


def _a_later_window(exam, official):
    opens = timezone.now() + timedelta(days=1)
    SessionOverride.objects.create(
        session=exam, official=official, opens_at=opens, closes_at=opens + timedelta(days=1)
    )


def _gated(exam, official):
    exam.gate_hours = Decimal("2")
    exam.save()


def _attempts_left(exam, official):
    pass


@pytest.mark.parametrize(
    "change",
    [_attempts_left, _no_attempt_left, _closed, _past_the_entry_cut_off, _a_later_window, _gated],
)
def test_try_again_shows_exactly_when_the_session_page_offers_a_start(
    official_client, official, exam, change
):
    attempt = sit(exam, official)
    change(exam, official)
    start = f'action="{reverse("exams:start", args=[exam.pk])}"'
    session_page = official_client.get(reverse("exams:session", args=[exam.pk])).content.decode()
    assert (TRY_AGAIN in result_page(official_client, attempt)) is (start in session_page)
    assert (start in session_page) is (change is _attempts_left)


def test_another_officials_result_is_404(client, official, exam):
    attempt = sit(exam, official)
    client.force_login(OfficialFactory().user)
    assert client.get(result_url(attempt)).status_code == 404


def test_an_attempt_in_progress_has_no_result_yet(official_client, official, exam):
    attempt = engine.start_attempt(exam, official)
    response = official_client.get(result_url(attempt))
    assert response.status_code == 302
    assert response["Location"] == reverse("exams:attempt", args=[exam.pk, attempt.pk])
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.IN_PROGRESS


# The page's own queries (with the review, the secrecy guard's) and the next step's
# three: the official's attempts at the session, their override, the notebook entries.
QUERY_BUDGET = 20


@pytest.mark.parametrize("questions", [3, 30])
@pytest.mark.parametrize("attempts_allowed", [1, 3])
def test_the_result_page_reads_a_bounded_number_of_queries(
    official_client, official, questions, attempts_allowed, django_assert_max_num_queries
):
    bank = QuestionFactory.create_batch(questions)
    exam = ExamSessionFactory(
        paper=fixed_paper(bank), review_policy="after_submit", attempts_allowed=attempts_allowed
    )
    attempt = sit(exam, official)
    with django_assert_max_num_queries(QUERY_BUDGET):
        page = result_page(official_client, attempt)
    assert (TRY_AGAIN in page) is (attempts_allowed > 1)
    assert NOTEBOOK_LINK in page
    # The review shows once no attempt is left; before that the notebook waits too.
    assert ('id="notebook-later"' in page) is (attempts_allowed > 1)
