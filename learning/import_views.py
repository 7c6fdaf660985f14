"""Back-office screens for imports, the same for every importer: upload a file, read
its preview (what would be created, changed and left out, every error and warning),
then confirm or cancel; the job page follows a large file through the worker and ends
with what was imported. Each app offers its importer with an `ImportViewSet`."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View

from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from . import import_jobs
from .imports import get_importer
from .models import ImportJob
from .spreadsheets import XLSX

ACCEPT = ".xlsx,.xls,.csv," + XLSX + ",application/vnd.ms-excel,text/csv"
RECENT_JOBS = 5


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (.xlsx, .xls or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )


class _ImporterMixin:
    """Resolves the view set's importer and refuses users it does not allow; a job is
    reachable only by the person who uploaded it (anyone else gets 404)."""

    viewset = None

    def dispatch(self, request, *args, **kwargs):
        self.importer = get_importer(self.viewset.importer_kind)
        if self.importer is None or not self.importer.allowed(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_job(self):
        return get_object_or_404(
            ImportJob.objects.of(self.request.user).with_problem_count(),
            pk=self.kwargs["pk"],
            kind=self.viewset.importer_kind,
        )

    def url(self, name, *args):
        return reverse(self.viewset.get_url_name(name), args=args)


class UploadView(_ImporterMixin, WagtailAdminTemplateMixin, FormView):
    template_name = "learning/admin/import_upload.html"
    form_class = UploadForm
    header_icon = "upload"

    def get_page_title(self):
        return self.viewset.page_title

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            importer=self.importer,
            intro=self.viewset.intro,
            template_url=reverse(self.importer.template_url_name),
            extra_links=self.viewset.extra_links(),
            recent=ImportJob.objects.of(self.request.user)
            .with_problem_count()
            .filter(kind=self.importer.kind)
            .defer("data", "preview", "result", "sealed")[:RECENT_JOBS],
            job_url=self.viewset.get_url_name("job"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            job = import_jobs.start_import(
                self.request.user, self.importer.kind, form.cleaned_data["file"]
            )
        except import_jobs.ImportRefused as refused:
            form.add_error("file", str(refused))
            return self.form_invalid(form)
        return redirect(self.url("job", job.pk))


class JobView(_ImporterMixin, WagtailAdminTemplateMixin, TemplateView):
    """A job's progress, its preview with the confirm step, or its result."""

    template_name = "learning/admin/import_job.html"
    header_icon = "upload"

    def get_page_title(self):
        return self.viewset.page_title

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": self.url("upload"), "label": self.get_page_title()},
            {"url": "", "label": self.job.filename},
        ]

    def get(self, request, *args, **kwargs):
        self.job = self.get_job()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        job = self.job
        return super().get_context_data(
            job=job,
            preview=import_jobs.job_preview(job),
            confirm_url=self.url("confirm", job.pk),
            cancel_url=self.url("cancel", job.pk),
            sealed_url=self.url("sealed", job.pk) if job.sealed else "",
            upload_url=self.url("upload"),
            done_url=self.viewset.done_url(),
            **kwargs,
        )


class ConfirmView(_ImporterMixin, View):
    def post(self, request, pk):
        job = self.get_job()
        preview = import_jobs.job_preview(job)
        if preview is None or request.POST.get("fingerprint") != preview.fingerprint:
            # The page confirmed is not the preview the job holds now.
            messages.warning(request, _("The preview changed; check it and confirm again."))
            return redirect(self.url("job", job.pk))
        known = {str(m["id"]) for m in preview.missing}
        options = {
            "deactivate": [int(pk) for pk in request.POST.getlist("deactivate") if pk in known]
        }
        if not import_jobs.confirm(job, options):
            messages.info(request, _("This file was already confirmed."))
        return redirect(self.url("job", job.pk))


class CancelView(_ImporterMixin, View):
    def post(self, request, pk):
        job = self.get_job()
        if import_jobs.cancel(job):
            messages.info(
                request, _("Nothing was imported from %(file)s.") % {"file": job.filename}
            )
        return redirect(self.url("upload"))


class SealedView(_ImporterMixin, View):
    """One download of what the import hands to the requester alone (the roster's
    initial passwords); a second request finds nothing."""

    def post(self, request, pk):
        job = self.get_job()
        sealed = import_jobs.take_sealed(job)
        download = self.importer.sealed_download(sealed) if sealed else None
        if download is None:
            raise Http404
        content, filename = download
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class _PermissionMenuItem(MenuItem):
    def __init__(self, *args, permission, **kwargs):
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_shown(self, request):
        return request.user.has_perm(self.permission)


class ImportViewSet(ViewSet):
    """The upload, job, confirm, cancel and one-time download URLs of one importer.
    Subclasses set `importer_kind`, `page_title`, `intro` and may add URLs."""

    importer_kind = ""
    page_title = ""
    intro = ""
    icon = "upload"
    menu_order = 300

    def extra_links(self):
        """(label, URL) buttons beside the template download."""
        return []

    def done_url(self):
        """Where a finished import leads next."""
        return ""

    def extra_urlpatterns(self):
        return []

    def get_urlpatterns(self):
        def view(cls):
            return cls.as_view(viewset=self)

        return [
            path("", view(UploadView), name="upload"),
            path("<id:pk>/", view(JobView), name="job"),
            path("<id:pk>/confirm/", view(ConfirmView), name="confirm"),
            path("<id:pk>/cancel/", view(CancelView), name="cancel"),
            path("<id:pk>/sealed/", view(SealedView), name="sealed"),
            *self.extra_urlpatterns(),
        ]

    @property
    def menu_url(self):
        return reverse(self.get_url_name("upload"))

    def get_menu_item(self, order=None):
        return _PermissionMenuItem(
            self.menu_label,
            self.menu_url,
            name=self.menu_name,
            icon_name=self.menu_icon,
            order=order or self.menu_order,
            permission=get_importer(self.importer_kind).permission,
        )
