"""Background exports: the registry, running a job with throttled progress, the
"My exports" page, the status endpoint, private downloads, the database tasks backend
and its worker, interrupted jobs and purging."""

import datetime
import io
import json

from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

import pytest
from django_tasks_db.models import DBTaskResult

from exams.management.commands import purge_export_jobs as command
from exams.models import ExportJob, ExportStatus
from exams.reports import export_kinds, exports
from learning.models import ImportJob, ReportScope
from tests.db_worker import database_tasks, run_worker  # noqa: F401  (a fixture)
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db

KIND = "test_numbers"


def build_numbers(job, progress):
    """A test-only kind: counts to `count`, reporting progress at each step."""
    count = int(job.parameters["count"])
    for done in range(count + 1):
        progress(done, count)
    if job.parameters.get("explode"):
        raise RuntimeError("boom")
    if job.parameters.get("refuse"):
        raise exports.ExportError("拒绝：人数太多")
    return "数字.txt", ",".join(str(n) for n in range(count)).encode()


def clean_numbers(user, data):
    try:
        count = int(data.get("count", ""))
    except ValueError as error:
        raise ValidationError("请输入数字") from error
    return {
        "count": count,
        "explode": data.get("explode") == "on",
        "refuse": data.get("refuse") == "on",
    }


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    exports.register_export(KIND, "Numbers", build_numbers, parameters=clean_numbers)
    yield tmp_path / "media"
    exports.unregister_export(KIND)


@pytest.fixture
def hr_client(client, hr_user):
    client.force_login(hr_user)
    return client


def post_export(client, captured, **data):
    with captured(execute=True):
        return client.post(reverse("exams_exports:request"), {"kind": KIND, **data})


def test_requesting_an_export_runs_it_and_offers_the_file(
    hr_client, hr_user, django_capture_on_commit_callbacks, private_media
):
    response = post_export(hr_client, django_capture_on_commit_callbacks, count="5")
    assert response.status_code == 302
    assert response["Location"] == reverse("exams_exports:index")
    job = ExportJob.objects.get()
    assert job.requested_by == hr_user
    assert job.status == ExportStatus.DONE
    assert (job.done, job.total, job.percent) == (5, 5, 100)
    assert job.filename == "数字.txt"
    assert job.language == "zh-hans"
    # Stored privately under MEDIA_ROOT/exports, with no public URL.
    assert (private_media / "exports" / job.file.name).exists()
    with pytest.raises(ValueError):
        job.file.url  # noqa: B018
    page = hr_client.get(reverse("exams_exports:index"))
    download = reverse("exams_exports:download", args=[job.pk])
    assert download in page.content.decode()
    response = hr_client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"0,1,2,3,4"
    assert "attachment" in response["Content-Disposition"]


def test_only_the_requester_or_a_superuser_downloads(
    client, hr_user, superuser, django_capture_on_commit_callbacks
):
    job = exports.request_export(hr_user, KIND, {"count": "3"})
    with django_capture_on_commit_callbacks(execute=True):
        exports.start(job)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    url = reverse("exams_exports:download", args=[job.pk])
    other_hr = OfficialFactory(user=UserFactory(roles=["Official", "HR"])).user
    client.force_login(other_hr)
    assert client.get(url).status_code == 404
    assert json.loads(client.get(reverse("exams_exports:status")).content) == {"jobs": []}
    client.force_login(OfficialFactory().user)
    assert client.get(url).status_code == 403
    client.logout()
    assert "/login/" in client.get(url)["Location"]
    client.force_login(superuser)
    assert client.get(url).status_code == 200


def test_a_failed_job_shows_a_clear_error(hr_client, django_capture_on_commit_callbacks):
    post_export(hr_client, django_capture_on_commit_callbacks, count="2", explode="on")
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.FAILED
    assert "boom" not in job.error
    assert job.error == "导出意外失败。请稍后重试或联系管理员。"
    assert hr_client.get(reverse("exams_exports:download", args=[job.pk])).status_code == 404
    page = hr_client.get(reverse("exams_exports:index")).content.decode()
    assert job.error in page


def test_a_builder_refusal_is_shown_as_written(hr_client, django_capture_on_commit_callbacks):
    post_export(hr_client, django_capture_on_commit_callbacks, count="2", refuse="on")
    job = ExportJob.objects.get()
    assert (job.status, job.error) == (ExportStatus.FAILED, "拒绝：人数太多")


