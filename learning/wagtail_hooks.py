from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup

from . import roles
from .admin_views import RosterImportViewSet
from .viewsets import DepartmentViewSet, OfficialViewSet


class OrganisationViewSetGroup(ViewSetGroup):
    """HR's corner of the back office: the department tree, officials, the roster."""

    menu_label = _("Organisation")
    menu_icon = "group"
    menu_order = 250
    items = (DepartmentViewSet, OfficialViewSet, RosterImportViewSet)


@hooks.register("register_admin_viewset")
def register_organisation_viewsets():
    return OrganisationViewSetGroup()


@hooks.register("register_role_permissions")
def organisation_role_permissions():
    return {
        roles.ORGANIZER: {
            "wagtailadmin.access_admin",
            "learning.view_department",
            "learning.view_official",
        },
        roles.HR: {
            "wagtailadmin.access_admin",
            "learning.view_department",
            "learning.add_department",
            "learning.change_department",
            "learning.view_official",
            "learning.change_official",
            "learning.import_roster",
            "learning.view_reports",
        },
        roles.OFFICIAL: set(),
    }


@hooks.register("register_dashboard_panels")
def organisation_dashboard_panels(request):
    from .dashboard import ProfilePanel

    return [ProfilePanel(request)]


@hooks.register("register_demo_data")
def organisation_demo_data():
    from . import demo

    return [
        (10, "Departments created", demo.load_departments),
        (20, "Officials created", demo.load_people),
    ]
