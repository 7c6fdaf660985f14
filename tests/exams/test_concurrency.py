"""Concurrent start and submit against PostgreSQL: threads with their own database
connections race; one attempt is created and it is graded exactly once."""

import threading

from django.db import connection

import pytest

from exams import attempts as engine
from exams.models import Attempt, AttemptState
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Needs PostgreSQL: SQLite serialises every writer, so there is no race to test "
        "(run with DATABASE_URL=postgres://…).",
    ),
]

THREADS = 8


def race(target):
    """Run target() in THREADS threads released together; collect results or errors."""
    barrier = threading.Barrier(THREADS)
    results, errors = [], []

    def run():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            results.append(target())
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


@pytest.fixture
def race_exam(db):
    questions = QuestionFactory.create_batch(20)
    return ExamSessionFactory(paper=fixed_paper(questions), attempts_allowed=3)


def test_concurrent_start_creates_one_attempt(race_exam):
    official = OfficialFactory()
    results, errors = race(lambda: engine.start_attempt(race_exam, official).pk)
    assert errors == []
    assert len(set(results)) == 1 and len(results) == THREADS
    assert Attempt.objects.filter(official=official).count() == 1
    assert Attempt.objects.get().answers.count() == 20


def test_concurrent_submit_grades_once(race_exam):
    official = OfficialFactory()
    attempt = engine.start_attempt(race_exam, official)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, answer.snapshot["answer"])
    results, errors = race(lambda: engine.submit_attempt(attempt)[1])
    assert errors == []
    assert sorted(results) == [False] * (THREADS - 1) + [True]
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED and attempt.score == 200


def test_saves_racing_a_submit_never_change_a_graded_attempt(race_exam):
    official = OfficialFactory()
    attempt = engine.start_attempt(race_exam, official)
    turns = iter(range(THREADS))  # next() on a range iterator is atomic under the GIL

    def save_or_submit():
        n = next(turns)
        if n == 0:
            return engine.submit_attempt(attempt)[1]
        try:
            engine.save_answer(
                attempt.pk, official, 1, attempt.answers.get(position=1).snapshot["answer"]
            )
        except engine.AttemptClosed:
            return "refused"
        return "saved"

    _results, errors = race(save_or_submit)
    assert errors == []
    attempt.refresh_from_db()
    answer = attempt.answers.get(position=1)
    # Whatever was saved before grading is graded; nothing is saved after.
    assert answer.is_correct == (answer.response == answer.snapshot["answer"])
    assert attempt.score == answer.points_awarded
