"""The attempt engine: start, resume, deadlines, grace, saves, submit, auto-submit."""

import random
from datetime import timedelta
from decimal import Decimal

from django.test import override_settings
from django.utils import timezone

import pytest

from exams import attempts as engine
from exams.models import Answer, Attempt, AttemptState, SessionOverride
from exams.papers import PaperError, draw, rule_errors
from tests.factories import OfficialFactory

from .factories import (
    ExamSessionFactory,
    LawTopicFactory,
    QuestionFactory,
    fixed_paper,
    random_paper,
)

pytestmark = pytest.mark.django_db


def correct_response(answer):
    return answer.snapshot["answer"]


def test_start_freezes_the_paper_and_resumes(exam, official):
    attempt = engine.start_attempt(exam, official)
    assert attempt.state == AttemptState.IN_PROGRESS
    assert attempt.answers.count() == 10
    assert attempt.max_score == Decimal("100")
    again = engine.start_attempt(exam, official)
    assert again.pk == attempt.pk
    assert Attempt.objects.count() == 1


def test_editing_a_question_does_not_change_the_attempt(exam, official):
    attempt = engine.start_attempt(exam, official)
    answer = attempt.answers.get(position=1)
    question = answer.question
    original_stem = question.stem
    question.stem = "改过的题干"
    question.answer = "B" if question.answer == "A" else question.answer
    question.save()
    answer.refresh_from_db()
    assert answer.snapshot["stem"] == original_stem


def test_deadline_is_start_plus_duration_capped_by_window(exam, official):
    now = timezone.now()
    attempt = engine.start_attempt(exam, official, now=now)
    assert attempt.deadline == now + timedelta(minutes=90)
    exam.closes_at = now + timedelta(minutes=30)
    exam.save()
    other = OfficialFactory()
    attempt = engine.start_attempt(exam, other, now=now)
    assert attempt.deadline == exam.closes_at


def test_override_gives_extra_time_attempts_and_window(exam, official):
    now = timezone.now()
    exam.attempts_allowed = 1
    exam.save()
    SessionOverride.objects.create(
        session=exam,
        official=official,
        extra_minutes=15,
        extra_attempts=1,
        closes_at=now + timedelta(days=30),
    )
    first = engine.start_attempt(exam, official, now=now)
    assert first.deadline == now + timedelta(minutes=105)
    engine.submit_attempt(first)
    second = engine.start_attempt(exam, official, now=now)
    assert second.number == 2
    engine.submit_attempt(second)
    with pytest.raises(engine.ExamError):
        engine.start_attempt(exam, official, now=now)
    # Someone without the override has one attempt only.
    other = OfficialFactory()
    engine.submit_attempt(engine.start_attempt(exam, other, now=now))
    with pytest.raises(engine.ExamError):
        engine.start_attempt(exam, other, now=now)


def test_override_window_lets_one_person_sit_after_close(exam, official):
    now = timezone.now()
    exam.closes_at = now - timedelta(minutes=1)
    exam.opens_at = now - timedelta(days=1)
    exam.save()
    with pytest.raises(engine.ExamError, match="已结束|closed"):
        engine.start_attempt(exam, official, now=now)
    SessionOverride.objects.create(
        session=exam, official=official, closes_at=now + timedelta(hours=3)
    )
    attempt = engine.start_attempt(exam, official, now=now)
    assert attempt.deadline == now + timedelta(minutes=90)


def test_refuses_unassigned_unopened_and_closed(exam, official):
    exam.for_everyone = False
    exam.save()
    with pytest.raises(engine.ExamError):
        engine.start_attempt(exam, official)
    upcoming = ExamSessionFactory(
        paper=exam.paper,
        opens_at=timezone.now() + timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
    )
    with pytest.raises(engine.ExamError):
        engine.start_attempt(upcoming, official)


def test_a_session_for_leaders_reaches_leaders_alone(bank):
    session = ExamSessionFactory(paper=fixed_paper(bank), for_everyone=False, for_leaders=True)
    leader, staff = OfficialFactory(is_leader=True), OfficialFactory(is_leader=False)
    assert engine.is_assigned(session, leader)
    assert not engine.is_assigned(session, staff)
    assert engine.start_attempt(session, leader).session == session
    with pytest.raises(engine.ExamError):
        engine.start_attempt(session, staff)


