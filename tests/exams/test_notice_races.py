"""Exam-opening notices raced on PostgreSQL: runs of send_exam_opening_notices at once
(two cron runs overlapping, two workers) tell each official once."""

from django.core import mail

from exams.notices import send_exam_opening_notices
from learning.models import Delivery
from tests.factories import OfficialFactory
from tests.races import race, racing

from .factories import ExamSessionFactory

pytestmark = racing

THREADS = 6


def test_overlapping_runs_notify_each_official_once(settings):
    settings.XUEFA_NOTICE_CHANNELS = ["email"]
    officials = OfficialFactory.create_batch(4)
    session = ExamSessionFactory(title="年度考试")
    results, errors = race(send_exam_opening_notices, THREADS)
    assert errors == []
    assert sorted(r.get(session.title, 0) for r in results) == [0] * (THREADS - 1) + [4]
    rows = Delivery.objects.filter(kind="exam_opening")
    assert sorted(rows.values_list("user_id", flat=True)) == sorted(o.user_id for o in officials)
    assert len(mail.outbox) == 4
