"""Exams a study plan requires (the learning app's StudyPlan names them through this
inline, added by the exams requirement provider)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel
from wagtail.models import Orderable

from modelcluster.fields import ParentalKey


class PlanExam(Orderable):
    """A session the plan's audience must pass; passing its make-up also counts."""

    plan = ParentalKey(
        "learning.StudyPlan", on_delete=models.CASCADE, related_name="required_exams"
    )
    session = models.ForeignKey(
        "exams.ExamSession",
        on_delete=models.CASCADE,
        related_name="required_by_plans",
        verbose_name=_("exam session"),
    )

    panels = [FieldPanel("session")]

    class Meta(Orderable.Meta):
        verbose_name = _("required exam")
        verbose_name_plural = _("required exams")
        constraints = [models.UniqueConstraint(fields=["plan", "session"], name="unique_plan_exam")]

    def __str__(self):
        return str(self.session)
