"""Back-office screens for court observations: the observation snippets, and per
observation an attendance sheet (marking by hand, audited), a full-screen check-in
screen with a rotating QR code, the attendee list for court security (printable and
xlsx) and closing the event. Organizers change; HR may only look."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.base import ViewSet
from wagtail.snippets.views.snippets import SnippetViewSet

import qrcode
import qrcode.image.svg

from learning.spreadsheets import add_sheet, new_workbook, workbook_bytes, xlsx_response

from . import observations
from .models import Attendance, AttendanceChange, CourtObservation, Reflection
from .models.observations import MARKABLE_STATUSES, SEAT_STATUSES, AttendeeField, Status

VIEW_PERMISSION = "exams.view_attendance"
CHANGE_PERMISSION = "exams.change_attendance"
SIGNATURE_WIDTH = 14


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _tools_links(observation):
    return format_html(
        '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
        reverse("observation_tools:sheet", args=[observation.pk]),
        _("Attendance"),
        reverse("observation_tools:checkin_screen", args=[observation.pk]),
        _("Check-in screen"),
        reverse("observation_tools:attendees", args=[observation.pk]),
        _("Attendee list"),
    )


class CourtObservationViewSet(SnippetViewSet):
    model = CourtObservation
    icon = "date"
    menu_label = gettext_lazy("Court observations")
    menu_order = 230
    add_to_admin_menu = True
    list_display = [
        "title",
        "court",
        Column("starts_at", label=gettext_lazy("Starts"), sort_key="starts_at"),
        "case_type",
        Column(
            "seats",
            label=gettext_lazy("Seats taken"),
            accessor=lambda o: f"{o.seats_taken} / {o.capacity}",
        ),
        Column(
            "closed",
            label=gettext_lazy("Closed"),
            accessor=lambda o: _("Closed") if o.closed_at else "—",
        ),
        Column("tools", label=gettext_lazy("Manage"), accessor=_tools_links),
    ]
    list_filter = ["case_type", "open_registration", "starts_at"]
    search_fields = ["title", "court"]
    ordering = ["-starts_at"]

    def get_queryset(self, request):
        return CourtObservation.objects.annotate(
            seats_taken=Count("attendance", filter=Q(attendance__status__in=SEAT_STATUSES))
        )


class MarkForm(forms.Form):
    attendance = forms.IntegerField()
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in MARKABLE_STATUSES])


def sheet(request, pk):
    """Everyone on the list with their status; organizers mark statuses by hand."""
    _require(request, VIEW_PERMISSION)
    observation = get_object_or_404(CourtObservation, pk=pk)
    if request.method == "POST":
        _require(request, CHANGE_PERMISSION)
        form = MarkForm(request.POST)
        if form.is_valid():
            attendance = get_object_or_404(
                Attendance, pk=form.cleaned_data["attendance"], observation=observation
            )
            observations.mark(attendance, form.cleaned_data["status"], by=request.user)
            messages.success(request, _("Attendance updated."))
        else:
            messages.error(request, _("Choose a valid status."))
        return redirect("observation_tools:sheet", pk=observation.pk)
    rows = (
        observation.attendance.select_related("official__user", "official__department")
        .annotate(has_reflection=Count("reflection"))
        .order_by("official__department__path", "official__staff_number")
    )
    # Reflections are for their authors and organizers only, not HR.
    can_read_reflections = request.user.has_perm("exams.view_reflection")
    reflections = {}
    if can_read_reflections:
        reflections = {
            r.attendance_id: r
            for r in Reflection.objects.filter(attendance__observation=observation).only(
                "pk", "attendance_id", "file", "submitted_at", "text"
            )
        }
    counts = dict.fromkeys(Status.values, 0)
    rows = list(rows)
    addresses = observations.check_in_addresses(observation)
    for row in rows:
        counts[row.status] += 1
        row.reflection_obj = reflections.get(row.pk)
        row.checkin_address = addresses.get(row.pk)
    changes = (
        AttendanceChange.objects.filter(attendance__observation=observation)
        .select_related("changed_by", "attendance__official__user")
        .order_by("-changed_at", "-pk")[:30]
    )
    return render(
        request,
        "exams/observations/admin/sheet.html",
        {
            "observation": observation,
            "rows": rows,
            "counts": [(s.label, counts[s.value]) for s in Status],
            "changes": changes,
            "markable": [(s.value, s.label) for s in MARKABLE_STATUSES],
            "can_change": request.user.has_perm(CHANGE_PERMISSION),
            "can_read_reflections": can_read_reflections,
            "bursts": sum(1 for address in addresses.values() if address.burst),
            "burst_size": observations.burst_size(),
            "burst_minutes": observations.burst_minutes(),
            "can_close": request.user.has_perm("exams.change_courtobservation")
            and not observation.is_closed,
            "page_title": _("Attendance"),
        },
    )


@require_POST
def close(request, pk):
    _require(request, "exams.change_courtobservation")
    observation = get_object_or_404(CourtObservation, pk=pk)
    if observation.is_closed:
        messages.warning(request, _("This court observation is already closed."))
    else:
        absent = observations.close(observation, by=request.user)
        messages.success(
            request,
            _("Closed. %(count)d unmarked attendees were marked absent.") % {"count": absent},
        )
    return redirect("observation_tools:sheet", pk=observation.pk)


def _qr_svg(url):
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=20, border=2)
    return image.to_string(encoding="unicode")


def _screen_data(request, observation):
    data = observations.checkin_screen_data(observation)
    url = request.build_absolute_uri(reverse("observations:checkin", args=[data["token"]]))
    return {**data, "url": url, "svg": _qr_svg(url)}


def checkin_screen(request, pk):
    """Full screen for a projector or tablet at the court: a QR code that rotates."""
    _require(request, CHANGE_PERMISSION)
    observation = get_object_or_404(CourtObservation, pk=pk)
    return render(
        request,
        "exams/observations/admin/checkin_screen.html",
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
        "exams/observations/admin/attendees.html",
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
    _require(request, "exams.view_reflection")
    reflection = get_object_or_404(Reflection, pk=pk)
    if not reflection.file:
        raise Http404
    return FileResponse(
        reflection.file.open("rb"),
        as_attachment=True,
        filename=reflection.file.name.rsplit("/", 1)[-1],
    )


class ObservationToolsViewSet(ViewSet):
    """Per-observation screens linked from the observation listing (no menu item)."""

    name = "observation_tools"
    url_prefix = "observations"

    def get_urlpatterns(self):
        return [
            path("<id:pk>/attendance/", sheet, name="sheet"),
            path("<id:pk>/close/", close, name="close"),
            path("<id:pk>/checkin/", checkin_screen, name="checkin_screen"),
            path("<id:pk>/checkin/token/", checkin_token, name="checkin_token"),
            path("<id:pk>/attendees/", attendees, name="attendees"),
            path("<id:pk>/attendees.xlsx", attendees_xlsx, name="attendees_xlsx"),
            path("reflections/<id:pk>/file/", reflection_file, name="reflection_file"),
        ]
