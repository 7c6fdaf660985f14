"""Exams' events sent as notices (learning.notices) on every channel switched on:
催学 reminders, a final result, an observation invitation, and an exam opening (once
per official and session, however often the command runs)."""

import datetime
import io

from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

import pytest

from exams import attempts as engine
from exams.models import Reminder, ReminderStatus, SessionKind
from exams.notices import send_exam_opening_notices
from exams.reports import behind
from exams.reports.reminders import send_reminders
from learning.models import Delivery, DeliveryStatus, NoticePreference
from tests.factories import DepartmentFactory, OfficialFactory
from tests.learning.factories import make_lecture, make_plan
from tests.learning.notice_server import GatewayServer

from .factories import ExamSessionFactory, fixed_paper
from .observation_factories import CourtObservationFactory
from .report_fixtures import finished_attempt, hr, official

pytestmark = pytest.mark.django_db
YEAR = 2026


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def gateway(settings):
    server = GatewayServer().start()
    settings.XUEFA_NOTICE_CHANNELS = ["email", "sms"]
    settings.XUEFA_NOTICE_TIMEOUT = 1
    settings.XUEFA_SMS_BACKEND = "http"
    settings.XUEFA_SMS_SIGNATURE = ""
    settings.XUEFA_SMS_HTTP_URL = server.url + "/sms"
    settings.XUEFA_SMS_HTTP_BODY = '{"to": "{mobile}", "text": "{text}"}'
    settings.XUEFA_SMS_HTTP_ID_FIELD = "id"
    server.answer("/sms", body={"id": "m1"})
    yield server
    server.stop()


def texts_to(gateway, mobile):
    return [r.json()["text"] for r in gateway.at("/sms") if r.json()["to"] == mobile]


# --- 催学 reminders ------------------------------------------------------------------------


@pytest.fixture
def behind_world(db):
    """Plan 2026 asks for one lecture: 张三 (e-mail and mobile) and 钱七 (mobile only)
    have not studied it."""
    department = DepartmentFactory(name="东区")
    lecture = make_lecture("宪法讲座", credit_minutes=60)
    make_plan(year=YEAR, lectures=[lecture], required_credit_hours=0)
    return {
        "zhang": official(department, "张三", "E001", mobile="13800000001"),
        "qian": official(department, "钱七", "E002", email="", mobile="13800000002"),
        "hr": hr(),
    }


def remind(world, **kwargs):
    found = behind.still_behind([world["zhang"].pk, world["qian"].pk], YEAR)
    return send_reminders(found.rows(), YEAR, world["hr"], **kwargs)


def test_reminders_go_by_sms_too_and_reach_those_without_email(behind_world, gateway):
    result = remind(behind_world)
    assert sorted(o.staff_number for o in result.sent) == ["E001", "E002"]
    (zhang_text,) = texts_to(gateway, "13800000001")
    assert "宪法讲座" in zhang_text and "/me/record/" in zhang_text
    assert len(texts_to(gateway, "13800000002")) == 1
    assert [m.to for m in mail.outbox] == [["e001@example.cn"]]
    reminders = {r.official.staff_number: r for r in Reminder.objects.all()}
    assert reminders["E001"].status == ReminderStatus.SENT
    assert reminders["E001"].email == "e001@example.cn"
    assert reminders["E002"].status == ReminderStatus.SENT  # reached on the phone
    assert reminders["E002"].email == ""
    deliveries = Delivery.objects.filter(kind="study_reminder")
    assert {(d.user.username, d.channel, d.status) for d in deliveries} == {
        ("e001", "email", DeliveryStatus.SENT),
        ("e001", "sms", DeliveryStatus.SENT),
        ("e002", "email", DeliveryStatus.NO_ADDRESS),
        ("e002", "sms", DeliveryStatus.SENT),
    }
    assert {d.sent_by for d in deliveries} == {behind_world["hr"]}


def test_a_failing_gateway_fails_the_reminder_only_where_nothing_reached(behind_world, gateway):
    gateway.answer("/sms", status=503, body={"error": "busy"})
    result = remind(behind_world)
    assert [o.staff_number for o in result.sent] == ["E001"]  # by e-mail
    assert [o.staff_number for o in result.failed] == ["E002"]
    qian = Reminder.objects.get(official=behind_world["qian"])
    assert qian.status == ReminderStatus.FAILED
    # A failed reminder is no reason to wait a day: the next run tries again.
    gateway.answer("/sms", body={"id": "m2"})
    result = remind(behind_world)
    assert [o.staff_number for o in result.sent] == ["E002"]
    assert [o.staff_number for o in result.recently_reminded] == ["E001"]


def test_reminders_respect_the_sms_opt_out(behind_world, gateway):
    NoticePreference.objects.create(user=behind_world["qian"].user, opted_out=["sms"])
    result = remind(behind_world)
    assert [o.staff_number for o in result.no_email] == ["E002"]
    assert texts_to(gateway, "13800000002") == []
    assert Reminder.objects.get(official=behind_world["qian"]).status == ReminderStatus.NO_EMAIL


# --- a final result ------------------------------------------------------------------------


def submit(session, who, capture):
    attempt = engine.start_attempt(session, who)
    with capture(execute=True):
        engine.submit_attempt(attempt)
    return attempt


