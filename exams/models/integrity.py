"""The integrity log (考试行为记录) of an attempt: what the exam page reported and what
the server decided under the session's anti-cheating switches."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IntegrityKind(models.TextChoices):
    LEFT_PAGE = "left_page", _("Left the exam page")
    LEFT_FULLSCREEN = "left_fullscreen", _("Left full screen")
    COPY_BLOCKED = "copy_blocked", _("Copy or paste blocked")
    AUTO_SUBMITTED = "auto_submitted", _("Submitted after leaving the page too often")
    DEVICE_REFUSED = "device_refused", _("Another device refused")
    DEVICE_TAKEOVER = "device_takeover", _("Moved to another device")
    DEVICE_RELEASED = "device_released", _("Organizer allowed another device")


class IntegrityEvent(models.Model):
    """One entry of an attempt's integrity log. Counted departures also live on the
    attempt (`departures`), which the server compares with the session's limit."""

    wagtail_reference_index_ignore = True

    attempt = models.ForeignKey(
        "exams.Attempt",
        on_delete=models.CASCADE,
        related_name="integrity_events",
        verbose_name=_("attempt"),
    )
    kind = models.CharField(_("event"), max_length=20, choices=IntegrityKind.choices)
    at = models.DateTimeField(_("at"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("integrity event")
        verbose_name_plural = _("integrity events")
        ordering = ["attempt", "at", "pk"]
        indexes = [models.Index(fields=["attempt", "at"], name="integrity_attempt_at")]

    def __str__(self):
        return f"{self.attempt_id} {self.kind} {self.at:%Y-%m-%d %H:%M:%S}"
