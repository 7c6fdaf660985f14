"""The exams panel on the official's dashboard: open and upcoming exams."""

from django.utils import timezone

from learning.dashboard import DashboardPanel

from . import gate
from .assignments import Status, my_sessions
from .models import AttemptState

SHOWN = {Status.OPEN, Status.IN_PROGRESS, Status.SUBMITTED, Status.UPCOMING}
# Where the official may still start an attempt, now or once the exam opens, and so
# where an entry requirement can stand in the way.
STARTABLE = {Status.OPEN, Status.SUBMITTED, Status.UPCOMING}


def gate_blocked(official, rows):
    """The pks of the rows' sessions (MySession) the official could start but for the
    session's entry requirements; sessions without any cost no query."""
    return set(gate.blocked_sessions(official, [r.session for r in rows if r.status in STARTABLE]))


class ExamsPanel(DashboardPanel):
    order = 30
    template_name = "exams/includes/exams_panel.html"

    def is_shown(self):
        return hasattr(self.request.user, "official")

    def get_context_data(self, parent_context=None):
        official = self.request.user.official
        now = timezone.now()
        everything = my_sessions(official, now)
        self.changes_at = next_change(everything, now)
        rows = [r for r in everything if r.status in SHOWN]
        rows.sort(key=lambda r: (r.status == Status.UPCOMING, r.terms.closes_at))
        rows = rows[:5]  # the panel always links to the full list
        return {"rows": rows, "blocked": gate_blocked(official, rows)}


def next_change(rows, now):
    """When the clock alone next changes where the official stands in any session
    (MySession rows): a window opening or closing, an attempt's deadline."""
    moments = []
    for row in rows:
        moments += [row.terms.opens_at, row.terms.closes_at]
        moments += [a.deadline for a in row.attempts if a.state == AttemptState.IN_PROGRESS]
    return min((m for m in moments if m is not None and m > now), default=None)
