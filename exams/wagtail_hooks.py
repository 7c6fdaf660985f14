from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.shortcuts import get_object_or_404, redirect
from django.urls import include, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from wagtail import hooks
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views.generic import InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import IndexView as SnippetIndexView
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from learning import roles
from learning.agenda import FOLLOW_UP_HOOK as AGENDA_FOLLOW_UP_HOOK
from learning.fast import Invalidation
from learning.fast import dashboard as fast_dashboard
from learning.models import LawTopic

from . import admin_views as v
from . import audit, certificate_views, certificates, demo, integrity, marking_views, papers
from . import results as exam_results
from .admin_views import QuestionImportViewSet
from .agenda_follow_up import FollowUpProvider
from .agenda_follow_up import dashboard_panels as follow_up_dashboard_panels
from .agenda_follow_up import invalidations as follow_up_invalidations
from .agenda_follow_up import load_demo as load_follow_up_demo
from .dashboard import ExamsPanel
from .forms import QUESTION_EDIT_HANDLER, ExamSessionForm, PaperForm
from .models import (
    Attempt,
    AttemptState,
    ExamSession,
    Paper,
    PaperQuestion,
    PaperRule,
    Question,
)
from .models.plans import PlanExam
from .models.quizzes import LectureQuiz, LectureQuizQuestion, QuizAttempt
from .models.sessions import SessionCandidate, SessionOverride
from .plan_requirements import ExamRequirements
from .question_io import QuestionImporter
from .quiz_admin import LectureQuizViewSet
from .quizzes import QuizRequirements
from .reports import admin_home, completion_hooks, exports_hooks, lists_hooks, menu  # noqa: F401
from .reports.data_screen import (
    DATA_SCREEN_HOOK,
    data_screen_invalidations,
    data_screen_panels,
)


class QuestionIndexView(SnippetIndexView):
    @property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.request.user.has_perm("exams.add_question"):
            buttons.append(
                Button(_("Import from Excel"), url=reverse("question_import:upload"),
                       icon_name="upload", priority=50)
            )  # fmt: skip
        buttons.append(
            Button(_("Export to Excel"), url=reverse("exams_admin:question_export"),
                   icon_name="download", priority=60)
        )  # fmt: skip
        buttons.append(
            Button(_("Download the template"), url=reverse("exams_admin:question_template"),
                   icon_name="download", priority=70)
        )  # fmt: skip
        return buttons


class QuestionViewSet(SnippetViewSet):
    model = Question
    icon = "help"
    menu_label = _("Question bank")
    index_view_class = QuestionIndexView
    list_display = ["key", "__str__", "type", "topic", "difficulty", BooleanColumn("active")]
    list_filter = ["type", "topic", "difficulty", "active"]
    list_per_page = 50
    ordering = ["topic__sort_order", "key"]
    edit_handler = QUESTION_EDIT_HANDLER


class PaperViewSet(SnippetViewSet):
    model = Paper
    icon = "doc-full"
    menu_label = _("Papers")
    list_display = ["title", "mode", "updated_at"]
    list_filter = ["mode"]
    edit_handler = ObjectList(Paper.panels, base_form_class=PaperForm)


class SessionIndexView(SnippetIndexView):
    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if self.request.user.has_perm("exams.view_exam_statistics"):
            buttons.append(
                MenuItem(_("Statistics"), url=reverse("exams_admin:statistics", args=[instance.pk]),
                         icon_name="table", priority=15)
            )  # fmt: skip
        return buttons


class ExamSessionViewSet(SnippetViewSet):
    model = ExamSession
    icon = "date"
    menu_label = _("Exam sessions")
    index_view_class = SessionIndexView
    list_display = ["title", "kind", "year", "opens_at", "closes_at"]
    list_filter = ["kind", "year"]
    edit_handler = ObjectList(ExamSession.panels, base_form_class=ExamSessionForm)


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Attempts are written by the engine only; the back office can look, not touch."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