def test_bad_parameters_are_refused_with_a_message(hr_client, django_capture_on_commit_callbacks):
    response = post_export(hr_client, django_capture_on_commit_callbacks, count="many")
    assert response.status_code == 302
    assert not ExportJob.objects.exists()
    page = hr_client.get(response["Location"]).content.decode()
    assert "请输入数字" in page
    response = hr_client.post(reverse("exams_exports:request"), {"kind": "no-such-kind"})
    assert response.status_code == 400


def test_requests_need_post_and_report_access(
    client, organizer, django_capture_on_commit_callbacks
):
    url = reverse("exams_exports:request")
    client.force_login(OfficialFactory().user)
    assert client.post(url, {"kind": KIND, "count": "1"}).status_code == 403
    client.force_login(organizer)
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"kind": KIND, "count": "1"}).status_code == 302
    assert ExportJob.objects.get().requested_by == organizer


def test_a_kind_may_restrict_who_requests_it(hr_user, superuser):
    exports.register_export("su_only", "SU", build_numbers, allowed=lambda u: u.is_superuser)
    try:
        with pytest.raises(PermissionError):
            exports.request_export(hr_user, "su_only", {})
        assert exports.request_export(superuser, "su_only", {}).status == ExportStatus.QUEUED
    finally:
        exports.unregister_export("su_only")


def test_progress_writes_are_throttled(hr_user, django_assert_max_num_queries):
    job = ExportJob.objects.create(kind=KIND, requested_by=hr_user, parameters={"count": 1})
    clock = iter([0.0, 0.1, 0.2, 0.3, 0.6, 0.7, 0.8]).__next__
    progress = exports.Progress(job, clock=clock)
    with django_assert_max_num_queries(3):
        for done in range(6):
            progress(done, 100)  # writes at 0.0 and 0.6 only
        progress(100, 100)  # the last step is always written
    job.refresh_from_db()
    assert (job.done, job.total) == (100, 100)


def test_a_job_runs_once_even_if_started_twice(hr_user):
    job = ExportJob.objects.create(kind=KIND, requested_by=hr_user, parameters={"count": 2})
    assert exports.run_job(job.pk) == ExportStatus.DONE
    assert exports.run_job(job.pk) is None


@pytest.mark.usefixtures("database_tasks")
def test_with_the_database_backend_the_worker_builds_the_file_for_the_requester_only(
    client, hr_user, django_capture_on_commit_callbacks, private_media
):
    """Production's setup: the request only stores the job and its task; the worker
    (`manage.py db_worker`) builds the file, privately."""
    client.force_login(hr_user)
    post_export(client, django_capture_on_commit_callbacks, count="4")
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.QUEUED
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs, task.status) == (
        "exams.reports.exports.run_export_task",
        {"args": [job.pk], "kwargs": {}},
        "READY",
    )
    assert "排队" in client.get(reverse("exams_exports:index")).content.decode()

    run_worker()

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.filename) == (ExportStatus.DONE, 4, 4, "数字.txt")
    task.refresh_from_db()
    assert (task.status, task.return_value) == ("SUCCESSFUL", "done")
    assert (private_media / "exports" / job.file.name).exists()
    with pytest.raises(ValueError):
        job.file.url  # noqa: B018
    download = reverse("exams_exports:download", args=[job.pk])
    response = client.get(download)
    assert b"".join(response.streaming_content) == b"0,1,2,3"
    client.force_login(OfficialFactory(user=UserFactory(roles=["Official", "HR"])).user)
    assert client.get(download).status_code == 404


@pytest.mark.usefixtures("database_tasks")
def test_a_failing_export_fails_its_job_not_the_worker(hr_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        broken = exports.request_export(hr_user, KIND, {"count": "2", "explode": "on"})
        fine = exports.request_export(hr_user, KIND, {"count": "2"})
    run_worker()
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.status, broken.error) == (
        ExportStatus.FAILED,
        "导出意外失败。请稍后重试或联系管理员。",
    )
    assert fine.status == ExportStatus.DONE
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_run_export_jobs_is_gone_and_names_the_worker():
    with pytest.raises(CommandError, match="db_worker"):
        call_command("run_export_jobs", "--loop")


