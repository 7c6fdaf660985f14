"""Views for officials: the study heartbeat, their own study record, and the image
files of the lectures they may open."""

import datetime

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from wagtail.images import get_image_model

from . import credits, media
from .completion import completion_for, providers
from .lecture_requirements import unmet_condition, with_requirements
from .models import SessionAttendance, StudyRecord


@never_cache
@require_POST
def heartbeat(request, lecture_id):
    """Credit study time for the lecture page the official has open (see credits.py).
    Answers JSON; refusals carry a translated `error`."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Please sign in again.")}, status=401)
    # The live lecture, the official and their record in one query.
    lecture, official, record = credits.heartbeat_state(request.user, lecture_id)
    if lecture is None:
        return JsonResponse({"error": _("This lecture is not published.")}, status=404)
    try:
        beat = credits.credit_heartbeat(
            request.user,
            lecture,
            request.POST.get("event", "beat"),
            record=record,
            official=official,
        )
    except credits.StudyRefused as refusal:
        return JsonResponse({"error": str(refusal)}, status=403 if official is None else 400)
    record = beat.record
    return JsonResponse(
        {
            "credited_seconds": record.credited_seconds,
            "credit_seconds": lecture.credit_seconds,
            "added_seconds": beat.added_seconds,
            "completed": record.completed_at is not None,
            "interval": credits.heartbeat_seconds(),
        }
    )


@login_required
def record(request):
    """My study record (学法档案): this year's credit against the plan, the required
    items done and missing, my lectures, and history by year. Officials only ever
    see their own record; the view takes no official id."""
    official = credits.official_for(request.user)
    if official is None:
        raise PermissionDenied
    year = timezone.localdate().year
    requested = request.GET.get("year", "")
    if requested:
        if not requested.isdigit() or not 2000 <= int(requested) <= year:
            raise Http404
        year = int(requested)
    completion = completion_for(official, year)
    records = (
        StudyRecord.objects.filter(official=official)
        .select_related("lecture")
        .order_by("-last_heartbeat_at", "-pk")
    )
    start = datetime.date(year, 1, 1)
    end = datetime.date(year + 1, 1, 1)
    sessions = (
        SessionAttendance.objects.filter(
            official=official, session__date__gte=start, session__date__lt=end
        )
        .select_related("session", "session__lecturer")
        .order_by("-session__date")
    )
    history = study_history(official)
    # What the lectures ask besides credit time (a quiz), and where the official stands.
    year_records, lecture_requirements = with_requirements(
        records.active_in_year(year)[:200], official.pk
    )
    return render(
        request,
        "learning/record.html",
        {
            "official": official,
            "year": year,
            "completion": completion,
            "year_records": year_records,
            "lecture_requirements": lecture_requirements,
            "sessions": sessions[:200],
            "history": history,
        },
    )


def study_history(official):
    """Per year: lectures completed (a required quiz passed too, see
    lecture_requirements), credited seconds (lectures, collective study and what
    requirement providers grant, such as court observations), sessions attended."""
    years = {}
    completed = Q(completed_at__isnull=False)
    unmet = unmet_condition("lecture_id", "official_id")
    if unmet is not None:
        completed &= ~Q(unmet)
    lecture_rows = (
        StudyRecord.objects.filter(official=official, last_heartbeat_at__isnull=False)
        .annotate(year=ExtractYear("last_heartbeat_at"))
        .values("year")
        .annotate(seconds=Sum("credited_seconds"), completed=Count("pk", filter=completed))
    )
    for row in lecture_rows:
        years.setdefault(row["year"], {"year": row["year"], "seconds": 0, "completed": 0})
        years[row["year"]].update(seconds=row["seconds"] or 0, completed=row["completed"])
    session_rows = (
        SessionAttendance.objects.filter(official=official)
        .annotate(year=ExtractYear("session__date"))
        .values("year")
        .annotate(minutes=Sum("session__credit_minutes"), sessions=Count("pk"))
    )
    for row in session_rows:
        entry = years.setdefault(row["year"], {"year": row["year"], "seconds": 0, "completed": 0})
        entry["seconds"] += (row["minutes"] or 0) * 60
        entry["sessions"] = row["sessions"]
    # Credit other apps grant (court observations): one query per year shown.
    credit_providers = providers()
    for entry in years.values():
        for provider in credit_providers:
            granted = provider.credit_seconds([official.pk], entry["year"])
            entry["seconds"] += granted.get(official.pk, 0)
        entry["hours"] = round(entry["seconds"] / 3600, 1)
    return sorted(years.values(), key=lambda e: e["year"], reverse=True)


@require_safe
def media_file(request, name):
    """A file under MEDIA_URL: only image renditions are served here, to those who
    may see their image (learning/media.py). Documents go through /documents/; originals,
    reflections and exports are never served from MEDIA_URL (404)."""
    if not name.startswith(media.RENDITIONS_FOLDER):
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    image_id = media.image_id_of_rendition(name)
    if image_id is None:
        raise Http404
    if not media.may_see(request, get_image_model(), image_id):
        raise PermissionDenied
    return media.file_response(request, media.rendition_storage(), name)
