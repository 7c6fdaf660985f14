"""The play log: every play a player reports, once each, kept for a while."""

import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from content.models import PlayLog, PublicityItem
from content.tasks import screen_housekeeping_task

from .factories import PlaylistEntryFactory, ScreenPlaylistFactory

pytestmark = pytest.mark.django_db


def plays_url(screen):
    return f"/screens/{screen.token}/plays"


def post(client, screen, payload):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(plays_url(screen), body, content_type="application/json")


def play(item, minutes_ago=5, play_id=None, duration=15):
    data = {
        "item": item.pk,
        "at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
        "duration": duration,
    }
    if play_id:
        data["id"] = play_id
    return data


def test_a_resent_batch_counts_once(client, screen):
    first, second = PublicityItem.objects.order_by("pk")
    batch = {"plays": [play(first, 10, "a1"), play(second, 9, "a2"), play(first, 8, "a3")]}
    done = {"accepted": 3, "new": 3, "refused": {}, "capped": []}
    assert post(client, screen, batch).json() == done
    assert post(client, screen, batch).json() == {**done, "new": 0}
    assert PlayLog.objects.filter(screen=screen).count() == 3
    log = PlayLog.objects.get(play_id="a2")
    assert log.item == second and log.duration == 15 and log.reported_at is not None


def test_the_same_id_twice_in_one_batch_counts_once(client, screen):
    item = PublicityItem.objects.first()
    batch = {"plays": [play(item, 3, "same"), play(item, 2, "same")]}
    assert post(client, screen, batch).json()["new"] == 1
    assert PlayLog.objects.count() == 1


def test_plays_without_ids_from_older_players_are_idempotent_too(client, screen):
    item = PublicityItem.objects.first()
    at = (timezone.now() - timedelta(minutes=1)).isoformat()
    batch = {"plays": [{"item": item.pk, "at": at}]}
    assert post(client, screen, batch).json()["new"] == 1
    assert post(client, screen, batch).json()["new"] == 0
    assert PlayLog.objects.get().duration is None


def test_the_same_play_id_on_two_screens_is_two_plays(client, screen):
    playlist = screen.playlist_assignments.get().playlist
    other = ScreenPlaylistFactory(playlist=playlist).screen
    item = PublicityItem.objects.first()
    post(client, screen, {"plays": [play(item, 1, "p")]})
    post(client, other, {"plays": [play(item, 1, "p")]})
    assert PlayLog.objects.count() == 2


def test_plays_older_than_the_log_keeps_are_dropped(client, screen, settings):
    settings.XUEFA_SCREEN_PLAY_LOG_DAYS = 10
    item = PublicityItem.objects.first()
    batch = {"plays": [play(item, 11 * 24 * 60, "old"), play(item, 60, "recent")]}
    assert post(client, screen, batch).json() == {
        "accepted": 1,
        "new": 1,
        "refused": {"old": "too_old"},
        "capped": [],
    }
    assert list(PlayLog.objects.values_list("play_id", flat=True)) == ["recent"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        b"\xff\xfe{}",
        "[" * 50_000,
        '{"plays": [{"item": 1, "at": "2026-01-01T00:00:00Z", "duration": -1}]}',
        '{"plays": [{"item": 1, "at": "2026-01-01T00:00:00Z", "duration": "15"}]}',
        '{"plays": [{"item": 1, "at": "2026-01-01T00:00:00Z", "duration": true}]}',
        '{"plays": [{"item": 1, "at": "2026-01-01T00:00:00Z", "id": ""}]}',
        '{"plays": [{"item": 1, "at": "2026-01-01T00:00:00Z", "id": 7}]}',
        '{"plays": [{"item": 1, "at": "2026-01-01T00:00:00Z", "id": "' + "x" * 65 + '"}]}',
        '{"plays": [{"item": 100000000000000000000000, "at": "2026-01-01T00:00:00Z"}]}',
        '{"plays": [{"item": 0, "at": "2026-01-01T00:00:00Z"}]}',
        '{"plays": [{"item": 1, "at": "2026-02-30T00:00:00Z"}]}',
        '{"plays": [{"item": true, "at": "2026-01-01T00:00:00Z"}]}',
        "null",
    ],
)
def test_malformed_reports_are_refused_with_400(client, screen, body):
    response = post(client, screen, body)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not PlayLog.objects.exists()


