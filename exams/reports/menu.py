"""The Study reports submenu (学法报表) of the Wagtail admin. Each report module adds its
item as a ReportMenuItem through the `register_reports_menu_item` hook; the submenu shows
only to users who may view reports.

Wagtail's own Reports menu (报告: locked pages, workflows, site history…) collects items
through the same hook. Each menu keeps its own: ReportMenuItems show only under Study
reports and every other item only under Wagtail's Reports, so no report is listed twice
and each stays where its users found it."""

from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from .access import can_view_reports


class ReportMenuItem(MenuItem):
    """An item of the Study reports submenu, shown to users who may view reports."""

    def is_shown(self, request):
        return can_view_reports(request.user)


class StudyReportsMenu(Menu):
    """The ReportMenuItems among the items registered for the reports menus."""

    def menu_items_for_request(self, request):
        items = super().menu_items_for_request(request)
        return [item for item in items if isinstance(item, ReportMenuItem)]


reports_menu = StudyReportsMenu(
    register_hook_name="register_reports_menu_item", construct_hook_name=None
)


class ReportsMenuItem(SubmenuMenuItem):
    def is_shown(self, request):
        return can_view_reports(request.user) and super().is_shown(request)


@hooks.register("register_admin_menu_item")
def register_reports_menu():
    return ReportsMenuItem(
        _("Study reports"), reports_menu, icon_name="table", name="study-reports", order=260
    )


@hooks.register("construct_reports_menu")
def leave_study_reports_to_their_menu(request, menu_items):
    """Wagtail's Reports menu keeps Wagtail's reports only."""
    menu_items[:] = [item for item in menu_items if not isinstance(item, ReportMenuItem)]