def test_save_answer_and_refusals(exam, official):
    now = timezone.now()
    attempt = engine.start_attempt(exam, official, now=now)
    single = next(a.position for a in attempt.answers.all() if a.type == "single")
    answer = engine.save_answer(attempt.pk, official, single, "a", now=now)
    assert answer.response == "A"
    with pytest.raises(engine.ExamError):
        engine.save_answer(attempt.pk, official, single, "Z", now=now)
    with pytest.raises(engine.ExamError):
        engine.save_answer(attempt.pk, official, single, "AB", now=now)
    with pytest.raises(engine.ExamError):
        engine.save_answer(attempt.pk, official, 999, "A", now=now)
    other = OfficialFactory()
    with pytest.raises(Attempt.DoesNotExist):
        engine.save_answer(attempt.pk, other, 1, "B", now=now)


@override_settings(XUEFA_EXAM_GRACE_SECONDS=30)
def test_save_within_grace_accepted_after_refused(exam, official):
    now = timezone.now()
    attempt = engine.start_attempt(exam, official, now=now)
    tf = next(a.position for a in attempt.answers.all() if a.type == "true_false")
    in_grace = attempt.deadline + timedelta(seconds=20)
    assert engine.save_answer(attempt.pk, official, tf, "F", now=in_grace).response == "F"
    late = attempt.deadline + timedelta(seconds=31)
    with pytest.raises(engine.AttemptClosed) as refused:
        engine.save_answer(attempt.pk, official, tf, "T", now=late)
    assert "时间已到" in str(refused.value)
    assert Answer.objects.get(attempt=attempt, position=tf).response == "F"


def test_submit_grades_exactly_once(exam, official):
    attempt = engine.start_attempt(exam, official)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, correct_response(answer))
    attempt, graded = engine.submit_attempt(attempt)
    assert graded
    assert attempt.state == AttemptState.SUBMITTED
    assert attempt.score == Decimal("100")
    assert attempt.band == "excellent" and attempt.passed
    code = attempt.verification_code
    attempt, graded = engine.submit_attempt(attempt)
    assert not graded
    assert attempt.verification_code == code
    with pytest.raises(engine.AttemptClosed):
        engine.save_answer(attempt.pk, official, 1, "A")


def test_auto_submit_on_access_and_by_task(exam, official):
    now = timezone.now()
    first = engine.start_attempt(exam, official, now=now)
    engine.save_answer(
        first.pk, official, 1, correct_response(first.answers.get(position=1)), now=now
    )
    later = first.deadline + timedelta(minutes=5)
    assert engine.expire_if_due(first, now=later)
    first.refresh_from_db()
    assert first.state == AttemptState.AUTO_SUBMITTED
    assert first.score == Decimal("10")

    other = OfficialFactory()
    second = engine.start_attempt(exam, other, now=now)
    assert engine.submit_expired_attempts(now=now) == 0
    assert engine.submit_expired_attempts(now=second.deadline + timedelta(minutes=5)) == 1
    second.refresh_from_db()
    assert second.state == AttemptState.AUTO_SUBMITTED
    assert second.score == 0


def test_start_after_expiry_auto_submits_then_starts_new(exam, official):
    now = timezone.now()
    first = engine.start_attempt(exam, official, now=now)
    later = first.deadline + timedelta(minutes=5)
    second = engine.start_attempt(exam, official, now=later)
    first.refresh_from_db()
    assert first.state == AttemptState.AUTO_SUBMITTED
    assert second.pk != first.pk and second.number == 2


def test_no_attempts_left(exam, official):
    exam.attempts_allowed = 1
    exam.save()
    engine.submit_attempt(engine.start_attempt(exam, official))
    with pytest.raises(engine.ExamError):
        engine.start_attempt(exam, official)


