"""The admin home's panels per role (Wagtail's `construct_homepage_panels` hook): what
each back-office role has to do next, every row linking to where it is done.

Organizers see the exams opening this week, the lectures awaiting moderation and
today's court observations with their check-ins; HR sees who is behind with this
year's study plans, per department of their report scope, and their own recent
exports. A panel shows to a user who holds its role (a superuser holds every role)
and the permission of what it lists and links to. Each panel costs a fixed number of
queries, however many rows lie behind it."""

import dataclasses
import datetime
from collections import Counter

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Q
from django.db.models.functions import Cast
from django.utils import timezone

from wagtail.admin.ui.components import Component
from wagtail.models import WorkflowState
from wagtail.permission_policies.pages import PagePermissionPolicy

from learning import roles
from learning.completion import plans_for_year
from learning.models import Department, LecturePage, Official

from ..models import ExamSession, ExportJob
from ..observations.models import SEAT_STATUSES, CourtObservation, Status
from . import exports
from .access import PERMISSION as REPORTS_PERMISSION
from .access import visible_departments, visible_officials
from .behind import behind

# Rows a panel lists; its footer says how many more there are and links to all of them.
ROWS = 8


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def this_week(today=None):
    """[Monday 00:00, next Monday 00:00) of the current week, in local time."""
    today = today or timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    return _day_start(monday), _day_start(monday + datetime.timedelta(days=7))


def today_bounds(today=None):
    today = today or timezone.localdate()
    return _day_start(today), _day_start(today + datetime.timedelta(days=1))


class RolePanel(Component):
    """A panel of one role, shown to its holders who also have `permission`."""

    role = None
    permission = None

    def __init__(self, request):
        self.request = request

    @classmethod
    def shown_to(cls, user, user_roles):
        return cls.role in user_roles and user.has_perm(cls.permission)

    def get_context_data(self, parent_context=None):
        return {"request": self.request, "user": self.request.user, "panel": self}


class ExamsThisWeekPanel(RolePanel):
    """Exam sessions whose window opens this week (Monday to Sunday)."""

    name = "exams_this_week"
    order = 100
    role = roles.ORGANIZER
    permission = "exams.change_examsession"
    template_name = "exams/reports/home/exams_this_week.html"

    def get_context_data(self, parent_context=None):
        start, end = this_week()
        sessions = ExamSession.objects.filter(opens_at__gte=start, opens_at__lt=end)
        listed = list(sessions.order_by("opens_at", "pk")[:ROWS])
        user = self.request.user
        return {
            **super().get_context_data(parent_context),
            "sessions": listed,
            "more": sessions.count() - len(listed),
            "monday": timezone.localdate(start),
            "sunday": timezone.localdate(end) - datetime.timedelta(days=1),
            "now": timezone.now(),
            "can_add": user.has_perm("exams.add_examsession"),
            "can_see_statistics": user.has_perm("exams.view_exam_statistics"),
        }


class LecturesInModerationPanel(RolePanel):
    """Lecture pages submitted to a workflow and not yet approved, oldest first, among
    the pages the user may edit or publish."""

    name = "lectures_in_moderation"
    order = 110
    role = roles.ORGANIZER
    template_name = "exams/reports/home/lectures_in_moderation.html"
    actions = ("change", "publish")

    @classmethod
    def shown_to(cls, user, user_roles):
        policy = PagePermissionPolicy(LecturePage)
        return cls.role in user_roles and policy.user_has_any_permission(user, cls.actions)

    def get_context_data(self, parent_context=None):
        user = self.request.user
        editable = PagePermissionPolicy(LecturePage).instances_user_has_any_permission_for(
            user, self.actions
        )
        states = WorkflowState.objects.filter(
            status=WorkflowState.STATUS_IN_PROGRESS,
            content_type=ContentType.objects.get_for_model(LecturePage),
            object_id__in=editable.annotate(key=Cast("pk", CharField())).values("key"),
        )
        listed = list(
            states.select_related("current_task_state__task", "requested_by").order_by(
                "current_task_state__started_at", "pk"
            )[:ROWS]
        )
        lectures = LecturePage.objects.in_bulk([int(state.object_id) for state in listed])
        rows = [
            (lectures[int(state.object_id)], state)
            for state in listed
            if int(state.object_id) in lectures
        ]
        return {
            **super().get_context_data(parent_context),
            "rows": rows,
            "more": states.count() - len(listed),
        }


