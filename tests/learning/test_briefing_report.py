"""The 明白纸 report for HR and organizers: the share confirmed per department, hand
counted, within the viewer's report scope; who has not confirmed; reminders (once per
double click); the xlsx; the year's totals equal to the year-end figures; and who
may open it."""

import datetime
import io
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail import hooks

import openpyxl
import pytest

from learning import roles
from learning.briefings import receipts
from learning.models import Delivery, NoticeKind, ReportScope
from learning.models.study import Audience
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory

from .briefing_factories import make_sheet

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.XUEFA_NOTICE_CHANNELS = ["email"]


@pytest.fixture
def org():
    """司法局 (2 officials, 1 confirmed) > 法治宣传科 (1, confirmed); 财政局 (2, none);
    an inactive official in 财政局 is nobody's audience."""
    justice = DepartmentFactory(name="司法局")
    publicity = DepartmentFactory(name="法治宣传科", parent=justice)
    finance = DepartmentFactory(name="财政局")
    people = {
        "j1": OfficialFactory(department=justice, staff_number="J1"),
        "j2": OfficialFactory(department=justice, staff_number="J2", is_leader=True),
        "p1": OfficialFactory(department=publicity, staff_number="P1"),
        "f1": OfficialFactory(department=finance, staff_number="F1"),
        "f2": OfficialFactory(department=finance, staff_number="F2"),
    }
    gone = OfficialFactory(department=finance, staff_number="F9")
    gone.user.is_active = False
    gone.user.save()
    sheet = make_sheet("保密明白纸")
    for key in ("j1", "p1"):
        receipts.confirm(sheet, people[key].user, {})
    return {
        "justice": justice,
        "publicity": publicity,
        "finance": finance,
        "sheet": sheet,
        **people,
    }


def back_office(role, scope=None):
    user = UserFactory(roles=[role])
    if scope is not None:
        ReportScope.objects.create(user=user, department=scope)
    return user


def rows(html):
    table = html.split('id="department-figures"')[1].split("</table>")[0]
    cells = re.findall(r"<t[dh]>(.*?)</t[dh]>", table)
    return [tuple(cells[i : i + 4]) for i in range(4, len(cells), 4)]


def test_share_per_department_for_the_whole_organisation(client, org):
    client.force_login(back_office(roles.HR))
    response = client.get(reverse("briefings_report:sheet", args=[org["sheet"].pk]))
    assert response.status_code == 200
    assert rows(response.content.decode()) == [
        ("司法局", "2", "1", "50.0"),
        ("法治宣传科", "1", "1", "100.0"),
        ("财政局", "2", "0", "0.0"),
        ("Total", "5", "2", "40.0"),
    ]
    unconfirmed = response.context["report"].unconfirmed
    assert [o.staff_number for o in unconfirmed] == ["J2", "F1", "F2"]


def test_a_scoped_viewer_sees_only_their_subtree(client, org):
    client.force_login(back_office(roles.ORGANIZER, scope=org["justice"]))
    response = client.get(reverse("briefings_report:sheet", args=[org["sheet"].pk]))
    assert rows(response.content.decode()) == [
        ("司法局", "2", "1", "50.0"),
        ("法治宣传科", "1", "1", "100.0"),
        ("Total", "3", "2", "66.7"),
    ]
    assert [o.staff_number for o in response.context["report"].unconfirmed] == ["J2"]


def test_a_leaders_only_sheet_counts_leaders_only(client, org):
    sheet = make_sheet("领导干部明白纸", audience=Audience.LEADERS)
    client.force_login(back_office(roles.HR))
    html = client.get(reverse("briefings_report:sheet", args=[sheet.pk])).content.decode()
    assert rows(html) == [("司法局", "1", "0", "0.0"), ("Total", "1", "0", "0.0")]


def test_a_reminder_goes_to_the_unconfirmed_in_scope_once_per_double_click(client, org):
    client.force_login(back_office(roles.HR, scope=org["justice"]))
    url = reverse("briefings_report:remind", args=[org["sheet"].pk])
    target = reverse("briefings_report:sheet", args=[org["sheet"].pk])
    response = client.post(url, follow=True)
    assert response.redirect_chain == [(target, 302)]
    assert "Reminder sent to 1 official." in response.content.decode()
    sent = Delivery.objects.filter(kind=NoticeKind.BRIEFING)
    assert list(sent.values_list("user_id", flat=True)) == [org["j2"].user_id]
    assert sent.get().subject.startswith("Reminder")
    response = client.post(url, follow=True)
    assert "A reminder for this sheet was sent a moment ago." in response.content.decode()
    assert sent.count() == 1