class AttemptInspectView(InspectView):
    """An attempt's facts, then its integrity log, and for an attempt bound to one
    device the organizer's button to allow another."""

    template_name = "exams/admin/attempt_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attempt = self.object
        context["integrity_events"] = list(attempt.integrity_events.all())
        context["can_release"] = (
            attempt.state == AttemptState.IN_PROGRESS
            and bool(attempt.device)
            and self.request.user.has_perm("exams.change_examsession")
        )
        return context

    def get_header_more_buttons(self):
        buttons = certificate_views.void_buttons(self.request.user, self.object)
        return sorted([*super().get_header_more_buttons(), *buttons])


@require_POST
def release_device(request, pk):
    """The organizer allows another device for an attempt bound to one (the session's
    one-device rule); logged in the attempt's integrity log."""
    if not request.user.has_perm("exams.change_examsession"):
        raise PermissionDenied
    attempt = get_object_or_404(Attempt.objects.select_related("session"), pk=pk)
    if integrity.release_device(attempt, request.user):
        messages.success(request, gettext("The next device to open this attempt may continue it."))
    return redirect("exams_attempts:inspect", pk)


class AttemptViewSet(ModelViewSet):
    model = Attempt
    inspect_view_class = AttemptInspectView
    name = "exams_attempts"
    icon = "tasks"
    menu_label = _("Results")
    add_to_admin_menu = False
    url_prefix = "exams/attempts"
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "official",
        "session",
        "number",
        "state",
        "score",
        "band",
        "passed",
        Column("departures", label=_("Departures")),
        Column("integrity_count", label=_("Integrity log")),
    ]
    list_filter = ["session", "state", "band", "passed"]
    list_export = [
        "session",
        "official",
        "number",
        "state",
        "started_at",
        "submitted_at",
        "score",
        "max_score",
        "percent",
        "band",
        "passed",
        "verification_code",
        "departures",
    ]
    export_filename = "exam-results"
    search_fields = ["verification_code", "official__user__name", "official__staff_number"]
    inspect_view_fields = [
        "session",
        "official",
        "number",
        "state",
        "started_at",
        "deadline",
        "submitted_at",
        "score",
        "max_score",
        "percent",
        "band",
        "passed",
        "verification_code",
        "departures",
        "voided_at",
        "void_reason",
    ]

    # Our bounded id converter: a 20-digit id is a 404, not an overflow.
    pk_path_converter = "id"

    # Only the listing, its export and the inspect view are routed; the form is never used.
    form_fields = ["state"]
    read_only_views = {"index", "index_results", "inspect"}

    def get_urlpatterns(self):
        patterns = [p for p in super().get_urlpatterns() if p.name in self.read_only_views]
        return [*patterns, path("<id:pk>/release-device/", release_device, name="release_device")]

    def get_queryset(self, request):
        return Attempt.objects.select_related("session", "official__user").annotate(
            integrity_count=Count("integrity_events")
        )


class ExamsViewSetGroup(SnippetViewSetGroup):
    menu_label = _("Exams")
    menu_icon = "form"
    menu_order = 250
    # Screens that are not viewsets (marking) add their items through this hook.
    submenu_hook = "register_exams_menu_item"
    items = (QuestionViewSet, PaperViewSet, ExamSessionViewSet, AttemptViewSet)


register_permission_policy(Attempt, ReadOnlyPermissionPolicy(Attempt))
register_snippet(ExamsViewSetGroup)


@hooks.register("register_admin_viewset")
def register_question_import_viewset():
    return QuestionImportViewSet()


@hooks.register("register_admin_urls")
def exams_admin_urls():
    urls = [
        path("questions/export/", v.QuestionExportView.as_view(), name="question_export"),
        path("questions/template/", v.QuestionTemplateView.as_view(), name="question_template"),
        path("sessions/<id:pk>/statistics/", v.SessionStatisticsView.as_view(), name="statistics"),
        path(
            "sessions/<id:pk>/statistics.xlsx",
            v.SessionStatisticsExportView.as_view(),
            name="statistics_export",
        ),
        path("sessions/<id:pk>/close/", v.SessionCloseView.as_view(), name="close"),
    ]
    return [path("exams-tools/", include((urls, "exams_admin"), namespace="exams_admin"))]


EXAM_MODELS = ("question", "paper", "examsession")


