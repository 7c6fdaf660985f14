from django.contrib.auth import get_user

import pytest

from learning import middleware

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = 1_800_000_000

        def advance(self, seconds):
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(middleware.time, "time", lambda: clock.now)
    return clock


def test_active_session_survives(official_client, clock, settings):
    settings.XUEFA_SESSION_IDLE_SECONDS = 1800
    for _ in range(5):
        assert official_client.get("/").status_code == 200
        clock.advance(1500)
    assert get_user(official_client).is_authenticated


def test_idle_session_ends(official_client, clock, settings):
    settings.XUEFA_SESSION_IDLE_SECONDS = 1800
    official_client.get("/")
    clock.advance(1801)
    response = official_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not get_user(official_client).is_authenticated


def test_absolute_limit_ends_even_an_active_session(official_client, clock, settings):
    settings.XUEFA_SESSION_IDLE_SECONDS = 1800
    settings.XUEFA_SESSION_ABSOLUTE_SECONDS = 4 * 3600
    official_client.get("/")
    for _ in range(10):
        clock.advance(1500)
        official_client.get("/")
    assert not get_user(official_client).is_authenticated


def test_expired_json_request_gets_401_not_a_login_page(official_client, clock, settings):
    settings.XUEFA_SESSION_IDLE_SECONDS = 60
    official_client.get("/")
    clock.advance(61)
    response = official_client.get("/", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["signed_out"] is True
    assert "会话已过期" in response.json()["error"]


def test_activity_is_written_at_most_every_touch_interval(official_client, clock, settings):
    settings.XUEFA_SESSION_TOUCH_SECONDS = 300
    official_client.get("/")
    first = official_client.session[middleware.SessionTimeoutMiddleware.LAST_SEEN]
    for _ in range(9):  # an exam autosave every 30 s writes nothing for 4.5 minutes
        clock.advance(30)
        official_client.get("/")
        assert official_client.session[middleware.SessionTimeoutMiddleware.LAST_SEEN] == first
    clock.advance(31)
    official_client.get("/")
    assert official_client.session[middleware.SessionTimeoutMiddleware.LAST_SEEN] == first + 301


def test_a_form_posted_after_the_idle_limit_leads_back_to_its_page(
    official_client, clock, settings
):
    """Signing in again returns to the page the form was on (an exam's), not to
    the form's own address, which may answer POST alone."""
    settings.XUEFA_SESSION_IDLE_SECONDS = 60
    official_client.get("/")
    clock.advance(61)
    response = official_client.post(
        "/exams/1/attempts/2/submit/",
        {"q1": "A"},
        headers={"referer": "http://testserver/exams/1/attempts/2/?x=1"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/exams/1/attempts/2/%3Fx%3D1"


@pytest.mark.parametrize("referer", ["https://elsewhere.example/page/", "", "javascript:alert(1)"])
def test_a_form_posted_after_the_idle_limit_from_elsewhere_leads_home(
    official_client, clock, settings, referer
):
    settings.XUEFA_SESSION_IDLE_SECONDS = 60
    official_client.get("/")
    clock.advance(61)
    response = official_client.post("/exams/1/attempts/2/submit/", headers={"referer": referer})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
