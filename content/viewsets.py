"""Wagtail admin for publicity screens: items, playlists and screens as snippets,
grouped under one menu, plus the screen's player-URL page with token rotation."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
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

from . import screens
from .models import Playlist, PublicityItem, Screen


class PublicityItemViewSet(SnippetViewSet):
    model = PublicityItem
    icon = "doc-full"
    menu_label = _("Publicity items")
    list_display = ["title", "kind", "valid_from", "valid_to", "live", "updated_at"]
    list_filter = ["kind", "live"]
    search_fields = ["title", "headline"]
    ordering = ["title"]


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
        return buttons


class ScreenTokenView(WagtailAdminTemplateMixin, TemplateView):
    """Shows the player address to copy onto the screen; POST issues a new token,
    after which the old address answers 404."""

    template_name = "content/admin/screen_token.html"
    page_title = _("Player address")
    header_icon = "key"
    viewset = None

    def dispatch(self, request, pk):
        if not self.viewset.permission_policy.user_has_permission(request.user, "change"):
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


class ScreenViewSet(SnippetViewSet):
    model = Screen
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

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("token/<int:pk>/", self.token_view, name="token"),
        ]


class ScreensViewSetGroup(SnippetViewSetGroup):
    items = (PublicityItemViewSet, PlaylistViewSet, ScreenViewSet)
    menu_icon = "desktop"
    menu_label = _("Publicity screens")
    menu_name = "publicity-screens"
