"""The completion report's 明白纸 column: per department, the share of the year's
sheets its officials confirmed (person × sheet pairs), on the page and in the xlsx,
without queries growing with the officials."""

import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import openpyxl
import pytest

from exams.reports.completion import build_report, report_xlsx
from learning import roles
from learning.briefings import receipts
from learning.models.study import Audience
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory
from tests.learning.briefing_factories import make_sheet

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    """甲局: 2 officials (one a leader); 乙局: 1. Two sheets: for all, for leaders.
    Pairs: 甲局 3 (2 + 1), confirmed 2; 乙局 1, confirmed 0."""
    a = DepartmentFactory(name="甲局")
    b = DepartmentFactory(name="乙局")
    a1 = OfficialFactory(department=a, is_leader=True)
    a2 = OfficialFactory(department=a)
    OfficialFactory(department=b)
    everyone = make_sheet("保密明白纸")
    leaders = make_sheet("领导明白纸", audience=Audience.LEADERS)
    receipts.confirm(everyone, a1.user, {})
    receipts.confirm(leaders, a1.user, {})
    return {"a": a, "b": b, "a2": a2}


@pytest.fixture
def hr():
    return UserFactory(roles=[roles.HR])


def test_department_share_of_briefings_confirmed(org, hr):
    report = build_report(timezone.localdate().year, user=hr)
    shares = {row.department.name: row.briefings_percent for row in report.rows}
    assert report.has_briefings
    assert shares == {"甲局": 66.7, "乙局": 0.0}
    assert report.totals.briefings_percent == 50.0


def test_the_column_is_on_the_page_and_in_the_xlsx(client, org, hr):
    client.force_login(hr)
    year = timezone.localdate().year
    html = client.get(reverse("completion_report:index"), {"year": year}).content.decode()
    assert "data-briefings>66.7%<" in html and "data-briefings>50.0%<" in html
    workbook = openpyxl.load_workbook(io.BytesIO(report_xlsx(build_report(year, user=hr))))
    departments = workbook.worksheets[0]
    values = [r[16] for r in departments.iter_rows(min_row=2, values_only=True)]
    assert values == [0.0, pytest.approx(2 / 3, abs=1e-4), 0.5]  # 乙局 sorts first
    assert departments.cell(row=2, column=17).number_format == "0.0%"


def test_without_sheets_the_column_is_left_out(client, hr):
    OfficialFactory()
    client.force_login(hr)
    html = client.get(reverse("completion_report:index")).content.decode()
    assert "data-briefings" not in html


def test_the_column_costs_the_same_queries_for_more_officials(org, hr):
    year = timezone.localdate().year

    def count():
        with CaptureQueriesContext(connection) as queries:
            build_report(year, user=hr)
        return len(queries)

    count()  # the first asks for the viewer's report scope, kept on the user
    small = count()
    for _ in range(20):
        OfficialFactory(department=org["b"])
    assert count() == small
