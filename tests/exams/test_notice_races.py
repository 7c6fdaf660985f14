"""Exam-opening notices raced on PostgreSQL: runs of send_exam_opening_notices at once
(two cron runs overlapping, two workers) tell each official once."""

import threading

from django.core import mail
from django.db import connection

import pytest

from exams.notices import send_exam_opening_notices
from learning.models import Delivery
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Needs PostgreSQL: SQLite serialises every writer, so there is no race to test "
        "(run with DATABASE_URL=postgres://…).",
    ),
]

THREADS = 6


def test_overlapping_runs_notify_each_official_once(settings):
    settings.XUEFA_NOTICE_CHANNELS = ["email"]
    officials = OfficialFactory.create_batch(4)
    session = ExamSessionFactory(title="年度考试")
    barrier = threading.Barrier(THREADS)
    results, errors = [], []

    def run():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            results.append(send_exam_opening_notices())
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(r.get(session.title, 0) for r in results) == [0] * (THREADS - 1) + [4]
    rows = Delivery.objects.filter(kind="exam_opening")
    assert sorted(rows.values_list("user_id", flat=True)) == sorted(o.user_id for o in officials)
    assert len(mail.outbox) == 4
