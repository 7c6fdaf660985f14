"""Running imports as jobs: an upload becomes an `ImportJob`, whose preview and, once
confirmed, whose import run at once in the request for a small file, and as a task
on Django's tasks framework (`run_import_task`) for a file over
XUEFA_IMPORT_INLINE_BYTES. The immediate backend (development, tests) runs that task
at once too; the database backend of production (django-tasks-db) leaves it to the
worker `manage.py db_worker`, so no request waits for a long import while the page
follows its progress. Only a queued phase is started, so a task delivered twice runs
it once, and a confirm sent twice imports once."""

import base64
import datetime
import hashlib
import json
import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cryptography.fernet import Fernet, InvalidToken
from django_tasks import task

from . import crypto
from .imports import PlanChanged, Preview, get_importer
from .jobs import Progress
from .models import ImportJob, ImportPhase, ImportStatus

logger = logging.getLogger(__name__)

DEFAULT_INLINE_BYTES = 200_000
DEFAULT_KEEP_DAYS = 7
DEFAULT_SEALED_HOURS = 24
DEFAULT_STALE_MINUTES = 30
SEALED_CONTEXT = "learning.importjob.sealed"


class ImportRefused(Exception):
    """The upload cannot become a job; the message is for the person."""


def _setting(name, default):
    return getattr(settings, name, default)


def runs_as_task(job):
    """A large file is handed to the tasks backend (in production, its worker); small
    files (most of them) are handled at once in the request."""
    return job.size > _setting("XUEFA_IMPORT_INLINE_BYTES", DEFAULT_INLINE_BYTES)


