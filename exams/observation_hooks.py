"""Wagtail hooks for court observations: admin screens, role permissions, the study
plan requirement, the dashboard panel and demo data."""

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from learning import roles

from .observation_admin import CourtObservationViewSet, ObservationToolsViewSet

register_snippet(CourtObservationViewSet)


@hooks.register("register_admin_viewset")
def register_observation_tools():
    return ObservationToolsViewSet()


@hooks.register("register_role_permissions")
def observation_role_permissions():
    return {
        roles.ORGANIZER: {
            "wagtailadmin.access_admin",
            "exams.add_courtobservation",
            "exams.change_courtobservation",
            "exams.delete_courtobservation",
            "exams.view_courtobservation",
            "exams.view_attendance",
            "exams.change_attendance",
            "exams.view_reflection",
        },
        roles.HR: {
            "wagtailadmin.access_admin",
            "exams.view_courtobservation",
            "exams.view_attendance",
        },
        roles.OFFICIAL: set(),
    }


@hooks.register("register_plan_requirements")
def observation_plan_requirements():
    from .observation_credit import ObservationRequirements

    return ObservationRequirements()


@hooks.register("register_dashboard_panels")
def observation_dashboard_panels(request):
    from .observation_dashboard import ObservationPanel

    return [ObservationPanel(request)]


@hooks.register("register_demo_data")
def observation_demo_data():
    from . import observation_demo

    return [(66, "Court observations", observation_demo.load_observations)]


__all__ = [
    "observation_dashboard_panels",
    "observation_demo_data",
    "observation_plan_requirements",
    "observation_role_permissions",
    "register_observation_tools",
]
