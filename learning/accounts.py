"""allauth integration: accounts come from the roster, so nobody signs up."""

from django.contrib.auth import password_validation
from django.shortcuts import redirect
from django.utils.translation import ngettext
from django.views import View

from wagtail.admin.views.account import LogoutView as WagtailLogoutView

from allauth.account.adapter import DefaultAccountAdapter

from learning import lockout


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False

    def set_password(self, user, password):
        """The user chose this password themself (change or reset): the
        first-login requirement is met."""
        user.set_password(password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])

    def pre_authenticate(self, request, **credentials):
        """Failed sign-ins are counted per account, whichever of its identifiers was
        typed, and per client address (learning/lockout.py); allauth counts per typed
        identifier. While locked, no password is checked, so a right one signs nobody in."""
        login = credentials.get("email") or credentials.get("username") or ""
        self._login_failed_rl_usage, until = lockout.consume_attempt(request, login)
        if until is not None:
            raise lockout.lockout_error(until)

    def _delete_login_attempts_cached_email(self, request, **credentials):
        """A password reset clears the account's failures, as in allauth, under our
        per-account counters."""
        lockout.clear_accounts(request, credentials.get("email") or "")


class AdminLogoutView(View):
    """The Wagtail admin's logout, without signing out on GET: Wagtail's own view
    drops the session cookie even when it refuses a GET, so a link or an <img> on
    any page could sign staff out (CSRF). A GET leads to allauth's logout page,
    which asks and signs out on POST; the admin menu's POST signs out as before."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        return redirect("account_logout")

    def post(self, request, *args, **kwargs):
        return WagtailLogoutView.as_view()(request, *args, **kwargs)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule with its message in our catalogue: Django 5.2's Chinese catalogue
    misses this message (it changed), and officials must read why a password fails."""

    def get_error_message(self):
        return ngettext(
            "This password is too short. It must contain at least %(min_length)d character.",
            "This password is too short. It must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}