class CheckInsTodayPanel(RolePanel):
    """Today's court observations: who is expected and who has checked in."""

    name = "check_ins_today"
    order = 120
    role = roles.ORGANIZER
    permission = "observations.change_attendance"
    template_name = "exams/reports/home/check_ins_today.html"

    def get_context_data(self, parent_context=None):
        start, end = today_bounds()
        observations = CourtObservation.objects.filter(starts_at__lt=end, ends_at__gte=start)
        counted = observations.annotate(
            expected=Count("attendance", filter=Q(attendance__status__in=SEAT_STATUSES)),
            present=Count("attendance", filter=Q(attendance__status=Status.PRESENT)),
            late=Count("attendance", filter=Q(attendance__status=Status.LATE)),
        )
        listed = list(counted.order_by("starts_at", "pk")[:ROWS])
        for observation in listed:
            observation.checked_in = observation.present + observation.late
        return {
            **super().get_context_data(parent_context),
            "observations": listed,
            "more": observations.count() - len(listed),
        }


@dataclasses.dataclass
class BehindRow:
    department: Department
    behind: int
    officials: int


def department_units(user):
    """The departments the behind panel counts under, by path, and their depth: the
    first level of the user's part of the tree that has more than one department (a
    district's bureaus; a scoped bureau's sections)."""
    departments = list(visible_departments(user).only("pk", "name", "path", "depth"))
    if not departments:
        return {}, 0
    depth = min(department.depth for department in departments)
    while len([d for d in departments if d.depth == depth]) == 1 and any(
        d.depth > depth for d in departments
    ):
        depth += 1
    return {d.path: d for d in departments if d.depth <= depth}, depth


def behind_per_department(user, year):
    """(rows, officials behind in all): BehindRows of the departments with someone
    behind in `year`, most behind first. An official counts under the department of
    `department_units` their own department lies in (or under their own, when it lies
    above that level)."""
    units, depth = department_units(user)
    found = behind(user, year)
    paths = dict(
        visible_officials(user, Official.objects.active()).values_list("pk", "department__path")
    )
    width = depth * Department.steplen

    def unit_of(official_id):
        path = paths[official_id]
        return units.get(path[:width]) or units.get(path)

    officials = Counter(unit_of(pk) for pk in paths)
    behind_counts = Counter(unit_of(pk) for pk in found.official_ids if pk in paths)
    rows = [
        BehindRow(unit, count, officials[unit])
        for unit, count in behind_counts.items()
        if unit is not None
    ]
    rows.sort(key=lambda row: (-row.behind, row.department.path))
    return rows, len(found)


class BehindPanel(RolePanel):
    """Officials behind with this year's study plans, per department of the report
    scope (exams.reports.behind: the same list HR reminds from)."""

    name = "behind_per_department"
    order = 130
    role = roles.HR
    permission = REPORTS_PERMISSION
    template_name = "exams/reports/home/behind.html"

    def get_context_data(self, parent_context=None):
        year = timezone.localdate().year
        context = {**super().get_context_data(parent_context), "year": year}
        if not plans_for_year(year):
            return {**context, "no_plan": True}
        rows, total = behind_per_department(self.request.user, year)
        return {**context, "rows": rows[:ROWS], "more": len(rows[ROWS:]), "total": total}


class RecentExportsPanel(RolePanel):
    """The user's latest background exports, with their progress or file."""

    name = "recent_exports"
    order = 140
    role = roles.HR
    permission = REPORTS_PERMISSION
    template_name = "exams/reports/home/recent_exports.html"
    listed = 5

    def get_context_data(self, parent_context=None):
        jobs = list(ExportJob.objects.of(self.request.user)[: self.listed])
        for job in jobs:
            job.kind_label = exports.kind_label(job.kind)
        return {**super().get_context_data(parent_context), "jobs": jobs}


PANELS = (
    ExamsThisWeekPanel,
    LecturesInModerationPanel,
    CheckInsTodayPanel,
    BehindPanel,
    RecentExportsPanel,
)


def add_role_panels(request, panels):
    """For `construct_homepage_panels`: the panels of the user's roles, before
    Wagtail's own (their order is 100 to 140; Wagtail's start at 210)."""
    user = request.user
    held = roles.user_roles(user)
    if not held:
        return
    panels.extend(panel(request) for panel in PANELS if panel.shown_to(user, held))
