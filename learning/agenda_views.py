"""Back-office screens of the meeting law-study agenda (会前学法): the year's items
as a snippet listing (organizers plan, HR may look), "Record as held" and "Cancel" on
a planned item, the attendance of its collective-study record by ticks or from the
meeting's sign-in list (the shared import screens), and the organizer's admin-home
panel of overdue items. The rules live in learning.agenda."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View

from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.snippets.views.snippets import IndexView as SnippetIndexView
from wagtail.snippets.views.snippets import SnippetViewSet

import django_filters

from . import agenda, agenda_attendance, import_jobs, roles
from .import_views import (
    RECENT_JOBS,
    CancelView,
    ConfirmView,
    ImportViewSet,
    JobView,
    UploadView,
)
from .models import (
    AgendaItem,
    AgendaStatus,
    CollectiveStudySession,
    Department,
    ImportJob,
    LawTopic,
    LecturePage,
    Speaker,
)
from .models.study import Meeting
from .spreadsheets import xlsx_response

CHANGE_ITEM = "learning.change_agendaitem"
ADD_SESSION = "learning.add_collectivestudysession"
CHANGE_SESSION = "learning.change_collectivestudysession"
# Overdue items the admin-home panel lists; its footer counts the rest.
PANEL_ROWS = 8


class _PermissionRequired:
    """Refuses before looking anything up, so a refused user learns nothing of ids."""

    permissions = ()

    def dispatch(self, request, *args, **kwargs):
        if not all(request.user.has_perm(p) for p in self.permissions):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _agenda_index_url():
    return reverse("wagtailsnippets_learning_agendaitem:list")


class _AgendaPage(_PermissionRequired, WagtailAdminTemplateMixin):
    header_icon = "calendar-alt"

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": _agenda_index_url(), "label": _("Meeting law-study agenda")},
            {"url": "", "label": self.get_page_title()},
        ]


# --- The listing -------------------------------------------------------------------------


def _years():
    dates = AgendaItem.objects.dates("date", "year", order="DESC")
    return [(d.year, str(d.year)) for d in dates]


class AgendaItemFilterSet(WagtailFilterSet):
    year = django_filters.ChoiceFilter(
        label=gettext_lazy("Year"), choices=_years, method="filter_year"
    )

    class Meta:
        model = AgendaItem
        fields = ["year", "meeting", "status"]

    def filter_year(self, queryset, name, value):
        return queryset.filter(date__year=int(value))


class NextStepColumn(Column):
    """What can happen next to an item: record or cancel a planned one, see the
    attendance of a held one, the reason of a cancelled one."""

    cell_template_name = "learning/agenda/next_step_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        user = parent_context["request"].user
        context["can_record"] = user.has_perm(CHANGE_ITEM) and user.has_perm(ADD_SESSION)
        context["can_attend"] = user.has_perm(CHANGE_SESSION)
        context["today"] = timezone.localdate()
        return context


class FollowUpColumn(Column):
    """The item's follow-up questions (会后测试): how the attendees answered a held
    item's, or a warning when the lecture has no quiz for them to answer."""

    cell_template_name = "learning/agenda/follow_up_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["summary"] = getattr(instance, "follow_up", None)
        return context


class AgendaIndexView(SnippetIndexView):
    """The listing, with the follow-up figures of the shown items gathered at once
    (a few queries however many items: the providers take them all together)."""

    def get_table(self, object_list):
        items = list(object_list)
        summaries = agenda.follow_up_summaries(items)
        for item in items:
            item.follow_up = summaries.get(item.pk)
        return super().get_table(items)


class AgendaItemViewSet(SnippetViewSet):
    """The year's agenda items: organizers plan them, HR may look."""

    model = AgendaItem
    icon = "calendar-alt"
    menu_label = gettext_lazy("Meeting law-study agenda")
    add_to_admin_menu = True
    menu_order = 215
    list_display = [
        "date",
        "meeting",
        "title",
        Column("speaker", label=gettext_lazy("Speaker"), accessor="speaker"),
        "status",
        NextStepColumn("next_step", label=gettext_lazy("Next step"), accessor="status"),
        FollowUpColumn(
            "follow_up", label=gettext_lazy("Follow-up questions"), accessor="follow_up_questions"
        ),
    ]
    index_view_class = AgendaIndexView
    filterset_class = AgendaItemFilterSet
    search_fields = ["title"]
    ordering = ["date", "pk"]
    copy_view_enabled = False
    inspect_view_enabled = True

    def get_queryset(self, request):
        return AgendaItem.objects.select_related("speaker").annotate(
            attendance_count=Count("session__attendance")
        )


# --- Record as held, cancel ---------------------------------------------------------------


