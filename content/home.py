"""The official's home page: profile and the panels each app contributes, under the
home page's notice. The site root's URL (views.home) and the HomePage itself, when
Wagtail serves it, both answer with it."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from learning.dashboard import panels_for
from learning.fast.back_office import can_open_back_office


@login_required
def dashboard(request, notice=""):
    user = request.user
    return render(
        request,
        "content/home.html",
        {
            "official": getattr(user, "official", None),
            "panels": panels_for(request),
            "notice": notice,
            "can_use_admin": can_open_back_office(user),
        },
    )
