"""An official's phone scans a court-observation code outside the check-in window and
is told when check-in opens, with nothing recorded; inside the window the
confirmation shows the date and the time of the check-in."""

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


def invite(official, starts_in):
    now = timezone.now()
    observation = CourtObservation(
        title="旁听庭审：签到时段",
        court="滨海新区人民法院",
        starts_at=now + starts_in,
        ends_at=now + starts_in + datetime.timedelta(hours=2),
        registration_deadline=now - datetime.timedelta(hours=1),
        open_registration=False,
    )
    observation.save()
    observation.invited_officials.set([official])
    observation.save()
    return observation


def scan(page, live_server, observation):
    token = services.checkin_token(observation)
    page.goto(live_server.url + reverse("observations:checkin", args=[token]))


def test_a_scan_ten_days_early_is_refused_with_the_opening_time(page, live_server, demo_data):
    official = Official.objects.get(user__username="official")
    observation = invite(official, datetime.timedelta(days=10))
    opens = timezone.localtime(observation.starts_at - datetime.timedelta(minutes=60))
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")

    scan(page, live_server, observation)

    error = page.locator("[data-checkin-error]")
    error.wait_for()
    assert "签到尚未开始" in error.inner_text()
    assert f"{opens.year}年{opens.month}月{opens.day}日" in error.inner_text()
    assert page.locator("[data-checkin-status]").count() == 0
    attendance = Attendance.objects.get(observation=observation, official=official)
    assert attendance.checked_in_at is None and attendance.status == "invited"


def test_a_scan_inside_the_window_confirms_with_date_and_time(page, live_server, demo_data):
    official = Official.objects.get(user__username="official")
    observation = invite(official, datetime.timedelta(minutes=30))
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")

    scan(page, live_server, observation)

    page.locator("[data-checkin-status]").wait_for()
    checked_in = Attendance.objects.get(observation=observation, official=official).checked_in_at
    local = timezone.localtime(checked_in)
    text = page.locator("[data-checked-in-at]").inner_text()
    assert f"{local.year}年{local.month}月{local.day}日" in text
    assert f"{local:%H:%M}" in text
