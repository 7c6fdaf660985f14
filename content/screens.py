"""Serving publicity screens cheaply: token look-up, the playlist document with its
ETag, and the last-seen and "what I played" bookkeeping.

A warm poll touches no database: the schedule version (the stamp: the generation of
the "screens" family of the fast paths, learning.fast) is read from the shared cache
(at most once a second per process), the screen's token and its built
playlist document are remembered per app process under that version, and the
last-seen time is noted in memory and put into the cache every few seconds. Any edit
to what screens show (or a token rotation) moves the stamp, so every process rebuilds
within a second. Last-seen times and reported items reach the database in one batch
at most once per XUEFA_SCREEN_SEEN_INTERVAL (flush_status); the admin reads the
cache first. Plays the players report are checked and logged in content/plays.py.

The document also carries the urgent notice a screen shows (content/urgent.py; starting
or ending one early moves the stamp, and a document is valid only until the next
notice starts or ends), the playlist's ticker, and the data screen's figures
(content/data_screen.py; a document with a data screen is valid until they expire)."""

import base64
import hashlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wagtail.images import get_image_model

import qrcode
import qrcode.image.svg

from learning import fast

from . import data_screen, schedule, urgent
from .models import (
    Playlist,
    PlaylistEntry,
    PublicityItem,
    Screen,
    ScreenPlaylist,
)

logger = logging.getLogger(__name__)

POSTER_RENDITION = "max-1920x1920"
SEEN_KEY = "content:screens:seen:%d"
PLAYING_KEY = "content:screens:playing:%d"
FLUSH_LOCK_KEY = "content:screens:flush"
# Cached last-seen values outlive many flushes, so a missed flush loses nothing.
SEEN_TTL = 7 * 24 * 3600
FLUSH_BATCH = 500


def batched(iterable, size):
    """itertools.batched, which Python 3.11 lacks."""
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class ScreenState:
    """A screen a poll is for: its pk and the schedule stamp the poll started with
    (None: nothing is remembered for it, the cache being unreachable or the fast
    paths off)."""

    pk: int
    stamp: str | None


@dataclass
class PlaylistDocument:
    etag: str
    body: bytes
    item_ids: frozenset
    valid_until: float
    # {storage name: "image" or "video"}: the files this screen may fetch with its token.
    media: dict


FAMILY = "screens"
# Each process reads the stamp from the cache at most this often: an edit or a token
# rotation reaches every process within a second (the editing process at once).
STAMP_MEMO_SECONDS = 1.0


def current_stamp():
    """The schedule stamp; None with the fast paths off or the cache unreachable."""
    if not fast.enabled():
        return None
    return fast.generation(FAMILY, max_age=STAMP_MEMO_SECONDS)


def forget_stamp():
    """Read the stamp from the cache on the next poll."""
    fast.forget_recent(FAMILY)


# Per-process memory, valid only under the stamp it was filled with: {token: (stamp,
# pk)} and {screen pk: (stamp, document)}. A poll then costs no query and no
# unpickling; correctness never depends on it because the stamp is shared.
_tokens = {}
_documents = {}
MAX_CACHED_DOCUMENTS = 20_000
_next_flush_check = 0.0


def screen_for_token(token):
    """The screen that holds this token, or None. Rotated tokens match nothing: a
    rotation moves the stamp, which drops every remembered token."""
    if not token or len(token) > 64:
        return None
    stamp = current_stamp()
    remembered = _tokens.get(token)
    if stamp is not None and remembered is not None and remembered[0] == stamp:
        return ScreenState(remembered[1], stamp)
    pk = Screen.objects.filter(token=token).values_list("pk", flat=True).first()
    if pk is None or stamp is None:
        return None if pk is None else ScreenState(pk, None)
    if len(_tokens) >= MAX_CACHED_DOCUMENTS:
        _tokens.clear()
    _tokens[token] = (stamp, pk)
    return ScreenState(pk, stamp)


def _entries_queryset():
    images = get_image_model().objects.prefetch_renditions(POSTER_RENDITION)
    items = PublicityItem.objects.select_related("video", "lecture", "briefing").prefetch_related(
        Prefetch("image", queryset=images), "lecture__speakers"
    )
    return PlaylistEntry.objects.prefetch_related(Prefetch("item", queryset=items)).order_by(
        "sort_order", "pk"
    )


def _playlists_queryset():
    return Playlist.objects.prefetch_related(
        Prefetch("entries", queryset=_entries_queryset(), to_attr="entries_in_order")
    )


