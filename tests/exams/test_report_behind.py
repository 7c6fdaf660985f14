"""Who is behind (催学名单) and reminding them: the list agrees with
learning.completion, honours filters and the user's scope, exports to xlsx, and
reminders are sent once per official, in Chinese, recorded, and never twice a day
unless HR insists."""

import datetime
import io
import smtplib

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone

import pytest
from openpyxl import load_workbook

from exams.models import PlanExam, Reminder, ReminderStatus
from exams.reports import behind
from exams.reports.reminders import RESEND_AFTER
from learning.completion import evaluate
from tests.factories import OfficialFactory
from tests.learning.factories import complete, make_lecture, make_plan, make_session

from . import report_fixtures
from .factories import ExamSessionFactory
from .report_fixtures import (
    finished_attempt,
    official,
    org,
    reports_viewer_without_reminders,
    scoped,
)

pytestmark = pytest.mark.django_db
YEAR = 2026
URL = "/admin/reports/behind/"
REMIND = "/admin/reports/behind/remind/"


@pytest.fixture
def world(db):
    """Plan 2026: 1 credit hour, the lecture 宪法讲座 and the exam 年度考试.
    张三 (东区) did nothing; 李四 (东区科室, leader) got the hour at a collective
    session and passed the exam but skipped the lecture; 王五 (西区) did everything
    but the exam; 赵六 (东区) did everything; 钱七 (西区, no e-mail) did nothing."""
    east, east_office, west = org()
    lecture = make_lecture("宪法讲座", credit_minutes=60)
    exam = ExamSessionFactory(title="年度考试", year=YEAR)
    plan = make_plan(year=YEAR, lectures=[lecture], required_credit_hours=1)
    PlanExam.objects.create(plan=plan, session=exam)
    people = {
        "zhang": official(east, "张三", "E001"),
        "li": official(east_office, "李四", "E002", is_leader=True),
        "wang": official(west, "王五", "W001"),
        "zhao": official(east, "赵六", "E003"),
        "qian": official(west, "钱七", "W002", email=""),
    }
    make_session(attendees=[people["li"]], credit_minutes=60, date=datetime.date(2026, 4, 1))
    finished_attempt(exam, people["li"], 80)
    complete(people["wang"], lecture)
    complete(people["zhao"], lecture)
    finished_attempt(exam, people["zhao"], 90)
    finished_attempt(exam, people["wang"], 40)
    return {"east": east, "east_office": east_office, "west": west, "lecture": lecture,
            "exam": exam, "plan": plan, **people}  # fmt: skip


@pytest.fixture
def hr_user(db):
    return report_fixtures.hr()


@pytest.fixture
def organizer(db):
    return report_fixtures.organizer_user()


def names(user, **filters):
    found = behind.behind(user, YEAR, **filters)
    return [row.official.name for row in found.rows()]


def test_behind_is_what_evaluate_says(world, hr_user):
    assert set(names(hr_user)) == {"张三", "李四", "王五", "钱七"}
    completions = evaluate([world[k] for k in ("zhang", "li", "wang", "zhao", "qian")], YEAR)
    for key in ("zhang", "li", "wang", "qian"):
        assert not completions[world[key].pk].is_complete
    assert completions[world["zhao"].pk].is_complete


def test_ordered_by_department_then_staff_number(world, hr_user):
    # 东区 < 东区科室 (child) < 西区 in the tree; staff numbers within.
    assert names(hr_user) == ["张三", "李四", "王五", "钱七"]


def test_what_each_misses(world, hr_user):
    rows = {row.official.name: row for row in behind.behind(hr_user, YEAR).rows()}
    assert rows["张三"].missing == [
        "学时：已完成 0.0 / 要求 1.0",
        "讲座：宪法讲座",
        "考试：年度考试",
    ]
    assert rows["李四"].missing == ["讲座：宪法讲座"]
    assert rows["王五"].missing == ["考试：年度考试"]
    assert behind.missing_kinds(rows["张三"].completion) == {"credit", "lecture", "exam"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": "credit"}, ["张三", "钱七"]),
        ({"kind": "lecture"}, ["张三", "李四", "钱七"]),
        ({"kind": "exam"}, ["张三", "王五", "钱七"]),
        ({"kind": "observation"}, []),
        ({"leaders": True}, ["李四"]),
        ({"q": "王"}, ["王五"]),
        ({"q": "W00"}, ["王五", "钱七"]),
    ],
)
def test_filters(world, hr_user, filters, expected):
    assert names(hr_user, **filters) == expected


def test_department_filter_takes_the_subtree(world, hr_user):
    assert names(hr_user, department=world["east"]) == ["张三", "李四"]
    assert names(hr_user, department=world["east_office"]) == ["李四"]


def test_exempt_officials_are_never_behind(world, hr_user):
    from learning.models import StudyExemption

    before = names(hr_user)
    assert "张三" in before
    StudyExemption.objects.create(official=world["zhang"], year=YEAR, reason="长期病假")
    assert names(hr_user) == [name for name in before if name != "张三"]


