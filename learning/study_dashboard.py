"""The study panel on the official's dashboard: what the year's plan still asks,
lectures in progress and the newest lectures."""

from django.utils import timezone

from .completion import completion_for, held_plans_for_year
from .credits import official_for
from .dashboard import DashboardPanel
from .fast import remember
from .models import LecturePage, StudyRecord

NEWEST_CACHE_KEY = "xuefa:fast:newest-lectures"


class StudyPanel(DashboardPanel):
    order = 20
    template_name = "learning/includes/study_panel.html"

    def is_shown(self):
        return official_for(self.request.user) is not None

    def get_context_data(self, parent_context=None):
        official = official_for(self.request.user)
        year = timezone.localdate().year
        return {
            "year": year,
            # Without a plan nothing is required: skip the evaluation's queries.
            "completion": completion_for(official, year) if held_plans_for_year(year) else None,
            "in_progress": StudyRecord.objects.filter(official=official)
            .in_progress()
            .select_related("lecture")
            .order_by("-last_heartbeat_at")[:5],
            "newest": self.newest_lectures(),
        }

    def newest_lectures(self):
        """The five newest lectures, the same for everyone: kept in the "pages"
        family, which any page published, unpublished or moved starts anew."""
        request = self.request

        def newest():
            lectures = (
                LecturePage.objects.live()
                .order_by("-first_published_at", "-pk")
                .only("pk", "title", "url_path")[:5]
            )
            return [{"title": p.title, "url": p.get_url(request)} for p in lectures]

        return remember("pages", NEWEST_CACHE_KEY, newest)
