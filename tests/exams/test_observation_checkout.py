"""Court observations that use check-out: the second scan at the end records when the
official left, and the hours are credited then; without it, nothing is credited; an
organizer's mark vouches for the whole hearing and credits at its end."""

import datetime

from django.urls import reverse
from django.utils import timezone

import pytest

from exams.observations import services
from exams.observations.models import Attendance, AttendanceChange, CourtObservation

from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
END = START + datetime.timedelta(hours=3)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def hearing(official):
    observation = CourtObservationFactory(
        starts_at=START,
        ends_at=END,
        registration_deadline=START - datetime.timedelta(days=1),
        uses_checkout=True,
    )
    Attendance.objects.create(observation=observation, official=official, status="invited")
    return observation


def scan(official, observation, at):
    token = services.checkin_token(observation, now=at)
    return services.check_in(official, token, now=at)


def credited(at):
    return set(Attendance.objects.credited(at).values_list("official_id", flat=True))


def test_the_second_scan_at_the_end_checks_out_and_credits_then(official, hearing):
    scan(official, hearing, START - datetime.timedelta(minutes=5))
    assert credited(END + datetime.timedelta(hours=5)) == set()  # no check-out, no credit
    leaving = END - datetime.timedelta(minutes=10)
    attendance = scan(official, hearing, leaving)
    assert attendance.checked_out_at == leaving
    assert credited(leaving - datetime.timedelta(seconds=1)) == set()
    assert credited(leaving) == {official.pk}
    change = AttendanceChange.objects.filter(attendance=attendance).order_by("pk").last()
    assert change.source == "check_out"


def test_a_scan_during_the_hearing_does_not_check_out(official, hearing):
    scan(official, hearing, START)
    attendance = scan(official, hearing, END - datetime.timedelta(minutes=31))
    assert attendance.checked_out_at is None


def test_the_first_check_out_counts(official, hearing):
    scan(official, hearing, START)
    first = END - datetime.timedelta(minutes=20)
    scan(official, hearing, first)
    attendance = scan(official, hearing, END + datetime.timedelta(minutes=20))
    assert attendance.checked_out_at == first


def test_check_out_closes_an_hour_after_the_end(official, hearing):
    scan(official, hearing, START)
    with pytest.raises(services.ObservationRefused, match="closed"):
        scan(official, hearing, END + datetime.timedelta(minutes=61))


def test_arriving_after_check_in_closes_is_refused_even_in_the_check_out_window(official, hearing):
    with pytest.raises(services.ObservationRefused, match="Check-in closed"):
        scan(official, hearing, END + datetime.timedelta(minutes=5))
    assert Attendance.objects.get(observation=hearing).checked_in_at is None


def test_an_organizers_mark_vouches_for_the_hearing_and_credits_at_its_end(
    official, hearing, organizer
):
    attendance = Attendance.objects.get(observation=hearing, official=official)
    services.mark(attendance, "present", organizer, now=START)
    attendance.refresh_from_db()
    assert attendance.checked_out_at == END
    assert credited(END - datetime.timedelta(seconds=1)) == set()
    assert credited(END) == {official.pk}


def test_without_check_out_credit_comes_at_the_end_as_before(official, hearing):
    CourtObservation.objects.filter(pk=hearing.pk).update(uses_checkout=False)
    hearing.refresh_from_db()
    scan(official, hearing, START)
    assert credited(END - datetime.timedelta(seconds=1)) == set()
    assert credited(END) == {official.pk}


def test_the_confirmation_says_to_scan_again_and_then_shows_the_check_out(
    official_client, official, hearing, monkeypatch
):
    now = {"at": START}
    monkeypatch.setattr(timezone, "now", lambda: now["at"])
    token = services.checkin_token(hearing, now=START)
    page = official_client.get(reverse("observations:checkin", args=[token]))
    assert page.status_code == 200 and "data-check-out-due" in page.content.decode()
    now["at"] = END - datetime.timedelta(minutes=5)
    token = services.checkin_token(hearing, now=now["at"])
    page = official_client.get(reverse("observations:checkin", args=[token])).content.decode()
    assert "data-checked-out-at" in page and "Your hours are credited" in page
