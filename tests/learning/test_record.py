"""My study record at /me/record/ and the dashboard's study panel."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

import pytest

from learning.models import StudyRecord
from tests.factories import UserFactory

from .factories import OfficialFactory, complete, make_lecture, make_plan, make_session

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year


def now_in_year():
    return timezone.now()


def test_record_url():
    assert reverse("learning:record") == "/me/record/"


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/me/record/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_non_official_is_refused(client):
    client.force_login(UserFactory())
    assert client.get("/me/record/").status_code == 403


def test_record_shows_this_years_plan(official_client, official, index):
    done = make_lecture("宪法学习", parent=index, credit_minutes=60)
    missing = make_lecture("监察法学习", parent=index)
    make_plan(THIS_YEAR, lectures=[done, missing], required_credit_hours=Decimal("2"))
    complete(official, done, when=now_in_year())
    make_session(
        attendees=[official], date=timezone.localdate(), credit_minutes=30, title="学习统计法"
    )
    response = official_client.get("/me/record/")
    assert response.status_code == 200
    completion = response.context["completion"]
    assert [i.label for i in completion.done] == ["宪法学习"]
    assert [i.label for i in completion.missing] == ["监察法学习"]
    assert completion.credited_seconds == 90 * 60
    text = response.text
    assert "宪法学习" in text and "监察法学习" in text and "学习统计法" in text
    assert "learning/learning.css" in text  # carries the print stylesheet


def test_record_shows_only_my_own_study(official_client, official, index):
    lecture = make_lecture("安全生产法", parent=index)
    someone = OfficialFactory()
    complete(someone, lecture, when=now_in_year())
    response = official_client.get("/me/record/")
    assert "安全生产法" not in response.text
    # There is no way to ask for someone else's record.
    response = official_client.get("/me/record/", {"official": someone.pk})
    assert "安全生产法" not in response.text


def test_history_by_year(official_client, official, index):
    lecture = make_lecture("民法典", parent=index, credit_minutes=60)
    complete(official, lecture, when=datetime.datetime(2020, 6, 1, tzinfo=datetime.UTC))
    make_session(attendees=[official], date=datetime.date(2020, 3, 1), credit_minutes=30)
    response = official_client.get("/me/record/")
    history = response.context["history"]
    assert history[0]["year"] == 2020 and history[0]["hours"] == 1.5
    assert history[0]["completed"] == 1 and history[0]["sessions"] == 1
    past = official_client.get("/me/record/", {"year": "2020"})
    assert past.context["year"] == 2020 and "民法典" in past.text


@pytest.mark.parametrize("year", ["abc", "1999", "9999"])
def test_bad_year_is_not_found(official_client, year):
    assert official_client.get("/me/record/", {"year": year}).status_code == 404


def test_dashboard_panel(official_client, official, index):
    required = make_lecture("行政许可法", parent=index)
    started = make_lecture("土地管理法", parent=index)
    make_plan(THIS_YEAR, lectures=[required], required_credit_hours=Decimal("10"))
    when = timezone.now()
    StudyRecord.objects.create(
        official=official,
        lecture=started,
        credited_seconds=120,
        started_at=when,
        last_heartbeat_at=when,
    )
    response = official_client.get("/")
    text = response.text
    assert response.status_code == 200
    assert "行政许可法" in text  # required, not done
    assert "土地管理法" in text  # in progress / newest
    assert reverse("learning:record") in text


def test_dashboard_panel_hidden_for_non_officials(client):
    client.force_login(UserFactory())
    response = client.get("/")
    assert "study-panel" not in response.text
