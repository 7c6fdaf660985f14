"""Notices to people (exam opening, 催学 reminders, observation invitations, results,
明白纸, screen alerts) and the record of every delivery, channel by channel, so HR and
organizers see who was reached how, and who could not be."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NoticeKind(models.TextChoices):
    EXAM_OPENING = "exam_opening", _("Exam opening")
    STUDY_REMINDER = "study_reminder", _("Study reminder")
    OBSERVATION_INVITATION = "observation_invitation", _("Court observation invitation")
    RESULT = "result", _("Exam result")
    BRIEFING = "briefing", _("Briefing sheet")
    SCREEN_OFFLINE = "screen_offline", _("Screen offline")


class NoticeChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WECOM = "wecom", _("WeCom work notification")
    WECOM_ROBOT = "wecom_robot", _("WeCom group robot")
    DINGTALK_ROBOT = "dingtalk_robot", _("DingTalk group robot")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    NO_ADDRESS = "no_address", _("Skipped: no address")
    OPTED_OUT = "opted_out", _("Skipped: opted out")
    FAILED = "failed", pgettext_lazy("delivery", "Failed")


class DeliveryQuerySet(models.QuerySet):
    def sent(self):
        return self.filter(status=DeliveryStatus.SENT)


class Delivery(models.Model):
    """One notice to one person on one channel: sent, skipped (no address, opted out)
    or failed with the gateway's reason. Each row carries the notice's text, so a
    reminder of its own to each of hundreds of officials is one insert. The address is
    kept masked: the log shows where a notice went without holding anyone's mobile
    number in full."""

    wagtail_reference_index_ignore = True

    kind = models.CharField(_("kind"), max_length=32, choices=NoticeKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notice_deliveries",
        verbose_name=_("recipient"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=NoticeChannel.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    address = models.CharField(_("address (masked)"), max_length=120, blank=True)
    error = models.TextField(_("error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice delivery")
        verbose_name_plural = _("notice deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="delivery_user_created"),
            models.Index(fields=["status", "created_at"], name="delivery_status_created"),
            # Finds the notices already sent about one thing (an exam session's link).
            models.Index(fields=["kind", "url"], name="delivery_kind_url"),
        ]

    def __str__(self):
        return f"{self.subject} · {self.user_id} · {self.channel} · {self.status}"

    @property
    def content(self):
        """What the backends send, shared by the deliveries of one notice."""
        return (self.kind, self.subject, self.body, self.url)


class NoticePreference(models.Model):
    """A person's choices about notices: the optional channels they switched off
    (e-mail, the channel everyone keeps, is never among them)."""

    wagtail_reference_index_ignore = True

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notice_preference",
        verbose_name=_("user"),
    )
    opted_out = models.JSONField(_("channels switched off"), default=list, blank=True)

    class Meta:
        verbose_name = _("notice preference")
        verbose_name_plural = _("notice preferences")

    def __str__(self):
        return f"{self.user_id}: {', '.join(self.opted_out) or '-'}"
