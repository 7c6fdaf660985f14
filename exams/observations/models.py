"""Court observations (庭审观摩): events at a court that officials are invited to or
register for, their attendance (checked in by QR code or marked by an organizer, every
change audited), reflections (观后感) and the study plans that require them.

The models moved here from the exams app; each keeps its table (`Meta.db_table`,
exams_*), so the move changed no schema (migrations 0001 here and exams 0013)."""

import datetime
import ipaddress
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel

from learning.blocks import LawArticleBlock
from learning.models import Department, LecturePage, Official

from . import notices

REFLECTION_EXTENSIONS = ["pdf", "doc", "docx", "txt", "jpg", "jpeg", "png"]
REFLECTION_MAX_BYTES = 10 * 1024 * 1024
# Where an event uses check-out, a scan by someone checked in counts as the check-out
# from this long before the scheduled end until this long after it.
CHECKOUT_BEFORE_END = datetime.timedelta(minutes=30)
CHECKOUT_AFTER_END = datetime.timedelta(minutes=60)


class CaseType(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Administrative litigation")
    CIVIL = "civil", _("Civil")
    CRIMINAL = "criminal", _("Criminal")
    OTHER = "other", _("Other")


class AttendeeField(models.TextChoices):
    """Columns beyond name that the court's security may ask for on the attendee list."""

    STAFF_NUMBER = "staff_number", _("Staff number")
    DEPARTMENT = "department", _("Department")
    POSITION = "position", _("Position")
    MOBILE = "mobile", _("Mobile")


def default_attendee_fields():
    return [AttendeeField.DEPARTMENT.value, AttendeeField.POSITION.value]


class MultipleChoiceJSONField(models.JSONField):
    """A list of choices stored as JSON, edited as checkboxes (works on SQLite and
    PostgreSQL alike, unlike ArrayField)."""

    def __init__(self, *args, item_choices=(), **kwargs):
        self.item_choices = list(item_choices)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["item_choices"] = self.item_choices
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        return forms.MultipleChoiceField(
            label=capfirst(self.verbose_name),
            help_text=self.help_text,
            choices=self.item_choices,
            required=not self.blank,
            widget=forms.CheckboxSelectMultiple,
        )


class CourtObservationQuerySet(models.QuerySet):
    def upcoming(self, now=None):
        return self.filter(ends_at__gte=now or timezone.now(), closed_at__isnull=True)

    def past(self, now=None):
        return self.filter(Q(ends_at__lt=now or timezone.now()) | Q(closed_at__isnull=False))

    def visible_to(self, official):
        """Observations an official may see: open for registration, or on their list."""
        mine = Attendance.objects.filter(observation=OuterRef("pk"), official=official)
        return self.filter(Q(open_registration=True) | Exists(mine))


class CourtObservation(index.Indexed, ClusterableModel):
    """A court hearing officials attend (庭审观摩). Invited officials and departments
    get an attendance row each (`sync_invitations`); with open registration anyone may
    register until the deadline while seats remain. Business rules live in
    exams.observations.services."""

    title = models.CharField(_("title"), max_length=200)
    court = models.CharField(_("court"), max_length=100)
    courtroom = models.CharField(_("courtroom"), max_length=100, blank=True)
    case_type = models.CharField(
        _("case type"), max_length=16, choices=CaseType.choices, default=CaseType.ADMINISTRATIVE
    )
    case_summary = models.TextField(_("case summary"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    meeting_point = models.CharField(
        _("meeting point"),
        max_length=200,
        blank=True,
        help_text=_("Where attendees gather before entering the court, and when."),
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_("Seats in the public gallery for us; invitees and registrants take one each."),
    )
    credit_minutes = models.PositiveSmallIntegerField(_("credit minutes"), default=120)
    registration_deadline = models.DateTimeField(_("registration deadline"))
    open_registration = models.BooleanField(
        _("open registration"),
        default=True,
        help_text=_("Any official may register; otherwise only invitees can."),
    )
    invited_officials = ParentalManyToManyField(
        Official, verbose_name=_("invited officials"), blank=True, related_name="+"
    )
    invited_departments = ParentalManyToManyField(
        Department,
        verbose_name=_("invited departments"),
        blank=True,
        related_name="+",
        help_text=_("Every official in these departments (and below) is invited."),
    )
    late_after_minutes = models.PositiveSmallIntegerField(
        _("late after (minutes)"),
        default=10,
        help_text=_("A check-in this many minutes after the start counts as late."),
    )
    checkin_opens_minutes_before = models.PositiveSmallIntegerField(
        _("check-in opens (minutes before the start)"),
        default=60,
        help_text=_("Scanning the check-in code counts from this many minutes before the start."),
    )
    checkin_closes_minutes_after = models.PositiveSmallIntegerField(
        _("check-in closes (minutes after the end)"),
        default=0,
        help_text=_(
            "Scanning the check-in code counts until this many minutes after the scheduled "
            "end (0: check-in closes at the end). Organizers can still mark attendance by hand."
        ),
    )
    uses_checkout = models.BooleanField(
        _("check-out"),
        default=False,
        help_text=_(
            "Officials scan the code again at the end, from 30 minutes before it until an "
            "hour after; the hours are credited at the check-out. An organizer marking "
            "someone present vouches for the whole hearing."
        ),
    )
    reflection_required = models.BooleanField(_("reflection required for credit"), default=False)
    reflection_due_days = models.PositiveSmallIntegerField(
        _("reflection due (days)"),
        default=7,
        help_text=_("Reflections can be submitted until this many days after the end."),
    )
    attendee_list_fields = MultipleChoiceJSONField(
        _("attendee list columns"),
        item_choices=AttendeeField.choices,
        default=default_attendee_fields,
        blank=True,
        help_text=_("What the court's security needs besides names."),
    )
    venue_latitude = models.FloatField(
        _("venue latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text=_("Decimal degrees, e.g. 39.0256 (WGS 84, as phones report it)."),
    )
    venue_longitude = models.FloatField(
        _("venue longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text=_("Decimal degrees, e.g. 117.6512."),
    )
    venue_radius_m = models.PositiveIntegerField(
        _("check-in radius (metres)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(10)],
        help_text=_(
            "With the venue's position and a radius, a scan counts only from a phone that "
            "shares its location within this distance of the venue. Leave empty for no "
            "location check."
        ),
    )
    single_use_codes = models.BooleanField(
        _("single-use check-in codes"),
        default=False,
        help_text=_(
            "Each code checks in one official only, who must already be signed in when "
            "scanning; the screen then shows a new code. Stops a photographed code being "
            "used by someone else, but people scanning one screen check in one after another."
        ),
    )
    venue_networks = models.TextField(
        _("venue network addresses"),
        blank=True,
        help_text=_(
            "The venue's own Wi-Fi addresses or ranges (e.g. 203.0.113.0/24), one per line. "
            "Check-ins from them are not flagged when several come from one address."
        ),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    objects = CourtObservationQuerySet.as_manager()

    panels = [
        FieldPanel("title"),
        FieldRowPanel([FieldPanel("court"), FieldPanel("courtroom")]),
        FieldPanel("case_type"),
        FieldPanel("case_summary"),
        FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
        FieldPanel("meeting_point"),
        FieldRowPanel(
            [FieldPanel("capacity"), FieldPanel("credit_minutes"), FieldPanel("late_after_minutes")]
        ),
        FieldRowPanel(
            [
                FieldPanel("checkin_opens_minutes_before"),
                FieldPanel("checkin_closes_minutes_after"),
                FieldPanel("uses_checkout"),
            ],
            heading=_("Check-in window"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("registration_deadline"),
                FieldPanel("open_registration"),
                FieldPanel("invited_departments"),
                FieldPanel("invited_officials"),
            ],
            heading=_("Invitations and registration"),
        ),
        MultiFieldPanel(
            [FieldPanel("reflection_required"), FieldPanel("reflection_due_days")],
            heading=_("Reflection"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("venue_latitude"),
                        FieldPanel("venue_longitude"),
                        FieldPanel("venue_radius_m"),
                    ]
                ),
                FieldPanel("single_use_codes"),
                FieldPanel("venue_networks"),
            ],
            heading=_("Check-in codes that resist forwarding"),
            classname="collapsed",
        ),
        FieldPanel("attendee_list_fields"),
    ]
    search_fields = [
        index.SearchField("title"),
        index.SearchField("court"),
        index.FilterField("starts_at"),
        index.FilterField("case_type"),
    ]

    class Meta:
        db_table = "exams_courtobservation"
        verbose_name = _("court observation")
        verbose_name_plural = _("court observations")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="observation_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="observation_capacity_min"),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})
        unknown = set(self.attendee_list_fields or []) - set(AttendeeField.values)
        if unknown:
            raise ValidationError({"attendee_list_fields": _("Unknown attendee list column.")})
        location = (self.venue_latitude, self.venue_longitude, self.venue_radius_m)
        if any(value is not None for value in location) and None in location:
            raise ValidationError(
                {
                    "venue_radius_m": _(
                        "Give the venue's latitude, longitude and a radius, or none of them."
                    )
                }
            )
        try:
            self.venue_network_list()
        except ValueError:
            raise ValidationError(
                {"venue_networks": _("Enter IP addresses or ranges (CIDR), one per line.")}
            ) from None

    def save(self, **kwargs):
        super().save(**kwargs)
        invited = self.sync_invitations()
        notices.notify_invited(self, invited)  # sent once the save is committed

    def invited_official_ids(self):
        """Officials invited one by one or through a department (and its sub-departments)."""
        ids = {o.pk for o in self.invited_officials.all()}
        ids.update(
            Official.objects.in_any_department(self.invited_departments.all()).values_list(
                "pk", flat=True
            )
        )
        return ids

    def sync_invitations(self):
        """Give every invitee an attendance row; drop rows of people no longer invited who
        have done nothing yet (still merely invited). Returns the ids newly invited."""
        invited = self.invited_official_ids()
        existing = dict(self.attendance.values_list("official_id", "status"))
        stale = [
            pk for pk, status in existing.items() if status == Status.INVITED and pk not in invited
        ]
        if stale:
            self.attendance.filter(official_id__in=stale, status=Status.INVITED).delete()
        new = invited - existing.keys()
        Attendance.objects.bulk_create(
            [Attendance(observation=self, official_id=pk, status=Status.INVITED) for pk in new],
            ignore_conflicts=True,
        )
        return new

    @property
    def is_closed(self):
        return self.closed_at is not None

    @property
    def checks_location(self):
        """Whether a check-in must come with the phone's position near the venue."""
        return None not in (self.venue_latitude, self.venue_longitude, self.venue_radius_m)

    def venue_network_list(self):
        """The venue's own networks (raises ValueError on a malformed line)."""
        return [
            ipaddress.ip_network(line.strip(), strict=False)
            for line in (self.venue_networks or "").splitlines()
            if line.strip()
        ]

    @property
    def late_after(self):
        return self.starts_at + datetime.timedelta(minutes=self.late_after_minutes)

    @property
    def checkin_opens_at(self):
        return self.starts_at - datetime.timedelta(minutes=self.checkin_opens_minutes_before)

    @property
    def checkin_closes_at(self):
        return self.ends_at + datetime.timedelta(minutes=self.checkin_closes_minutes_after)

    @property
    def checkout_opens_at(self):
        return self.ends_at - CHECKOUT_BEFORE_END

    @property
    def checkout_closes_at(self):
        return self.ends_at + CHECKOUT_AFTER_END

    @property
    def scans_close_at(self):
        """The last moment a scan counts: the check-in's close, or the check-out's."""
        if self.uses_checkout:
            return max(self.checkin_closes_at, self.checkout_closes_at)
        return self.checkin_closes_at

    def has_ended(self, now=None):
        """Whether the hearing is over by its scheduled end: attendance earns credit
        only from then on (exams.observations.credit)."""
        return self.ends_at <= (now or timezone.now())

    @property
    def reflection_due(self):
        return self.ends_at + datetime.timedelta(days=self.reflection_due_days)

    @property
    def seats_left(self):
        """Free seats; uses the `seats_taken` annotation when the queryset has one."""
        taken = getattr(self, "seats_taken", None)
        if taken is None:
            taken = self.attendance.holding_seats().count()
        return max(0, self.capacity - taken)

    def registration_is_open(self, now=None):
        return not self.is_closed and (now or timezone.now()) <= self.registration_deadline

    def attendee_field_labels(self):
        return [(value, AttendeeField(value).label) for value in self.attendee_list_fields or []]


class Status(models.TextChoices):
    INVITED = "invited", _("Invited")
    REGISTERED = "registered", _("Registered")
    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    EXCUSED = "excused", _("Excused")
    ABSENT = "absent", _("Absent")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Statuses that hold a seat, expected at the court, that check-in may turn into
# present/late, that count as attended, and that an organizer may set by hand.
SEAT_STATUSES = (Status.INVITED, Status.REGISTERED, Status.PRESENT, Status.LATE)
EXPECTED_STATUSES = (Status.INVITED, Status.REGISTERED)
ATTENDED_STATUSES = (Status.PRESENT, Status.LATE)
MARKABLE_STATUSES = (Status.PRESENT, Status.LATE, Status.EXCUSED, Status.ABSENT)


class AttendanceQuerySet(models.QuerySet):
    def attended(self):
        return self.filter(status__in=ATTENDED_STATUSES)

    def credited(self, now=None):
        """Attended, at an observation whose scheduled end has passed: a check-in proves
        the official arrived, not that they stayed, so credit waits for the end; where
        the event uses check-out, it waits for the official's check-out."""
        now = now or timezone.now()
        at_the_end = Q(observation__uses_checkout=False, observation__ends_at__lte=now)
        checked_out = Q(observation__uses_checkout=True, checked_out_at__lte=now)
        return self.attended().filter(at_the_end | checked_out)

    def holding_seats(self):
        return self.filter(status__in=SEAT_STATUSES)


class Attendance(models.Model):
    """One official at one observation: invited, registered, then present, late,
    excused or absent (or withdrawn). Only exams.observations.services changes the
    status, and it writes an AttendanceChange for each change."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    observation = models.ForeignKey(
        CourtObservation,
        on_delete=models.CASCADE,
        related_name="attendance",
        verbose_name=_("court observation"),
    )
    official = models.ForeignKey(
        Official,
        on_delete=models.CASCADE,
        related_name="observation_attendance",
        verbose_name=_("official"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    # Make-up (补学): a missed hearing studied on its case page (exams.observations.cases).
    made_up_at = models.DateTimeField(_("made up at"), null=True, blank=True, editable=False)
    made_up_case = models.ForeignKey(
        "observations.CasePage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="make_ups",
        verbose_name=_("made up with case"),
    )

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        db_table = "exams_attendance"
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["observation", "official__department__path", "official__staff_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["observation", "official"], name="unique_observation_attendance"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]),
                name="observation_attendance_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(checked_in_at__isnull=True)
                | ~Q(status__in=[s.value for s in (*EXPECTED_STATUSES, Status.WITHDRAWN)]),
                name="observation_checked_in_status",
            ),
        ]
        indexes = [models.Index(fields=["official", "status"])]

    def __str__(self):
        return f"{self.observation} · {self.official}"

    @property
    def attended(self):
        return self.status in ATTENDED_STATUSES

    @property
    def made_up(self):
        return self.made_up_at is not None


class ChangeSource(models.TextChoices):
    SELF = "self", _("Official (self service)")
    CHECK_IN = "check_in", _("QR check-in")
    CHECK_OUT = "check_out", _("QR check-out")
    ORGANIZER = "organizer", _("Organizer")
    CLOSE = "close", _("Closing the event")


class AttendanceChange(models.Model):
    """Audit trail: who changed an attendance status, when, from what to what, and how."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    attendance = models.ForeignKey(
        Attendance, on_delete=models.CASCADE, related_name="changes", verbose_name=_("attendance")
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        "learning.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    old_status = models.CharField(
        _("old status"), max_length=16, choices=Status.choices, blank=True
    )
    new_status = models.CharField(_("new status"), max_length=16, choices=Status.choices)
    source = models.CharField(_("how"), max_length=16, choices=ChangeSource.choices)
    # Set on QR check-ins only: where the request came from, how far from the venue the
    # phone said it was, and the single-use code it redeemed (unique, so a code checks
    # in one official even when two scan it at once).
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("distance from venue (m)"), null=True, blank=True)
    redeemed_code = models.CharField(
        _("redeemed code"), max_length=80, null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        db_table = "exams_attendancechange"
        verbose_name = _("attendance change")
        verbose_name_plural = _("attendance changes")
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"{self.attendance} {self.old_status}→{self.new_status}"


def validate_reflection_size(file):
    if file.size > REFLECTION_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (at most %(mb)d MB).")
            % {"mb": REFLECTION_MAX_BYTES // (1024 * 1024)}
        )


def reflection_upload_to(instance, filename):
    return f"observations/reflections/{uuid.uuid4().hex}/{filename}"


class Reflection(models.Model):
    """An attendee's reflection (观后感): text and an optional file. Only its author and
    organizers see it; the file is served through a view that checks who asks."""

    attendance = models.OneToOneField(
        Attendance,
        on_delete=models.CASCADE,
        related_name="reflection",
        verbose_name=_("attendance"),
    )
    text = models.TextField(_("reflection"))
    file = models.FileField(
        _("file"),
        upload_to=reflection_upload_to,
        blank=True,
        validators=[
            FileExtensionValidator(REFLECTION_EXTENSIONS),
            validate_reflection_size,
        ],
        help_text=_("Optional: PDF, Word, text or image, at most 10 MB."),
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    feature_consent = models.BooleanField(
        _("may be quoted on the case page"),
        default=False,
        help_text=_("The author agrees that an excerpt may be shown, with their name."),
    )

    class Meta:
        db_table = "exams_reflection"
        verbose_name = _("reflection")
        verbose_name_plural = _("reflections")

    def __str__(self):
        return str(self.attendance)


class PlanObservation(Orderable):
    """A court observation a study plan requires (attended, with the reflection when the
    observation asks for one). Lives here so the learning app never imports this one."""

    plan = ParentalKey(
        "learning.StudyPlan",
        on_delete=models.CASCADE,
        related_name="required_observations",
        verbose_name=_("study plan"),
    )
    observation = models.ForeignKey(
        CourtObservation,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("court observation"),
    )

    panels = [FieldPanel("observation")]

    class Meta(Orderable.Meta):
        db_table = "exams_planobservation"
        verbose_name = _("required court observation")
        verbose_name_plural = _("required court observations")
        constraints = [
            models.UniqueConstraint(fields=["plan", "observation"], name="unique_plan_observation")
        ]

    def __str__(self):
        return f"{self.plan} · {self.observation}"


class CaseArticlesBlock(blocks.StreamBlock):
    law_article = LawArticleBlock()


class CasePage(LecturePage):
    """A court observation explained as a case (以案释法): facts, legal issues, the cited
    articles and consenting attendees' reflections. It is a lecture, so study credit,
    the quiz and make-up (补学) for those who missed the hearing work as for any lecture.
    Every lecture path (the fast route, shells, search) renders a LecturePage, so the
    case's sections are written into the lecture body on save (`case_body`)."""

    observation = models.OneToOneField(
        CourtObservation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case_page",
        verbose_name=_("court observation"),
    )
    facts = models.TextField(_("facts of the case"), blank=True)
    legal_issues = models.TextField(_("legal issues"), blank=True)
    cited_articles = StreamField(CaseArticlesBlock(), verbose_name=_("cited articles"), blank=True)
    trial_video_url = models.URLField(_("recorded trial video"), blank=True)

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("date"), FieldPanel("occasion")]),
                FieldPanel("observation"),
                FieldPanel("topics"),
                FieldRowPanel([FieldPanel("credit_minutes"), FieldPanel("video_minutes")]),
            ],
            heading=_("About the case"),
        ),
        FieldPanel("summary"),
        FieldPanel("facts"),
        FieldPanel("legal_issues"),
        FieldPanel("cited_articles"),
        FieldPanel("trial_video_url"),
        InlinePanel(
            "featured_reflections",
            label=_("Reflections"),
            heading=_("Featured reflections (authors who consented only)"),
        ),
    ]
    # Allowed under the lecture index and series by their own subpage_types.
    parent_page_types = ["learning.LectureIndexPage", "learning.LectureSeriesPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("case page")
        verbose_name_plural = _("case pages")

    def case_body(self):
        """The lecture body shown for the case: its sections as heading, text, law
        article and quotation blocks (plain text escaped into the rich text)."""
        body = []

        def text(heading, value):
            if value:
                paragraphs = "".join(
                    f"<p>{escape(line)}</p>" for line in value.splitlines() if line.strip()
                )
                body.extend([("heading", str(heading)), ("paragraph", paragraphs)])

        text(_("Facts of the case"), self.facts)
        text(_("Legal issues"), self.legal_issues)
        articles = [block.value for block in self.cited_articles]
        if articles:
            body.append(("heading", str(_("Cited articles"))))
            body.extend(("law_article", value) for value in articles)
        if self.trial_video_url:
            link = format_html(
                '<p><a href="{}">{}</a></p>', self.trial_video_url, _("Watch the recorded trial")
            )
            body.extend([("heading", str(_("Recorded trial"))), ("paragraph", link)])
        featured = list(self.featured_reflections.all())
        if featured:
            body.append(("heading", str(_("Reflections of those who attended"))))
            body.extend(
                (
                    "law_article",
                    {"text": item.excerpt, "citation": item.author_name()},
                )
                for item in featured
            )
        return body

    def save(self, *args, **kwargs):
        self.body = self.case_body()
        return super().save(*args, **kwargs)

    def full_clean(self, *args, **kwargs):
        self.body = self.case_body()
        return super().full_clean(*args, **kwargs)


class CaseReflection(Orderable):
    """A reflection excerpt featured on a case page: only from a reflection whose author
    consented (`Reflection.feature_consent`), on the case's own observation."""

    page = ParentalKey(CasePage, on_delete=models.CASCADE, related_name="featured_reflections")
    reflection = models.ForeignKey(
        Reflection,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"feature_consent": True},
        verbose_name=_("reflection"),
    )
    excerpt = models.TextField(_("excerpt"), max_length=2000)

    panels = [FieldPanel("reflection"), FieldPanel("excerpt")]

    class Meta(Orderable.Meta):
        verbose_name = _("featured reflection")
        verbose_name_plural = _("featured reflections")

    def clean(self):
        super().clean()
        if self.reflection_id and not self.reflection.feature_consent:
            raise ValidationError({"reflection": _("Its author has not agreed to be quoted.")})

    def author_name(self):
        return self.reflection.attendance.official.user.get_full_name()


class CaseQuestion(models.Model):
    """Tags a bank question with the case it was asked about: the question bank has no
    tags, and the quiz may change later while the questions stay the case's."""

    case = models.ForeignKey(CasePage, on_delete=models.CASCADE, related_name="tagged_questions")
    question = models.ForeignKey(
        "exams.Question", on_delete=models.CASCADE, related_name="cases", verbose_name=_("question")
    )

    class Meta:
        verbose_name = _("case question")
        verbose_name_plural = _("case questions")
        constraints = [
            models.UniqueConstraint(fields=["case", "question"], name="unique_case_question")
        ]

    def __str__(self):
        return f"{self.case} · {self.question_id}"
