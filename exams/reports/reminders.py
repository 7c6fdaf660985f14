"""Reminding officials who are behind (催学提醒): one e-mail each, in the site's
language, saying what they miss and where their record is; one `Reminder` row per
official so HR sees who was reminded when. Someone reminded within RESEND_AFTER is
not reminded again unless HR insists; someone without an e-mail address is
recorded as not reachable. Queries do not grow with the number of officials."""

import dataclasses
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from django_tasks import task

from learning.models import User
from learning.text import printable

from ..models import Reminder, ReminderStatus
from . import behind

RESEND_AFTER = timedelta(hours=24)


@dataclasses.dataclass
class ReminderResult:
    sent: list = dataclasses.field(default_factory=list)
    no_email: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)
    recently_reminded: list = dataclasses.field(default_factory=list)

    def names(self):
        """{outcome: [official's name]}, JSON-friendly for a task's return value."""
        return {
            field.name: [official.name for official in getattr(self, field.name)]
            for field in dataclasses.fields(self)
        }


def record_url():
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("learning:record")


def _message(row, year, connection):
    with translation.override(settings.LANGUAGE_CODE):
        # A plain-text mail: names and titles lose control characters and line
        # breaks, so they neither act on a terminal nor forge lines of their own.
        context = {
            "name": printable(row.official.name),
            "year": year,
            "missing": [printable(line) for line in row.missing],
            "record_url": record_url(),
        }
        subject = render_to_string("exams/email/reminder_subject.txt", context)
        body = render_to_string("exams/email/reminder_body.txt", context)
        missing_text = row.missing_text
    message = EmailMessage(
        " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [row.official.user.email],
        connection=connection,
    )
    return message, missing_text


def send_reminders(rows, year, sender, *, force=False, now=None):
    """Remind each official of `rows` (BehindRows, officials with users loaded) about
    `year`. Returns a ReminderResult of officials by outcome."""
    now = now or timezone.now()
    result = ReminderResult()
    recent = set()
    if not force and rows:
        recent = set(
            Reminder.objects.delivered()
            .filter(
                official_id__in=[row.official.pk for row in rows],
                year=year,
                sent_at__gt=now - RESEND_AFTER,
            )
            .values_list("official_id", flat=True)
        )
    records = []
    connection = None
    try:
        for row in rows:
            official = row.official
            if official.pk in recent:
                result.recently_reminded.append(official)
                continue
            email = official.user.email.strip()
            if not email:
                with translation.override(settings.LANGUAGE_CODE):
                    missing_text = row.missing_text
                result.no_email.append(official)
                records.append(
                    _record(official, year, sender, now, missing_text, "", ReminderStatus.NO_EMAIL)
                )
                continue
            if connection is None:
                connection = get_connection()
                connection.open()
            message, missing_text = _message(row, year, connection)
            try:
                delivered = message.send()
            except (smtplib.SMTPException, OSError, ValueError):
                delivered = 0
            status = ReminderStatus.SENT if delivered else ReminderStatus.FAILED
            (result.sent if delivered else result.failed).append(official)
            records.append(_record(official, year, sender, now, missing_text, email, status))
    finally:
        if connection is not None:
            connection.close()
    Reminder.objects.bulk_create(records, batch_size=500)
    return result


def _record(official, year, sender, now, missing_text, email, status):
    return Reminder(
        official=official,
        year=year,
        sent_by=sender,
        sent_at=now,
        missing=missing_text,
        email=email,
        status=status,
    )


@task()
def send_reminders_task(official_ids, year, sender_id, force=False):
    """Remind these officials (those still behind) in the background, so reminding
    hundreds does not hold up a request. Returns ReminderResult.names()."""
    found = behind.still_behind(official_ids, year)
    sender = User.objects.filter(pk=sender_id).first()
    return send_reminders(found.rows(), year, sender, force=force).names()
