"""Serving publicity screens cheaply: token look-up, the playlist document with its
ETag, and the last-seen and "what I played" bookkeeping.

A poll costs one small query (the screen by token, with the schedule stamp) and, at
most once per XUEFA_SCREEN_SEEN_INTERVAL, one UPDATE. The playlist document is built
only when the schedule stamp changes or a schedule window opens or closes; because
the stamp is read from the database on every poll, every app process sees an edit or
a token rotation at once."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from wagtail.images import get_image_model

from . import schedule
from .models import Playlist, PlaylistEntry, PublicityItem, ScheduleStamp, Screen, ScreenPlaylist

POSTER_RENDITION = "max-1920x1920"
MAX_REPORTED_PLAYS = 1000


@dataclass
class ScreenState:
    """What a poll needs to know about its screen, from one query."""

    pk: int
    last_seen_at: datetime | None
    last_item_id: int | None
    stamp: int


@dataclass
class PlaylistDocument:
    etag: str
    body: bytes
    item_ids: frozenset
    valid_until: float


_TOKEN_SQL = None


def _token_sql():
    """The look-up as SQL compiled once: building the ORM query on every poll would
    cost more CPU than running it."""
    global _TOKEN_SQL
    if _TOKEN_SQL is None:
        query = (
            Screen.objects.filter(token="")
            .values_list("pk", "last_seen_at", "last_item_id")
            .annotate(stamp=Subquery(ScheduleStamp.objects.filter(pk=1).values("value")[:1]))
        )
        sql, params = query.query.sql_with_params()
        # The only string parameter is the token; keep the others (the stamp's pk).
        _TOKEN_SQL = (sql, [None if p == "" else p for p in params])
    return _TOKEN_SQL


def _as_datetime(value):
    """A raw cursor's timestamp as an aware datetime (SQLite stores naive UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return timezone.make_aware(value, UTC) if timezone.is_naive(value) else value


def screen_for_token(token):
    """The screen that holds this token, or None. Rotated tokens match nothing."""
    if not token or len(token) > 64:
        return None
    sql, params = _token_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [token if p is None else p for p in params])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, last_seen_at, last_item_id, stamp = row
    return ScreenState(pk, _as_datetime(last_seen_at), last_item_id, stamp or 0)


def _entries_queryset():
    images = get_image_model().objects.prefetch_renditions(POSTER_RENDITION)
    items = PublicityItem.objects.select_related("video").prefetch_related(
        Prefetch("image", queryset=images)
    )
    return PlaylistEntry.objects.prefetch_related(Prefetch("item", queryset=items)).order_by(
        "sort_order", "pk"
    )


def load_schedule(screen_pk):
    """The screen, its assignments and the default playlist, with entries and items
    loaded in a fixed number of queries."""
    screen = Screen.objects.get(pk=screen_pk)
    playlists = Playlist.objects.prefetch_related(
        Prefetch("entries", queryset=_entries_queryset(), to_attr="entries_in_order")
    )
    assignments = list(
        ScreenPlaylist.objects.filter(screen_id=screen_pk).prefetch_related(
            Prefetch("playlist", queryset=playlists)
        )
    )
    default = playlists.filter(is_default=True).first()
    return screen, assignments, default


def _item_data(entry):
    item = entry.item
    data = {
        "id": item.pk,
        "entry": entry.pk,
        "kind": item.kind,
        "title": item.title,
        "duration": schedule.entry_seconds(entry),
    }
    if item.kind == PublicityItem.Kind.POSTER and item.image:
        rendition = item.image.get_rendition(POSTER_RENDITION)
        data.update(image=rendition.url, width=rendition.width, height=rendition.height)
    elif item.kind == PublicityItem.Kind.VIDEO and item.video:
        data["video"] = item.video.url
    elif item.kind == PublicityItem.Kind.TEXT_CARD:
        data.update(headline=item.headline, points=item.point_list)
    elif item.kind == PublicityItem.Kind.QUOTATION:
        data.update(headline=item.headline, quote=item.quote, citation=item.citation)
    return data


