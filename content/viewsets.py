"""Wagtail admin for publicity screens: items, playlists and screens as snippets,
grouped under one menu with the urgent notices (admin_views.py), plus the screen's
player-URL page with token rotation."""

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button
from wagtail.snippets.views.snippets import EditView, IndexView, SnippetViewSet, SnippetViewSetGroup

from . import screens, yearend
from .admin_views import ScreenNoticeViewSet
from .models import Playlist, PlayLog, PublicityItem, Screen


class PlayCountsForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    MAX_DAYS = 366

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The end date must not be before the start date."))
            if (end - start).days >= self.MAX_DAYS:
                raise forms.ValidationError(_("Choose at most a year."))
        return data


class PlayCountsView(WagtailAdminTemplateMixin, TemplateView):
    """How often each publicity item was played, on all screens, between two dates
    (the last 30 days unless chosen), from the play log."""

    template_name = "content/admin/play_counts.html"
    page_title = _("Play counts")
    header_icon = "list-ol"
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if not self.viewset.permission_policy.user_has_any_permission(
            request.user, ["change", "view"]
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.viewset.get_url_name("list")), "label": _("Publicity items")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        data = self.request.GET or {
            "start": (today - timedelta(days=29)).isoformat(),
            "end": today.isoformat(),
        }
        form = PlayCountsForm(data)
        rows = []
        totals = {}
        if form.is_valid():
            plays = PlayLog.objects.between(form.cleaned_data["start"], form.cleaned_data["end"])
            rows = list(plays.counts_by_item())
            # Hours and screens as the year-end report quotes them (content.yearend).
            totals = yearend.play_totals(plays)
        return super().get_context_data(
            form=form,
            rows=rows,
            total=sum(row["plays"] for row in rows),
            hours=totals.get("hours"),
            screens=totals.get("screens"),
            **kwargs,
        )


class PublicityItemIndexView(IndexView):
    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons
        buttons.append(
            Button(
                _("Play counts"),
                url=reverse("wagtailsnippets_content_publicityitem:plays"),
                icon_name="list-ol",
                priority=20,
            )
        )
        return buttons


class PublicityItemViewSet(SnippetViewSet):
    model = PublicityItem
    icon = "doc-full"
    menu_label = _("Publicity items")
    index_view_class = PublicityItemIndexView
    list_display = ["title", "kind", "valid_from", "valid_to", "live", "updated_at"]
    list_filter = ["kind", "live"]
    search_fields = ["title", "headline"]
    ordering = ["title"]

    @property
    def plays_view(self):
        return PlayCountsView.as_view(viewset=self)

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("plays/", self.plays_view, name="plays")]


class PlaylistViewSet(SnippetViewSet):
    model = Playlist
    icon = "list-ol"
    menu_label = _("Playlists")
    list_display = ["name", "is_default", "updated_at"]
    search_fields = ["name"]


class OnlineColumn(StatusTagColumn):
    """Online or offline, by the screen's last poll."""

    def get_value(self, instance):
        return gettext("Offline") if instance.is_offline() else gettext("Online")

    def get_primary(self, instance):
        return not instance.is_offline()


class LastItemColumn(Column):
    def get_value(self, instance):
        return instance.last_item.title if instance.last_item_id else "—"


class ScreenIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("last_item")

    def get_table(self, object_list):
        """Last-seen times reach the database in batches; the cache has the latest,
        so the online marker is read from there first."""
        object_list = list(object_list)
        screens.apply_cached_status(object_list)
        return super().get_table(object_list)

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.permission_policy.user_has_permission_for_instance(
            self.request.user, "change", instance
        ):
            buttons.append(
                MenuItem(
                    _("Player address and token"),
                    url=reverse("wagtailsnippets_content_screen:token", args=[instance.pk]),
                    icon_name="key",
                    priority=15,
                )
            )
        buttons.append(
            MenuItem(
                _("Recent plays"),
                url=reverse("wagtailsnippets_content_screen:plays", args=[instance.pk]),
                icon_name="history",
                priority=16,
            )
        )
        return buttons


class ScreenEditView(EditView):
    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons
        buttons.append(
            Button(
                _("Player address and token"),
                url=reverse("wagtailsnippets_content_screen:token", args=[self.object.pk]),
                icon_name="key",
                priority=15,
            )
        )
        buttons.append(
            Button(
                _("Recent plays"),
                url=reverse("wagtailsnippets_content_screen:plays", args=[self.object.pk]),
                icon_name="history",
                priority=16,
            )
        )
        return buttons


class ScreenPageView(WagtailAdminTemplateMixin, TemplateView):
    """An admin page about one screen, under Screens › <screen> in the breadcrumbs,
    for users holding any of `permissions` on screens."""

    viewset = None
    permissions = ("change",)

    def dispatch(self, request, pk):
        policy = self.viewset.permission_policy
        if not policy.user_has_any_permission(request.user, list(self.permissions)):
            raise PermissionDenied
        self.object = get_object_or_404(Screen, pk=pk)
        return super().dispatch(request, pk)

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.viewset.get_url_name("list")), "label": _("Screens")},
            {
                "url": reverse(self.viewset.get_url_name("edit"), args=[self.object.pk]),
                "label": str(self.object),
            },
            {"url": "", "label": self.page_title},
        ]


class ScreenTokenView(ScreenPageView):
    """Shows the player address to copy onto the screen; POST issues a new token,
    after which the old address answers 404."""

    template_name = "content/admin/screen_token.html"
    page_title = _("Player address")
    header_icon = "key"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            screen=self.object,
            player_url=self.request.build_absolute_uri(self.object.get_player_url()),
            edit_url=reverse(self.viewset.get_url_name("edit"), args=[self.object.pk]),
            **kwargs,
        )

    def post(self, request, pk):
        self.object.rotate_token()
        messages.success(
            request,
            gettext("A new token was issued. The old player address no longer works."),
        )
        return redirect(self.viewset.get_url_name("token"), self.object.pk)


class ScreenPlaysView(ScreenPageView):
    """The last plays a screen reported, newest first."""

    template_name = "content/admin/screen_plays.html"
    page_title = _("Recent plays")
    header_icon = "history"
    permissions = ("change", "view")
    LIMIT = 100

    def get_context_data(self, **kwargs):
        plays = self.object.plays.select_related("item").order_by("-started_at")[: self.LIMIT]
        return super().get_context_data(screen=self.object, plays=plays, limit=self.LIMIT, **kwargs)


class ScreenViewSet(SnippetViewSet):
    model = Screen
    pk_path_converter = "id"  # bounded ids (learning/converters.py)
    icon = "desktop"
    menu_label = _("Screens")
    index_view_class = ScreenIndexView
    edit_view_class = ScreenEditView
    list_display = [
        "name",
        "location",
        "orientation",
        OnlineColumn("status", label=_("Status")),
        DateColumn("last_seen_at", label=_("Last seen")),
        LastItemColumn("last_item", label=_("Last reported item")),
    ]
    list_filter = ["orientation"]
    search_fields = ["name", "location"]

    @property
    def token_view(self):
        return ScreenTokenView.as_view(viewset=self)

    @property
    def plays_view(self):
        return ScreenPlaysView.as_view(viewset=self)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("token/<id:pk>/", self.token_view, name="token"),
            path("plays/<id:pk>/", self.plays_view, name="plays"),
        ]


class ScreensViewSetGroup(SnippetViewSetGroup):
    items = (PublicityItemViewSet, PlaylistViewSet, ScreenViewSet, ScreenNoticeViewSet)
    menu_icon = "desktop"
    menu_label = _("Publicity screens")
    menu_name = "publicity-screens"
