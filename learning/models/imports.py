"""An upload waiting between its preview and its confirmation, and the record of
what it did: one row per uploaded file (learning/import_jobs.py runs it)."""

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ImportPhase(models.TextChoices):
    PREVIEW = "preview", _("Preview")
    APPLY = "apply", _("Import")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", pgettext_lazy("import", "Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportJobQuerySet(models.QuerySet):
    def of(self, user):
        return self.filter(requested_by=user)

    def with_problem_count(self):
        """`problem_count` from the preview's counts, read in the same query (lists of
        jobs leave the preview itself unloaded)."""
        return self.annotate(
            problem_count=Cast(KT("preview__counts__errors"), models.IntegerField())
        )


class ImportJob(models.Model):
    """One uploaded file: first previewed (phase "preview"), then, once the person
    confirms, imported (phase "apply"). The file's bytes stay in the row, not on a
    disk of one app server, so any worker can run either phase; they are dropped
    when the job ends. `updated_at` moves with progress, so a job whose worker died
    shows up as stale instead of running forever."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    kind = models.CharField(_("kind"), max_length=32)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="import_jobs",
        verbose_name=_("requested by"),
    )
    filename = models.CharField(_("file name"), max_length=200)
    data = models.BinaryField(_("file contents"), blank=True, default=b"")
    size = models.PositiveIntegerField(_("size"), default=0)
    phase = models.CharField(
        _("phase"), max_length=10, choices=ImportPhase.choices, default=ImportPhase.PREVIEW
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    # What only the requester may see once (the roster's initial passwords), encrypted
    # with a key derived from SECRET_KEY (SM4 while XUEFA_SM_CRYPTO is on) and erased
    # when downloaded or purged.
    sealed = models.TextField(_("sealed result"), blank=True)
    error = models.TextField(_("error"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.kind} #{self.pk} {self.filename}"

    @property
    def is_running(self):
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def is_previewed(self):
        return self.phase == ImportPhase.PREVIEW and self.status == ImportStatus.DONE

    @property
    def is_imported(self):
        return self.phase == ImportPhase.APPLY and self.status == ImportStatus.DONE

    @property
    def percent(self):
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))
