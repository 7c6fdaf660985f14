"""The question bank: what organizers write and import, and what papers draw from."""

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail.search import index

OPTION_LETTERS = "ABCDEF"
TRUE, FALSE = "T", "F"


class QuestionType(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TRUE_FALSE = "true_false", _("True or false")


class Difficulty(models.IntegerChoices):
    EASY = 1, _("Easy")
    MEDIUM = 2, _("Medium")
    HARD = 3, _("Hard")


def new_question_key():
    return f"Q{secrets.token_hex(5).upper()}"


class QuestionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Question(index.Indexed, models.Model):
    """One question. Options are fixed columns A–F, as in the xlsx template, and the
    answer is the letters of the correct options ("AC"), or T / F for true-false.
    Attempts copy what they show, so editing a question never changes past attempts.
    `key` is the stable identifier xlsx re-imports match on."""

    key = models.CharField(
        _("key"),
        max_length=32,
        unique=True,
        default=new_question_key,
        help_text=_("Stable identifier used to update the question on re-import."),
    )
    type = models.CharField(_("type"), max_length=16, choices=QuestionType.choices)
    topic = models.ForeignKey(
        "learning.LawTopic",
        on_delete=models.PROTECT,
        related_name="questions",
        verbose_name=_("law topic"),
    )
    stem = models.TextField(_("question"))
    option_a = models.CharField(_("option A"), max_length=500, blank=True)
    option_b = models.CharField(_("option B"), max_length=500, blank=True)
    option_c = models.CharField(_("option C"), max_length=500, blank=True)
    option_d = models.CharField(_("option D"), max_length=500, blank=True)
    option_e = models.CharField(_("option E"), max_length=500, blank=True)
    option_f = models.CharField(_("option F"), max_length=500, blank=True)
    answer = models.CharField(
        _("answer"),
        max_length=6,
        help_text=_("Letters of the correct options, e.g. A or ACD; T or F for true-false."),
    )
    explanation = models.TextField(_("explanation"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    difficulty = models.PositiveSmallIntegerField(
        _("difficulty"), choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = QuestionQuerySet.as_manager()

    search_fields = [
        index.SearchField("stem"),
        index.SearchField("key"),
        index.AutocompleteField("stem"),
        index.FilterField("type"),
        index.FilterField("active"),
        index.FilterField("topic_id"),
    ]

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["topic__sort_order", "key"]
        indexes = [models.Index(fields=["topic", "type", "active"])]

    def __str__(self):
        stem = self.stem if len(self.stem) <= 40 else self.stem[:40] + "…"
        return f"{self.key} {stem}"

    @property
    def options(self):
        """{letter: text} for the options in use (none for true-false)."""
        if self.type == QuestionType.TRUE_FALSE:
            return {}
        texts = [getattr(self, f"option_{c.lower()}") for c in OPTION_LETTERS]
        return {c: t for c, t in zip(OPTION_LETTERS, texts, strict=True) if t.strip()}

    def clean(self):
        super().clean()
        errors = question_errors(
            self.type, self.answer, [getattr(self, f"option_{c.lower()}") for c in OPTION_LETTERS]
        )
        if errors:
            raise ValidationError(errors)
        self.answer = normalise_answer(self.answer)

    def snapshot(self):
        """What an attempt freezes: everything needed to show and grade the question."""
        return {
            "key": self.key,
            "type": self.type,
            "stem": self.stem,
            "options": self.options,
            "answer": self.answer,
            "explanation": self.explanation,
            "legal_basis": self.legal_basis,
            "topic": self.topic.name if self.topic_id else "",
        }


def normalise_answer(value):
    return "".join(sorted(set((value or "").strip().upper().replace(",", "").replace(" ", ""))))


def question_errors(qtype, answer, option_texts):
    """Field errors for a question's type, options and answer: shared by the admin
    form and the xlsx import so both say the same thing."""
    errors = {}
    answer = normalise_answer(answer)
    present = [c for c, t in zip(OPTION_LETTERS, option_texts, strict=True) if (t or "").strip()]
    if qtype == QuestionType.TRUE_FALSE:
        if answer not in (TRUE, FALSE):
            errors["answer"] = _("A true-false answer must be T (true) or F (false).")
        return errors
    if qtype not in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        errors["type"] = _("Unknown question type.")
        return errors
    if len(present) < 2:
        errors["option_b"] = _("A choice question needs at least two options.")
    expected = OPTION_LETTERS[: len(present)]
    if "".join(present) != expected:
        errors["option_a"] = _("Fill the options in order from A without gaps.")
    if not answer:
        errors["answer"] = _("Give the correct answer.")
    elif any(c not in present for c in answer):
        errors["answer"] = _("The answer names an option that does not exist.")
    elif qtype == QuestionType.SINGLE and len(answer) != 1:
        errors["answer"] = _("A single-choice question has exactly one correct option.")
    elif qtype == QuestionType.MULTIPLE and len(answer) < 2:
        errors["answer"] = _("A multiple-choice question has at least two correct options.")
    return errors
