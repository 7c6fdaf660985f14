"""A screen reports plays only of what it was given to play, for no longer than the
item's slot, and no more than it can have played (content/plays.py)."""

import json
from datetime import timedelta
from unittest import mock

from django.utils import timezone

import pytest

from content import plays
from content.models import PlayLog, Screen
from content.plays import Play
from content.screens import ScreenState

from .factories import (
    PlaylistEntryFactory,
    PlaylistFactory,
    PublicityItemFactory,
    ScreenPlaylistFactory,
)

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
TOO_MANY = "This screen has reported more plays than it can have played."


def post(client, screen, *reported):
    return client.post(
        f"/screens/{screen.token}/plays",
        json.dumps({"plays": list(reported)}),
        content_type="application/json",
        **ENGLISH,
    )


def play(play_id, item, at=None, duration=15):
    at = at or timezone.now() - timedelta(minutes=1)
    return {"id": play_id, "item": item.pk, "at": at.isoformat(), "duration": duration}


def logged():
    return dict(PlayLog.objects.values_list("play_id", "duration"))


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.fixture
def lobby(db):
    """A screen whose one playlist holds one text card (15-second slots)."""
    assignment = ScreenPlaylistFactory()
    entry = PlaylistEntryFactory(playlist=assignment.playlist)
    return assignment.screen, entry


# --- its own items ------------------------------------------------------------------------


def test_plays_of_items_the_screen_was_not_given_are_refused(client, lobby):
    screen, entry = lobby
    theirs = PlaylistEntryFactory(playlist=ScreenPlaylistFactory().playlist).item
    nowhere = PublicityItemFactory()
    response = post(
        client,
        screen,
        play("mine", entry.item),
        play("theirs", theirs),
        play("nowhere", nowhere),
        {"id": "deleted", "item": 987654, "at": timezone.now().isoformat()},
    )
    assert response.status_code == 200
    assert response.json() == {
        "accepted": 1,
        "new": 1,
        "refused": {
            "theirs": "not_in_playlist",
            "nowhere": "not_in_playlist",
            "deleted": "not_in_playlist",
        },
        "capped": [],
    }
    assert logged() == {"mine": 15}


def test_whatever_its_playlists_hold_may_be_reported(client, lobby):
    """A report comes minutes after the plays: a window may have closed, an item may
    have been unpublished or have expired since. The default playlist plays on every
    screen when nothing else is scheduled."""
    screen, entry = lobby
    now = timezone.localtime()
    closed = ScreenPlaylistFactory(
        screen=screen,
        starts_at=(now + timedelta(hours=1)).time(),
        ends_at=(now + timedelta(hours=2)).time(),
    )
    evening = PlaylistEntryFactory(playlist=closed.playlist).item
    withdrawn = PlaylistEntryFactory(playlist=entry.playlist, item__live=False).item
    expired = PlaylistEntryFactory(
        playlist=entry.playlist, item__valid_to=now.date() - timedelta(days=1)
    ).item
    default = PlaylistEntryFactory(playlist=PlaylistFactory(is_default=True)).item
    reported = [play(f"p{item.pk}", item) for item in (evening, withdrawn, expired, default)]
    response = post(client, screen, *reported)
    assert response.json() == {"accepted": 4, "new": 4, "refused": {}, "capped": []}


def test_an_item_taken_off_is_accepted_only_for_plays_before_the_screen_could_know(lobby):
    """Plays that started before a report found the item gone (plus one poll and the
    slot, while the player switches) are accepted for the grace period; later plays
    are not, and after the grace period none are."""
    screen, entry = lobby
    state, item = ScreenState(screen.pk, 0), entry.item.pk
    start = timezone.now()
    assert plays.record_plays(state, [Play("p1", item, start, 15)], now=start).new == 1
    assert Screen.objects.get(pk=screen.pk).held_items == {str(item): [None, 15]}

    entry.delete()
    found_gone = start + timedelta(minutes=5)
    report = plays.record_plays(
        state,
        [Play("p2", item, found_gone - timedelta(minutes=2), 15), Play("p3", item, found_gone, 15)],
        now=found_gone,
    )
    assert (report.new, report.refused) == (2, {})
    assert Screen.objects.get(pk=screen.pk).held_items == {str(item): [found_gone.timestamp(), 15]}

    switched = found_gone + timedelta(seconds=30 + 15 + 1)
    report = plays.record_plays(state, [Play("p4", item, switched, 15)], now=switched)
    assert report.refused == {"p4": "not_in_playlist"}

    backlog = [Play("p5", item, found_gone - timedelta(minutes=1), 15)]
    day_later = found_gone + timedelta(hours=23, minutes=59)
    assert plays.record_plays(state, backlog, now=day_later).new == 1
    too_late = found_gone + timedelta(hours=24)
    backlog = [Play("p6", item, found_gone - timedelta(minutes=1), 15)]
    assert plays.record_plays(state, backlog, now=too_late).refused == {"p6": "not_in_playlist"}
    assert Screen.objects.get(pk=screen.pk).held_items == {}
    assert set(logged()) == {"p1", "p2", "p3", "p5"}


