"""The answers table is written fifty rows at a time by every start on exam day,
and each row again by every save of its question and by the grading: each index
on it costs every one of those rows, and an update that cannot stay on its page
costs every index."""

from django.db import connection

import pytest

from exams.models import Answer

pytestmark = pytest.mark.django_db


def test_answers_are_found_by_attempt_through_the_unique_index_alone():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Answer._meta.db_table)
    indexes = [c["columns"] for c in constraints.values() if c["index"] or c["unique"]]
    assert ["attempt_id", "position"] in indexes
    assert ["attempt_id"] not in indexes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL storage setting")
def test_answer_pages_keep_room_for_updates_in_place():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = %s", [Answer._meta.db_table]
        )
        (options,) = cursor.fetchone()
    assert "fillfactor=70" in (options or [])
