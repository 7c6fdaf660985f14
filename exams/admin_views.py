"""Back-office screens for organizers (HR may look): question bank import and export,
session statistics with their xlsx export, and closing a session early."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from learning.import_views import ImportViewSet
from learning.spreadsheets import xlsx_response

from . import audit, question_io, statistics
from .models import Attempt, ExamSession


class PermissionRequiredMixin:
    permission = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class QuestionImportViewSet(ImportViewSet):
    """The question bank's upload, preview and confirm screens (reached from the
    question list's "Import from Excel" button, so not in the menu)."""

    name = "question_import"
    importer_kind = "questions"
    add_to_admin_menu = False
    page_title = gettext_lazy("Import questions")
    intro = gettext_lazy(
        "Fill in the template, or upload the bank as your office keeps it (.xlsx or .xls "
        "saved by Excel or WPS, or .csv). Rows with a key update that question; a row "
        "without one updates the question with the same text, options and answer instead "
        "of adding it twice. You see what will change before anything is written; a file "
        "with any problem imports nothing."
    )

    def extra_links(self):
        return [(_("Export the question bank"), reverse("exams_admin:question_export"))]

    def done_url(self):
        return reverse("wagtailsnippets_exams_question:list")


class QuestionTemplateView(PermissionRequiredMixin, View):
    permission = "exams.view_question"

    def get(self, request):
        return xlsx_response(question_io.template_xlsx(), "question-template.xlsx")


class QuestionExportView(PermissionRequiredMixin, View):
    permission = "exams.view_question"

    def get(self, request):
        stamp = timezone.localdate().isoformat()
        return xlsx_response(question_io.export_xlsx(), f"questions-{stamp}.xlsx")


class SessionStatisticsView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    """Score distribution and item analysis for one session."""

    permission = "exams.view_exam_statistics"
    header_icon = "table"
    template_name = "exams/admin/statistics.html"

    def dispatch(self, request, *args, **kwargs):
        self.session = get_object_or_404(ExamSession, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _("Statistics: %(session)s") % {"session": self.session.title}

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse("wagtailsnippets_exams_examsession:list"), "label": _("Sessions")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        data = statistics.session_statistics(self.session)
        largest = max([count for _label, count in data.distribution] + [1])
        return super().get_context_data(
            session=self.session,
            stats=data,
            bars=[
                (label, count, round(100 * count / largest)) for label, count in data.distribution
            ],
            can_close=self.request.user.has_perm("exams.change_examsession")
            and not self.session.is_closed(),
            **kwargs,
        )


class SessionStatisticsExportView(PermissionRequiredMixin, View):
    permission = "exams.view_exam_statistics"

    def get(self, request, pk):
        session = get_object_or_404(ExamSession, pk=pk)
        return xlsx_response(statistics.statistics_xlsx(session), f"exam-{session.pk}-stats.xlsx")


class SessionCloseView(PermissionRequiredMixin, View):
    """Close an open session now: nobody can start after this moment; attempts in
    progress get the close time as their deadline, keep the grace period for saves in
    flight, and are then submitted automatically (on access or by the periodic task)."""

    permission = "exams.change_examsession"

    def post(self, request, pk):
        session = get_object_or_404(ExamSession, pk=pk)
        now = timezone.now()
        if session.is_closed(now) or session.opens_at >= now:
            messages.error(request, _("Only an open session can be closed."))
        else:
            ExamSession.objects.filter(pk=session.pk).update(closes_at=now)
            cut = (
                Attempt.objects.in_progress()
                .filter(session=session, deadline__gt=now)
                .update(deadline=now)
            )
            audit.log_session_closed(session, request.user, now, cut)
            messages.success(request, _("The session is closed."))
        return redirect("exams_admin:statistics", pk=session.pk)
