"""Back-office screens for HR: importing the roster (the shared two-step import
screens of learning/import_views.py, with the roster's template)."""

from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from . import roster
from .import_views import ImportViewSet, _ImporterMixin
from .spreadsheets import xlsx_response


class RosterTemplateView(_ImporterMixin, View):
    def get(self, request):
        return xlsx_response(roster.template_workbook(), "roster-template.xlsx")


class RosterExportView(_ImporterMixin, View):
    def get(self, request):
        stamp = timezone.localdate().isoformat()
        return xlsx_response(roster.export_workbook(), f"roster-{stamp}.xlsx")


class RosterImportViewSet(ImportViewSet):
    name = "roster"
    importer_kind = roster.RosterImporter.kind
    menu_label = gettext_lazy("Import roster")
    page_title = gettext_lazy("Import roster")
    intro = gettext_lazy(
        "One official per row, matched by staff number: a new staff number creates an "
        "account, a known one updates it. Files saved by Excel or WPS (.xlsx, .xls) and "
        "CSV are read as they look, with title rows above the header and merged cells. "
        "You see what will change before anything is written; a file with any problem "
        "imports nothing."
    )

    def extra_links(self):
        return [(_("Export the current roster"), reverse(self.get_url_name("export")))]

    def done_url(self):
        return reverse("officials:index")

    def extra_urlpatterns(self):
        return [
            path("template/", RosterTemplateView.as_view(viewset=self), name="template"),
            path("export/", RosterExportView.as_view(viewset=self), name="export"),
        ]