# Playlists (with their entries and items), item data and the urgent notices not yet
# over, shared by every screen this process builds a document for under one stamp:
# after an edit, a thousand screens load each playlist once rather than once each.
# Replaced, never cleared, when the stamp moves, so a build still running under the
# old stamp cannot fill the new one.
_shared = (None, {}, {}, {})


def _shared_for(stamp):
    global _shared
    if stamp is None:
        return (None, {}, {}, {})
    shared = _shared
    if shared[0] != stamp:
        shared = _shared = (stamp, {}, {}, {})
    return shared


def _notices(stamp, now):
    """The urgent notices not over at the first build under `stamp`: a notice that
    starts or ends early moves the stamp; one that ends on time is left out by time."""
    extra = _shared_for(stamp)[3]
    if "notices" not in extra:
        extra["notices"] = urgent.load_notices(now)
    return extra["notices"]


_DEFAULT = "default"


def load_schedule(screen_pk, stamp=None):
    """The screen, its assignments and the default playlist, with entries and items;
    playlists already loaded under `stamp` are reused."""
    _stamp, playlists, _items, _extra = _shared_for(stamp)
    screen = Screen.objects.only("name", "orientation", "token").get(pk=screen_pk)
    assignments = list(ScreenPlaylist.objects.filter(screen_id=screen_pk))
    wanted = {a.playlist_id for a in assignments} - playlists.keys()
    if wanted:
        playlists.update({p.pk: p for p in _playlists_queryset().filter(pk__in=wanted)})
    if _DEFAULT not in playlists:
        playlists[_DEFAULT] = _playlists_queryset().filter(is_default=True).first()
    for assignment in assignments:
        assignment.playlist = playlists[assignment.playlist_id]
    return screen, assignments, playlists[_DEFAULT]


def _item_data(entry):
    """What the player needs of an entry, shared by every screen that plays it:
    posters and videos are named by their storage names, which each screen's
    document turns into addresses under its own token (screen_media_url)."""
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
        data.update(image=rendition.file.name, width=rendition.width, height=rendition.height)
    elif item.kind == PublicityItem.Kind.VIDEO and item.video:
        data["video"] = item.video.file.name
    elif item.kind == PublicityItem.Kind.TEXT_CARD:
        data.update(headline=item.headline, points=item.point_list)
    elif item.kind == PublicityItem.Kind.QUOTATION:
        data.update(headline=item.headline, quote=item.quote, citation=item.citation)
    elif item.kind == PublicityItem.Kind.LECTURE and item.lecture:
        data.update(lecture_data(item.lecture))
    elif item.kind == PublicityItem.Kind.BRIEFING and item.briefing:
        data.update(briefing_data(item.briefing))
    return data


def _with_figures(data, figures):
    """A data screen's item data with the figures of the moment."""
    return {**data, "figures": figures["panels"], "updated": figures["updated"]}


SUMMARY_CHARACTERS = 160


def lecture_data(lecture):
    """What a lecture highlight shows: the lecture's title, speakers, date, a short
    summary, and its address as text and as a QR code to open on a phone."""
    url = lecture.get_full_url() or lecture.url or ""
    summary = " ".join(lecture.summary.split())
    if len(summary) > SUMMARY_CHARACTERS:
        summary = summary[: SUMMARY_CHARACTERS - 1] + "…"
    return {
        "headline": lecture.title,
        "speakers": [speaker.name for speaker in lecture.speakers.all()],
        "date": lecture.date.isoformat(),
        "occasion": lecture.occasion,
        "summary": summary,
        "url": url,
        "qr": qr_data_uri(url) if url else None,
    }


def briefing_data(sheet):
    """What a 明白纸 card shows: the sheet's title, its key points, and its address as
    text and as a QR code, to read and confirm it on a phone. The labels are in the
    site's language (the player's own labels are for the kinds it always knows)."""
    url = sheet.get_full_url() or sheet.url or ""
    with translation.override(settings.LANGUAGE_CODE):
        label, scan = _("Briefing sheet (明白纸)"), _("Scan to read and confirm:")
    return {
        "headline": sheet.title,
        "points": sheet.point_list,
        "label": label,
        "scan": scan,
        "url": url,
        "qr": qr_data_uri(url) if url else None,
    }


