"""A court observation that checks the venue: the official's phone shares its
position when asked; at the court the check-in confirms, a kilometre away it is
refused with the distance and nothing is recorded."""

import datetime

from django.urls import reverse
from django.utils import timezone

import pytest

from exams.observations import services
from exams.observations.models import Attendance, CourtObservation
from learning.models import Official

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

COURT = (39.0850, 117.2010)


def hearing_with_venue(official):
    now = timezone.now()
    observation = CourtObservation(
        title="旁听庭审：现场签到",
        court="天津市第一中级人民法院",
        starts_at=now + datetime.timedelta(minutes=30),
        ends_at=now + datetime.timedelta(hours=3),
        registration_deadline=now - datetime.timedelta(hours=1),
        open_registration=False,
        venue_latitude=COURT[0],
        venue_longitude=COURT[1],
        venue_radius_m=150,
    )
    observation.save()
    observation.invited_officials.set([official])
    observation.save()
    return observation


def scan_from(browser, live_server, observation, where):
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation={"latitude": where[0], "longitude": where[1], "accuracy": 20},
        permissions=["geolocation"],
    )
    page = context.new_page()
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")
    token = services.checkin_token(observation)
    page.goto(live_server.url + reverse("observations:checkin", args=[token]))
    return page


def test_at_the_court_the_shared_position_checks_in(browser, live_server, demo_data):
    official = Official.objects.get(user__username="official")
    observation = hearing_with_venue(official)
    page = scan_from(browser, live_server, observation, (COURT[0] + 0.0005, COURT[1]))
    page.locator("[data-checkin-status]").wait_for()
    attendance = Attendance.objects.get(observation=observation, official=official)
    assert attendance.checked_in_at is not None
    page.context.close()


def test_a_kilometre_away_is_refused_with_the_distance(browser, live_server, demo_data):
    official = Official.objects.get(user__username="official")
    observation = hearing_with_venue(official)
    page = scan_from(browser, live_server, observation, (COURT[0] + 0.01, COURT[1]))
    error = page.locator("[data-checkin-error]")
    error.wait_for()
    assert "公里" in error.inner_text() and "150 米" in error.inner_text()
    attendance = Attendance.objects.get(observation=observation, official=official)
    assert attendance.checked_in_at is None
    page.context.close()
