"""Anti-cheating switches (exams/integrity.py): the page reports, the server counts,
logs and decides. Each switch is off by default, and each refusal has its exact
outcome."""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

import pytest

from exams import attempts as engine
from exams import integrity
from exams.models import Attempt, AttemptState, DeviceRule, IntegrityEvent, IntegrityKind

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    """The messages are checked in the source language (the catalogue has them in
    Chinese; tests/test_translations.py checks it is complete)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def paper(db):
    return fixed_paper(QuestionFactory.create_batch(3))


def start(client, session):
    response = client.post(reverse("exams:start", args=[session.pk]))
    assert response.status_code == 302, response
    return Attempt.objects.get(session=session, state=AttemptState.IN_PROGRESS)


def report(client, attempt, kind="left_page"):
    url = reverse("exams:report", args=[attempt.session_id, attempt.pk])
    return client.post(url, {"kind": kind})


def kinds(attempt):
    return list(attempt.integrity_events.values_list("kind", flat=True))


# Leaving the page ---------------------------------------------------------------


def test_switches_are_off_by_default_and_reports_change_nothing(official_client, paper):
    session = ExamSessionFactory(paper=paper)
    attempt = start(official_client, session)
    page = official_client.get(reverse("exams:attempt", args=[session.pk, attempt.pk]))
    assert b"integrity.js" not in page.content
    reply = report(official_client, attempt).json()
    assert reply == {"ok": True, "departures": 0, "limit": 0, "counted": False, "submitted": False}
    assert kinds(attempt) == []


def test_leaving_is_counted_once_per_moment_and_the_limit_submits(official_client, paper):
    session = ExamSessionFactory(paper=paper, count_leaving=True, leave_limit=3)
    attempt = start(official_client, session)
    page = official_client.get(reverse("exams:attempt", args=[session.pk, attempt.pk]))
    assert b"integrity.js" in page.content and b'data-leave-limit="3"' in page.content
    assert report(official_client, attempt).json()["departures"] == 1
    # Hidden, blurred and out of full screen in one moment: one departure.
    again = report(official_client, attempt).json()
    assert again["departures"] == 1 and again["counted"] is False
    Attempt.objects.filter(pk=attempt.pk).update(
        last_departure_at=timezone.now() - timedelta(seconds=10)
    )
    assert report(official_client, attempt).json()["departures"] == 2
    Attempt.objects.filter(pk=attempt.pk).update(
        last_departure_at=timezone.now() - timedelta(seconds=10)
    )
    last = report(official_client, attempt).json()
    assert last["departures"] == 3 and last["submitted"] is True
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED and attempt.score is not None
    assert kinds(attempt) == ["left_page"] * 3 + ["auto_submitted"]
    # Once submitted, reports are refused as for any closed attempt.
    closed = report(official_client, attempt)
    assert closed.status_code == 409 and closed.json()["closed"] is True


def test_the_auto_submit_keeps_every_saved_answer(official_client, paper):
    session = ExamSessionFactory(paper=paper, count_leaving=True, leave_limit=1)
    attempt = start(official_client, session)
    first = attempt.answers.get(position=1)
    shown = first.display_letters(first.snapshot["answer"])
    url = reverse("exams:save", args=[session.pk, attempt.pk])
    assert official_client.post(url, {"position": 1, "response": shown}).status_code == 200
    assert report(official_client, attempt).json()["submitted"] is True
    first.refresh_from_db()
    assert first.is_correct is True


def test_counting_without_a_limit_never_submits(official_client, paper):
    session = ExamSessionFactory(paper=paper, count_leaving=True, leave_limit=0)
    attempt = start(official_client, session)
    for _ in range(5):
        Attempt.objects.filter(pk=attempt.pk).update(last_departure_at=None)
        reply = report(official_client, attempt).json()
    assert reply["departures"] == 5 and reply["submitted"] is False
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.IN_PROGRESS


def test_leaving_full_screen_counts_only_when_full_screen_is_required(official_client, paper):
    plain = ExamSessionFactory(paper=paper)
    attempt = start(official_client, plain)
    assert report(official_client, attempt, "left_fullscreen").json()["counted"] is False
    strict = ExamSessionFactory(paper=paper, require_fullscreen=True, leave_limit=2)
    attempt = start(official_client, strict)
    reply = report(official_client, attempt, "left_fullscreen").json()
    assert reply == {"ok": True, "departures": 1, "limit": 2, "counted": True, "submitted": False}
    assert kinds(attempt) == ["left_fullscreen"]


def test_an_unknown_report_is_refused(official_client, paper):
    session = ExamSessionFactory(paper=paper, count_leaving=True)
    attempt = start(official_client, session)
    response = report(official_client, attempt, "auto_submitted")
    assert response.status_code == 400
    assert kinds(attempt) == []


def test_nobody_reports_for_someone_elses_attempt(official_client, official, paper):
    from tests.factories import OfficialFactory

    session = ExamSessionFactory(paper=paper, count_leaving=True, leave_limit=1)
    attempt = start(official_client, session)
    other = Client()
    other.force_login(OfficialFactory().user)
    assert report(other, attempt).status_code == 404
    anonymous = report(Client(), attempt)
    assert anonymous.status_code == 401 and anonymous.json()["signed_out"] is True
    attempt.refresh_from_db()
    assert attempt.departures == 0 and attempt.state == AttemptState.IN_PROGRESS


def test_copy_reports_are_logged_at_most_every_ten_seconds(official_client, paper):
    session = ExamSessionFactory(paper=paper, block_copy=True)
    attempt = start(official_client, session)
    page = official_client.get(reverse("exams:attempt", args=[session.pk, attempt.pk]))
    assert b'data-block-copy="1"' in page.content
    for _ in range(3):
        assert report(official_client, attempt, "copy_blocked").json()["counted"] is False
    assert kinds(attempt) == ["copy_blocked"]
    attempt.refresh_from_db()
    assert attempt.departures == 0


# Entry cut-off ------------------------------------------------------------------


def test_no_start_after_the_entry_cut_off(official_client, official, paper):
    now = timezone.now()
    session = ExamSessionFactory(
        paper=paper, opens_at=now - timedelta(minutes=31), entry_cutoff_minutes=30
    )
    with pytest.raises(engine.ExamError, match="no start later than 30 minutes"):
        engine.start_attempt(session, official)
    response = official_client.post(reverse("exams:start", args=[session.pk]), follow=True)
    assert "no start later than 30 minutes" in response.content.decode()
    assert not Attempt.objects.filter(session=session).exists()


def test_the_session_page_shows_the_cut_off_and_no_start_after_it(official_client, paper):
    now = timezone.now()
    session = ExamSessionFactory(
        paper=paper, opens_at=now - timedelta(minutes=10), entry_cutoff_minutes=30
    )
    page = official_client.get(reverse("exams:session", args=[session.pk])).content.decode()
    start_url = reverse("exams:start", args=[session.pk])
    assert "data-entry-closed" not in page and start_url in page
    session.opens_at = now - timedelta(minutes=31)
    session.save()
    page = official_client.get(reverse("exams:session", args=[session.pk])).content.decode()
    assert "data-entry-closed" in page and start_url not in page


def test_the_session_page_states_the_rules_before_the_start(official_client, paper):
    session = ExamSessionFactory(
        paper=paper, count_leaving=True, leave_limit=3, block_copy=True,
        device_rule=DeviceRule.TAKE_OVER,
    )  # fmt: skip
    page = official_client.get(reverse("exams:session", args=[session.pk])).content.decode()
    assert "at 3 departures the exam is submitted" in page
    assert "Copying and pasting are turned off" in page
    assert "Use one device for the whole exam" in page
    plain = ExamSessionFactory(paper=paper)
    page = official_client.get(reverse("exams:session", args=[plain.pk])).content.decode()
    assert "exam-rules" not in page


def test_the_cut_off_counts_from_the_persons_own_window(official, paper):
    from exams.models import SessionOverride

    now = timezone.now()
    session = ExamSessionFactory(
        paper=paper, opens_at=now - timedelta(hours=2), entry_cutoff_minutes=30
    )
    SessionOverride.objects.create(
        session=session, official=official, opens_at=now - timedelta(minutes=10)
    )
    attempt = engine.start_attempt(session, official)
    assert attempt.state == AttemptState.IN_PROGRESS


def test_an_attempt_started_before_the_cut_off_goes_on_after_it(official, paper):
    now = timezone.now()
    session = ExamSessionFactory(
        paper=paper, opens_at=now - timedelta(minutes=20), entry_cutoff_minutes=30
    )
    attempt = engine.start_attempt(session, official, now=now)
    later = now + timedelta(minutes=40)
    assert engine.start_attempt(session, official, now=later).pk == attempt.pk


# One device per attempt --------------------------------------------------------


@pytest.fixture
def two_browsers(official):
    first, second = Client(), Client()
    first.force_login(official.user)
    second.force_login(official.user)
    return first, second


def save(client, attempt, position=1, response="A"):
    url = reverse("exams:save", args=[attempt.session_id, attempt.pk])
    return client.post(url, {"position": position, "response": response})


def test_start_gives_the_browser_a_device_cookie_and_binds_the_attempt(two_browsers, paper):
    first, _second = two_browsers
    session = ExamSessionFactory(paper=paper, device_rule=DeviceRule.ASK_ORGANIZER)
    response = first.post(reverse("exams:start", args=[session.pk]))
    cookie = response.cookies[integrity.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    attempt = Attempt.objects.get(session=session)
    assert attempt.device == integrity.device_of(cookie.value) != cookie.value


def test_any_device_is_the_default(two_browsers, paper):
    first, second = two_browsers
    session = ExamSessionFactory(paper=paper)
    attempt = start(first, session)
    assert attempt.device == ""
    assert save(second, attempt).status_code == 200
    assert second.get(reverse("exams:attempt", args=[session.pk, attempt.pk])).status_code == 200


def test_a_second_device_is_refused_until_the_organizer_allows_it(two_browsers, paper, organizer):
    first, second = two_browsers
    session = ExamSessionFactory(paper=paper, device_rule=DeviceRule.ASK_ORGANIZER)
    attempt = start(first, session)
    assert save(first, attempt, response="B").status_code == 200
    page = second.get(reverse("exams:attempt", args=[session.pk, attempt.pk]))
    assert page.status_code == 409
    assert "Ask the exam organizer to allow this device" in page.content.decode()
    assert b"take-over" not in page.content
    refused = save(second, attempt, response="C")
    assert refused.status_code == 409 and refused.json()["locked"] is True
    status = second.get(reverse("exams:status", args=[session.pk, attempt.pk]))
    assert status.status_code == 409 and status.json()["locked"] is True
    # A submit from the refused browser submits nothing and changes nothing.
    submit = second.post(reverse("exams:submit", args=[session.pk, attempt.pk]), {"q1": "D"})
    assert submit.status_code == 302 and submit.url.endswith(f"/attempts/{attempt.pk}/")
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.IN_PROGRESS
    first_answer = attempt.answers.get(position=1)
    assert first_answer.display_letters(first_answer.response) == "B"
    assert kinds(attempt) == ["device_refused"]  # once a minute, however often it asks

    # The organizer allows another device; the next browser to open it has it.
    admin = Client()
    admin.force_login(organizer)
    url = reverse("exams_attempts:release_device", args=[attempt.pk])
    assert admin.get(url).status_code == 405
    assert admin.post(url).status_code == 302
    assert second.get(reverse("exams:attempt", args=[session.pk, attempt.pk])).status_code == 200
    assert save(second, attempt, response="C").status_code == 200
    assert save(first, attempt, response="D").status_code == 409
    # Refusals are logged once a minute: the first browser's is the one before.
    assert kinds(attempt) == ["device_refused", "device_released"]


def test_only_organizers_allow_another_device(two_browsers, paper, official_client, hr_user):
    first, _second = two_browsers
    session = ExamSessionFactory(paper=paper, device_rule=DeviceRule.ASK_ORGANIZER)
    attempt = start(first, session)
    url = reverse("exams_attempts:release_device", args=[attempt.pk])
    hr = Client()
    hr.force_login(hr_user)
    # Wagtail's admin answers a refused back-office user with its dashboard.
    refused = hr.post(url)
    assert refused.status_code == 302 and refused.url == reverse("wagtailadmin_home")
    assert official_client.post(url).status_code == 403
    attempt.refresh_from_db()
    assert attempt.device != ""


def test_a_second_browser_takes_over_and_the_first_is_locked(two_browsers, paper):
    first, second = two_browsers
    session = ExamSessionFactory(paper=paper, device_rule=DeviceRule.TAKE_OVER)
    attempt = start(first, session)
    assert save(first, attempt, response="B").status_code == 200
    page = second.get(reverse("exams:attempt", args=[session.pk, attempt.pk]))
    assert page.status_code == 409 and b"take-over" in page.content
    take = second.post(reverse("exams:take_over", args=[session.pk, attempt.pk]))
    assert take.status_code == 302
    page = second.get(reverse("exams:attempt", args=[session.pk, attempt.pk]))
    assert page.status_code == 200
    # The saved answer is on the new device's page, and the first one is locked.
    assert 'value="B" checked' in page.content.decode()
    locked = save(first, attempt, response="C")
    assert locked.status_code == 409 and "continue here instead" in locked.json()["error"]
    assert save(second, attempt, response="D").status_code == 200
    assert kinds(attempt) == ["device_refused", "device_takeover"]


def test_take_over_is_refused_where_the_organizer_must_allow_it(two_browsers, paper):
    first, second = two_browsers
    session = ExamSessionFactory(paper=paper, device_rule=DeviceRule.ASK_ORGANIZER)
    attempt = start(first, session)
    take = second.post(reverse("exams:take_over", args=[session.pk, attempt.pk]))
    assert take.status_code == 302
    attempt.refresh_from_db()
    assert attempt.device == integrity.device_of(first.cookies[integrity.DEVICE_COOKIE].value)


def test_turning_the_rule_off_frees_bound_attempts(two_browsers, paper):
    first, second = two_browsers
    session = ExamSessionFactory(paper=paper, device_rule=DeviceRule.ASK_ORGANIZER)
    attempt = start(first, session)
    assert save(second, attempt).status_code == 409
    session.device_rule = DeviceRule.ANY
    session.save()
    assert save(second, attempt).status_code == 200


def test_the_attempt_list_shows_departures_and_the_log(organizer, official, paper):
    session = ExamSessionFactory(paper=paper, count_leaving=True)
    attempt = engine.start_attempt(session, official)
    integrity.report(attempt, IntegrityKind.LEFT_PAGE)
    admin = Client()
    admin.force_login(organizer)
    listing = admin.get(reverse("exams_attempts:index"))
    assert listing.status_code == 200
    inspect = admin.get(reverse("exams_attempts:inspect", args=[attempt.pk]))
    assert inspect.status_code == 200
    event = IntegrityEvent.objects.get(attempt=attempt)
    assert str(event.get_kind_display()) in inspect.content.decode()
