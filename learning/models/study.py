"""What officials study and must study: per-lecture study records measured on the
server, annual study plans, and collective study sessions (集体学法)."""

import datetime

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.search import index

from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel

from .. import fast
from .organisation import Department, Official
from .topics import LawTopic, Speaker


def year_bounds(year):
    """[start, end) of a calendar year in the site's time zone."""
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime(year, 1, 1, tzinfo=tz),
        datetime.datetime(year + 1, 1, 1, tzinfo=tz),
    )


class StudyRecordQuerySet(models.QuerySet):
    def completed(self):
        return self.filter(completed_at__isnull=False)

    def in_progress(self):
        return self.filter(completed_at__isnull=True, credited_seconds__gt=0)

    def active_in_year(self, year):
        """Records last studied in the year: their credited time counts for it."""
        start, end = year_bounds(year)
        return self.filter(last_heartbeat_at__gte=start, last_heartbeat_at__lt=end)


class StudyClock(models.Model):
    """One per official: the instant up to which their study time has been measured.
    Every heartbeat of every lecture, tab and device is measured from it and moves it
    (learning.credits), so the credit summed over all their lectures never exceeds
    the wall-clock time, however many lectures they keep open."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    official = models.OneToOneField(
        Official,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="study_clock",
        verbose_name=_("official"),
    )
    anchor_at = models.DateTimeField(_("measured up to"))

    class Meta:
        verbose_name = _("study clock")
        verbose_name_plural = _("study clocks")

    def __str__(self):
        return f"{self.official_id} · {self.anchor_at:%Y-%m-%d %H:%M:%S}"


class StudyRecord(models.Model):
    """One official's study of one lecture. `credited_seconds` only grows through
    learning.credits, which measures it from the official's StudyClock, shared by
    all their lectures and tabs; `last_heartbeat_at` is when the lecture was opened
    or last credited, which decides the year its credit counts for."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    official = models.ForeignKey(
        Official,
        on_delete=models.CASCADE,
        related_name="study_records",
        verbose_name=_("official"),
    )
    lecture = models.ForeignKey(
        "learning.LecturePage",
        on_delete=models.CASCADE,
        related_name="study_records",
        verbose_name=_("lecture"),
    )
    credited_seconds = models.PositiveIntegerField(_("credited seconds"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    last_heartbeat_at = models.DateTimeField(_("last heartbeat at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = StudyRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("study record")
        verbose_name_plural = _("study records")
        constraints = [
            models.UniqueConstraint(fields=["official", "lecture"], name="unique_study_record"),
            models.CheckConstraint(
                condition=Q(credited_seconds__gte=0), name="study_record_credit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(completed_at__gte=F("started_at")),
                name="study_record_completed_after_start",
            ),
            models.CheckConstraint(
                condition=Q(last_heartbeat_at__isnull=True)
                | Q(last_heartbeat_at__gte=F("started_at")),
                name="study_record_heartbeat_after_start",
            ),
        ]
        indexes = [models.Index(fields=["official", "last_heartbeat_at"])]

    def __str__(self):
        return f"{self.official} · {self.lecture_id}"

    @property
    def is_completed(self):
        return self.completed_at is not None

    @property
    def credited_minutes(self):
        return self.credited_seconds // 60

    @property
    def credited_duration(self):
        """Credited time for people: minutes and seconds."""
        minutes, seconds = divmod(self.credited_seconds, 60)
        return _("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": seconds}


class Audience(models.TextChoices):
    ALL = "all", _("All officials")
    LEADERS = "leaders", _("Leaders only")
    DEPARTMENTS = "departments", _("Chosen departments")


class StudyPlanQuerySet(models.QuerySet):
    def for_year(self, year):
        return self.filter(year=year)


class StudyPlan(index.Indexed, ClusterableModel):
    """The year's study requirements for an audience (all officials, leaders, or
    chosen departments): credit hours, required lectures and series, and whatever
    other apps add through the `register_plan_requirements` hook (exams, court
    observations). learning.completion evaluates officials against it."""

    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=100)
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.ALL
    )
    departments = ParentalManyToManyField(
        Department,
        verbose_name=_("departments"),
        blank=True,
        related_name="study_plans",
        help_text=_("Only for the audience 'chosen departments'; includes sub-departments."),
    )
    required_credit_hours = models.DecimalField(
        _("required credit hours"), max_digits=5, decimal_places=1, default=0
    )
    required_lectures = ParentalManyToManyField(
        "learning.LecturePage",
        verbose_name=_("required lectures"),
        blank=True,
        related_name="required_by_plans",
    )
    required_series = ParentalManyToManyField(
        "learning.LectureSeriesPage",
        verbose_name=_("required series"),
        blank=True,
        related_name="required_by_plans",
    )
    notes = models.TextField(_("notes"), blank=True)
    certificate_on_completion = models.BooleanField(
        _("certificate on completion"),
        default=False,
        help_text=_("Officials who complete the plan receive a certificate (合格证书)."),
    )

    objects = StudyPlanQuerySet.as_manager()

    panels = [
        FieldRowPanel([FieldPanel("year"), FieldPanel("title")]),
        MultiFieldPanel([FieldPanel("audience"), FieldPanel("departments")], heading=_("Audience")),
        FieldPanel("required_credit_hours"),
        FieldPanel("required_lectures"),
        FieldPanel("required_series"),
        FieldPanel("notes"),
        FieldPanel("certificate_on_completion"),
    ]
    search_fields = [index.SearchField("title"), index.FilterField("year")]

    class Meta:
        verbose_name = _("study plan")
        verbose_name_plural = _("study plans")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(fields=["year", "title"], name="unique_study_plan_title"),
            models.CheckConstraint(
                condition=Q(required_credit_hours__gte=0), name="study_plan_hours_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.title}"

    @property
    def required_seconds(self):
        return int(self.required_credit_hours * 3600)


class StudyExemption(models.Model):
    """An official excused from the year's study requirements (long sick leave,
    secondment, ...): learning.completion counts them complete with nothing required,
    and reports list them apart from the share of officials who completed."""

    official = models.ForeignKey(
        Official,
        on_delete=models.CASCADE,
        related_name="study_exemptions",
        verbose_name=_("official"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("study exemption")
        verbose_name_plural = _("study exemptions")
        ordering = ["-year", "official__staff_number"]
        constraints = [
            models.UniqueConstraint(fields=["official", "year"], name="unique_study_exemption")
        ]

    def __str__(self):
        return f"{self.year} · {self.official}"


class Meeting(models.TextChoices):
    EXECUTIVE = "executive", _("District executive meeting")
    PARTY_GROUP = "party_group", _("Party group meeting")
    ALL_STAFF = "all_staff", _("All-staff meeting")
    OTHER = "other", _("Other meeting")


class CollectiveStudySession(index.Indexed, ClusterableModel):
    """A study item at a meeting (集体学法): everyone who attended gets its credit
    minutes. Attendees are picked one by one or as whole departments; saving the
    session records the attendance of each official (`SessionAttendance`), so a
    later transfer between departments does not rewrite history."""

    date = models.DateField(_("date"), default=timezone.localdate)
    meeting = models.CharField(
        _("meeting"), max_length=16, choices=Meeting.choices, default=Meeting.EXECUTIVE
    )
    title = models.CharField(_("study item"), max_length=200)
    topics = ParentalManyToManyField(LawTopic, verbose_name=_("law topics"), blank=True)
    lecturer = models.ForeignKey(
        Speaker,
        verbose_name=_("lecturer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="study_sessions",
    )
    lecture = models.ForeignKey(
        "learning.LecturePage",
        verbose_name=_("lecture page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="study_sessions",
    )
    credit_minutes = models.PositiveSmallIntegerField(_("credit minutes"), default=60)
    attendees = ParentalManyToManyField(
        Official, verbose_name=_("attendees"), blank=True, related_name="+"
    )
    departments = ParentalManyToManyField(
        Department,
        verbose_name=_("attending departments"),
        blank=True,
        related_name="+",
        help_text=_("Every official in these departments (and below) attended."),
    )
    notes = models.TextField(_("notes"), blank=True)

    panels = [
        FieldRowPanel([FieldPanel("date"), FieldPanel("meeting")]),
        FieldPanel("title"),
        FieldPanel("topics"),
        FieldRowPanel([FieldPanel("lecturer"), FieldPanel("credit_minutes")]),
        FieldPanel("lecture"),
        MultiFieldPanel(
            [FieldPanel("departments"), FieldPanel("attendees")], heading=_("Attendance")
        ),
        FieldPanel("notes"),
    ]
    search_fields = [index.SearchField("title"), index.FilterField("date")]

    class Meta:
        verbose_name = _("collective study session")
        verbose_name_plural = _("collective study sessions")
        ordering = ["-date", "title"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.title}"

    def save(self, **kwargs):
        super().save(**kwargs)
        self.sync_attendance()

    def sync_attendance(self):
        """Record one attendance per official picked directly or through a department."""
        official_ids = {o.pk for o in self.attendees.all()}
        official_ids.update(
            Official.objects.in_any_department(self.departments.all()).values_list("pk", flat=True)
        )
        existing = set(self.attendance.values_list("official_id", flat=True))
        self.attendance.filter(official_id__in=existing - official_ids).delete()
        SessionAttendance.objects.bulk_create(
            [SessionAttendance(session=self, official_id=pk) for pk in official_ids - existing],
            ignore_conflicts=True,
        )


class SessionAttendance(models.Model):
    """An official's attendance at a collective study session: credit for the year."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    session = models.ForeignKey(
        CollectiveStudySession,
        on_delete=models.CASCADE,
        related_name="attendance",
        verbose_name=_("session"),
    )
    official = models.ForeignKey(
        Official,
        on_delete=models.CASCADE,
        related_name="session_attendance",
        verbose_name=_("official"),
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "official"], name="unique_session_attendance"
            )
        ]

    def __str__(self):
        return f"{self.session} · {self.official}"


def heartbeat_seconds():
    return int(settings.XUEFA_HEARTBEAT_SECONDS)


def study_state(user, lecture):
    """(official_id, record) for showing a lecture page, in one query: whether the
    user earns credit here and their record so far (None when not started). The
    record carries only what the page shows."""
    if not user.is_authenticated:
        return None, None
    if not fast.enabled():
        official_id = Official.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
        if official_id is None:
            return None, None
        fields = ("pk", "official_id", "lecture_id", "credited_seconds", "completed_at")
        found = StudyRecord.objects.filter(official_id=official_id, lecture_id=lecture.pk)
        return official_id, found.only(*fields).first()
    # Plain SQL: the ORM spends several times longer building this LEFT JOIN than the
    # database spends answering it, on every lecture page view.
    officials, records = Official._meta.db_table, StudyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.id, r.id, r.credited_seconds, r.completed_at FROM {officials} o "  # noqa: S608
            f"LEFT JOIN {records} r ON r.official_id = o.id AND r.lecture_id = %s "
            "WHERE o.user_id = %s",
            [lecture.pk, user.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None, None
    official_id, record_id, credited, completed = row
    if record_id is None:
        return official_id, None
    return official_id, study_record_from_row(
        record_id, official_id, lecture.pk, credited, completed
    )


def study_record_from_row(record_id, official_id, lecture_id, credited, completed):
    """A StudyRecord with what a lecture page shows, from a plain SELECT's values
    (SQLite hands back the completion time as text or naive: converted as the ORM
    converts it)."""
    if completed is not None and (isinstance(completed, str) or timezone.is_naive(completed)):
        completed = connection.ops.convert_datetimefield_value(completed, None, connection)
    return StudyRecord(
        pk=record_id,
        official_id=official_id,
        lecture_id=lecture_id,
        credited_seconds=credited,
        completed_at=completed,
    )
