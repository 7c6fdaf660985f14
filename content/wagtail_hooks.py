from django.db.models.signals import m2m_changed, post_delete, post_save

from wagtail import hooks
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.snippets.models import register_snippet

from learning import roles
from learning.fast import Invalidation
from learning.models import Department, LecturePage, Speaker, StudyPlan

from . import data_screen, demo, screens, urgent
from .models import (
    Playlist,
    PlaylistEntry,
    PublicityItem,
    Screen,
    ScreenNotice,
    ScreenPlaylist,
)
from .viewsets import ScreensViewSetGroup

register_snippet(ScreensViewSetGroup)


@hooks.register("register_role_permissions")
def screens_role_permissions():
    """Organizers run the publicity screens: items, playlists and screens, including
    the screens' tokens. (Publishing items is granted in content.signals, see there.)"""
    return {
        roles.ORGANIZER: {
            "wagtailadmin.access_admin",
            *(
                f"content.{action}_{model}"
                for model in ("publicityitem", "playlist", "screen")
                for action in ("add", "change", "delete", "view")
            ),
            # Urgent notices: started and ended early, never deleted (the audit trail).
            "content.add_screennotice",
            "content.change_screennotice",
            "content.view_screennotice",
        },
    }


@hooks.register("register_demo_data")
def screens_demo_data():
    return [
        (70, "Publicity items created", demo.load_publicity_items),
        (80, "Playlists and screens created", demo.load_screens),
    ]


@hooks.register("register_fast_path_invalidations")
def screens_fast_path_invalidations():
    """The "screens" family (content.screens, the schedule stamp): anything a screen
    shows or a token rotation. Lectures and speakers appear in lecture highlights;
    publishing and unpublishing a lecture saves the page, so post_save covers them."""
    models = (LecturePage, Speaker, PublicityItem, Playlist, PlaylistEntry, Screen)
    models += (ScreenPlaylist, get_image_model(), get_document_model(), ScreenNotice)
    return [
        *(
            Invalidation(screens.FAMILY, signal, model)
            for model in models
            for signal in (post_save, post_delete)
        ),
        Invalidation(screens.FAMILY, m2m_changed, ScreenNotice.screens.through),
    ]


@hooks.register("register_fast_path_invalidations")
def data_screen_fast_path_invalidations():
    """The data screen's figures (content.data_screen) refresh on their own schedule;
    departments and study plans change the panels' rows at once."""
    return [
        Invalidation(data_screen.FAMILY, signal, model)
        for model in (Department, StudyPlan)
        for signal in (post_save, post_delete)
    ]


# The data screen's own panel (this month's studying officials); exams adds its own.
hooks.register(data_screen.HOOK, data_screen.studying_panel)
hooks.register("register_log_actions", urgent.register_actions)
