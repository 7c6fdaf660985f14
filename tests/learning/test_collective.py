"""Collective study sessions (集体学法): attendance gives credit."""

import datetime

from django.urls import reverse

import pytest

from learning.completion import completion_for
from learning.models import CollectiveStudySession, SessionAttendance
from tests.factories import DepartmentFactory

from .factories import OfficialFactory, SpeakerFactory, make_session

pytestmark = pytest.mark.django_db


def test_attendees_and_departments_are_credited():
    office = DepartmentFactory(name="区政府办公室")
    section = DepartmentFactory(name="秘书科", parent=office)
    elsewhere = DepartmentFactory(name="区统计局")
    in_section = OfficialFactory(department=section)
    in_office = OfficialFactory(department=office)
    picked = OfficialFactory(department=elsewhere)
    absent = OfficialFactory(department=elsewhere)
    session = make_session(
        attendees=[picked], departments=[office], credit_minutes=45, title="学习宪法"
    )
    attended = set(session.attendance.values_list("official_id", flat=True))
    assert attended == {in_section.pk, in_office.pk, picked.pk}
    assert completion_for(picked, 2026).session_seconds == 45 * 60
    assert completion_for(absent, 2026).session_seconds == 0


def test_editing_attendance_removes_and_adds(official):
    other = OfficialFactory()
    session = make_session(attendees=[official])
    session.attendees.set([other])
    session.save()
    assert list(session.attendance.values_list("official_id", flat=True)) == [other.pk]


def test_session_credit_counts_in_its_year(official):
    make_session(attendees=[official], date=datetime.date(2020, 12, 31), credit_minutes=60)
    assert completion_for(official, 2020).session_seconds == 3600
    assert completion_for(official, 2021).session_seconds == 0


def test_organizer_records_a_session_in_the_admin(client, organizer, official):
    client.force_login(organizer)
    speaker = SpeakerFactory(name="陈耀东")
    url = reverse("wagtailsnippets_learning_collectivestudysession:add")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "date": "2026-06-01",
            "meeting": "executive",
            "title": "学习民法典",
            "lecturer": speaker.pk,
            "credit_minutes": "60",
            "attendees": [official.pk],
            "notes": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    session = CollectiveStudySession.objects.get(title="学习民法典")
    assert SessionAttendance.objects.filter(session=session, official=official).exists()


def test_officials_cannot_reach_session_admin(official_client):
    url = reverse("wagtailsnippets_learning_collectivestudysession:list")
    assert official_client.get(url).status_code == 403
