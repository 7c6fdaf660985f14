"""Import jobs: a large upload becomes a task, which the worker of the database tasks
backend runs instead of the request (the immediate backend runs it at once), a phase
runs once however often it is started, and what an import hands out once (initial
passwords) is gone after it is taken or the job is old."""

import datetime
import io

from django.urls import reverse
from django.utils import timezone

import pytest
from django_tasks_db.models import DBTaskResult

from learning import import_jobs
from learning.models import ImportJob, Official
from tests import messy_files
from tests.db_worker import database_tasks, run_worker  # noqa: F401  (a fixture)
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db

ROWS = [["姓名", "工号", "部门"], ["张三", "J1", "区财政局"], ["李四", "J2", "区财政局"]]


@pytest.fixture
def hr_user():
    DepartmentFactory(name="区财政局")
    return OfficialFactory(user=UserFactory(roles=["Official", "HR"])).user


def upload(data, name="roster.xlsx"):
    fileobj = io.BytesIO(data)
    fileobj.name = name
    return fileobj


@pytest.mark.usefixtures("database_tasks")
def test_a_large_file_waits_for_the_worker_and_the_page_follows_it(
    hr_user, client, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_IMPORT_INLINE_BYTES = 100
    client.force_login(hr_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("roster:upload"), {"file": upload(messy_files.xlsx(ROWS))})

    job = ImportJob.objects.get()
    assert (job.phase, job.status) == ("preview", "queued")
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs["args"]) == (
        "learning.import_jobs.run_import_task",
        [job.pk],
    )
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page

    run_worker()
    job.refresh_from_db()
    assert (job.phase, job.status) == ("preview", "done")
    assert job.preview["counts"]["created"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("roster:confirm", args=[job.pk]), {"fingerprint": job.preview["fingerprint"]}
        )
    job.refresh_from_db()
    assert (job.phase, job.status) == ("apply", "queued")
    assert not Official.objects.filter(staff_number__in=["J1", "J2"]).exists()

    run_worker()
    job.refresh_from_db()
    assert (job.phase, job.status, job.result["created"]) == ("apply", "done", 2)
    assert bytes(job.data) == b"", "the file is dropped once imported"
    assert Official.objects.filter(staff_number__in=["J1", "J2"]).count() == 2
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"] * 2


def test_without_a_worker_a_large_file_is_handled_at_once(
    hr_user, settings, django_capture_on_commit_callbacks
):
    """The immediate backend (development, `make run`) runs the task in the request."""
    settings.XUEFA_IMPORT_INLINE_BYTES = 100
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = import_jobs.start_import(hr_user, "roster", upload(messy_files.xlsx(ROWS)))
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.phase, job.status, job.preview["counts"]["created"]) == ("preview", "done", 2)


@pytest.mark.usefixtures("database_tasks")
def test_a_phase_runs_once_however_often_it_is_started(
    hr_user, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_IMPORT_INLINE_BYTES = 100
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.start_import(hr_user, "roster", upload(messy_files.xlsx(ROWS)))
    assert import_jobs.run_job(job.pk) == "done"
    assert import_jobs.run_job(job.pk) is None
    job.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs.confirm(job, {}) is True
        assert import_jobs.confirm(job, {}) is False
    assert DBTaskResult.objects.count() == 2, "one task per phase"
    assert import_jobs.run_job(job.pk) == "done"
    assert import_jobs.run_job(job.pk) is None
    run_worker()  # the phases' tasks find nothing left to do
    assert Official.objects.filter(staff_number="J1").count() == 1
    assert set(DBTaskResult.objects.values_list("return_value", flat=True)) == {None}


@pytest.mark.usefixtures("database_tasks")
def test_a_worker_that_died_leaves_a_failed_job_and_no_rows(
    hr_user, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_IMPORT_INLINE_BYTES = 100
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.start_import(hr_user, "roster", upload(messy_files.xlsx(ROWS)))
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    ImportJob.objects.filter(pk=job.pk).update(status="running", updated_at=long_ago)

    assert import_jobs.fail_stale_jobs() == 1

    job.refresh_from_db()
    assert job.status == "failed" and "没有任何改动" in job.error
    assert not Official.objects.filter(staff_number="J1").exists()
    run_worker()  # the task of the interrupted phase does not run it again
    job.refresh_from_db()
    assert job.status == "failed"


def test_an_unexpected_error_fails_the_job_with_a_message_not_a_500(hr_user, client, monkeypatch):
    from learning import roster

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(roster, "plan_file", broken)
    client.force_login(hr_user)
    response = client.post(reverse("roster:upload"), {"file": upload(messy_files.xlsx(ROWS))})
    page = client.get(response["Location"])
    assert page.status_code == 200
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.error in page.content.decode()


def test_initial_passwords_are_forgotten_after_a_day_and_old_jobs_deleted(hr_user):
    job = import_jobs.start_import(hr_user, "roster", upload(messy_files.xlsx(ROWS)))
    import_jobs.confirm(job, {})
    job.refresh_from_db()
    assert job.sealed and "张三" not in job.sealed, "kept encrypted"

    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )
    import_jobs.purge_jobs()
    job.refresh_from_db()
    assert job.sealed == ""
    assert import_jobs.take_sealed(job) is None

    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=8)
    )
    assert import_jobs.purge_jobs() == 1


def test_a_preview_never_confirmed_is_cancelled_and_its_file_dropped(hr_user):
    job = import_jobs.start_import(hr_user, "roster", upload(messy_files.xlsx(ROWS)))
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )
    import_jobs.purge_jobs()
    job.refresh_from_db()
    assert (job.status, bytes(job.data)) == ("cancelled", b"")
    assert import_jobs.confirm(job, {}) is False


def test_the_uploaders_own_recent_uploads_are_listed(hr_user, client):
    other = OfficialFactory(user=UserFactory(roles=["Official", "HR"])).user
    import_jobs.start_import(other, "roster", upload(messy_files.xlsx(ROWS), "theirs.xlsx"))
    import_jobs.start_import(hr_user, "roster", upload(messy_files.xlsx(ROWS), "mine.xlsx"))
    client.force_login(hr_user)
    page = client.get(reverse("roster:upload")).content.decode()
    assert "mine.xlsx" in page and "theirs.xlsx" not in page


def test_the_import_pages_cost_a_fixed_number_of_queries(
    hr_user, client, django_assert_max_num_queries
):
    rows = ROWS + [[f"人{n}", f"Q{n}", "区财政局"] for n in range(200)]
    for _ in range(6):
        job = import_jobs.start_import(hr_user, "roster", upload(messy_files.xlsx(rows)))
    client.force_login(hr_user)
    client.get(reverse("roster:upload"))  # the session and permissions, once
    with django_assert_max_num_queries(12):
        assert client.get(reverse("roster:upload")).status_code == 200
    with django_assert_max_num_queries(12):
        page = client.get(reverse("roster:job", args=[job.pk]))
    assert page.status_code == 200 and "Q199" in page.content.decode()
