"""Court observations for officials (/observations/): upcoming and past observations,
registering and withdrawing, checking in by scanning the QR code at the venue, and
writing a reflection. Officials only ever reach their own attendance and reflection:
no view takes an official or attendance id."""

import datetime
import ipaddress

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from allauth.account.adapter import get_adapter

from learning.credits import official_for

from . import cases, services
from .models import (
    ATTENDED_STATUSES,
    EXPECTED_STATUSES,
    REFLECTION_EXTENSIONS,
    SEAT_STATUSES,
    Attendance,
    CourtObservation,
    Reflection,
)

PENDING_CHECKIN_KEY = "observation_checkin"


def _official_or_403(request):
    official = official_for(request.user)
    if official is None:
        raise PermissionDenied
    return official


def _with_my_attendance(queryset, official):
    return queryset.annotate(
        seats_taken=Count("attendance", filter=Q(attendance__status__in=SEAT_STATUSES))
    ).prefetch_related(
        Prefetch(
            "attendance",
            queryset=Attendance.objects.filter(official=official).select_related("reflection"),
            to_attr="mine",
        )
    )


@login_required
def index(request):
    """Upcoming observations I may attend, and the ones I was on the list for (a missed
    one with a case page can be made up by studying it: 补学)."""
    official = _official_or_403(request)
    now = timezone.now()
    make_ups = {a.pk: case for a, case in cases.reconcile_make_ups(official, now)}
    upcoming = _with_my_attendance(
        CourtObservation.objects.upcoming(now).visible_to(official).order_by("starts_at"), official
    )
    past = list(
        Attendance.objects.filter(official=official)
        .filter(Q(observation__ends_at__lt=now) | Q(observation__closed_at__isnull=False))
        .select_related("observation", "reflection", "made_up_case")
        .order_by("-observation__starts_at")[:50]
    )
    for attendance in past:
        attendance.make_up_case = make_ups.get(attendance.pk)
    return render(
        request,
        "observations/index.html",
        {"upcoming": upcoming, "past": past, "now": now},
    )


def _visible_observation(official, pk):
    queryset = _with_my_attendance(CourtObservation.objects.visible_to(official), official)
    return get_object_or_404(queryset, pk=pk)


@login_required
def detail(request, pk):
    official = _official_or_403(request)
    now = timezone.now()
    # First, so a make-up earned since the last visit shows on this page.
    open_make_ups = cases.reconcile_make_ups(official, now)
    observation = _visible_observation(official, pk)
    attendance = observation.mine[0] if observation.mine else None
    registration_open = observation.registration_is_open(now)
    status = attendance.status if attendance else ""
    make_up = next((c for a, c in open_make_ups if attendance and a.pk == attendance.pk), None)
    return render(
        request,
        "observations/detail.html",
        {
            "observation": observation,
            "attendance": attendance,
            "seats_left": observation.seats_left,
            "can_register": registration_open
            and status not in ("registered", *ATTENDED_STATUSES)
            and (attendance is not None or observation.open_registration),
            "can_withdraw": registration_open and status in EXPECTED_STATUSES,
            "can_reflect": attendance is not None and services.can_reflect(attendance, now),
            "make_up_case": make_up,
        },
    )


@login_required
@require_POST
def register(request, pk):
    official = _official_or_403(request)
    observation = _visible_observation(official, pk)
    try:
        services.register(official, observation)
    except services.ObservationRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("You are registered. See you at the court."))
    return redirect("observations:detail", pk=observation.pk)


@login_required
@require_POST
def withdraw(request, pk):
    official = _official_or_403(request)
    observation = _visible_observation(official, pk)
    try:
        services.withdraw(official, observation)
    except services.ObservationRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("You have withdrawn."))
    return redirect("observations:detail", pk=observation.pk)


class PositionForm(forms.Form):
    """What the check-in page's script posts: the phone's position, or why it has none
    (the Geolocation API's error, named)."""

    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)
    accuracy = forms.FloatField(required=False, min_value=0)
    geo_error = forms.ChoiceField(
        required=False, choices=[(e, e) for e in ("", "denied", "unavailable", "timeout")]
    )

    def position(self):
        if not self.is_valid():
            return services.Position(error="unavailable")
        data = self.cleaned_data
        return services.Position(
            data["latitude"], data["longitude"], data["accuracy"], data["geo_error"]
        )


def _client_ip(request):
    """The client's address as allauth's per-address rate limits read it: REMOTE_ADDR,
    or what the deployment says its proxy passes (ALLAUTH_TRUSTED_PROXY_COUNT,
    ALLAUTH_TRUSTED_CLIENT_IP_HEADER); None when there is none to trust."""
    try:
        ip = get_adapter(request).get_client_ip(request)
        return str(ipaddress.ip_address(ip))
    except (PermissionDenied, ImproperlyConfigured, ValueError):
        return None


def _scan_before_sign_in(request, token, now):
    """A scan by someone not signed in: refused outright if the code is not valid now
    or the observation's codes are single-use; else remembered while they sign in."""
    try:
        observation = services.observation_for_scan(token, at=now)
    except services.ObservationRefused as refusal:
        return _checkin_page(request, error=str(refusal), status=400)
    if observation.single_use_codes:
        return _checkin_page(
            request,
            error=_(
                "Codes for this court observation work only for officials who are already "
                "signed in. Please sign in first, then scan the code on the screen again."
            ),
            status=403,
            sign_in=True,
        )
    request.session[PENDING_CHECKIN_KEY] = {"token": token, "at": now.isoformat(), "user": None}
    return redirect_to_login(request.get_full_path())


