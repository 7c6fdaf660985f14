from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.documents import get_document_model
from wagtail.embeds.models import Embed
from wagtail.images import get_image_model
from wagtail.models import PageViewRestriction, Site, get_page_models
from wagtail.permissions import register_permission_policy
from wagtail.signals import page_published, page_unpublished, post_page_move
from wagtail.snippets.models import register_snippet

from . import audit_log, demo, demo_lectures, media, roles, roster
from .admin_views import RosterImportViewSet
from .agenda import register_log_actions as register_agenda_log_actions
from .agenda_attendance import AttendanceImporter
from .agenda_views import (
    AgendaItemViewSet,
    AttendanceImportViewSet,
    add_overdue_panel,
    agenda_admin_urls,
    follow_up_after_edit,
)
from .completion import LectureRequirements
from .dashboard import ProfilePanel
from .demo_agenda import load_agenda
from .fast import Invalidation
from .fast import dashboard as fast_dashboard
from .models import (
    CollectiveStudySession,
    Delivery,
    Department,
    LawTopic,
    Official,
    SessionAttendance,
    Speaker,
    StudyExemption,
    StudyPlan,
    StudyRecord,
)
from .notices.viewsets import DeliveryPermissionPolicy, DeliveryViewSet
from .study_admin import LearningViewSetGroup
from .study_dashboard import StudyPanel
from .viewsets import (
    DepartmentViewSet,
    OfficialViewSet,
    ReportScopeViewSet,
    StudyExemptionViewSet,
)


class OrganisationViewSetGroup(ViewSetGroup):
    """HR's corner of the back office: the department tree, officials, the roster."""

    menu_label = _("Organisation")
    menu_icon = "group"
    menu_order = 250
    items = (
        DepartmentViewSet,
        OfficialViewSet,
        RosterImportViewSet,
        StudyExemptionViewSet,
        ReportScopeViewSet,
    )


@hooks.register("register_admin_viewset")
def register_organisation_viewsets():
    return OrganisationViewSetGroup()


@hooks.register("register_importers")
def register_roster_importer():
    return [roster.RosterImporter()]


@hooks.register("register_log_actions")
def register_roster_log_actions(actions):
    actions.register_action(
        roster.DEACTIVATED,
        _("Deactivate official"),
        _("Official deactivated: missing from an imported roster"),
    )


# Audit records kept for the retention period: Wagtail's log (learning/audit_log.py).
hooks.register("register_audit_log_models", audit_log.wagtail_log_models)


EXEMPTION_PERMISSIONS = {
    f"learning.{action}_studyexemption" for action in ("add", "change", "delete", "view")
}


@hooks.register("register_role_permissions")
def organisation_role_permissions():
    return {
        roles.ORGANIZER: {
            "wagtailadmin.access_admin",
            "learning.view_department",
            "learning.view_official",
            "learning.view_reports",
            *EXEMPTION_PERMISSIONS,
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
            *EXEMPTION_PERMISSIONS,
        },
        roles.OFFICIAL: set(),
    }


@hooks.register("register_dashboard_panels")
def organisation_dashboard_panels(request):
    return [ProfilePanel(request)]


@hooks.register("register_demo_data")
def organisation_demo_data():
    return [
        (10, "Departments created", demo.load_departments),
        (20, "Officials created", demo.load_people),
    ]


# --- Learning: lectures, study plans, collective study (issue 3) -----------------


register_snippet(LearningViewSetGroup)


@hooks.register("register_role_permissions")
def learning_role_permissions():
    organizer = {
        f"learning.{action}_{model}"
        for action in ("add", "change", "delete", "view")
        for model in ("lawtopic", "speaker", "studyplan", "collectivestudysession")
    }
    return {
        roles.ORGANIZER: organizer,
        roles.HR: {
            "learning.view_studyplan",
            "learning.add_studyplan",
            "learning.change_studyplan",
            "learning.view_collectivestudysession",
        },
        roles.OFFICIAL: set(),
    }