class HeldForm(forms.Form):
    """The collective-study record as the agenda planned it; the organizer changes
    what went otherwise at the meeting."""

    date = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    meeting = forms.ChoiceField(label=gettext_lazy("Meeting"), choices=Meeting.choices)
    title = forms.CharField(label=gettext_lazy("Study item"), max_length=200)
    topics = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Law topics"),
        queryset=LawTopic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lecturer = forms.ModelChoiceField(
        label=gettext_lazy("Lecturer"), queryset=Speaker.objects.all(), required=False
    )
    lecture = forms.ModelChoiceField(
        label=gettext_lazy("Lecture page"),
        queryset=LecturePage.objects.order_by("-date", "title"),
        required=False,
    )
    credit_minutes = forms.IntegerField(
        label=gettext_lazy("Credit minutes"), min_value=0, max_value=32767
    )
    follow_up_questions = forms.BooleanField(
        label=gettext_lazy("Follow-up questions"),
        required=False,
        help_text=gettext_lazy(
            "Attendees are asked to answer the quiz of the lecture page after the meeting."
        ),
    )
    follow_up_days = forms.IntegerField(
        label=gettext_lazy("Days to answer"),
        required=False,
        min_value=1,
        max_value=366,
        help_text=gettext_lazy("Counted from the meeting; leave empty for no due date."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("follow_up_questions") and not cleaned.get("lecture"):
            self.add_error("lecture", _("Follow-up questions need a lecture page: choose one."))
        return cleaned


class _ItemView(_AgendaPage):
    """Permissions first (the mixin's dispatch), then the item: made-up ids are 404s."""

    def get_item(self):
        if not hasattr(self, "item"):
            self.item = get_object_or_404(
                AgendaItem.objects.select_related("session", "speaker", "lecture"),
                pk=self.kwargs["pk"],
            )
        return self.item


class RecordHeldView(_ItemView, FormView):
    """One screen between "Record as held" and the attendance: the record prefilled
    from the item. A second submit leads to the record the first one made."""

    permissions = (CHANGE_ITEM, ADD_SESSION)
    template_name = "learning/agenda/held.html"
    form_class = HeldForm
    page_title = gettext_lazy("Record as held")

    def get(self, request, *args, **kwargs):
        item = self.get_item()
        if item.session_id:
            return redirect("agenda_admin:attendance", item.session_id)
        if item.status == AgendaStatus.CANCELLED:
            messages.warning(request, _("This item was cancelled; it cannot be recorded as held."))
            return redirect(_agenda_index_url())
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.get_item()
        return super().post(request, *args, **kwargs)

    def get_initial(self):
        item = self.get_item()
        return {
            **agenda.session_initial(item),
            "follow_up_questions": item.follow_up_questions,
            "follow_up_days": item.follow_up_days,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(item=self.get_item(), **kwargs)

    def form_valid(self, form):
        item = self.get_item()
        try:
            recorded = agenda.record_held(item, form.cleaned_data, user=self.request.user)
        except agenda.AgendaRefused as refused:
            messages.warning(self.request, str(refused))
            return redirect(_agenda_index_url())
        _warn_without_quiz(self.request, item)
        if recorded.created:
            messages.success(
                self.request,
                _("“%(title)s” is recorded as held. Now record who attended.")
                % {"title": recorded.session.title},
            )
        else:
            messages.info(self.request, _("This item was already recorded as held."))
        return redirect("agenda_admin:attendance", recorded.session.pk)


def _warn_without_quiz(request, item):
    """The organizer hears at once when the follow-up has no quiz to ask."""
    summary = agenda.follow_up_summaries([item]).get(item.pk)
    if summary is not None and not summary.has_quiz:
        messages.warning(
            request,
            _(
                "The lecture page has no quiz yet: attendees see no follow-up questions "
                "until one is made (Lecture quizzes)."
            ),
        )


def follow_up_after_edit(request, instance):
    """For `after_edit_snippet`: follow-up switched on for a held item, or attendees
    added on a record's own form, reach the follow-up providers (once per person)."""
    if isinstance(instance, AgendaItem) and instance.follow_up_questions:
        if instance.session_id:
            agenda.attendance_recorded(instance.session_id)
        _warn_without_quiz(request, instance)
    elif isinstance(instance, CollectiveStudySession):
        agenda.attendance_recorded(instance.pk)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=200,
        help_text=gettext_lazy("e.g. the meeting was postponed; kept for the year's report."),
    )


class CancelItemView(_ItemView, FormView):
    permissions = (CHANGE_ITEM,)
    template_name = "learning/agenda/cancel.html"
    form_class = CancelForm
    page_title = gettext_lazy("Cancel agenda item")

    def get(self, request, *args, **kwargs):
        item = self.get_item()
        if item.status != AgendaStatus.PLANNED:
            messages.info(request, _("Only a planned item can be cancelled."))
            return redirect(_agenda_index_url())
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.get_item()
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(item=self.get_item(), **kwargs)

    def form_valid(self, form):
        item = self.get_item()
        try:
            if agenda.cancel(item, form.cleaned_data["reason"], user=self.request.user):
                messages.success(
                    self.request, _("“%(title)s” is cancelled.") % {"title": item.title}
                )
        except agenda.AgendaRefused as refused:
            messages.warning(self.request, str(refused))
        return redirect(_agenda_index_url())


# --- Attendance by ticks -----------------------------------------------------------------


def _chosen_departments(values):
    ids = [int(v) for v in values if v.isdigit() and len(v) <= 18]
    return list(Department.objects.filter(pk__in=ids))


class AttendanceView(_AgendaPage, TemplateView):
    """The record's attendance: pick departments, tick who attended among their
    officials, save. The sign-in list import is the other way in."""

    permissions = (CHANGE_SESSION,)
    template_name = "learning/agenda/attendance.html"
    page_title = gettext_lazy("Attendance")

    def get_session(self):
        if not hasattr(self, "session"):
            self.session = get_object_or_404(
                CollectiveStudySession.objects.select_related("lecturer"), pk=self.kwargs["pk"]
            )
        return self.session

    def get_page_subtitle(self):
        return self.get_session().title

    def get(self, request, *args, **kwargs):
        self.get_session()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        session = self.get_session()
        chosen = _chosen_departments(self.request.GET.getlist("department"))
        attending = agenda.attending_ids(session)
        listed = list(agenda.officials_of(chosen)) if chosen else []
        via_departments = set()
        if session.departments.exists():
            via_departments = set(
                agenda.officials_of(session.departments.all()).values_list("pk", flat=True)
            )
        return super().get_context_data(
            session=session,
            item=AgendaItem.objects.filter(session=session).first(),
            departments=Department.objects.all(),
            chosen_ids={d.pk for d in chosen},
            listed=listed,
            attending=attending,
            via_departments=via_departments,
            attending_count=len(attending),
            import_url=reverse("agenda_attendance:upload", args=[session.pk]),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        session = self.get_session()
        chosen = _chosen_departments(request.POST.getlist("department"))
        shown = set(agenda.officials_of(chosen).values_list("pk", flat=True)) if chosen else set()
        if request.POST.get("all"):
            ticked = shown
        else:
            ticked = {
                int(v) for v in request.POST.getlist("official") if v.isdigit() and len(v) <= 18
            }
        added, removed = agenda.set_attendance(session, shown, ticked, user=request.user)
        messages.success(
            request,
            _("Attendance saved: %(added)s added, %(removed)s removed; %(total)s attended.")
            % {
                "added": added,
                "removed": removed,
                "total": len(agenda.attending_ids(session)),
            },
        )
        query = "&".join(f"department={d.pk}" for d in chosen)
        url = reverse("agenda_admin:attendance", args=[session.pk])
        return redirect(f"{url}?{query}" if query else url)


class AttendanceTemplateView(_PermissionRequired, View):
    permissions = (CHANGE_SESSION,)

    def get(self, request):
        return xlsx_response(agenda_attendance.template_workbook(), "sign-in-list.xlsx")


def agenda_admin_urls():
    urls = [
        path("<id:pk>/held/", RecordHeldView.as_view(), name="held"),
        path("<id:pk>/cancel/", CancelItemView.as_view(), name="cancel"),
        path("sessions/<id:pk>/attendance/", AttendanceView.as_view(), name="attendance"),
        path("sign-in-template/", AttendanceTemplateView.as_view(), name="attendance_template"),
    ]
    return [path("agenda/", include((urls, "agenda_admin"), namespace="agenda_admin"))]


# --- Attendance from the sign-in list (the shared import screens) ------------------------


def _job_session_id(job):
    value = (job.options or {}).get("session")
    return value if isinstance(value, int) else None


class AttendanceUploadView(UploadView):
    """The upload of one record's sign-in list: the job remembers the record."""

    def get_session(self):
        if not hasattr(self, "session"):
            self.session = get_object_or_404(CollectiveStudySession, pk=self.kwargs["session"])
        return self.session

    def get(self, request, *args, **kwargs):
        self.get_session()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.get_session()
        return super().post(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.get_session().title

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["recent"] = (
            ImportJob.objects.of(self.request.user)
            .with_problem_count()
            .filter(kind=self.importer.kind, options__session=self.get_session().pk)
            .defer("data", "preview", "result", "sealed")[:RECENT_JOBS]
        )
        context["extra_links"] = []
        return context

    def form_valid(self, form):
        # The record goes into the job before any worker can pick the job up.
        with transaction.atomic():
            try:
                job = import_jobs.start_import(
                    self.request.user, self.importer.kind, form.cleaned_data["file"]
                )
            except import_jobs.ImportRefused as refused:
                form.add_error("file", str(refused))
                return self.form_invalid(form)
            session_id = self.get_session().pk
            ImportJob.objects.filter(pk=job.pk).update(options={"session": session_id})
            _preview_against_session(job, session_id)
        return redirect(self.url("job", job.pk))


def _preview_against_session(job, session_id):
    """A file previewed in the request was read before the job knew its record: read
    it again against the record, so those already recorded are said to be (a file
    left to the worker is read once the record is in the job)."""
    job.refresh_from_db()
    if job.preview and job.data:
        preview = agenda_attendance.plan_file(bytes(job.data), job.filename, session_id)[0]
        ImportJob.objects.filter(pk=job.pk).update(preview=preview.to_json())


class _JobOfSession:
    """The job screens of the shared import, leading back to the upload of the job's
    own record (the shared screens' upload takes no record)."""

    def get_job(self):
        self.job = super().get_job()
        return self.job

    def url(self, name, *args):
        if name != "upload" or args:
            return super().url(name, *args)
        session_id = _job_session_id(self.job)
        if session_id is None:
            return _agenda_index_url()
        return reverse("agenda_attendance:upload", args=[session_id])


class AttendanceJobView(_JobOfSession, JobView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        session_id = _job_session_id(self.job)
        if session_id is not None:
            context["done_url"] = reverse("agenda_admin:attendance", args=[session_id])
        return context


class AttendanceConfirmView(_JobOfSession, ConfirmView):
    def post(self, request, pk):
        job = self.get_job()
        preview = import_jobs.job_preview(job)
        session_id = _job_session_id(job)
        if preview is None or request.POST.get("fingerprint") != preview.fingerprint:
            messages.warning(request, _("The preview changed; check it and confirm again."))
        elif session_id is None:
            raise Http404
        elif not import_jobs.confirm(job, {"session": session_id}):
            messages.info(request, _("This file was already confirmed."))
        return redirect(self.url("job", job.pk))


class AttendanceCancelView(_JobOfSession, CancelView):
    pass


class AttendanceImportViewSet(ImportViewSet):
    """The sign-in list import of a collective-study record (reached from its
    attendance page, so not in the menu)."""

    name = "agenda_attendance"
    importer_kind = agenda_attendance.KIND
    add_to_admin_menu = False
    page_title = gettext_lazy("Import the sign-in list")
    intro = gettext_lazy(
        "The meeting's sign-in list as your office keeps it (.xlsx or .xls saved by Excel "
        "or WPS, or .csv), one person per row: staff number, or name with the department "
        "when the name alone is not unique. Title rows and merged cells are fine; rows "
        "marked 请假 or 缺席 are skipped. You see whom the file names before anything is "
        "recorded; a file with any problem records nobody."
    )

    def get_urlpatterns(self):
        def view(cls):
            return cls.as_view(viewset=self)

        return [
            path("<id:session>/", view(AttendanceUploadView), name="upload"),
            path("jobs/<id:pk>/", view(AttendanceJobView), name="job"),
            path("jobs/<id:pk>/confirm/", view(AttendanceConfirmView), name="confirm"),
            path("jobs/<id:pk>/cancel/", view(AttendanceCancelView), name="cancel"),
        ]


# --- The organizer's admin home --------------------------------------------------------


class OverdueAgendaPanel(Component):
    """Agenda items still planned after their date, oldest first, each with the links
    to record it as held or cancel it. Two queries however many items are overdue."""

    name = "overdue_agenda"
    order = 105
    template_name = "learning/agenda/overdue_panel.html"

    def __init__(self, request):
        self.request = request

    @classmethod
    def shown_to(cls, user):
        return roles.ORGANIZER in roles.user_roles(user) and user.has_perm(CHANGE_ITEM)

    def get_context_data(self, parent_context=None):
        today = timezone.localdate()
        items = agenda.overdue(today)
        listed = list(items.select_related("speaker")[:PANEL_ROWS])
        for item in listed:
            item.days_late = (today - item.date).days
        user = self.request.user
        return {
            "request": self.request,
            "items": listed,
            "more": items.count() - len(listed) if len(listed) == PANEL_ROWS else 0,
            "can_record": user.has_perm(ADD_SESSION),
            "today": today,
        }


def add_overdue_panel(request, panels):
    """For `construct_homepage_panels`: organizers see their overdue agenda items."""
    if OverdueAgendaPanel.shown_to(request.user):
        panels.append(OverdueAgendaPanel(request))
