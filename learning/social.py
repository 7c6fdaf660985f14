"""Sign-in with DingTalk, Feishu or WeChat (allauth's providers), off unless
XUEFA_SOCIAL_PROVIDERS names them.

Accounts still come from HR's roster alone: a sign-in through one of these apps never
makes a user. The first time, the app's account is linked to the active roster official
with the same mobile number or staff number; an app account that names nobody, or
more than one official, or an inactive or locked-out account, is refused. WeChat gives
neither number, so an official links it once while signed in (/accounts/3rdparty/).
After sign-in the account rules apply as to any other sign-in: first-login password
change, TOTP for staff, the session limits (learning/middleware.py)."""

import time
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect
from django.urls import include, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from allauth.account import app_settings as account_settings
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal import ratelimit
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers import registry
from allauth.socialaccount.providers.base import AuthProcess

from learning import lockout
from learning.models import Official
from learning.tabular import half_width, normalise_identifier

PROVIDER_NAMES = {
    "dingtalk": _("DingTalk"),
    "feishu": _("Feishu"),
    "weixin": _("WeChat"),
}

# Where each provider's profile holds the mobile number and the staff number, when the
# organisation's app has been granted them: DingTalk's contact/users/me gives `mobile`
# (with its country code in `stateCode`), Feishu's authen/v1/user_info `mobile`
# ("+86…") and `employee_no`; WeChat's sns/userinfo neither.
PROFILE_FIELDS = {
    "dingtalk": {"mobile": "mobile", "country_code": "stateCode"},
    "feishu": {"mobile": "mobile", "staff_number": "employee_no"},
    "weixin": {},
}


def enabled_providers():
    """The provider ids switched on, in the order the setting gives them."""
    return [p for p in settings.XUEFA_SOCIAL_PROVIDERS if p in PROVIDER_NAMES]


def provider_name(provider_id):
    return PROVIDER_NAMES.get(provider_id, provider_id)


def account_urlpatterns():
    """allauth's URLs under /accounts/: sign-in, password, TOTP; and, only for the
    providers switched on, the connections page and each provider's login and
    callback. With none on, exactly the URLs the site had before providers existed."""
    patterns = [
        path("", include("allauth.account.urls")),
        path("2fa/", include("allauth.mfa.urls")),
    ]
    providers = enabled_providers()
    if providers:
        patterns.append(path("3rdparty/", include("allauth.socialaccount.urls")))
        for provider_id in providers:
            package = registry.get_class(provider_id).get_package()
            patterns += import_module(f"{package}.urls").urlpatterns
    return patterns


def login_buttons():
    """(name, login URL) of each provider switched on, for the sign-in page."""
    return [
        {"id": p, "name": provider_name(p), "url": reverse(f"{p}_login")}
        for p in enabled_providers()
    ]


# --- Finding the roster official ------------------------------------------------------


def normalise_mobile(text, country_code=""):
    """An 11-digit mainland mobile number as the roster stores it, or "" when the
    profile's number is not one (another country, a landline, nothing)."""
    digits = "".join(ch for ch in half_width(str(text or "")) if ch not in " -()")
    country_code = str(country_code or "").lstrip("+")
    if country_code and country_code != "86":
        return ""
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("+"):
        return ""
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) == 11 and digits.isdigit() and digits.startswith("1"):
        return digits
    return ""


def profile_identifiers(provider_id, extra_data):
    """(mobile, staff number) from a provider's profile, each "" when absent."""
    fields = PROFILE_FIELDS.get(provider_id, {})
    mobile = ""
    if "mobile" in fields:
        mobile = normalise_mobile(
            extra_data.get(fields["mobile"]), extra_data.get(fields.get("country_code", ""))
        )
    staff_number = ""
    if "staff_number" in fields:
        staff_number = normalise_identifier(str(extra_data.get(fields["staff_number"]) or ""))
    return mobile, staff_number