@hooks.register("before_serve_document")
def documents_are_private(document, request):
    """A document is sent only to those who may have it (learning/media.py): anyone
    signed out goes to sign in; anyone else it is not for gets 403."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not media.may_see(request, type(document), document.pk):
        raise PermissionDenied
    return None


@hooks.register("register_plan_requirements")
def lecture_plan_requirements():
    return LectureRequirements()


@hooks.register("register_dashboard_panels")
def study_dashboard_panels(request):
    return [StudyPanel(request)]


@hooks.register("register_demo_data")
def learning_demo_data():
    return [
        (30, "Law topics and speakers", demo_lectures.load_topics_and_speakers),
        (32, "Lectures published", demo_lectures.load_lectures),
        (34, "Study plans", demo_lectures.load_study_plans),
        (36, "Collective study sessions", demo_lectures.load_study_sessions),
        (38, "Study records", demo_lectures.load_study_progress),
        (39, "Meeting law-study agenda", load_agenda),
    ]


# --- Fast paths: what starts a new generation of learning's families --------------


@hooks.register("register_fast_path_invalidations")
def learning_fast_path_invalidations():
    """ "pages": the Site, the page tree and everything a lecture shell shows (any
    page saved, published, unpublished, moved or deleted, topics, speakers, images,
    documents, embeds, view restrictions). "permissions": whatever could change who
    may open the back office."""
    senders = [Site, PageViewRestriction, LawTopic, Speaker, get_image_model()]
    senders += [get_document_model(), Embed, *get_page_models()]
    found = [
        Invalidation("pages", signal, sender)
        for signal in (post_save, post_delete)
        for sender in senders
    ]
    found += [
        Invalidation("pages", signal)
        for signal in (page_published, page_unpublished, post_page_move)
    ]
    User = get_user_model()
    throughs = (User.groups.through, User.user_permissions.through, Group.permissions.through)
    found += [Invalidation("permissions", m2m_changed, through) for through in throughs]
    found += [Invalidation("permissions", post_delete, model) for model in (Group, Permission)]
    return found


@hooks.register("register_fast_path_invalidations")
def dashboard_fast_path_invalidations():
    """What learning's dashboard panels show (learning.fast.dashboard): plans,
    departments and collective study for everyone; an official's credit, attendance,
    exemptions and profile for that official (credit written with update() is
    touched in learning.credits)."""
    shared = [StudyPlan, Department, CollectiveStudySession]
    throughs = [
        StudyPlan.departments.through,
        StudyPlan.required_lectures.through,
        StudyPlan.required_series.through,
        CollectiveStudySession.attendees.through,
        CollectiveStudySession.departments.through,
    ]
    found = [
        Invalidation(fast_dashboard.SHARED_FAMILY, signal, model)
        for model in shared
        for signal in (post_save, post_delete)
    ]
    found += [Invalidation(fast_dashboard.SHARED_FAMILY, m2m_changed, t) for t in throughs]
    found += [
        Invalidation(fast_dashboard.family_of_official, signal, model)
        for model in (StudyRecord, SessionAttendance, StudyExemption, Official)
        for signal in (post_save, post_delete)
    ]
    found.append(Invalidation(fast_dashboard.family_of_user, post_save, get_user_model()))
    return found


# --- The year's meeting law-study agenda, 会前学法 (issue 21) ----------------------


register_snippet(AgendaItemViewSet)
hooks.register("register_admin_urls", agenda_admin_urls)
hooks.register("register_log_actions", register_agenda_log_actions)
hooks.register("construct_homepage_panels", add_overdue_panel)
# Follow-up questions (会后测试): the providers hear of attendees added on the forms.
hooks.register("after_edit_snippet", follow_up_after_edit)
hooks.register("after_create_snippet", follow_up_after_edit)


@hooks.register("register_admin_viewset")
def register_attendance_import_viewset():
    return AttendanceImportViewSet()


@hooks.register("register_importers")
def register_attendance_importer():
    return [AttendanceImporter()]


@hooks.register("register_role_permissions")
def agenda_role_permissions():
    return {
        roles.ORGANIZER: {
            f"learning.{action}_agendaitem" for action in ("add", "change", "delete", "view")
        },
        roles.HR: {"learning.view_agendaitem"},
        roles.OFFICIAL: set(),
    }


# --- Notices: the delivery log (issue 20) ---------------------------------------------

register_permission_policy(Delivery, DeliveryPermissionPolicy(Delivery))


@hooks.register("register_admin_viewset")
def register_notice_delivery_viewset():
    return DeliveryViewSet()


@hooks.register("register_role_permissions")
def notice_role_permissions():
    """HR and organizers read the delivery log; nobody edits it."""
    return {
        roles.ORGANIZER: {"wagtailadmin.access_admin", "learning.view_delivery"},
        roles.HR: {"wagtailadmin.access_admin", "learning.view_delivery"},
        roles.OFFICIAL: set(),
    }
