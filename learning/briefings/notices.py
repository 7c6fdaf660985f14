"""Telling a sheet's audience that there is a 明白纸 to read (notice kind `briefing`):
once per sheet, when it is first published, after the publication commits; and
reminders from the report to those in the viewer's scope who have not confirmed."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import User
from ..notices import NoticeKind, notify
from .models import BriefingSheetPage
from .report import audience_officials


def sheet_url(sheet):
    return sheet.get_full_url() or settings.WAGTAILADMIN_BASE_URL.rstrip("/") + (sheet.url or "")


def _message(sheet, reminder=False):
    with translation.override(settings.LANGUAGE_CODE):
        if reminder:
            subject = _("Reminder: please read and confirm %(title)s") % {"title": sheet.title}
        else:
            subject = _("A briefing sheet to read: %(title)s") % {"title": sheet.title}
        body = "；".join(sheet.point_list[:3])
    return subject, body


def sheet_published(sender, instance, **kwargs):
    """page_published receiver: notify the audience once the publication commits."""
    sheet_pk = instance.pk
    transaction.on_commit(lambda: notify_audience(sheet_pk), robust=True)


def notify_audience(sheet_pk, now=None):
    """Tell the audience of a live sheet about it, unless it was told already or the
    sheet's validity is over. The claim (notified_at) makes it once per sheet."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        claimed = (
            BriefingSheetPage.objects.live()
            .filter(pk=sheet_pk, notified_at__isnull=True)
            .exclude(valid_to__lt=today)
            .update(notified_at=now)
        )
        if not claimed:
            return []
        sheet = BriefingSheetPage.objects.get(pk=sheet_pk)
        users = User.objects.filter(
            official__in=audience_officials(sheet).values("pk"), is_active=True
        )
        subject, body = _message(sheet)
        return notify(NoticeKind.BRIEFING, users, subject=subject, body=body, url=sheet_url(sheet))


def remind(sheet, officials, sent_by):
    """Remind these officials (those in the viewer's scope who have not confirmed)."""
    users = User.objects.filter(official__in=[o.pk for o in officials], is_active=True)
    subject, body = _message(sheet, reminder=True)
    return notify(
        NoticeKind.BRIEFING,
        users,
        subject=subject,
        body=body,
        url=sheet_url(sheet),
        sent_by=sent_by,
    )
