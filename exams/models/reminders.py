"""Reminders sent to officials who are behind on the year's study plan (催学提醒)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReminderStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    NO_EMAIL = "no_email", _("No e-mail address")
    FAILED = "failed", _("Sending failed")


class ReminderQuerySet(models.QuerySet):
    def delivered(self):
        return self.filter(status=ReminderStatus.SENT)


class Reminder(models.Model):
    """One reminder to one official for one year, kept so HR sees who was reminded
    when and about what. A reminder that could not be delivered (no address, a
    mail server error) is recorded too, so nobody is silently skipped."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    official = models.ForeignKey(
        "learning.Official",
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("official"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent at"))
    missing = models.TextField(_("what was missing"), blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ReminderStatus.choices)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["official", "year", "sent_at"])]

    def __str__(self):
        return f"{self.official_id} · {self.year} · {self.sent_at:%Y-%m-%d %H:%M}"
