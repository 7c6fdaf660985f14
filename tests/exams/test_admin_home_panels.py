"""The admin home's panels per role (exams/reports/admin_home.py): organizers see the
exams opening this week, lectures awaiting moderation and today's court observations;
HR sees who is behind per department of their report scope and their own exports.
Each row links to where the work is done, each panel has an empty state, and the
page's query count does not grow with what the panels list."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail.models import GroupApprovalTask, Workflow, WorkflowTask

import lxml.html
import pytest

from exams.models import ExportJob, ExportStatus
from exams.observations.models import Attendance, Status
from exams.reports.admin_home import ROWS
from learning.models import StudyExemption
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory
from tests.learning.factories import lecture_index, make_lecture, make_plan

from .factories import ExamSessionFactory
from .observation_factories import CourtObservationFactory
from .report_fixtures import scoped

ORGANIZER_PANELS = ("exams-this-week", "lectures-in-moderation", "check-ins-today")
HR_PANELS = ("behind-per-department", "recent-exports")


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def this_monday():
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday())


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    return lxml.html.fromstring(response.content)


def panels(document):
    return {
        section.get("id").removesuffix("-section")
        for section in document.xpath("//section[@data-panel]")
        if section.get("id", "").removesuffix("-section") in ORGANIZER_PANELS + HR_PANELS
    }


def panel(document, name):
    [section] = document.xpath(f"//section[@id='{name}-section']")
    return section


def rows(section):
    return section.xpath(".//tbody/tr")


def links(element):
    return [a.get("href") for a in element.iter("a")]


# Who sees what.


def test_organizers_see_their_panels_and_not_hrs(client, organizer):
    assert panels(home(client, organizer)) == set(ORGANIZER_PANELS)


def test_hr_sees_who_is_behind_and_their_exports_and_not_the_organizers_panels(client, hr_user):
    assert panels(home(client, hr_user)) == set(HR_PANELS)


def test_a_superuser_holds_every_role_and_sees_every_panel(client, superuser):
    assert panels(home(client, superuser)) == set(ORGANIZER_PANELS + HR_PANELS)


def test_an_official_is_refused_the_admin(official_client):
    assert official_client.get(reverse("wagtailadmin_home")).status_code == 403


def test_a_clerk_with_admin_access_only_sees_none_of_the_panels(client, db):
    clerk = UserFactory()
    clerk.user_permissions.add(Permission.objects.get(codename="access_admin"))
    assert panels(home(client, clerk)) == set()


def test_a_role_without_the_permission_of_a_panel_does_not_see_it(client, organizer):
    """The role names the work; the permission to do it is checked too."""
    group = Group.objects.get(name="Organizer")
    group.permissions.remove(Permission.objects.get(codename="change_examsession"))
    assert panels(home(client, organizer)) == {"lectures-in-moderation", "check-ins-today"}


def test_the_permission_without_the_role_shows_no_panel(client, db):
    """A clerk given a permission by hand has not taken on the role's work."""
    clerk = UserFactory()
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "change_examsession"])
    )
    assert panels(home(client, clerk)) == set()


# Organizers: exams opening this week.


def session_opening(when, **kwargs):
    return ExamSessionFactory(opens_at=when, closes_at=when + datetime.timedelta(hours=2), **kwargs)


def test_the_exams_panel_lists_the_sessions_opening_from_monday_to_sunday(client, organizer):
    monday = this_monday()
    first = session_opening(local(monday), title="周一开考")
    last = session_opening(local(monday, 23, 59) + datetime.timedelta(days=6), title="周日开考")
    session_opening(local(monday) - datetime.timedelta(minutes=1), title="上周")
    session_opening(local(monday) + datetime.timedelta(days=7), title="下周")
    section = panel(home(client, organizer), "exams-this-week")
    titles = [row.xpath("./td[1]/a")[0].text for row in rows(section)]
    assert titles == ["周一开考", "周日开考"]
    edit = reverse("wagtailsnippets_exams_examsession:edit", args=[first.pk])
    statistics = reverse("exams_admin:statistics", args=[last.pk])
    assert edit in links(section) and statistics in links(section)


def test_the_exams_panel_says_when_nothing_opens_and_offers_to_add_a_session(client, organizer):
    session_opening(local(this_monday()) + datetime.timedelta(days=8))
    section = panel(home(client, organizer), "exams-this-week")
    assert not rows(section) and section.xpath(".//p[@data-empty]")
    assert reverse("wagtailsnippets_exams_examsession:add") in links(section)


