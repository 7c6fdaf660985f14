"""Officials' court observation pages (/observations/): lists, detail, register and
withdraw, QR check-in with sign-in on the way, reflections, and who may see what."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

import pytest

from exams.observations import services
from exams.observations.models import Attendance, Reflection, Status
from exams.observations.views import PENDING_CHECKIN_KEY
from tests.factories import OfficialFactory, UserFactory

from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db


def _checkin_url(observation, at=None):
    token = services.checkin_token(observation, at or timezone.now())
    return reverse("observations:checkin", args=[token])


@pytest.fixture
def live_observation(official):
    """Starting now, so a check-in now counts as on time."""
    now = timezone.now()
    observation = CourtObservationFactory(
        starts_at=now - datetime.timedelta(minutes=1),
        ends_at=now + datetime.timedelta(hours=2),
        registration_deadline=now - datetime.timedelta(days=1),
    )
    Attendance.objects.create(observation=observation, official=official, status="registered")
    return observation


@pytest.mark.parametrize(
    "name,args",
    [
        ("index", []),
        ("detail", [1]),
        ("reflection", [1]),
        ("reflection_file", [1]),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, name, args):
    url = reverse(f"observations:{name}", args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_register_requires_sign_in_and_post(client, official_client, observation):
    url = reverse("observations:register", args=[observation.pk])
    client.logout()
    assert client.post(url).status_code == 302
    assert not Attendance.objects.exists()


def test_non_official_gets_403(client, observation):
    client.force_login(UserFactory())
    assert client.get(reverse("observations:index")).status_code == 403


def test_index_lists_upcoming_and_my_past(official_client, official, django_assert_max_num_queries):
    upcoming = [CourtObservationFactory() for _ in range(5)]
    hidden = CourtObservationFactory(open_registration=False, title="邀请制旁听")
    past = CourtObservationFactory(
        starts_at=timezone.now() - datetime.timedelta(days=10),
        title="已结束的旁听",
    )
    Attendance.objects.create(observation=past, official=official, status=Status.PRESENT)
    for observation in upcoming:
        services.register(OfficialFactory(), observation)
    services.register(official, upcoming[0])
    with django_assert_max_num_queries(12):
        response = official_client.get(reverse("observations:index"))
    content = response.content.decode()
    assert response.status_code == 200
    assert all(o.title in content for o in upcoming)
    assert hidden.title not in content
    assert past.title in content
    assert "已报名" in content


def test_index_query_count_does_not_grow(official_client, official, django_assert_max_num_queries):
    for _ in range(20):
        observation = CourtObservationFactory()
        services.register(official, observation)
        past = CourtObservationFactory(starts_at=timezone.now() - datetime.timedelta(days=30))
        Attendance.objects.create(observation=past, official=official, status=Status.LATE)
    with django_assert_max_num_queries(12):
        assert official_client.get(reverse("observations:index")).status_code == 200


def test_detail_register_and_withdraw(official_client, official, observation):
    detail = reverse("observations:detail", args=[observation.pk])
    assert "报名" in official_client.get(detail).content.decode()
    response = official_client.post(reverse("observations:register", args=[observation.pk]))
    assert response.status_code == 302 and response["Location"] == detail
    assert Attendance.objects.get(official=official).status == Status.REGISTERED
    page = official_client.get(detail).content.decode()
    assert 'data-status="registered"' in page
    official_client.post(reverse("observations:withdraw", args=[observation.pk]))
    assert Attendance.objects.get(official=official).status == Status.WITHDRAWN


def test_full_observation_shows_a_clear_refusal(official_client, official):
    observation = CourtObservationFactory(capacity=1)
    services.register(OfficialFactory(), observation)
    response = official_client.post(
        reverse("observations:register", args=[observation.pk]), follow=True
    )
    assert "抱歉，名额已满。" in response.content.decode()
    assert not Attendance.objects.filter(official=official).exists()


def test_invitation_only_observation_is_404_for_others(official_client):
    observation = CourtObservationFactory(open_registration=False)
    assert (
        official_client.get(reverse("observations:detail", args=[observation.pk])).status_code
        == 404
    )
    response = official_client.post(reverse("observations:register", args=[observation.pk]))
    assert response.status_code == 404


def test_check_in_by_scanning(official_client, official, live_observation):
    response = official_client.get(_checkin_url(live_observation))
    assert response.status_code == 200
    assert 'data-checkin-status="present"' in response.content.decode()
    assert Attendance.objects.get(official=official).status == Status.PRESENT


def test_check_in_signs_in_first_and_keeps_the_scan_time(client, official, live_observation):
    url = _checkin_url(live_observation)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"]
    scanned = client.session[PENDING_CHECKIN_KEY]
    client.force_login(official.user)
    response = client.get(url)
    assert 'data-checkin-status="present"' in response.content.decode()
    attendance = Attendance.objects.get(official=official)
    assert attendance.checked_in_at == datetime.datetime.fromisoformat(scanned["at"])


def test_anonymous_with_forged_token_is_not_asked_to_sign_in(client, live_observation):
    response = client.get(reverse("observations:checkin", args=["1.2:forged"]))
    assert response.status_code == 400
    assert PENDING_CHECKIN_KEY not in client.session


def test_expired_token_shows_a_clear_error(official_client, official, live_observation):
    old = timezone.now() - datetime.timedelta(minutes=10)
    response = official_client.get(_checkin_url(live_observation, old))
    assert response.status_code == 400
    assert "过期" in response.content.decode()
    assert Attendance.objects.get(official=official).status == Status.REGISTERED


def test_check_in_page_fits_a_phone(official_client, live_observation):
    content = official_client.get(_checkin_url(live_observation)).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in content


@pytest.fixture
def attended(official, live_observation):
    attendance = Attendance.objects.get(official=official)
    services.mark(attendance, Status.PRESENT, by=None)
    return Attendance.objects.get(pk=attendance.pk)


def test_reflection_form_saves_text_and_file(official_client, attended):
    url = reverse("observations:reflection", args=[attended.observation_id])
    upload = SimpleUploadedFile("观后感.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = official_client.post(url, {"text": "很有收获", "file": upload})
    assert response.status_code == 302
    reflection = Reflection.objects.get(attendance=attended)
    assert reflection.text == "很有收获" and reflection.file
    download = official_client.get(
        reverse("observations:reflection_file", args=[attended.observation_id])
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"


def test_reflection_form_refuses_a_bad_file(official_client, attended):
    url = reverse("observations:reflection", args=[attended.observation_id])
    upload = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    response = official_client.post(url, {"text": "很有收获", "file": upload})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Reflection.objects.exists()


def test_reflection_refused_for_absentees(official_client, official, live_observation):
    url = reverse("observations:reflection", args=[live_observation.pk])
    response = official_client.post(url, {"text": "没去"}, follow=True)
    assert response.status_code == 200
    assert not Reflection.objects.exists()


def test_other_officials_reflection_is_404(client, attended):
    services.submit_reflection(
        attended,
        "旁听心得：程序正义",
        SimpleUploadedFile("a.txt", b"mine", content_type="text/plain"),
    )
    other = OfficialFactory()
    client.force_login(other.user)
    observation_id = attended.observation_id
    assert client.get(reverse("observations:reflection", args=[observation_id])).status_code == 404
    file_url = reverse("observations:reflection_file", args=[observation_id])
    assert client.get(file_url).status_code == 404
    # Even when on the list, they only reach their own (empty) reflection.
    Attendance.objects.create(observation_id=observation_id, official=other, status="present")
    content = client.get(reverse("observations:reflection", args=[observation_id])).content
    assert "旁听心得：程序正义".encode() not in content
    assert client.get(file_url).status_code == 404