def test_an_item_put_back_is_held_again(lobby):
    screen, entry = lobby
    state, item = ScreenState(screen.pk, 0), entry.item
    start = timezone.now()
    plays.record_plays(state, [], now=start)
    playlist = entry.playlist
    entry.delete()
    plays.record_plays(state, [], now=start + timedelta(minutes=5))
    PlaylistEntryFactory(playlist=playlist, item=item)
    late = start + timedelta(hours=30)
    assert plays.record_plays(state, [Play("back", item.pk, late, 15)], now=late).new == 1
    assert Screen.objects.get(pk=screen.pk).held_items == {str(item.pk): [None, 15]}


# --- its slot -------------------------------------------------------------------------------


def test_durations_are_capped_at_the_longest_slot_plus_the_margin(client, lobby, settings):
    settings.XUEFA_SCREEN_PLAY_MARGIN_SECONDS = 5
    settings.XUEFA_SCREEN_VIDEO_MAX_SECONDS = 3600
    screen, entry = lobby
    minute = PlaylistEntryFactory(playlist=entry.playlist, duration=60).item
    PlaylistEntryFactory(playlist=entry.playlist, item=minute, duration=30)
    video = PlaylistEntryFactory(playlist=entry.playlist, item__kind="video").item
    response = post(
        client,
        screen,
        play("card", entry.item, duration=600),
        play("fits", minute, duration=64),
        play("long", minute, duration=90),
        play("video", video, duration=5000),
        play("unknown", entry.item, duration=None),
    )
    assert response.json() == {
        "accepted": 5,
        "new": 5,
        "refused": {},
        "capped": ["card", "long", "video"],
    }
    assert logged() == {"card": 20, "fits": 64, "long": 65, "video": 3605, "unknown": None}


# --- physically possible plays ----------------------------------------------------------------


@pytest.fixture
def small_budget(monkeypatch, settings):
    """One play every 3 seconds, at most five banked."""
    settings.XUEFA_SCREEN_PLAYS_PER_MINUTE = 20
    monkeypatch.setattr(plays, "BUDGET_PLAYS", 5)


def test_more_plays_than_a_screen_can_have_played_get_429(client, lobby, small_budget):
    screen, entry = lobby
    start = timezone.now()
    batch = [play(f"p{n}", entry.item, start - timedelta(seconds=60 - n)) for n in range(8)]
    with frozen(start):
        response = post(client, screen, *batch)
    assert response.status_code == 429
    assert response["Retry-After"] == "9"
    assert response.json() == {
        "accepted": 5,
        "new": 5,
        "refused": {},
        "capped": [],
        "error": TOO_MANY,
        "retry_after": 9,
    }
    assert set(logged()) == {"p0", "p1", "p2", "p3", "p4"}  # the oldest first

    with frozen(start + timedelta(seconds=1)):
        response = post(client, screen, *batch)
    assert response.status_code == 429
    assert response.json() == {
        "accepted": 0,
        "new": 0,
        "refused": {},
        "capped": [],
        "error": TOO_MANY,
        "retry_after": 2,
    }

    with frozen(start + timedelta(seconds=9)):
        response = post(client, screen, *batch)
    assert response.status_code == 200
    assert response.json() == {"accepted": 8, "new": 3, "refused": {}, "capped": []}
    assert len(logged()) == 8


def test_resending_old_plays_costs_budget_too(client, lobby, small_budget):
    screen, entry = lobby
    start = timezone.now()
    with frozen(start):
        statuses = [post(client, screen, play("same", entry.item)).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_each_screen_has_its_own_budget(client, lobby, small_budget):
    screen, entry = lobby
    other = ScreenPlaylistFactory(playlist=entry.playlist).screen
    start = timezone.now()
    batch = [play(f"p{n}", entry.item, start - timedelta(seconds=n)) for n in range(5)]
    with frozen(start):
        assert post(client, screen, *batch).status_code == 200
        assert post(client, screen, play("more", entry.item)).status_code == 429
        assert post(client, other, *batch).status_code == 200


def test_a_screen_playing_at_the_fastest_possible_pace_is_never_refused(client, lobby, settings):
    """A full offline backlog, then a report every five minutes of a play every three
    seconds: the budget keeps up."""
    settings.XUEFA_SCREEN_PLAYS_PER_MINUTE = 20
    screen, entry = lobby
    start = timezone.now()
    backlog = [play(f"b{n}", entry.item, start - timedelta(seconds=3 * n)) for n in range(1000)]
    with frozen(start):
        assert post(client, screen, *backlog).status_code == 200
    for report in range(1, 7):
        moment = start + timedelta(minutes=5 * report)
        batch = [
            play(f"r{report}-{n}", entry.item, moment - timedelta(seconds=3 * n))
            for n in range(100)
        ]
        with frozen(moment):
            response = post(client, screen, *batch)
        assert (response.status_code, response.json()["new"]) == (200, 100), report