def qr_data_uri(text):
    """A QR code as an SVG data URI, which an <img> shows without running anything."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


MEDIA_KINDS = ("image", "video")


def screen_media_url(token, name):
    """Where a screen fetches a file of its playlist: under its own token, since a
    screen has no session and uploads have no public address."""
    return reverse("content:screen_media", kwargs={"token": token, "name": name})


def _with_media_urls(data, token):
    """A screen's copy of shared item data, its file names turned into its addresses."""
    if not any(kind in data for kind in MEDIA_KINDS):
        return data
    return {
        key: screen_media_url(token, value) if key in MEDIA_KINDS else value
        for key, value in data.items()
    }


def build_document(screen_pk, now=None, stamp=None):
    """The playlist document for a screen at `now`, and when it stops being right."""
    now = now or timezone.now()
    screen, assignments, default = load_schedule(screen_pk, stamp)
    moment = timezone.localtime(now)
    resolution = schedule.resolve(assignments, default, moment)
    valid_until = resolution.valid_until.timestamp()
    item_data = _shared_for(stamp)[2]
    items = []
    media = {}
    for entry in resolution.entries:
        if entry.pk not in item_data:
            item_data[entry.pk] = _item_data(entry)
        data = item_data[entry.pk]
        if data["kind"] == PublicityItem.Kind.DATA_SCREEN:
            figures = data_screen.figures(now.timestamp())
            data = _with_figures(data, figures)
            valid_until = min(valid_until, figures["expires"])
        media.update({data[kind]: kind for kind in MEDIA_KINDS if kind in data})
        items.append(_with_media_urls(data, screen.token))
    notice, notice_changes = urgent.for_screen(_notices(stamp, now), screen_pk, now)
    if notice_changes is not None:
        valid_until = min(valid_until, notice_changes.timestamp())
    document = {
        "screen": {"name": screen.name, "orientation": screen.orientation},
        "playlist": resolution.playlist.name if resolution.playlist else None,
        "poll_seconds": settings.XUEFA_SCREEN_POLL_SECONDS,
        "items": items,
        "media": sorted({i[k] for i in items for k in MEDIA_KINDS if k in i}),
        "ticker": resolution.playlist.ticker_lines if resolution.playlist else [],
        "notice": urgent.notice_data(notice) if notice else None,
    }
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    return PlaylistDocument(
        etag=etag,
        body=body,
        item_ids=frozenset(i["id"] for i in items),
        valid_until=valid_until,
        media=media,
    )


def playlist_document(state, now=None):
    """The playlist document for this screen, rebuilt when the schedule stamp has
    moved or a schedule window has opened or closed since it was built."""
    now_ts = now.timestamp() if now else time.time()
    cached = _documents.get(state.pk)
    if cached is not None and state.stamp is not None:
        stamp, document = cached
        if stamp == state.stamp and document.valid_until > now_ts:
            return document
    document = build_document(state.pk, now, state.stamp)
    if state.stamp is None:
        return document
    if len(_documents) >= MAX_CACHED_DOCUMENTS:
        _documents.clear()
    _documents[state.pk] = (state.stamp, document)
    return document


def forget_documents():
    """Drop what this process remembers (tests start from nothing)."""
    global _next_flush_check, _seen_written_at, _shared
    _shared = (None, {}, {}, {})
    _documents.clear()
    _tokens.clear()
    _seen.clear()
    _next_flush_check = _seen_written_at = 0.0
    forget_stamp()
    data_screen.forget()


# --- last seen and the item on show --------------------------------------------------------


# Polls noted by this process and not yet in the shared cache: {pk: (seen timestamp,
# (item, timestamp) or None)}, written with one set_many at most every
# SEEN_BUFFER_SECONDS, so a poll seldom costs a cache round trip.
SEEN_BUFFER_SECONDS = 5.0
_seen = {}
_seen_written_at = 0.0


def record_poll(state, now=None, playing=None):
    """Note that the screen is alive and what it is showing. It reaches the shared
    cache within SEEN_BUFFER_SECONDS and the database with the next batch."""
    now_ts = now.timestamp() if now else time.time()
    previous = _seen.get(state.pk)
    reported = (playing, now_ts) if playing is not None else previous and previous[1]
    _seen[state.pk] = (now_ts, reported)
    if time.monotonic() - _seen_written_at >= SEEN_BUFFER_SECONDS:
        write_seen()
    maybe_flush(now_ts)


def write_seen():
    """Put this process's noted polls into the shared cache, in one round trip."""
    global _seen_written_at
    _seen_written_at = time.monotonic()
    if not _seen:
        return
    values = {}
    for pk, (seen, reported) in _seen.items():
        values[SEEN_KEY % pk] = seen
        if reported:
            values[PLAYING_KEY % pk] = reported
    _seen.clear()
    cache.set_many(values, SEEN_TTL)


