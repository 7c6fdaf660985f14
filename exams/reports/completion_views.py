"""Admin screens of the completion report: organisation → department → official, and
the xlsx download. Read-only (ReportAccessMixin serves GET and HEAD only); a scoped
user cannot open a department or official outside their subtree (404)."""

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View

from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from learning import spreadsheets
from learning.lecture_requirements import with_requirements
from learning.models import Department, Official, SessionAttendance, StudyRecord
from learning.views import study_history

from . import charts
from .access import ReportAccessMixin, can_see_department, visible_departments
from .completion import build_report, report_xlsx

FIRST_YEAR = 2000


class CompletionFilterForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), required=False)
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("Whole organisation"),
    )
    position = forms.ChoiceField(label=gettext_lazy("Position"), required=False)
    rank = forms.ChoiceField(label=gettext_lazy("Rank"), required=False)
    leaders_only = forms.BooleanField(label=gettext_lazy("Leaders only"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = visible_departments(user)
        self.fields["department"].label_from_instance = lambda d: d.indented_name()
        everyone = gettext_lazy("All")
        for name in ("position", "rank"):
            values = (
                Official.objects.exclude(**{name: ""})
                .order_by(name)
                .values_list(name, flat=True)
                .distinct()
            )
            self.fields[name].choices = [("", everyone), *((v, v) for v in values)]

    def clean_year(self):
        year = self.cleaned_data["year"]
        this_year = timezone.localdate().year
        if year is None:
            return this_year
        if not FIRST_YEAR <= year <= this_year + 1:
            raise forms.ValidationError(
                _("Choose a year between %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": this_year + 1}
            )
        return year

    def report_kwargs(self):
        """Keyword arguments of build_report; defaults when the form is invalid."""
        self.is_valid()  # cleaned_data keeps the fields that are valid
        data = getattr(self, "cleaned_data", {})
        return {
            "year": data.get("year") or timezone.localdate().year,
            "department": data.get("department"),
            "leaders_only": bool(data.get("leaders_only")),
            "position": data.get("position", ""),
            "rank": data.get("rank", ""),
        }


class CompletionReportMixin(ReportAccessMixin, WagtailAdminTemplateMixin):
    header_icon = "table"

    def get_filters(self):
        form = CompletionFilterForm(self.request.GET or None, user=self.request.user)
        return form, form.report_kwargs()

    def query_string(self, **overrides):
        params = {k: v for k, v in self.request.GET.items() if v}
        params.update({k: v for k, v in overrides.items() if v is not None})
        return urlencode({k: v for k, v in params.items() if v != ""})

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse("completion_report:index"), "label": _("Completion report")},
        ]


class CompletionReportView(CompletionReportMixin, TemplateView):
    """The organisation's (or the chosen subtree's) figures per department."""

    template_name = "exams/reports/completion.html"
    page_title = gettext_lazy("Completion report")

    def get_context_data(self, **kwargs):
        form, options = self.get_filters()
        year = options.pop("year")
        report = build_report(year, user=self.request.user, **options)
        context = super().get_context_data(**kwargs)
        context.update(
            form=form,
            report=report,
            # Drill-down links keep the filters but name their own department.
            query=self.query_string(year=year, department=""),
            xlsx_url=reverse("completion_report:xlsx") + "?" + self.query_string(year=year),
            complete_chart=charts.horizontal_bars(
                [(row.department.name, row.complete_share) for row in report.rows],
                title=_("Share complete per department"),
            ),
            score_chart=charts.histogram(
                report.histogram, title=_("Annual exam: distribution of percentages")
            ),
            has_scores=any(count for _label, count in report.histogram),
        )
        return context

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items()[:-1], {"url": "", "label": self.page_title}]


class CompletionDepartmentView(CompletionReportMixin, TemplateView):
    """A department's officials (itself and below), each with every required item."""

    template_name = "exams/reports/completion_department.html"

    def get_page_title(self):
        return _("Completion report: %(department)s") % {"department": self.department.name}

    def get_context_data(self, **kwargs):
        self.department = get_object_or_404(Department, pk=self.kwargs["pk"])
        if not can_see_department(self.request.user, self.department):
            raise Http404
        form, options = self.get_filters()
        del form.fields["department"]  # the page is the department
        options["department"] = self.department
        year = options.pop("year")
        report = build_report(year, user=self.request.user, **options)
        items = {}
        for row in report.officials:
            for item in row.completion.required_items:
                items.setdefault(item.key, item)
        for row in report.officials:
            done = {item.key for item in row.completion.done}
            required = {item.key for item in row.completion.required_items}
            row.cells = [
                "done" if key in done else "missing" if key in required else "" for key in items
            ]
        context = super().get_context_data(**kwargs)
        context.update(
            form=form,
            report=report,
            department=self.department,
            items=list(items.values()),
            query=self.query_string(year=year, department=""),
        )
        return context


class CompletionOfficialView(CompletionReportMixin, TemplateView):
    """One official's record for the year, as they see it at /me/record/."""

    template_name = "exams/reports/completion_official.html"

    def get_page_title(self):
        return _("Study record: %(name)s") % {"name": self.official.name}

    def get_context_data(self, **kwargs):
        self.official = get_object_or_404(
            Official.objects.select_related("user", "department"), pk=self.kwargs["pk"]
        )
        _form, options = self.get_filters()
        year = options["year"]
        # The report decides where the official belongs in the year; a scoped user
        # sees only the officials their report lists.
        report = build_report(year, user=self.request.user, only=[self.official.pk])
        if not report.officials:
            raise Http404
        row = report.officials[0]
        records = (
            StudyRecord.objects.filter(official=self.official)
            .active_in_year(year)
            .select_related("lecture")
            .order_by("-last_heartbeat_at", "-pk")
        )
        sessions = (
            SessionAttendance.objects.filter(official=self.official, session__date__year=year)
            .select_related("session")
            .order_by("-session__date")
        )
        # Each lecture's quiz, passed or not yet (learning.lecture_requirements).
        year_records, lecture_requirements = with_requirements(records[:200], self.official.pk)
        context = super().get_context_data(**kwargs)
        context.update(
            official=self.official,
            department=row.department,
            year=year,
            row=row,
            completion=row.completion,
            year_records=year_records,
            lecture_requirements=lecture_requirements,
            sessions=sessions[:200],
            history=study_history(self.official),
            query=self.query_string(),
        )
        return context


class CompletionXlsxView(ReportAccessMixin, View):
    """The report with the page's filters as an xlsx download."""

    def get(self, request):
        form = CompletionFilterForm(request.GET or None, user=request.user)
        options = form.report_kwargs()
        year = options.pop("year")
        report = build_report(year, user=request.user, **options)
        return spreadsheets.xlsx_response(report_xlsx(report), f"completion-{year}.xlsx")
