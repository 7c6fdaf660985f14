from django.db import OperationalError
from django.urls import reverse

import pytest

pytestmark = pytest.mark.django_db


def test_signed_out_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_official_sees_name_and_department(official_client, official):
    response = official_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert official.user.name in html
    assert official.department.name in html
    assert official.staff_number in html


def test_dashboard_is_chinese_by_default(official_client):
    html = official_client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "我的档案" in html or "个人信息" in html


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_database_down(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_english_is_available_from_the_language_switch(official_client, official):
    response = official_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = official_client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert f"Hello, {official.user.name}" in html


def test_dashboard_query_count_is_bounded(official_client, django_assert_max_num_queries):
    # Session, user and profile, then each app's panels (one to three queries each:
    # the briefing sheets to read cost one).
    with django_assert_max_num_queries(19):
        assert official_client.get("/").status_code == 200


def test_the_back_office_button_follows_the_users_groups(client):
    from django.contrib.auth.models import Group

    from learning import roles
    from tests.factories import UserFactory

    user = UserFactory(roles=[roles.OFFICIAL, roles.HR])
    client.force_login(user)
    button = f'class="button" href="{reverse("wagtailadmin_home")}"'
    assert button in client.get("/").text
    user.groups.remove(Group.objects.get(name=roles.HR))
    assert button not in client.get("/").text