def start_import(user, kind, upload):
    """Store an uploaded file as a job of `kind` for `user` and preview it. Raises
    PermissionError, LookupError for an unknown kind, ImportRefused for a file too
    large to take."""
    importer = get_importer(kind)
    if importer is None:
        raise LookupError(kind)
    if not importer.allowed(user):
        raise PermissionError(kind)
    limit = settings.XUEFA_MAX_IMPORT_BYTES
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ImportRefused(
            _("The file is larger than %(size)s MB.") % {"size": limit // (1024 * 1024)}
        )
    job = ImportJob.objects.create(
        kind=kind,
        requested_by=user,
        filename=(getattr(upload, "name", "") or "upload")[-200:],
        data=data,
        size=len(data),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    _dispatch(job)
    return job


def confirm(job, options):
    """The person confirmed the preview they saw: queue the import with their
    options. Returns False when the job was not waiting for a confirmation (a second
    click, a cancelled or finished job)."""
    claimed = ImportJob.objects.filter(
        pk=job.pk, phase=ImportPhase.PREVIEW, status=ImportStatus.DONE
    ).update(
        phase=ImportPhase.APPLY,
        status=ImportStatus.QUEUED,
        options=options,
        done=0,
        error="",
        updated_at=timezone.now(),
    )
    if not claimed:
        return False
    job.refresh_from_db()
    _dispatch(job)
    return True


def cancel(job):
    """Drop a previewed upload without importing it."""
    return ImportJob.objects.filter(
        pk=job.pk, phase=ImportPhase.PREVIEW, status=ImportStatus.DONE
    ).update(status=ImportStatus.CANCELLED, data=b"", finished_at=timezone.now())


def _dispatch(job):
    if runs_as_task(job):
        # Once the row is committed, so that a worker finds it.
        transaction.on_commit(partial(run_import_task.enqueue, job.pk))
    else:
        run_job(job.pk)
    job.refresh_from_db()


def run_job(job_id):
    """Run the queued phase of one job. Returns the final status, or None when the
    phase was not queued (already run or running)."""
    now = timezone.now()
    started = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, updated_at=now
    )
    if not started:
        return None
    job = ImportJob.objects.get(pk=job_id)
    importer = get_importer(job.kind)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            if importer is None:
                raise LookupError(job.kind)
            if job.phase == ImportPhase.PREVIEW:
                _run_preview(job, importer)
            else:
                _run_apply(job, importer)
        except Exception:
            logger.exception("Import job %s (%s, %s) failed", job.pk, job.kind, job.phase)
            job.status = ImportStatus.FAILED
            job.error = _(
                "The import failed unexpectedly; nothing was changed. Try again later or "
                "tell the administrator."
            )
            _finish(job, keep_data=False)
    return job.status


@task()
def run_import_task(job_id):
    """The background task of one import phase (see `run_job`)."""
    return run_job(job_id)


def _run_preview(job, importer):
    preview = importer.preview(bytes(job.data), job.filename, progress=Progress(job))
    job.preview = preview.to_json()
    job.status = ImportStatus.DONE
    # Nothing to confirm: the file stays only while a confirmation can use it.
    _finish(job, keep_data=preview.can_apply)


def _run_apply(job, importer):
    fingerprint = job.preview.get("fingerprint", "")
    try:
        options = {**job.options, "requested_by": job.requested_by_id}
        result = importer.apply(
            bytes(job.data), job.filename, fingerprint, options, progress=Progress(job)
        )
    except PlanChanged:
        preview = importer.preview(bytes(job.data), job.filename)
        job.phase = ImportPhase.PREVIEW
        job.preview = preview.to_json()
        job.status = ImportStatus.DONE
        job.error = _(
            "The data changed after the preview was made (someone else imported or edited "
            "records). Nothing was imported: check the new preview and confirm again."
        )
        _finish(job, keep_data=preview.can_apply)
        return
    sealed = result.pop("sealed", None)
    job.result = result
    job.sealed = seal(sealed) if sealed else ""
    job.status = ImportStatus.DONE
    _finish(job, keep_data=False)


def _finish(job, keep_data):
    job.done = max(job.done, job.total)
    if not keep_data:
        job.data = b""
    job.updated_at = timezone.now()
    job.finished_at = None if keep_data else job.updated_at
    job.save()


def job_preview(job):
    return Preview.from_json(job.preview) if job.preview else None


# --- What only the requester may read once -------------------------------------------


def _fernet():
    digest = hashlib.sha256(b"xuefa.imports.sealed:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(value):
    """`value` encrypted until it is taken: with SM4-GCM while XUEFA_SM_CRYPTO is on
    (initial passwords are authentication data, GB/T 39786), else with Fernet."""
    text = json.dumps(value, ensure_ascii=False)
    if crypto.enabled():
        return crypto.seal(text, SEALED_CONTEXT)
    return _fernet().encrypt(text.encode()).decode()


def take_sealed(job):
    """The sealed result, erased as it is read: it can be downloaded once. None when
    it was taken already, purged, or cannot be decrypted (SECRET_KEY or the SM4 key
    changed)."""
    taken = ImportJob.objects.filter(pk=job.pk).exclude(sealed="").update(sealed="")
    if not taken or not job.sealed:
        return None
    try:
        if crypto.is_sealed(job.sealed):
            return json.loads(crypto.unseal(job.sealed, SEALED_CONTEXT))
        return json.loads(_fernet().decrypt(job.sealed.encode()))
    except (InvalidToken, crypto.TamperedValue, crypto.UnknownKey):
        return None


# --- Housekeeping (manage.py purge_export_jobs) ---------------------------------------


def fail_stale_jobs(minutes=None):
    """Mark running phases whose progress has not moved for `minutes` (default
    XUEFA_EXPORT_STALE_MINUTES, 30) as failed: their worker or request died. Nothing
    was written: an import is one transaction."""
    minutes = (
        _setting("XUEFA_EXPORT_STALE_MINUTES", DEFAULT_STALE_MINUTES)
        if minutes is None
        else minutes
    )
    cutoff = timezone.now() - datetime.timedelta(minutes=minutes)
    with translation.override(settings.LANGUAGE_CODE):
        message = _("The import was interrupted; nothing was changed. Upload the file again.")
    return ImportJob.objects.filter(status=ImportStatus.RUNNING, updated_at__lt=cutoff).update(
        status=ImportStatus.FAILED, error=message, data=b"", finished_at=timezone.now()
    )


def purge_jobs(days=None):
    """Forget sealed results after XUEFA_IMPORT_SEALED_HOURS and delete jobs older than
    `days` (XUEFA_EXPORT_KEEP_DAYS). Returns how many jobs were deleted."""
    now = timezone.now()
    hours = _setting("XUEFA_IMPORT_SEALED_HOURS", DEFAULT_SEALED_HOURS)
    old = ImportJob.objects.filter(created_at__lt=now - datetime.timedelta(hours=hours))
    old.filter(phase=ImportPhase.PREVIEW, status=ImportStatus.DONE).update(
        status=ImportStatus.CANCELLED, data=b"", finished_at=now
    )
    old.exclude(sealed="").update(sealed="")
    days = _setting("XUEFA_EXPORT_KEEP_DAYS", DEFAULT_KEEP_DAYS) if days is None else days
    count, _details = ImportJob.objects.filter(
        created_at__lt=now - datetime.timedelta(days=days)
    ).delete()
    return count