def test_a_year_without_plans_has_nobody_behind(world, hr_user):
    assert behind.behind(hr_user, YEAR + 1).official_ids == []


def test_inactive_officials_are_left_out(world, hr_user):
    world["zhang"].user.is_active = False
    world["zhang"].user.save()
    assert "张三" not in names(hr_user)


def test_scoped_hr_sees_only_their_subtree(world, hr_user, client):
    scoped(hr_user, world["east"])
    assert names(hr_user) == ["张三", "李四"]
    client.force_login(hr_user)
    response = client.get(URL, {"year": YEAR})
    assert response.status_code == 200
    assert "张三" in response.text and "王五" not in response.text
    # Another subtree's department is not even a valid choice.
    response = client.get(URL, {"year": YEAR, "department": world["west"].pk})
    assert "王五" not in response.text
    assert response.context["form"].errors["department"]


def test_list_page(world, hr_user, client):
    client.force_login(hr_user)
    response = client.get(URL, {"year": YEAR})
    assert response.status_code == 200
    text = response.text
    for name in ("张三", "李四", "王五", "钱七"):
        assert name in text
    assert "赵六" not in text
    assert "共 4 名干部未完成" in text
    assert "无法送达" in text  # 钱七 has no e-mail address
    assert 'name="officials"' in text  # HR may remind


def test_bad_year_is_a_clear_error(world, hr_user, client):
    client.force_login(hr_user)
    response = client.get(URL, {"year": "abc"})
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "输入整数" in response.text


def test_organizer_may_view(world, organizer, client):
    client.force_login(organizer)
    assert client.get(URL, {"year": YEAR}).status_code == 200


@pytest.mark.parametrize("url", [URL, "/admin/reports/behind.xlsx"])
def test_officials_and_anonymous_are_refused(world, client, url):
    response = client.get(url, {"year": YEAR})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(world["zhang"].user)
    assert client.get(url, {"year": YEAR}).status_code == 403


def test_xlsx_export(world, hr_user, client):
    client.force_login(hr_user)
    response = client.get(
        "/admin/reports/behind.xlsx", {"year": YEAR, "department": world["east"].pk}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["工号", "姓名", "部门"]
    assert "缺少的内容" in header
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in rows] == ["张三", "李四"]
    zhang = rows[0]
    assert zhang[5] == 0 and zhang[6] == 1  # credit hours as numbers
    assert isinstance(zhang[6], int | float)
    assert zhang[7] == 3  # credit, lecture, exam
    assert sheet.column_dimensions["I"].width > 10


def _bulk_world(size):
    east, _office, _west = org()
    make_plan(year=YEAR, required_credit_hours=1)
    for _ in range(size):
        OfficialFactory(department=east)


@pytest.mark.parametrize("size", [5, 60])
def test_query_count_does_not_grow_with_officials(
    size, hr_user, client, django_assert_max_num_queries
):
    _bulk_world(size)
    client.force_login(hr_user)
    with django_assert_max_num_queries(30):
        response = client.get(URL, {"year": YEAR})
    assert response.context["total"] == size
    with django_assert_max_num_queries(20):
        response = client.get("/admin/reports/behind.xlsx", {"year": YEAR})
    assert response.status_code == 200


# Reminders -------------------------------------------------------------------------


def remind(client, *officials, **extra):
    data = {"year": YEAR, "officials": [o.pk for o in officials], **extra}
    return client.post(REMIND, data)


def test_reminder_is_sent_in_chinese_and_recorded(world, hr_user, client):
    client.force_login(hr_user)
    response = remind(client, world["zhang"], world["li"])
    assert response.status_code == 302
    assert response["Location"].startswith(URL)
    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if m.to == ["e001@example.cn"])
    assert "2026" in message.subject and "学法" in message.subject
    assert "张三" in message.body
    assert "讲座：宪法讲座" in message.body and "考试：年度考试" in message.body
    assert "/me/record/" in message.body
    reminders = Reminder.objects.order_by("official__staff_number")
    assert [(r.official, r.status, r.email, r.sent_by) for r in reminders] == [
        (world["zhang"], ReminderStatus.SENT, "e001@example.cn", hr_user),
        (world["li"], ReminderStatus.SENT, "e002@example.cn", hr_user),
    ]
    assert reminders[1].missing == "讲座：宪法讲座"
    assert reminders[0].year == YEAR
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("2" in m and "提醒" in m for m in messages)
    # The list shows when each was last reminded.
    text = client.get(URL, {"year": YEAR}).text
    assert timezone.localtime(reminders[0].sent_at).strftime("%Y-%m-%d %H:%M") in text


def test_officials_without_email_are_listed_not_skipped(world, hr_user, client):
    client.force_login(hr_user)
    response = remind(client, world["qian"], world["wang"])
    assert [m.to for m in mail.outbox] == [["w001@example.cn"]]
    qian = Reminder.objects.get(official=world["qian"])
    assert qian.status == ReminderStatus.NO_EMAIL and qian.email == ""
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("钱七" in m and "电子邮箱" in m for m in messages)


