"""Wagtail hooks for court observations: admin screens, role permissions, the study
plan requirement, the dashboard panel, the audit records to retain (attendance
changes), demo data and sized fake data. They are how this app joins the rest:
neither learning nor exams' core imports it."""

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from learning import roles
from learning.audit_log import AuditLogModel

from . import demo, fake_data
from .credit import ObservationRequirements
from .dashboard import ObservationPanel
from .models import AttendanceChange
from .viewsets import CourtObservationViewSet, ObservationToolsViewSet

register_snippet(CourtObservationViewSet)


@hooks.register("register_admin_viewset")
def register_observation_tools():
    return ObservationToolsViewSet()


@hooks.register("register_role_permissions")
def observation_role_permissions():
    return {
        roles.ORGANIZER: {
            "wagtailadmin.access_admin",
            "observations.add_courtobservation",
            "observations.change_courtobservation",
            "observations.delete_courtobservation",
            "observations.view_courtobservation",
            "observations.view_attendance",
            "observations.change_attendance",
            "observations.view_reflection",
        },
        roles.HR: {
            "wagtailadmin.access_admin",
            "observations.view_courtobservation",
            "observations.view_attendance",
        },
        roles.OFFICIAL: set(),
    }


@hooks.register("register_plan_requirements")
def observation_plan_requirements():
    return ObservationRequirements()


@hooks.register("register_dashboard_panels")
def observation_dashboard_panels(request):
    return [ObservationPanel(request)]


@hooks.register("register_audit_log_models")
def observation_audit_log_models():
    return [AuditLogModel("attendance changes", AttendanceChange, "changed_at")]


@hooks.register("register_demo_data")
def observation_demo_data():
    return [(66, "Court observations", demo.load_observations)]


@hooks.register("register_fake_data")
def observation_fake_data():
    return [("court observation attendances", fake_data.create_observations)]
