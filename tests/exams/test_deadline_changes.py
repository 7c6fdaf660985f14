"""Deadlines of attempts under way follow later changes to the session (its close, its
duration) and to a person's override, from each attempt's own start, as Moodle's quiz
does; a deadline moved into the past closes the attempt like closing the session early."""

from datetime import timedelta

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

import pytest

from exams import attempts as engine
from exams.models import Answer, Attempt, AttemptState, ExamSession, SessionOverride
from tests.admin_forms import edit_form_data
from tests.factories import OfficialFactory

pytestmark = pytest.mark.django_db

GRACE = 30


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def exam(exam, now):
    """The conftest's exam, 90 minutes, open until four hours from now."""
    exam.closes_at = now + timedelta(hours=4)
    exam.save()
    return exam


def start(exam, official, started_at):
    return engine.start_attempt(exam, official, now=started_at)


def deadline_of(attempt):
    return Attempt.objects.values_list("deadline", flat=True).get(pk=attempt.pk)


def move(exam, **changes):
    for name, value in changes.items():
        setattr(exam, name, value)
    exam.save()


# The session's terms ------------------------------------------------------------------


def test_extending_the_close_extends_deadlines_up_to_the_duration(exam, official, now):
    move(exam, closes_at=now + timedelta(minutes=30))
    early = start(exam, official, now - timedelta(minutes=20))
    late = start(exam, OfficialFactory(), now)
    assert deadline_of(early) == deadline_of(late) == now + timedelta(minutes=30)
    move(exam, closes_at=now + timedelta(hours=3))
    assert deadline_of(early) == now + timedelta(minutes=70)  # its own start + 90
    assert deadline_of(late) == now + timedelta(minutes=90)


def test_shortening_the_close_cuts_deadlines(exam, official, now):
    attempt = start(exam, official, now)
    assert deadline_of(attempt) == now + timedelta(minutes=90)
    move(exam, closes_at=now + timedelta(minutes=10))
    assert deadline_of(attempt) == now + timedelta(minutes=10)


def test_changing_the_duration_moves_deadlines_both_ways(exam, official, now):
    attempt = start(exam, official, now - timedelta(minutes=10))
    move(exam, duration_minutes=120)
    assert deadline_of(attempt) == now + timedelta(minutes=110)
    move(exam, duration_minutes=60)
    assert deadline_of(attempt) == now + timedelta(minutes=50)


def test_submitted_attempts_keep_their_deadline(exam, official, now):
    submitted, _graded = engine.submit_attempt(start(exam, official, now))
    move(exam, closes_at=now + timedelta(minutes=5), duration_minutes=30)
    after = Attempt.objects.get(pk=submitted.pk)
    assert after.deadline == now + timedelta(minutes=90)
    assert after.state == AttemptState.SUBMITTED and after.submitted_at == submitted.submitted_at


def test_an_expired_attempt_is_not_revived(exam, official, now):
    """Past its deadline and grace an attempt is due for submission; an edit leaves it."""
    attempt = start(exam, official, now)
    cut = now - engine.grace() - timedelta(minutes=1)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=cut)
    move(exam, duration_minutes=240)
    assert deadline_of(attempt) == cut
    assert engine.submit_expired_attempts(now) == 1


def test_a_submit_between_the_read_and_the_update_keeps_its_state(exam, official, now, monkeypatch):
    """The UPDATE itself only touches attempts still in progress and not expired."""
    attempt = start(exam, official, now)
    terms_for = engine.terms_for

    def submitted_meanwhile(*args):
        engine.submit_attempt(Attempt.objects.get(pk=attempt.pk))
        return terms_for(*args)

    monkeypatch.setattr(engine, "terms_for", submitted_meanwhile)
    ExamSession.objects.filter(pk=exam.pk).update(closes_at=now + timedelta(minutes=15))
    assert engine.refresh_deadlines(exam) == 0
    after = Attempt.objects.get(pk=attempt.pk)
    assert after.state == AttemptState.SUBMITTED
    assert after.deadline == now + timedelta(minutes=90)


def test_a_session_closed_again_moves_deadlines_without_being_saved(exam, official, now):
    attempt = start(exam, official, now)
    ExamSession.objects.filter(pk=exam.pk).update(closes_at=now + timedelta(minutes=15))
    assert deadline_of(attempt) == now + timedelta(minutes=90)  # update() sends no signal
    assert engine.refresh_deadlines(exam) == 1
    assert deadline_of(attempt) == now + timedelta(minutes=15)
    assert engine.refresh_deadlines(exam) == 0  # nothing left to move


def test_an_attempt_started_from_the_old_terms_is_corrected_at_commit(
    exam, official, now, django_capture_on_commit_callbacks
):
    stale = ExamSession.objects.get(pk=exam.pk)
    with django_capture_on_commit_callbacks(execute=True):
        move(exam, closes_at=now + timedelta(minutes=20))
        # Another request read the session before the edit and starts from it.
        attempt = start(stale, official, now)
        assert deadline_of(attempt) == now + timedelta(minutes=90)
    assert deadline_of(attempt) == now + timedelta(minutes=20)


# One person's override -------------------------------------------------------------


def test_extra_time_moves_only_that_persons_attempt(exam, official, now):
    other = start(exam, OfficialFactory(), now)
    mine = start(exam, official, now)
    override = SessionOverride.objects.create(session=exam, official=official, extra_minutes=15)
    assert deadline_of(mine) == now + timedelta(minutes=105)
    assert deadline_of(other) == now + timedelta(minutes=90)
    override.extra_minutes = 40
    override.save()
    assert deadline_of(mine) == now + timedelta(minutes=130)
    override.delete()
    assert deadline_of(mine) == now + timedelta(minutes=90)
    assert deadline_of(other) == now + timedelta(minutes=90)


