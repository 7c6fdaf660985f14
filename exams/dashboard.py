"""The exams panel on the official's dashboard: open and upcoming exams."""

from learning.dashboard import DashboardPanel

from .assignments import Status, my_sessions

SHOWN = {Status.OPEN, Status.IN_PROGRESS, Status.SUBMITTED, Status.UPCOMING}


class ExamsPanel(DashboardPanel):
    order = 30
    template_name = "exams/includes/exams_panel.html"

    def is_shown(self):
        return hasattr(self.request.user, "official")

    def get_context_data(self, parent_context=None):
        rows = [r for r in my_sessions(self.request.user.official) if r.status in SHOWN]
        rows.sort(key=lambda r: (r.status == Status.UPCOMING, r.terms.closes_at))
        return {"rows": rows[:5]}  # the panel always links to the full list