def test_a_final_result_is_notified_once_committed(
    bank, gateway, django_capture_on_commit_callbacks
):
    official = OfficialFactory(mobile="13900000009")
    session = ExamSessionFactory(title="年度学法考试", paper=fixed_paper(bank))
    attempt = submit(session, official, django_capture_on_commit_callbacks)
    (sms,) = texts_to(gateway, "13900000009")
    assert "Your result of 年度学法考试 is final" in sms
    assert f"/exams/{session.pk}/attempts/{attempt.pk}/result/" in sms
    assert {d.channel: d.status for d in Delivery.objects.filter(kind="result")} == {
        "email": DeliveryStatus.SENT,
        "sms": DeliveryStatus.SENT,
    }
    assert mail.outbox[0].subject == "Your result of 年度学法考试 is final"


def test_practice_results_are_not_notified(bank, gateway, django_capture_on_commit_callbacks):
    official = OfficialFactory()
    session = ExamSessionFactory(kind=SessionKind.PRACTICE, paper=fixed_paper(bank))
    submit(session, official, django_capture_on_commit_callbacks)
    assert not Delivery.objects.exists() and not gateway.requests


# --- an observation invitation ---------------------------------------------------------


def test_invitees_are_notified_once_and_only_before_the_event(
    gateway, django_capture_on_commit_callbacks
):
    first = OfficialFactory(mobile="13700000001")
    second = OfficialFactory(mobile="13700000002")
    with django_capture_on_commit_callbacks(execute=True):
        observation = CourtObservationFactory(
            title="旁听行政诉讼", court="滨海法院", invited=[first], meeting_point="东门"
        )
    (text,) = texts_to(gateway, "13700000001")
    assert "Invitation to a court observation: 旁听行政诉讼" in text
    assert "滨海法院" in text and "东门" in text and f"/observations/{observation.pk}/" in text

    with django_capture_on_commit_callbacks(execute=True):
        observation.invited_officials.add(second)
        observation.save()
    assert len(texts_to(gateway, "13700000001")) == 1  # not invited twice
    assert len(texts_to(gateway, "13700000002")) == 1

    past = CourtObservationFactory(
        starts_at=timezone.now() - datetime.timedelta(days=1), invited=[first]
    )
    assert past.attendance.count() == 1
    assert Delivery.objects.filter(url__endswith=f"/observations/{past.pk}/").count() == 0


# --- an exam opening ------------------------------------------------------------------------


def opening_deliveries(session):
    return Delivery.objects.filter(
        kind="exam_opening", url__endswith=f"/exams/{session.pk}/", channel="email"
    )


def test_an_open_session_is_announced_once_to_each_official(gateway, settings):
    settings.XUEFA_NOTICE_CHANNELS = ["email"]
    east = DepartmentFactory(name="东区")
    office = DepartmentFactory(name="东区科室", parent=east)
    west = DepartmentFactory(name="西区")
    inside = OfficialFactory(department=office)
    outside = OfficialFactory(department=west)
    session = ExamSessionFactory(title="东区考试", for_everyone=False)
    session.departments.set([east])
    session.save()
    ExamSessionFactory(kind=SessionKind.PRACTICE)  # practice: never announced
    ExamSessionFactory(opens_at=timezone.now() + datetime.timedelta(days=1))  # not yet open

    call_command("send_exam_opening_notices", stdout=io.StringIO())
    assert [d.user for d in opening_deliveries(session)] == [inside.user]
    assert mail.outbox[0].subject == "Exam open: 东区考试"
    assert Delivery.objects.filter(kind="exam_opening").count() == 1

    assert send_exam_opening_notices() == {}  # idempotent
    late = OfficialFactory(department=east)
    assert send_exam_opening_notices() == {"东区考试": 1}
    assert {d.user for d in opening_deliveries(session)} == {inside.user, late.user}
    assert outside.user not in {d.user for d in Delivery.objects.all()}
    assert len(mail.outbox) == 2


def test_a_makeup_is_announced_to_those_who_have_not_passed(gateway, settings, bank):
    settings.XUEFA_NOTICE_CHANNELS = ["email"]
    passed, failed, absent = OfficialFactory(), OfficialFactory(), OfficialFactory()
    original = ExamSessionFactory(
        closes_at=timezone.now() - datetime.timedelta(hours=1),
        opens_at=timezone.now() - datetime.timedelta(days=2),
    )
    finished_attempt(original, passed, 90)
    finished_attempt(original, failed, 10)
    makeup = ExamSessionFactory(kind=SessionKind.MAKEUP, makes_up=original, for_everyone=False)
    send_exam_opening_notices()
    assert {d.user for d in opening_deliveries(makeup)} == {failed.user, absent.user}
    assert not opening_deliveries(original).exists()


def test_the_command_reports_what_it_did(gateway, settings, capsys):
    settings.XUEFA_NOTICE_CHANNELS = ["email"]
    OfficialFactory()
    ExamSessionFactory(title="全员考试")
    call_command("send_exam_opening_notices")
    assert "全员考试: 1 official(s) notified." in capsys.readouterr().out
    call_command("send_exam_opening_notices")
    assert "Nobody new to notify." in capsys.readouterr().out
