"""Lecture highlights: a live lecture on the screens, with a QR code to open it."""

import base64

from django.core.exceptions import ValidationError

import pytest

from content.models import PublicityItem
from tests.learning.factories import SpeakerFactory, make_lecture

from .factories import PlaylistEntryFactory, PublicityItemFactory, ScreenPlaylistFactory

pytestmark = pytest.mark.django_db


def playlist_url(screen):
    return f"/screens/{screen.token}/playlist.json"


@pytest.fixture
def lecture(db):
    speaker = SpeakerFactory(name="王教授")
    return make_lecture(
        title="民法典与政府工作",
        speakers=[speaker],
        occasion="区政府常务会",
        summary="民法典对依法行政提出了新要求。" * 20,
    )


@pytest.fixture
def highlight_screen(lecture):
    assignment = ScreenPlaylistFactory()
    item = PublicityItemFactory(kind="lecture", lecture=lecture, title="课堂推荐", headline="")
    PlaylistEntryFactory(playlist=assignment.playlist, item=item)
    PlaylistEntryFactory(playlist=assignment.playlist, item__title="明白纸")
    return assignment.screen


def test_the_playlist_shows_the_lecture_with_a_qr_code(client, highlight_screen, lecture):
    items = client.get(playlist_url(highlight_screen)).json()["items"]
    highlight = items[0]
    assert highlight["kind"] == "lecture"
    assert highlight["headline"] == "民法典与政府工作"
    assert highlight["speakers"] == ["王教授"]
    assert highlight["date"] == lecture.date.isoformat()
    assert highlight["occasion"] == "区政府常务会"
    assert len(highlight["summary"]) <= 160 and highlight["summary"].endswith("…")
    assert highlight["url"].endswith(lecture.url)
    prefix = "data:image/svg+xml;base64,"
    assert highlight["qr"].startswith(prefix)
    assert b"<svg" in base64.b64decode(highlight["qr"][len(prefix) :])


def test_an_unpublished_lecture_leaves_the_playlist(client, highlight_screen, lecture):
    etag = client.get(playlist_url(highlight_screen))["ETag"]
    lecture.unpublish()
    response = client.get(playlist_url(highlight_screen), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert [item["title"] for item in response.json()["items"]] == ["明白纸"]
    # Published again, it comes back.
    lecture.save_revision().publish()
    titles = [item["title"] for item in client.get(playlist_url(highlight_screen)).json()["items"]]
    assert titles == ["课堂推荐", "明白纸"]


def test_a_deleted_lecture_leaves_the_playlist(client, highlight_screen, lecture):
    client.get(playlist_url(highlight_screen))
    lecture.delete()
    titles = [item["title"] for item in client.get(playlist_url(highlight_screen)).json()["items"]]
    assert titles == ["明白纸"]


def test_a_highlight_alone_falls_back_to_the_default_playlist(client, lecture):
    from .factories import PlaylistFactory

    default = PlaylistFactory(is_default=True)
    PlaylistEntryFactory(playlist=default, item__title="默认内容")
    assignment = ScreenPlaylistFactory()
    item = PublicityItemFactory(kind="lecture", lecture=lecture, title="课堂推荐")
    PlaylistEntryFactory(playlist=assignment.playlist, item=item)
    lecture.unpublish()
    data = client.get(playlist_url(assignment.screen)).json()
    assert data["playlist"] == default.name
    assert [i["title"] for i in data["items"]] == ["默认内容"]


def test_a_highlight_needs_a_lecture():
    item = PublicityItem(title="课堂推荐", kind="lecture")
    with pytest.raises(ValidationError) as error:
        item.full_clean()
    assert "lecture" in error.value.message_dict


def test_speaker_changes_reach_the_screens(client, highlight_screen, lecture):
    client.get(playlist_url(highlight_screen))
    speaker = lecture.speakers.get()
    speaker.name = "李教授"
    speaker.save()
    highlight = client.get(playlist_url(highlight_screen)).json()["items"][0]
    assert highlight["speakers"] == ["李教授"]


def test_the_player_page_carries_the_highlight_labels(client, highlight_screen):
    labels = client.get(highlight_screen.get_player_url()).context["config"]["labels"]
    assert labels == {"lecture": "法治讲堂", "scan": "扫码学习："}