def build_document(screen_pk, now=None):
    """The playlist document for a screen at `now`, and when it stops being right."""
    now = now or timezone.now()
    screen, assignments, default = load_schedule(screen_pk)
    moment = timezone.localtime(now)
    resolution = schedule.resolve(assignments, default, moment)
    items = [_item_data(entry) for entry in resolution.entries]
    document = {
        "screen": {"name": screen.name, "orientation": screen.orientation},
        "playlist": resolution.playlist.name if resolution.playlist else None,
        "poll_seconds": settings.XUEFA_SCREEN_POLL_SECONDS,
        "items": items,
        "media": sorted({i[k] for i in items for k in ("image", "video") if k in i}),
    }
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    return PlaylistDocument(
        etag=etag,
        body=body,
        item_ids=frozenset(i["id"] for i in items),
        valid_until=resolution.valid_until.timestamp(),
    )


# Built documents by screen: {screen pk: (schedule stamp, document)}. A per-process
# dict rather than the shared cache: a poll then costs no cache round trip or
# unpickling, and correctness never depends on it because the stamp comes from the
# database on every poll.
_documents = {}
MAX_CACHED_DOCUMENTS = 20_000


def playlist_document(state, now=None):
    """The playlist document for this screen, rebuilt when the schedule stamp has
    moved or a schedule window has opened or closed since it was built."""
    now = now or timezone.now()
    cached = _documents.get(state.pk)
    if cached is not None:
        stamp, document = cached
        if stamp == state.stamp and document.valid_until > now.timestamp():
            return document
    document = build_document(state.pk, now)
    if len(_documents) >= MAX_CACHED_DOCUMENTS:
        _documents.clear()
    _documents[state.pk] = (state.stamp, document)
    return document


def forget_documents():
    _documents.clear()


def record_poll(state, now=None, playing=None):
    """Note that the screen is alive and what it is showing. Writes at most once per
    XUEFA_SCREEN_SEEN_INTERVAL (and on a screen's first report), so that a thousand
    screens polling every thirty seconds cost a few small UPDATEs a second."""
    now = now or timezone.now()
    interval = timedelta(seconds=settings.XUEFA_SCREEN_SEEN_INTERVAL)
    first_report = playing is not None and state.last_item_id is None
    if not first_report and state.last_seen_at and now - state.last_seen_at < interval:
        return False
    fields = {"last_seen_at": now}
    if playing is not None:
        fields.update(last_item_id=playing, last_item_at=now)
    Screen.objects.filter(pk=state.pk).update(**fields)
    return True


def parse_plays(payload, now=None):
    """Validate a "what I played" report: {"plays": [{"item": id, "at": iso}, ...]}.
    Returns [(item_id, aware datetime)] or raises ValueError. Times in the future are
    clamped to now so a screen with a wrong clock cannot claim tomorrow."""
    now = now or timezone.now()
    if not isinstance(payload, dict) or not isinstance(payload.get("plays"), list):
        raise ValueError("plays must be a list")
    plays = payload["plays"]
    if len(plays) > MAX_REPORTED_PLAYS:
        raise ValueError("too many plays")
    parsed = []
    for play in plays:
        if not isinstance(play, dict):
            raise ValueError("each play must be an object")
        item, at = play.get("item"), play.get("at")
        if not isinstance(item, int) or isinstance(item, bool) or not isinstance(at, str):
            raise ValueError("each play needs an item id and a time")
        moment = parse_datetime(at)
        if moment is None:
            raise ValueError("bad time")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        parsed.append((item, min(moment, now)))
    return parsed


def record_plays(state, plays, now=None):
    """Apply a report of plays made while the screen could not reach the server: the
    latest play of an item that still exists becomes the screen's reported item."""
    now = now or timezone.now()
    existing = set(
        PublicityItem.objects.filter(pk__in={item for item, _ in plays}).values_list(
            "pk", flat=True
        )
    )
    known = [(at, item) for item, at in plays if item in existing]
    screens = Screen.objects.filter(pk=state.pk)
    screens.update(last_seen_at=now)
    if known:
        at, item = max(known)
        screens.filter(Q(last_item_at__isnull=True) | Q(last_item_at__lt=at)).update(
            last_item_id=item, last_item_at=at
        )
    return len(known)