def test_status_endpoint_reports_progress_of_own_jobs(hr_client, hr_user):
    job = ExportJob.objects.create(
        kind=KIND, requested_by=hr_user, status=ExportStatus.RUNNING, done=25, total=100
    )
    ExportJob.objects.create(kind=KIND, requested_by=UserFactory())
    data = json.loads(hr_client.get(reverse("exams_exports:status")).content)
    assert data["jobs"] == [
        {
            "id": job.pk,
            "status": "running",
            "status_label": "运行中",
            "done": 25,
            "total": 100,
            "percent": 25,
            "finished": False,
        }
    ]
    page = hr_client.get(reverse("exams_exports:index")).content.decode()
    assert reverse("exams_exports:status") in page  # the page polls while unfinished


def test_stale_running_jobs_are_marked_failed(hr_user):
    old = timezone.now() - datetime.timedelta(hours=2)
    stale = ExportJob.objects.create(
        kind=KIND, requested_by=hr_user, status=ExportStatus.RUNNING, updated_at=old
    )
    fresh = ExportJob.objects.create(
        kind=KIND, requested_by=hr_user, status=ExportStatus.RUNNING, updated_at=timezone.now()
    )
    assert exports.fail_stale_jobs() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == ExportStatus.FAILED and stale.error
    assert fresh.status == ExportStatus.RUNNING


def test_housekeeping_fails_jobs_whose_worker_died(settings, hr_user):
    """A worker killed mid-export leaves its job running without progress: after
    XUEFA_EXPORT_STALE_MINUTES the housekeeping command marks it failed, to be
    requested again."""
    settings.XUEFA_EXPORT_STALE_MINUTES = 10
    quiet = timezone.now() - datetime.timedelta(minutes=11)
    died = ExportJob.objects.create(
        kind=KIND, requested_by=hr_user, status=ExportStatus.RUNNING, updated_at=quiet
    )
    working = ExportJob.objects.create(
        kind=KIND,
        requested_by=hr_user,
        status=ExportStatus.RUNNING,
        updated_at=timezone.now() - datetime.timedelta(minutes=9),
    )
    waiting = ExportJob.objects.create(kind=KIND, requested_by=hr_user, created_at=quiet)
    importing = ImportJob.objects.create(
        kind="roster", requested_by=hr_user, filename="x.xlsx", status="running", updated_at=quiet
    )
    out = io.StringIO()
    call_command("purge_export_jobs", stdout=out)
    assert out.getvalue().startswith("2 interrupted job(s) marked failed;")
    for job in (died, working, waiting, importing):
        job.refresh_from_db()
    assert (died.status, died.error) == (ExportStatus.FAILED, "导出被中断，请重新申请。")
    assert died.finished_at is not None
    assert working.status == ExportStatus.RUNNING
    assert waiting.status == ExportStatus.QUEUED, "a queued job waits for the worker"
    assert importing.status == "failed"


def test_old_jobs_and_their_files_are_purged(settings, hr_user, private_media):
    settings.XUEFA_EXPORT_KEEP_DAYS = 3
    old = ExportJob.objects.create(kind=KIND, requested_by=hr_user, parameters={"count": 2})
    exports.run_job(old.pk)
    old.refresh_from_db()
    path = private_media / "exports" / old.file.name
    assert path.exists()
    ExportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=4)
    )
    recent = ExportJob.objects.create(kind=KIND, requested_by=hr_user)
    call_command("purge_export_jobs", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(ExportJob.objects.all()) == [recent]
    assert not path.exists()
    assert exports.purge_jobs(days=0) == 1
    with pytest.raises(CommandError):
        call_command("purge_export_jobs", "--days", "-1")


@pytest.mark.usefixtures("database_tasks")
def test_housekeeping_prunes_old_finished_task_results(
    settings, hr_user, django_capture_on_commit_callbacks
):
    settings.XUEFA_EXPORT_KEEP_DAYS = 3
    with django_capture_on_commit_callbacks(execute=True):
        for count in ("1", "2"):
            exports.request_export(hr_user, KIND, {"count": count})
    run_worker()
    with django_capture_on_commit_callbacks(execute=True):
        exports.request_export(hr_user, KIND, {"count": "3"})  # waits for the worker
    old, recent = DBTaskResult.objects.filter(status="SUCCESSFUL")
    DBTaskResult.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=4)
    )
    out = io.StringIO()
    call_command("purge_export_jobs", stdout=out)
    assert "1 task result(s)" in out.getvalue()
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {
        recent.pk,
        DBTaskResult.objects.get(status="READY").pk,
    }


