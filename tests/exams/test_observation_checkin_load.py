"""300 officials scanning the check-in code within one minute (the peak at a court
entrance that Moodle's attendance plugin struggled with): run against PostgreSQL
with real concurrent connections; no deadlock, no one marked twice."""

import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, connections

import pytest

from exams.observations import services
from exams.observations.models import AttendanceChange, ChangeSource, Status
from learning.models import Official, User
from tests.factories import DepartmentFactory

from .observation_factories import CourtObservationFactory, invite_departments

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OFFICIALS = 300
WORKERS = 24


def test_300_concurrent_check_ins_neither_deadlock_nor_double_mark():
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL: SQLite serialises every writer, so concurrent check-ins "
            "test nothing there. Run with DATABASE_URL=postgres://…"
        )
    department = DepartmentFactory()
    users = User.objects.bulk_create(
        [User(username=f"load{i}", name=f"旁听{i}") for i in range(OFFICIALS)]
    )
    officials = Official.objects.bulk_create(
        [
            Official(user=user, staff_number=f"L{i:04d}", department=department)
            for i, user in enumerate(users)
        ]
    )
    observation = CourtObservationFactory()
    invite_departments(observation, department)
    assert observation.attendance.count() == OFFICIALS
    at = observation.starts_at
    token = services.checkin_token(observation, at)

    def scan(official):
        try:
            return services.check_in(official, token, now=at).status
        finally:
            connections.close_all()

    # Every official scans once, and a third of them scan a second time at once.
    scans = officials + officials[::3]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(scan, scans))
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"{len(scans)} check-ins took {elapsed:.1f}s"
    assert set(results) == {Status.PRESENT}
    statuses = list(observation.attendance.values_list("status", flat=True))
    assert statuses.count(Status.PRESENT) == OFFICIALS
    changes = AttendanceChange.objects.filter(
        attendance__observation=observation, source=ChangeSource.CHECK_IN
    )
    assert changes.count() == OFFICIALS
    assert changes.values("attendance").distinct().count() == OFFICIALS
    print(f"{len(scans)} concurrent check-ins in {elapsed:.2f}s")  # noqa: T201
