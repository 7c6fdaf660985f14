import json

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseNotFound, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST, require_safe

from learning import fast, media

from . import plays, screens
from .home import dashboard, prefetch
from .models import HomePage, Screen

NOTICE_KEY = "xuefa:fast:home-notice"


@login_required
def home(request):
    """The official's dashboard (content/home.py) with the live home page's notice,
    kept in the "pages" family (learning.fast)."""
    prefetch(request, *fast.keys("pages", NOTICE_KEY))

    def notice():
        home_page = HomePage.objects.live().only("notice").first()
        return home_page.notice if home_page else ""

    return dashboard(request, notice=fast.remember("pages", NOTICE_KEY, notice))


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


# --- Publicity screen player ------------------------------------------------------------------
# A screen is not a user: the secret token in the URL is its credential. Unknown and
# rotated tokens get the same bare 404, so the answer reveals nothing.


def _screen_not_found():
    return HttpResponseNotFound(b"Not Found", content_type="text/plain")


def _private(response):
    response["Cache-Control"] = "no-cache, private"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# Players send their play log this often (and at once after being offline).
PLAYS_REPORT_SECONDS = 300


@require_GET
def screen_player(request, token):
    """The full-screen player page; it fetches everything else itself."""
    state = screens.screen_for_token(token)
    if state is None:
        return _screen_not_found()
    screens.record_poll(state)
    screen = Screen.objects.only("name", "orientation").get(pk=state.pk)
    config = {
        "playlistUrl": reverse("content:screen_playlist", kwargs={"token": token}),
        "playsUrl": reverse("content:screen_plays", kwargs={"token": token}),
        "workerUrl": reverse("content:screen_worker", kwargs={"token": token}),
        "storageKey": f"xuefa-screen-{state.pk}",
        "playsEverySeconds": PLAYS_REPORT_SECONDS,
        "labels": {"lecture": _("Rule-of-law lecture"), "scan": _("Scan to study:")},
    }
    return _private(
        render(request, "content/screen_player.html", {"screen": screen, "config": config})
    )


@require_GET
def screen_playlist(request, token):
    """The playlist document. Players poll it with If-None-Match; an unchanged playlist
    costs no query, only a 304. `?playing=<item id>` reports the item on show. The
    poll reaches this view straight from content.middleware.ScreenPollMiddleware."""
    state = screens.screen_for_token(token)
    if state is None:
        return _screen_not_found()
    document = screens.playlist_document(state)
    playing = request.GET.get("playing", "")
    playing = int(playing) if playing.isdigit() and int(playing) in document.item_ids else None
    screens.record_poll(state, playing=playing)
    if document.etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(document.body, content_type="application/json")
        # Set here: the poll skips CommonMiddleware, which would otherwise set it.
        response["Content-Length"] = str(len(document.body))
    response["ETag"] = document.etag
    return _private(response)


MAX_REPORT_BYTES = 256 * 1024


# The report is authenticated by the secret token in its URL, not by cookies: CSRF
# protection guards cookie-authenticated requests, and a forged cross-site request
# could only do what anyone holding the token can already do. The player sends it
# without cookies (credentials: "omit"), so there is no CSRF cookie to pair a token with.
@csrf_exempt
@require_POST
def screen_plays(request, token):
    """The player's play log, sent in batches; each play carries an id the player
    made, so a batch sent again is counted once. Plays of items the screen was not
    given are refused one by one and durations capped (content/plays.py); beyond the
    screen's budget of plays the answer is 429, and the player sends the rest later.
    The player drops a batch on 2xx, 400 and 413, and keeps it on anything else."""
    state = screens.screen_for_token(token)
    if state is None:
        return _screen_not_found()
    try:
        body = request.body
        if len(body) > MAX_REPORT_BYTES:
            return JsonResponse({"error": _("The report is too large.")}, status=413)
        reported = plays.parse_plays(json.loads(body or b"null"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return JsonResponse({"error": _("The report could not be read.")}, status=400)
    report = plays.record_plays(state, reported)
    answer = {
        "accepted": report.accepted,
        "new": report.new,
        "refused": report.refused,
        "capped": report.capped,
    }
    if not report.retry_after:
        return _private(JsonResponse(answer))
    answer["error"] = _("This screen has reported more plays than it can have played.")
    answer["retry_after"] = report.retry_after
    response = JsonResponse(answer, status=429)
    response["Retry-After"] = str(report.retry_after)
    return _private(response)


@require_safe
def screen_media(request, token, name):
    """A poster or video of the screen's current playlist, for the screen's token
    alone (uploads have no public address). Any other file, however it is named, is
    the same bare 404 as an unknown token."""
    state = screens.screen_for_token(token)
    if state is None:
        return _screen_not_found()
    kind = screens.playlist_document(state).media.get(name)
    if kind is None:
        return _screen_not_found()
    storage = media.rendition_storage() if kind == "image" else media.document_storage()
    response = media.file_response(request, storage, name)
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def screen_worker(request, token):
    """The service worker, served from below the player URL so that its scope covers
    the player page and its playlist: it keeps the screen playing offline."""
    state = screens.screen_for_token(token)
    if state is None:
        return _screen_not_found()
    player_url = reverse("content:screen_player", kwargs={"token": token})
    context = {
        "assets_json": json.dumps(
            [static("content/screen_player.css"), static("content/screen_player.js")]
        ),
        "player_url_json": json.dumps(player_url),
        "playlist_url_json": json.dumps(
            reverse("content:screen_playlist", kwargs={"token": token})
        ),
        # The address of the screen's file "-", less the name: where its files live.
        "media_prefix_json": json.dumps(screens.screen_media_url(token, "-")[:-1]),
    }
    response = render(request, "content/screen_worker.js", context, content_type="text/javascript")
    response["Service-Worker-Allowed"] = player_url
    return _private(response)
