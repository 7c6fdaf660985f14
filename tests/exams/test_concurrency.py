"""Concurrent start, submit and saves against PostgreSQL: threads with their own database
connections race; one attempt is created and it is graded exactly once."""

import threading
import time

import pytest

from exams import attempts as engine
from exams.models import Attempt, AttemptState
from tests.factories import OfficialFactory
from tests.races import THREADS, race, racing

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = racing


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


ROUNDS = 20
SUBMITTERS = 2


def autosave_round(session, delay):
    """One race on a new attempt: SUBMITTERS threads submit (after `delay`), the others
    autosave every question's key, each its own positions in turn. Returns the
    attempt, the keys by position, the submits' results and the saves' outcomes as
    (position, begun after a submit had committed, Saved or "refused")."""
    official = OfficialFactory()
    attempt = engine.start_attempt(session, official)
    keys = dict(attempt.answers.values_list("position", "snapshot__answer"))
    # The page sends the keys in the letters it displays; they are stored as `keys`.
    sent = {a.position: a.display_letters(a.snapshot["answer"]) for a in attempt.answers.all()}
    engine.frozen_paper(attempt.pk)  # warm, as on exam day after the first save
    committed = threading.Event()
    turns = iter(range(THREADS))  # next() on a range iterator is atomic under the GIL
    savers = THREADS - SUBMITTERS
    outcomes = []

    def save_or_submit():
        n = next(turns)
        if n < SUBMITTERS:
            time.sleep(delay)
            graded = engine.submit_attempt(Attempt.objects.get(pk=attempt.pk))[1]
            committed.set()  # the winner has committed once either call returns
            return graded
        for position in range(n - SUBMITTERS + 1, len(keys) + 1, savers):
            after_commit = committed.is_set()
            try:
                saved = engine.autosave(
                    attempt.pk, official.user_id, session.pk, position, sent[position]
                )
            except engine.AttemptClosed:
                saved = "refused"
            outcomes.append((position, after_commit, saved))
        return None

    results, errors = race(save_or_submit)
    assert errors == []
    return attempt, keys, [r for r in results if r is not None], outcomes


def test_autosaves_racing_a_submit_are_graded_or_refused(race_exam):
    """The exam-day save (attempts.autosave, what exams:save runs) against a submit,
    round after round with the submit released a little later each time: every save
    that returned is graded, every save begun after the submit committed is refused,
    nothing refused is stored, and the attempt is graded once."""
    kinds = set()
    for round_ in range(ROUNDS):
        attempt, keys, submits, outcomes = autosave_round(race_exam, round_ * 0.0003)
        assert sorted(submits) == [False] * (SUBMITTERS - 1) + [True]
        assert sorted(p for p, _after, _s in outcomes) == sorted(keys)
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.SUBMITTED and attempt.verification_code
        answers = {a.position: a for a in attempt.answers.all()}
        saved = {p: s for p, _after, s in outcomes if s != "refused"}
        for position, result in saved.items():
            assert isinstance(result, engine.Saved)
            answer = answers[position]
            assert result.response == answer.response == keys[position]
            assert answer.is_correct is True and answer.points_awarded == 10
        assert {p for p, a in answers.items() if a.response} == set(saved)
        assert [s for _p, after, s in outcomes if after and s != "refused"] == []
        assert attempt.score == 10 * len(saved)
        kinds |= {"refused" if s == "refused" else "saved" for _p, _a, s in outcomes}
    assert kinds == {"saved", "refused"}, "no round raced: tune the submit's delay"
