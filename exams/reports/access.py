"""Who may read reports, and which part of the organisation they may see: learning's
rules (learning/report_scope.py), and what exams' report views add to them.

Reports never change anything."""

from django.core.exceptions import PermissionDenied

from learning.report_scope import (  # noqa: F401 - the reports' names for them
    PERMISSION,
    can_view_reports,
    scope_root,
    visible_departments,
    visible_officials,
)


def can_see_department(user, department):
    root = scope_root(user)
    return root is None or department.path.startswith(root.path)


def can_see_official(user, official):
    return can_see_department(user, official.department)


class ReportAccessMixin:
    """For report views: 403 unless the user may view reports. Read-only by design:
    only GET and HEAD are served (a POST that changes state, like sending reminders,
    checks its own permission)."""

    def dispatch(self, request, *args, **kwargs):
        if not can_view_reports(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
