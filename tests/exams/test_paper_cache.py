"""The paper cache: starts share the frozen paper, and an organizer's edit reaches
the very next start (never an attempt already started)."""

from decimal import Decimal

import pytest

from exams import attempts as engine
from exams import paper_cache
from exams.models import QuestionType
from learning.fast import memo
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper, random_paper

pytestmark = pytest.mark.django_db


def stems(attempt):
    return {a.question_id: a.snapshot["stem"] for a in attempt.answers.all()}


def test_an_edit_reaches_the_next_start_not_the_started_one(exam, official):
    first = engine.start_attempt(exam, official)
    question = first.answers.get(position=1).question
    before = question.stem
    question.stem = "改过的题干"
    question.save()
    second = engine.start_attempt(exam, OfficialFactory())
    assert stems(second)[question.pk] == "改过的题干"
    assert stems(first)[question.pk] == before


def test_a_topic_rename_reaches_the_next_start(exam, official):
    engine.start_attempt(exam, official)
    topic = exam.paper.items.first().question.topic
    topic.name = "新的主题名"
    topic.save()
    attempt = engine.start_attempt(exam, OfficialFactory())
    assert {a.snapshot["topic"] for a in attempt.answers.all()} == {"新的主题名"}


def test_random_papers_draw_from_the_bank_as_it_is_now(db):
    bank = QuestionFactory.create_batch(3)
    topic = bank[0].topic
    paper = random_paper([(None, QuestionType.SINGLE, 3, Decimal(5))])
    session = ExamSessionFactory(paper=paper)
    first = engine.start_attempt(session, OfficialFactory())
    assert set(stems(first)) == {q.pk for q in bank}
    bank[0].active = False
    bank[0].save()
    added = QuestionFactory(topic=topic)
    second = engine.start_attempt(session, OfficialFactory())
    assert set(stems(second)) == {bank[1].pk, bank[2].pk, added.pk}


def test_a_changed_paper_reaches_the_next_start(exam, official, bank):
    engine.start_attempt(exam, official)
    exam.paper.items.filter(question=bank[0]).update(points=Decimal(30))
    # A queryset update sends no signal; saving the paper (as the admin does) does.
    exam.paper.save()
    attempt = engine.start_attempt(exam, OfficialFactory())
    assert attempt.max_score == Decimal(120)


def test_without_the_shared_cache_starts_read_the_database(exam, official, monkeypatch):
    monkeypatch.setattr(memo, "generation", lambda family: None)  # Redis down
    assert engine.start_attempt(exam, official).answers.count() == 10
    question = exam.paper.items.first().question
    type(question).objects.filter(pk=question.pk).update(stem="缓存不可用时改的题干")
    attempt = engine.start_attempt(exam, OfficialFactory())
    assert stems(attempt)[question.pk] == "缓存不可用时改的题干"


@pytest.mark.parametrize("size", [10, 200])
def test_later_starts_do_not_read_the_paper(size, django_assert_max_num_queries):
    session = ExamSessionFactory(paper=fixed_paper(QuestionFactory.create_batch(size)))
    engine.start_attempt(session, OfficialFactory())
    official = OfficialFactory()
    # Attempts, department, assignment, override; the attempt and its answers.
    with django_assert_max_num_queries(8):
        attempt = engine.start_attempt(session, official)
    assert attempt.answers.count() == size


def test_nothing_is_held_past_the_backstop(exam, official, monkeypatch):
    engine.start_attempt(exam, official)
    question = exam.paper.items.first().question
    # An edit the shared cache never heard of (made while Redis was down).
    type(question).objects.filter(pk=question.pk).update(stem="停机时改的题干")
    held = paper_cache._held
    monkeypatch.setattr(held, "_since", held._since - held.hold_seconds - 1)
    attempt = engine.start_attempt(exam, OfficialFactory())
    assert stems(attempt)[question.pk] == "停机时改的题干"