def roster_user(mobile, staff_number):
    """The user of the one roster official both identifiers lead to, or None: no
    official, two officials sharing the mobile number, or the mobile number and the
    staff number naming different officials are all no match."""
    found = set()
    if mobile:
        by_mobile = set(Official.objects.filter(mobile=mobile).values_list("user_id", flat=True))
        if len(by_mobile) > 1:
            return None
        found |= by_mobile
    if staff_number:
        found |= set(
            Official.objects.filter(staff_number=staff_number).values_list("user_id", flat=True)
        )
    if len(found) != 1:
        return None
    return Official.objects.select_related("user").get(user_id=found.pop()).user


def locked_until(request, user):
    """When the account's sign-in lockout (learning/lockout.py: failed passwords
    counted per account) ends, or None when it is not locked. Reads the counters
    without adding to them."""
    now = time.time()
    key = f"account:{user.pk}"  # the counter lockout.account_keys charges this account
    rates = ratelimit.parse_rates(account_settings.RATE_LIMITS.get(lockout.ACTION))
    for rate in rates:
        if rate.per != "key":
            continue
        cache_key = ratelimit.get_cache_key(
            request, app=lockout.APP, action=lockout.ACTION, rate=rate, key=key
        )
        live = sorted(
            (at for at in cache.get(cache_key, []) if at > now - rate.duration), reverse=True
        )
        if len(live) >= rate.amount:
            return live[rate.amount - 1] + rate.duration
    return None


# --- The adapter ------------------------------------------------------------------------


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Links an app's account to its roster official, refuses everything else."""

    def is_open_for_signup(self, request, sociallogin):
        return False

    def is_auto_signup_allowed(self, request, sociallogin):
        return False

    def list_apps(self, request, provider=None, client_id=None):
        """Only the apps SOCIALACCOUNT_PROVIDERS configures for a provider switched on:
        a SocialApp row in the database enables nothing."""
        enabled = set(enabled_providers())
        return [
            app
            for app in super().list_apps(request, provider=provider, client_id=client_id)
            if app.pk is None and app.provider in enabled
        ]

    def pre_social_login(self, request, sociallogin):
        """Before allauth signs anyone in: an app account already linked signs in its
        user; a new one is linked to the roster official it names, or refused."""
        provider_id = sociallogin.account.provider
        name = provider_name(provider_id)
        if provider_id not in enabled_providers():
            self._refuse(request, gettext("Sign-in with %(app)s is not available.") % {"app": name})
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            return  # a signed-in official links the app to their own account
        user = sociallogin.user if sociallogin.is_existing else None
        if user is None:
            mobile, staff_number = profile_identifiers(provider_id, sociallogin.account.extra_data)
            user = roster_user(mobile, staff_number)
            if user is None:
                self._refuse(request, self._no_match_message(provider_id, name))
        self._check_account(request, user)
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)

    def _check_account(self, request, user):
        if not user.is_active:
            self._refuse(
                request,
                gettext("This account is inactive. Ask HR if you think this is a mistake."),
            )
        until = locked_until(request, user)
        if until is not None:
            self._refuse(request, lockout.lockout_error(until).messages[0])

    def _no_match_message(self, provider_id, name):
        if not any(
            key in PROFILE_FIELDS.get(provider_id, {}) for key in ("mobile", "staff_number")
        ):
            return gettext(
                "Your %(app)s account is not linked to an account here yet. Sign in with "
                "your staff number and password once, then link %(app)s at %(url)s."
            ) % {"app": name, "url": reverse("socialaccount_connections")}
        return gettext(
            "No official on the roster has the mobile number or staff number of this "
            "%(app)s account. Sign in with your staff number and password, or ask HR to "
            "check your details on the roster."
        ) % {"app": name}

    def _refuse(self, request, message):
        messages.error(request, message)
        raise ImmediateHttpResponse(redirect("account_login"))
