"""The back office of lecture quizzes: organizers choose a lecture (a page chooser),
a few bank questions (a question chooser), the pass mark and whether passing is
required to complete the lecture. exams/wagtail_hooks.py registers the viewset."""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import LectureQuiz, LectureQuizQuestion, QuizAttempt
from .quizzes import QUIZ_TYPES


class LectureQuizForm(WagtailAdminModelForm):
    """Refuses a quiz without questions, with a question twice, with an inactive
    question, or with one a person would have to mark (short answer, case
    analysis): a quiz is marked the moment it is submitted."""

    def clean_pass_mark(self):
        mark = self.cleaned_data.get("pass_mark")
        if mark is not None and not 1 <= mark <= 100:
            self.add_error("pass_mark", _("Give a pass mark between 1 and 100."))
        return mark

    def _chosen_questions(self):
        formset = self.formsets.get("items")
        if formset is None:
            return []
        return [
            f.cleaned_data["question"]
            for f in formset.forms
            if getattr(f, "cleaned_data", None)
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("question") is not None
        ]

    def is_valid(self):
        if not super().is_valid():
            return False
        questions = self._chosen_questions()
        if not questions:
            self.add_error(None, _("A quiz needs at least one question."))
        seen = set()
        for question in questions:
            for message in _question_problems(question, seen):
                self.add_error(None, message % {"question": question})
            seen.add(question.pk)
        return not self.errors


def _question_problems(question, seen):
    if question.pk in seen:
        yield _("The question “%(question)s” is in the quiz twice.")
    if question.type not in QUIZ_TYPES:
        yield _(
            "The question “%(question)s” is marked by hand: a quiz asks only questions "
            "marked at once (choice questions and fill in the blank)."
        )
    if not question.active:
        yield _("The question “%(question)s” is not active in the bank.")


class LectureQuizViewSet(SnippetViewSet):
    model = LectureQuiz
    icon = "tasks"
    menu_label = gettext_lazy("Lecture quizzes")
    menu_name = "lecture_quizzes"
    menu_order = 255
    add_to_admin_menu = True
    list_display = [
        "lecture",
        Column("question_count", label=gettext_lazy("Questions")),
        "pass_mark",
        BooleanColumn("required_for_completion"),
        Column("pass_count", label=gettext_lazy("Officials passed")),
        "updated_at",
    ]
    list_filter = ["required_for_completion"]
    ordering = ["-updated_at"]
    edit_handler = ObjectList(LectureQuiz.panels, base_form_class=LectureQuizForm)

    def get_queryset(self, request):
        return LectureQuiz.objects.select_related("lecture").annotate(
            question_count=_count(LectureQuizQuestion.objects.all(), "pk"),
            pass_count=_count(QuizAttempt.objects.filter(passed=True), "official", distinct=True),
        )


def _count(rows, field, distinct=False):
    """A count of `rows` of each listed quiz, as a subquery (0 for none)."""
    counted = (
        rows.filter(quiz=OuterRef("pk"))
        .order_by()
        .values("quiz")
        .annotate(n=Count(field, distinct=distinct))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)
