"""Play reports: what a screen may say it played.

A screen's token lets it report plays, and the play log feeds the organizers' play
counts, so a report is held to what the screen could have played:

- **Its own items.** A play is accepted only for an item the screen's playlists hold
  (any playlist assigned to it, whatever its time window, and the default playlist),
  or held until recently: each report records the items held then (Screen.held_items),
  and an item that has left is still accepted for XUEFA_SCREEN_PLAY_GRACE_HOURS after
  a report first finds it gone, for plays that started before then (plus one poll and
  the item's slot, the time a player takes to switch). The player keeps playing its
  last playlist while offline and reports those plays when it is back.
- **Its slot.** A play's duration is capped at the longest slot the item has on the
  screen plus XUEFA_SCREEN_PLAY_MARGIN_SECONDS; a video without a set duration plays
  at most XUEFA_SCREEN_VIDEO_MAX_SECONDS.
- **Physically possible plays.** A screen earns XUEFA_SCREEN_PLAYS_PER_MINUTE plays a
  minute and may bank up to BUDGET_PLAYS (the backlog a player keeps while offline);
  a report costs its new plays, and at least one, so resending old plays is limited
  too. Beyond that the answer is 429 and the player sends the rest again later.
"""

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import schedule
from .models import PlaylistEntry, PlayLog, PublicityItem, Screen
from .screens import FLUSH_BATCH, batched, record_poll

MAX_REPORTED_PLAYS = 1000
# The plays a screen may bank: the backlog a player keeps while offline (its MAX_PLAYS).
BUDGET_PLAYS = MAX_REPORTED_PLAYS
MAX_ITEM_ID = 2**62
MAX_PLAY_SECONDS = 24 * 3600
BUDGET_KEY = "content:screens:play-budget:%d"
NOT_IN_PLAYLIST = "not_in_playlist"
TOO_OLD = "too_old"


@dataclass(frozen=True)
class Play:
    """One play a screen reports: a client-made id (so a resent batch counts once),
    the item, when it started and for how many seconds it was scheduled."""

    play_id: str
    item: int
    at: datetime
    duration: int | None


@dataclass
class Report:
    """What became of a report: plays accepted (new or logged before), new plays
    stored, refused plays {play id: reason}, plays whose duration was capped, and,
    when the screen's budget ran out, the seconds to wait before sending the rest."""

    accepted: int = 0
    new: int = 0
    refused: dict = field(default_factory=dict)
    capped: list = field(default_factory=list)
    retry_after: int = 0


def parse_plays(payload, now=None):
    """Validate a play report: {"plays": [{"id": str, "item": id, "at": iso,
    "duration": seconds}, ...]}; "id" and "duration" may be left out (old players):
    the id is then made from the item and time, which a resend repeats. Returns a
    list of Play or raises ValueError. Times in the future are clamped to now so a
    screen with a wrong clock cannot claim tomorrow."""
    now = now or timezone.now()
    if not isinstance(payload, dict) or not isinstance(payload.get("plays"), list):
        raise ValueError("plays must be a list")
    plays = payload["plays"]
    if len(plays) > MAX_REPORTED_PLAYS:
        raise ValueError("too many plays")
    return [_parse_play(play, now) for play in plays]


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_play(play, now):
    if not isinstance(play, dict):
        raise ValueError("each play must be an object")
    item, at = play.get("item"), play.get("at")
    if not _is_int(item) or not isinstance(at, str):
        raise ValueError("each play needs an item id and a time")
    if not 0 < item < MAX_ITEM_ID:
        raise ValueError("bad item id")
    moment = parse_datetime(at)
    if moment is None:
        raise ValueError("bad time")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    moment = min(moment, now)
    duration = play.get("duration")
    if duration is not None and not (_is_int(duration) and 0 <= duration <= MAX_PLAY_SECONDS):
        raise ValueError("bad duration")
    play_id = play.get("id")
    if play_id is None:
        play_id = f"{item}@{moment.isoformat()}"
    if not isinstance(play_id, str) or not 0 < len(play_id) <= PlayLog.MAX_ID_LENGTH:
        raise ValueError("bad play id")
    return Play(play_id, item, moment, duration)


# --- which items a screen may report ---------------------------------------------------------


def held_items(screen_pk):
    """{item id: longest slot in seconds} for the items the screen's playlists hold
    now: every playlist assigned to it and the default playlist, whatever their time
    windows, validity dates or publication, since a report comes minutes after the
    plays, when a window may have closed."""
    rows = (
        PlaylistEntry.objects.filter(
            Q(playlist__is_default=True) | Q(playlist__screen_assignments__screen_id=screen_pk)
        )
        .values_list("item_id", "duration", "item__duration", "item__kind")
        .distinct()
    )
    held = {}
    for item, entry_duration, item_duration, kind in rows:
        seconds = schedule.slot_seconds(entry_duration, item_duration, kind)
        seconds = seconds or settings.XUEFA_SCREEN_VIDEO_MAX_SECONDS
        held[item] = max(held.get(item, 0), seconds)
    return held


