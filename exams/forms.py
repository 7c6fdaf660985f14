"""Admin forms: a question shows the fields of its type, with its accepted answers
and rubric as plain text lines; a paper is refused when its rules ask for more than
the bank holds, or when it has neither fixed questions nor rules for its mode."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList

from learning.forms import NewObjectDefaultsMixin, this_year

from .models import PaperMode, PaperRule, QuestionType, SessionKind
from .models.questions import format_blanks, format_rubric, parse_blanks, parse_rubric
from .papers import rule_errors


class AcceptedAnswersField(forms.CharField):
    """A fill-in-the-blank question's accepted answers as text: one line per blank,
    alternatives separated by ｜ (questions.parse_blanks). Shows what was saved as the
    same lines, so editing never changes a question by opening it."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return format_blanks(value) if isinstance(value, list) else value

    def to_python(self, value):
        return parse_blanks(super().to_python(value))


class RubricField(forms.CharField):
    """A marking rubric as text: one element a line with its points at the end,
    "告知当事人陈述、申辩的权利 — 2分" (questions.parse_rubric)."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        return format_rubric(value) if isinstance(value, list) else value

    def to_python(self, value):
        return parse_rubric(super().to_python(value))


class QuestionForm(NewObjectDefaultsMixin, WagtailAdminModelForm):
    """The question's edit form. The content is checked by the model's own rule
    (questions.check_content), the one the spreadsheet import applies, so both say
    the same thing; question_form.js shows the fields the chosen type uses. A new
    question starts as single choice, the bank's most common type."""

    new_object_initial = {"type": QuestionType.SINGLE}

    blanks = AcceptedAnswersField(
        label=gettext_lazy("Accepted answers per blank"),
        required=False,
        help_text=gettext_lazy(
            "Fill in the blank only. One line per blank of the question, in order; a "
            "blank's accepted answers (synonyms, other spellings) separated by ｜, e.g. "
            "“行政许可｜许可”. Answers are compared without spaces, punctuation, case or "
            "full-width forms, so “１５” matches “15”."
        ),
    )
    rubric = RubricField(
        label=gettext_lazy("Marking rubric"),
        required=False,
        help_text=gettext_lazy(
            "Short answer and case analysis only. One line per element a full answer "
            "contains, with its points at the end, e.g. “告知当事人陈述、申辩的权利 — 2分”. "
            "Markers give points element by element, and the answer earns that share of "
            "what the question is worth in the paper. Leave it empty to have the answer "
            "marked as a whole against the model answer, which is then required."
        ),
    )

    class Media:
        js = ["exams/question_form.js"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        help_texts = {
            "stem": _(
                "For fill in the blank, mark each blank with ____ (two or more "
                "underscores) or empty brackets （ ）."
            ),
            "answer": _(
                "Choice questions only: letters of the correct options, e.g. A or ACD; "
                "T or F for true-or-false."
            ),
            "model_answer": _(
                "Short answer and case analysis only: a full answer, shown to markers "
                "(and to officials when the session lets them review their answers)."
            ),
        }
        for name, text in help_texts.items():
            if name in self.fields:
                self.fields[name].help_text = text


def _for(*types):
    """The panel attribute question_form.js reads: the types that use the field."""
    return {"data-question-types": " ".join(types)}


CHOICES = (QuestionType.SINGLE, QuestionType.MULTIPLE)
MANUAL = (QuestionType.SHORT_ANSWER, QuestionType.CASE_ANALYSIS)
QUESTION_EDIT_HANDLER = ObjectList(
    [
        FieldPanel("key"),
        FieldRowPanel([FieldPanel("type"), FieldPanel("topic"), FieldPanel("difficulty")]),
        FieldPanel("stem"),
        MultiFieldPanel(
            [FieldPanel(f"option_{letter}") for letter in "abcdef"],
            heading=gettext_lazy("Options"),
            attrs=_for(*CHOICES),
        ),
        FieldPanel("answer", attrs=_for(*CHOICES, QuestionType.TRUE_FALSE)),
        FieldPanel("blanks", attrs=_for(QuestionType.FILL_BLANK)),
        FieldPanel("rubric", attrs=_for(*MANUAL)),
        FieldPanel("model_answer", attrs=_for(*MANUAL)),
        FieldPanel("explanation"),
        FieldPanel("legal_basis"),
        FieldPanel("active"),
    ],
    base_form_class=QuestionForm,
)


class PaperForm(WagtailAdminModelForm):
    def _live_forms(self, name):
        formset = self.formsets.get(name)
        if formset is None:
            return []
        return [
            f
            for f in formset.forms
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        ]

    def is_valid(self):
        valid = super().is_valid()
        if not valid:
            return False
        mode = self.cleaned_data.get("mode")
        items = self._live_forms("items")
        rules = self._live_forms("rules")
        if mode == PaperMode.FIXED and not items:
            self.add_error(None, _("A fixed paper needs at least one question."))
        if mode == PaperMode.RANDOM:
            if not rules:
                self.add_error(None, _("A random paper needs at least one rule."))
            unsaved = [
                PaperRule(
                    topic=f.cleaned_data.get("topic"),
                    type=f.cleaned_data.get("type"),
                    difficulty=f.cleaned_data.get("difficulty"),
                    count=f.cleaned_data.get("count") or 0,
                    points=f.cleaned_data.get("points") or 0,
                )
                for f in rules
            ]
            for message in rule_errors(unsaved):
                self.add_error(None, message)
        return not self.errors


class ExamSessionForm(NewObjectDefaultsMixin, WagtailAdminModelForm):
    """A new exam session starts as this year's annual exam."""

    new_object_initial = {"kind": SessionKind.ANNUAL, "year": this_year}
