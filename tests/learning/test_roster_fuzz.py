"""Malformed roster files, generated: whatever arrives, the importer either imports
the whole file or refuses it with problems stated by row and column, and never
half-imports or crashes."""

import datetime
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learning import roster
from learning.models import Official, User
from tests.factories import DepartmentFactory
from tests.xlsx_fuzz import build_workbook, build_zip

pytestmark = pytest.mark.django_db

HEADERS = ["姓名", "工号", "部门", "职务", "职级", "是否领导", "手机号码", "电子邮箱"]

cell_values = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.sampled_from(["秘书科", "区财政局", "是", "否", "BH1", "13800001001", "a@b.cn", " "]),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=datetime.datetime(1900, 1, 2), max_value=datetime.datetime(2100, 1, 1)),
)
headers = st.lists(
    st.one_of(st.sampled_from(HEADERS), st.text(max_size=12), st.none()), max_size=10
)
rows = st.lists(st.lists(cell_values, max_size=10), max_size=12)


malformed_files = st.one_of(
    st.binary(max_size=2048),
    st.dictionaries(
        st.sampled_from(["[Content_Types].xml", "xl/workbook.xml", "x.txt"]),
        st.binary(max_size=256),
        max_size=3,
    ).map(lambda members: build_zip(members.items())),
    st.builds(build_workbook, headers, rows),
    st.builds(build_workbook, st.just(HEADERS), rows),
    st.builds(lambda body, cut: build_workbook(HEADERS, body)[:cut], rows, st.integers(0, 3000)),
)


@pytest.fixture
def departments():
    root = DepartmentFactory(name="滨海新区人民政府")
    DepartmentFactory(name="秘书科", parent=root)
    DepartmentFactory(name="区财政局", parent=root)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=malformed_files)
def test_any_file_is_imported_whole_or_refused_clearly(departments, data):
    before = (Official.objects.count(), User.objects.count())
    try:
        result = roster.import_roster(io.BytesIO(data))
    except roster.RosterError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.message
            assert problem.row is None or problem.row >= 1
        assert (Official.objects.count(), User.objects.count()) == before
    else:
        assert Official.objects.count() == before[0] + result["created"]