def test_an_overrides_own_window_applies_and_a_bulk_delete_undoes_it(exam, official, now):
    mine = start(exam, official, now)
    SessionOverride.objects.create(
        session=exam, official=official, closes_at=now + timedelta(minutes=25)
    )
    assert deadline_of(mine) == now + timedelta(minutes=25)
    SessionOverride.objects.filter(session=exam).delete()
    assert deadline_of(mine) == now + timedelta(minutes=90)


def test_extra_time_outlasts_a_shortened_close_only_with_its_own_window(exam, official, now):
    mine = start(exam, official, now)
    SessionOverride.objects.create(
        session=exam, official=official, extra_minutes=30, closes_at=now + timedelta(hours=5)
    )
    move(exam, closes_at=now + timedelta(minutes=45))
    assert deadline_of(mine) == now + timedelta(minutes=120)
    assert deadline_of(start(exam, OfficialFactory(), now)) == now + timedelta(minutes=45)


# A deadline moved into the past --------------------------------------------------------


def save_url(attempt):
    return reverse("exams:save", args=(attempt.session_id, attempt.pk))


def post_answer(client, attempt, position):
    response = attempt.answers.get(position=position).snapshot["answer"]
    return client.post(save_url(attempt), {"position": position, "response": response})


@override_settings(XUEFA_EXAM_GRACE_SECONDS=GRACE)
def test_a_deadline_moved_into_the_past_refuses_saves_and_submits_on_access(
    official_client, exam, official, now
):
    attempt = start(exam, official, now - timedelta(minutes=5))
    assert post_answer(official_client, attempt, 1).status_code == 200  # paper now cached
    move(exam, closes_at=timezone.now() - timedelta(seconds=GRACE + 5))
    response = post_answer(official_client, attempt, 2)
    assert response.status_code == 409 and response.json()["closed"]
    assert Answer.objects.get(attempt=attempt, position=2).response == ""
    with pytest.raises(engine.AttemptClosed):
        engine.autosave(attempt.pk, official.user_id, exam.pk, 3, "A")
    page = official_client.get(reverse("exams:attempt", args=(exam.pk, attempt.pk)))
    assert page.status_code == 302 and page.url.endswith("/result/")
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.AUTO_SUBMITTED
    assert Answer.objects.get(attempt=attempt, position=1).response != ""


@override_settings(XUEFA_EXAM_GRACE_SECONDS=GRACE)
def test_the_grace_period_still_covers_saves_in_flight(official_client, exam, official, now):
    attempt = start(exam, official, now - timedelta(minutes=5))
    move(exam, closes_at=timezone.now() - timedelta(seconds=5))
    assert post_answer(official_client, attempt, 1).status_code == 200
    later = timezone.now() + timedelta(seconds=GRACE)
    with pytest.raises(engine.AttemptClosed):
        engine.autosave(attempt.pk, official.user_id, exam.pk, 2, "A", now=later)
    assert engine.submit_expired_attempts(now=later) == 1
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.AUTO_SUBMITTED


# Cost --------------------------------------------------------------------------------


@pytest.mark.parametrize("takers", [2, 20])
def test_the_recompute_costs_the_same_for_2_or_20_attempts(
    exam, now, takers, django_assert_max_num_queries
):
    officials = OfficialFactory.create_batch(takers)
    for official in officials:
        start(exam, official, now)
    SessionOverride.objects.create(session=exam, official=officials[0], extra_minutes=10)
    ExamSession.objects.filter(pk=exam.pk).update(closes_at=now + timedelta(minutes=30))
    # The attempts, the session, its overrides and one UPDATE.
    with django_assert_max_num_queries(4):
        assert engine.refresh_deadlines(exam) == takers
    assert set(Attempt.objects.values_list("deadline", flat=True)) == {now + timedelta(minutes=30)}
    # Through a save: its own UPDATE, inlines and Wagtail's reference index, then those four.
    exam.refresh_from_db()
    exam.duration_minutes = 20
    with django_assert_max_num_queries(11):
        exam.save()
    deadlines = dict(Attempt.objects.values_list("official_id", "deadline"))
    assert deadlines.pop(officials[0].pk) == now + timedelta(minutes=30)  # 20 + 10 extra
    assert set(deadlines.values()) == {now + timedelta(minutes=20)}


# Through the Wagtail admin -------------------------------------------------------------


def test_editing_the_session_in_the_admin_moves_deadlines(organizer_client, exam, official):
    began = timezone.now().replace(second=0, microsecond=0)
    mine = start(exam, official, began)
    other = start(exam, OfficialFactory(), began)
    url = reverse("wagtailsnippets_exams_examsession:edit", args=[exam.pk])
    closes = timezone.localtime(began + timedelta(minutes=40))
    data = edit_form_data(organizer_client, url)
    data.update(
        {
            "closes_at": closes.strftime("%Y-%m-%d %H:%M"),
            "overrides-TOTAL_FORMS": "1",
            "overrides-0-official": str(official.pk),
            "overrides-0-extra_minutes": "20",
            "overrides-0-extra_attempts": "0",
            "overrides-0-opens_at": "",
            "overrides-0-closes_at": (closes + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
            "overrides-0-ORDER": "1",
            "overrides-0-DELETE": "",
            "overrides-0-id": "",
        }
    )
    response = organizer_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert deadline_of(other) == closes
    assert deadline_of(mine) == began + timedelta(minutes=110)

    # Removing the exception in the admin gives the person the session's terms again.
    data = edit_form_data(organizer_client, url)
    data["overrides-0-DELETE"] = "1"
    response = organizer_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert not exam.overrides.exists()
    assert deadline_of(mine) == closes
