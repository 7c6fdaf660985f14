"""The web app manifest (/manifest.webmanifest): officials can install Xuefa on a
phone's home screen. Public, as browsers fetch it without the session's cookies."""

import json

from django.http import HttpResponse
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

THEME_COLOUR = "#b3261e"  # --color-primary in static/css/xuefa.css
BACKGROUND_COLOUR = "#f6f4f1"  # --color-page


def manifest_data():
    """The manifest's members: names, colours, start page and icons."""
    icon = {"type": "image/png", "purpose": "any"}
    return {
        "name": "学法 Xuefa",
        "short_name": "学法",
        "description": "学法用法：学习、考试与庭审观摩 · Rule-of-law study and examinations",
        "lang": "zh-CN",
        "dir": "ltr",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {**icon, "src": static("icons/icon-192.png"), "sizes": "192x192"},
            {**icon, "src": static("icons/icon-512.png"), "sizes": "512x512"},
            # Drawn full-bleed with the mark inside the central safe zone.
            {
                **icon,
                "src": static("icons/icon-512.png"),
                "sizes": "512x512",
                "purpose": "maskable",
            },
            {"src": static("icons/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }


@require_safe
@cache_control(public=True, max_age=86400)
def webmanifest(request):
    return HttpResponse(
        json.dumps(manifest_data(), ensure_ascii=False),
        content_type="application/manifest+json; charset=utf-8",
    )
