"""Admin screens for who is behind (with reminders), the pre-appointment register
(with certificate downloads) and the year-end figures. Views stay thin: the rules
live in behind.py, reminders.py, register.py and yearend.py."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView, View

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from django_tasks import TaskResultStatus

from learning.spreadsheets import table_xlsx, xlsx_response

from ..certificates import certificate_pdf
from . import behind, register, reminders, yearend, yearend_docx
from .access import ReportAccessMixin, can_view_reports

PER_PAGE = 50
REMIND_PERMISSION = "exams.add_reminder"
FILTER_FIELDS = ("year", "department", "kind", "leaders", "q")


def can_remind(user):
    return can_view_reports(user) and user.has_perm(REMIND_PERMISSION)


class ReportPageMixin(ReportAccessMixin, WagtailAdminTemplateMixin):
    header_icon = "table"

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]


def _page(request, items):
    return Paginator(items, PER_PAGE).get_page(request.GET.get("page"))


# Who is behind ---------------------------------------------------------------------


class BehindView(ReportPageMixin, TemplateView):
    """The list of officials behind on the year's plan, filterable and paginated."""

    page_title = gettext_lazy("Who is behind")
    template_name = "exams/reports/behind.html"

    def get_context_data(self, **kwargs):
        form = behind.BehindFilterForm(self.request.GET, user=self.request.user)
        page = rows = None
        total = 0
        if form.is_valid():
            found = behind.from_form(form)
            total = len(found)
            page = _page(self.request, found.official_ids)
            rows = found.rows(page.object_list)
        return super().get_context_data(
            form=form,
            page=page,
            rows=rows,
            total=total,
            can_remind=can_remind(self.request.user),
            filters=_filter_items(form),
            **kwargs,
        )


def _filter_items(form):
    """The valid filters as (name, value) pairs, carried by the reminder form."""
    if not form.is_bound or not form.is_valid():
        return []
    return [(name, form.data[name]) for name in FILTER_FIELDS if form.data.get(name)]


class BehindExportView(ReportAccessMixin, View):
    def get(self, request):
        form = behind.BehindFilterForm(request.GET, user=request.user)
        if not form.is_valid():
            return redirect(reverse("report_lists:behind") + "?" + request.GET.urlencode())
        found = behind.from_form(form)
        content = table_xlsx(
            _("Who is behind"),
            behind.headers(),
            behind.xlsx_rows(found.rows()),
            number_formats={5: "0.0", 6: "0.0", 10: "yyyy-mm-dd hh:mm"},
        )
        return xlsx_response(content, f"behind-{found.year}.xlsx")


class RemindForm(forms.Form):
    officials = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    everyone = forms.BooleanField(required=False)
    force = forms.BooleanField(required=False)

    def __init__(self, data, candidates):
        super().__init__(data)
        self.fields["officials"].choices = [(pk, pk) for pk in candidates]

    def clean(self):
        data = super().clean()
        if not data.get("everyone") and not data.get("officials"):
            raise forms.ValidationError(_("Choose the officials to remind."))
        return data


class BehindRemindView(ReportAccessMixin, View):
    """Send the chosen officials (or everyone under the filters) one reminder each.
    POST only; the list is recomputed from the filters, so only officials the user
    may see and who are still behind are reminded."""

    http_method_names = ["post"]

    def post(self, request):
        if not request.user.has_perm(REMIND_PERMISSION):
            raise PermissionDenied
        filters = QueryDict(mutable=True)
        for name in FILTER_FIELDS:
            if request.POST.get(name):
                filters[name] = request.POST[name]
        back = reverse("report_lists:behind") + "?" + filters.urlencode()
        form = behind.BehindFilterForm(filters, user=request.user)
        if not form.is_valid():
            messages.error(request, _("The filters are not valid; nobody was reminded."))
            return redirect(back)
        found = behind.from_form(form)
        remind = RemindForm(request.POST, found.official_ids)
        if not remind.is_valid():
            for error in remind.errors.get("__all__", []) or [
                _("Some of the chosen officials are no longer behind or not in your scope.")
            ]:
                messages.error(request, error)
            return redirect(back)
        picked = set(remind.cleaned_data["officials"])
        everyone = remind.cleaned_data["everyone"]
        chosen = [pk for pk in found.official_ids if everyone or pk in picked]
        outcome = reminders.send_reminders_task.enqueue(
            chosen, found.year, request.user.pk, remind.cleaned_data["force"]
        )
        if outcome.status == TaskResultStatus.SUCCESSFUL:
            _report(request, outcome.return_value)
        elif outcome.status == TaskResultStatus.FAILED:
            messages.error(request, _("Sending the reminders failed; please try again."))
        else:
            messages.info(
                request,
                ngettext(
                    "The reminder to %(count)d official is being sent.",
                    "Reminders to %(count)d officials are being sent.",
                    len(chosen),
                )
                % {"count": len(chosen)},
            )
        return redirect(back)


