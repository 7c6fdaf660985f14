"""Account rules applied to every request of a signed-in user."""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from wagtail.views import serve as wagtail_serve

from allauth.mfa.models import Authenticator

from . import fast
from .fast import back_office, read_ahead, restrictions
from .fast.routing import find_site, lecture_route, site_keys
from .fast.shells import shell_cache_keys
from .models import LecturePage
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
        if (
            settings.XUEFA_MFA_REQUIRED_FOR_STAFF
            and is_back_office(user)
            and not _allowed(
                request.path, ("mfa_activate_totp", "account_logout", "account_reauthenticate")
            )
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
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


class SessionTimeoutMiddleware:
    """Idle and absolute limits on a signed-in session. The last-activity time is
    written at most every XUEFA_SESSION_TOUCH_SECONDS (5 minutes), so busy pages
    (exam autosave every 30 s, study heartbeats) do not write the session on every
    request; the idle limit is therefore exact to within that interval, erring on
    the early side."""

    STARTED = "xuefa_session_started"
    LAST_SEEN = "xuefa_session_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self.check(request)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request):
        now = int(time.time())
        session = request.session
        started = session.get(self.STARTED)
        last_seen = session.get(self.LAST_SEEN, started)
        if started is None:
            session[self.STARTED] = session[self.LAST_SEEN] = now
            return None
        idle = now - last_seen > settings.XUEFA_SESSION_IDLE_SECONDS
        too_old = now - started > settings.XUEFA_SESSION_ABSOLUTE_SECONDS
        if idle or too_old:
            logout(request)
            message = _("Your session has expired. Please sign in again.")
            if _wants_json(request):
                return JsonResponse({"error": message, "signed_out": True}, status=401)
            messages.info(request, message)
            return redirect_to_login(_where_to_return(request))
        if now - last_seen >= settings.XUEFA_SESSION_TOUCH_SECONDS:
            session[self.LAST_SEEN] = now
        return None


def _where_to_return(request):
    """Where signing in again should lead: the address asked for, or for a form
    posted from a page of this site (an exam's submit), that page; the form's own
    address may answer POST alone."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _wants_json(request):
    return (
        request.headers.get("x-requested-with") == "XMLHttpRequest"
        or "application/json" in request.headers.get("accept", "")
        or request.content_type == "application/json"
    )


class PageRouteMiddleware:
    """Finds lecture pages for Wagtail's serve view in one query and the Site from
    the cache (learning.fast.routing); Wagtail then serves the page as usual. What
    serving a page asks the cache is read in one round trip (learning.fast.read_ahead).
    With the fast paths off it does nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and fast.enabled():
            with read_ahead.scope():
                return self.get_response(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if view_func is wagtail_serve and fast.enabled():
            keys = [*site_keys(request), *fast.keys(restrictions.FAMILY, restrictions.KEY)]
            if request.user.is_authenticated:
                keys += back_office.cache_keys(request.user)
                for key in LecturePage.shell_keys(request).values():
                    keys += shell_cache_keys(key)
            read_ahead.prefetch(keys)
            path = view_kwargs.get("path", view_args[0] if view_args else "")
            route = lecture_route(request, path)
            if route is not None:
                # Where Wagtail keeps the route it found for this request.
                request._wagtail_route_for_request = route
            else:
                find_site(request)
        return None
