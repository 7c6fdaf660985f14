"""Urgent notices on the screens: started in one action, shown by the next poll over
the playlist, gone at their end time or when ended early, audited, and for organizers
only. The ticker comes with the same poll."""

import json
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from wagtail.models import ModelLogEntry

import pytest

from content import screens, urgent
from content.models import ScreenNotice

from .factories import PlaylistEntryFactory, ScreenFactory, ScreenPlaylistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def no_flush(monkeypatch):
    monkeypatch.setattr(screens, "_next_flush_check", float("inf"))


def poll(client, screen, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(f"/screens/{screen.token}/playlist.json", **headers)


def make_screen():
    screen = ScreenFactory()
    assignment = ScreenPlaylistFactory(screen=screen, playlist__ticker="第一条\n\n第二条")
    PlaylistEntryFactory(playlist=assignment.playlist)
    return screen


def later(**kwargs):
    return timezone.now() + timedelta(**kwargs)


def test_a_notice_takes_over_at_the_next_poll_and_is_gone_after_its_end(
    client, screen, organizer, no_flush
):
    first = poll(client, screen)
    assert first.json()["notice"] is None
    notice = urgent.start_notice(
        user=organizer, title="停电通知", text="今天下午三点停电。", ends_at=later(hours=1)
    )
    taken = poll(client, screen, first["ETag"])
    assert taken.status_code == 200
    assert taken.json()["notice"] == {
        "id": notice.pk,
        "title": "停电通知",
        "text": "今天下午三点停电。",
        "ends_at": notice.ends_at.isoformat(),
    }
    assert taken.json()["items"] == first.json()["items"]  # the playlist goes on under it

    # Its end time passes: the document built before is not valid past it.
    document = screens.playlist_document(screens.screen_for_token(screen.token))
    assert document.valid_until <= notice.ends_at.timestamp()
    after = screens.build_document(screen.pk, now=notice.ends_at + timedelta(seconds=1))
    assert b'"notice":null' in after.body


def test_a_notice_ends_on_its_own_at_its_end_time(client, screen, organizer, no_flush, settings):
    notice = urgent.start_notice(user=organizer, text="演练", ends_at=later(minutes=10))
    assert poll(client, screen).json()["notice"]["id"] == notice.pk
    ScreenNotice.objects.filter(pk=notice.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    # No signal: only the time has passed. The document's validity ends with the notice.
    screens.forget_documents()
    assert poll(client, screen).json()["notice"] is None


def test_ending_early_removes_it_at_the_next_poll_and_is_logged(client, screen, organizer):
    notice = urgent.start_notice(user=organizer, text="演练", ends_at=later(hours=2))
    etag = poll(client, screen)["ETag"]
    assert urgent.end_notice(notice, user=organizer) is True
    response = poll(client, screen, etag)
    assert response.status_code == 200 and response.json()["notice"] is None
    assert urgent.end_notice(notice, user=organizer) is False  # already over: no second entry
    actions = list(
        ModelLogEntry.objects.filter(object_id=str(notice.pk))
        .order_by("timestamp", "pk")
        .values_list("action", "user_id")
    )
    assert actions == [(urgent.STARTED, organizer.pk), (urgent.ENDED, organizer.pk)]


def test_a_notice_for_chosen_screens_leaves_the_others_alone(client, organizer, no_flush):
    chosen, other = make_screen(), make_screen()
    notice = urgent.start_notice(
        user=organizer, text="仅大厅", ends_at=later(hours=1), screens=[chosen]
    )
    assert poll(client, chosen).json()["notice"]["id"] == notice.pk
    assert poll(client, other).json()["notice"] is None
    entry = ModelLogEntry.objects.get(object_id=str(notice.pk), action=urgent.STARTED)
    assert entry.data["screens"] == [chosen.pk]
    assert entry.data["text"] == "仅大厅"


def test_the_latest_notice_shows_when_two_overlap(client, screen, organizer):
    urgent.start_notice(user=organizer, text="第一", ends_at=later(hours=1))
    second = urgent.start_notice(user=organizer, text="第二", ends_at=later(minutes=30))
    assert poll(client, screen).json()["notice"]["id"] == second.pk


def test_the_ticker_comes_with_the_poll_and_changes_with_the_playlist(client, no_flush):
    screen = make_screen()
    first = poll(client, screen)
    assert first.json()["ticker"] == ["第一条", "第二条"]
    playlist = screen.playlist_assignments.get().playlist
    playlist.ticker = "新的一条"
    playlist.save()
    changed = poll(client, screen, first["ETag"])
    assert changed.status_code == 200 and changed.json()["ticker"] == ["新的一条"]


def test_a_ticker_of_too_many_or_too_long_texts_is_refused():
    from django.core.exceptions import ValidationError

    from content.models import Playlist

    with pytest.raises(ValidationError):
        Playlist(name="x", ticker="\n".join(str(n) for n in range(11))).full_clean()
    with pytest.raises(ValidationError):
        Playlist(name="y", ticker="长" * 201).full_clean()
    Playlist(name="z", ticker="\n".join("好" * 200 for _ in range(10))).full_clean()


def test_hostile_text_reaches_the_player_as_json_text(client, screen, organizer):
    hostile = '<script>alert("x")</script>'
    urgent.start_notice(user=organizer, title=hostile, text=hostile, ends_at=later(hours=1))
    response = poll(client, screen)
    assert response["Content-Type"] == "application/json"
    assert response.json()["notice"]["text"] == hostile  # the player sets it as textContent


@pytest.mark.fast_paths
def test_a_warm_poll_with_a_notice_and_a_ticker_runs_no_query(
    client, organizer, no_flush, django_assert_num_queries
):
    screen = make_screen()
    urgent.start_notice(user=organizer, text="演练", ends_at=later(hours=1))
    etag = poll(client, screen)["ETag"]
    with django_assert_num_queries(0):
        assert poll(client, screen, etag).status_code == 304


@pytest.mark.fast_paths
def test_building_documents_loads_the_notices_once_for_all_screens(organizer):
    many = [make_screen() for _ in range(6)]
    urgent.start_notice(user=organizer, text="演练", ends_at=later(hours=1), screens=many[:3])
    urgent.start_notice(user=organizer, text="全部", ends_at=later(hours=1))
    screens.forget_documents()
    states = [screens.screen_for_token(s.token) for s in many]
    with CaptureQueriesContext(connection) as first:
        screens.playlist_document(states[0])
    with CaptureQueriesContext(connection) as rest:
        documents = [screens.playlist_document(state) for state in states[1:]]
    assert sum("content_screennotice" in q["sql"] for q in first.captured_queries) == 2
    assert not any("content_screennotice" in q["sql"] for q in rest.captured_queries)
    # The later notice, for every screen, covers the earlier one on the first three.
    assert [json.loads(d.body)["notice"]["text"] for d in documents] == ["全部"] * 5


def test_the_notices_page_costs_the_same_for_two_notices_or_ten(client, organizer):
    client.force_login(organizer)
    some = [make_screen() for _ in range(3)]

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("screen_notices:index")).status_code == 200
        return len(captured)

    def one_current_and_one_past():
        urgent.start_notice(user=organizer, text="演练", ends_at=later(hours=1), screens=some)
        past = urgent.start_notice(user=organizer, text="结束", ends_at=later(hours=1))
        urgent.end_notice(past, user=organizer)

    one_current_and_one_past()
    queries()  # the first page of a session loads what the admin keeps for later ones
    two = queries()
    for _ in range(4):
        one_current_and_one_past()
    assert queries() == two


# --- the admin action ------------------------------------------------------------------


INDEX = "screen_notices:index"


def test_an_organizer_starts_a_notice_for_chosen_screens_in_one_action(client, organizer):
    lobby, canteen = make_screen(), make_screen()
    client.force_login(organizer)
    assert client.get(reverse(INDEX)).status_code == 200
    ends = timezone.localtime() + timedelta(hours=2)
    response = client.post(
        reverse(INDEX),
        {
            "title": "紧急通知",
            "text": "请于10点前撤离。",
            "target": "chosen",
            "screens": [lobby.pk],
            "ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse(INDEX)
    notice = ScreenNotice.objects.get()
    assert notice.created_by == organizer and not notice.all_screens
    assert list(notice.screens.all()) == [lobby]
    assert notice.starts_at <= timezone.now() < notice.ends_at
    assert ModelLogEntry.objects.filter(object_id=str(notice.pk), action=urgent.STARTED).exists()
    assert poll(client, lobby).json()["notice"]["text"] == "请于10点前撤离。"
    assert poll(client, canteen).json()["notice"] is None
    page = client.get(reverse(INDEX))
    assert "请于10点前撤离。" in page.content.decode()


def test_the_form_refuses_a_past_end_and_an_empty_choice(client, organizer):
    client.force_login(organizer)
    past = (timezone.localtime() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse(INDEX), {"text": "x", "target": "chosen", "ends_at": past})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "ends_at" in errors and "screens" in errors
    assert not ScreenNotice.objects.exists()


def test_an_organizer_ends_a_notice_early(client, organizer, screen):
    notice = urgent.start_notice(user=organizer, text="演练", ends_at=later(hours=1))
    client.force_login(organizer)
    url = reverse("screen_notices:end", args=[notice.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse(INDEX)
    notice.refresh_from_db()
    assert notice.ended_at is not None and notice.ended_by == organizer
    assert poll(client, screen).json()["notice"] is None
    assert client.post(reverse("screen_notices:end", args=[999999])).status_code == 404


def test_the_admin_page_escapes_what_was_typed(client, organizer):
    urgent.start_notice(user=organizer, text="<b>x</b>", title="<i>t</i>", ends_at=later(hours=1))
    client.force_login(organizer)
    page = client.get(reverse(INDEX)).content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "&lt;i&gt;t&lt;/i&gt;" in page


@pytest.mark.parametrize("role", ["hr", "official", "anonymous"])
def test_others_may_neither_see_start_nor_end_notices(client, role, hr_user, official, organizer):
    notice = urgent.start_notice(user=organizer, text="演练", ends_at=later(hours=1))
    if role == "hr":
        client.force_login(hr_user)
    elif role == "official":
        client.force_login(official.user)
    end = reverse("screen_notices:end", args=[notice.pk])
    form = {"text": "假通知", "target": "all", "ends_at": later(hours=1).strftime("%Y-%m-%dT%H:%M")}
    for response in (
        client.get(reverse(INDEX)),
        client.post(reverse(INDEX), form),
        client.post(end),
    ):
        if role == "hr":
            # In the admin without the permission: Wagtail's refusal, to the dashboard.
            assert response.status_code == 302
            assert response["Location"] == reverse("wagtailadmin_home")
        elif role == "official":
            assert response.status_code == 403
        else:
            assert response.status_code == 302 and "/login/" in response["Location"]
    assert ScreenNotice.objects.count() == 1
    notice.refresh_from_db()
    assert notice.ended_at is None
