"""Organizers' court observation screens in the Wagtail admin, and who may use them."""

import io
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import pytest
from openpyxl import load_workbook

from exams.observations import services
from exams.observations.models import (
    Attendance,
    AttendanceChange,
    ChangeSource,
    CourtObservation,
    Status,
)
from tests.factories import OfficialFactory

from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(observation):
    for _ in range(3):
        services.register(OfficialFactory(), observation)
    return observation


def _refused(response):
    """Wagtail answers a permission refusal inside the admin by sending the user back
    to the admin home with a message; the middleware answers 403 for officials."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


def _urls(observation):
    return {
        "sheet": reverse("observation_tools:sheet", args=[observation.pk]),
        "screen": reverse("observation_tools:checkin_screen", args=[observation.pk]),
        "token": reverse("observation_tools:checkin_token", args=[observation.pk]),
        "attendees": reverse("observation_tools:attendees", args=[observation.pk]),
        "xlsx": reverse("observation_tools:attendees_xlsx", args=[observation.pk]),
    }


def test_official_cannot_open_admin_screens(official_client, listed):
    for url in _urls(listed).values():
        assert official_client.get(url).status_code == 403
    close = reverse("observation_tools:close", args=[listed.pk])
    assert official_client.post(close).status_code == 403
    assert CourtObservation.objects.get(pk=listed.pk).closed_at is None


def test_anonymous_is_sent_to_sign_in(client, listed):
    response = client.get(_urls(listed)["sheet"])
    assert response.status_code == 302


def test_snippet_listing(organizer_client, listed):
    response = organizer_client.get(reverse("wagtailsnippets_observations_courtobservation:list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert listed.title in content and "3 / 30" in content
    assert _urls(listed)["sheet"] in content


def test_organizer_creates_an_observation_with_invitations(organizer_client):
    invitee = OfficialFactory()
    response = organizer_client.post(
        reverse("wagtailsnippets_observations_courtobservation:add"),
        {
            "title": "旁听行政诉讼",
            "court": "滨海新区人民法院",
            "courtroom": "第一审判庭",
            "case_type": "administrative",
            "case_summary": "",
            "starts_at": "2030-05-06 09:00",
            "ends_at": "2030-05-06 11:00",
            "meeting_point": "东门",
            "capacity": "20",
            "credit_minutes": "120",
            "late_after_minutes": "10",
            "checkin_opens_minutes_before": "30",
            "checkin_closes_minutes_after": "15",
            "registration_deadline": "2030-05-01 18:00",
            "open_registration": "on",
            "invited_officials": [str(invitee.pk)],
            "reflection_due_days": "7",
            "attendee_list_fields": ["staff_number", "mobile"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    observation = CourtObservation.objects.get(title="旁听行政诉讼")
    assert observation.attendee_list_fields == ["staff_number", "mobile"]
    assert observation.attendance.get().official == invitee
    assert (observation.checkin_opens_minutes_before, observation.checkin_closes_minutes_after) == (
        30,
        15,
    )


def test_edit_form_explains_the_check_in_window(organizer_client, listed):
    response = organizer_client.get(
        reverse("wagtailsnippets_observations_courtobservation:edit", args=[listed.pk])
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="checkin_opens_minutes_before" value="60"' in content
    assert 'name="checkin_closes_minutes_after" value="0"' in content
    field = CourtObservation._meta.get_field("checkin_opens_minutes_before")
    assert str(field.help_text) in content


def test_sheet_marks_by_hand_with_audit(organizer_client, organizer, listed):
    attendance = listed.attendance.first()
    response = organizer_client.post(
        _urls(listed)["sheet"], {"attendance": attendance.pk, "status": "excused"}
    )
    assert response.status_code == 302
    attendance.refresh_from_db()
    assert attendance.status == Status.EXCUSED
    change = AttendanceChange.objects.get(source=ChangeSource.ORGANIZER)
    assert change.changed_by == organizer and change.old_status == Status.REGISTERED
    page = organizer_client.get(_urls(listed)["sheet"]).content.decode()
    assert organizer.name in page


def test_sheet_refuses_bad_input(organizer_client, listed):
    other = CourtObservationFactory()
    stranger = services.register(OfficialFactory(), other)
    url = _urls(listed)["sheet"]
    assert (
        organizer_client.post(url, {"attendance": stranger.pk, "status": "absent"}).status_code
        == 404
    )
    attendance = listed.attendance.first()
    organizer_client.post(url, {"attendance": attendance.pk, "status": "withdrawn"})
    organizer_client.post(url, {"attendance": "x", "status": "absent"})
    assert not AttendanceChange.objects.filter(source=ChangeSource.ORGANIZER).exists()


def test_sheet_query_count_is_bounded(organizer_client, django_assert_max_num_queries):
    observation = CourtObservationFactory(capacity=100)
    for _ in range(40):
        attendance = services.register(OfficialFactory(), observation)
        services.mark(attendance, Status.PRESENT, by=None)
        services.submit_reflection(Attendance.objects.get(pk=attendance.pk), "观后感")
    with django_assert_max_num_queries(30):
        response = organizer_client.get(_urls(observation)["sheet"])
    assert response.status_code == 200
    assert response.content.decode().count("data-attendance=") == 40


def test_hr_may_view_but_not_change(hr_client, listed):
    urls = _urls(listed)
    assert hr_client.get(urls["sheet"]).status_code == 200
    assert hr_client.get(urls["attendees"]).status_code == 200
    assert hr_client.get(urls["xlsx"]).status_code == 200
    assert _refused(hr_client.get(urls["screen"]))
    assert _refused(hr_client.get(urls["token"]))
    attendance = listed.attendance.first()
    assert _refused(
        hr_client.post(urls["sheet"], {"attendance": attendance.pk, "status": "absent"})
    )
    assert attendance.changes.count() == 1  # only the registration
    assert _refused(hr_client.post(reverse("observation_tools:close", args=[listed.pk])))
    assert CourtObservation.objects.get(pk=listed.pk).closed_at is None
    edit = reverse("wagtailsnippets_observations_courtobservation:edit", args=[listed.pk])
    assert _refused(hr_client.post(edit, {"title": "改名"}))
    assert CourtObservation.objects.get(pk=listed.pk).title == listed.title
    assert (
        hr_client.get(reverse("wagtailsnippets_observations_courtobservation:list")).status_code
        == 200
    )


def test_check_in_screen_shows_a_rotating_qr_code(organizer_client, listed):
    response = organizer_client.get(_urls(listed)["screen"])
    content = response.content.decode()
    assert response.status_code == 200 and "<svg" in content
    data = json.loads(organizer_client.get(_urls(listed)["token"]).content)
    assert data["svg"].startswith("<svg") or "<svg" in data["svg"]
    assert data["url"].endswith(reverse("observations:checkin", args=[data["token"]]))
    assert services.verify_token(data["token"]) == listed.pk
    assert data["expected"] == 3 and data["present"] == 0
    assert 0 < data["refresh_in"] <= services.rotate_seconds()


def test_printable_attendee_list_and_xlsx(organizer_client, listed):
    listed.attendee_list_fields = ["staff_number", "mobile"]
    listed.save()
    withdrawn = listed.attendance.first()
    services.withdraw(withdrawn.official, listed)
    content = organizer_client.get(_urls(listed)["attendees"]).content.decode()
    assert "工号" in content and "手机号码" in content
    assert withdrawn.official.user.name not in content
    response = organizer_client.get(_urls(listed)["xlsx"])
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "姓名", "工号", "手机号码", "签名")
    assert sheet.freeze_panes == "A2"
    assert len(rows) == 3
    names = {row[1] for row in rows[1:]}
    assert withdrawn.official.user.name not in names


def test_close_action(organizer_client, listed):
    response = organizer_client.post(reverse("observation_tools:close", args=[listed.pk]))
    assert response.status_code == 302
    assert set(listed.attendance.values_list("status", flat=True)) == {Status.ABSENT}
    assert CourtObservation.objects.get(pk=listed.pk).closed_at is not None


def test_reflection_file_for_organizers_only(organizer_client, hr_client, listed):
    attendance = services.mark(listed.attendance.first(), Status.PRESENT, by=None)
    reflection = services.submit_reflection(
        Attendance.objects.get(pk=attendance.pk),
        "观后感",
        SimpleUploadedFile("a.txt", b"text", content_type="text/plain"),
    )
    url = reverse("observation_tools:reflection_file", args=[reflection.pk])
    assert organizer_client.get(url).status_code == 200
    sheet = _urls(listed)["sheet"]
    assert "观后感" in organizer_client.get(sheet).content.decode().split("<tbody>")[1]
    # HR sees that a reflection was submitted, not what it says.
    assert _refused(hr_client.get(url))
    hr_sheet = hr_client.get(sheet).content.decode()
    assert "已提交" in hr_sheet and "观后感</p>" not in hr_sheet
    organizer_client.force_login(OfficialFactory().user)
    assert organizer_client.get(url).status_code == 403


def test_edit_form_shows_the_chosen_attendee_list_columns(organizer_client, listed):
    listed.attendee_list_fields = ["mobile"]
    listed.save()
    response = organizer_client.get(
        reverse("wagtailsnippets_observations_courtobservation:edit", args=[listed.pk])
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="attendee_list_fields" value="mobile"' in content
    checked = content.split('value="mobile"')[1].split(">")[0]
    assert "checked" in checked
