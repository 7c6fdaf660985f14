"""Statistics on a known data set: distribution, facility, discrimination, choices."""

from decimal import Decimal

import pytest

from exams import attempts as engine
from exams.statistics import session_statistics
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db


def sit(session, responses):
    official = OfficialFactory()
    attempt = engine.start_attempt(session, official)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, responses[answer.question_id])
    engine.submit_attempt(attempt)
    return attempt


def test_statistics_on_a_known_data_set(db):
    single = QuestionFactory(answer="A")
    tf = QuestionFactory(true_false=True, answer="T")
    session = ExamSessionFactory(paper=fixed_paper([single, tf], points=Decimal(50)))
    sit(session, {single.pk: "A", tf.pk: "T"})  # 100
    sit(session, {single.pk: "A", tf.pk: "F"})  # 50
    sit(session, {single.pk: "B", tf.pk: "T"})  # 50
    sit(session, {single.pk: "C", tf.pk: ""})  # 0
    stats = session_statistics(session)
    assert [a.score for a in stats.attempts] == [100, 50, 50, 0]
    assert dict(stats.distribution) == {"0–59": 3, "60–69": 0, "70–79": 0, "80–89": 0, "90–100": 1}
    assert stats.mean == 50
    assert stats.pass_rate == 0.25
    assert stats.bands == {"excellent": 1, "fail": 3}
    by_id = {q.question_id: q for q in stats.questions}
    q1, q2 = by_id[single.pk], by_id[tf.pk]
    assert q1.facility == 0.5 and q2.facility == 0.5
    assert q1.discrimination == 1.0 and q2.discrimination == 1.0
    assert q1.option_counts == {"A": 2, "B": 1, "C": 1, "D": 0}
    assert q2.option_counts == {"T": 2, "F": 1}
    assert q2.blank == 1
    assert q1.responses == 4


def test_best_attempt_counts_for_statistics(db):
    question = QuestionFactory(answer="A")
    session = ExamSessionFactory(paper=fixed_paper([question], points=Decimal(100)))
    official = OfficialFactory()
    for response in ("B", "A", "C"):
        attempt = engine.start_attempt(session, official)
        engine.save_answer(attempt.pk, official, 1, response)
        engine.submit_attempt(attempt)
    stats = session_statistics(session)
    assert [(a.number, a.score) for a in stats.attempts] == [(2, 100)]
    session.grading = "last"
    session.save()
    stats = session_statistics(session)
    assert [(a.number, a.score) for a in stats.attempts] == [(3, 0)]


def test_partial_credit_setting(db, settings):
    question = QuestionFactory(multiple=True, answer="ABC")
    session = ExamSessionFactory(paper=fixed_paper([question], points=Decimal(3)))
    official = OfficialFactory()
    attempt = engine.start_attempt(session, official)
    engine.save_answer(attempt.pk, official, 1, "AB")
    attempt, _ = engine.submit_attempt(attempt)
    assert attempt.score == 0
    settings.XUEFA_EXAM_PARTIAL_CREDIT = True
    official = OfficialFactory()
    attempt = engine.start_attempt(session, official)
    engine.save_answer(attempt.pk, official, 1, "AB")
    attempt, _ = engine.submit_attempt(attempt)
    assert attempt.score == Decimal("2.00")
    stored = attempt.answers.get()
    assert (stored.is_correct, stored.points_awarded, stored.points) == (
        False,
        Decimal("2.00"),
        Decimal("3.00"),
    )
    official = OfficialFactory()
    attempt = engine.start_attempt(session, official)
    engine.save_answer(attempt.pk, official, 1, "ABD")
    attempt, _ = engine.submit_attempt(attempt)
    assert attempt.score == 0


@pytest.mark.parametrize(
    ("percent", "band"),
    [(95, "excellent"), (90, "excellent"), (85, "good"), (60, "pass"), (59, "fail")],
)
def test_bands(percent, band):
    from exams.grading import band_for

    session = ExamSessionFactory.build()
    assert band_for(Decimal(percent), session) == band
