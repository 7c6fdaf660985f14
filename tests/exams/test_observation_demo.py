"""The court observation demo data: mixed statuses and reflections, idempotent."""

from collections import Counter

from django.core.management import call_command

import pytest

from exams.observations.demo import PAST_TITLE, UPCOMING_TITLE, load_observations
from exams.observations.models import AttendanceChange, CourtObservation, Reflection

pytestmark = pytest.mark.django_db


def test_demo_observations(capsys):
    call_command("load_demo_data")
    past = CourtObservation.objects.get(title=PAST_TITLE)
    upcoming = CourtObservation.objects.get(title=UPCOMING_TITLE)
    statuses = Counter(past.attendance.values_list("status", flat=True))
    assert {"present", "late", "excused", "absent"} <= set(statuses)
    assert past.court == "滨海新区人民法院" and past.closed_at is not None
    assert Reflection.objects.filter(attendance__observation=past).exists()
    assert upcoming.attendance.filter(status="registered").count() >= 5
    counts = (CourtObservation.objects.count(), AttendanceChange.objects.count())
    assert load_observations() == 0
    assert (CourtObservation.objects.count(), AttendanceChange.objects.count()) == counts
