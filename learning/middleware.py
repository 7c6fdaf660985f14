"""Account rules applied to every request of a signed-in user."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from .roles import is_back_office

# Paths a user may reach while an account rule still asks something of them.
_ALWAYS_ALLOWED_PREFIXES = ("/static/", "/media/", "/healthz", "/i18n/")


def _allowed(path, url_names):
    if path.startswith(_ALWAYS_ALLOWED_PREFIXES):
        return True
    return any(path == reverse(name) for name in url_names)


class AccountPolicyMiddleware:
    """First-login password change, then (when the setting asks for it) TOTP for
    organizers, HR and superusers, before anything else on the site."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self.enforce(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def enforce(self, request, user):
        if user.must_change_password:
            if not _allowed(request.path, ("account_change_password", "account_logout")):
                return redirect("account_change_password")
            return None
        if settings.XUEFA_MFA_REQUIRED_FOR_STAFF and is_back_office(user):
            from allauth.mfa.models import Authenticator

            if (
                not _allowed(
                    request.path,
                    ("mfa_activate_totp", "account_logout", "account_reauthenticate"),
                )
                and not Authenticator.objects.filter(
                    user=user, type=Authenticator.Type.TOTP
                ).exists()
            ):
                return redirect("mfa_activate_totp")
        return None


class AdminAccessMiddleware:
    """Officials never reach the Wagtail admin: a signed-in user without admin
    access gets 403 rather than Wagtail's redirect back to the login page."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/admin/"

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            request.path.startswith(self.prefix)
            and user is not None
            and user.is_authenticated
            and not user.has_perm("wagtailadmin.access_admin")
            and request.path != reverse("wagtailadmin_logout")
        ):
            raise PermissionDenied
        return self.get_response(request)
