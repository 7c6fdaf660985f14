"""Which playlist a screen plays at a given moment, and until when that holds.

Plain functions over already-loaded objects so that the rules can be tested with a
fixed clock and no database: assignments and entries carry optional day-of-week and
time-of-day windows; items carry validity dates and must be published; among the
screen's active assignments the highest priority with something playable wins; when
none has, the default playlist plays (Xibo's default layout)."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

DEFAULT_ITEM_SECONDS = 15


@dataclass
class Resolution:
    """The playlist chosen for a moment, its playable entries in order, and the
    moment at which the choice must be made again (the next window edge or midnight)."""

    playlist: object | None
    entries: list = field(default_factory=list)
    valid_until: datetime | None = None
    is_fallback: bool = False


def window_contains(days, starts_at, ends_at, moment):
    """True when the local `moment` falls inside the window. `days` holds ISO weekday
    digits ("" = every day) and refers to the day on which the moment falls. A window
    whose end precedes its start runs past midnight; missing times are open ends."""
    if days and str(moment.isoweekday()) not in days:
        return False
    now = moment.time()
    if starts_at is None and ends_at is None:
        return True
    if starts_at is None:
        return now < ends_at
    if ends_at is None:
        return now >= starts_at
    if starts_at <= ends_at:
        return starts_at <= now < ends_at
    return now >= starts_at or now < ends_at


def item_is_playable(item, day):
    """Published and within its validity dates (inclusive) on `day`; a lecture
    highlight also needs its lecture to be live, a briefing card its sheet live and in
    force."""
    if not item.live:
        return False
    if item.kind == "lecture" and not (item.lecture is not None and item.lecture.live):
        return False
    if item.kind == "briefing" and not (
        item.briefing is not None and item.briefing.live and item.briefing.is_valid_on(day)
    ):
        return False
    if item.valid_from and day < item.valid_from:
        return False
    return not (item.valid_to and day > item.valid_to)


def entry_seconds(entry):
    """How long an entry shows. None means "until the video ends"."""
    return slot_seconds(entry.duration, entry.item.duration, entry.item.kind)


def slot_seconds(entry_duration, item_duration, kind):
    """entry_seconds from the values alone, for callers that read them with
    values_list: the entry's duration, else the item's, else a video's own length
    (None), else DEFAULT_ITEM_SECONDS."""
    if entry_duration:
        return entry_duration
    if item_duration:
        return item_duration
    if kind == "video":
        return None
    return DEFAULT_ITEM_SECONDS


def playable_entries(entries, moment):
    """The entries of a playlist that may play at `moment`, in playlist order."""
    day = moment.date()
    return [
        entry
        for entry in entries
        if item_is_playable(entry.item, day)
        and window_contains(entry.days, entry.starts_at, entry.ends_at, moment)
    ]


def next_change(moment, windows):
    """The earliest moment after `moment` at which any of the windows opens or closes,
    or the next midnight (weekdays and validity dates change then)."""
    tomorrow = datetime.combine(moment.date() + timedelta(days=1), time.min, moment.tzinfo)
    candidates = [tomorrow]
    for edge in {t for window in windows for t in window if t is not None}:
        at = datetime.combine(moment.date(), edge, moment.tzinfo)
        if at > moment:
            candidates.append(at)
    return min(candidates)


def resolve(assignments, default_playlist, moment):
    """Choose what plays at the local `moment`.

    `assignments` are the screen's ScreenPlaylist rows whose `playlist.entries_in_order`
    lists its entries in order, each with its item; `default_playlist` is the fallback
    (with `entries_in_order`) or None. The answer holds until the earliest edge of any
    window involved, so callers may cache it until then."""
    ranked = sorted(assignments, key=lambda a: (-a.priority, a.sort_order or 0, a.pk or 0))
    playlists = [a.playlist for a in ranked]
    if default_playlist is not None:
        playlists.append(default_playlist)
    windows = [(a.starts_at, a.ends_at) for a in ranked]
    windows += [(e.starts_at, e.ends_at) for p in playlists for e in p.entries_in_order]
    valid_until = next_change(moment, windows)

    for assignment in ranked:
        if window_contains(assignment.days, assignment.starts_at, assignment.ends_at, moment):
            entries = playable_entries(assignment.playlist.entries_in_order, moment)
            if entries:
                return Resolution(assignment.playlist, entries, valid_until)
    if default_playlist is not None:
        entries = playable_entries(default_playlist.entries_in_order, moment)
        if entries:
            return Resolution(default_playlist, entries, valid_until, is_fallback=True)
    return Resolution(None, [], valid_until, is_fallback=True)
