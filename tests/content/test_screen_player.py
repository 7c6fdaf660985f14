"""The player endpoints: token checks, ETag/304 polling, last-seen and play reports."""

import json
from datetime import timedelta

from django.core.cache import cache
from django.test import Client
from django.utils import timezone

import pytest

from content import screens
from content.models import PublicityItem, Screen

from .conftest import make_image
from .factories import PlaylistEntryFactory, PublicityItemFactory, ScreenPlaylistFactory

pytestmark = pytest.mark.django_db


def urls(token):
    base = f"/screens/{token}/"
    return [base, base + "playlist.json", base + "sw.js"]


def playlist_url(screen):
    return f"/screens/{screen.token}/playlist.json"


def test_player_page_is_bare_and_keeps_the_token_private(client, screen):
    response = client.get(screen.get_player_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "screen-config" in html
    assert "content/screen_player.js" in html
    assert "<nav" not in html and "/accounts/" not in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("token", ["unknown", "x" * 43, "x" * 200])
def test_unknown_token_gets_a_bare_404(client, screen, token):
    for url in urls(token):
        response = client.get(url)
        assert response.status_code == 404
        assert response.content == b"Not Found"
    response = client.post(f"/screens/{token}/plays", "{}", content_type="application/json")
    assert response.status_code == 404


def test_rotating_the_token_revokes_the_old_address(client, screen):
    old = screen.token
    assert client.get(playlist_url(screen)).status_code == 200
    screen.rotate_token()
    for url in urls(old):
        response = client.get(url)
        assert response.status_code == 404
        assert response.content == b"Not Found"
    assert screen.token != old
    assert client.get(playlist_url(screen)).status_code == 200


def test_playlist_document(client, screen):
    response = client.get(playlist_url(screen))
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["screen"] == {"name": screen.name, "orientation": "landscape"}
    assert [item["title"] for item in data["items"]] == ["第一张", "第二张"]
    first = data["items"][0]
    assert first["kind"] == "text_card"
    assert first["points"] == ["第一条要点", "第二条要点"]
    assert first["duration"] == 15


def test_etag_and_304(client, screen):
    first = client.get(playlist_url(screen))
    etag = first["ETag"]
    assert etag.startswith('"')
    again = client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert client.get(playlist_url(screen), HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_an_edit_changes_the_etag(client, screen):
    etag = client.get(playlist_url(screen))["ETag"]
    item = PublicityItem.objects.get(title="第二张")
    item.headline = "新标题"
    item.save()
    response = client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["items"][1]["headline"] == "新标题"


def test_unpublished_and_expired_items_are_left_out(client, screen):
    PublicityItem.objects.filter(title="第一张").update(live=False)
    assignment = screen.playlist_assignments.get()
    yesterday = timezone.localdate() - timedelta(days=1)
    PlaylistEntryFactory(playlist=assignment.playlist, item__valid_to=yesterday)
    screen.save()  # any save moves the schedule stamp
    titles = [i["title"] for i in client.get(playlist_url(screen)).json()["items"]]
    assert titles == ["第二张"]


def test_default_playlist_fills_in(client, db):
    from .factories import PlaylistFactory, ScreenFactory

    default = PlaylistFactory(is_default=True)
    PlaylistEntryFactory(playlist=default, item__title="默认内容")
    screen = ScreenFactory()
    data = client.get(playlist_url(screen)).json()
    assert data["playlist"] == default.name
    assert [i["title"] for i in data["items"]] == ["默认内容"]


def test_poster_and_quotation(client, db):
    assignment = ScreenPlaylistFactory()
    poster = PublicityItemFactory(kind="poster", image=make_image(), title="宪法挂图")
    quote = PublicityItemFactory(
        kind="quotation", quote="中华人民共和国实行依法治国。", citation="宪法第五条", title="引文"
    )
    PlaylistEntryFactory(playlist=assignment.playlist, item=poster, duration=9)
    PlaylistEntryFactory(playlist=assignment.playlist, item=quote)
    items = client.get(playlist_url(assignment.screen)).json()["items"]
    assert items[0]["image"].endswith(".png") and items[0]["duration"] == 9
    assert items[1]["citation"] == "宪法第五条"
    assert client.get(playlist_url(assignment.screen)).json()["media"] == [items[0]["image"]]


@pytest.fixture
def no_flush(monkeypatch):
    """Polls leave their last-seen time in the cache; no batch runs by itself."""
    monkeypatch.setattr(screens, "_next_flush_check", float("inf"))


def test_a_poll_marks_the_screen_online_in_the_cache_before_the_database(client, screen, no_flush):
    client.get(playlist_url(screen))
    screen.refresh_from_db()
    assert screen.last_seen_at is None and screen.is_offline()
    # The admin reads the cache first...
    [changed] = screens.apply_cached_status([screen])
    assert not changed.is_offline()
    # ...and the batch brings the database up to date.
    assert screens.flush_status() == 1
    screen.refresh_from_db()
    assert timezone.now() - screen.last_seen_at < timedelta(seconds=15)  # rounded down
    assert not Screen.objects.offline().filter(pk=screen.pk).exists()
    assert screens.flush_status() == 0  # nothing new: no write


def test_the_batch_runs_at_most_once_per_interval_across_processes(client, screen, settings):
    settings.XUEFA_SCREEN_SEEN_INTERVAL = 60
    now = timezone.now().timestamp()
    assert screens.maybe_flush(now)  # the first poll starts a batch (immediate tasks)
    assert not screens.maybe_flush(now + 1)  # this process waits for the interval
    screens.forget_documents()  # as if another process: the shared lock holds it back
    assert not screens.maybe_flush(now + 2)
    cache.delete(screens.FLUSH_LOCK_KEY)  # the lock expires with the interval
    assert screens.maybe_flush(now + 63)


def test_a_poll_starts_the_batch_that_writes_last_seen(client, screen, settings):
    other = ScreenPlaylistFactory().screen
    # Another process saw the other screen a moment ago.
    cache.set(screens.SEEN_KEY % other.pk, timezone.now().timestamp())
    client.get(playlist_url(screen))  # first check in this process: the batch runs
    for one in (screen, other):
        one.refresh_from_db()
        assert not one.is_offline()


def test_record_poll_with_a_fixed_clock(screen, no_flush):
    earlier = timezone.now() - timedelta(minutes=3)
    state = screens.screen_for_token(screen.token)
    screens.record_poll(state, now=earlier)
    screens.flush_status()
    screen.refresh_from_db()
    # Stored rounded down to SEEN_RESOLUTION seconds: a few UPDATEs for many screens.
    assert timedelta(0) <= earlier - screen.last_seen_at < timedelta(seconds=10)
    # An older cached value never moves the database backwards.
    Screen.objects.filter(pk=screen.pk).update(last_seen_at=timezone.now())
    assert screens.flush_status() == 0


def test_offline_marker_in_the_admin_list_reads_the_cache(client, organizer, screen, no_flush):
    from django.urls import reverse

    stale = timezone.now() - timedelta(hours=2)
    Screen.objects.filter(pk=screen.pk).update(last_seen_at=stale)
    client.force_login(organizer)
    listing = reverse("wagtailsnippets_content_screen:list")
    assert "离线" in client.get(listing).content.decode()
    client.logout()
    client.get(playlist_url(screen))
    client.force_login(organizer)
    html = client.get(listing).content.decode()
    assert "在线" in html and "离线" not in html
    screen.refresh_from_db()
    assert screen.last_seen_at == stale  # the database waits for the batch


def test_playing_item_is_reported_by_the_poll(client, screen, no_flush):
    first, second = PublicityItem.objects.order_by("pk")
    client.get(playlist_url(screen) + f"?playing={first.pk}")
    screens.flush_status()
    screen.refresh_from_db()
    assert screen.last_item == first
    assert screen.last_item_at is not None
    # The next report waits in the cache for the next batch...
    client.get(playlist_url(screen) + f"?playing={second.pk}")
    screen.refresh_from_db()
    assert screen.last_item == first
    # ...which carries the item then on show.
    screens.flush_status()
    screen.refresh_from_db()
    assert screen.last_item == second


@pytest.mark.parametrize("playing", ["abc", "-1", "999999", "1e3", ""])
def test_bad_or_foreign_playing_ids_are_ignored(client, screen, playing):
    other = PublicityItemFactory()  # exists, but not on this screen
    for value in (playing, str(other.pk)):
        response = client.get(playlist_url(screen) + f"?playing={value}")
        assert response.status_code == 200
    screens.flush_status()
    screen.refresh_from_db()
    assert screen.last_item is None


def test_offline_marker(screen, settings):
    settings.XUEFA_SCREEN_OFFLINE_AFTER = 300
    now = timezone.now()
    assert screen.is_offline(now)
    assert Screen.objects.offline(now).filter(pk=screen.pk).exists()
    screen.last_seen_at = now - timedelta(seconds=299)
    screen.save()
    assert not screen.is_offline(now)
    assert not Screen.objects.offline(now).filter(pk=screen.pk).exists()
    assert screen.is_offline(now + timedelta(seconds=2))


def plays_url(screen):
    return f"/screens/{screen.token}/plays"


def test_plays_report_needs_no_csrf_token_and_updates_the_screen(screen):
    client = Client(enforce_csrf_checks=True)
    first, second = PublicityItem.objects.order_by("pk")
    earlier = timezone.now() - timedelta(minutes=10)
    later = timezone.now() - timedelta(minutes=5)
    payload = {
        "plays": [
            {"item": second.pk, "at": later.isoformat()},
            {"item": first.pk, "at": earlier.isoformat()},
        ]
    }
    response = client.post(plays_url(screen), json.dumps(payload), content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "new": 2, "refused": {}, "capped": []}
    screen.refresh_from_db()
    assert screen.last_item == second
    assert abs(screen.last_item_at - later) < timedelta(seconds=1)
    assert screen.last_seen_at is not None


def test_an_old_backlog_does_not_override_a_newer_report(client, screen):
    first, second = PublicityItem.objects.order_by("pk")
    client.get(playlist_url(screen) + f"?playing={second.pk}")
    old = (timezone.now() - timedelta(hours=1)).isoformat()
    client.post(
        plays_url(screen),
        json.dumps({"plays": [{"item": first.pk, "at": old}]}),
        content_type="application/json",
    )
    screen.refresh_from_db()
    assert screen.last_item == second


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"plays": 3}',
        '{"plays": [{"item": "1", "at": "2026-01-01T00:00:00Z"}]}',
        '{"plays": [{"item": 1, "at": "yesterday"}]}',
        '{"plays": [5]}',
    ],
)
def test_bad_play_reports_are_refused_clearly(client, screen, body):
    response = client.post(plays_url(screen), body, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()
    screen.refresh_from_db()
    assert screen.last_item is None


def test_plays_report_ignores_unknown_items_and_clamps_future_times(client, screen):
    item = PublicityItem.objects.first()
    future = (timezone.now() + timedelta(days=2)).isoformat()
    payload = {
        "plays": [
            {"id": "u", "item": 999999, "at": future},
            {"id": "k", "item": item.pk, "at": future},
        ]
    }
    response = client.post(plays_url(screen), json.dumps(payload), content_type="application/json")
    assert response.json() == {
        "accepted": 1,
        "new": 1,
        "refused": {"u": "not_in_playlist"},
        "capped": [],
    }
    screen.refresh_from_db()
    assert screen.last_item_at <= timezone.now()


def test_plays_endpoint_only_accepts_post(client, screen):
    assert client.get(plays_url(screen)).status_code == 405
    assert client.post(playlist_url(screen)).status_code == 405


def test_service_worker_is_javascript_scoped_to_the_player(client, screen):
    response = client.get(f"/screens/{screen.token}/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == screen.get_player_url()
    body = response.content.decode()
    assert f'"/screens/{screen.token}/playlist.json"' in body
    assert "/static/content/screen_player.js" in body


@pytest.mark.fast_paths
def test_polling_costs_one_query_once_cached(client, screen, django_assert_max_num_queries):
    etag = client.get(playlist_url(screen))["ETag"]
    with django_assert_max_num_queries(1):
        response = client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


def test_building_the_document_takes_a_bounded_number_of_queries(
    client, db, django_assert_max_num_queries
):
    assignment = ScreenPlaylistFactory()
    for n in range(12):
        kind = {"kind": "poster", "image": make_image(f"图{n}")} if n % 3 == 0 else {}
        PlaylistEntryFactory(playlist=assignment.playlist, item=PublicityItemFactory(**kind))
    client.get(playlist_url(assignment.screen))  # renditions are created once
    assignment.screen.save()  # invalidate the cached document
    with django_assert_max_num_queries(10):
        response = client.get(playlist_url(assignment.screen))
    assert len(response.json()["items"]) == 12


def test_the_batch_for_many_screens_takes_a_few_queries(
    screen, no_flush, django_assert_max_num_queries
):
    from .factories import ScreenFactory

    others = ScreenFactory.create_batch(30)
    item = PublicityItem.objects.first()
    moment = timezone.now()
    for n, one in enumerate([screen, *others]):
        state = screens.ScreenState(one.pk, 0)
        screens.record_poll(state, now=moment + timedelta(seconds=n % 2), playing=item.pk)
    # pks, one UPDATE per rounded moment and per (item, moment), the items: at most 6
    with django_assert_max_num_queries(6):
        assert screens.flush_status() == 31
    assert Screen.objects.filter(last_seen_at__isnull=True).count() == 0
    assert Screen.objects.filter(last_item=item).count() == 31
