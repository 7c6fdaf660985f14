"""Invitations to a court observation (庭审观摩) sent as notices (learning.notices):
each newly invited official hears of it once, while the event is still ahead."""

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from learning.models import User
from learning.notices import NoticeKind, notify


def notify_invited(observation, official_ids, now=None):
    """Invite these officials (ids) to `observation`, unless it has begun or closed."""
    now = now or timezone.now()
    if not official_ids or observation.closed_at is not None or observation.starts_at <= now:
        return []
    users = User.objects.filter(official__pk__in=list(official_ids), is_active=True)
    with translation.override(settings.LANGUAGE_CODE):
        starts = formats.date_format(timezone.localtime(observation.starts_at), "Y-m-d H:i")
        subject = _("Invitation to a court observation: %(title)s") % {"title": observation.title}
        body = _("%(court)s, %(starts)s.") % {"court": observation.court, "starts": starts}
        if observation.meeting_point:
            body += " " + _("Meeting point: %(place)s") % {"place": observation.meeting_point}
    url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse(
        "observations:detail", args=[observation.pk]
    )
    return notify(NoticeKind.OBSERVATION_INVITATION, users, subject=subject, body=body, url=url)