@hooks.register("register_role_permissions")
def exams_role_permissions():
    organizer = {f"exams.{action}_{model}" for model in EXAM_MODELS
                 for action in ("add", "change", "delete", "view")}  # fmt: skip
    viewer = {f"exams.view_{model}" for model in EXAM_MODELS}
    results = {"exams.view_attempt", "exams.view_exam_statistics"}
    return {
        roles.ORGANIZER: organizer | results | {"wagtailadmin.access_admin"},
        roles.HR: viewer | results | {"wagtailadmin.access_admin"},
        roles.OFFICIAL: set(),
    }


@hooks.register("register_dashboard_panels")
def exams_dashboard_panels(request):
    return [ExamsPanel(request)]


@hooks.register("register_demo_data")
def exams_demo_data():
    return [
        (50, "Exam questions", demo.load_questions),
        (55, "Exam papers and sessions", demo.load_sessions),
        (60, "Exam attempts", demo.load_attempts),
        (65, "Lecture quizzes", demo.load_quizzes),
    ]


@hooks.register("register_plan_requirements")
def exam_plan_requirements():
    return ExamRequirements()


# Audit: changes that move results are logged in Wagtail's log (exams/audit.py).
hooks.register("register_log_actions", audit.register_actions)


@hooks.register("before_edit_snippet")
def remember_exam_overrides(request, instance):
    if request.method == "POST" and isinstance(instance, ExamSession):
        request._exam_overrides_before = audit.overrides_snapshot(instance)


@hooks.register("after_edit_snippet")
def log_exam_overrides(request, instance):
    before = getattr(request, "_exam_overrides_before", None)
    if before is not None and isinstance(instance, ExamSession):
        audit.log_overrides_change(instance, before, request.user)


@hooks.register("before_edit_snippet")
def warn_of_undrawable_papers(request, instance):
    """Questions deactivated or deleted after a paper was saved can leave it short, and
    officials are then refused at the start: the organizer sees why on opening the
    paper or a session that uses it."""
    if request.method != "GET":
        return
    if isinstance(instance, ExamSession):
        used = [instance.paper, instance.leader_paper]
    elif isinstance(instance, Paper):
        used = [instance]
    else:
        return
    for paper in dict.fromkeys(filter(None, used)):
        for problem in papers.draw_problems(paper):
            messages.warning(
                request,
                gettext("Officials cannot start exams on the paper “%(paper)s”: %(problem)s")
                % {"paper": paper, "problem": problem},
            )


@hooks.register("register_importers")
def register_question_importer():
    return [QuestionImporter()]


@hooks.register("register_fast_path_invalidations")
def dashboard_fast_path_invalidations():
    """What the exams panel and the plans' exam requirements show on the dashboard
    (learning.fast.dashboard): sessions, their audiences and the plans' exams for
    everyone; an official's attempts, overrides and quiz attempts for that official
    (a submission's state UPDATE is followed by a save of its scores, which tells)."""
    shared = [ExamSession, SessionCandidate, PlanExam, LectureQuiz, LectureQuizQuestion]
    found = [
        Invalidation(fast_dashboard.SHARED_FAMILY, signal, model)
        for model in shared
        for signal in (post_save, post_delete)
    ]
    found += [
        Invalidation(fast_dashboard.SHARED_FAMILY, m2m_changed, through)
        for through in (ExamSession.departments.through, ExamSession.gate_topics.through)
    ]
    found += [
        Invalidation(fast_dashboard.family_of_official, signal, model)
        for model in (Attempt, SessionOverride, QuizAttempt)
        for signal in (post_save, post_delete)
    ]
    return found


@hooks.register("register_fast_path_invalidations")
def papers_fast_path_invalidations():
    """The "papers" family (exams.paper_cache): what an attempt draws from."""
    return [
        Invalidation("papers", signal, model)
        for model in (Question, LawTopic, Paper, PaperQuestion, PaperRule)
        for signal in (post_save, post_delete)
    ]


