"""The wrong-answer notebook (错题本): questions an official got wrong, kept until they
answer them correctly in notebook practice."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotebookEntry(models.Model):
    """One question an official answered wrongly. The snapshot is the latest version
    they got wrong; the session says when its answer may be shown (review policy)."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    official = models.ForeignKey(
        "learning.Official",
        on_delete=models.CASCADE,
        related_name="notebook_entries",
        verbose_name=_("official"),
    )
    question = models.ForeignKey(
        "exams.Question", on_delete=models.CASCADE, related_name="+", verbose_name=_("question")
    )
    session = models.ForeignKey(
        "exams.ExamSession",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("exam session"),
    )
    snapshot = models.JSONField(_("question as shown"))
    times_wrong = models.PositiveIntegerField(_("times wrong"), default=1)
    cleared = models.BooleanField(_("cleared"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notebook entry")
        verbose_name_plural = _("notebook entries")
        ordering = ["cleared", "-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["official", "question"], name="unique_notebook_entry")
        ]

    def __str__(self):
        return f"{self.official_id}: {self.snapshot.get('key', self.question_id)}"
