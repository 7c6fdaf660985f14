"""Sign-in with DingTalk, Feishu or WeChat (learning/social.py): off by default; when on,
an app's account signs in only the roster official it names by mobile number or staff
number, and never makes a user.

The whole OAuth round trip runs through allauth's provider code: the provider's token
and profile addresses point at a local HTTP server that answers as the provider would
and records what it was asked."""

import importlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from django.conf import settings as django_settings
from django.contrib.auth import get_user
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import clear_url_caches, reverse
from django.utils import translation

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.dingtalk.views import DingTalkOAuth2Adapter
from allauth.socialaccount.providers.feishu.client import FeishuOAuth2Client
from allauth.socialaccount.providers.feishu.views import FeishuOAuth2Adapter
from allauth.socialaccount.providers.weixin.views import WeixinOAuth2Adapter

from learning import crypto, lockout
from learning.models import User
from learning.social import normalise_mobile
from tests.factories import DEFAULT_PASSWORD, OfficialFactory

pytestmark = pytest.mark.django_db

PROVIDERS = ["dingtalk", "feishu", "weixin"]
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read the English msgids (the lead adds the Chinese)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _reload_urls():
    clear_url_caches()
    importlib.reload(sys.modules[django_settings.ROOT_URLCONF])
    clear_url_caches()


@pytest.fixture
def social_on():
    """The three providers switched on, with credentials as the settings give them."""
    configured = {p: {"APP": {"client_id": f"{p}-id", "secret": f"{p}-secret"}} for p in PROVIDERS}
    with override_settings(XUEFA_SOCIAL_PROVIDERS=PROVIDERS, SOCIALACCOUNT_PROVIDERS=configured):
        _reload_urls()
        yield
    _reload_urls()