def test_the_exams_panel_lists_a_page_and_counts_the_rest(client, organizer):
    for hour in range(ROWS + 2):
        session_opening(local(this_monday(), hour))
    section = panel(home(client, organizer), "exams-this-week")
    assert len(rows(section)) == ROWS
    assert section.xpath(".//p[@data-more]")[0].get("data-more") == "2"
    assert reverse("wagtailsnippets_exams_examsession:list") in links(section)


# Organizers: lectures awaiting moderation.


@pytest.fixture
def workflow(db):
    task = GroupApprovalTask.objects.create(name="法制科审核")
    task.groups.set([Group.objects.get_or_create(name="Moderators")[0]])
    workflow = Workflow.objects.create(name="讲座审核")
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    return workflow


def lecture_in_moderation(workflow, title, submitter):
    lecture = make_lecture(title, parent=lecture_index(), live=False)
    workflow.start(lecture, submitter)
    return lecture


def test_the_lectures_panel_lists_lectures_awaiting_moderation(client, organizer, workflow):
    editor = UserFactory(name="王编辑")
    waiting = lecture_in_moderation(workflow, "宪法宣誓制度讲座", editor)
    cancelled = lecture_in_moderation(workflow, "撤回的讲座", editor)
    cancelled.current_workflow_state.cancel(user=editor)
    make_lecture("未提交的讲座", live=False)
    section = panel(home(client, organizer), "lectures-in-moderation")
    [row] = rows(section)
    assert row.xpath("./td[1]/a")[0].text == "宪法宣誓制度讲座"
    assert row.xpath("./td[1]/a")[0].get("href") == reverse(
        "wagtailadmin_pages:edit", args=[waiting.pk]
    )
    assert [cell.text_content().strip() for cell in row.xpath("./td")[1:3]] == [
        "法制科审核",
        "王编辑",
    ]


def test_the_lectures_panel_says_when_no_lecture_awaits_moderation(client, organizer):
    make_lecture("已发布的讲座")
    section = panel(home(client, organizer), "lectures-in-moderation")
    assert not rows(section) and section.xpath(".//p[@data-empty]")


# Organizers: today's court observations and check-ins.


def observation_at(start, **kwargs):
    return CourtObservationFactory(
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        registration_deadline=start - datetime.timedelta(days=1),
        **kwargs,
    )


def attend(observation, status):
    checked_in = observation.starts_at if status in (Status.PRESENT, Status.LATE) else None
    return Attendance.objects.create(
        observation=observation, official=OfficialFactory(), status=status, checked_in_at=checked_in
    )


def test_the_check_ins_panel_counts_todays_check_ins_and_links_to_the_screens(client, organizer):
    today = timezone.localdate()
    hearing = observation_at(local(today, 9), title="行政诉讼庭审")
    for status in (Status.REGISTERED, Status.REGISTERED, Status.PRESENT, Status.LATE):
        attend(hearing, status)
    attend(hearing, Status.WITHDRAWN)
    observation_at(local(today + datetime.timedelta(days=1), 9), title="明天的庭审")
    observation_at(local(today - datetime.timedelta(days=1), 9), title="昨天的庭审")
    section = panel(home(client, organizer), "check-ins-today")
    [row] = rows(section)
    assert row.xpath("./td[1]/a")[0].text == "行政诉讼庭审"
    assert row.xpath("./td[3]")[0].text_content().split()[:3] == ["2", "/", "4"]
    sheet = reverse("observation_tools:sheet", args=[hearing.pk])
    screen = reverse("observation_tools:checkin_screen", args=[hearing.pk])
    assert {sheet, screen} <= set(links(row))


def test_a_closed_observation_has_no_check_in_screen_link(client, organizer):
    hearing = observation_at(local(timezone.localdate(), 9), closed_at=timezone.now())
    [row] = rows(panel(home(client, organizer), "check-ins-today"))
    assert reverse("observation_tools:checkin_screen", args=[hearing.pk]) not in links(row)


def test_the_check_ins_panel_says_when_no_observation_takes_place_today(client, organizer):
    observation_at(local(timezone.localdate() + datetime.timedelta(days=2), 9))
    section = panel(home(client, organizer), "check-ins-today")
    assert not rows(section) and section.xpath(".//p[@data-empty]")


# HR: who is behind, per department of the report scope.


@pytest.fixture
def hr(db):
    """HR without an official record of their own, so the tree below is all there is."""
    return UserFactory(roles=["Official", "HR"])


