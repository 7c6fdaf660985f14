"""Back-office menus for court observations: the observation snippets (listed with
links to each one's tools), and the per-observation tools (admin_views) routed under
/admin/observations/ without a menu item of their own."""

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.base import ViewSet
from wagtail.snippets.views.snippets import SnippetViewSet

from .admin_views import (
    attendees,
    attendees_xlsx,
    checkin_screen,
    checkin_token,
    close,
    reflection_file,
    sheet,
    turn_into_case,
)
from .models import SEAT_STATUSES, CasePage, CourtObservation


def _tools_links(observation):
    links = format_html(
        '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
        reverse("observation_tools:sheet", args=[observation.pk]),
        _("Attendance"),
        reverse("observation_tools:checkin_screen", args=[observation.pk]),
        _("Check-in screen"),
        reverse("observation_tools:attendees", args=[observation.pk]),
        _("Attendee list"),
    )
    if observation.has_ended():
        links += format_html(
            ' · <a href="{}" data-case-link>{}</a>',
            reverse("observation_tools:case", args=[observation.pk]),
            _("Case page") if getattr(observation, "has_case", False) else _("Turn into a case"),
        )
    return links


class CourtObservationViewSet(SnippetViewSet):
    model = CourtObservation
    icon = "date"
    menu_label = gettext_lazy("Court observations")
    menu_order = 230
    add_to_admin_menu = True
    list_display = [
        "title",
        "court",
        Column("starts_at", label=gettext_lazy("Starts"), sort_key="starts_at"),
        "case_type",
        Column(
            "seats",
            label=gettext_lazy("Seats taken"),
            accessor=lambda o: f"{o.seats_taken} / {o.capacity}",
        ),
        Column(
            "closed",
            label=gettext_lazy("Closed"),
            accessor=lambda o: _("Closed") if o.closed_at else "—",
        ),
        Column("tools", label=gettext_lazy("Manage"), accessor=_tools_links),
    ]
    list_filter = ["case_type", "open_registration", "starts_at"]
    search_fields = ["title", "court"]
    ordering = ["-starts_at"]

    def get_queryset(self, request):
        return CourtObservation.objects.annotate(
            seats_taken=Count("attendance", filter=Q(attendance__status__in=SEAT_STATUSES)),
            has_case=Exists(CasePage.objects.filter(observation_id=OuterRef("pk"))),
        )


class ObservationToolsViewSet(ViewSet):
    """Per-observation screens linked from the observation listing (no menu item)."""

    name = "observation_tools"
    url_prefix = "observations"

    def get_urlpatterns(self):
        return [
            path("<id:pk>/attendance/", sheet, name="sheet"),
            path("<id:pk>/close/", close, name="close"),
            path("<id:pk>/checkin/", checkin_screen, name="checkin_screen"),
            path("<id:pk>/checkin/token/", checkin_token, name="checkin_token"),
            path("<id:pk>/attendees/", attendees, name="attendees"),
            path("<id:pk>/attendees.xlsx", attendees_xlsx, name="attendees_xlsx"),
            path("reflections/<id:pk>/file/", reflection_file, name="reflection_file"),
            path("<id:pk>/case/", turn_into_case, name="case"),
        ]
