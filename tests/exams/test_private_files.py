"""Reflections (观后感) and finished exports are private: neither has an address under
MEDIA_URL, even on a disk under MEDIA_ROOT as in development, and their own views
refuse everyone else with an exact answer."""

from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

import pytest

from exams.models import ExportJob, ExportStatus
from exams.observations.models import Attendance, Reflection
from tests.factories import OfficialFactory, UserFactory

from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_on_disk(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def client_of(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def login_redirect(response, path, login="/accounts/login/"):
    return response.status_code == 302 and response["Location"] == f"{login}?next={path}"


@pytest.fixture
def reflection(official):
    attendance = Attendance.objects.create(
        observation=CourtObservationFactory(), official=official, status="present"
    )
    return Reflection.objects.create(
        attendance=attendance,
        text="程序正义",
        file=ContentFile(b"%PDF-1.4 reflection", name="reflection.pdf"),
    )


def test_a_reflection_file_goes_to_its_author_and_organizers_only(
    reflection, official, organizer, hr_user, media_on_disk
):
    assert (media_on_disk / reflection.file.name).is_file()
    mine = reverse("observations:reflection_file", args=[reflection.attendance.observation_id])
    tools = reverse("observation_tools:reflection_file", args=[reflection.pk])

    response = client_of(official.user).get(mine)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert client_of(organizer).get(tools).status_code == 200

    assert login_redirect(client_of().get(mine), mine)
    assert login_redirect(client_of().get(tools), tools, login="/admin/login/")
    assert client_of(OfficialFactory().user).get(mine).status_code == 404
    assert client_of(OfficialFactory().user).get(tools).status_code == 403
    # Not even HR reads them: Wagtail sends a back-office user it refuses to the admin
    # home with a message.
    response = client_of(hr_user).get(tools)
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")


def test_a_reflection_file_has_no_address_under_media_url(reflection, official, organizer):
    url = "/media/" + reflection.file.name  # observations/reflections/<uuid>/reflection.pdf
    for user in (None, official.user, organizer, UserFactory(is_superuser=True)):
        assert client_of(user).get(url).status_code == 404


@pytest.fixture
def export(hr_user):
    job = ExportJob.objects.create(
        kind="completion", requested_by=hr_user, status=ExportStatus.DONE, filename="完成情况.xlsx"
    )
    job.file.save("completion.xlsx", ContentFile(b"PK\x03\x04 report"))
    return job


def test_an_export_goes_to_its_requester_only(export, hr_user, media_on_disk):
    assert (media_on_disk / "exports" / export.file.name).is_file()
    url = reverse("exams_exports:download", args=[export.pk])
    response = client_of(hr_user).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert login_redirect(client_of().get(url), url, login="/admin/login/")
    other_hr = OfficialFactory(user=UserFactory(roles=["Official", "HR"])).user
    assert client_of(other_hr).get(url).status_code == 404
    assert client_of(OfficialFactory().user).get(url).status_code == 403


def test_an_export_has_no_address_under_media_url(export, hr_user):
    with pytest.raises(ValueError):
        export.file.url  # noqa: B018
    url = f"/media/exports/{export.file.name}"
    for user in (None, hr_user, UserFactory(is_superuser=True)):
        assert client_of(user).get(url).status_code == 404