@pytest.fixture
def district(db):
    """区政府 > 司法局 (2 officials) > 法规科 (1); 区政府 > 财政局 (2, one exempted)."""
    root = DepartmentFactory(name="区政府")
    justice = DepartmentFactory(name="司法局", parent=root)
    section = DepartmentFactory(name="法规科", parent=justice)
    finance = DepartmentFactory(name="财政局", parent=root)
    year = timezone.localdate().year
    for department, count in ((justice, 2), (section, 1), (finance, 2)):
        OfficialFactory.create_batch(count, department=department)
    exempted = finance.officials.first()
    StudyExemption.objects.create(official=exempted, year=year, reason="长期病假")
    return root, justice, section, finance


def behind_rows(section):
    return [
        (row.xpath("./td[1]/a")[0].text, *(td.text for td in row.xpath("./td")[1:]))
        for row in rows(section)
    ]


def test_hr_sees_who_is_behind_per_bureau(client, hr, district):
    _root, justice, _section, _finance = district
    year = timezone.localdate().year
    make_plan(year=year, required_credit_hours=Decimal(2))
    section = panel(home(client, hr), "behind-per-department")
    assert behind_rows(section) == [("司法局", "3", "3"), ("财政局", "1", "2")]
    link = f"{reverse('report_lists:behind')}?year={year}&department={justice.pk}"
    assert link in links(section)


def test_hr_with_a_report_scope_sees_the_sections_of_their_bureau_only(client, hr, district):
    _root, justice, _section, _finance = district
    make_plan(year=timezone.localdate().year, required_credit_hours=Decimal(2))
    section = panel(home(client, scoped(hr, justice)), "behind-per-department")
    assert behind_rows(section) == [("司法局", "2", "2"), ("法规科", "1", "1")]


def test_the_behind_panel_says_when_there_is_no_plan_or_nobody_is_behind(client, hr, district):
    section = panel(home(client, hr), "behind-per-department")
    assert not rows(section) and section.xpath(".//p[@data-empty]")
    make_plan(year=timezone.localdate().year, required_credit_hours=Decimal(0))
    section = panel(home(client, hr), "behind-per-department")
    assert not rows(section) and section.xpath(".//p[@data-empty]")


# HR: their own recent exports.


def export(user, status=ExportStatus.DONE, **kwargs):
    return ExportJob.objects.create(
        kind="completion", requested_by=user, status=status, parameters={"year": 2026}, **kwargs
    )


def test_hr_sees_their_own_latest_exports_with_downloads(client, hr_user, hr):
    done = export(hr_user)
    export(hr_user, ExportStatus.RUNNING, done=3, total=10)
    export(hr_user, ExportStatus.FAILED, error="磁盘已满")
    export(hr)
    section = panel(home(client, hr_user), "recent-exports")
    assert len(rows(section)) == 3
    assert reverse("exams_exports:download", args=[done.pk]) in links(section)
    assert "磁盘已满" in section.text_content() and "30%" in section.text_content()
    assert reverse("exams_exports:index") in links(section)
    for _ in range(5):
        export(hr_user)
    assert len(rows(panel(home(client, hr_user), "recent-exports"))) == 5


def test_the_exports_panel_says_when_there_are_none(client, hr_user, hr):
    export(hr)
    section = panel(home(client, hr_user), "recent-exports")
    assert not rows(section) and section.xpath(".//p[@data-empty]")


# The page costs the same number of queries however much the panels list.


def home_queries(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("wagtailadmin_home")).status_code == 200
    return len(queries)


def organizer_work(workflow, count):
    monday, today = this_monday(), timezone.localdate()
    submitter = UserFactory()
    for n in range(count):
        session_opening(local(monday, n % 24) + datetime.timedelta(days=n % 7))
        lecture_in_moderation(workflow, f"讲座{n}", submitter)
        hearing = observation_at(local(today, 8) + datetime.timedelta(minutes=n))
        attend(hearing, Status.PRESENT)
        attend(hearing, Status.REGISTERED)


def test_the_organizers_home_costs_the_same_queries_with_more_to_list(
    client, organizer, workflow, django_assert_max_num_queries
):
    organizer_work(workflow, 1)
    few = home_queries(client, organizer)
    organizer_work(workflow, ROWS + 4)
    with django_assert_max_num_queries(few):
        client.get(reverse("wagtailadmin_home"))


def hr_work(hr, count):
    departments = [DepartmentFactory(name=f"局{n}") for n in range(count)]
    for department in departments:
        OfficialFactory.create_batch(3, department=department)
        export(hr)


def test_the_hr_home_costs_the_same_queries_with_more_to_list(
    client, hr, django_assert_max_num_queries
):
    make_plan(year=timezone.localdate().year, required_credit_hours=Decimal(2))
    hr_work(hr, 2)
    few = home_queries(client, hr)
    hr_work(hr, ROWS + 6)
    with django_assert_max_num_queries(few):
        client.get(reverse("wagtailadmin_home"))
