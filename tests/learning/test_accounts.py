from django.contrib.auth import get_user
from django.urls import reverse

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from learning.models import User
from tests.factories import DEFAULT_PASSWORD, OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def login(client, login, password=DEFAULT_PASSWORD):
    return client.post(LOGIN, {"login": login, "password": password})


def signed_in(client):
    return get_user(client).is_authenticated


def test_login_by_username_goes_to_dashboard(client, official):
    response = login(client, official.user.username)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_by_email(client, official):
    response = login(client, official.user.email.upper())
    assert response.status_code == 302
    assert signed_in(client)


def test_wrong_password_is_refused_in_chinese(client, official):
    response = login(client, official.user.username, "not-the-password")
    assert response.status_code == 200
    assert not signed_in(client)
    assert "不正确" in response.content.decode()


def test_inactive_account_cannot_sign_in(client, official):
    official.user.is_active = False
    official.user.save()
    login(client, official.user.username)
    assert not signed_in(client)


def test_logout(official_client):
    response = official_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not signed_in(official_client)
    assert official_client.get("/").status_code == 302


def test_logout_by_get_does_not_sign_out(official_client):
    official_client.get("/accounts/logout/")
    assert signed_in(official_client)


def test_signup_is_closed(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "intruder", "email": "x@example.cn", "password1": "Zz9!long-enough"},
    )
    assert not User.objects.filter(username="intruder").exists()
    assert response.status_code in (200, 403)
    assert "注册" in response.content.decode()


def test_password_change(official_client, official):
    response = official_client.post(
        reverse("account_change_password"),
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "Yet-another-2026-pass",
            "password2": "Yet-another-2026-pass",
        },
    )
    assert response.status_code == 302
    official.user.refresh_from_db()
    assert official.user.check_password("Yet-another-2026-pass")


def test_weak_new_password_is_refused(official_client, official):
    response = official_client.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    official.user.refresh_from_db()
    assert official.user.check_password(DEFAULT_PASSWORD)


# First sign-in ------------------------------------------------------------


@pytest.fixture
def newcomer(db):
    official = OfficialFactory()
    official.user.must_change_password = True
    official.user.save()
    return official.user


def test_first_login_forces_password_change(client, newcomer):
    login(client, newcomer.username)
    for path in ("/", "/admin/", "/accounts/email/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == reverse("account_change_password")
    assert client.get(reverse("account_change_password")).status_code == 200

    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "My-own-choice-2026",
            "password2": "My-own-choice-2026",
        },
    )
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert not newcomer.must_change_password
    assert client.get("/").status_code == 200


def test_newcomer_can_still_sign_out(client, newcomer):
    login(client, newcomer.username)
    client.post("/accounts/logout/")
    assert not signed_in(client)


def test_user_created_by_an_administrator_must_change_password(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("wagtailusers_users:add"),
        {
            "username": "newofficial",
            "email": "new@example.cn",
            "name": "新同志",
            "password1": "Admin-chosen-2026",
            "password2": "Admin-chosen-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newofficial")
    assert user.name == "新同志"
    assert user.must_change_password


def test_password_reset_by_an_administrator_must_be_changed(client, superuser, official):
    client.force_login(superuser)
    response = client.post(
        reverse("wagtailusers_users:edit", args=[official.user.pk]),
        {
            "username": official.user.username,
            "email": official.user.email,
            "name": official.user.name,
            "password1": "Admin-reset-2026",
            "password2": "Admin-reset-2026",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    official.user.refresh_from_db()
    assert official.user.must_change_password


# Rate limits ----------------------------------------------------------------


def test_repeated_failures_lock_the_account_for_a_while(client, official):
    for _ in range(5):
        login(client, official.user.username, "wrong-password")
    response = login(client, official.user.username)
    assert not signed_in(client)
    codes = [e.code for e in response.context["form"].errors.as_data()["__all__"]]
    assert codes == ["too_many_login_attempts"]


def test_wagtail_admin_login_is_not_a_way_around(client, official):
    for _ in range(5):
        login(client, official.user.username, "wrong-password")
    response = client.post(
        "/admin/login/", {"username": official.user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_wagtail_private_page_login_is_not_a_way_around(client, official):
    response = client.post(
        "/_util/login/", {"username": official.user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_admin_login_page_leads_to_allauth(client):
    response = client.get("/admin/login/?next=/admin/pages/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/pages/"


# Two-factor authentication -----------------------------------------------------


def _totp_code(secret):
    import time

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_staff_must_set_up_totp_when_required(client, organizer, settings):
    settings.XUEFA_MFA_REQUIRED_FOR_STAFF = True
    login(client, organizer.username)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")

    # allauth asks for the password again before adding a second factor.
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": _totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=organizer, type=Authenticator.Type.TOTP).exists()
    assert client.get("/admin/").status_code == 200


def test_officials_are_not_asked_for_totp(official_client, settings):
    settings.XUEFA_MFA_REQUIRED_FOR_STAFF = True
    assert official_client.get("/").status_code == 200


def test_totp_not_required_when_setting_off(client, organizer, settings):
    settings.XUEFA_MFA_REQUIRED_FOR_STAFF = False
    client.force_login(organizer)
    assert client.get("/admin/").status_code == 200


def test_sign_in_with_totp_asks_for_the_code(client, settings):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    response = login(client, user.username)
    assert response["Location"] == reverse("mfa_authenticate")
    assert not signed_in(client)
    client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert not signed_in(client)
    client.post(reverse("mfa_authenticate"), {"code": _totp_code(secret)})
    assert signed_in(client)


def test_login_page_offers_no_signup(client):
    html = client.get(LOGIN).content.decode()
    assert "/accounts/signup/" not in html
    assert "工号或电子邮箱" in html
