"""`create_fake_data --officials N`: a consistent organisation and a year of study,
exams and attendance at any size, fast (bulk inserts), and never twice."""

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from exams.models import Attempt, AttemptState, ExamSession
from exams.observations.models import Attendance, CourtObservation
from learning.completion import evaluate
from learning.models import (
    Department,
    LecturePage,
    Official,
    SessionAttendance,
    StudyPlan,
    StudyRecord,
)

pytestmark = pytest.mark.django_db

YEAR = 2025


def run(**options):
    out = StringIO()
    call_command("create_fake_data", stdout=out, **options)
    return out.getvalue()


def inserts(queries, table):
    return sum(1 for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"'))


def test_makes_a_year_of_data_for_n_officials():
    with CaptureQueriesContext(connection) as captured:
        output = run(officials=30, year=YEAR, seed=7)
    # Bulk inserts: one statement per batch of rows, never one per official.
    for table in ("learning_user", "learning_official", "learning_studyrecord", "exams_attempt"):
        assert inserts(captured.captured_queries, table) == 1, table
    assert inserts(captured.captured_queries, "learning_department") == 2  # root, then the rest
    assert "30 officials" in output
    officials = Official.objects.filter(staff_number__startswith="F")
    assert officials.count() == 30
    root = Department.objects.get(depth=1, name="虚拟区人民政府")
    assert root.get_children().count() == 40
    # The tree is valid for treebeard: counts match and a new office fits in.
    assert all(not problem for problem in Department.find_problems())
    bureau = root.get_children().first()
    assert bureau.numchild == bureau.get_children().count() > 0
    bureau.add_child(name="新设科室")
    assert all(o.department.depth == 3 for o in officials.select_related("department"))
    user = officials.first().user
    assert not user.has_usable_password()
    assert user.groups.filter(name="Official").exists()

    assert LecturePage.objects.live().exists()
    assert StudyPlan.objects.for_year(YEAR).count() == 2
    assert StudyRecord.objects.filter(official__in=officials).count() >= 60
    assert SessionAttendance.objects.filter(official__in=officials).exists()
    session = ExamSession.objects.get(year=YEAR)
    attempts = Attempt.objects.filter(session=session)
    assert attempts.count() >= 20
    assert not attempts.filter(state=AttemptState.IN_PROGRESS).exists()
    assert attempts.filter(passed=True).exists()
    assert CourtObservation.objects.exists() and Attendance.objects.exists()

    results = evaluate(officials, YEAR)
    assert len(results) == 30
    assert all(r.has_plan for r in results.values())
    assert any(r.is_complete for r in results.values()) or any(r.done for r in results.values())
    assert any(r.credited_seconds for r in results.values())


def test_refuses_to_run_twice():
    run(officials=3, year=YEAR)
    with pytest.raises(CommandError, match="already exists"):
        run(officials=3, year=YEAR)
    assert Official.objects.filter(staff_number__startswith="F").count() == 3


def test_refuses_nonsense():
    with pytest.raises(CommandError):
        run(officials=0)
