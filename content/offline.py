"""Offline alerts: a screen that has not polled for its alert time (its own, else
XUEFA_SCREEN_OFFLINE_ALERT_MINUTES) is reported to the organizers through the notice
channels (learning.notices), once per outage. A screen never seen is not reported (it
has not been set up yet). Run by the screens' housekeeping task, after the last-seen
times have reached the database."""

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learning import roles
from learning.models import User
from learning.notices import NoticeKind, notify

from .models import Screen

# The shortest alert time a screen may set (the field's validator).
SHORTEST_MINUTES = 5


def alert_minutes(screen):
    return screen.offline_alert_minutes or settings.XUEFA_SCREEN_OFFLINE_ALERT_MINUTES


def newly_offline(now):
    """Screens unseen for their alert time and not yet reported for this outage: seen
    at some time, and not reported since they were last seen."""
    shortest = min(SHORTEST_MINUTES, settings.XUEFA_SCREEN_OFFLINE_ALERT_MINUTES)
    candidates = (
        Screen.objects.filter(last_seen_at__lt=now - timedelta(minutes=shortest))
        .filter(Q(offline_alerted_at__isnull=True) | Q(offline_alerted_at__lt=F("last_seen_at")))
        .only("name", "location", "last_seen_at", "offline_alert_minutes", "offline_alerted_at")
        .order_by("name", "pk")
    )
    return [s for s in candidates if now - s.last_seen_at >= timedelta(minutes=alert_minutes(s))]


def _claim(screens, now):
    """Mark the screens reported, each only if no other run did meanwhile; returns
    those this run claimed (so two overlapping runs never both send)."""
    claimed = []
    for screen in screens:
        updated = (
            Screen.objects.filter(pk=screen.pk, last_seen_at=screen.last_seen_at)
            .filter(
                Q(offline_alerted_at__isnull=True) | Q(offline_alerted_at__lt=F("last_seen_at"))
            )
            .update(offline_alerted_at=now)
        )
        if updated:
            claimed.append(screen)
    return claimed


def organizers():
    return User.objects.filter(groups__name=roles.ORGANIZER, is_active=True).distinct()


def alert_offline_screens(now=None):
    """Tell the organizers, in one notice, about the screens that went offline since
    the last run. Returns the screens reported."""
    now = now or timezone.now()
    screens = _claim(newly_offline(now), now)
    if not screens:
        return []
    lines = [
        _("%(screen)s (%(location)s): last seen %(seen)s")
        % {
            "screen": screen.name,
            "location": screen.location or "—",
            "seen": date_format(timezone.localtime(screen.last_seen_at), "SHORT_DATETIME_FORMAT"),
        }
        for screen in screens
    ]
    subject = ngettext(
        "A screen is offline: %(names)s",
        "%(count)d screens are offline: %(names)s",
        len(screens),
    ) % {"count": len(screens), "names": "、".join(s.name for s in screens)}
    body = "\n".join(
        [_("These screens have stopped asking for their playlist:"), *lines]
        + [_("Check their power, network and browser.")]
    )
    notify(
        NoticeKind.SCREEN_OFFLINE,
        organizers(),
        subject=subject[:200],
        body=body,
        url=settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        + reverse("wagtailsnippets_content_screen:list"),
    )
    return screens
