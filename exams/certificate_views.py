"""Certificates as people meet them: the holder's PDF, the public verification page
anyone reaches by the QR code (/verify/<code>/, no sign-in, rate-limited per client
address), HR's look-up of a code with everything on record, and the organizer's
voiding of a result. The rules live in exams.certificates and exams.results."""

import ipaddress
import math
import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button

from allauth.account.adapter import get_adapter
from allauth.core.internal import ratelimit

from . import certificates, results
from .models import Attempt, Certificate, CertificateKind
from .reports.access import ReportAccessMixin, can_see_official

# The public page's look-ups per client address; past it, 429 until the window moves.
VERIFY_RATE = "30/10m"
RATE_APP, RATE_ACTION = "exams", "verify_certificate"
# Longer than any code however it is grouped: looked up no further.
MAX_TYPED = 64
VOID_PERMISSION = "exams.change_examsession"
# All the public page reads of a certificate.
PUBLIC_FIELDS = ("kind", "title", "holder_name", "band", "issued_on", "revoked_at")


# The holder's PDF ---------------------------------------------------------------


def _serve(request, certificate):
    """The PDF, or for a revoked certificate a page saying so (410): a revoked
    certificate is not handed out again, since a printout would outlive the revoke."""
    if certificate.is_revoked:
        return render(
            request, "exams/certificate_revoked.html", {"certificate": certificate}, status=410
        )
    response = HttpResponse(
        certificates.certificate_pdf_for(certificate, request), content_type="application/pdf"
    )
    response["Content-Disposition"] = content_disposition_header(
        False, f"certificate-{certificate.code}.pdf"
    )
    return response


@login_required
@require_GET
@never_cache
def attempt_certificate(request, session_pk, pk):
    """The certificate of my own passed attempt (issued now if it was not yet); 404
    for anyone else's attempt and for an attempt that earns none."""
    attempt = get_object_or_404(
        Attempt.objects.select_related("session"),
        pk=pk,
        session_id=session_pk,
        official__user_id=request.user.pk,
    )
    certificate = certificates.issue_for_attempt(attempt)
    if certificate is None:
        # A voided or re-marked result keeps its revoked certificate: say so.
        certificate = Certificate.objects.filter(attempt=attempt).first()
    if certificate is None:
        raise Http404
    return _serve(request, certificate)


@login_required
@require_GET
@never_cache
def my_certificate(request, pk):
    """One of my certificates (exam or study plan), from my study record."""
    certificate = get_object_or_404(
        Certificate.objects.select_related("attempt__session"),
        pk=pk,
        official__user_id=request.user.pk,
    )
    return _serve(request, certificate)


# Public verification -------------------------------------------------------------


def _client_key(request):
    """The client's address as allauth reads it behind the deployment's proxies
    (ALLAUTH_TRUSTED_PROXY_COUNT), IPv6 by its /64; clients whose address cannot be
    told share one counter."""
    try:
        address = str(ipaddress.ip_address(get_adapter(request).get_client_ip(request)))
    except (PermissionDenied, ImproperlyConfigured, ValueError):
        return "ip:unknown"
    return f"ip:{ratelimit.truncate_ip(address)}"


def _rate_spec():
    return f"{getattr(settings, 'XUEFA_CERTIFICATE_VERIFY_RATE', VERIFY_RATE)}/key"


def _consume_lookup(request):
    """Count one look-up; None when it may go on, else the seconds to wait."""
    spec, key = _rate_spec(), _client_key(request)
    usage = ratelimit.consume(
        request,
        app=RATE_APP,
        action=RATE_ACTION,
        config={RATE_ACTION: spec},
        key=key,
        limit_get=True,
    )
    if usage is not None:
        return None
    rate = ratelimit.parse_rate(spec)
    cache_key = ratelimit.get_cache_key(
        request, app=RATE_APP, action=RATE_ACTION, rate=rate, key=key
    )
    now = time.time()
    live = sorted((at for at in cache.get(cache_key, []) if at > now - rate.duration), reverse=True)
    until = live[rate.amount - 1] + rate.duration if len(live) >= rate.amount else now + 60
    return max(1, math.ceil(until - now))


def _public(response):
    """What every verification response carries: kept out of search engines and of
    shared caches (a certificate can be revoked at any time)."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=MAX_TYPED,
        help_text=gettext_lazy("As printed on the certificate; spaces and hyphens are fine."),
    )


@require_GET
@never_cache
def verify_form(request):
    """A form to type a code; sends it on to the code's page."""
    form = CodeForm(request.GET if "code" in request.GET else None)
    if form.is_valid():
        code = certificates.normalise_code(form.cleaned_data["code"])
        if code:
            return redirect("verify:certificate", code=code)
        form.add_error("code", _("Enter the code printed on the certificate."))
    return _public(render(request, "exams/verify.html", {"form": form, "state": "form"}))


