"""Who may read reports, and which part of the organisation they may see.

Reports are for HR and organizers (the `learning.view_reports` permission). A user
with a `ReportScope` sees only that department's subtree; everyone else with the
permission sees the whole organisation. Every app's reports ask here (exams'
through exams/reports/access.py, learning's own, such as the briefing sheets')."""

from .models import Department, Official, ReportScope

PERMISSION = "learning.view_reports"


def can_view_reports(user):
    return bool(user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


def scope_root(user):
    """The department the user's reports are limited to, or None for everything
    (read once per user object)."""
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
