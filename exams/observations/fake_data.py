"""Court observations in the sized fake data (exams/fake_data.py, `create_fake_data
--officials N`), through its `register_fake_data` hook: one hearing a fortnight, 40
seats, most present, some late or absent, inserted in bulk."""

import datetime

from .models import Attendance, CourtObservation, Status

SEATS = 40
HEARINGS = 24


def _hearing(number, starts):
    observation = CourtObservation(
        title=f"庭审观摩第{number + 1}期（虚拟）",
        court="虚拟区人民法院",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        registration_deadline=starts - datetime.timedelta(days=2),
        capacity=SEATS,
        open_registration=True,
        closed_at=starts + datetime.timedelta(hours=3),
    )
    observation.save()
    return observation


def _attendance(observation, official, rng):
    status = rng.choices([Status.PRESENT, Status.LATE, Status.ABSENT], weights=[85, 8, 7])[0]
    starts = observation.starts_at
    return Attendance(
        observation=observation,
        official_id=official.pk,
        status=status,
        registered_at=starts - datetime.timedelta(days=5),
        checked_in_at=starts if status != Status.ABSENT else None,
    )


def create_observations(people, *, start, end, rng, batch_size):
    """Hearings from `start` until `end`, each with its 40 officials of `people`;
    returns how many attendance rows were made."""
    rows = []
    sample = rng.sample(people, min(len(people), SEATS * HEARINGS))
    for number in range(HEARINGS):
        starts = start + datetime.timedelta(days=15 * number, hours=1)
        if starts > end:
            break
        observation = _hearing(number, starts)
        seated = sample[number * SEATS : (number + 1) * SEATS]
        rows.extend(_attendance(observation, official, rng) for official in seated)
    Attendance.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)