def _scan_time(request, token, observation, now):
    """When the code was scanned: the remembered time of this very code if within
    `sign_in_grace_seconds()` (after signing in, or before the location was asked),
    else now. Single-use codes count only scans made while signed in as this user."""
    pending = request.session.get(PENDING_CHECKIN_KEY)
    if not pending or pending.get("token") != token:
        return now
    if observation.single_use_codes and pending.get("user") != str(request.user.pk):
        return now
    at = datetime.datetime.fromisoformat(pending["at"])
    if now - at <= datetime.timedelta(seconds=services.sign_in_grace_seconds()):
        return at
    return now


def _ask_for_location(request, token, observation, scanned_at):
    """The page whose script asks the phone for its position and posts it back; the
    scan time is remembered so the time spent answering the browser does not count."""
    try:
        services.observation_for_scan(token, at=scanned_at)
    except services.ObservationRefused as refusal:
        return _checkin_page(request, error=str(refusal), status=400)
    request.session[PENDING_CHECKIN_KEY] = {
        "token": token,
        "at": scanned_at.isoformat(),
        "user": str(request.user.pk),
    }
    return _checkin_page(request, locate=observation)


@never_cache
def checkin(request, token):
    """Opened by scanning the QR code at the venue. The scan itself proves presence,
    so it checks in at once (it only ever affects the signed-in official). Someone
    not signed in has the scan time remembered in the session, signs in, and comes
    back here; the check-in then counts from the scan, within a few minutes. A scan
    outside the check-in window is refused before anyone is asked to sign in. When the
    observation checks location, a GET asks the phone for it and the page POSTs it."""
    now = timezone.now()
    if not request.user.is_authenticated:
        return _scan_before_sign_in(request, token, now)
    official = official_for(request.user)
    if official is None:
        return _checkin_page(request, error=_("Only officials can check in."), status=403)
    try:
        observation = services.observation_of(token)
    except services.ObservationRefused as refusal:
        return _checkin_page(request, error=str(refusal), status=400)
    scanned_at = _scan_time(request, token, observation, now)
    if observation.checks_location and request.method != "POST":
        return _ask_for_location(request, token, observation, scanned_at)
    position = PositionForm(request.POST).position() if observation.checks_location else None
    try:
        attendance = services.check_in(
            official,
            token,
            now=now,
            scanned_at=scanned_at,
            position=position,
            client_ip=_client_ip(request),
        )
    except services.ObservationRefused as refusal:
        if observation.checks_location:
            # Keep the scan time: after allowing location, "Try again" posts once more.
            return _checkin_page(request, error=str(refusal), status=400, locate=observation)
        request.session.pop(PENDING_CHECKIN_KEY, None)
        return _checkin_page(request, error=str(refusal), status=400)
    request.session.pop(PENDING_CHECKIN_KEY, None)
    return _checkin_page(request, attendance=attendance)


def _checkin_page(request, attendance=None, error="", status=200, locate=None, sign_in=False):
    return render(
        request,
        "observations/checkin.html",
        {
            "attendance": attendance,
            "observation": getattr(attendance, "observation", None) or locate,
            "error": error,
            "locate": locate is not None,
            "sign_in": sign_in,
        },
        status=status,
    )


class ReflectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your reflection"),
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=20000,
    )
    file = forms.FileField(
        label=_("File (optional)"),
        required=False,
        help_text=_("PDF, Word, text or image, at most 10 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(f".{ext}" for ext in REFLECTION_EXTENSIONS)}
        ),
    )
    feature_consent = forms.BooleanField(
        label=_("An excerpt may be quoted, with my name, on the case page"),
        required=False,
    )


@login_required
def reflection(request, pk):
    """My reflection on an observation I attended: write it, or revise it until due."""
    official = _official_or_403(request)
    attendance = get_object_or_404(
        Attendance.objects.select_related("observation"), observation_id=pk, official=official
    )
    existing = Reflection.objects.filter(attendance=attendance).first()
    now = timezone.now()
    can_submit = services.can_reflect(attendance, now)
    if request.method == "POST":
        if not can_submit:
            messages.error(request, _("You cannot submit a reflection for this observation."))
            return redirect("observations:reflection", pk=pk)
        form = ReflectionForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.submit_reflection(
                    attendance,
                    form.cleaned_data["text"],
                    form.cleaned_data["file"],
                    now=now,
                    consent=form.cleaned_data["feature_consent"],
                )
            except services.ObservationRefused as refusal:
                form.add_error(None, str(refusal))
            except forms.ValidationError as error:
                form.add_error("file", error.message_dict.get("file", error.messages))
            else:
                messages.success(request, _("Your reflection has been saved."))
                return redirect("observations:reflection", pk=pk)
    else:
        form = ReflectionForm(
            initial={
                "text": existing.text if existing else "",
                "feature_consent": existing.feature_consent if existing else False,
            }
        )
    return render(
        request,
        "observations/reflection.html",
        {
            "observation": attendance.observation,
            "attendance": attendance,
            "reflection": existing,
            "form": form,
            "can_submit": can_submit,
        },
    )


@login_required
def reflection_file(request, pk):
    """The file attached to my own reflection."""
    official = _official_or_403(request)
    reflection = get_object_or_404(
        Reflection, attendance__observation_id=pk, attendance__official=official
    )
    if not reflection.file:
        raise Http404
    return FileResponse(
        reflection.file.open("rb"),
        as_attachment=True,
        filename=reflection.file.name.rsplit("/", 1)[-1],
    )
