"""Security settings as a visitor meets them: the Content-Security-Policy header, the
admin logout that no GET can trigger, login lockout on every login route and the
password policy."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

from django.contrib.auth import get_user
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"


def directives(response, header="Content-Security-Policy"):
    policy = response[header]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


# Content-Security-Policy ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/healthz", "/"])
def test_public_pages_allow_no_inline_code(client, url):
    csp = directives(client.get(url))
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["connect-src"] == ["'self'"]
    # The screen player plays cached videos from blob: URLs and registers a worker.
    assert csp["media-src"] == ["'self'", "blob:"]
    assert csp["worker-src"] == ["'self'"]
    assert "'unsafe-eval'" not in " ".join(sum(csp.values(), []))


@pytest.mark.django_db
def test_video_embeds_may_frame_only_the_allowed_providers(client, settings):
    csp = directives(client.get("/healthz"))
    assert csp["frame-src"] == settings.XUEFA_EMBED_PROVIDER_FRAMES
    endpoints = {p["endpoint"] for f in settings.WAGTAILEMBEDS_FINDERS for p in f["providers"]}
    assert endpoints == {
        "https://www.youtube.com/oembed",
        "https://www.vimeo.com/api/oembed.{format}",
    }


@pytest.mark.django_db
def test_only_the_wagtail_admin_allows_inline_scripts_and_framing_by_itself(client, superuser):
    client.force_login(superuser)
    response = client.get("/admin/")
    assert response.status_code == 200
    csp = directives(response)
    assert csp["script-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["frame-ancestors"] == ["'self'"]  # page previews
    assert csp["object-src"] == ["'none'"]
    public = directives(client.get("/"))
    assert public["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_screen_player_page_and_worker_carry_the_policy(client):
    from tests.content.factories import ScreenFactory

    screen = ScreenFactory()
    page = client.get(reverse("content:screen_player", args=[screen.token]))
    worker = client.get(reverse("content:screen_worker", args=[screen.token]))
    assert page.status_code == worker.status_code == 200
    assert directives(page)["script-src"] == ["'self'"]
    assert directives(worker)["connect-src"] == ["'self'"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def our_templates():
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(
        path for folder in folders if ".venv" not in folder.parts for path in folder.rglob("*.html")
    )


def test_our_templates_have_no_inline_scripts_or_handlers():
    templates = our_templates()
    assert len(templates) > 30
    offenders = [
        str(path.relative_to(ROOT))
        for path in templates
        if INLINE_SCRIPT.search(path.read_text()) or INLINE_HANDLER.search(path.read_text())
    ]
    assert offenders == []


def test_public_templates_have_no_inline_styles():
    """Admin screens may use style attributes (the admin policy allows them); the
    error page's styles are only cosmetic and it must not depend on anything."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in our_templates()
        if "admin" not in path.parts
        and not path.parts[-2].startswith("wagtail")
        and path.name != "500.html"
        and INLINE_STYLE.search(path.read_text())
    ]
    assert offenders == []


PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "from django.test import Client; from django.core.files.storage import default_storage; "
    "r = Client(SERVER_NAME='xuefa.example.cn').get('/healthz', secure=True); "
    "print(json.dumps({'enforced': r.get('Content-Security-Policy'), "
    "'report_only': r.get('Content-Security-Policy-Report-Only'), "
    "'storage': settings.STORAGES['default']['BACKEND'], "
    "'file_url': default_storage.url('images/a b.png')}))"
)


