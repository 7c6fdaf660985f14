"""The year's law-study agenda for meetings (会前学法): what the organizer plans to
study at the district executive meeting, the party group meeting and the all-staff
meeting, and what became of each item (held, with its collective-study record, or
cancelled with a reason)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.search import index

from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel

from .study import CollectiveStudySession, Meeting
from .topics import LawTopic, Speaker


class AgendaStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class AgendaItemQuerySet(models.QuerySet):
    def for_year(self, year):
        return self.filter(date__year=year)

    def planned(self):
        return self.filter(status=AgendaStatus.PLANNED)

    def overdue(self, today=None):
        """Still planned after their date: held and not recorded, or not held at all."""
        return self.planned().filter(date__lt=today or timezone.localdate())


class AgendaItem(index.Indexed, ClusterableModel):
    """One law-study item on a meeting's agenda. Once held it points to the
    collective-study record made from it (one at most, so that recording it twice
    credits nobody twice); a cancelled item keeps its reason for the year's report."""

    date = models.DateField(_("date"))
    meeting = models.CharField(
        _("meeting"), max_length=16, choices=Meeting.choices, default=Meeting.EXECUTIVE
    )
    title = models.CharField(
        _("law or topic"),
        max_length=200,
        help_text=_("As the agenda says, e.g. 学习《民法典》 or 区长讲法治课."),
    )
    topics = ParentalManyToManyField(
        LawTopic, verbose_name=_("law topics"), blank=True, related_name="agenda_items"
    )
    speaker = models.ForeignKey(
        Speaker,
        verbose_name=_("speaker"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agenda_items",
        help_text=_("An expert, or the district head giving a rule-of-law lesson."),
    )
    lecture = models.ForeignKey(
        "learning.LecturePage",
        verbose_name=_("lecture page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agenda_items",
    )
    credit_minutes = models.PositiveSmallIntegerField(
        _("credit minutes"),
        default=60,
        help_text=_("What attending earns once the item is held."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AgendaStatus.choices, default=AgendaStatus.PLANNED
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    session = models.OneToOneField(
        CollectiveStudySession,
        verbose_name=_("collective study record"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agenda_item",
    )
    follow_up_questions = models.BooleanField(
        _("follow-up questions"),
        default=False,
        help_text=_(
            "After the meeting, attendees are asked to answer the quiz of the lecture page "
            "(会后测试)."
        ),
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("days to answer"),
        null=True,
        blank=True,
        help_text=_("Counted from the meeting; leave empty for no due date."),
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = AgendaItemQuerySet.as_manager()

    panels = [
        FieldRowPanel([FieldPanel("date"), FieldPanel("meeting")]),
        FieldPanel("title"),
        FieldPanel("topics"),
        FieldRowPanel([FieldPanel("speaker"), FieldPanel("credit_minutes")]),
        FieldPanel("lecture"),
        FieldRowPanel([FieldPanel("follow_up_questions"), FieldPanel("follow_up_days")]),
        MultiFieldPanel(
            [FieldPanel("status", read_only=True), FieldPanel("cancel_reason", read_only=True)],
            heading=_("Status"),
        ),
        FieldPanel("notes"),
    ]
    search_fields = [index.SearchField("title"), index.FilterField("date")]

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("meeting law-study agenda")
        ordering = ["date", "pk"]
        indexes = [models.Index(fields=["status", "date"], name="agenda_item_status_date")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=AgendaStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="agenda_item_cancelled_with_reason",
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_meeting_display()} · {self.title}"

    def clean(self):
        super().clean()
        if self.follow_up_questions and self.lecture_id is None:
            raise ValidationError(
                {"follow_up_questions": _("Follow-up questions need a lecture page: choose one.")}
            )

    def follow_up_due(self, held_on=None):
        """The last day attendees are asked to answer, or None when open-ended."""
        if self.follow_up_days is None:
            return None
        return (held_on or self.date) + datetime.timedelta(days=self.follow_up_days)

    @property
    def is_overdue(self):
        return self.status == AgendaStatus.PLANNED and self.date < timezone.localdate()
