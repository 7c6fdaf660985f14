"""Papers: what an exam session asks, either a fixed list or rules drawn per attempt."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.models import Orderable

from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from .questions import Difficulty, QuestionType


class PaperMode(models.TextChoices):
    FIXED = "fixed", _("Fixed questions")
    RANDOM = "random", _("Drawn by rules for each attempt")


class Paper(ClusterableModel):
    """A paper (试卷). Fixed papers list their questions; random papers hold rules
    (topic × type × count × points) and every attempt draws its own questions."""

    title = models.CharField(pgettext_lazy("exam", "title"), max_length=200)
    mode = models.CharField(_("mode"), max_length=10, choices=PaperMode.choices)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("mode"),
        FieldPanel("description"),
        InlinePanel("items", label=_("Fixed questions"), heading=_("Fixed questions")),
        InlinePanel("rules", label=_("Rules"), heading=_("Rules")),
    ]

    class Meta:
        verbose_name = _("paper")
        verbose_name_plural = _("papers")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @property
    def total_points(self):
        if self.mode == PaperMode.FIXED:
            return sum(item.points for item in self.items.all())
        return sum(rule.count * rule.points for rule in self.rules.all())

    @property
    def question_count(self):
        if self.mode == PaperMode.FIXED:
            return len(self.items.all())
        return sum(rule.count for rule in self.rules.all())


class PaperQuestion(Orderable):
    """A question on a fixed paper with the points it is worth there."""

    paper = ParentalKey(Paper, on_delete=models.CASCADE, related_name="items")
    question = models.ForeignKey(
        "exams.Question", on_delete=models.PROTECT, related_name="+", verbose_name=_("question")
    )
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2, default=2)

    panels = [FieldPanel("question"), FieldPanel("points")]

    class Meta(Orderable.Meta):
        verbose_name = _("paper question")
        verbose_name_plural = _("paper questions")


class PaperRule(Orderable):
    """Draw `count` active questions of a type (from a topic, or any topic), each worth
    `points`."""

    paper = ParentalKey(Paper, on_delete=models.CASCADE, related_name="rules")
    topic = models.ForeignKey(
        "learning.LawTopic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("law topic"),
        help_text=_("Leave empty to draw from every topic."),
    )
    type = models.CharField(_("type"), max_length=16, choices=QuestionType.choices)
    difficulty = models.PositiveSmallIntegerField(
        _("difficulty"),
        choices=Difficulty.choices,
        null=True,
        blank=True,
        help_text=_("Leave empty to draw questions of any difficulty."),
    )
    count = models.PositiveSmallIntegerField(_("count"), default=5)
    points = models.DecimalField(_("points each"), max_digits=5, decimal_places=2, default=2)

    panels = [
        FieldPanel("topic"),
        FieldPanel("type"),
        FieldPanel("difficulty"),
        FieldPanel("count"),
        FieldPanel("points"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("paper rule")
        verbose_name_plural = _("paper rules")

    def __str__(self):
        return f"{self.topic or '*'} × {self.get_type_display()} × {self.count}"