def test_random_paper_reproducible_per_seed_and_varied(db, official):
    topic = LawTopicFactory()
    QuestionFactory.create_batch(30, topic=topic)
    QuestionFactory.create_batch(10, topic=topic, true_false=True)
    paper = random_paper([(topic, "single", 10, 2), (None, "true_false", 5, 2)])
    session = ExamSessionFactory(paper=paper)
    one = [(q.pk, o) for q, _p, o in engine.build_paper(session, paper, 42)]
    assert one == [(q.pk, o) for q, _p, o in engine.build_paper(session, paper, 42)]
    papers = {tuple(q.pk for q, _p, _o in engine.build_paper(session, paper, s)) for s in range(8)}
    assert len(papers) > 1
    attempt = engine.start_attempt(session, official)
    assert attempt.answers.count() == 15
    rebuilt = engine.build_paper(session, paper, attempt.seed)
    assert [a.question_id for a in attempt.answers.order_by("position")] == [
        q.pk for q, _p, _o in rebuilt
    ]


def test_rules_the_bank_cannot_fill_are_refused(db):
    topic = LawTopicFactory()
    QuestionFactory.create_batch(3, topic=topic)
    QuestionFactory(topic=topic, active=False)
    paper = random_paper([(topic, "single", 4, 2)])
    errors = rule_errors(paper.rules.all())
    assert errors and "3" in errors[0]
    with pytest.raises(PaperError):
        draw(paper, random.Random(1))
    ok = random_paper([(topic, "single", 3, 2)])
    assert rule_errors(ok.rules.all()) == []


def test_leaders_sit_their_own_paper(exam, bank):
    leader = OfficialFactory(is_leader=True)
    leader_paper = fixed_paper(bank[:2], points=Decimal("50"))
    exam.leader_paper = leader_paper
    exam.save()
    assert engine.start_attempt(exam, leader).answers.count() == 2
    assert engine.start_attempt(exam, OfficialFactory()).answers.count() == 10


def test_review_policy(exam, official):
    attempt = engine.start_attempt(exam, official)
    assert not engine.can_review(attempt)
    attempt, _ = engine.submit_attempt(attempt)
    attempt.session = exam
    exam.review_policy = "after_close"
    assert not engine.can_review(attempt)
    assert engine.can_review(attempt, now=exam.closes_at + timedelta(seconds=1))
    exam.review_policy = "after_submit"
    assert not engine.can_review(attempt)  # two attempts left: the key would help them
    exam.attempts_allowed = 1
    assert engine.can_review(attempt)
    exam.review_policy = "never"
    assert not engine.can_review(attempt, now=exam.closes_at + timedelta(days=1))


def test_periodic_task_and_command_submit_expired(exam, official):
    from django.core.management import call_command

    from exams.tasks import submit_expired_attempts_task

    long_ago = timezone.now() - timedelta(days=1)
    exam.opens_at = long_ago - timedelta(hours=1)
    exam.save()
    first = engine.start_attempt(exam, official, now=long_ago)
    result = submit_expired_attempts_task.enqueue()
    assert result.return_value == 1
    first.refresh_from_db()
    assert first.state == AttemptState.AUTO_SUBMITTED
    second = engine.start_attempt(exam, official, now=long_ago)
    call_command("submit_expired_attempts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    second.refresh_from_db()
    assert second.state == AttemptState.AUTO_SUBMITTED


def test_the_command_as_a_service_submits_attempts_as_they_expire(exam, official, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    from exams.management.commands import submit_expired_attempts as command

    long_ago = timezone.now() - timedelta(days=1)
    exam.opens_at = long_ago - timedelta(hours=1)
    exam.save()
    expired = engine.start_attempt(exam, official, now=long_ago)
    pauses = []

    class Stop(Exception):
        pass

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 2:
            raise Stop
        # Between two runs, an attempt started long ago expires in its turn.
        later = engine.start_attempt(exam, official, now=long_ago)
        assert later.state == AttemptState.IN_PROGRESS

    monkeypatch.setattr(command.time, "sleep", sleep)
    out = StringIO()
    with pytest.raises(Stop):
        call_command("submit_expired_attempts", "--loop", "--interval", "30", stdout=out)
    assert pauses == [30, 30]
    states = set(exam.attempts.filter(official=official).values_list("state", flat=True))
    assert states == {AttemptState.AUTO_SUBMITTED}
    assert exam.attempts.filter(official=official).count() == 2
    assert out.getvalue().count("Submitted 1 expired attempt(s).") == 2
    expired.refresh_from_db()
    assert expired.score is not None
