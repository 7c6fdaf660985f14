"""`__any_of`: a long list of ids as one array parameter, plain or as an IdArray."""

import sqlite3

from django.db import connection

import pytest

from learning.lookups import IdArray
from learning.models import Official, StudyRecord, User

from .factories import OfficialFactory, complete, make_lecture

pytestmark = pytest.mark.django_db


def test_any_of_matches_in_with_lists_and_id_arrays():
    officials = [OfficialFactory() for _ in range(4)]
    lecture = make_lecture("宪法")
    for official in officials[:3]:
        complete(official, lecture)
    wanted = [officials[0].pk, officials[2].pk, officials[3].pk, 10**9]
    expected = set(StudyRecord.objects.filter(official_id__in=wanted).values_list("pk", flat=True))
    assert len(expected) == 2
    for ids in (wanted, IdArray(wanted), IdArray(str(pk) for pk in wanted)):
        found = StudyRecord.objects.filter(official_id__any_of=ids).values_list("pk", flat=True)
        assert set(found) == expected
        assert Official.objects.filter(pk__any_of=ids).count() == 3
    assert not Official.objects.filter(pk__any_of=IdArray([])).exists()
    assert not Official.objects.filter(pk__any_of=[]).exists()


def test_any_of_takes_more_ids_than_a_statement_takes_parameters():
    """A report over the whole organisation asks about every official in one query:
    more ids than SQLite takes parameters in a statement (32,766 in common builds)."""
    many = 40_000
    if connection.vendor == "sqlite":
        many = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) + 1
    officials = [OfficialFactory() for _ in range(2)]
    ids = [officials[1].pk, *range(10**8, 10**8 + many)]
    assert Official.objects.filter(pk__any_of=ids).get() == officials[1]
    assert Official.objects.filter(pk__any_of=IdArray(ids)).count() == 1


def test_id_array_is_a_read_only_sequence_of_ints():
    ids = IdArray(["3", 1, 2])
    assert list(ids) == [3, 1, 2] and len(ids) == 3 and ids[0] == 3 and 2 in ids
    assert ids.literal == "{3,1,2}"
    with pytest.raises(ValueError):
        IdArray(["1; DROP TABLE x"])


@pytest.mark.parametrize(
    ("name", "first", "last", "expected"),
    [("张三", "San", "Zhang", "张三"), ("", "San", "Zhang", "San Zhang"), ("", "", "", "zs")],
)
def test_full_name_from_values_equals_the_users(name, first, last, expected):
    user = User(username="zs", name=name, first_name=first, last_name=last)
    assert user.get_full_name() == expected
    assert User.full_name(name, first, last, "zs") == expected
