"""Exports in the background: a registry of export kinds, requesting one (an
`ExportJob` row), running it as a task on Django's tasks framework with throttled
progress, and the housekeeping of old and interrupted ones.

A report module offers its export by registering a kind:

    register_export("completion", _("Completion report (Excel)"), build_completion,
                    parameters=clean_completion_parameters)

`builder(job, progress)` returns `(filename, bytes)` and calls `progress(done,
total)` as it goes (writes are throttled to one every PROGRESS_INTERVAL seconds).
`parameters(user, data)` turns the POSTed form data into the job's JSON parameters,
raising ValidationError (in the user's language) on bad input or on a department
outside the user's report scope. Pages offer the export with the template tag
`{% background_export_button "completion" year=2026 department=3 %}`
(exams/templatetags/export_tags.py).

How a requested job runs: the request enqueues `run_export_task` once the job's row
is committed. The immediate backend (development, `make run`, tests) builds the file
at once; the database backend of production (django-tasks-db) stores the task for
its worker, `manage.py db_worker`, so a long export never holds a web worker. The
job row carries what the person sees (status, progress, error, the private file);
only a queued job is started, so a task delivered twice builds the file once.
`manage.py purge_export_jobs` marks jobs whose worker died as failed and deletes old
ones.
"""

import dataclasses
import datetime
import logging
import os
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wagtail import hooks

from django_tasks import task

from exams.models import ExportJob, ExportStatus
from learning.jobs import Progress

from .access import can_view_reports

logger = logging.getLogger(__name__)

DEFAULT_KEEP_DAYS = 7
DEFAULT_STALE_MINUTES = 30


class ExportError(Exception):
    """A builder's refusal the requester should read (say, too many officials for
    one PDF). Its message is shown on the job; other exceptions show a generic one."""


@dataclasses.dataclass(frozen=True)
class ExportKind:
    kind: str
    label: str
    builder: Callable
    parameters: Callable | None = None
    allowed: Callable = can_view_reports

    def clean(self, user, data):
        return dict(self.parameters(user, data)) if self.parameters else {}


_registry = {}


def register_export(kind, label, builder, *, parameters=None, allowed=can_view_reports):
    """Make an export kind available. `allowed(user)` says who may request it (report
    viewers by default); `parameters(user, data)` validates the request."""
    _registry[kind] = ExportKind(kind, label, builder, parameters, allowed)
    return _registry[kind]


def unregister_export(kind):
    _registry.pop(kind, None)


def _loaded():
    """Kinds are registered by modules the Wagtail hooks import; a worker process
    may not have imported them yet."""
    hooks.search_for_hooks()
    return _registry


def get_kind(kind):
    return _loaded().get(kind)


def kinds():
    return list(_loaded().values())


def kind_label(kind):
    found = get_kind(kind)
    return found.label if found else kind


def keep_days():
    return int(getattr(settings, "XUEFA_EXPORT_KEEP_DAYS", DEFAULT_KEEP_DAYS))


def request_export(user, kind, data):
    """Queue an export for `user` and start it. Raises PermissionError if the user may
    not request this kind, LookupError for an unknown kind and ValidationError for bad
    parameters."""
    export_kind = get_kind(kind)
    if export_kind is None:
        raise LookupError(kind)
    if not export_kind.allowed(user):
        raise PermissionError(kind)
    parameters = export_kind.clean(user, data)
    job = ExportJob.objects.create(
        kind=kind,
        parameters=parameters,
        requested_by=user,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    start(job)
    return job


def start(job):
    """Enqueue the job's task once its row is committed: the worker must find the row,
    and a request that rolls back leaves no task behind."""
    transaction.on_commit(partial(run_export_task.enqueue, job.pk))


def run_job(job_id):
    """Run one queued job: mark it running, build the file, store it privately.
    Returns the final status, or None if the job was not queued (already run or
    running: a task delivered twice does the work once)."""
    now = timezone.now()
    started = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=now, updated_at=now
    )
    if not started:
        return None
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        export_kind = get_kind(job.kind)
        try:
            if export_kind is None:
                raise ExportError(_("This kind of export is no longer available."))
            filename, content = export_kind.builder(job, Progress(job))
            extension = os.path.splitext(filename)[1].lower()[:10]
            job.file.save(f"export-{job.pk}{extension}", ContentFile(content), save=False)
        except ExportError as error:
            return _fail(job, str(error))
        except Exception:
            logger.exception("Export job %s (%s) failed", job.pk, job.kind)
            return _fail(
                job,
                _("The export failed unexpectedly. Try again later or tell the administrator."),
            )
        job.filename = filename[:200]
        job.status = ExportStatus.DONE
        job.done = job.total = max(job.total, job.done)
        job.finished_at = job.updated_at = timezone.now()
        job.save(
            update_fields=[
                "file",
                "filename",
                "status",
                "done",
                "total",
                "finished_at",
                "updated_at",
            ]
        )
        return job.status


def _fail(job, message):
    job.status = ExportStatus.FAILED
    job.error = message
    job.finished_at = job.updated_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "updated_at"])
    return job.status


@task()
def run_export_task(job_id):
    """The background task of one export (see `run_job`). Returns its final status,
    or None when the job had already been run."""
    return run_job(job_id)


def fail_stale_jobs(minutes=None):
    """Mark running jobs whose progress has not moved for `minutes` (default
    XUEFA_EXPORT_STALE_MINUTES, 30) as failed, to be requested again: their worker died
    or was killed. Returns how many."""
    minutes = (
        int(getattr(settings, "XUEFA_EXPORT_STALE_MINUTES", DEFAULT_STALE_MINUTES))
        if minutes is None
        else minutes
    )
    cutoff = timezone.now() - datetime.timedelta(minutes=minutes)
    with translation.override(settings.LANGUAGE_CODE):
        message = _("The export was interrupted. Request it again.")
    return ExportJob.objects.filter(status=ExportStatus.RUNNING, updated_at__lt=cutoff).update(
        status=ExportStatus.FAILED, error=message, finished_at=timezone.now()
    )


def purge_jobs(days=None):
    """Delete jobs (and their files) created more than `days` ago (default
    XUEFA_EXPORT_KEEP_DAYS, 7). Returns how many jobs were deleted."""
    days = keep_days() if days is None else days
    cutoff = timezone.now() - datetime.timedelta(days=days)
    old = ExportJob.objects.filter(created_at__lt=cutoff)
    for job in old.exclude(file="").only("pk", "file"):
        try:
            job.file.delete(save=False)
        except OSError:
            logger.warning("Could not delete the file of export job %s", job.pk)
    count, _details = old.delete()
    return count
