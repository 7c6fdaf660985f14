"""Admin URLs and Reports menu items of this report family (see exams/reports/menu.py):
who is behind (with reminders), the pre-appointment register and year-end figures."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks

from learning import roles

from . import lists_views as v
from .menu import ReportMenuItem
from .reminder_demo import load_reminders


@hooks.register("register_admin_urls")
def report_lists_urls():
    urls = [
        path("behind/", v.BehindView.as_view(), name="behind"),
        path("behind.xlsx", v.BehindExportView.as_view(), name="behind_export"),
        path("behind/remind/", v.BehindRemindView.as_view(), name="remind"),
        path("register/", v.RegisterView.as_view(), name="register"),
        path("register.xlsx", v.RegisterExportView.as_view(), name="register_export"),
        path("register/certificate/<id:pk>/", v.CertificateView.as_view(), name="certificate"),
        path("year-end/", v.YearEndView.as_view(), name="yearend"),
        path("year-end/print/", v.YearEndPrintView.as_view(), name="yearend_print"),
        path("year-end.xlsx", v.YearEndExportView.as_view(), name="yearend_export"),
        path("year-end.docx", v.YearEndDocxView.as_view(), name="yearend_docx"),
    ]
    return [path("reports/", include((urls, "report_lists"), namespace="report_lists"))]


@hooks.register("register_reports_menu_item")
def behind_menu_item():
    return ReportMenuItem(
        _("Who is behind"), reverse("report_lists:behind"), icon_name="warning", order=200
    )


@hooks.register("register_reports_menu_item")
def register_menu_item():
    return ReportMenuItem(
        _("Pre-appointment register"), reverse("report_lists:register"), icon_name="doc-full",
        order=300,
    )  # fmt: skip


@hooks.register("register_reports_menu_item")
def yearend_menu_item():
    return ReportMenuItem(
        _("Year-end figures"), reverse("report_lists:yearend"), icon_name="table", order=400
    )


@hooks.register("register_role_permissions")
def reminder_role_permissions():
    """HR and organizers remind officials who are behind and see who was reminded."""
    reminders = {"wagtailadmin.access_admin", "exams.add_reminder", "exams.view_reminder"}
    return {roles.ORGANIZER: reminders, roles.HR: set(reminders), roles.OFFICIAL: set()}


@hooks.register("register_demo_data")
def reminder_demo_data():
    return [(90, "Reminders", load_reminders)]