def test_the_xlsx_has_the_departments_and_who_has_not_confirmed(client, org):
    client.force_login(back_office(roles.HR))
    response = client.get(reverse("briefings_report:xlsx", args=[org["sheet"].pk]))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    departments, missing = workbook.worksheets
    assert list(departments.iter_rows(min_row=2, values_only=True)) == [
        ("司法局", 2, 1, 50.0),
        ("法治宣传科", 1, 1, 100.0),
        ("财政局", 2, 0, 0.0),
        ("Total", 5, 2, 40.0),
    ]
    assert [r[1] for r in missing.iter_rows(min_row=2, values_only=True)] == ["J2", "F1", "F2"]


def _figures_on_page(client, year):
    html = client.get(reverse("briefings_report:index"), {"year": year}).content.decode()
    found = dict(re.findall(r'data-figure="([\w.]+)">([^<]*)<', html))
    return {key: (None if value == "—" else float(value)) for key, value in found.items()}


def year_end_figures(user, year):
    found = {}
    for hook in hooks.get_hooks("register_year_end_figures"):
        found.update({item["key"]: item for item in hook(user, year)})
    return {key: item for key, item in found.items() if key.startswith("briefings.")}


def test_year_end_figures_equal_the_report_view(client, org):
    today = timezone.localdate()
    year = today.year
    make_sheet("去年的明白纸", valid_from=datetime.date(year - 1, 3, 1), valid_to=None)
    leaders = make_sheet("领导干部明白纸", audience=Audience.LEADERS)
    receipts.confirm(leaders, org["j2"].user, {})
    for user in (back_office(roles.HR), back_office(roles.HR, scope=org["finance"])):
        client.force_login(user)
        figures = year_end_figures(user, year)
        assert set(figures) == {
            "briefings.sheets",
            "briefings.audience",
            "briefings.confirmed",
            "briefings.share",
        }
        page = _figures_on_page(client, year)
        assert {key: item["value"] for key, item in figures.items()} == page
        url = figures["briefings.share"]["url"]
        assert url == reverse("briefings_report:index") + f"?year={year}"
    # Whole organisation: 2 sheets; 5 + 1 pairs expected; 2 + 1 confirmed.
    whole = year_end_figures(back_office(roles.HR), year)
    assert [whole[k]["value"] for k in sorted(whole)] == [6, 3, 50.0, 2]
    # 财政局 only: 2 + 0 pairs, none confirmed.
    scoped = year_end_figures(back_office(roles.HR, scope=org["finance"]), year)
    assert [scoped[k]["value"] for k in sorted(scoped)] == [2, 0, 0.0, 2]
    assert year_end_figures(back_office(roles.HR), year - 1)["briefings.share"]["value"] == 0.0
    assert year_end_figures(back_office(roles.HR), year - 2)["briefings.share"]["value"] is None


@pytest.mark.parametrize("name", ["index", "sheet", "xlsx"])
def test_officials_are_refused_and_visitors_sign_in(client, org, name):
    url = reverse(f"briefings_report:{name}", args=[] if name == "index" else [org["sheet"].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('wagtailadmin_login')}?next={url}"
    client.force_login(org["f1"].user)
    assert client.get(url).status_code == 403


def test_an_official_cannot_send_reminders(client, org):
    client.force_login(org["f1"].user)
    response = client.post(reverse("briefings_report:remind", args=[org["sheet"].pk]))
    assert response.status_code == 403
    assert not Delivery.objects.exists()


def test_a_get_of_the_reminder_is_not_allowed(client, org):
    client.force_login(back_office(roles.ORGANIZER))
    url = reverse("briefings_report:remind", args=[org["sheet"].pk])
    assert client.get(url).status_code == 405


def test_the_report_is_in_the_reports_menu_for_hr_and_organizers(client, org):
    client.force_login(back_office(roles.ORGANIZER))
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("briefings_report:index") in html


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_report_pages_cost_the_same_queries_as_the_organisation_grows(client, org):
    """Departments, officials, receipts and sheets added: the year page, a sheet's page
    and its xlsx ask the database as often as before."""
    client.force_login(back_office(roles.HR))
    sheet = org["sheet"]
    urls = [
        reverse("briefings_report:index") + f"?year={timezone.localdate().year}",
        reverse("briefings_report:sheet", args=[sheet.pk]),
        reverse("briefings_report:xlsx", args=[sheet.pk]),
    ]
    for url in urls:
        client.get(url)  # warm: the first request of a client reads its session anew
    before = [_queries(client, url) for url in urls]
    for n in range(6):
        department = DepartmentFactory(name=f"新部门{n}", parent=org["justice"])
        for official in OfficialFactory.create_batch(4, department=department)[:2]:
            receipts.confirm(sheet, official.user, {})
    make_sheet("第二份明白纸")
    assert [_queries(client, url) for url in urls] == before
