"""Wagtail hooks for court observations: admin screens, role permissions, the study
plan requirement, the dashboard panel, the audit records to retain (attendance
changes), demo data and sized fake data. They are how this app joins the rest:
neither learning nor exams' core imports it."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from learning import roles
from learning.audit_log import AuditLogModel
from learning.fast import Invalidation
from learning.fast import dashboard as fast_dashboard

from . import demo, fake_data
from .credit import ObservationRequirements
from .dashboard import ObservationPanel
from .models import (
    Attendance,
    AttendanceChange,
    CasePage,
    CourtObservation,
    PlanObservation,
    Reflection,
)
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
            # Turning an observation into a case page (以案释法, exams.observations.cases).
            "observations.add_casepage",
            "observations.change_casepage",
            "observations.view_casepage",
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
    return [
        (66, "Court observations", demo.load_observations),
        (67, "Court observation case pages", demo.load_case),
    ]


@hooks.register("register_fake_data")
def observation_fake_data():
    return [("court observation attendances", fake_data.create_observations)]


@hooks.register("register_fast_path_invalidations")
def observation_dashboard_invalidations():
    """What the court observation panel and the plans' observation requirements show
    on the dashboard (learning.fast.dashboard): observations, invitations, plans and
    case pages (publishing one opens make-ups) for everyone; an official's attendance
    and reflections for that official (check-in and check-out written with update()
    are touched in the services)."""
    found = [
        Invalidation(fast_dashboard.SHARED_FAMILY, signal, model)
        for model in (CourtObservation, PlanObservation, CasePage)
        for signal in (post_save, post_delete)
    ]
    found += [
        Invalidation(fast_dashboard.SHARED_FAMILY, m2m_changed, through)
        for through in (
            CourtObservation.invited_officials.through,
            CourtObservation.invited_departments.through,
        )
    ]
    found += [
        Invalidation(fast_dashboard.family_of_official, signal, model)
        for model in (Attendance,)
        for signal in (post_save, post_delete)
    ]
    found += [
        Invalidation(reflection_family, signal, Reflection) for signal in (post_save, post_delete)
    ]
    return found


def reflection_family(reflection):
    return fast_dashboard.family_of_official(reflection.attendance)