def maybe_flush(now_ts):
    """Start the batch write once per XUEFA_SCREEN_SEEN_INTERVAL across all
    processes: each process asks at most that often, and a shared lock lets one win."""
    global _next_flush_check
    if now_ts < _next_flush_check:
        return False
    interval = settings.XUEFA_SCREEN_SEEN_INTERVAL
    _next_flush_check = now_ts + interval
    if not cache.add(FLUSH_LOCK_KEY, now_ts, timeout=interval):
        return False
    # Here rather than at the top: the task module imports this one (the task
    # writes what the polls note here).
    from .tasks import screen_housekeeping_task

    try:
        screen_housekeeping_task.enqueue()
    except Exception:  # the poll is answered even if the batch could not be started
        logger.exception("Could not start the screen status flush")
    return True


def _cached_status(pks):
    """{pk: (seen timestamp or None, (item id, timestamp) or None)} from the cache."""
    status = {}
    for chunk in batched(pks, FLUSH_BATCH):
        keys = {SEEN_KEY % pk: pk for pk in chunk}
        keys.update({PLAYING_KEY % pk: pk for pk in chunk})
        values = cache.get_many(keys)
        for key, value in values.items():
            seen, playing = status.get(keys[key], (None, None))
            if key.startswith(SEEN_KEY.split("%")[0]):
                seen = value
            else:
                playing = value
            status[keys[key]] = (seen, playing)
    return status


def _as_aware(timestamp):
    return datetime.fromtimestamp(timestamp, UTC)


def apply_cached_status(screens):
    """Bring loaded screens' last-seen time and reported item up to date from the
    cache, so the admin's online marker is right between two flushes. Returns the
    screens whose values changed."""
    screens = list(screens)
    write_seen()
    status = _cached_status([s.pk for s in screens])
    changed = []
    item_ids = {playing[0] for _, playing in status.values() if playing}
    items = PublicityItem.objects.in_bulk(item_ids) if item_ids else {}
    for screen in screens:
        seen, playing = status.get(screen.pk, (None, None))
        dirty = False
        if seen is not None:
            seen = _as_aware(seen)
            if screen.last_seen_at is None or seen > screen.last_seen_at:
                screen.last_seen_at = seen
                dirty = True
        if playing is not None and playing[0] in items:
            at = _as_aware(playing[1])
            if screen.last_item_at is None or at > screen.last_item_at:
                screen.last_item = items[playing[0]]
                screen.last_item_at = at
                dirty = True
        if dirty:
            changed.append(screen)
    return changed


SEEN_RESOLUTION = 10


def flush_status():
    """Write the cached last-seen times and reported items to the database in one
    batch. Times are rounded down to SEEN_RESOLUTION seconds so that a thousand
    screens take a handful of UPDATEs (one per moment and item), and a value never
    moves backwards. Returns how many screens were updated."""
    write_seen()
    pks = list(Screen.objects.values_list("pk", flat=True))
    status = _cached_status(pks)
    seen_groups, playing_groups = defaultdict(list), defaultdict(list)
    for pk, (seen, playing) in status.items():
        if seen is not None:
            seen_groups[int(seen // SEEN_RESOLUTION) * SEEN_RESOLUTION].append(pk)
        if playing is not None:
            at = int(playing[1] // SEEN_RESOLUTION) * SEEN_RESOLUTION
            playing_groups[(playing[0], at)].append(pk)
    updated = 0
    for at, group in sorted(seen_groups.items()):
        moment = _as_aware(at)
        for chunk in batched(group, FLUSH_BATCH):
            updated += (
                Screen.objects.filter(pk__in=chunk)
                .filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=moment))
                .update(last_seen_at=moment)
            )
    existing = set(
        PublicityItem.objects.filter(pk__in={item for item, _ in playing_groups}).values_list(
            "pk", flat=True
        )
    )
    for (item, at), group in sorted(playing_groups.items(), key=lambda g: g[0][1]):
        if item not in existing:
            continue
        moment = _as_aware(at)
        for chunk in batched(group, FLUSH_BATCH):
            # The cache holds each screen's latest report, so within one rounded
            # moment it replaces what an earlier batch wrote.
            Screen.objects.filter(pk__in=chunk).filter(
                Q(last_item_at__isnull=True)
                | Q(last_item_at__lt=moment)
                | (Q(last_item_at=moment) & ~Q(last_item_id=item))
            ).update(last_item_id=item, last_item_at=moment)
    return updated