def test_not_reminded_twice_within_a_day_unless_forced(world, hr_user, client):
    client.force_login(hr_user)
    remind(client, world["zhang"])
    assert len(mail.outbox) == 1
    response = remind(client, world["zhang"])
    assert len(mail.outbox) == 1
    assert Reminder.objects.count() == 1
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("24" in m for m in messages)
    remind(client, world["zhang"], force="1")
    assert len(mail.outbox) == 2
    assert Reminder.objects.count() == 2
    # After a day has passed, no force is needed.
    Reminder.objects.update(sent_at=timezone.now() - RESEND_AFTER - datetime.timedelta(minutes=1))
    remind(client, world["zhang"])
    assert len(mail.outbox) == 3


def test_remind_everyone_under_the_filters(world, hr_user, client):
    client.force_login(hr_user)
    client.post(REMIND, {"year": YEAR, "kind": "exam", "everyone": "1"})
    reminded = set(Reminder.objects.values_list("official__user__name", flat=True))
    assert reminded == {"张三", "王五", "钱七"}
    assert len(mail.outbox) == 2


def test_only_officials_still_behind_and_in_scope_are_reminded(world, hr_user, client):
    scoped(hr_user, world["east"])
    client.force_login(hr_user)
    response = remind(client, world["wang"])  # west: outside the scope
    assert response.status_code == 302
    assert not mail.outbox and not Reminder.objects.exists()
    remind(client, world["zhao"])  # complete: not behind
    assert not mail.outbox and not Reminder.objects.exists()
    client.post(REMIND, {"year": YEAR, "everyone": "1"})
    reminded = set(Reminder.objects.values_list("official__user__name", flat=True))
    assert reminded == {"张三", "李四"}


def test_nobody_chosen_is_an_error(world, hr_user, client):
    client.force_login(hr_user)
    response = client.post(REMIND, {"year": YEAR})
    assert not Reminder.objects.exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["请选择要提醒的干部。"]


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPException("server down")


def test_failed_sending_is_recorded(world, hr_user, client, settings):
    settings.EMAIL_BACKEND = "tests.exams.test_report_behind.FailingBackend"
    client.force_login(hr_user)
    response = remind(client, world["zhang"])
    assert Reminder.objects.get().status == ReminderStatus.FAILED
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("张三" in m and "失败" in m for m in messages)
    # A failed reminder does not count against the 24-hour rule.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    remind(client, world["zhang"])
    assert len(mail.outbox) == 1


def test_reminders_queued_on_a_background_backend(world, hr_user, client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    client.force_login(hr_user)
    response = remind(client, world["zhang"], world["li"])
    assert not mail.outbox and not Reminder.objects.exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["正在向 2 名干部发送提醒。"]


def test_a_crashing_task_is_reported(world, hr_user, client, monkeypatch):
    from exams.reports import reminders

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(reminders, "send_reminders", crash)
    client.force_login(hr_user)
    response = remind(client, world["zhang"])
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["提醒发送失败，请重试。"]


def test_remind_is_post_only(world, hr_user, client):
    client.force_login(hr_user)
    assert client.get(REMIND, {"year": YEAR, "officials": world["zhang"].pk}).status_code == 405
    assert not mail.outbox


def test_remind_needs_csrf(world, hr_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(hr_user)
    assert remind(client, world["zhang"]).status_code == 403
    assert not mail.outbox and not Reminder.objects.exists()


def test_remind_refused_to_officials_anonymous_and_viewers_without_permission(world, client):
    response = remind(client, world["zhang"])
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(world["zhang"].user)
    assert remind(client, world["zhang"]).status_code == 403
    viewer = reports_viewer_without_reminders()
    client.force_login(viewer)
    assert client.get(URL, {"year": YEAR}).status_code == 200
    assert 'name="officials"' not in client.get(URL, {"year": YEAR}).text
    response = remind(client, world["zhang"])
    # Wagtail turns a refusal inside the admin into a redirect to the dashboard.
    assert response.status_code == 403 or response["Location"] == "/admin/"
    assert not mail.outbox and not Reminder.objects.exists()


@pytest.mark.parametrize("size", [5, 60])
def test_reminding_many_costs_the_same_queries(
    size, hr_user, client, django_assert_max_num_queries
):
    _bulk_world(size)
    client.force_login(hr_user)
    with django_assert_max_num_queries(37):
        client.post(REMIND, {"year": YEAR, "everyone": "1"})
    assert len(mail.outbox) == size
    assert Reminder.objects.count() == size


def test_demo_reminders_are_recorded_once(world):
    from exams.reports.reminder_demo import load_reminders

    report_fixtures.hr(username="hr")
    assert load_reminders() == 3
    assert load_reminders() == 0
    assert set(Reminder.objects.values_list("official__user__name", flat=True)) == {
        "张三",
        "李四",
        "王五",
    }
    assert not mail.outbox
