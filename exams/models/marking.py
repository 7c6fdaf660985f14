"""Marks given by people to short-answer and case-analysis answers (exams.marking)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MarkingRound(models.IntegerChoices):
    FIRST = 1, _("First marking")
    SECOND = 2, _("Second marking")
    RECONCILIATION = 3, _("Reconciliation")


class Marking(models.Model):
    """One marker's mark of one answer in one round: points per rubric element, the
    answer's points (their sum, scaled to what the question is worth on the paper) and
    a comment. With second marking two rounds by different people; marks further apart
    than the session's margin go to a third, whose mark is final."""

    wagtail_reference_index_ignore = True

    answer = models.ForeignKey(
        "exams.Answer", on_delete=models.CASCADE, related_name="markings", verbose_name=_("answer")
    )
    round = models.PositiveSmallIntegerField(
        _("round"), choices=MarkingRound.choices, default=MarkingRound.FIRST
    )
    marker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("marker"),
    )
    element_points = models.JSONField(_("points per rubric element"), default=list)
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("marking")
        verbose_name_plural = _("markings")
        ordering = ["answer", "round"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "round"], name="unique_marking_round")
        ]

    def __str__(self):
        return f"{self.answer_id} · {self.get_round_display()} · {self.points}"
