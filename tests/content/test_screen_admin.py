"""The Wagtail admin for publicity screens: who may use it, and what it shows."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from content.models import Playlist, PublicityItem, Screen

from .factories import PublicityItemFactory, ScreenFactory

pytestmark = pytest.mark.django_db

LIST_URLS = [
    "wagtailsnippets_content_publicityitem:list",
    "wagtailsnippets_content_playlist:list",
    "wagtailsnippets_content_screen:list",
]


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.mark.parametrize("name", LIST_URLS)
def test_anonymous_visitors_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"] or "login" in response["Location"]


@pytest.mark.parametrize("name", LIST_URLS)
def test_officials_are_refused(official_client, name):
    assert official_client.get(reverse(name)).status_code == 403


def test_officials_cannot_see_or_rotate_a_token(official_client):
    screen = ScreenFactory()
    url = reverse("wagtailsnippets_content_screen:token", args=[screen.pk])
    assert official_client.get(url).status_code == 403
    assert official_client.post(url).status_code == 403
    old = screen.token
    screen.refresh_from_db()
    assert screen.token == old


def test_hr_cannot_manage_screens(client, hr_user):
    client.force_login(hr_user)
    screen = ScreenFactory()
    url = reverse("wagtailsnippets_content_screen:token", args=[screen.pk])
    response = client.post(url)
    assert (response.status_code, response.url) == (302, reverse("wagtailadmin_home"))
    old = screen.token
    screen.refresh_from_db()
    assert screen.token == old
    response = client.get(reverse("wagtailsnippets_content_screen:list"))
    assert (response.status_code, response.url) == (302, reverse("wagtailadmin_home"))


def test_organizer_sees_screens_with_offline_marker(
    organizer_client, django_assert_max_num_queries
):
    seen = ScreenFactory(name="大厅屏", last_seen_at=timezone.now())
    ScreenFactory(name="食堂屏", last_seen_at=timezone.now() - timedelta(hours=2))
    item = PublicityItemFactory(title="宪法挂图")
    Screen.objects.filter(pk=seen.pk).update(last_item=item)
    for n in range(5):
        ScreenFactory(last_seen_at=None, name=f"屏{n}")
    with django_assert_max_num_queries(40):
        response = organizer_client.get(reverse("wagtailsnippets_content_screen:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "大厅屏" in html and "食堂屏" in html
    assert "离线" in html and "在线" in html
    assert "宪法挂图" in html


def test_organizer_rotates_a_token(organizer_client, client):
    screen = ScreenFactory()
    old_url = screen.get_player_url()
    url = reverse("wagtailsnippets_content_screen:token", args=[screen.pk])
    page = organizer_client.get(url)
    assert page.status_code == 200
    assert old_url in page.content.decode()
    response = organizer_client.post(url)
    assert response.status_code == 302
    screen.refresh_from_db()
    assert screen.get_player_url() != old_url
    assert organizer_client.get(old_url).status_code == 404
    assert organizer_client.get(screen.get_player_url()).status_code == 200
    assert screen.get_player_url() in organizer_client.get(url).content.decode()


def test_token_page_for_a_missing_screen_is_404(organizer_client):
    url = reverse("wagtailsnippets_content_screen:token", args=[999999])
    assert organizer_client.get(url).status_code == 404


def test_organizer_creates_a_text_card_as_a_draft_then_publishes(organizer_client):
    url = reverse("wagtailsnippets_content_publicityitem:add")
    data = {
        "title": "保密明白纸",
        "kind": "text_card",
        "headline": "保密工作明白纸",
        "points": "涉密文件不得私自复制\n涉密计算机不得上网",
        "quote": "",
        "citation": "",
        "duration": "",
        "valid_from": "",
        "valid_to": "",
    }
    response = organizer_client.post(url, data)
    assert response.status_code == 302
    item = PublicityItem.objects.get(title="保密明白纸")
    assert not item.live  # saved as a draft until published
    assert item.latest_revision is not None

    edit = reverse("wagtailsnippets_content_publicityitem:edit", args=[item.pk])
    response = organizer_client.post(edit, {**data, "action-publish": "publish"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.live


def test_a_text_card_with_too_many_points_is_refused(organizer_client):
    url = reverse("wagtailsnippets_content_publicityitem:add")
    data = {
        "title": "太长",
        "kind": "text_card",
        "headline": "标题",
        "points": "\n".join(f"要点{n}" for n in range(7)),
    }
    response = organizer_client.post(url, data)
    assert response.status_code == 200
    assert "最多六条" in response.content.decode()
    assert not PublicityItem.objects.filter(title="太长").exists()


def test_a_poster_needs_an_image(organizer_client):
    url = reverse("wagtailsnippets_content_publicityitem:add")
    response = organizer_client.post(url, {"title": "挂图", "kind": "poster"})
    assert response.status_code == 200
    assert not PublicityItem.objects.filter(title="挂图").exists()


def test_only_one_default_playlist(organizer_client):
    url = reverse("wagtailsnippets_content_playlist:add")
    Playlist.objects.create(name="默认", is_default=True)
    data = {
        "name": "另一个",
        "is_default": "on",
        "entries-TOTAL_FORMS": "0",
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    response = organizer_client.post(url, data)
    assert response.status_code == 200
    assert not Playlist.objects.filter(name="另一个").exists()


def test_organizer_builds_a_playlist_and_assigns_it(organizer_client, client):
    item = PublicityItemFactory()
    response = organizer_client.post(
        reverse("wagtailsnippets_content_playlist:add"),
        {
            "name": "午餐",
            "entries-TOTAL_FORMS": "1",
            "entries-INITIAL_FORMS": "0",
            "entries-MIN_NUM_FORMS": "0",
            "entries-MAX_NUM_FORMS": "1000",
            "entries-0-item": str(item.pk),
            "entries-0-duration": "10",
            "entries-0-days": ["1", "2", "3", "4", "5", "6", "7"],
            "entries-0-starts_at": "",
            "entries-0-ends_at": "",
            "entries-0-ORDER": "1",
            "entries-0-id": "",
            "entries-0-DELETE": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    playlist = Playlist.objects.get(name="午餐")
    entry = playlist.entries.get()
    assert entry.days == "1234567" and entry.duration == 10

    response = organizer_client.post(
        reverse("wagtailsnippets_content_screen:add"),
        {
            "name": "食堂",
            "location": "食堂入口",
            "orientation": "portrait",
            "playlist_assignments-TOTAL_FORMS": "1",
            "playlist_assignments-INITIAL_FORMS": "0",
            "playlist_assignments-MIN_NUM_FORMS": "0",
            "playlist_assignments-MAX_NUM_FORMS": "1000",
            "playlist_assignments-0-playlist": str(playlist.pk),
            "playlist_assignments-0-priority": "5",
            "playlist_assignments-0-starts_at": "11:00",
            "playlist_assignments-0-ends_at": "13:30",
            "playlist_assignments-0-ORDER": "1",
            "playlist_assignments-0-id": "",
            "playlist_assignments-0-DELETE": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    screen = Screen.objects.get(name="食堂")
    assert screen.playlist_assignments.get().priority == 5
    assert len(screen.token) >= 40


def test_organizers_may_publish_items_and_officials_may_not(organizer, official):
    assert organizer.has_perm("content.publish_publicityitem")
    assert organizer.has_perm("content.change_screen")
    assert not official.user.has_perm("content.publish_publicityitem")
    assert not official.user.has_perm("content.view_screen")
