"""The data screen (数据大屏): a playlist item that shows the office's study figures at
1920×1080 (this month's studying officials, completion by department, exam pass
rates, upcoming court observations), delivered in the screens' playlist document.

content imports no other app but learning, so the figures come as panels from the
apps that own them through the Wagtail hook `register_data_screen_panels`. A hook
function takes `now` (an aware datetime) and returns a list of panels, plain dicts:

    {"key": "pass_rates", "order": 30, "title": "…", "kind": "bars",
     "rows": [{"label": "…", "value": 87.5, "text": "87.5 %"}]}

`kind` is "number" (with "value" and "unit"), "bars" (rows whose value is a
percentage or None) or "list" (rows of "label" and "text"). The texts are the
provider's, translated into the site's language (a screen has none of its own).

A thousand screens poll every thirty seconds, so the figures are computed once per
XUEFA_DATA_SCREEN_SECONDS for all app processes and kept in the cache with the
fast paths' idiom (learning.fast.remember, family "data_screen"; whatever changes
the panels' shape starts a new generation), and each process keeps its copy until
the shared value's expiry. Documents with a data screen are valid until then
(content.screens), so their ETag moves once per refresh."""

import time
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wagtail import hooks

from learning import fast
from learning.models import Official

HOOK = "register_data_screen_panels"
FAMILY = "data_screen"
CACHE_KEY = "content:data_screen:figures"
KINDS = ("number", "bars", "list")


def refresh_seconds():
    return settings.XUEFA_DATA_SCREEN_SECONDS


def month_bounds(now):
    """The local month of `now` as aware datetimes [start, end)."""
    local = timezone.localtime(now)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        end = start.replace(year=start.year + 1, month=1)
    else:
        end = start.replace(month=start.month + 1)
    return start, end


def studying_officials(now):
    """Active officials with study credit this month: time credited on a lecture last
    studied this month, or a collective study session attended this month. One query."""
    start, end = month_bounds(now)
    studied = Q(
        study_records__credited_seconds__gt=0,
        study_records__last_heartbeat_at__gte=start,
        study_records__last_heartbeat_at__lt=end,
    )
    attended = Q(
        session_attendance__session__date__gte=start.date(),
        session_attendance__session__date__lt=end.date(),
    )
    return Official.objects.active().filter(studied | attended).distinct().count()


def studying_panel(now):
    """content's own panel (registered in wagtail_hooks.py): this month's studying
    officials, from learning."""
    return [
        {
            "key": "studying",
            "order": 10,
            "title": _("Officials studying this month"),
            "kind": "number",
            "value": studying_officials(now),
            "unit": _("officials"),
        }
    ]


def panels(now):
    """Every registered panel, in order, with the texts in the site's language."""
    found = []
    with translation.override(settings.LANGUAGE_CODE):
        for hook in hooks.get_hooks(HOOK):
            found.extend(hook(now))
    return sorted(found, key=lambda panel: (panel.get("order", 100), panel["key"]))


def compute(now_ts=None):
    """Fresh figures: the panels, when they were computed and until when they hold."""
    now_ts = now_ts or time.time()
    now = datetime.fromtimestamp(now_ts, tz=timezone.get_current_timezone())
    with translation.override(settings.LANGUAGE_CODE):
        updated = _("Updated %(time)s") % {"time": timezone.localtime(now).strftime("%H:%M")}
    return {
        "panels": panels(now),
        "updated": updated,
        "expires": now_ts + refresh_seconds(),
    }


# This process's copy: (generation it was read under, figures).
_memo = (None, None)


def figures(now_ts=None):
    """The figures every data screen shows, computed at most once per refresh across
    the app processes. With the fast paths off, or the cache unreachable, computed
    each time (the plain path)."""
    global _memo
    now_ts = now_ts or time.time()
    if not fast.enabled():
        return compute(now_ts)
    current = fast.generation(FAMILY, max_age=1)
    generation, value = _memo
    if current is not None and generation == current and value["expires"] > now_ts:
        return value
    value = fast.remember(
        FAMILY,
        CACHE_KEY,
        lambda: compute(now_ts),
        seconds=refresh_seconds(),
        valid=lambda kept: kept["expires"] > now_ts,
    )
    _memo = (current, value) if current is not None else (None, None)
    return value


def forget():
    """Drop this process's copy (tests start from nothing)."""
    global _memo
    _memo = (None, None)
    fast.forget_recent(FAMILY)
