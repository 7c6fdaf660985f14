"""The 明白纸 panel on the official's dashboard: sheets in force for me that I have not
confirmed yet, each a link to read and confirm it."""

import datetime

from django.utils import timezone

from ..credits import official_for
from ..dashboard import DashboardPanel
from .models import BriefingSheetPage


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class BriefingPanel(DashboardPanel):
    order = 15
    template_name = "briefings/includes/dashboard_panel.html"

    def is_shown(self):
        official = official_for(self.request.user)
        if official is None:
            return False
        today = timezone.localdate()
        # One query: my sheets not over and not confirmed, those in force and those
        # still ahead (which change the panel by the clock alone when they start).
        waiting = list(
            BriefingSheetPage.objects.live()
            .for_official(official)
            .exclude(valid_to__lt=today)
            .exclude(receipts__official=official)
            .order_by("valid_from", "pk")
        )
        self.unconfirmed = [s for s in waiting if s.valid_from <= today]
        moments = [_start_of(s.valid_from) for s in waiting if s.valid_from > today]
        moments += [
            _start_of(s.valid_to + datetime.timedelta(days=1))
            for s in self.unconfirmed
            if s.valid_to
        ]
        self.changes_at = min(moments, default=None)
        return bool(self.unconfirmed)

    def get_context_data(self, parent_context=None):
        return {"sheets": self.unconfirmed}