def test_housekeeping_as_a_service_keeps_going_when_the_database_is_away(monkeypatch):
    calls = []

    def housekeeping(self, days):
        calls.append(days)
        if len(calls) == 1:
            raise DatabaseError("server closed the connection")
        return (0, 1, 0, 0)

    def sleep(seconds):
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(command.Command, "housekeeping", housekeeping)
    monkeypatch.setattr(command.time, "sleep", sleep)
    closed = []
    monkeypatch.setattr(command, "close_old_connections", lambda: closed.append(True))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        call_command("purge_export_jobs", "--loop", "--interval", "5", stdout=out, stderr=err)
    assert "server closed the connection" in err.getvalue()
    assert "deleted 1 export(s)" in out.getvalue()
    assert closed, "a broken connection is dropped before the next run"


def test_the_button_include_posts_kind_and_parameters(hr_user):
    request = RequestFactory().get("/admin/reports/completion/?year=2026")
    request.user = hr_user
    html = Template(
        '{% load export_tags %}{% background_export_button "completion" year=2026 '
        "department=None leaders_only=True %}"
    ).render(Context({"request": request, "csrf_token": "tok"}))
    assert 'action="/admin/reports/exports/request/"' in html
    assert 'name="kind" value="completion"' in html
    assert 'name="year" value="2026"' in html
    assert 'name="leaders_only" value="on"' in html
    assert 'name="department"' not in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "/admin/reports/completion/?year=2026" in html


@override_settings(XUEFA_EXPORT_MAX_RECORDS=1)
def test_study_records_kind_checks_scope_and_size(hr_user):
    bureau = DepartmentFactory(name="司法局")
    other = DepartmentFactory(name="财政局")
    OfficialFactory(department=bureau)
    ReportScope.objects.create(user=hr_user, department=bureau)
    year = timezone.localdate().year
    with pytest.raises(ValidationError):
        exports.request_export(hr_user, "study_records", {"year": year, "department": other.pk})
    job = exports.request_export(hr_user, "study_records", {"year": year, "department": bureau.pk})
    assert job.parameters == {"year": year, "department": bureau.pk}
    OfficialFactory(department=bureau)
    with pytest.raises(ValidationError) as refused:
        exports.request_export(hr_user, "study_records", {"year": year, "department": bureau.pk})
    assert "司法局" in refused.value.messages[0]


def test_my_exports_is_in_the_reports_menu_of_report_viewers(client, hr_user):
    from django.contrib.auth.models import Permission

    url = reverse("exams_exports:index")
    client.force_login(hr_user)
    assert url in client.get(reverse("wagtailadmin_home")).content.decode()
    editor = UserFactory()
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    assert url not in client.get(reverse("wagtailadmin_home")).content.decode()
    assert (r := client.get(url)).status_code == 302 and r.url == reverse("wagtailadmin_home")


def test_completion_kind_calls_the_report_with_the_scoped_parameters(
    monkeypatch, hr_user, django_capture_on_commit_callbacks
):
    """Stand-ins for the report (exams.reports.completion) record what the completion
    kind asks for."""
    calls = {}

    def build_report(year, *, user, department=None, leaders_only=False, position="", rank=""):
        calls["report"] = (year, user, department, leaders_only, position, rank)
        return "the report"

    def report_xlsx(report, progress=None):
        calls["xlsx"] = report
        progress(1, 1)
        return b"PK-xlsx"

    monkeypatch.setattr(export_kinds, "build_report", build_report)
    monkeypatch.setattr(export_kinds, "report_xlsx", report_xlsx)
    bureau = DepartmentFactory(name="教育局")
    ReportScope.objects.create(user=hr_user, department=bureau)
    year = timezone.localdate().year
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.request_export(
            hr_user,
            "completion",
            {"year": str(year), "leaders_only": "on", "position": " 科长 ", "rank": ""},
        )
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    # No department asked for: the HR user's scope is used, never the whole organisation.
    assert calls["report"] == (year, hr_user, bureau, True, "科长", "")
    assert calls["xlsx"] == "the report"
    assert job.filename == f"学法完成情况-教育局-{year}.xlsx"
    with pytest.raises(ValidationError):
        exports.request_export(hr_user, "completion", {"year": "1990"})
