"""Check-in codes that resist forwarding, each an option per court observation:
location near the venue, single-use codes, and flags on bursts of check-ins from one
client address. Messages are checked in English."""

import datetime
import html
import json
import re

from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import pytest

from exams.observations import services
from exams.observations.models import Attendance, AttendanceChange, ChangeSource, Status
from exams.observations.views import PENDING_CHECKIN_KEY
from tests.factories import OfficialFactory

from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db

VENUE = (39.0256, 117.6512)
NEAR = (39.0260, 117.6512)  # 0.0004° north: 44 m
FAR = (39.0366, 117.6512)  # 0.011° north: 1,223 m


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def _live(**options):
    """An observation that started a minute ago, so a check-in now is on time."""
    now = timezone.now()
    return CourtObservationFactory(
        starts_at=now - datetime.timedelta(minutes=1),
        ends_at=now + datetime.timedelta(hours=2),
        registration_deadline=now - datetime.timedelta(days=1),
        **options,
    )


def _register(observation, *officials):
    for official in officials:
        Attendance.objects.create(
            observation=observation, official=official, status=Status.REGISTERED
        )


def _url(observation, at=None):
    token = services.checkin_token(observation, at or timezone.now())
    return reverse("observations:checkin", args=[token])


def _error(response):
    match = re.search(r"<p data-checkin-error>(.*?)</p>", response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else None


def _status(observation, official):
    return Attendance.objects.get(observation=observation, official=official).status


def _client_for(official):
    client = Client()
    client.force_login(official.user)
    return client


# Location


@pytest.fixture
def located(official):
    observation = _live(venue_latitude=VENUE[0], venue_longitude=VENUE[1], venue_radius_m=100)
    _register(observation, official)
    return observation


def _position(point, accuracy=30):
    return {"latitude": point[0], "longitude": point[1], "accuracy": accuracy}


def test_distance_is_the_great_circle_distance():
    assert round(services.distance_m(0, 0, 1, 0)) == 111195
    assert round(services.distance_m(*VENUE, *NEAR)) == 44
    assert services.distance_m(*VENUE, *VENUE) == 0


def test_location_scan_first_asks_the_phone_without_checking_in(official_client, official, located):
    response = official_client.get(_url(located))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="locate-form"' in content and 'data-auto="1"' in content
    assert "observations/checkin_locate.js" in content
    assert re.search(r"<script(?![^>]*\bsrc=)", content) is None  # CSP: no inline script
    assert _status(located, official) == Status.REGISTERED
    assert official_client.session[PENDING_CHECKIN_KEY]["user"] == str(official.user.pk)


def test_location_within_the_radius_checks_in_and_keeps_distance_and_address(
    official_client, official, located
):
    url = _url(located)
    official_client.get(url)
    scanned = datetime.datetime.fromisoformat(official_client.session[PENDING_CHECKIN_KEY]["at"])
    response = official_client.post(url, _position(NEAR), REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 200
    assert 'data-checkin-status="present"' in response.content.decode()
    attendance = Attendance.objects.get(observation=located, official=official)
    assert attendance.checked_in_at == scanned
    change = AttendanceChange.objects.get(source=ChangeSource.CHECK_IN)
    assert (change.distance_m, change.client_ip) == (44, "203.0.113.5")
    assert PENDING_CHECKIN_KEY not in official_client.session


def test_location_too_far_is_refused_with_the_distance(official_client, official, located):
    url = _url(located)
    official_client.get(url)
    response = official_client.post(url, _position(FAR))
    assert response.status_code == 400
    assert _error(response) == (
        "You are 1.2 km from the venue; check-in counts only within 100 m of it. "
        "Scan the code at the court."
    )
    assert _status(located, official) == Status.REGISTERED


def test_location_refused_by_the_user_explains_how_to_allow_it(official_client, official, located):
    url = _url(located)
    official_client.get(url)
    response = official_client.post(url, {"geo_error": "denied"})
    content = response.content.decode()
    assert response.status_code == 400
    assert _error(response) == (
        "Check-in for this court observation needs your location, and your browser did "
        "not share it. Allow location for this site (tap the lock or location icon in the "
        "address bar, or the browser's site settings), make sure location services are on "
        "for the browser, then try again."
    )
    assert 'data-auto="0"' in content and 'id="locate-retry"' in content
    assert _status(located, official) == Status.REGISTERED


def test_trying_again_after_allowing_location_keeps_the_scan_time(
    official_client, official, located
):
    url = _url(located)
    official_client.get(url)
    scanned = datetime.datetime.fromisoformat(official_client.session[PENDING_CHECKIN_KEY]["at"])
    assert official_client.post(url, {"geo_error": "denied"}).status_code == 400
    response = official_client.post(url, _position(NEAR))
    assert response.status_code == 200
    assert Attendance.objects.get(official=official).checked_in_at == scanned


def test_location_too_imprecise_is_refused(official_client, official, located):
    url = _url(located)
    official_client.get(url)
    response = official_client.post(url, _position(NEAR, accuracy=500))
    assert response.status_code == 400
    assert _error(response) == (
        "Your location is too imprecise (within 500 m; at most 200 m is accepted). "
        "Turn on GPS or precise location and try again."
    )


@pytest.mark.parametrize("data", [{}, {"geo_error": "timeout"}, {"latitude": "north"}])
def test_no_usable_location_is_refused(official_client, official, located, data):
    url = _url(located)
    official_client.get(url)
    response = official_client.post(url, data)
    assert response.status_code == 400
    assert _error(response) == (
        "Your location could not be determined. Turn on location services (GPS) and try again."
    )
    assert _status(located, official) == Status.REGISTERED


def test_location_after_the_sign_in_detour_counts_from_the_scan(client, official, located):
    url = _url(located)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    scanned = datetime.datetime.fromisoformat(client.session[PENDING_CHECKIN_KEY]["at"])
    client.force_login(official.user)
    response = client.get(url)
    assert response.status_code == 200
    assert 'id="locate-form"' in response.content.decode()
    response = client.post(url, _position(NEAR))
    assert response.status_code == 200
    assert Attendance.objects.get(official=official).checked_in_at == scanned


def test_scan_time_is_kept_while_the_phone_answers_but_not_forever(
    official_client, official, located
):
    scanned = timezone.now() - datetime.timedelta(minutes=3)
    token = services.checkin_token(located, scanned)
    url = reverse("observations:checkin", args=[token])
    session = official_client.session
    session[PENDING_CHECKIN_KEY] = {
        "token": token,
        "at": (scanned - datetime.timedelta(minutes=3)).isoformat(),
        "user": str(official.user.pk),
    }
    session.save()
    response = official_client.post(url, _position(NEAR))
    assert response.status_code == 400
    assert _error(response) == "This check-in code has expired. Scan the code on the screen again."
    session = official_client.session
    session[PENDING_CHECKIN_KEY]["at"] = scanned.isoformat()
    session.save()
    response = official_client.post(url, _position(NEAR))
    assert response.status_code == 200
    assert Attendance.objects.get(official=official).checked_in_at == scanned


def test_location_needs_latitude_longitude_and_radius_together():
    observation = CourtObservationFactory.build(venue_latitude=39.0, venue_longitude=117.0)
    with pytest.raises(ValidationError) as error:
        observation.clean()
    assert error.value.message_dict == {
        "venue_radius_m": ["Give the venue's latitude, longitude and a radius, or none of them."]
    }
    assert not observation.checks_location


def test_observation_without_options_checks_in_on_the_scan_as_before(official_client, official):
    observation = _live()
    _register(observation, official)
    response = official_client.get(_url(observation))
    assert response.status_code == 200
    assert 'data-checkin-status="present"' in response.content.decode()
    assert AttendanceChange.objects.get(source=ChangeSource.CHECK_IN).distance_m is None


# Single-use codes


@pytest.fixture
def single_use(official, settings):
    # An hour-long window, so no test crosses a rotation between issuing and scanning.
    settings.XUEFA_CHECKIN_ROTATE_SECONDS = 3600
    observation = _live(single_use_codes=True)
    _register(observation, official)
    return observation


def test_single_use_refuses_a_scan_before_sign_in(client, single_use):
    response = client.get(_url(single_use))
    assert response.status_code == 403
    assert _error(response) == (
        "Codes for this court observation work only for officials who are already signed "
        "in. Please sign in first, then scan the code on the screen again."
    )
    assert "data-sign-in" in response.content.decode()
    assert PENDING_CHECKIN_KEY not in client.session


def test_single_use_code_checks_in_one_official_only(official, single_use):
    colleague = OfficialFactory()
    _register(single_use, colleague)
    url = _url(single_use)
    first = _client_for(official).get(url)
    assert first.status_code == 200
    assert 'data-checkin-status="present"' in first.content.decode()
    second = _client_for(colleague).get(url)
    assert second.status_code == 400
    assert _error(second) == "This code has already been used. Scan the code on the screen again."
    assert _status(single_use, colleague) == Status.REGISTERED
    change = AttendanceChange.objects.get(source=ChangeSource.CHECK_IN)
    assert change.attendance.official == official and change.redeemed_code


def test_two_officials_redeeming_one_code_in_the_service(official, single_use):
    colleague = OfficialFactory()
    _register(single_use, colleague)
    token = services.checkin_token(single_use)
    services.check_in(official, token)
    with pytest.raises(services.ObservationRefused) as refusal:
        services.check_in(colleague, token)
    assert (
        str(refusal.value) == "This code has already been used. Scan the code on the screen again."
    )
    assert _status(single_use, colleague) == Status.REGISTERED


def test_a_refused_scan_does_not_use_up_the_code(official, single_use):
    stranger = OfficialFactory()
    url = _url(single_use)
    response = _client_for(stranger).get(url)
    assert response.status_code == 400
    assert _error(response) == (
        "You are not on the list for this court observation. Please see the organizer."
    )
    assert _client_for(official).get(url).status_code == 200
    assert _status(single_use, official) == Status.PRESENT


def test_single_use_code_is_valid_in_its_own_window_only(official, settings):
    settings.XUEFA_CHECKIN_ROTATE_SECONDS = 30
    now = timezone.now()
    previous = now - datetime.timedelta(seconds=30)
    single, ordinary = _live(single_use_codes=True), _live()
    _register(single, official)
    _register(ordinary, official)
    with pytest.raises(services.ObservationRefused) as refusal:
        services.check_in(official, services.checkin_token(single, previous), now=now)
    assert (
        str(refusal.value) == "This check-in code has expired. Scan the code on the screen again."
    )
    ordinary_token = services.checkin_token(ordinary, previous)
    assert services.check_in(official, ordinary_token, now=now).status == Status.PRESENT


def test_single_use_ignores_a_scan_remembered_before_sign_in(official_client, official, settings):
    settings.XUEFA_CHECKIN_ROTATE_SECONDS = 60
    observation = _live(single_use_codes=True)
    _register(observation, official)
    scanned = timezone.now() - datetime.timedelta(seconds=60)
    token = services.checkin_token(observation, scanned)
    session = official_client.session
    session[PENDING_CHECKIN_KEY] = {"token": token, "at": scanned.isoformat(), "user": None}
    session.save()
    response = official_client.get(reverse("observations:checkin", args=[token]))
    assert response.status_code == 400
    assert _error(response) == "This check-in code has expired. Scan the code on the screen again."
    assert _status(observation, official) == Status.REGISTERED


def test_screen_shows_a_new_code_after_each_redemption(organizer_client, official, single_use):
    colleague = OfficialFactory()
    _register(single_use, colleague)
    data_url = reverse("observation_tools:checkin_token", args=[single_use.pk])
    first = json.loads(organizer_client.get(data_url).content)
    assert first["poll_in"] == min(first["refresh_in"], 2)
    response = _client_for(official).get(reverse("observations:checkin", args=[first["token"]]))
    assert response.status_code == 200
    second = json.loads(organizer_client.get(data_url).content)
    assert second["token"] != first["token"]
    assert services.verify_token(second["token"]) == single_use.pk
    response = _client_for(colleague).get(reverse("observations:checkin", args=[second["token"]]))
    assert response.status_code == 200
    assert _status(single_use, colleague) == Status.PRESENT
    screen = organizer_client.get(
        reverse("observation_tools:checkin_screen", args=[single_use.pk])
    ).content.decode()
    assert "data-single-use" in screen


def test_ordinary_screen_polls_when_the_code_rotates(organizer_client):
    observation = _live()
    data_url = reverse("observation_tools:checkin_token", args=[observation.pk])
    data = json.loads(organizer_client.get(data_url).content)
    assert data["poll_in"] == data["refresh_in"]


# Bursts from one address


def _check_in_from(observation, official, ip, at):
    token = services.checkin_token(observation, at)
    return services.check_in(official, token, now=at, client_ip=ip)


def _flagged(observation):
    addresses = services.check_in_addresses(observation)
    return {
        attendance.official_id: addresses[attendance.pk].burst
        for attendance in observation.attendance.all()
        if attendance.pk in addresses and addresses[attendance.pk].burst
    }


@pytest.fixture
def four():
    officials = OfficialFactory.create_batch(4)
    observation = _live()
    _register(observation, *officials)
    return observation, officials


def _minutes(base, minutes, seconds=0):
    return base + datetime.timedelta(minutes=minutes, seconds=seconds)


def test_three_officials_from_one_address_within_two_minutes_are_flagged(four):
    observation, (a, b, c, d) = four
    base = timezone.now() - datetime.timedelta(minutes=10)
    _check_in_from(observation, a, "198.51.100.7", base)
    _check_in_from(observation, b, "198.51.100.7", _minutes(base, 1))
    _check_in_from(observation, d, "203.0.113.9", _minutes(base, 1))
    _check_in_from(observation, c, "198.51.100.7", _minutes(base, 2))
    assert _flagged(observation) == {a.pk: 3, b.pk: 3, c.pk: 3}


def test_check_ins_spread_over_more_than_two_minutes_are_not_flagged(four):
    observation, (a, b, c, _d) = four
    base = timezone.now() - datetime.timedelta(minutes=10)
    _check_in_from(observation, a, "198.51.100.7", base)
    _check_in_from(observation, b, "198.51.100.7", _minutes(base, 1))
    _check_in_from(observation, c, "198.51.100.7", _minutes(base, 2, 1))
    assert _flagged(observation) == {}


def test_burst_size_and_minutes_are_settings(four, settings):
    observation, (a, b, _c, _d) = four
    base = timezone.now() - datetime.timedelta(minutes=10)
    _check_in_from(observation, a, "198.51.100.7", base)
    _check_in_from(observation, b, "198.51.100.7", _minutes(base, 4))
    assert _flagged(observation) == {}
    settings.XUEFA_CHECKIN_BURST_COUNT = 2
    settings.XUEFA_CHECKIN_BURST_MINUTES = 5
    assert _flagged(observation) == {a.pk: 2, b.pk: 2}


def test_the_venue_network_is_not_flagged(four):
    observation, (a, b, c, _d) = four
    observation.venue_networks = "198.51.100.0/24\n2001:db8::/32\n"
    observation.save()
    base = timezone.now() - datetime.timedelta(minutes=10)
    for minute, official in enumerate((a, b, c)):
        _check_in_from(observation, official, "198.51.100.7", _minutes(base, minute))
    assert _flagged(observation) == {}


def test_venue_networks_must_be_addresses_or_ranges():
    observation = CourtObservationFactory.build(venue_networks="198.51.100.0/24\nvenue wifi")
    with pytest.raises(ValidationError) as error:
        observation.clean()
    assert error.value.message_dict == {
        "venue_networks": ["Enter IP addresses or ranges (CIDR), one per line."]
    }


def test_organizers_attendance_sheet_flags_the_burst(organizer_client, four):
    observation, (a, b, c, _d) = four
    base = timezone.now() - datetime.timedelta(minutes=10)
    for seconds, official in enumerate((a, b, c)):
        _check_in_from(observation, official, "198.51.100.7", _minutes(base, 0, seconds * 20))
    response = organizer_client.get(reverse("observation_tools:sheet", args=[observation.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-bursts="3"' in content
    assert content.count('data-burst="3"') == 3
    assert (
        "3 check-ins are flagged: 3 or more officials checked in from one address within 2 minutes."
    ) in content
    assert "198.51.100.7" in content


def test_sheet_without_bursts_shows_no_warning(organizer_client, four):
    observation, (a, _b, _c, _d) = four
    _check_in_from(observation, a, "198.51.100.7", timezone.now())
    content = organizer_client.get(
        reverse("observation_tools:sheet", args=[observation.pk])
    ).content.decode()
    assert "data-bursts" not in content and "data-burst=" not in content


def test_check_in_records_remote_addr_not_a_forwarded_header(official_client, official):
    observation = _live()
    _register(observation, official)
    response = official_client.get(
        _url(observation), REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.66"
    )
    assert response.status_code == 200
    assert AttendanceChange.objects.get(source=ChangeSource.CHECK_IN).client_ip == "203.0.113.5"


def test_check_in_records_the_address_a_trusted_proxy_saw(official_client, official, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    observation = _live()
    _register(observation, official)
    response = official_client.get(
        _url(observation), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.66"
    )
    assert response.status_code == 200
    change = AttendanceChange.objects.get(source=ChangeSource.CHECK_IN)
    assert change.client_ip == "198.51.100.66"


# The options in the admin form


def test_edit_form_offers_the_three_options(organizer_client):
    observation = _live()
    response = organizer_client.get(
        reverse("wagtailsnippets_observations_courtobservation:edit", args=[observation.pk])
    )
    content = response.content.decode()
    assert response.status_code == 200
    for name in ("venue_latitude", "venue_longitude", "venue_radius_m", "single_use_codes"):
        assert f'name="{name}"' in content
    assert 'name="venue_networks"' in content
    assert "Check-in codes that resist forwarding" in content
