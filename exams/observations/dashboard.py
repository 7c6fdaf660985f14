"""The court observation panel on the official's dashboard: my next observation,
reflections still to write, and missed hearings to make up on their case page (补学)."""

from django.utils import timezone

from learning.credits import official_for
from learning.dashboard import DashboardPanel

from . import cases
from .models import ATTENDED_STATUSES, EXPECTED_STATUSES, Attendance


class ObservationPanel(DashboardPanel):
    order = 40
    template_name = "observations/includes/dashboard_panel.html"

    def is_shown(self):
        return official_for(self.request.user) is not None

    def get_context_data(self, parent_context=None):
        official = official_for(self.request.user)
        now = timezone.now()
        mine = Attendance.objects.filter(official=official).select_related("observation")
        upcoming = (
            mine.filter(
                status__in=EXPECTED_STATUSES,
                observation__ends_at__gte=now,
                observation__closed_at__isnull=True,
            )
            .order_by("observation__starts_at")
            .first()
        )
        # Attended observations whose reflection is still open and not yet written;
        # filtering on the due date happens in Python on at most a few rows.
        candidates = mine.filter(status__in=ATTENDED_STATUSES, reflection__isnull=True).order_by(
            "-observation__starts_at"
        )[:10]
        due = [a for a in candidates if now <= a.observation.reflection_due][:3]
        # The clock alone changes the panel when the next observation ends or a
        # reflection's time runs out.
        moments = [a.observation.reflection_due for a in candidates]
        if upcoming is not None:
            moments.append(upcoming.observation.ends_at)
        self.changes_at = min((m for m in moments if m and m >= now), default=None)
        # Make-ups are recorded by the events that earn them (cases.connect): the
        # panel only reads what is still open.
        make_ups = cases.make_up_candidates(official, now)[:3]
        return {"next_attendance": upcoming, "reflections_due": due, "make_ups": make_ups}