def probe_production(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("XUEFA_", "MEDIA_"))}
    clean.pop("REDIS_URL", None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "xuefa.settings.production",
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "sqlite:///:memory:",
            "ALLOWED_HOSTS": "xuefa.example.cn",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_enforces_the_policy():
    values = probe_production()
    assert "script-src 'self';" in values["enforced"] + ";"
    assert values["report_only"] is None
    assert values["storage"] == "django.core.files.storage.FileSystemStorage"
    assert values["file_url"] == "/media/images/a%20b.png"  # the app's checked view


def test_production_can_trial_the_policy_report_only():
    values = probe_production(XUEFA_CSP_REPORT_ONLY="true", XUEFA_CSP_REPORT_URI="/csp-report")
    assert values["enforced"] is None
    assert "report-uri /csp-report" in values["report_only"]


def test_production_media_on_object_storage_are_allowed_by_the_policy():
    values = probe_production(
        MEDIA_S3_BUCKET="xuefa-media",
        MEDIA_S3_ENDPOINT_URL="https://oss.example.cn",
        AWS_ACCESS_KEY_ID="key",
        AWS_SECRET_ACCESS_KEY="secret",
    )
    assert values["storage"] == "xuefa.storage.AppServedS3Storage"
    # Files are addressed through the app, which checks who asks, never by the bucket.
    assert values["file_url"] == "/media/images/a%20b.png"
    img_src = re.search(r"img-src ([^;]*)", values["enforced"]).group(1).split()
    assert "https://oss.example.cn" in img_src
    assert "'self'" in img_src
    assert "https://oss.example.cn" in re.search(r"media-src ([^;]*)", values["enforced"]).group(1)


# Admin logout -------------------------------------------------------------------


def session_cookie_deleted(response):
    cookie = response.cookies.get("sessionid")
    return cookie is not None and (cookie.value == "" or cookie["max-age"] == 0)


@pytest.mark.django_db
def test_a_get_to_the_admin_logout_does_not_sign_out(superuser):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    response = client.get("/admin/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_logout")
    assert not session_cookie_deleted(response)  # Wagtail's own view deletes it
    assert get_user(client).is_authenticated
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_does_not_sign_out(superuser):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    response = client.post("/admin/logout/")
    assert response.status_code == 403
    assert not session_cookie_deleted(response)
    assert get_user(client).is_authenticated


@pytest.mark.django_db
def test_the_admin_menu_logout_still_signs_out(superuser):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    page = client.get("/admin/").content.decode()
    assert '"name": "logout"' in page and '"action": "/admin/logout/"' in page  # sidebar
    token = client.cookies["csrftoken"].value
    response = client.post("/admin/logout/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    assert not get_user(client).is_authenticated


@pytest.mark.django_db
def test_allauth_logout_asks_on_get_and_signs_out_on_post(superuser):
    client = Client()
    client.force_login(superuser)
    assert client.get(reverse("account_logout")).status_code == 200
    assert get_user(client).is_authenticated
    client.post(reverse("account_logout"))
    assert not get_user(client).is_authenticated


# Login lockout ------------------------------------------------------------------


def locked_out(response):
    """The sign-in form refused the attempt for the lockout (its message, with the
    time to try again, is checked in tests/learning/test_account_lockout.py)."""
    codes = [e.code for e in response.context["form"].errors.as_data().get("__all__", [])]
    return codes == ["too_many_login_attempts"]


def fail_five_times(client, username):
    for _ in range(5):
        response = client.post(LOGIN, {"login": username, "password": "wrong-password-1"})
        assert response.status_code == 200
        assert not get_user(client).is_authenticated


@pytest.mark.django_db
def test_sixth_attempt_within_five_minutes_is_refused_even_with_the_right_password(client):
    user = UserFactory(username="lockme")
    other = UserFactory(username="notme")
    fail_five_times(client, user.username)
    response = client.post(LOGIN, {"login": user.username, "password": DEFAULT_PASSWORD})
    assert locked_out(response)
    assert not get_user(client).is_authenticated
    # Per account: another official on the same network can still sign in.
    response = Client().post(LOGIN, {"login": other.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_lockout_ends_after_five_minutes(client):
    user = UserFactory(username="lockme")
    fail_five_times(client, user.username)
    real_time = time.time
    with mock.patch("time.time", lambda: real_time() + 301):
        response = client.post(LOGIN, {"login": user.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_wagtail_admin_login_route_checks_no_password_at_all(client):
    """/admin/login/ only leads to allauth's form, so its lockout is the one above:
    a correct password posted there signs nobody in, and after five failures the
    form it leads to refuses the sixth attempt."""
    user = UserFactory(username="admin-route", is_superuser=True, is_staff=True)
    response = client.post("/admin/login/", {"username": user.username, "password": "x" * 12})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    fail_five_times(client, user.username)
    response = client.post(
        "/admin/login/", {"username": user.username, "password": DEFAULT_PASSWORD}, follow=True
    )
    assert not get_user(client).is_authenticated
    response = client.post(LOGIN, {"login": user.username, "password": DEFAULT_PASSWORD})
    assert locked_out(response)
    assert not get_user(client).is_authenticated


# Password policy ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab3$short", "密码长度太短"),
        ("1234567890123", "密码只包含数字"),
        ("password1234", "太常见"),
        ("zhangsanfeng1", "太相似"),
    ],
)
def test_weak_passwords_are_refused_with_a_chinese_reason(password, message):
    user = UserFactory(username="zhangsanfeng", name="张三丰")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert message in " ".join(refused.value.messages)


@pytest.mark.django_db
def test_a_strong_password_passes():
    validate_password("Fa-zhi-xue-xi-2026", UserFactory())


@pytest.mark.django_db
def test_changing_to_a_weak_password_on_the_site_is_refused(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": "12345678901", "password2": "12345678901"},
    )
    assert response.status_code == 200
    assert "密码只包含数字" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
