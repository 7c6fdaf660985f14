"""The Reports submenu of the Wagtail admin. Each report module adds its item with the
`register_reports_menu_item` hook; the submenu shows only to users who may view reports."""

from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from .access import can_view_reports

reports_menu = Menu(register_hook_name="register_reports_menu_item", construct_hook_name=None)


class ReportsMenuItem(SubmenuMenuItem):
    def is_shown(self, request):
        return can_view_reports(request.user)


class ReportMenuItem(MenuItem):
    """An item of the Reports submenu, shown to users who may view reports."""

    def is_shown(self, request):
        return can_view_reports(request.user)


@hooks.register("register_admin_menu_item")
def register_reports_menu():
    return ReportsMenuItem(
        _("Study reports"), reports_menu, icon_name="table", name="reports", order=260
    )