# Marking of short-answer and case-analysis answers (exams/marking_views.py).
@hooks.register("register_admin_urls")
def marking_admin_urls():
    urls = [
        path("", marking_views.QueueView.as_view(), name="queue"),
        path("next/", marking_views.NextView.as_view(), name="next"),
        path("answers/<id:pk>/", marking_views.AnswerView.as_view(), name="answer"),
    ]
    return [path("marking/", include((urls, "exams_marking"), namespace="exams_marking"))]


@hooks.register("register_exams_menu_item")
def marking_menu_item():
    return marking_views.MarkingMenuItem(
        _("Marking"), reverse("exams_marking:queue"), icon_name="edit", order=500
    )


@hooks.register("register_role_permissions")
def marking_role_permissions():
    """Organizers mark hand-marked answers (and may look at and change markings)."""
    return {roles.ORGANIZER: {f"exams.{action}_marking" for action in ("add", "change", "view")}}


# Certificates and voided results (exams/certificates.py, exams/certificate_views.py).
hooks.register("register_log_actions", certificates.register_actions)
hooks.register("register_log_actions", exam_results.register_actions)


@hooks.register("register_admin_urls")
def certificate_admin_urls():
    lookup = [path("", certificate_views.CertificateLookupView.as_view(), name="lookup")]
    void = [path("<id:pk>/void/", certificate_views.VoidResultView.as_view(), name="void")]
    return [
        path("certificates/", include((lookup, "certificates_admin"))),
        path("results/", include((void, "results_admin"))),
    ]


@hooks.register("register_reports_menu_item")
def certificate_lookup_menu_item():
    return menu.ReportMenuItem(
        _("Check a certificate"), reverse("certificates_admin:lookup"), icon_name="doc-full",
        order=350,
    )  # fmt: skip


# Lecture quizzes (exams/quizzes.py, exams/quiz_admin.py, exams/quiz_views.py).
register_snippet(LectureQuizViewSet)


@hooks.register("register_lecture_requirements")
def lecture_quiz_requirements():
    """A lecture with a required quiz is completed once it is passed too."""
    return QuizRequirements()


@hooks.register("register_fast_path_invalidations")
def lecture_quiz_fast_path_invalidations():
    """A lecture page's shell shows the quiz's parts only when the lecture has one."""
    return [Invalidation("pages", signal, LectureQuiz) for signal in (post_save, post_delete)]


@hooks.register("register_role_permissions")
def lecture_quiz_role_permissions():
    actions = ("add", "change", "delete", "view")
    return {
        roles.ORGANIZER: {f"exams.{action}_lecturequiz" for action in actions},
        roles.HR: {"exams.view_lecturequiz"},
    }


def _warn_of_undrawable_session_papers(request, instance):
    """Saving a session: whether the bank can fill its paper and its leaders' paper
    for every candidate is said at once, before anyone is refused at the start."""
    if not isinstance(instance, ExamSession):
        return
    for paper in dict.fromkeys(filter(None, [instance.paper, instance.leader_paper])):
        for problem in papers.draw_problems(paper):
            messages.warning(
                request,
                gettext("Officials cannot start exams on the paper “%(paper)s”: %(problem)s")
                % {"paper": paper, "problem": problem},
            )


hooks.register("after_create_snippet", _warn_of_undrawable_session_papers)
hooks.register("after_edit_snippet", _warn_of_undrawable_session_papers)


# The admin home's panels per role (exams/reports/admin_home.py).
hooks.register("construct_homepage_panels", admin_home.add_role_panels)


# The screens' data screen (content's hook, named by string: exams does not import
# content): the completion, pass-rate and observation panels, and what renews them.
hooks.register(DATA_SCREEN_HOOK, data_screen_panels)
hooks.register("register_fast_path_invalidations", data_screen_invalidations)


# Follow-up questions after a meeting's law study, 会后测试 (exams/agenda_follow_up.py):
# learning's agenda asks the provider; officials' to-do panel, its invalidation, demo.
hooks.register(AGENDA_FOLLOW_UP_HOOK, FollowUpProvider)
hooks.register("register_dashboard_panels", follow_up_dashboard_panels)
hooks.register("register_fast_path_invalidations", follow_up_invalidations)
hooks.register(
    "register_demo_data", lambda: [(66, "Agenda follow-up questions", load_follow_up_demo)]
)
