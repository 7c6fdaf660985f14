"""Admin URLs and Reports menu items of this report family (see exams/reports/menu.py):
background exports ("My exports") and any official's printable study record."""

from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _

from wagtail import hooks

from . import export_kinds  # noqa: F401  (registers the export kinds)
from . import export_views as v
from .menu import ReportMenuItem


@hooks.register("register_admin_urls")
def export_admin_urls():
    urls = [
        path("", v.MyExportsView.as_view(), name="index"),
        path("request/", v.ExportRequestView.as_view(), name="request"),
        path("status/", v.ExportStatusView.as_view(), name="status"),
        path("<id:pk>/download/", v.ExportDownloadView.as_view(), name="download"),
        path("records/<id:official_id>.pdf", v.OfficialRecordPdfView.as_view(), name="record_pdf"),
    ]
    return [path("reports/exports/", include((urls, "exams_exports"), namespace="exams_exports"))]


@hooks.register("register_reports_menu_item")
def exports_menu_item():
    return ReportMenuItem(
        _("My exports"), reverse_lazy("exams_exports:index"), icon_name="download", order=900
    )
