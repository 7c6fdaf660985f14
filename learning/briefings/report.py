"""Who has confirmed a 明白纸, for HR and organizers: per sheet, the share confirmed in
each department and who has not; per year, the totals the year-end report quotes
(`register_year_end_figures`) and the completion report's column.

A sheet's audience is the active officials it is for as their profiles are now
(department, leader); "confirmed" counts receipts of that audience only. Everything
is limited to the viewer's report scope (learning.ReportScope: a department subtree;
learning/report_scope.py, which exams' reports use too)."""

import dataclasses

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from ..models import Official
from ..models.study import Audience
from ..report_scope import scope_root
from .models import BriefingReceipt, BriefingSheetPage, department_prefixes


def audience_condition(sheet):
    """A Q on Official: the sheet's audience."""
    if sheet.audience == Audience.ALL:
        return Q()
    if sheet.audience == Audience.LEADERS:
        return Q(is_leader=True)
    condition = Q(pk__in=[])
    for department in sheet.departments.all():
        condition |= Q(department__path__startswith=department.path)
    return condition


def audience_officials(sheet, root=None):
    """The active officials the sheet is for (within `root`'s subtree, when given)."""
    officials = Official.objects.active().filter(audience_condition(sheet))
    return officials.in_department(root) if root is not None else officials


def percent(part, whole):
    return round(100 * part / whole, 1) if whole else None


@dataclasses.dataclass
class Figures:
    """Confirmations of a group: a department, a sheet, a year."""

    label: str = ""
    audience: int = 0
    confirmed: int = 0

    @property
    def share(self):
        return percent(self.confirmed, self.audience)

    def add(self, other):
        self.audience += other.audience
        self.confirmed += other.confirmed


@dataclasses.dataclass
class SheetReport:
    sheet: BriefingSheetPage
    rows: list  # Figures per department, in tree order
    totals: Figures
    unconfirmed: list  # Officials, by department and staff number


def sheet_report(sheet, user):
    """Per department (the officials' own), the sheet's audience in the user's scope
    and how many confirmed; and who has not. Four queries."""
    officials = list(
        audience_officials(sheet, scope_root(user))
        .select_related("user", "department")
        .order_by("department__path", "staff_number")
    )
    confirmed = set(
        BriefingReceipt.objects.filter(
            sheet=sheet, official__in=[o.pk for o in officials]
        ).values_list("official_id", flat=True)
    )
    rows, totals, unconfirmed = {}, Figures(_("Total")), []
    for official in officials:
        row = rows.setdefault(official.department_id, Figures(official.department.name))
        row.audience += 1
        if official.pk in confirmed:
            row.confirmed += 1
        else:
            unconfirmed.append(official)
    for row in rows.values():
        totals.add(row)
    return SheetReport(sheet, list(rows.values()), totals, unconfirmed)


def sheets_of_year(year):
    """The published sheets issued in `year` (validity starting in it)."""
    return (
        BriefingSheetPage.objects.live()
        .in_year(year)
        .prefetch_related("departments")
        .order_by("valid_from", "pk")
    )


def _people(root):
    """[(official id, is leader, department path)] of active officials in scope."""
    officials = Official.objects.active().order_by()
    if root is not None:
        officials = officials.in_department(root)
    return list(officials.values_list("pk", "is_leader", "department__path"))


def _expects(sheet, is_leader, path, prefixes_of):
    if sheet.audience == Audience.ALL:
        return True
    if sheet.audience == Audience.LEADERS:
        return is_leader
    prefixes = prefixes_of(path)
    return any(d.path in prefixes for d in sheet.departments.all())


def official_counts(people, year):
    """{official id: (sheets expected, sheets confirmed)} for the year's sheets, for
    `people` given as (official id, is leader, department path). Three queries
    however many officials: the completion report's column."""
    sheets = list(sheets_of_year(year))
    if not sheets or not people:
        return {}
    receipts = set(
        BriefingReceipt.objects.filter(sheet__in=sheets).values_list("sheet_id", "official_id")
    )
    cache = {}

    def prefixes_of(path):
        if path not in cache:
            cache[path] = set(department_prefixes(path))
        return cache[path]

    counts = {}
    for pk, is_leader, path in people:
        expected = confirmed = 0
        for sheet in sheets:
            if _expects(sheet, is_leader, path, prefixes_of):
                expected += 1
                confirmed += (sheet.pk, pk) in receipts
        counts[pk] = (expected, confirmed)
    return counts


@dataclasses.dataclass
class YearReport:
    year: int
    sheets: list  # (sheet, Figures)
    totals: Figures


def year_report(user, year):
    """Each sheet issued in `year` with its audience and confirmations in the user's
    scope, and the year's totals (person × sheet pairs). Four queries."""
    sheets = list(sheets_of_year(year))
    people = _people(scope_root(user))
    receipts = set(
        BriefingReceipt.objects.filter(sheet__in=sheets).values_list("sheet_id", "official_id")
    )
    prefixes = {}

    def prefixes_of(path):
        return prefixes.setdefault(path, set(department_prefixes(path)))

    rows, totals = [], Figures(_("Total"))
    for sheet in sheets:
        figures = Figures(sheet.title)
        for pk, is_leader, path in people:
            if _expects(sheet, is_leader, path, prefixes_of):
                figures.audience += 1
                figures.confirmed += (sheet.pk, pk) in receipts
        rows.append((sheet, figures))
        totals.add(figures)
    return YearReport(year, rows, totals)


def year_end_figures(user, year):
    """The figures `register_year_end_figures` reports (keys
    briefings.*), each linking to the report view that shows it."""
    report = year_report(user, year)
    url = reverse("briefings_report:index") + f"?year={year}"
    return [
        {"key": "briefings.sheets", "label": _("Briefing sheets issued"),
         "value": len(report.sheets), "url": url},
        {"key": "briefings.audience", "label": _("Briefing sheet readers expected"),
         "value": report.totals.audience, "url": url},
        {"key": "briefings.confirmed", "label": _("Briefing sheets confirmed as read"),
         "value": report.totals.confirmed, "url": url},
        {"key": "briefings.share", "label": _("Share of briefing sheets confirmed (%)"),
         "value": report.totals.share, "url": url},
    ]  # fmt: skip
