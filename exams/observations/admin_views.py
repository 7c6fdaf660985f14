"""Back-office screens per court observation (routed by viewsets.ObservationToolsViewSet):
an attendance sheet (marking by hand, audited), a full-screen check-in screen with a
rotating QR code, the attendee list for court security (printable and xlsx) and
closing the event. Organizers change; HR may only look."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.auth import permission_denied

import qrcode
import qrcode.image.svg

from learning.spreadsheets import add_sheet, new_workbook, workbook_bytes, xlsx_response

from ..models import LectureQuiz
from . import cases, services
from .forms import CaseForm
from .models import (
    MARKABLE_STATUSES,
    SEAT_STATUSES,
    Attendance,
    AttendanceChange,
    AttendeeField,
    CourtObservation,
    Reflection,
    Status,
)

VIEW_PERMISSION = "observations.view_attendance"
CHANGE_PERMISSION = "observations.change_attendance"
# Reflections are for their authors and organizers only, not HR.
REFLECTION_PERMISSION = "observations.view_reflection"
CLOSE_PERMISSION = "observations.change_courtobservation"
# Turning an observation into a case (以案释法) is the organizers' job, not HR's.
CASE_PERMISSION = "observations.add_casepage"
# Where the case's success page sends the organizer to put it on the screens; a URL
# name only, since exams never imports content (content.page_cards).
SCREEN_CARD_URL = "content_page_card"
SIGNATURE_WIDTH = 14


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


class MarkForm(forms.Form):
    attendance = forms.IntegerField()
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in MARKABLE_STATUSES])


def _mark(request, observation):
    """An organizer's hand-marked status from the sheet's form, audited by the rules."""
    _require(request, CHANGE_PERMISSION)
    form = MarkForm(request.POST)
    if form.is_valid():
        attendance = get_object_or_404(
            Attendance, pk=form.cleaned_data["attendance"], observation=observation
        )
        services.mark(attendance, form.cleaned_data["status"], by=request.user)
        messages.success(request, _("Attendance updated."))
    else:
        messages.error(request, _("Choose a valid status."))
    return redirect("observation_tools:sheet", pk=observation.pk)


def _reflections(request, observation):
    """{attendance id: Reflection} for those who may read them; else empty."""
    if not request.user.has_perm(REFLECTION_PERMISSION):
        return {}
    return {
        r.attendance_id: r
        for r in Reflection.objects.filter(attendance__observation=observation).only(
            "pk", "attendance_id", "file", "submitted_at", "text"
        )
    }


def _sheet_rows(request, observation, addresses):
    """Everyone on the list, by department, each with their reflection (if readable)
    and where their QR check-in came from; and the count per status."""
    rows = list(
        observation.attendance.select_related("official__user", "official__department")
        .annotate(has_reflection=Count("reflection"))
        .order_by("official__department__path", "official__staff_number")
    )
    reflections = _reflections(request, observation)
    counts = dict.fromkeys(Status.values, 0)
    for row in rows:
        counts[row.status] += 1
        row.reflection_obj = reflections.get(row.pk)
        row.checkin_address = addresses.get(row.pk)
    made_up = sum(1 for row in rows if row.made_up_at)
    counts = [(s.label, counts[s.value]) for s in Status]
    # Missed, then made up on the case page (补学): shown apart from the attended.
    return rows, [*counts, (pgettext("court observation make-up", "Made up"), made_up)]


def sheet(request, pk):
    """Everyone on the list with their status; organizers mark statuses by hand."""
    _require(request, VIEW_PERMISSION)
    observation = get_object_or_404(CourtObservation, pk=pk)
    if request.method == "POST":
        return _mark(request, observation)
    addresses = services.check_in_addresses(observation)
    rows, counts = _sheet_rows(request, observation, addresses)
    changes = (
        AttendanceChange.objects.filter(attendance__observation=observation)
        .select_related("changed_by", "attendance__official__user")
        .order_by("-changed_at", "-pk")[:30]
    )
    return render(
        request,
        "observations/admin/sheet.html",
        {
            "observation": observation,
            "rows": rows,
            "counts": counts,
            "changes": changes,
            "markable": [(s.value, s.label) for s in MARKABLE_STATUSES],
            "can_change": request.user.has_perm(CHANGE_PERMISSION),
            "can_read_reflections": request.user.has_perm(REFLECTION_PERMISSION),
            "bursts": sum(1 for address in addresses.values() if address.burst),
            "burst_size": services.burst_size(),
            "burst_minutes": services.burst_minutes(),
            "can_close": request.user.has_perm(CLOSE_PERMISSION) and not observation.is_closed,
            "page_title": _("Attendance"),
        },
    )


@require_POST
def close(request, pk):
    _require(request, CLOSE_PERMISSION)
    observation = get_object_or_404(CourtObservation, pk=pk)
    if observation.is_closed:
        messages.warning(request, _("This court observation is already closed."))
    else:
        absent = services.close(observation, by=request.user)
        messages.success(
            request,
            _("Closed. %(count)d unmarked attendees were marked absent.") % {"count": absent},
        )
    return redirect("observation_tools:sheet", pk=observation.pk)


def _qr_svg(url):
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=20, border=2)
    return image.to_string(encoding="unicode")


def _screen_data(request, observation):
    data = services.checkin_screen_data(observation)
    url = request.build_absolute_uri(reverse("observations:checkin", args=[data["token"]]))
    return {**data, "url": url, "svg": _qr_svg(url)}


def checkin_screen(request, pk):
    """Full screen for a projector or tablet at the court: a QR code that rotates."""
    _require(request, CHANGE_PERMISSION)
    observation = get_object_or_404(CourtObservation, pk=pk)
    return render(
        request,
        "observations/admin/checkin_screen.html",
        {"observation": observation, "data": _screen_data(request, observation)},
    )


@never_cache
def checkin_token(request, pk):
    """The current code and counts, polled by the check-in screen."""
    _require(request, CHANGE_PERMISSION)
    observation = get_object_or_404(CourtObservation, pk=pk)
    return JsonResponse(_screen_data(request, observation))


def _attendee_rows(observation):
    """(name, [chosen columns]) for everyone expected at the court, by department."""
    fields = observation.attendee_list_fields or []
    rows = []
    queryset = (
        observation.attendance.filter(status__in=SEAT_STATUSES)
        .select_related("official__user", "official__department")
        .order_by("official__department__path", "official__staff_number")
    )
    for attendance in queryset:
        official = attendance.official
        values = {
            AttendeeField.STAFF_NUMBER: official.staff_number,
            AttendeeField.DEPARTMENT: official.department.name if official.department else "",
            AttendeeField.POSITION: official.position,
            AttendeeField.MOBILE: official.mobile,
        }
        rows.append((official.user.name, [values[AttendeeField(f)] for f in fields]))
    return rows


def attendees(request, pk):
    """Printable attendee list for the court's security at the entrance."""
    _require(request, VIEW_PERMISSION)
    observation = get_object_or_404(CourtObservation, pk=pk)
    return render(
        request,
        "observations/admin/attendees.html",
        {
            "observation": observation,
            "headers": [label for _value, label in observation.attendee_field_labels()],
            "rows": _attendee_rows(observation),
        },
    )


