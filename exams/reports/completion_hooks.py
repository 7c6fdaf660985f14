"""Admin URLs and Reports menu items of this report family (see exams/reports/menu.py):
the completion report, its drill-down to departments and officials, its xlsx."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks

from . import completion_views as views
from .menu import ReportMenuItem


def _urls():
    return [
        path("", views.CompletionReportView.as_view(), name="index"),
        path("xlsx/", views.CompletionXlsxView.as_view(), name="xlsx"),
        path("department/<id:pk>/", views.CompletionDepartmentView.as_view(), name="department"),
        path("official/<id:pk>/", views.CompletionOfficialView.as_view(), name="official"),
    ]


@hooks.register("register_admin_urls")
def register_completion_report_urls():
    return [
        path(
            "reports/completion/",
            include((_urls(), "completion_report"), namespace="completion_report"),
        )
    ]


@hooks.register("register_reports_menu_item")
def register_completion_report_menu_item():
    return ReportMenuItem(
        _("Completion report"),
        reverse("completion_report:index"),
        icon_name="tasks",
        name="completion-report",
        order=100,
    )
