"""Views for background exports (my exports, request, status, download) and for the
printable study record: an official downloads their own from /exams/record.pdf;
report viewers download anyone's within their scope from the admin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView, View

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from learning import credits
from learning.models import Official

from ..models import ExportJob, ExportStatus
from . import export_kinds, exports
from .access import ReportAccessMixin, can_see_official
from .record_pdf import record_filename, record_pdf, valid_year

LISTED_JOBS = 50


def _pdf_response(content, filename):
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _year(request):
    if "year" not in request.GET:
        return timezone.localdate().year
    year = valid_year(request.GET["year"])
    if year is None:
        raise Http404
    return year


@login_required
@require_GET
def my_record_pdf(request):
    """The signed-in official's own study record; the URL takes no official id."""
    official = credits.official_for(request.user)
    if official is None:
        raise Http404
    year = _year(request)
    return _pdf_response(record_pdf(official, year), record_filename(official, year))


class OfficialRecordPdfView(ReportAccessMixin, View):
    """Any official's study record, for report viewers whose scope includes them."""

    def get(self, request, official_id):
        official = get_object_or_404(
            Official.objects.select_related("user", "department"), pk=official_id
        )
        if not can_see_official(request.user, official):
            raise PermissionDenied
        year = _year(request)
        return _pdf_response(record_pdf(official, year), record_filename(official, year))


def _job_row(job):
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "finished": job.is_finished,
    }


class MyExportsView(ReportAccessMixin, WagtailAdminTemplateMixin, TemplateView):
    """The user's exports with progress and download links, and forms to ask for new
    ones. The page polls the status endpoint while a job is unfinished."""

    page_title = gettext_lazy("My exports")
    header_icon = "download"
    template_name = "exams/reports/exports.html"

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        jobs = list(ExportJob.objects.of(self.request.user)[:LISTED_JOBS])
        for job in jobs:
            job.kind_label = exports.kind_label(job.kind)
        forms = []
        for kind, form_class in export_kinds.FORMS.items():
            export_kind = exports.get_kind(kind)
            if export_kind and export_kind.allowed(self.request.user):
                forms.append((export_kind, form_class(self.request.user)))
        context.update(
            jobs=jobs,
            forms=forms,
            polling=any(not job.is_finished for job in jobs),
            keep_days=exports.keep_days(),
        )
        return context


class ExportRequestView(ReportAccessMixin, View):
    """POST: queue an export of a registered kind with the posted parameters."""

    http_method_names = ["post"]

    def post(self, request):
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = ""
        try:
            exports.request_export(request.user, request.POST.get("kind", ""), request.POST)
        except LookupError:
            return HttpResponseBadRequest(_("Unknown kind of export."))
        except PermissionError as error:
            raise PermissionDenied from error
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(back or reverse("exams_exports:index"))
        messages.success(
            request, _("Your export has been queued. It appears below with its progress.")
        )
        return redirect("exams_exports:index")


class ExportStatusView(ReportAccessMixin, View):
    """JSON: the status and progress of the user's latest exports, for the poll."""

    def get(self, request):
        jobs = ExportJob.objects.of(request.user)[:LISTED_JOBS]
        return JsonResponse({"jobs": [_job_row(job) for job in jobs]})


class ExportDownloadView(ReportAccessMixin, View):
    """The finished file, for the requester (or a superuser) only."""

    def get(self, request, pk):
        job = get_object_or_404(ExportJob, pk=pk, status=ExportStatus.DONE)
        if job.requested_by_id != request.user.pk and not request.user.is_superuser:
            raise Http404
        if not job.file:
            raise Http404
        try:
            handle = job.file.open("rb")
        except FileNotFoundError as missing:
            raise Http404 from missing
        return FileResponse(handle, as_attachment=True, filename=job.filename or job.file.name)