def attendees_xlsx(request, pk):
    """The attendee list as a workbook (Chinese headers, header row frozen); names stay
    text even when they start with "=" (learning.spreadsheets writes no formulas)."""
    _require(request, VIEW_PERMISSION)
    observation = get_object_or_404(CourtObservation, pk=pk)
    with translation.override("zh-hans"):
        headers = [
            _("No."),
            _("Name"),
            *[str(label) for _value, label in observation.attendee_field_labels()],
            _("Signature"),
        ]
        sheet_title = _("Attendee list")
    rows = (
        [number, name, *values, ""]
        for number, (name, values) in enumerate(_attendee_rows(observation), start=1)
    )
    workbook = new_workbook()
    sheet = add_sheet(workbook, sheet_title, headers, rows)
    sheet.set_column(len(headers) - 1, len(headers) - 1, SIGNATURE_WIDTH)  # room to sign
    content = workbook_bytes(workbook)
    stamp = timezone.localtime(observation.starts_at).strftime("%Y%m%d")
    return xlsx_response(content, f"attendees-{stamp}-{pk}.xlsx")


def reflection_file(request, pk):
    """A reflection's file, for organizers (reflections are not public, not even to HR)."""
    _require(request, REFLECTION_PERMISSION)
    reflection = get_object_or_404(Reflection, pk=pk)
    if not reflection.file:
        raise Http404
    return FileResponse(
        reflection.file.open("rb"),
        as_attachment=True,
        filename=reflection.file.name.rsplit("/", 1)[-1],
    )


def turn_into_case(request, pk):
    """Turn an ended observation into its case page, quiz and tagged questions; once
    it has one, this opens it instead (one case per observation)."""
    if not request.user.has_perm(CASE_PERMISSION):
        return permission_denied(request)
    observation = get_object_or_404(CourtObservation, pk=pk)
    case = cases.case_of(observation)
    if case is not None:
        return _case_done(request, observation, case)
    if not observation.has_ended():
        messages.error(request, _("A court observation becomes a case once its hearing has ended."))
        return redirect("observation_tools:sheet", pk=observation.pk)
    if cases.lecture_index() is None:
        messages.error(request, _("Create the lecture index page first."))
        return redirect("observation_tools:sheet", pk=observation.pk)
    form = CaseForm(observation, request.POST or None)
    if request.method == "POST" and form.is_valid():
        case, created = cases.create_case(observation, form.draft(), user=request.user)
        if created:
            messages.success(request, _("The case page, its quiz and questions were created."))
        return redirect("observation_tools:case", pk=observation.pk)
    return render(
        request,
        "observations/admin/case_form.html",
        {"observation": observation, "form": form, "page_title": _("Turn into a case")},
    )


def _edit_url(request, obj):
    return AdminURLFinder(request.user).get_edit_url(obj) if obj is not None else None


def _case_done(request, observation, case):
    return render(
        request,
        "observations/admin/case_done.html",
        {
            "observation": observation,
            "case": case,
            "quiz_url": _edit_url(request, LectureQuiz.objects.filter(lecture_id=case.pk).first()),
            "questions": case.tagged_questions.select_related("question__topic"),
            "screen_card_url": reverse(SCREEN_CARD_URL, args=[case.pk]),
            "page_title": _("Case page"),
        },
    )
