"""Attempts and answers. An attempt freezes the questions it drew (a snapshot per
answer row), so later edits to the bank never change what was asked or graded."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .questions import OPTION_LETTERS


class AttemptState(models.TextChoices):
    IN_PROGRESS = "in_progress", pgettext_lazy("attempt", "In progress")
    SUBMITTED = "submitted", _("Submitted")
    AUTO_SUBMITTED = "auto_submitted", _("Submitted automatically at the deadline")


class Band(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


class AttemptQuerySet(models.QuerySet):
    def finished(self):
        return self.exclude(state=AttemptState.IN_PROGRESS)

    def in_progress(self):
        return self.filter(state=AttemptState.IN_PROGRESS)


class Attempt(models.Model):
    """One sitting by one official. The deadline is computed by the server at start,
    and again from the start when the session or the person's override changes;
    at most one attempt per person and session is in progress (a partial unique
    constraint makes concurrent starts collapse into one)."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    session = models.ForeignKey(
        "exams.ExamSession",
        on_delete=models.PROTECT,
        related_name="attempts",
        verbose_name=_("exam session"),
    )
    official = models.ForeignKey(
        "learning.Official",
        on_delete=models.PROTECT,
        related_name="exam_attempts",
        verbose_name=_("official"),
    )
    paper = models.ForeignKey(
        "exams.Paper", on_delete=models.PROTECT, related_name="+", verbose_name=_("paper")
    )
    number = models.PositiveSmallIntegerField(_("attempt number"))
    state = models.CharField(
        _("state"), max_length=20, choices=AttemptState.choices, default=AttemptState.IN_PROGRESS
    )
    seed = models.BigIntegerField(_("random seed"))
    started_at = models.DateTimeField(_("started at"))
    deadline = models.DateTimeField(_("deadline"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(_("total points"), max_digits=7, decimal_places=2, default=0)
    percent = models.DecimalField(
        _("percentage"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    band = models.CharField(_("band"), max_length=10, choices=Band.choices, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    verification_code = models.CharField(_("verification code"), max_length=16, blank=True)
    # Short-answer and case-analysis answers wait for a person (exams.marking): until
    # the last is marked the attempt has no score, band or pass, and counts nowhere.
    marking_pending = models.BooleanField(_("pending marking"), default=False)
    # A result found invalid afterwards (e.g. someone else sat it): score, band and
    # pass are cleared, its certificate is revoked; the log keeps what it was.
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.TextField(_("reason for voiding"), blank=True)
    # Exam integrity (see exams.integrity): the device the attempt is bound to (a
    # hash of its browser's device cookie), and departures from the page counted.
    device = models.CharField(_("device"), max_length=64, blank=True)
    departures = models.PositiveSmallIntegerField(_("departures from the page"), default=0)
    last_departure_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["session", "official", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "official", "number"], name="unique_attempt_number"
            ),
            models.UniqueConstraint(
                fields=["session", "official"],
                condition=Q(state="in_progress"),
                name="one_attempt_in_progress",
            ),
        ]

    def __str__(self):
        return f"{self.session} · {self.official.name} · #{self.number}"

    @property
    def is_finished(self):
        return self.state != AttemptState.IN_PROGRESS


class Answer(models.Model):
    """One question of an attempt as it was shown (`snapshot`, with the option order
    the person saw) and the response saved for it. `response` holds option letters
    as the bank names them, so grading and statistics do not depend on shuffling."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    # No index of its own: the unique (attempt, position) index leads with it and
    # serves every lookup by attempt; a second one only slowed each start's INSERT.
    attempt = models.ForeignKey(
        Attempt,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("attempt"),
        db_index=False,
    )
    position = models.PositiveSmallIntegerField(_("question number"))
    question = models.ForeignKey(
        "exams.Question",
        on_delete=models.SET_NULL,
        null=True,
        related_name="answers",
        verbose_name=_("question"),
    )
    snapshot = models.JSONField(_("question as shown"))
    option_order = models.CharField(_("option order"), max_length=6, blank=True)
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2)
    # Option letters for choice types; for fill in the blank a JSON list of the
    # texts per blank; for short answer and case analysis the official's text.
    response = models.TextField(_("response"), blank=True)
    saved_at = models.DateTimeField(_("saved at"), null=True, blank=True)
    is_correct = models.BooleanField(_("correct"), null=True, blank=True)
    points_awarded = models.DecimalField(
        _("points awarded"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="unique_answer_position")
        ]

    def __str__(self):
        return f"{self.attempt_id}#{self.position}"

    @property
    def type(self):
        return self.snapshot["type"]

    def shown_options(self):
        """[(display letter, bank letter, text)] in the order this person saw them."""
        options = self.snapshot.get("options") or {}
        order = self.option_order or "".join(options)
        return [(OPTION_LETTERS[i], letter, options[letter]) for i, letter in enumerate(order)]

    def display_letters(self, letters):
        """Bank letters → the letters this person saw, for review pages."""
        if self.type == "true_false":
            return letters
        order = self.option_order or "".join(self.snapshot.get("options") or {})
        return "".join(sorted(OPTION_LETTERS[order.index(c)] for c in letters if c in order))
