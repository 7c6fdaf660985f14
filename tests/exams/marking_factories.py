"""Hand-marked questions and sittings of them, for the marking tests (unit and browser)."""

from decimal import Decimal

from exams import attempts as engine
from exams.models import Attempt, PaperQuestion, QuestionType

from .factories import ExamSessionFactory, PaperFactory, QuestionFactory

RUBRIC = [
    {"element": "指出行政机关的违法行为", "points": "4"},
    {"element": "引用《行政许可法》相关条款", "points": "3"},
    {"element": "提出处理意见", "points": "3"},
]


def case_question(**kwargs):
    """A case-analysis question with a three-element rubric worth 10."""
    values = {
        "type": QuestionType.CASE_ANALYSIS,
        "stem": "某县市场监管局超期作出许可决定。\n请分析其中的问题。",
        "option_a": "",
        "option_b": "",
        "option_c": "",
        "option_d": "",
        "answer": "",
        "rubric": RUBRIC,
        "model_answer": "超过法定期限；违反《行政许可法》第四十二条；应责令改正。",
    }
    return QuestionFactory(**{**values, **kwargs})


def short_question(**kwargs):
    """A short-answer question without a rubric (one element worth its points)."""
    values = {
        "type": QuestionType.SHORT_ANSWER,
        "stem": "简述行政处罚的种类。",
        "option_a": "",
        "option_b": "",
        "option_c": "",
        "option_d": "",
        "answer": "",
        "rubric": [],
    }
    return QuestionFactory(**{**values, **kwargs})


def marking_exam(questions_points, **session):
    """An open session over a fixed paper of (question, points), unshuffled."""
    paper = PaperFactory()
    for order, (question, points) in enumerate(questions_points):
        PaperQuestion.objects.create(
            paper=paper, question=question, points=Decimal(points), sort_order=order
        )
    values = {"shuffle_questions": False, "shuffle_options": False}
    return ExamSessionFactory(paper=paper, **{**values, **session})


def sit(session, official, responses, submit=True):
    """An attempt of `official` with {question: response} saved (bank letters or
    text), submitted unless told not to."""
    attempt = engine.start_attempt(session, official)
    for answer in attempt.answers.all():
        if answer.question in responses:
            engine.save_answer(attempt.pk, official, answer.position, responses[answer.question])
    if submit:
        engine.submit_attempt(attempt)
    return Attempt.objects.get(pk=attempt.pk)