class ProviderServer:
    """A local stand-in for the providers' APIs: answers each path with the JSON set
    for it and records every request."""

    def __init__(self):
        self.answers = {}
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                path = urlsplit(self.path).path
                server.requests.append((self.command, self.path, body, dict(self.headers)))
                payload = json.dumps(server.answers.get(path, {})).encode()
                self.send_response(200 if path in server.answers else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def paths(self):
        return [urlsplit(path).path for _, path, _, _ in self.requests]


@pytest.fixture
def provider_api(monkeypatch, social_on):
    server = ProviderServer()
    server.thread.start()
    base = server.url
    monkeypatch.setattr(DingTalkOAuth2Adapter, "access_token_url", f"{base}/dingtalk/token")
    monkeypatch.setattr(DingTalkOAuth2Adapter, "profile_url", f"{base}/dingtalk/me")
    monkeypatch.setattr(FeishuOAuth2Client, "app_access_token_url", f"{base}/feishu/app-token")
    monkeypatch.setattr(FeishuOAuth2Adapter, "access_token_url", f"{base}/feishu/token")
    monkeypatch.setattr(FeishuOAuth2Adapter, "user_info_url", f"{base}/feishu/me")
    monkeypatch.setattr(WeixinOAuth2Adapter, "access_token_url", f"{base}/weixin/token")
    monkeypatch.setattr(WeixinOAuth2Adapter, "profile_url", f"{base}/weixin/me")
    server.answers.update(
        {
            "/dingtalk/token": {"accessToken": "dt-token", "refreshToken": "r", "expireIn": 7200},
            "/feishu/app-token": {"code": 0, "app_access_token": "fs-app-token"},
            "/feishu/token": {"code": 0, "data": {"access_token": "fs-token", "expires_in": 7200}},
            "/weixin/token": {
                "access_token": "wx-token",
                "openid": "wx-open-1",
                "expires_in": 7200,
            },
            "/weixin/me": {"openid": "wx-open-1", "nickname": "wx"},
        }
    )
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def dingtalk_profile(mobile, open_id="dt-open-1", state_code="86"):
    return {
        "nick": "张三",
        "openId": open_id,
        "unionId": "u-1",
        "mobile": mobile,
        "stateCode": state_code,
    }


def feishu_profile(mobile="", employee_no="", open_id="fs-open-1"):
    data = {"name": "张三", "open_id": open_id, "mobile": mobile, "employee_no": employee_no}
    return {"code": 0, "data": data}


def sign_in_with(client, provider, data=None):
    """The browser's round trip: the button's POST, the provider's redirect back with
    a code and the state it was given."""
    response = client.post(f"/accounts/{provider}/login/", data or {})
    assert response.status_code == 302
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    code = "authCode" if provider == "dingtalk" else "code"
    return client.get(f"/accounts/{provider}/login/callback/", {code: "the-code", "state": state})


def signed_in_user(client):
    user = get_user(client)
    return user if user.is_authenticated else None


def refusal(response):
    """The message a refused sign-in shows on the sign-in page it leads back to."""
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Off by default -----------------------------------------------------------------


def test_off_by_default_the_login_page_has_no_app_buttons_and_no_provider_urls(client):
    assert django_settings.XUEFA_SOCIAL_PROVIDERS == []
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert b"data-social-provider" not in page.content
    assert b"social-login" not in page.content
    for provider in PROVIDERS:
        assert client.get(f"/accounts/{provider}/login/").status_code == 404
        assert client.post(f"/accounts/{provider}/login/").status_code == 404
    assert client.get("/accounts/3rdparty/").status_code == 404
    assert client.get("/accounts/social/signup/").status_code == 404


# --- On: buttons, and the first sign-in links the roster official -------------------


def test_on_the_login_page_has_a_button_for_each_provider(client, social_on):
    page = client.get(LOGIN).content.decode()
    for provider, name in [("dingtalk", "DingTalk"), ("feishu", "Feishu"), ("weixin", "WeChat")]:
        assert f'action="/accounts/{provider}/login/"' in page
        assert f'data-social-provider="{provider}">Sign in with {name}</button>' in page


def test_only_the_providers_switched_on_are_offered(client, social_on):
    with override_settings(XUEFA_SOCIAL_PROVIDERS=["feishu"]):
        _reload_urls()
        page = client.get(LOGIN).content.decode()
        assert 'data-social-provider="feishu"' in page
        assert 'data-social-provider="dingtalk"' not in page
        assert client.post("/accounts/dingtalk/login/").status_code == 404
        assert client.post("/accounts/feishu/login/").status_code == 302
    _reload_urls()


def test_dingtalk_account_with_the_roster_mobile_links_and_signs_in(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    users_before = User.objects.count()
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")

    response = sign_in_with(client, "dingtalk")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user(client) == official.user
    account = SocialAccount.objects.get(provider="dingtalk")
    assert (account.uid, account.user) == ("dt-open-1", official.user)
    assert User.objects.count() == users_before
    # allauth's real client spoke to the provider: the code for a token, then the profile.
    assert provider_api.paths() == ["/dingtalk/token", "/dingtalk/me"]
    assert json.loads(provider_api.requests[0][2])["code"] == "the-code"
    assert provider_api.requests[1][3]["x-acs-dingtalk-access-token"] == "dt-token"
    assert client.get("/").status_code == 200


def test_a_linked_account_signs_in_again_without_looking_up_the_roster(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")
    sign_in_with(client, "dingtalk")
    client.logout()
    # The official's roster mobile changed since; the link made at first sign-in holds.
    official.mobile = "13700000000"
    official.save()

    response = sign_in_with(client, "dingtalk")

    assert response["Location"] == "/"
    assert signed_in_user(client) == official.user
    assert SocialAccount.objects.count() == 1


def test_the_page_asked_for_is_where_an_app_sign_in_lands(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")
    page = client.get(LOGIN, {"next": "/exams/"}).content.decode()
    assert page.count('name="next" value="/exams/"') == 4  # the password form's and each app's

    response = sign_in_with(client, "dingtalk", {"next": "/exams/"})

    assert response["Location"] == "/exams/"
    assert signed_in_user(client) == official.user


def test_feishu_account_with_the_roster_staff_number_links(client, provider_api):
    official = OfficialFactory(staff_number="BH1001", mobile="")
    provider_api.answers["/feishu/me"] = feishu_profile(employee_no="bh 1001")

    response = sign_in_with(client, "feishu")

    assert response["Location"] == "/"
    assert signed_in_user(client) == official.user
    assert SocialAccount.objects.get(provider="feishu").user == official.user
    assert provider_api.paths() == ["/feishu/app-token", "/feishu/token", "/feishu/me"]


def test_feishu_mobile_with_country_code_matches_the_roster(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    provider_api.answers["/feishu/me"] = feishu_profile(mobile="+8613912345678")

    sign_in_with(client, "feishu")

    assert signed_in_user(client) == official.user


@pytest.mark.skipif(not crypto.sm4_available(), reason="no SM4-GCM in this OpenSSL")
@override_settings(
    XUEFA_SM_CRYPTO=True, XUEFA_SM4_KEY="k1:" + "01" * 16, XUEFA_SM3_DIGEST_KEY="02" * 32
)
def test_a_sealed_mobile_is_found_through_its_digest(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    stored = type(official).objects.filter(pk=official.pk).values_list("mobile__stored", flat=True)
    assert stored.get() != "13912345678"
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")

    sign_in_with(client, "dingtalk")

    assert signed_in_user(client) == official.user


# --- Refusals: nobody is made, nobody signs in ---------------------------------------


def test_no_roster_match_is_refused_and_no_user_is_made(client, provider_api):
    OfficialFactory(mobile="13912345678", staff_number="BH1001")
    users_before = User.objects.count()
    provider_api.answers["/feishu/me"] = feishu_profile(mobile="+8613000000000", employee_no="X9")

    response = sign_in_with(client, "feishu")

    assert refusal(response) == [
        "No official on the roster has the mobile number or staff number of this Feishu "
        "account. Sign in with your staff number and password, or ask HR to check your "
        "details on the roster."
    ]
    assert signed_in_user(client) is None
    assert User.objects.count() == users_before
    assert not SocialAccount.objects.exists()


def test_mobile_and_staff_number_naming_different_officials_is_refused(client, provider_api):
    OfficialFactory(mobile="13912345678")
    OfficialFactory(staff_number="BH1001")
    provider_api.answers["/feishu/me"] = feishu_profile(mobile="13912345678", employee_no="BH1001")

    response = sign_in_with(client, "feishu")

    assert refusal(response)[0].startswith("No official on the roster")
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()


def test_a_foreign_mobile_number_matches_nobody(client, provider_api):
    OfficialFactory(mobile="13912345678")
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678", state_code="852")

    response = sign_in_with(client, "dingtalk")

    assert refusal(response)[0].startswith("No official on the roster")
    assert signed_in_user(client) is None


def test_an_inactive_official_is_refused(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    official.user.is_active = False
    official.user.save()
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")

    response = sign_in_with(client, "dingtalk")

    assert refusal(response) == ["This account is inactive. Ask HR if you think this is a mistake."]
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()


def test_a_linked_official_who_left_is_refused(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")
    sign_in_with(client, "dingtalk")
    client.logout()
    official.user.is_active = False
    official.user.save()

    response = sign_in_with(client, "dingtalk")

    assert refusal(response)[0].startswith("This account is inactive.")
    assert signed_in_user(client) is None


def test_an_account_locked_by_failed_passwords_is_refused(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    for _ in range(5):
        client.post(LOGIN, {"login": official.user.username, "password": "wrong-password"})
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")

    response = sign_in_with(client, "dingtalk")

    [message] = refusal(response)
    assert message.startswith("Too many failed sign-in attempts. Try again at")
    assert signed_in_user(client) is None
    lockout.clear_accounts(response.wsgi_request, official.user.username)


def test_wechat_gives_no_number_so_a_first_sign_in_is_refused(client, provider_api):
    OfficialFactory()
    users_before = User.objects.count()

    response = sign_in_with(client, "weixin")

    assert refusal(response) == [
        "Your WeChat account is not linked to an account here yet. Sign in with your staff "
        "number and password once, then link WeChat at /accounts/3rdparty/."
    ]
    assert User.objects.count() == users_before


def test_a_signed_in_official_links_wechat_then_signs_in_with_it(client, provider_api):
    official = OfficialFactory()
    client.force_login(official.user)
    assert client.get("/accounts/3rdparty/").status_code == 200

    response = client.post("/accounts/weixin/login/", {"process": "connect"})
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    client.get("/accounts/weixin/login/callback/", {"code": "c", "state": state})
    assert SocialAccount.objects.get(provider="weixin").user == official.user
    client.logout()

    response = sign_in_with(client, "weixin")

    assert response["Location"] == "/"
    assert signed_in_user(client) == official.user


# --- The account rules still apply -----------------------------------------------------


def test_first_login_password_change_still_applies(client, provider_api):
    official = OfficialFactory(mobile="13912345678", user__must_change_password=True)
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")

    sign_in_with(client, "dingtalk")

    assert signed_in_user(client) == official.user
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/"


def test_an_official_with_totp_is_asked_for_the_code_after_an_app_sign_in(client, provider_api):
    official = OfficialFactory(mobile="13912345678")
    TOTP.activate(official.user, generate_totp_secret())
    provider_api.answers["/dingtalk/me"] = dingtalk_profile("13912345678")

    response = sign_in_with(client, "dingtalk")

    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user(client) is None


def test_password_sign_in_is_unchanged_when_on(client, social_on):
    official = OfficialFactory()
    response = client.post(LOGIN, {"login": official.user.username, "password": DEFAULT_PASSWORD})
    assert response["Location"] == "/"
    assert signed_in_user(client) == official.user


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("13912345678", "", "13912345678"),
        ("+86 139-1234-5678", "", "13912345678"),
        ("8613912345678", "", "13912345678"),
        ("１３９１２３４５６７８", "86", "13912345678"),
        ("13912345678", "+852", ""),
        ("+85291234567", "", ""),
        ("010-12345678", "", ""),
        (None, "", ""),
    ],
)
def test_normalise_mobile(text, country, expected):
    assert normalise_mobile(text, country) == expected
