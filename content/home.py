"""The official's home page: a greeting, the home page's notice and the panels each
app contributes (learning.dashboard), the panels kept per official between changes
(learning.fast.dashboard). The site root's URL (views.home) and the HomePage itself,
when Wagtail serves it, both answer with it."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from learning.dashboard import render_panels
from learning.fast import back_office, read_ahead
from learning.fast import dashboard as fast_dashboard
from learning.fast.back_office import can_open_back_office


def prefetch(request, *extra_keys):
    """Every cache key the dashboard reads, in one round trip."""
    user = request.user
    read_ahead.prefetch(
        [
            *extra_keys,
            *fast_dashboard.prefetch_keys(user.pk),
            *back_office.cache_keys(user),
        ]
    )


@login_required
def dashboard(request, notice=""):
    user = request.user
    return render(
        request,
        "content/home.html",
        {
            "panels": render_panels(request),
            "notice": notice,
            "can_use_admin": can_open_back_office(user),
        },
    )
