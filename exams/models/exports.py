"""Exports that run in the background (reports as xlsx, study records as PDF): one
row per request, built by a task on the django-tasks worker. Finished files live in a
private storage, never under a public URL; only the requester (or a superuser)
downloads them, through a view that checks."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PrivateExportStorage(FileSystemStorage):
    """MEDIA_ROOT/exports on disk, read at each use (tests move MEDIA_ROOT), with no
    URL: files are served only by the permission-checked download view."""

    @property
    def base_location(self):
        return os.path.join(settings.MEDIA_ROOT, "exports")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("Export files have no public URL; use the download view.")


def export_storage():
    """STORAGES["exports"] when a deployment configures one (shared object storage
    for several app servers), else the private folder MEDIA_ROOT/exports."""
    if "exports" in settings.STORAGES:
        return storages["exports"]
    return PrivateExportStorage()


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportJobQuerySet(models.QuerySet):
    def of(self, user):
        return self.filter(requested_by=user)

    def unfinished(self):
        return self.filter(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING])


class ExportJob(models.Model):
    """One requested export: its kind and parameters, who asked, how far it got and
    the file it produced. `updated_at` moves with progress, so a job whose worker
    died shows up as stale instead of running forever."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    kind = models.CharField(_("kind"), max_length=64)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="export_jobs",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    error = models.TextField(_("error"), blank=True)
    file = models.FileField(
        _("file"), storage=export_storage, upload_to="%Y/%m/", max_length=255, blank=True
    )
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        help_text=_("The requester's interface language: the file and messages use it."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-created_at"])]

    def __str__(self):
        return f"{self.kind} #{self.pk}"

    @property
    def is_finished(self):
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    @property
    def percent(self):
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))
