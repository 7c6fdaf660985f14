"""/styleguide/: every component and icon of the design system on one page, for the
people who build and check the site (back-office staff), not for officials."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .fast.back_office import can_open_back_office
from .templatetags.icons import ICONS

TOKENS = {
    "colours": [
        "primary",
        "primary-hover",
        "primary-strong",
        "primary-soft",
        "ink",
        "muted",
        "line",
        "page",
        "surface",
        "success",
        "success-soft",
        "warn",
        "warn-soft",
        "danger",
        "danger-soft",
        "info",
        "info-soft",
    ],
    "text": ["xs", "sm", "base", "lg", "xl", "2xl", "3xl"],
    "space": ["1", "2", "3", "4", "6", "8"],
}


@login_required
def styleguide(request):
    """Organizers, HR and superusers (who may open the back office) see it;
    officials are refused (403)."""
    if not can_open_back_office(request.user):
        raise PermissionDenied
    return render(
        request,
        "learning/styleguide.html",
        {"icons": sorted(ICONS), "tokens": TOKENS, "demo_progress": (0, 35, 100)},
    )
