from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from learning.dashboard import panels_for

from .models import HomePage


@login_required
def home(request):
    """The official's dashboard: profile and the panels each app contributes."""
    user = request.user
    official = getattr(user, "official", None)
    home_page = HomePage.objects.live().only("notice").first()
    return render(
        request,
        "content/home.html",
        {
            "official": official,
            "panels": panels_for(request),
            "notice": home_page.notice if home_page else "",
            "can_use_admin": user.has_perm("wagtailadmin.access_admin"),
        },
    )


@never_cache
def healthz(request):
    """Liveness for load balancers: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
