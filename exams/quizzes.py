"""The quiz after a lecture (课后练习): a few bank questions an official answers after
(or while) studying the lecture, as often as they like. A try is marked at once and
kept as a QuizAttempt; passing one, when the organizer made it required, is what the
lecture needs besides its credit time to count as completed (the lecture requirement
below, registered with learning's `register_lecture_requirements` hook).

Quiz answers are practice: they are never exam Answers and never enter the
wrong-answer notebook. Only questions marked at once are asked (choice types and fill
in the blank): hand-marked ones are refused when the quiz is saved."""

import dataclasses
import json
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, FilteredRelation, Min, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from learning.lecture_requirements import LectureRequirement, LectureRequirementProvider

from . import grading
from .models import CHOICE_TYPES, LectureQuiz, QuestionType, QuizAttempt
from .models.questions import (
    FALSE,
    TRUE,
    blank_accepts,
    blank_count,
    normalise_answer,
    split_stem,
)

# Types a quiz may ask: marked on submit.
QUIZ_TYPES = frozenset({*CHOICE_TYPES, QuestionType.FILL_BLANK})
# The longest answer to one blank that is kept.
MAX_BLANK_LENGTH = 200
KEY = "exams.quiz"


def quiz_for(lecture_id):
    """The quiz of a live lecture, with the lecture; None if it has none."""
    return (
        LectureQuiz.objects.select_related("lecture")
        .filter(lecture_id=lecture_id, lecture__live=True)
        .first()
    )


def questions_of(quiz):
    """The quiz's questions asked now, in its order: active ones of the quiz types."""
    return [
        item.question
        for item in quiz.items.filter(question__active=True, question__type__in=QUIZ_TYPES)
        .select_related("question__topic")
        .order_by("sort_order", "pk")
    ]


def _field(question, blank=None):
    return f"q{question.pk}" if blank is None else f"q{question.pk}-{blank}"


def _read_one(question, data):
    """What the official answered to one question, as kept: option letters ("AC"),
    T / F, or a list of texts for the blanks; None when left unanswered."""
    if question.type == QuestionType.FILL_BLANK:
        texts = [
            str(data.get(_field(question, n), "")).strip()[:MAX_BLANK_LENGTH]
            for n in range(blank_count(question.stem))
        ]
        return texts if any(texts) else None
    if question.type == QuestionType.TRUE_FALSE:
        given = str(data.get(_field(question), ""))
        return given if given in (TRUE, FALSE) else None
    allowed = set(question.options)
    chosen = data.getlist(_field(question)) if hasattr(data, "getlist") else []
    letters = "".join(sorted({c for c in chosen if c in allowed}))
    if question.type == QuestionType.SINGLE and len(letters) != 1:
        return None
    return letters or None


def read_responses(questions, data):
    """{question id (text): response} of the answers in `data` (a QueryDict) to
    `questions`; whatever else it holds, or options a question does not have, is
    ignored."""
    responses = {}
    for question in questions:
        response = _read_one(question, data)
        if response is not None:
            responses[str(question.pk)] = response
    return responses


def _graded_response(question, response):
    """A kept response in the form exams.grading reads."""
    if response is None:
        return ""
    if question.type == QuestionType.FILL_BLANK:
        return json.dumps(response if isinstance(response, list) else [], ensure_ascii=False)
    return response if isinstance(response, str) else ""


def is_correct(question, response):
    """Whether a kept response answers the question in full (every blank right)."""
    correct, _points = grading.answer_points(
        question.snapshot(), _graded_response(question, response), 1
    )
    return bool(correct)


def submit(quiz, official, questions, data):
    """Mark a try at the quiz and keep it: unanswered questions count as wrong."""
    responses = read_responses(questions, data)
    right = sum(1 for q in questions if is_correct(q, responses.get(str(q.pk))))
    total = len(questions)
    percent = (Decimal(right * 100) / total).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return QuizAttempt.objects.create(
        quiz=quiz,
        official=official,
        responses=responses,
        correct=right,
        total=total,
        percent=percent,
        passed=percent >= quiz.pass_mark,
    )


def first_pass(quiz, official):
    """When the official first passed the quiz, or None."""
    return (
        QuizAttempt.objects.filter(quiz=quiz, official=official, passed=True)
        .order_by("created_at", "pk")
        .values_list("created_at", flat=True)
        .first()
    )


@dataclasses.dataclass
class QuestionPart:
    """One question as the quiz page shows it: its options or the pieces of its stem
    around the blanks, and for a result what was answered and the key."""

    question: object
    number: int
    options: list = dataclasses.field(default_factory=list)  # [(letter, text, chosen)]
    pieces: list = dataclasses.field(default_factory=list)  # [(text, field name, given)]
    correct: bool = False
    withheld: bool = False
    given_text: str = ""
    key_text: str = ""
    blank_rows: list = dataclasses.field(default_factory=list)  # [(n, given, accepted, ok)]


