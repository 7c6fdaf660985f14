"""Reminding officials who are behind (催学提醒): one notice each (learning.notices:
e-mail, and SMS or WeCom where switched on), in the site's language, saying what they
miss and where their record is; one `Reminder` row per official so HR sees who was
reminded when. Someone reminded within RESEND_AFTER is not reminded again unless HR
insists; someone no channel reaches is recorded as not reachable. Queries do not
grow with the number of officials."""

import dataclasses
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from django_tasks import task

from learning.models import User
from learning.notices import (
    DeliveryStatus,
    NoticeChannel,
    NoticeKind,
    send_each_now,
)
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


def _text(row, year):
    """The reminder's subject, body and the missing items as recorded."""
    with translation.override(settings.LANGUAGE_CODE):
        # Plain text: names and titles lose control characters and line breaks, so
        # they neither act on a terminal nor forge lines of their own.
        context = {
            "name": printable(row.official.name),
            "year": year,
            "missing": [printable(line) for line in row.missing],
            "record_url": record_url(),
        }
        subject = render_to_string("exams/email/reminder_subject.txt", context)
        body = render_to_string("exams/email/reminder_body.txt", context)
        return " ".join(subject.split()), body, row.missing_text


def send_reminders(rows, year, sender, *, force=False, now=None):
    """Remind each official of `rows` (BehindRows, officials with users loaded) about
    `year`, on every notice channel switched on (learning.notices: e-mail, SMS, WeCom).
    Returns a ReminderResult of officials by outcome: reminded when any channel
    delivered, failed when one failed and none delivered, else not reachable."""
    now = now or timezone.now()
    result = ReminderResult()
    due, messages, missing = [], [], {}
    for row in rows:
        # The rows carry the last delivered reminder of the year (behind.build_rows).
        if not force and row.last_reminded and row.last_reminded > now - RESEND_AFTER:
            result.recently_reminded.append(row.official)
            continue
        subject, body, missing[row.official.pk] = _text(row, year)
        due.append(row.official)
        messages.append((row.official.user, subject, body, record_url()))
    deliveries = send_each_now(NoticeKind.STUDY_REMINDER, messages, sent_by=sender)
    by_user = defaultdict(list)
    for delivery in deliveries:
        by_user[delivery.user_id].append(delivery)
    records = []
    for official in due:
        status, email = _outcome(by_user[official.user_id], official.user.email.strip())
        {
            ReminderStatus.SENT: result.sent,
            ReminderStatus.FAILED: result.failed,
            ReminderStatus.NO_EMAIL: result.no_email,
        }[status].append(official)
        records.append(_record(official, year, sender, now, missing[official.pk], email, status))
    Reminder.objects.bulk_create(records, batch_size=500)
    return result


def _outcome(deliveries, email):
    """(ReminderStatus, the e-mail address tried or "") of one official's deliveries."""
    statuses = {d.status for d in deliveries}
    emailed = any(d.channel == NoticeChannel.EMAIL for d in deliveries)
    address = email if emailed else ""
    if DeliveryStatus.SENT in statuses:
        return ReminderStatus.SENT, address
    if DeliveryStatus.FAILED in statuses:
        return ReminderStatus.FAILED, address
    return ReminderStatus.NO_EMAIL, ""


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
