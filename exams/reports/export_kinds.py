"""The background exports this family registers: the completion report as xlsx and
the study records of a department subtree as one PDF. Parameters are checked against
the requester's report scope both when asked for and again when the job runs."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.models import Department, Official

from .access import scope_root, visible_departments, visible_officials
from .completion import build_report, report_xlsx
from .exports import ExportError, register_export
from .record_pdf import records_pdf

DEFAULT_MAX_RECORDS = 5000


def max_records():
    """Most officials one study-record PDF may hold (XUEFA_EXPORT_MAX_RECORDS)."""
    return int(getattr(settings, "XUEFA_EXPORT_MAX_RECORDS", DEFAULT_MAX_RECORDS))


class ExportParametersForm(forms.Form):
    """Year and department (within the user's scope), shared by both kinds."""

    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000)
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("Whole organisation"),
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["department"].queryset = visible_departments(user)
        self.fields["department"].label_from_instance = lambda d: d.indented_name()
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year > timezone.localdate().year + 1:
            raise ValidationError(_("Choose a year up to next year."))
        return year

    def clean_department(self):
        department = self.cleaned_data.get("department")
        if department is None and scope_root(self.user) is not None:
            return scope_root(self.user)
        return department

    def parameters(self):
        department = self.cleaned_data.get("department")
        return {
            "year": self.cleaned_data["year"],
            "department": department.pk if department else None,
        }


class CompletionExportForm(ExportParametersForm):
    leaders_only = forms.BooleanField(label=gettext_lazy("Leaders only"), required=False)
    position = forms.CharField(label=gettext_lazy("Position"), required=False, max_length=64)
    rank = forms.CharField(label=gettext_lazy("Rank"), required=False, max_length=64)

    def parameters(self):
        return {
            **super().parameters(),
            "leaders_only": self.cleaned_data["leaders_only"],
            "position": self.cleaned_data["position"].strip(),
            "rank": self.cleaned_data["rank"].strip(),
        }


class StudyRecordsExportForm(ExportParametersForm):
    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["department"].required = True
        self.fields["department"].empty_label = None

    def clean(self):
        cleaned = super().clean()
        department = cleaned.get("department")
        if department is not None:
            count = visible_officials(self.user, Official.objects.in_department(department)).count()
            if count > max_records():
                raise ValidationError(
                    _(
                        "%(department)s has %(count)s officials; one PDF holds at most "
                        "%(limit)s. Choose a smaller department."
                    )
                    % {"department": department.name, "count": count, "limit": max_records()}
                )
        return cleaned


def _form_parameters(form_class):
    def clean(user, data):
        form = form_class(user, data)
        if not form.is_valid():
            messages = [str(m) for errors in form.errors.values() for m in errors]
            raise ValidationError(messages)
        return form.parameters()

    return clean


def _department(job):
    """The job's department, refused if it has left the requester's scope since."""
    pk = job.parameters.get("department")
    if pk is None:
        if scope_root(job.requested_by) is not None:
            raise ExportError(_("Your reports are limited to a department; choose one."))
        return None
    department = visible_departments(job.requested_by).filter(pk=pk).first()
    if department is None:
        raise ExportError(_("The department no longer exists or is outside your reports."))
    return department


def build_study_records(job, progress):
    year = int(job.parameters["year"])
    department = _department(job)
    officials = visible_officials(job.requested_by, Official.objects.in_department(department))
    count = officials.count()
    if count > max_records():
        raise ExportError(_("Too many officials for one PDF; choose a smaller department."))
    progress(0, count)
    content = records_pdf(officials, year, progress=progress)
    name = _("Study records %(department)s %(year)s") % {
        "department": department.name,
        "year": year,
    }
    return f"{name}.pdf", content


def build_completion(job, progress):
    """The completion report (exams.reports.completion) as xlsx."""
    params = job.parameters
    year = int(params["year"])
    department = _department(job)
    report = build_report(
        year,
        user=job.requested_by,
        department=department,
        leaders_only=bool(params.get("leaders_only")),
        position=params.get("position", ""),
        rank=params.get("rank", ""),
    )
    content = report_xlsx(report, progress=progress)
    where = department.name if department else _("whole organisation")
    name = _("Completion report %(department)s %(year)s") % {"department": where, "year": year}
    return f"{name}.xlsx", content


FORMS = {"completion": CompletionExportForm, "study_records": StudyRecordsExportForm}

register_export(
    "completion",
    gettext_lazy("Completion report (Excel)"),
    build_completion,
    parameters=_form_parameters(CompletionExportForm),
)
register_export(
    "study_records",
    gettext_lazy("Study records of a department (PDF)"),
    build_study_records,
    parameters=_form_parameters(StudyRecordsExportForm),
)
