"""An official at the court scans the check-in QR code with a 375 px phone, signs in
on the way, and sees they are marked present."""

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


def test_official_scans_the_code_signs_in_and_is_present(page, live_server, demo_data):
    official = Official.objects.get(user__username="official")
    now = timezone.now()
    observation = CourtObservation(
        title="旁听庭审：扫码签到演示",
        court="滨海新区人民法院",
        starts_at=now + datetime.timedelta(minutes=5),
        ends_at=now + datetime.timedelta(hours=2),
        registration_deadline=now - datetime.timedelta(hours=1),
        open_registration=False,
    )
    observation.save()
    observation.invited_officials.set([official])
    observation.save()
    token = services.checkin_token(observation)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + reverse("observations:checkin", args=[token]))
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=login]", "official")
    page.fill("input[name=password]", "xuefa-demo")
    page.click("button[type=submit]")
    status = page.locator("[data-checkin-status]")
    status.wait_for()
    assert status.get_attribute("data-checkin-status") == "present"
    assert "已签到" in status.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert Attendance.objects.get(observation=observation, official=official).status == "present"


def test_organizer_check_in_screen_refreshes_the_code(page, live_server, demo_data, settings):
    settings.XUEFA_CHECKIN_ROTATE_SECONDS = 2
    observation = CourtObservation.objects.filter(closed_at__isnull=True).first()
    sign_in(page, live_server, "organizer")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(live_server.url + reverse("observation_tools:checkin_screen", args=[observation.pk]))
    qr = page.locator("#qr svg")
    qr.wait_for()
    first = page.locator("#qr").get_attribute("data-token")
    assert services.verify_token(first) == observation.pk
    page.wait_for_function(
        f"() => document.getElementById('qr').dataset.token !== {first!r}", timeout=10_000
    )
    assert page.locator("#qr svg").count() == 1
