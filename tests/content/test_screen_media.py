"""A screen fetches the posters and videos of its playlist with its token, since it
has no session and uploads have no public address (content.views.screen_media);
any other file, another screen's token or an unknown token is the same bare 404."""

from django.core.files.base import ContentFile
from django.test import Client

from wagtail.documents import get_document_model

import pytest

from tests.factories import OfficialFactory

from .conftest import make_image
from .factories import PlaylistEntryFactory, PublicityItemFactory, ScreenPlaylistFactory

pytestmark = pytest.mark.django_db

MP4 = b"\x00\x00\x00\x18ftypmp42 film"


@pytest.fixture(autouse=True)
def media_on_disk(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path


def make_video(name="film.mp4"):
    video = get_document_model()(title="保密警示教育片")
    video.file.save(name, ContentFile(MP4), save=False)
    video.save()
    return video


@pytest.fixture
def assignment():
    assignment = ScreenPlaylistFactory()
    poster = PublicityItemFactory(kind="poster", image=make_image(), title="宪法挂图")
    film = PublicityItemFactory(kind="video", video=make_video(), title="警示片")
    PlaylistEntryFactory(playlist=assignment.playlist, item=poster)
    PlaylistEntryFactory(playlist=assignment.playlist, item=film)
    return assignment


def playlist(screen):
    return Client().get(f"/screens/{screen.token}/playlist.json").json()


def body(response):
    return b"".join(response.streaming_content)


def test_a_screen_fetches_its_poster_and_video_with_its_token(assignment):
    screen = assignment.screen
    data = playlist(screen)
    poster, film = data["items"]
    prefix = f"/screens/{screen.token}/media/"
    assert poster["image"].startswith(prefix + "images/") and poster["image"].endswith(".png")
    assert film["video"] == prefix + "documents/film.mp4"
    assert data["media"] == sorted([poster["image"], film["video"]])
    screen_client = Client()  # no session, as a lobby screen
    response = screen_client.get(poster["image"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert body(response).startswith(b"\x89PNG")
    response = screen_client.get(film["video"])
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == MP4


def test_another_screens_token_or_an_unknown_one_gets_a_bare_404(assignment):
    urls = [item.get("image") or item["video"] for item in playlist(assignment.screen)["items"]]
    other = ScreenPlaylistFactory().screen
    for url in urls:
        name = url.split("/media/", 1)[1]
        for token in (other.token, "unknown"):
            response = Client().get(f"/screens/{token}/media/{name}")
            assert response.status_code == 404
            assert response.content == b"Not Found"


def test_a_screen_gets_no_file_outside_its_playlist(assignment):
    """Not a lecture's handout, not an original image, not a file it played before."""
    screen = assignment.screen
    handout = make_video("handout.mp4")
    poster_item = assignment.playlist.entries.get(item__kind="poster").item
    urls = [
        f"/screens/{screen.token}/media/{handout.file.name}",
        f"/screens/{screen.token}/media/{poster_item.image.file.name}",
        f"/screens/{screen.token}/media/../db.sqlite3",
    ]
    first = playlist(screen)["items"][0]["image"]
    assignment.playlist.entries.filter(item=poster_item).delete()
    screen.save()  # any save moves the schedule stamp
    for url in [*urls, first]:
        response = Client().get(url)
        assert response.status_code == 404, url
        assert response.content == b"Not Found"


def test_a_rotated_token_no_longer_fetches_media(assignment):
    screen = assignment.screen
    url = playlist(screen)["items"][0]["image"]
    screen.rotate_token()
    assert Client().get(url).status_code == 404
    assert Client().get(playlist(screen)["items"][0]["image"]).status_code == 200


def test_publicity_media_are_not_public_without_the_token(assignment):
    """By their own addresses a poster and a video are back-office files: signed out
    to sign in, an official 403 (no lecture uses them)."""
    poster_item = assignment.playlist.entries.get(item__kind="poster").item
    video_item = assignment.playlist.entries.get(item__kind="video").item
    urls = [poster_item.image.get_rendition("max-1920x1920").url, video_item.video.url]
    official = Client()
    official.force_login(OfficialFactory().user)
    for url in urls:
        assert Client().get(url)["Location"].startswith("/accounts/login/?next=")
        assert official.get(url).status_code == 403


def test_the_service_worker_caches_the_screens_media_only(assignment):
    screen = assignment.screen
    worker = Client().get(f"/screens/{screen.token}/sw.js").content.decode()
    assert f'var MEDIA_PREFIX = "/screens/{screen.token}/media/";' in worker
    assert '"/media/' not in worker and "/documents/" not in worker