def _choice_text(question, letters):
    if question.type == QuestionType.TRUE_FALSE:
        return {TRUE: _("True"), FALSE: _("False")}.get(letters, "")
    options = question.options
    return "；".join(f"{c}. {options.get(c, '')}" for c in letters or "")


def _options(question, response):
    if question.type == QuestionType.TRUE_FALSE:
        letters = [(TRUE, _("True")), (FALSE, _("False"))]
    else:
        letters = list(question.options.items())
    return [(letter, text, bool(response) and letter in response) for letter, text in letters]


def parts_for(questions, responses=None, withheld=frozenset()):
    """[QuestionPart] of the quiz's questions, with the official's answers and the
    key (except for `withheld` question ids) when `responses` are given."""
    parts = []
    for number, question in enumerate(questions, start=1):
        response = (responses or {}).get(str(question.pk))
        part = QuestionPart(question=question, number=number)
        if question.type == QuestionType.FILL_BLANK:
            given = response if isinstance(response, list) else []
            texts = split_stem(question.stem)
            for n, text in enumerate(texts):
                field = _field(question, n) if n < len(texts) - 1 else ""
                part.pieces.append((text, field, given[n] if n < len(given) else ""))
        else:
            part.options = _options(question, response if isinstance(response, str) else "")
        if responses is not None:
            _mark(part, question, response, question.pk in withheld)
        parts.append(part)
    return parts


def _mark(part, question, response, withheld):
    part.withheld = withheld
    part.correct = is_correct(question, response)
    if question.type == QuestionType.FILL_BLANK:
        given = response if isinstance(response, list) else []
        for n, accepted in enumerate(question.blanks or []):
            text = given[n] if n < len(given) else ""
            part.blank_rows.append((n + 1, text, accepted, blank_accepts(accepted, text)))
        part.given_text = " / ".join(t or "—" for t in given)
    else:
        part.given_text = _choice_text(question, response if isinstance(response, str) else "")
        part.key_text = _choice_text(question, normalise_answer(question.answer, question.type))


class QuizRequirements(LectureRequirementProvider):
    """The quiz as a lecture requirement (learning.lecture_requirements): met once a
    try passes; required when the organizer says so."""

    def requirements(self, lecture_ids, official_ids=(), before=None):
        quizzes = LectureQuiz.objects.order_by()
        if lecture_ids is not None:
            quizzes = quizzes.filter(lecture_id__in=list(lecture_ids))
        fields = ["pk", "lecture_id", "required_for_completion", "pass_mark"]
        if official_ids:
            passed = Q(attempts__passed=True, attempts__official_id__any_of=official_ids)
            if before is not None:
                passed &= Q(attempts__created_at__lt=before)
            rows = (
                quizzes.annotate(passes=FilteredRelation("attempts", condition=passed))
                .values(*fields, "passes__official_id")
                .annotate(first=Min("passes__created_at"))
                .values_list(*fields, "passes__official_id", "first")
            )
        else:
            rows = ((*row, None, None) for row in quizzes.values_list(*fields))
        found = {}
        for _pk, lecture_id, required, pass_mark, official_id, first in rows:
            if lecture_id not in found:
                found[lecture_id] = self._requirement(lecture_id, required, pass_mark)
            if official_ids and official_id is not None and first is not None:
                found[lecture_id].met[official_id] = first
        return list(found.values())

    def unmet(self, lecture_ref, official_ref, before=None):
        passes = QuizAttempt.objects.filter(
            quiz_id=OuterRef("pk"), official_id=OuterRef(OuterRef(official_ref)), passed=True
        )
        if before is not None:
            passes = passes.filter(created_at__lt=before)
        return Exists(
            LectureQuiz.objects.filter(
                lecture_id=OuterRef(lecture_ref), required_for_completion=True
            ).exclude(Exists(passes))
        )

    def met_at(self, lecture_ref, official_ref):
        first = (
            QuizAttempt.objects.filter(
                quiz__lecture_id=OuterRef(lecture_ref),
                quiz__required_for_completion=True,
                official_id=OuterRef(official_ref),
                passed=True,
            )
            .order_by("created_at")
            .values("created_at")[:1]
        )
        return Subquery(first)

    @staticmethod
    def _requirement(lecture_id, required, pass_mark):
        return LectureRequirement(
            lecture_id=lecture_id,
            key=KEY,
            label=_("Quiz after the lecture"),
            required=required,
            url=reverse("exams:quiz", args=[lecture_id]),
            summary=_("Pass mark: %(mark)s%% of the questions.") % {"mark": pass_mark},
            action=_("Take the quiz"),
            done_text=_("Passed"),
            pending_text=_("Not yet passed"),
        )
