"""The short quiz after a lecture (课后练习): a few bank questions with a pass mark.
Quiz answers are practice: they never enter the notebook of a formal exam."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.models import Orderable

from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel


class LectureQuiz(ClusterableModel):
    lecture = models.OneToOneField(
        "learning.LecturePage",
        on_delete=models.CASCADE,
        related_name="quiz",
        verbose_name=_("lecture"),
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=60, help_text=_("Percentage of the quiz's questions.")
    )
    required_for_completion = models.BooleanField(
        _("required to complete the lecture"),
        default=True,
        help_text=_("The lecture counts as completed only once its quiz is passed."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    panels = [
        FieldPanel("lecture"),
        FieldPanel("pass_mark"),
        FieldPanel("required_for_completion"),
        InlinePanel("items", label=_("Questions"), heading=_("Questions"), min_num=1),
    ]

    class Meta:
        verbose_name = _("lecture quiz")
        verbose_name_plural = _("lecture quizzes")

    def __str__(self):
        return str(self.lecture)


class LectureQuizQuestion(Orderable):
    quiz = ParentalKey(LectureQuiz, on_delete=models.CASCADE, related_name="items")
    question = models.ForeignKey(
        "exams.Question", on_delete=models.PROTECT, related_name="+", verbose_name=_("question")
    )

    panels = [FieldPanel("question")]

    class Meta(Orderable.Meta):
        verbose_name = _("quiz question")
        verbose_name_plural = _("quiz questions")
        constraints = [
            models.UniqueConstraint(fields=["quiz", "question"], name="unique_quiz_question")
        ]


class QuizAttempt(models.Model):
    """One try at a lecture's quiz: what was answered (question id → response) and
    how it went. Tries are unlimited; the lecture's quiz is done once one passes."""

    wagtail_reference_index_ignore = True

    quiz = models.ForeignKey(
        LectureQuiz, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("quiz")
    )
    official = models.ForeignKey(
        "learning.Official",
        on_delete=models.CASCADE,
        related_name="quiz_attempts",
        verbose_name=_("official"),
    )
    responses = models.JSONField(_("responses"), default=dict)
    correct = models.PositiveSmallIntegerField(_("correct answers"), default=0)
    total = models.PositiveSmallIntegerField(_("questions"), default=0)
    percent = models.DecimalField(_("percentage"), max_digits=5, decimal_places=2, default=0)
    passed = models.BooleanField(_("passed"), default=False)
    created_at = models.DateTimeField(_("taken at"), auto_now_add=True)

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["official", "quiz", "passed"])]

    def __str__(self):
        return f"{self.quiz} · {self.official_id} · {self.percent}%"
