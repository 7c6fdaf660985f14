"""Races on PostgreSQL for 以案释法: two organizers turning one observation into a case
make one case; a make-up recorded from several requests at once is recorded once."""

import datetime

from django.utils import timezone

import pytest

from exams.models import LectureQuiz, QuizAttempt
from exams.observations import cases, services
from exams.observations.models import Attendance, AttendanceChange, CasePage, Status
from learning.models import StudyRecord
from tests.factories import OfficialFactory, UserFactory
from tests.learning.factories import lecture_index
from tests.races import race, racing

from .factories import QuestionFactory
from .observation_factories import CourtObservationFactory

pytestmark = racing


@pytest.fixture
def missed():
    """An ended hearing, an official marked absent from it, and two bank questions."""
    lecture_index()
    official = OfficialFactory()
    starts = timezone.now() - datetime.timedelta(days=2)
    observation = CourtObservationFactory(
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        registration_deadline=starts - datetime.timedelta(days=1),
        invited=[official],
    )
    organizer = UserFactory(roles=["Official", "Organizer"])
    services.mark(observation.attendance.get(), Status.ABSENT, by=organizer)
    return observation, official, QuestionFactory.create_batch(2)


def test_two_organizers_at_once_make_one_case(missed):
    observation, _official, questions = missed
    draft = cases.CaseDraft(title="案", date=timezone.localdate(), questions=questions)
    results, errors = race(lambda: cases.create_case(observation, draft)[0].pk)
    assert not errors and len(set(results)) == 1
    assert CasePage.objects.count() == 1 and LectureQuiz.objects.count() == 1


def test_a_make_up_recorded_at_once_from_many_requests_is_recorded_once(missed):
    observation, official, questions = missed
    draft = cases.CaseDraft(
        title="案", date=timezone.localdate(), questions=questions, publish=True
    )
    case, _created = cases.create_case(observation, draft)
    done = timezone.now() - datetime.timedelta(minutes=1)
    StudyRecord.objects.create(
        official=official,
        lecture_id=case.pk,
        credited_seconds=case.credit_seconds,
        started_at=done - datetime.timedelta(seconds=case.credit_seconds),
        last_heartbeat_at=done,
        completed_at=done,
    )
    quiz = LectureQuiz.objects.get(lecture_id=case.pk)
    QuizAttempt.objects.create(quiz=quiz, official=official, correct=2, total=2, passed=True)
    Attendance.objects.filter(official=official).update(made_up_at=None)
    changes = AttendanceChange.objects.count()
    results, errors = race(lambda: cases.record_make_up(official, case).made_up_at)
    assert not errors and len(set(results)) == 1
    attendance = Attendance.objects.get(official=official)
    assert attendance.made_up_at == results[0] and attendance.status == Status.ABSENT
    assert AttendanceChange.objects.count() == changes
