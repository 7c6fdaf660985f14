"""Exam sessions (考试安排): when a paper is open, to whom, and on what terms."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable

from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel


class SessionKind(models.TextChoices):
    ANNUAL = "annual", _("Annual exam")
    PRE_APPOINTMENT = "pre_appointment", _("Pre-appointment exam")
    MAKEUP = "makeup", _("Make-up exam")
    PRACTICE = "practice", _("Practice")


class Grading(models.TextChoices):
    BEST = "best", _("Best attempt counts")
    LAST = "last", _("Last attempt counts")


class ReviewPolicy(models.TextChoices):
    AFTER_SUBMIT = "after_submit", _("After the attempt is submitted")
    AFTER_CLOSE = "after_close", _("After the session closes")
    NEVER = "never", _("Never")


class DeviceRule(models.TextChoices):
    ANY = "any", _("Any device")
    ASK_ORGANIZER = "ask_organizer", _("One device; another only when the organizer allows it")
    TAKE_OVER = "take_over", _("One device; a second one takes over and locks the first")


class ExamSessionQuerySet(models.QuerySet):
    def audience_of(self, official):
        """Sessions whose audience (everyone, departments, leaders, named candidates)
        includes the official. Make-up sessions are narrowed further in Python."""
        path = official.department.path
        steplen = official.department.steplen
        prefixes = [path[: i * steplen] for i in range(1, len(path) // steplen + 1)]
        audience = (
            Q(for_everyone=True)
            | Q(departments__path__in=prefixes)
            | Q(candidates__official=official)
            | Q(overrides__official=official)
        )
        if official.is_leader:
            audience |= Q(for_leaders=True)
        return self.filter(audience).distinct()

    def open_at(self, when=None):
        when = when or timezone.now()
        return self.filter(opens_at__lte=when, closes_at__gt=when)


class ExamSession(ClusterableModel):
    """One sitting of a paper: its window, duration, attempts, marks and audience.
    A make-up session points at the session it makes up; it is then offered to those
    who were expected there and have not passed."""

    kind = models.CharField(_("kind"), max_length=20, choices=SessionKind.choices)
    title = models.CharField(pgettext_lazy("exam", "title"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    paper = models.ForeignKey(
        "exams.Paper", on_delete=models.PROTECT, related_name="sessions", verbose_name=_("paper")
    )
    leader_paper = models.ForeignKey(
        "exams.Paper",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leader_sessions",
        verbose_name=_("paper for leaders"),
        help_text=_("Optional: leaders sit this paper instead."),
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=90)
    attempts_allowed = models.PositiveSmallIntegerField(_("attempts allowed"), default=1)
    grading = models.CharField(
        _("grading"), max_length=10, choices=Grading.choices, default=Grading.BEST
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=60, help_text=_("Percentage of the total points.")
    )
    good_mark = models.PositiveSmallIntegerField(_("good from (%)"), default=80)
    excellent_mark = models.PositiveSmallIntegerField(_("excellent from (%)"), default=90)
    # Marking of short-answer and case-analysis answers (exams.marking).
    anonymous_marking = models.BooleanField(
        _("anonymous marking"),
        default=True,
        help_text=_("Markers see answers without the official's name or department."),
    )
    second_marking = models.BooleanField(
        _("second marking"),
        default=False,
        help_text=_("Every hand-marked answer is marked by two different people."),
    )
    marking_margin = models.DecimalField(
        _("reconcile when marks differ by more than (points)"),
        max_digits=5,
        decimal_places=2,
        default=2,
        validators=[MinValueValidator(0)],
        help_text=_(
            "With second marking, two marks further apart than this go to a third "
            "marker, whose mark is final; closer marks are averaged."
        ),
    )
    shuffle_questions = models.BooleanField(_("shuffle questions"), default=True)
    shuffle_options = models.BooleanField(_("shuffle options"), default=True)
    review_policy = models.CharField(
        _("review answers"),
        max_length=20,
        choices=ReviewPolicy.choices,
        default=ReviewPolicy.AFTER_CLOSE,
    )
    for_everyone = models.BooleanField(_("all officials"), default=False)
    for_leaders = models.BooleanField(_("all leaders"), default=False)
    departments = ParentalManyToManyField(
        "learning.Department",
        blank=True,
        related_name="exam_sessions",
        verbose_name=_("departments"),
        help_text=_("Everyone in these departments and the units below them."),
    )
    makes_up = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="makeups",
        verbose_name=_("makes up for"),
    )
    # Entry requirements (the credit gate): checked when an official starts.
    gate_hours = models.DecimalField(
        _("study hours required first"),
        max_digits=5,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Credit hours of the session's year an official needs before starting."),
    )
    gate_topics = ParentalManyToManyField(
        "learning.LawTopic",
        blank=True,
        related_name="+",
        verbose_name=_("hours on these topics only"),
        help_text=_("Leave empty to count study of every topic."),
    )
    gate_required_lectures = models.BooleanField(
        _("required lectures first"),
        default=False,
        help_text=_("The required lectures of the official's study plans must be completed."),
    )
    gate_makeup_after_fail = models.BooleanField(
        _("only after a failed attempt"),
        default=False,
        help_text=_("A make-up exam: only officials who sat the original exam and failed."),
    )
    # Anti-cheating switches, all off by default. Browser measures deter; they
    # cannot prevent (README: exam integrity).
    count_leaving = models.BooleanField(
        _("count leaving the page"),
        default=False,
        help_text=_("Switching away from the exam page is counted and the official warned."),
    )
    leave_limit = models.PositiveSmallIntegerField(
        _("submit after this many departures"),
        default=0,
        help_text=_("0: count only. Otherwise the attempt is submitted at this count."),
    )
    block_copy = models.BooleanField(
        _("block copy, paste and selection"),
        default=False,
        help_text=_("Also the context menu, on the exam page."),
    )
    require_fullscreen = models.BooleanField(
        _("full screen"),
        default=False,
        help_text=_("Full screen is requested; leaving it counts as leaving the page."),
    )
    entry_cutoff_minutes = models.PositiveSmallIntegerField(
        _("entry closes after (minutes)"),
        null=True,
        blank=True,
        help_text=_("No start later than this many minutes after the window opens."),
    )
    device_rule = models.CharField(
        _("devices"), max_length=20, choices=DeviceRule.choices, default=DeviceRule.ANY
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ExamSessionQuerySet.as_manager()

    panels = [
        FieldRowPanel([FieldPanel("kind"), FieldPanel("year")]),
        FieldPanel("title"),
        FieldRowPanel([FieldPanel("paper"), FieldPanel("leader_paper")]),
        FieldPanel("makes_up"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("opens_at"), FieldPanel("closes_at")]),
                FieldRowPanel([FieldPanel("duration_minutes"), FieldPanel("attempts_allowed")]),
                FieldPanel("grading"),
            ],
            heading=_("Schedule"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("pass_mark"),
                        FieldPanel("good_mark"),
                        FieldPanel("excellent_mark"),
                    ]
                ),
                FieldRowPanel([FieldPanel("shuffle_questions"), FieldPanel("shuffle_options")]),
                FieldPanel("review_policy"),
                FieldRowPanel(
                    [
                        FieldPanel("anonymous_marking"),
                        FieldPanel("second_marking"),
                        FieldPanel("marking_margin"),
                    ]
                ),
            ],
            heading=_("Marking and review"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("for_everyone"), FieldPanel("for_leaders")]),
                FieldPanel("departments"),
                InlinePanel("candidates", label=_("Named candidates")),
            ],
            heading=_("Who must take it"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("gate_hours"), FieldPanel("gate_topics")]),
                FieldRowPanel(
                    [FieldPanel("gate_required_lectures"), FieldPanel("gate_makeup_after_fail")]
                ),
            ],
            heading=_("Entry requirements"),
            classname="collapsed",
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("count_leaving"), FieldPanel("leave_limit")]),
                FieldRowPanel([FieldPanel("block_copy"), FieldPanel("require_fullscreen")]),
                FieldRowPanel([FieldPanel("entry_cutoff_minutes"), FieldPanel("device_rule")]),
            ],
            heading=_("Exam integrity"),
            classname="collapsed",
        ),
        InlinePanel("overrides", label=_("Per-person overrides"), heading=_("Overrides")),
    ]

    class Meta:
        verbose_name = _("exam session")
        verbose_name_plural = _("exam sessions")
        ordering = ["-opens_at"]
        permissions = [("view_exam_statistics", _("Can view exam statistics"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="session_window_order"
            ),
        ]

    def __str__(self):
        return self.title

    @classmethod
    def from_db(cls, db, field_names, values):
        """Remember the device rule as loaded: turning it back to any device frees the
        attempts bound under the old rule (see exams.signals.session_saved)."""
        instance = super().from_db(db, field_names, values)
        instance.loaded_device_rule = instance.__dict__.get("device_rule", DeviceRule.ANY)
        return instance

    loaded_device_rule = DeviceRule.ANY

    @property
    def gives_certificate(self):
        """A pre-appointment exam, or a make-up of one: its result goes into the
        candidate's file as a certificate."""
        if self.kind == SessionKind.PRE_APPOINTMENT:
            return True
        return self.kind == SessionKind.MAKEUP and bool(
            self.makes_up_id and self.makes_up.kind == SessionKind.PRE_APPOINTMENT
        )

    def clean(self):
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("The session must close after it opens.")
        if not (self.pass_mark <= self.good_mark <= self.excellent_mark <= 100):
            errors["good_mark"] = _("Marks must rise: pass ≤ good ≤ excellent ≤ 100.")
        if self.kind == SessionKind.MAKEUP and not self.makes_up_id:
            errors["makes_up"] = _("A make-up exam must name the session it makes up.")
        if self.makes_up_id and self.kind != SessionKind.MAKEUP:
            errors["makes_up"] = _("Only a make-up exam can make up another session.")
        if self.gate_makeup_after_fail and self.kind != SessionKind.MAKEUP:
            errors["gate_makeup_after_fail"] = _(
                "Only a make-up exam can be limited to those who failed the original."
            )
        if self.attempts_allowed < 1:
            errors["attempts_allowed"] = _("Allow at least one attempt.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_practice(self):
        return self.kind == SessionKind.PRACTICE

    def is_closed(self, when=None):
        return (when or timezone.now()) >= self.closes_at

    def paper_for(self, official):
        if self.leader_paper_id and official.is_leader:
            return self.leader_paper
        return self.paper


class SessionCandidate(Orderable):
    """A person named to sit the session; pre-appointment exams name the post the
    candidate is proposed for (拟任职务), which goes on the certificate."""

    session = ParentalKey(ExamSession, on_delete=models.CASCADE, related_name="candidates")
    official = models.ForeignKey(
        "learning.Official", on_delete=models.CASCADE, related_name="+", verbose_name=_("official")
    )
    intended_post = models.CharField(_("intended post"), max_length=100, blank=True)

    panels = [FieldPanel("official"), FieldPanel("intended_post")]

    class Meta(Orderable.Meta):
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        constraints = [
            models.UniqueConstraint(fields=["session", "official"], name="unique_session_candidate")
        ]


class SessionOverride(Orderable):
    """Exceptions for one person: extra time, extra attempts or their own window.
    A person with an override is also treated as assigned to the session."""

    session = ParentalKey(ExamSession, on_delete=models.CASCADE, related_name="overrides")
    official = models.ForeignKey(
        "learning.Official", on_delete=models.CASCADE, related_name="+", verbose_name=_("official")
    )
    extra_minutes = models.PositiveSmallIntegerField(_("extra minutes"), default=0)
    extra_attempts = models.PositiveSmallIntegerField(_("extra attempts"), default=0)
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)

    panels = [
        FieldPanel("official"),
        FieldRowPanel([FieldPanel("extra_minutes"), FieldPanel("extra_attempts")]),
        FieldRowPanel([FieldPanel("opens_at"), FieldPanel("closes_at")]),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        constraints = [
            models.UniqueConstraint(fields=["session", "official"], name="unique_session_override")
        ]
