"""Back-office screens for learning content: law topics, speakers, study plans and
collective study sessions, grouped under one menu item."""

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .completion import providers
from .forms import StudyPlanForm
from .models import CollectiveStudySession, LawTopic, Speaker, StudyPlan


class LawTopicViewSet(SnippetViewSet):
    model = LawTopic
    icon = "tag"
    menu_label = _("Law topics")
    list_display = ["name", "slug", "sort_order"]
    search_fields = ["name"]
    ordering = ["sort_order", "name"]


class SpeakerViewSet(SnippetViewSet):
    model = Speaker
    icon = "user"
    menu_label = _("Speakers")
    list_display = ["name", "title", "affiliation"]
    search_fields = ["name", "affiliation"]


class StudyPlanViewSet(SnippetViewSet):
    model = StudyPlan
    icon = "list-ul"
    menu_label = _("Study plans")
    list_display = ["title", "year", "audience", "required_credit_hours"]
    list_filter = ["year", "audience"]

    def get_edit_handler(self):
        """The plan's own panels plus those of every requirement provider (exams …),
        so apps add requirement kinds without this app knowing them."""
        panels = list(StudyPlan.panels)
        for provider in providers():
            panels.extend(provider.panels())
        return ObjectList(panels, base_form_class=StudyPlanForm).bind_to_model(self.model)


class CollectiveStudySessionViewSet(SnippetViewSet):
    model = CollectiveStudySession
    icon = "group"
    menu_label = _("Collective study")
    list_display = [
        "title",
        "date",
        "meeting",
        "credit_minutes",
        Column("attendance_count", label=_("Attendees"), accessor="attendance_count"),
    ]
    list_filter = ["meeting", "date"]

    def get_queryset(self, request):
        return CollectiveStudySession.objects.annotate(attendance_count=Count("attendance"))


class LearningViewSetGroup(SnippetViewSetGroup):
    menu_label = _("Learning")
    menu_icon = "doc-full-inverse"
    menu_order = 210
    items = (LawTopicViewSet, SpeakerViewSet, StudyPlanViewSet, CollectiveStudySessionViewSet)
