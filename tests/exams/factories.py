"""Factories for the exams tests."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

import factory

from exams.models import (
    ExamSession,
    Paper,
    PaperMode,
    PaperQuestion,
    PaperRule,
    Question,
    QuestionType,
    SessionKind,
)
from learning.models import LawTopic


class LawTopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LawTopic
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"法律{n}")
    slug = factory.Sequence(lambda n: f"law-{n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    key = factory.Sequence(lambda n: f"K{n:05d}")
    type = QuestionType.SINGLE
    topic = factory.SubFactory(LawTopicFactory)
    stem = factory.Sequence(lambda n: f"第{n}题题干")
    option_a = "选项甲"
    option_b = "选项乙"
    option_c = "选项丙"
    option_d = "选项丁"
    answer = "A"
    explanation = "解析内容"
    legal_basis = "《某法》第一条"

    class Params:
        multiple = factory.Trait(type=QuestionType.MULTIPLE, answer="AC")
        true_false = factory.Trait(
            type=QuestionType.TRUE_FALSE,
            option_a="",
            option_b="",
            option_c="",
            option_d="",
            answer="T",
        )


class PaperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paper

    title = factory.Sequence(lambda n: f"试卷{n}")
    mode = PaperMode.FIXED


def fixed_paper(questions, points=Decimal("10")):
    paper = PaperFactory(mode=PaperMode.FIXED)
    for order, question in enumerate(questions):
        PaperQuestion.objects.create(
            paper=paper, question=question, points=points, sort_order=order
        )
    return paper


def random_paper(rules):
    """rules: [(topic or None, type, count, points)]"""
    paper = PaperFactory(mode=PaperMode.RANDOM)
    for order, (topic, qtype, count, points) in enumerate(rules):
        PaperRule.objects.create(
            paper=paper, topic=topic, type=qtype, count=count, points=points, sort_order=order
        )
    return paper


class ExamSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExamSession
        skip_postgeneration_save = True

    kind = SessionKind.ANNUAL
    title = factory.Sequence(lambda n: f"考试{n}")
    year = 2026
    paper = factory.SubFactory(PaperFactory)
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    duration_minutes = 90
    attempts_allowed = 3
    for_everyone = True
    shuffle_questions = True
    shuffle_options = True
