"""The answers table is written fifty rows at a time by every start on exam day:
each index on it costs every one of those rows."""

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
