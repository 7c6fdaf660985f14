"""Urgent notices (紧急通知) on the screens: started in one action by an organizer, shown
over whatever the chosen screens play from the next poll on, and gone at their end
time or when ended early. Every start and early end is in Wagtail's log, so the audit
trail says who told which screens what, and when."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.log_actions import log

from .models import Screen, ScreenNotice

STARTED = "content.screen_notice.start"
ENDED = "content.screen_notice.end"


def register_actions(actions):
    """The log actions of urgent notices (the register_log_actions hook)."""
    actions.register_action(STARTED, _("Start urgent notice"), _("Urgent notice started"))
    actions.register_action(ENDED, _("End urgent notice"), _("Urgent notice ended early"))


def start_notice(*, user, text, ends_at, title="", screens=None, now=None):
    """Show `text` on `screens` (None: every screen) from now until `ends_at`, and
    log it. The screens' schedule stamp moves (a fast-path invalidation), so each
    screen shows it at its next poll."""
    now = now or timezone.now()
    with transaction.atomic():
        notice = ScreenNotice.objects.create(
            title=title,
            text=text,
            all_screens=screens is None,
            starts_at=now,
            ends_at=ends_at,
            created_by=user,
        )
        if screens is not None:
            notice.screens.set(screens)
        log(notice, STARTED, user=user, data=_log_data(notice))
    return notice


def end_notice(notice, *, user, now=None):
    """End a notice before its end time, and log it; a notice already over is left
    as it is (returns False)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = ScreenNotice.objects.select_for_update().get(pk=notice.pk)
        if not locked.is_current(now):
            return False
        locked.ended_at = now
        locked.ended_by = user
        locked.save(update_fields=["ended_at", "ended_by"])
        log(locked, ENDED, user=user, data={"ended_at": now.isoformat()})
    notice.ended_at, notice.ended_by = locked.ended_at, locked.ended_by
    return True


def _log_data(notice):
    screens = "all" if notice.all_screens else sorted(s.pk for s in notice.screens.all())
    return {
        "title": notice.title,
        "text": notice.text,
        "screens": screens,
        "starts_at": notice.starts_at.isoformat(),
        "ends_at": notice.ends_at.isoformat(),
    }


def load_notices(now):
    """Notices showing now or later, each with `screen_ids` (None: every screen), for
    building the screens' documents: two queries, shared by all the screens."""
    notices = list(ScreenNotice.objects.not_over(now).order_by("starts_at", "pk"))
    chosen = {}
    through = ScreenNotice.screens.through.objects.filter(
        screennotice_id__in=[n.pk for n in notices if not n.all_screens]
    )
    for notice_id, screen_id in through.values_list("screennotice_id", "screen_id"):
        chosen.setdefault(notice_id, set()).add(screen_id)
    for notice in notices:
        notice.screen_ids = None if notice.all_screens else chosen.get(notice.pk, set())
    return notices


def for_screen(notices, screen_pk, now):
    """(the notice a screen shows at `now` or None, when that next changes or None):
    the latest started of the current notices meant for it."""
    mine = [n for n in notices if n.screen_ids is None or screen_pk in n.screen_ids]
    current = [n for n in mine if n.is_current(now)]
    showing = max(current, key=lambda n: (n.starts_at, n.pk), default=None)
    changes = [n.starts_at for n in mine if n.starts_at > now]
    changes += [n.finishes_at for n in current]
    return showing, min(changes, default=None)


def notice_data(notice):
    """What the player shows of a notice."""
    return {
        "id": notice.pk,
        "title": notice.title,
        "text": notice.text,
        "ends_at": notice.finishes_at.isoformat(),
    }


def screen_choices():
    return Screen.objects.order_by("name")
