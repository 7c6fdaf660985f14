"""Who may read reports, and which part of the organisation they may see.

Reports are for HR and organizers (the `learning.view_reports` permission). They
never change anything. A user with a `learning.ReportScope` sees only that
department's subtree; everyone else with the permission sees the whole organisation.
"""

from django.core.exceptions import PermissionDenied

from learning.models import Department, Official, ReportScope

PERMISSION = "learning.view_reports"


def can_view_reports(user):
    return bool(user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


def scope_root(user):
    """The department the user's reports are limited to, or None for everything."""
    if not hasattr(user, "_report_scope_root"):
        scope = ReportScope.objects.filter(user=user).select_related("department").first()
        user._report_scope_root = scope.department if scope else None
    return user._report_scope_root


def visible_departments(user):
    """Departments the user may report on (the whole tree, or the scope's subtree)."""
    root = scope_root(user)
    queryset = Department.objects.all()
    return queryset.subtree(root) if root is not None else queryset


def visible_officials(user, queryset=None):
    """Officials the user may report on."""
    queryset = Official.objects.all() if queryset is None else queryset
    root = scope_root(user)
    return queryset.in_department(root) if root is not None else queryset


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
