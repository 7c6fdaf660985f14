"""Demo reminders: the demo HR user reminded a few officials who are behind three
days ago, so the list shows when each was last reminded. No e-mail is sent."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone, translation

from learning.models import User

from ..models import Reminder, ReminderStatus
from . import behind

DEMO_REMINDED = 3


def load_reminders():
    """Returns how many reminders were recorded (none when the demo has them)."""
    hr = User.objects.filter(username="hr").first()
    year = timezone.localdate().year
    if hr is None or Reminder.objects.filter(year=year, sent_by=hr).exists():
        return 0
    found = behind.behind(hr, year)
    sent_at = timezone.now() - timedelta(days=3)
    with translation.override(settings.LANGUAGE_CODE):
        rows = found.rows(found.official_ids[:DEMO_REMINDED])
        reminders = [
            Reminder(
                official=row.official,
                year=year,
                sent_by=hr,
                sent_at=sent_at,
                missing=row.missing_text,
                email=row.official.user.email,
                status=ReminderStatus.SENT if row.official.user.email else ReminderStatus.NO_EMAIL,
            )
            for row in rows
        ]
    Reminder.objects.bulk_create(reminders)
    return len(reminders)