def _report(request, result):
    """Messages for ReminderResult.names(): counts, and who could not be reached."""
    if result["sent"]:
        messages.success(
            request,
            ngettext(
                "Reminder sent to %(count)d official.",
                "Reminders sent to %(count)d officials.",
                len(result["sent"]),
            )
            % {"count": len(result["sent"])},
        )
    if result["no_email"]:
        messages.warning(
            request,
            _("Not reachable (no e-mail address): %(names)s.")
            % {"names": "、".join(result["no_email"])},
        )
    if result["failed"]:
        messages.error(
            request,
            _("Sending failed for: %(names)s.") % {"names": "、".join(result["failed"])},
        )
    if result["recently_reminded"]:
        messages.info(
            request,
            ngettext(
                "%(count)d official was already reminded in the last 24 hours and was "
                "skipped; tick “Send again” to remind them anyway.",
                "%(count)d officials were already reminded in the last 24 hours and were "
                "skipped; tick “Send again” to remind them anyway.",
                len(result["recently_reminded"]),
            )
            % {"count": len(result["recently_reminded"])},
        )


# Pre-appointment register ----------------------------------------------------------


class RegisterView(ReportPageMixin, TemplateView):
    page_title = gettext_lazy("Pre-appointment register")
    template_name = "exams/reports/register.html"

    def get_context_data(self, **kwargs):
        form = register.RegisterFilterForm(self.request.GET)
        page = None
        total = 0
        if form.is_valid():
            rows = register.register(self.request.user, **form.cleaned_data)
            total = len(rows)
            page = _page(self.request, rows)
        return super().get_context_data(form=form, page=page, total=total, **kwargs)


class RegisterExportView(ReportAccessMixin, View):
    def get(self, request):
        form = register.RegisterFilterForm(request.GET)
        if not form.is_valid():
            return redirect(reverse("report_lists:register") + "?" + request.GET.urlencode())
        rows = register.register(request.user, **form.cleaned_data)
        content = table_xlsx(
            _("Pre-appointment register"),
            register.headers(),
            register.xlsx_rows(rows),
            number_formats={7: "0.00", 8: "0.00", 10: "yyyy-mm-dd"},
        )
        return xlsx_response(content, f"pre-appointment-{form.cleaned_data['year']}.xlsx")


class CertificateView(ReportAccessMixin, View):
    """HR's result statement (成绩证明) of a pre-appointment candidate, pass or fail:
    score, band and result for the appointment file. A pass also has its 合格证书,
    which the candidate downloads from the result page and anyone can verify."""

    def get(self, request, pk):
        attempt = register.certificate_attempt(request.user, pk)
        if attempt is None:
            raise Http404
        response = HttpResponse(certificate_pdf(attempt), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="certificate-{attempt.pk}.pdf"'
        return response


# Year-end figures ------------------------------------------------------------------


class YearForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)


def _year(request):
    form = YearForm(request.GET or {"year": timezone.localdate().year})
    return form, (form.cleaned_data["year"] if form.is_valid() else None)


class YearEndView(ReportPageMixin, TemplateView):
    page_title = gettext_lazy("Year-end figures")
    template_name = "exams/reports/yearend.html"

    def get_context_data(self, **kwargs):
        form, year = _year(self.request)
        figures = yearend.year_end(self.request.user, year) if year else None
        return super().get_context_data(
            form=form,
            figures=figures,
            summary=yearend.summary_rows(figures) if figures else [],
            exam_headers=yearend.exam_headers(),
            **kwargs,
        )


class YearEndPrintView(ReportAccessMixin, View):
    """The figures on one plain page, for printing or saving as PDF from the browser."""

    def get(self, request):
        form, year = _year(request)
        if year is None:
            return redirect(reverse("report_lists:yearend") + "?" + request.GET.urlencode())
        figures = yearend.year_end(request.user, year)
        return render(
            request,
            "exams/reports/yearend_print.html",
            {
                "figures": figures,
                "summary": yearend.summary_rows(figures),
                "exam_headers": yearend.exam_headers(),
                "printed_at": timezone.localtime(),
            },
        )


class YearEndExportView(ReportAccessMixin, View):
    def get(self, request):
        form, year = _year(request)
        if year is None:
            return redirect(reverse("report_lists:yearend") + "?" + request.GET.urlencode())
        figures = yearend.year_end(request.user, year)
        return xlsx_response(yearend.workbook(figures), f"year-end-{year}.xlsx")


class YearEndDocxView(ReportAccessMixin, View):
    """The study section of the annual report drafted as .docx (yearend_docx)."""

    def get(self, request):
        form, year = _year(request)
        if year is None:
            return redirect(reverse("report_lists:yearend") + "?" + request.GET.urlencode())
        response = HttpResponse(
            yearend_docx.draft(request, year), content_type=yearend_docx.CONTENT_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="year-end-{year}.docx"'
        return response
