"""Schedule resolution with fixed clocks and plain objects: no database needed."""

from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from content import schedule

TZ = ZoneInfo("Asia/Shanghai")
# Wednesday 25 November 2026, 12:00 in Tianjin.
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=TZ)


def item(pk=1, live=True, valid_from=None, valid_to=None, kind="text_card", duration=None):
    return SimpleNamespace(
        pk=pk, live=live, valid_from=valid_from, valid_to=valid_to, kind=kind, duration=duration
    )


def entry(it=None, days="", starts_at=None, ends_at=None, duration=None):
    return SimpleNamespace(
        item=it or item(), days=days, starts_at=starts_at, ends_at=ends_at, duration=duration
    )


def playlist(name, *entries):
    return SimpleNamespace(name=name, entries_in_order=list(entries))


def assignment(pl, priority=0, days="", starts_at=None, ends_at=None, sort_order=0, pk=1):
    return SimpleNamespace(
        playlist=pl,
        priority=priority,
        days=days,
        starts_at=starts_at,
        ends_at=ends_at,
        sort_order=sort_order,
        pk=pk,
    )


class TestWindows:
    def test_no_window_is_always_open(self):
        assert schedule.window_contains("", None, None, NOON)

    def test_weekdays(self):
        assert schedule.window_contains("3", None, None, NOON)  # Wednesday
        assert schedule.window_contains("135", None, None, NOON)
        assert not schedule.window_contains("67", None, None, NOON)

    def test_time_of_day_includes_start_excludes_end(self):
        assert schedule.window_contains("", time(12, 0), time(13, 0), NOON)
        assert not schedule.window_contains("", time(11, 0), time(12, 0), NOON)
        assert not schedule.window_contains("", time(12, 1), time(13, 0), NOON)

    def test_open_ended_times(self):
        assert schedule.window_contains("", time(9, 0), None, NOON)
        assert not schedule.window_contains("", time(13, 0), None, NOON)
        assert schedule.window_contains("", None, time(12, 30), NOON)
        assert not schedule.window_contains("", None, time(12, 0), NOON)

    def test_window_past_midnight(self):
        late = datetime(2026, 11, 25, 23, 30, tzinfo=TZ)
        early = datetime(2026, 11, 26, 5, 0, tzinfo=TZ)
        assert schedule.window_contains("", time(22, 0), time(6, 0), late)
        assert schedule.window_contains("", time(22, 0), time(6, 0), early)
        assert not schedule.window_contains("", time(22, 0), time(6, 0), NOON)


class TestItems:
    def test_validity_dates_are_inclusive(self):
        today = NOON.date()
        assert schedule.item_is_playable(item(valid_from=today, valid_to=today), today)
        assert not schedule.item_is_playable(item(valid_from=date(2026, 11, 26)), today)
        assert not schedule.item_is_playable(item(valid_to=date(2026, 11, 24)), today)

    def test_unpublished_items_never_play(self):
        assert not schedule.item_is_playable(item(live=False), NOON.date())

    def test_durations(self):
        assert schedule.entry_seconds(entry(item(), duration=8)) == 8
        assert schedule.entry_seconds(entry(item(duration=20))) == 20
        assert schedule.entry_seconds(entry(item())) == schedule.DEFAULT_ITEM_SECONDS
        # A video without a duration plays to its end.
        assert schedule.entry_seconds(entry(item(kind="video"))) is None
        assert schedule.entry_seconds(entry(item(kind="video"), duration=30)) == 30

    def test_playable_entries_keep_order_and_drop_the_rest(self):
        a, b, c, d = (entry(item(pk=n)) for n in range(1, 5))
        b.item.live = False
        c.starts_at, c.ends_at = time(8, 0), time(9, 0)
        result = schedule.playable_entries([a, b, c, d], NOON)
        assert [e.item.pk for e in result] == [1, 4]


class TestResolve:
    def test_highest_priority_active_assignment_wins(self):
        low = playlist("general", entry(item(pk=1)))
        high = playlist("lunch", entry(item(pk=2)))
        result = schedule.resolve(
            [assignment(low, 0), assignment(high, 10, starts_at=time(11), ends_at=time(13))],
            None,
            NOON,
        )
        assert result.playlist is high
        assert not result.is_fallback

    def test_inactive_high_priority_falls_through(self):
        low = playlist("general", entry(item(pk=1)))
        high = playlist("lunch", entry(item(pk=2)))
        evening = datetime(2026, 11, 25, 18, 0, tzinfo=TZ)
        result = schedule.resolve(
            [assignment(low, 0), assignment(high, 10, starts_at=time(11), ends_at=time(13))],
            None,
            evening,
        )
        assert result.playlist is low

    def test_playlist_with_nothing_playable_falls_through(self):
        expired = playlist("old", entry(item(pk=1, valid_to=date(2026, 1, 1))))
        current = playlist("current", entry(item(pk=2)))
        result = schedule.resolve([assignment(expired, 5), assignment(current, 0)], None, NOON)
        assert result.playlist is current

    def test_equal_priority_goes_to_first_listed(self):
        first = playlist("first", entry(item(pk=1)))
        second = playlist("second", entry(item(pk=2)))
        result = schedule.resolve(
            [assignment(second, 1, sort_order=1, pk=2), assignment(first, 1, sort_order=0)],
            None,
            NOON,
        )
        assert result.playlist is first

    def test_default_playlist_when_nothing_is_scheduled(self):
        weekend = playlist("weekend", entry(item(pk=1)))
        default = playlist("default", entry(item(pk=9)))
        result = schedule.resolve([assignment(weekend, days="67")], default, NOON)
        assert result.playlist is default
        assert result.is_fallback
        assert [e.item.pk for e in result.entries] == [9]

    def test_nothing_at_all(self):
        result = schedule.resolve([], None, NOON)
        assert result.playlist is None
        assert result.entries == []

    @pytest.mark.parametrize(
        ("windows", "expected"),
        [
            ([], datetime(2026, 11, 26, 0, 0, tzinfo=TZ)),
            ([(time(13, 30), None)], datetime(2026, 11, 25, 13, 30, tzinfo=TZ)),
            ([(time(9, 0), time(12, 0))], datetime(2026, 11, 26, 0, 0, tzinfo=TZ)),
            ([(time(11, 0), time(12, 45))], datetime(2026, 11, 25, 12, 45, tzinfo=TZ)),
        ],
    )
    def test_answer_holds_until_the_next_window_edge_or_midnight(self, windows, expected):
        assert schedule.next_change(NOON, windows) == expected

    def test_resolution_reports_when_to_look_again(self):
        lunch = playlist("lunch", entry(item(pk=2)))
        result = schedule.resolve(
            [assignment(lunch, 10, starts_at=time(11), ends_at=time(13, 30))], None, NOON
        )
        assert result.valid_until == datetime(2026, 11, 25, 13, 30, tzinfo=TZ)