def reportable_items(screen_pk, now_ts):
    """{item id: (slot seconds, when a report found it gone or None)}: the items held
    now and those that left less than XUEFA_SCREEN_PLAY_GRACE_HOURS ago. Brings the
    screen's record up to date (written only when it changed)."""
    record = Screen.objects.filter(pk=screen_pk).values_list("held_items", flat=True).first()
    record = record or {}
    grace = settings.XUEFA_SCREEN_PLAY_GRACE_HOURS * 3600
    updated = {str(item): [None, seconds] for item, seconds in held_items(screen_pk).items()}
    for key, (left_at, seconds) in record.items():
        if key not in updated:
            left_at = now_ts if left_at is None else left_at
            if now_ts - left_at < grace:
                updated[key] = [left_at, seconds]
    gone = [int(key) for key, (left_at, _) in updated.items() if left_at is not None]
    if gone:
        existing = set(PublicityItem.objects.filter(pk__in=gone).values_list("pk", flat=True))
        updated = {k: v for k, v in updated.items() if v[0] is None or int(k) in existing}
    if updated != record:
        Screen.objects.filter(pk=screen_pk).update(held_items=updated)
    return {int(key): (seconds, left_at) for key, (left_at, seconds) in updated.items()}


def refusal(play, reportable, oldest):
    """Why a play is refused, or None: too old for the log, or not an item the
    screen's playlists hold or held when the play started."""
    if play.at < oldest:
        return TOO_OLD
    if play.item not in reportable:
        return NOT_IN_PLAYLIST
    seconds, left_at = reportable[play.item]
    switch = settings.XUEFA_SCREEN_POLL_SECONDS + seconds
    if left_at is not None and play.at.timestamp() > left_at + switch:
        return NOT_IN_PLAYLIST
    return None


def capped(play, reportable):
    """The play with its duration capped at the item's slot plus the margin."""
    limit = reportable[play.item][0] + settings.XUEFA_SCREEN_PLAY_MARGIN_SECONDS
    if play.duration is None or play.duration <= limit:
        return play
    return Play(play.play_id, play.item, play.at, limit)


# --- how many plays a screen may report ----------------------------------------------------


def take_budget(screen_pk, wanted, now_ts=None):
    """Grant up to `wanted` plays from the screen's budget. The budget refills at
    XUEFA_SCREEN_PLAYS_PER_MINUTE and holds at most BUDGET_PLAYS; it is kept as
    the moment it will be full again (one cache value). Returns (granted, seconds until
    the rest could be granted, 0 when all were)."""
    now_ts = time.time() if now_ts is None else now_ts
    interval = 60 / settings.XUEFA_SCREEN_PLAYS_PER_MINUTE
    key = BUDGET_KEY % screen_pk
    full_at = max(cache.get(key) or 0.0, now_ts)
    available = int((now_ts + BUDGET_PLAYS * interval - full_at) / interval + 1e-9)
    granted = max(0, min(wanted, available))
    if granted:
        full_at += granted * interval
        cache.set(key, full_at, timeout=math.ceil(full_at - now_ts) + 1)
    missing = wanted - granted
    if missing <= 0:
        return granted, 0
    ready_at = full_at - (BUDGET_PLAYS - missing) * interval
    return granted, max(1, math.ceil(ready_at - now_ts))


# --- recording --------------------------------------------------------------------------------


def record_plays(state, plays, now=None):
    """Check a report and store its plays in the play log, once each however often it
    is sent, within the screen's budget; the latest play becomes the screen's reported
    item. Returns a Report."""
    now = now or timezone.now()
    record_poll(state, now=now)
    granted, wait = take_budget(state.pk, 1, now.timestamp())
    if not granted:
        return Report(retry_after=wait)
    report = Report()
    reportable = reportable_items(state.pk, now.timestamp())
    oldest = now - timedelta(days=settings.XUEFA_SCREEN_PLAY_LOG_DAYS)
    known = {}
    for play in plays:
        reason = refusal(play, reportable, oldest)
        if reason:
            report.refused[play.play_id] = reason
        else:
            known[play.play_id] = capped(play, reportable)
    sent = {play.play_id: play.duration for play in plays}
    report.capped = [key for key, play in known.items() if play.duration != sent[key]]
    new = _not_logged(state.pk, known)
    extra, report.retry_after = take_budget(state.pk, max(0, len(new) - 1), now.timestamp())
    stored = new[: min(len(new), extra + 1)]
    _store(state.pk, stored, now)
    report.new = len(stored)
    report.accepted = len(known) - (len(new) - len(stored))
    return report


def _not_logged(screen_pk, known):
    """The plays not yet in the log, oldest first."""
    logged = set()
    for chunk in batched(known, FLUSH_BATCH):
        logged.update(
            PlayLog.objects.filter(screen_id=screen_pk, play_id__in=chunk).values_list(
                "play_id", flat=True
            )
        )
    return sorted((p for p in known.values() if p.play_id not in logged), key=lambda p: p.at)


def _store(screen_pk, plays, now):
    new = [
        PlayLog(
            screen_id=screen_pk,
            item_id=p.item,
            play_id=p.play_id,
            started_at=p.at,
            duration=p.duration,
            reported_at=now,
        )
        for p in plays
    ]
    # A concurrent resend of the same batch may race us: the unique constraint keeps
    # one row per play either way.
    PlayLog.objects.bulk_create(new, batch_size=FLUSH_BATCH, ignore_conflicts=True)
    if plays:
        latest = plays[-1]
        Screen.objects.filter(pk=screen_pk).filter(
            Q(last_item_at__isnull=True) | Q(last_item_at__lt=latest.at)
        ).update(last_item_id=latest.item, last_item_at=latest.at)


def purge_play_logs(now=None):
    """Delete plays older than XUEFA_SCREEN_PLAY_LOG_DAYS. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.XUEFA_SCREEN_PLAY_LOG_DAYS)
    deleted, _ = PlayLog.objects.filter(started_at__lt=cutoff).delete()
    return deleted
