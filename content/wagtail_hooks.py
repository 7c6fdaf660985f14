from wagtail import hooks
from wagtail.snippets.models import register_snippet

from learning import roles

from . import demo
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
        },
    }


@hooks.register("register_demo_data")
def screens_demo_data():
    return [
        (70, "Publicity items created", demo.load_publicity_items),
        (80, "Playlists and screens created", demo.load_screens),
    ]
