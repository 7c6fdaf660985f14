from django.db.models.signals import m2m_changed, post_delete, post_save

from wagtail import hooks
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.snippets.models import register_snippet

from learning import roles
from learning.briefings.models import BriefingSheetPage
from learning.fast import Invalidation
from learning.models import Department, LecturePage, Speaker, StudyPlan

from . import briefing_card, data_screen, demo, page_cards, screens, urgent, yearend
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
    models += (BriefingSheetPage,)  # briefing cards (明白纸)
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

# The screens' figures in the drafted year-end report (exams/reports/yearend_docx.py),
# and a month of demo plays behind them.
hooks.register("register_year_end_figures", yearend.year_end_figures)


@hooks.register("register_demo_data")
def screen_plays_demo_data():
    return [(88, "Screen plays logged", yearend.load_demo_plays)]


# "Show on screens" for lecture pages, case pages included (content/page_cards.py).
hooks.register("register_admin_urls", page_cards.admin_urls)
hooks.register("register_page_header_buttons", page_cards.header_buttons)
hooks.register("register_page_listing_more_buttons", page_cards.listing_buttons)


# The 明白纸 card in the default demo playlist (content/briefing_card.py).
@hooks.register("register_demo_data")
def briefing_card_demo_data():
    return [(85, "Briefing sheet card on the screens", briefing_card.load_demo_card)]
