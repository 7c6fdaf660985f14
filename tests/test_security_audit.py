"""Audit trail and its retention: changes that move exam results are logged in
Wagtail's log, and purge_audit_log never deletes anything younger than 180 days."""

import datetime
import io

from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from wagtail.models import ModelLogEntry, PageLogEntry, Site

import pytest

from exams import attempts as engine
from exams import audit
from exams.models import ExamSession
from exams.observations.models import Attendance, AttendanceChange
from tests.admin_forms import edit_form_data
from tests.exams.factories import ExamSessionFactory, QuestionFactory, fixed_paper
from tests.exams.observation_factories import CourtObservationFactory
from tests.factories import OfficialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam(db):
    return ExamSessionFactory(paper=fixed_paper(QuestionFactory.create_batch(3)))


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


# What is logged -----------------------------------------------------------------


def test_closing_a_session_early_is_logged_with_who_and_what(organizer_client, organizer, exam):
    engine.start_attempt(exam, OfficialFactory())
    response = organizer_client.post(reverse("exams_admin:close", args=[exam.pk]))
    assert response.status_code == 302
    entry = ModelLogEntry.objects.get(action=audit.SESSION_CLOSED)
    assert entry.user_id == organizer.pk
    assert int(entry.object_id) == exam.pk
    assert entry.data["deadlines_cut"] == 1
    assert entry.data["closed_at"] == ExamSession.objects.get(pk=exam.pk).closes_at.isoformat()
    assert str(entry.message) == "考试场次已提前结束"


def test_a_refused_close_logs_nothing(organizer_client, exam):
    ExamSession.objects.filter(pk=exam.pk).update(closes_at=timezone.now())
    organizer_client.post(reverse("exams_admin:close", args=[exam.pk]))
    assert not ModelLogEntry.objects.filter(action=audit.SESSION_CLOSED).exists()


def test_adding_an_exception_for_one_person_is_logged(organizer_client, organizer, exam):
    official = OfficialFactory()
    url = reverse("wagtailsnippets_exams_examsession:edit", args=[exam.pk])
    data = edit_form_data(organizer_client, url)
    assert data["overrides-TOTAL_FORMS"] == "0"
    data.update(
        {
            "overrides-TOTAL_FORMS": "1",
            "overrides-0-official": str(official.pk),
            "overrides-0-extra_minutes": "30",
            "overrides-0-extra_attempts": "0",
            "overrides-0-opens_at": "",
            "overrides-0-closes_at": "",
            "overrides-0-ORDER": "1",
            "overrides-0-DELETE": "",
            "overrides-0-id": "",
        }
    )
    response = organizer_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert exam.overrides.get().extra_minutes == 30
    entry = ModelLogEntry.objects.get(action=audit.OVERRIDES_CHANGED)
    assert entry.user_id == organizer.pk
    assert entry.data["before"] == {}
    assert entry.data["after"][str(official.pk)]["extra_minutes"] == 30

    # Saving again without touching the exceptions logs the edit, not an exception change.
    response = organizer_client.post(url, edit_form_data(organizer_client, url))
    assert response.status_code == 302
    assert ModelLogEntry.objects.filter(action=audit.OVERRIDES_CHANGED).count() == 1
    assert ModelLogEntry.objects.filter(action="wagtail.edit", object_id=str(exam.pk)).count() == 2


# Retention ----------------------------------------------------------------------


def age(days):
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def records_of_every_age(exam, official):
    """For each age, one page log entry, one model log entry, one attendance change."""
    page = Site.objects.get(is_default_site=True).root_page
    observation = CourtObservationFactory()
    attendance = Attendance.objects.create(
        observation=observation, official=official, status="registered"
    )
    for days in (1, 179, 181, 400):
        PageLogEntry.objects.create(
            page=page,
            content_type_id=page.content_type_id,
            label="p",
            action="wagtail.edit",
            timestamp=age(days),
        )
        entry = audit.log_session_closed(exam, None, timezone.now(), 0)
        ModelLogEntry.objects.filter(pk=entry.pk).update(timestamp=age(days))
        AttendanceChange.objects.create(
            attendance=attendance,
            new_status="present",
            source="organizer",
            changed_at=age(days),
        )


def counts():
    return (
        PageLogEntry.objects.count(),
        ModelLogEntry.objects.count(),
        AttendanceChange.objects.count(),
    )


@pytest.mark.parametrize("days", [0, 30, 179])
def test_purge_refuses_less_than_six_months(records_of_every_age, days):
    before = counts()
    with pytest.raises(CommandError, match="至少保留 180 天"):
        call_command("purge_audit_log", older_than_days=days)
    assert counts() == before


def test_purge_refuses_a_retention_setting_under_six_months(records_of_every_age, settings):
    settings.XUEFA_AUDIT_RETENTION_DAYS = 90
    before = counts()
    with pytest.raises(CommandError):
        call_command("purge_audit_log")
    assert counts() == before


def test_purge_at_the_minimum_keeps_everything_younger_than_180_days(records_of_every_age):
    call_command("purge_audit_log", older_than_days=180, stdout=io.StringIO())
    assert counts() == (2, 2, 2)
    for model, field in (
        (PageLogEntry, "timestamp"),
        (ModelLogEntry, "timestamp"),
        (AttendanceChange, "changed_at"),
    ):
        assert not model.objects.filter(**{f"{field}__lt": age(180)}).exists()
        assert model.objects.filter(**{f"{field}__gt": age(180)}).count() == 2


def test_purge_uses_the_retention_setting_by_default(records_of_every_age, settings):
    settings.XUEFA_AUDIT_RETENTION_DAYS = 365
    out = io.StringIO()
    call_command("purge_audit_log", stdout=out)
    assert counts() == (3, 3, 3)
    assert "deleted 1" in out.getvalue()


def test_dry_run_deletes_nothing(records_of_every_age):
    out = io.StringIO()
    call_command("purge_audit_log", older_than_days=180, dry_run=True, stdout=out)
    assert counts() == (4, 4, 4)
    assert "would delete 2" in out.getvalue()


def test_each_app_registers_its_audit_records_and_the_purge_deletes_them(exam):
    """purge_audit_log imports no app: the apps name their records through the
    `register_audit_log_models` hook, and whatever is registered is purged."""
    from wagtail import hooks

    from content.models import PlayLog
    from learning.audit_log import AuditLogModel, audit_log_models
    from tests.content.factories import PublicityItemFactory, ScreenFactory

    registered = {(r.label, r.model) for r in audit_log_models()}
    assert registered >= {
        ("page log entries", PageLogEntry),
        ("other log entries", ModelLogEntry),
        ("attendance changes", AttendanceChange),
    }
    screen, item = ScreenFactory(), PublicityItemFactory()
    for days in (10, 200):
        PlayLog.objects.create(
            screen=screen, item=item, play_id=f"p{days}", started_at=age(days), duration=15
        )
    plays = AuditLogModel("plays", PlayLog, "started_at")
    out = io.StringIO()
    with hooks.register_temporarily("register_audit_log_models", lambda: [plays]):
        call_command("purge_audit_log", older_than_days=180, stdout=out)
    assert "plays: deleted 1" in out.getvalue()
    assert list(PlayLog.objects.values_list("play_id", flat=True)) == ["p10"]
