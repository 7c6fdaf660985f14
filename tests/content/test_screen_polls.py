"""What a warm poll costs: no database query, no session, no cookie; and the
middleware that sends polls past the rest of the stack touches nothing else."""

import pytest

from content import screens

pytestmark = pytest.mark.django_db


def playlist_url(screen):
    return f"/screens/{screen.token}/playlist.json"


@pytest.fixture
def no_flush(monkeypatch):
    monkeypatch.setattr(screens, "_next_flush_check", float("inf"))


@pytest.mark.fast_paths
def test_a_warm_304_runs_no_query(client, screen, no_flush, django_assert_num_queries):
    first = client.get(playlist_url(screen))
    assert first["Content-Length"] == str(len(first.content))
    etag = first["ETag"]
    with django_assert_num_queries(0):
        response = client.get(playlist_url(screen) + "?playing=1", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


@pytest.mark.fast_paths
def test_a_poll_with_a_session_cookie_skips_session_auth_and_locale(
    client, official, screen, no_flush, django_assert_num_queries
):
    """A screen's browser might carry someone's session cookie: the poll must still not
    load the session or the user, nor answer with cookies or Vary headers."""
    client.force_login(official.user)
    etag = client.get(playlist_url(screen))["ETag"]
    with django_assert_num_queries(0):
        response = client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert not response.cookies
    assert "Vary" not in response
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")


def test_an_edit_is_seen_by_the_next_poll_without_a_query_for_the_stamp(
    client, screen, no_flush, django_assert_max_num_queries
):
    etag = client.get(playlist_url(screen))["ETag"]
    screen.name = "新名字"
    screen.save()
    response = client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["screen"]["name"] == "新名字"


@pytest.mark.fast_paths
def test_a_stamp_lost_with_the_cache_starts_anew_and_the_playlist_is_unchanged(
    client, screen, no_flush
):
    from django.core.cache import cache

    etag = client.get(playlist_url(screen))["ETag"]
    before = screens.current_stamp()
    cache.clear()
    screens.forget_stamp()
    assert screens.current_stamp() not in (None, before)
    assert client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_without_the_cache_every_poll_is_answered_from_the_database(
    client, screen, no_flush, monkeypatch
):
    from learning import fast

    monkeypatch.setattr(fast, "generation", lambda family, max_age=0.0: None)  # Redis down
    screens.forget_documents()
    etag = client.get(playlist_url(screen))["ETag"]
    type(screen).objects.filter(pk=screen.pk).update(name="无缓存时改名")
    response = client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["screen"]["name"] == "无缓存时改名"


def test_other_screen_urls_still_pass_through_the_stack(client, screen):
    response = client.get(screen.get_player_url())
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")


@pytest.mark.parametrize(
    "path",
    ["/screens//playlist.json", "/screens/a/b/playlist.json", "/screens/playlist.json"],
)
def test_odd_paths_are_not_taken_for_polls(client, path):
    assert client.get(path).status_code in (301, 404)  # APPEND_SLASH may redirect


def test_a_poll_by_post_is_refused(client, screen):
    assert client.post(playlist_url(screen)).status_code == 405


@pytest.mark.fast_paths
def test_another_process_edit_is_seen_within_the_stamp_memo(client, screen, monkeypatch):
    from django.core.cache import cache

    from learning import fast

    etag = client.get(playlist_url(screen))["ETag"]
    # Another process renames the screen: the database and the shared stamp change,
    # this process's memo does not know yet.
    type(screen).objects.filter(pk=screen.pk).update(name="别处改名")
    cache.set(fast.generation_key(screens.FAMILY), "another-process")
    assert client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag).status_code == 304
    monkeypatch.setattr(screens, "STAMP_MEMO_SECONDS", 0.0)  # a second later
    response = client.get(playlist_url(screen), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["screen"]["name"] == "别处改名"


def test_polls_reach_the_shared_cache_in_one_write_every_few_seconds(client, screen, no_flush):
    from django.core.cache import cache

    from .factories import ScreenPlaylistFactory

    other = ScreenPlaylistFactory().screen
    client.get(playlist_url(screen))  # the first poll writes at once
    assert cache.get(screens.SEEN_KEY % screen.pk) is not None
    client.get(playlist_url(other))
    assert cache.get(screens.SEEN_KEY % other.pk) is None  # noted in this process
    screens.write_seen()  # the next write (or the batch) carries it
    assert cache.get(screens.SEEN_KEY % other.pk) is not None


@pytest.mark.fast_paths
def test_screens_sharing_a_playlist_load_it_once_per_edit(
    client, screen, no_flush, django_assert_max_num_queries
):
    from .factories import ScreenPlaylistFactory

    playlist = screen.playlist_assignments.get().playlist
    others = [ScreenPlaylistFactory(playlist=playlist).screen for _ in range(5)]
    client.get(playlist_url(screen))  # loads the playlist
    for other in others:
        # The token, the screen and its assignments: the playlist is already loaded.
        with django_assert_max_num_queries(3):
            response = client.get(playlist_url(other))
        assert [i["title"] for i in response.json()["items"]] == ["第一张", "第二张"]
    entry = playlist.entries.first()
    entry.duration = 42
    entry.save()  # moves the stamp: everything is loaded afresh
    response = client.get(playlist_url(others[0]))
    assert response.json()["items"][0]["duration"] == 42
