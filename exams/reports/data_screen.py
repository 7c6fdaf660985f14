"""The exams' panels on the screens' data screen (数据大屏), registered through content's
`register_data_screen_panels` hook (exams and content never import each other; the
panels are plain dicts, see content/data_screen.py): completion by top-level
department and exam pass rates as the reports compute them, and the next court
observations. The whole organisation is counted: a screen has no report scope.
Registered in exams/wagtail_hooks.py."""

from collections import defaultdict

from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from learning.fast import Invalidation
from learning.models import Department
from learning.models.study import year_bounds

from ..models import ExamSession
from ..observations.models import CourtObservation
from .completion import DepartmentRow, build_report
from .yearend import exam_figures

# content's hook and fast-path family of the data screen (content/data_screen.py),
# named here: exams does not import content.
DATA_SCREEN_HOOK = "register_data_screen_panels"
DATA_SCREEN_FAMILY = "data_screen"
UPCOMING_OBSERVATIONS = 4


class WholeOrganisation:
    """The reader of the data screen's figures: no report scope (reports.access)."""

    is_authenticated = True
    _report_scope_root = None


def _percent_text(value):
    return "—" if value is None else f"{value:.1f} %"


def top_level_paths():
    """{path: department} of the top-level departments: below the single root when
    the tree has one (the district government), else the roots themselves."""
    roots = list(Department.objects.filter(depth=1))
    if len(roots) == 1:
        below = list(Department.objects.filter(depth=2))
        if below:
            return {d.path: d for d in below}
    return {d.path: d for d in roots}


def completion_by_department(year):
    """[(department, DepartmentRow)] of the year's completion report summed per
    top-level department, in tree order: the share complete is the report's, over
    the officials the report lists under each."""
    report = build_report(year, user=WholeOrganisation())
    tops = top_level_paths()
    steplen = Department.steplen
    depth = min((d.depth for d in tops.values()), default=1)
    summed = defaultdict(lambda: None)
    for row in report.rows:
        top = tops.get(row.department.path[: steplen * depth])
        if top is None:
            continue  # the root's own officials belong to no top-level department
        total = summed[top.path]
        if total is None:
            total = summed[top.path] = DepartmentRow(top)
        total.merge(row)
    return [(tops[path], summed[path]) for path in sorted(summed)]


def completion_panel(now):
    year = timezone.localtime(now).year
    rows = [
        {
            "label": department.short_name or department.name,
            "value": row.complete_percent,
            "text": _percent_text(row.complete_percent),
        }
        for department, row in completion_by_department(year)
    ]
    return {
        "key": "completion",
        "order": 20,
        "title": _("%(year)s study plan: share complete by department") % {"year": year},
        "kind": "bars",
        "rows": rows,
    }


def pass_rate_panel(now):
    year = timezone.localtime(now).year
    _start, end = year_bounds(year)
    rows = [
        {
            "label": figures.label,
            "value": figures.pass_rate,
            "text": _("%(rate)s · %(passed)d of %(participants)d")
            % {
                "rate": _percent_text(figures.pass_rate),
                "passed": figures.passed,
                "participants": figures.participants,
            },
        }
        for figures in exam_figures(year, end, None)
        if figures.participants
    ]
    return {
        "key": "pass_rates",
        "order": 30,
        "title": _("%(year)s exam pass rates") % {"year": year},
        "kind": "bars",
        "rows": rows,
    }


def observations_panel(now):
    observations = CourtObservation.objects.upcoming(now).order_by("starts_at", "pk")
    rows = [
        {
            "label": observation.title,
            "text": " · ".join(
                part
                for part in (
                    date_format(timezone.localtime(observation.starts_at), "SHORT_DATETIME_FORMAT"),
                    observation.court,
                )
                if part
            ),
        }
        for observation in observations[:UPCOMING_OBSERVATIONS]
    ]
    return {
        "key": "observations",
        "order": 40,
        "title": _("Upcoming court observations"),
        "kind": "list",
        "rows": rows,
    }


def data_screen_panels(now):
    """The exams' data-screen panels (the register_data_screen_panels hook)."""
    return [completion_panel(now), pass_rate_panel(now), observations_panel(now)]


def data_screen_invalidations():
    """Sessions and observations change the panels' rows at once (the figures
    themselves refresh on content's schedule)."""
    return [
        Invalidation(DATA_SCREEN_FAMILY, signal, model)
        for model in (ExamSession, CourtObservation)
        for signal in (post_save, post_delete)
    ]