def test_batches_are_bounded(client, screen):
    item = PublicityItem.objects.first()
    too_many = {"plays": [play(item, 1, f"p{n}") for n in range(1001)]}
    response = post(client, screen, too_many)
    assert response.status_code == 400
    assert not PlayLog.objects.exists()
    huge = json.dumps({"plays": [], "padding": "x" * 300_000})
    assert post(client, screen, huge).status_code == 413
    most = {"plays": [play(item, 1, f"p{n}") for n in range(1000)]}
    assert post(client, screen, most).json()["new"] == 1000


def test_the_refusal_is_in_the_users_language(client, screen):
    response = post(client, screen, "not json")
    assert response.json()["error"] == "无法读取播放报告。"


def test_retention_purge_by_the_housekeeping_task(client, screen, settings):
    settings.XUEFA_SCREEN_PLAY_LOG_DAYS = 180
    item = PublicityItem.objects.first()
    post(client, screen, {"plays": [play(item, 60, "keep")]})
    PlayLog.objects.create(
        screen=screen,
        item=item,
        play_id="old",
        started_at=timezone.now() - timedelta(days=181),
    )
    result = screen_housekeeping_task.enqueue()
    assert result.return_value[1] == 1
    assert list(PlayLog.objects.values_list("play_id", flat=True)) == ["keep"]


def test_the_housekeeping_command(screen):
    from django.core.management import call_command

    PlayLog.objects.create(
        screen=screen,
        item=PublicityItem.objects.first(),
        play_id="old",
        started_at=timezone.now() - timedelta(days=400),
    )
    call_command("screen_housekeeping")
    assert not PlayLog.objects.exists()


# --- admin -----------------------------------------------------------------------------


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def test_recent_plays_of_a_screen(organizer_client, screen):
    first, second = PublicityItem.objects.order_by("pk")
    post(organizer_client, screen, {"plays": [play(first, 30, "x1"), play(second, 20, "x2")]})
    url = reverse("wagtailsnippets_content_screen:plays", args=[screen.pk])
    response = organizer_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("第二张") < html.index("第一张")  # newest first


def test_play_counts_per_item_over_a_date_range(organizer_client, screen):
    first, second = PublicityItem.objects.order_by("pk")
    # All three plays a moment ago, so that they fall on one day even just after midnight.
    today = timezone.localdate(timezone.now() - timedelta(minutes=5))
    plays = [play(first, 5, "t1"), play(first, 5, "t2"), play(second, 5, "t3")]
    plays.append(play(second, 3 * 24 * 60, "t4"))  # three days ago
    post(organizer_client, screen, {"plays": plays})
    url = reverse("wagtailsnippets_content_publicityitem:plays")
    response = organizer_client.get(url, {"start": today.isoformat(), "end": today.isoformat()})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(row["item__title"], row["plays"]) for row in rows] == [("第一张", 2), ("第二张", 1)]
    week = {"start": (today - timedelta(days=7)).isoformat(), "end": today.isoformat()}
    rows = organizer_client.get(url, week).context["rows"]
    assert {row["item__title"]: row["plays"] for row in rows} == {"第一张": 2, "第二张": 2}


def test_a_bad_date_range_is_explained(organizer_client, screen):
    url = reverse("wagtailsnippets_content_publicityitem:plays")
    response = organizer_client.get(url, {"start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["rows"] == []


@pytest.mark.parametrize("name", ["official", "hr_user"])
def test_play_reports_are_for_organizers(client, screen, request, name):
    user = request.getfixturevalue(name)
    client.force_login(getattr(user, "user", user))
    for url in (
        reverse("wagtailsnippets_content_publicityitem:plays"),
        reverse("wagtailsnippets_content_screen:plays", args=[screen.pk]),
    ):
        response = client.get(url)
        if name == "official":  # no admin access: AdminAccessMiddleware
            assert response.status_code == 403
        else:  # in the admin without the screens' permissions: Wagtail's refusal
            assert (response.status_code, response.url) == (302, reverse("wagtailadmin_home"))


def test_report_for_a_missing_screen_is_404(organizer_client):
    url = reverse("wagtailsnippets_content_screen:plays", args=[999999])
    assert organizer_client.get(url).status_code == 404


def test_a_screen_with_entries_added_later(client, db):
    assignment = ScreenPlaylistFactory()
    entry = PlaylistEntryFactory(playlist=assignment.playlist)
    response = post(client, assignment.screen, {"plays": [play(entry.item, 1, "z")]})
    assert response.json()["new"] == 1
