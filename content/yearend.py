"""The lobby screens' figures for the year-end report (register_year_end_figures, see
exams/reports/yearend_docx.py): plays, hours of play and screens that played in the
calendar year, as the play counts view shows them for the same dates."""

import datetime

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from wagtail.permission_policies import ModelPermissionPolicy

from .models import PlayLog, PublicityItem, Screen
from .plays import held_items

PLAYS_URL = "wagtailsnippets_content_publicityitem:plays"
# Demo plays: the last DEMO_DAYS days, a play every DEMO_EVERY minutes of office hours.
DEMO_DAYS = 30
DEMO_EVERY = 20


def play_totals(plays):
    """{plays, seconds, screens, hours} of a PlayLog queryset, in one query; hours has
    one decimal (the figure the report quotes and the play counts view shows)."""
    totals = plays.aggregate(
        plays=Count("pk"), seconds=Sum("duration"), screens=Count("screen", distinct=True)
    )
    totals["seconds"] = totals["seconds"] or 0
    totals["hours"] = round(totals["seconds"] / 3600, 1)
    return totals


def can_see_plays(user):
    """The play counts view's own rule: whoever may change or view publicity items."""
    return ModelPermissionPolicy(PublicityItem).user_has_any_permission(user, ["change", "view"])


def year_end_figures(user, year):
    """The screens' figures for `year`, for users who may open the play counts view
    (the screens are the organisation's, so no department scope applies)."""
    if not can_see_plays(user):
        return []
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    totals = play_totals(PlayLog.objects.between(start, end))
    url = reverse(PLAYS_URL) + "?" + urlencode({"start": start.isoformat(), "end": end.isoformat()})
    return [
        {"key": "screens.plays", "label": _("Plays on the screens"), "value": totals["plays"],
         "url": url},
        {"key": "screens.playtime_hours", "label": _("Hours played on the screens"),
         "value": totals["hours"], "url": url},
        {"key": "screens.screens", "label": _("Screens that played"), "value": totals["screens"],
         "url": url},
    ]  # fmt: skip


def load_demo_plays():
    """A month of plays on each demo screen, so the play counts and the drafted year-end
    report have figures. Deterministic and idempotent: play ids name screen, day, slot."""
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    new = []
    for screen in Screen.objects.order_by("pk"):
        slots = sorted(held_items(screen.pk).items())
        if not slots:
            continue
        for days in range(1, DEMO_DAYS + 1):
            day = today - datetime.timedelta(days=days)
            opens = datetime.datetime.combine(day, datetime.time(8), tzinfo=tz)
            for n in range(10 * 60 // DEMO_EVERY):
                item, seconds = slots[n % len(slots)]
                new.append(
                    PlayLog(
                        screen=screen,
                        item_id=item,
                        play_id=f"demo-{day:%Y%m%d}-{n}",
                        started_at=opens + datetime.timedelta(minutes=DEMO_EVERY * n),
                        duration=seconds,
                        reported_at=opens + datetime.timedelta(hours=11),
                    )
                )
    before = PlayLog.objects.count()
    PlayLog.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return PlayLog.objects.count() - before