@require_GET
@never_cache
def verify_certificate(request, code):
    """What a certificate states, for anyone with its code: kind, title, date, band,
    the holder's name partly masked and whether it is valid or since when revoked.
    An unknown code, well formed or not, is a plain 404 after the same single
    look-up: nothing tells a near miss from nonsense."""
    wait = _consume_lookup(request)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        message = ngettext(
            "Too many look-ups from your network. Try again in %(minutes)d minute.",
            "Too many look-ups from your network. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
        response = render(
            request, "exams/verify.html", {"state": "limited", "message": message}, status=429
        )
        response["Retry-After"] = str(wait)
        return _public(response)
    normalised = certificates.normalise_code(code[:MAX_TYPED])
    try:
        certificate = Certificate.objects.only(*PUBLIC_FIELDS).get(code=normalised)
    except Certificate.DoesNotExist:
        context = {"state": "unknown", "form": CodeForm()}
        return _public(render(request, "exams/verify.html", context, status=404))
    context = {
        "state": "found",
        "certificate": certificate,
        "masked_name": certificates.mask_name(certificate.holder_name),
        "band_label": certificates.band_label(certificate.band),
    }
    return _public(render(request, "exams/verify.html", context))


# HR's look-up --------------------------------------------------------------------


class CertificateLookupView(ReportAccessMixin, WagtailAdminTemplateMixin, TemplateView):
    """HR (and whoever may read reports) types a code and sees the whole record:
    holder, staff number, department, the attempt or plan, revoked state and reason.
    A code outside the user's report scope reads as unknown."""

    page_title = gettext_lazy("Check a certificate")
    header_icon = "doc-full"
    template_name = "exams/admin/certificates/lookup.html"

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = CodeForm(self.request.GET if "code" in self.request.GET else None)
        certificate = None
        searched = form.is_valid()
        if searched:
            certificate = self._find(certificates.normalise_code(form.cleaned_data["code"]))
        context.update(
            form=form,
            searched=searched,
            certificate=certificate,
            can_inspect=self.request.user.has_perm("exams.view_attempt"),
        )
        return context

    def _find(self, code):
        certificate = (
            Certificate.objects.select_related(
                "official__user", "official__department", "attempt__session", "plan"
            )
            .filter(code=code)
            .first()
        )
        if certificate is None or not can_see_official(self.request.user, certificate.official):
            return None
        certificate.grouped_code = certificates.grouped_code(certificate.code)
        certificate.band_label = certificates.band_label(certificate.band)
        certificate.is_plan = certificate.kind == CertificateKind.PLAN
        return certificate


# Voiding a result ----------------------------------------------------------------


def void_buttons(user, attempt):
    """The "Void the result" button of an attempt's inspect page, for organizers."""
    if not user.has_perm(VOID_PERMISSION) or not attempt.is_finished or attempt.voided_at:
        return []
    url = reverse("results_admin:void", args=[attempt.pk])
    return [Button(_("Void the result"), url=url, icon_name="warning", priority=50)]


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Kept in the log with the result as it was. The official's certificate says "
            "“revoked” from now on; the reason is not shown on the public page."
        ),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class VoidResultView(WagtailAdminTemplateMixin, TemplateView):
    """Organizers void a finished attempt's result: a reason, then a confirmation
    page saying what will change, then the void (exams.results.void_result)."""

    page_title = gettext_lazy("Void a result")
    header_icon = "warning"
    template_name = "exams/admin/certificates/void.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(VOID_PERMISSION):
            raise PermissionDenied
        self.attempt = get_object_or_404(
            Attempt.objects.select_related("session", "official__user", "official__department"),
            pk=kwargs["pk"],
        )
        if not self.attempt.is_finished or self.attempt.voided_at is not None:
            messages.error(request, _("Only a finished result that is not voided can be voided."))
            return redirect("exams_attempts:inspect", self.attempt.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        inspect = reverse("exams_attempts:inspect", args=[self.attempt.pk])
        return [
            *super().get_breadcrumbs_items(),
            {"url": inspect, "label": str(self.attempt)},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", VoidForm())
        context.update(
            attempt=self.attempt,
            certificate=Certificate.objects.filter(attempt=self.attempt).first(),
        )
        return context

    def post(self, request, pk):
        form = VoidForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        if not form.cleaned_data["confirmed"]:
            # Second step: the same reason, confirmed.
            confirm = VoidForm(initial={**form.cleaned_data, "confirmed": True})
            return self.render_to_response(self.get_context_data(form=confirm, confirming=True))
        try:
            results.void_result(self.attempt, form.cleaned_data["reason"], request.user)
        except results.VoidRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("The result is voided and its certificate revoked."))
        return redirect("exams_attempts:inspect", self.attempt.pk)
