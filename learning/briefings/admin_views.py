"""The 明白纸 report in the Wagtail admin (Reports menu), for HR and organizers (the
`learning.view_reports` permission): the year's sheets with their totals, and per
sheet the share confirmed per department, who has not confirmed, reminders to them
and an xlsx. Views stay thin: the figures are in report.py."""

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView, View

from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import spreadsheets
from ..report_scope import can_view_reports, scope_root
from . import notices, report
from .models import BriefingSheetPage

# A second "send reminder" for the same sheet and scope within this time sends nothing
# (a double click, two HR staff at once).
REMIND_THROTTLE_SECONDS = 10 * 60


def _year(request):
    value = request.GET.get("year", "")
    this_year = timezone.localdate().year
    return int(value) if value.isdigit() and 2000 <= int(value) <= this_year + 1 else this_year


class ReportAccessMixin:
    """403 unless the user may read reports."""

    def dispatch(self, request, *args, **kwargs):
        if not can_view_reports(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class BriefingPageMixin(ReportAccessMixin, WagtailAdminTemplateMixin):
    header_icon = "doc-full"

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]


class YearView(BriefingPageMixin, TemplateView):
    """The year's sheets with audience, confirmed and share, and the year's totals
    (the figures the year-end report quotes)."""

    page_title = gettext_lazy("Briefing sheets (明白纸)")
    template_name = "briefings/admin/year.html"

    def get_context_data(self, **kwargs):
        year = _year(self.request)
        this_year = timezone.localdate().year
        return super().get_context_data(
            year=year,
            years=range(this_year, this_year - 5, -1),
            report=report.year_report(self.request.user, year),
            **kwargs,
        )


def _live_sheet(pk):
    return get_object_or_404(BriefingSheetPage.objects.live(), pk=pk)


class SheetView(BriefingPageMixin, TemplateView):
    """One sheet: the share confirmed per department in the viewer's scope, and who
    has not confirmed, with a reminder button."""

    template_name = "briefings/admin/sheet.html"

    def get_page_title(self):
        return self.sheet.title

    def get(self, request, pk):
        self.sheet = _live_sheet(pk)
        return super().get(request, pk=pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sheet=self.sheet, report=report.sheet_report(self.sheet, self.request.user), **kwargs
        )


class SheetXlsxView(ReportAccessMixin, View):
    def get(self, request, pk):
        sheet = _live_sheet(pk)
        found = report.sheet_report(sheet, request.user)
        return spreadsheets.xlsx_response(
            sheet_xlsx(found), f"briefing-{sheet.pk}-{timezone.localdate():%Y%m%d}.xlsx"
        )


def sheet_xlsx(found):
    """Two sheets: departments with the total last, and who has not confirmed."""
    workbook = spreadsheets.new_workbook()
    spreadsheets.add_sheet(
        workbook,
        _("Departments"),
        [_("Department"), _("Audience"), _("Confirmed"), _("Share confirmed (%)")],
        [[r.label, r.audience, r.confirmed, r.share] for r in [*found.rows, found.totals]],
        number_formats={3: "0.0"},
    )
    spreadsheets.add_sheet(
        workbook,
        _("Not confirmed"),
        [_("Department"), _("Staff number"), _("Name"), _("Position")],
        [[o.department.name, o.staff_number, o.name, o.position] for o in found.unconfirmed],
    )
    return spreadsheets.workbook_bytes(workbook)


class RemindView(ReportAccessMixin, View):
    """Send a `briefing` notice to everyone in the viewer's scope who has not
    confirmed the sheet; a repeat within REMIND_THROTTLE_SECONDS sends nothing."""

    def post(self, request, pk):
        sheet = _live_sheet(pk)
        root = scope_root(request.user)
        key = f"xuefa:briefings:remind:{sheet.pk}:{root.pk if root else 'all'}"
        target = reverse("briefings_report:sheet", args=[sheet.pk])
        if not cache.add(key, timezone.now().isoformat(), REMIND_THROTTLE_SECONDS):
            messages.warning(request, _("A reminder for this sheet was sent a moment ago."))
            return redirect(target)
        officials = report.sheet_report(sheet, request.user).unconfirmed
        notices.remind(sheet, officials, request.user)
        messages.success(
            request,
            ngettext(
                "Reminder sent to %(count)d official.",
                "Reminder sent to %(count)d officials.",
                len(officials),
            )
            % {"count": len(officials)},
        )
        return redirect(target)


def admin_urls():
    urls = [
        path("", YearView.as_view(), name="index"),
        path("<id:pk>/", SheetView.as_view(), name="sheet"),
        path("<id:pk>/xlsx/", SheetXlsxView.as_view(), name="xlsx"),
        path("<id:pk>/remind/", RemindView.as_view(), name="remind"),
    ]
    return [path("briefings/", include((urls, "briefings_report"), namespace="briefings_report"))]


class BriefingReportMenuItem(MenuItem):
    """In Wagtail's Reports menu, for those who may read reports."""

    def is_shown(self, request):
        return can_view_reports(request.user)


def report_menu_item():
    return BriefingReportMenuItem(
        gettext_lazy("Briefing sheets (明白纸)"),
        reverse("briefings_report:index"),
        icon_name="doc-full",
        name="briefing-report",
        order=900,
    )
