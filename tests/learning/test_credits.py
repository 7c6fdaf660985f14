"""Study credit measured on the server (learning/credits.py and the heartbeat view)."""

import datetime
import threading

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import pytest

from learning import credits
from learning.models import StudyRecord
from learning.models.study import StudyClock
from tests.factories import UserFactory

from .factories import OfficialFactory, make_lecture

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def _interval(settings):
    settings.XUEFA_HEARTBEAT_SECONDS = 30
    settings.XUEFA_HEARTBEAT_MARGIN_SECONDS = 5


def beat(official, lecture, seconds, event=credits.BEAT):
    return credits.credit_heartbeat(official.user, lecture, event, now=at(seconds))


def test_first_heartbeat_only_starts_the_clock(official, lecture):
    result = beat(official, lecture, 0, credits.START)
    assert result.added_seconds == 0
    record = StudyRecord.objects.get()
    assert record.credited_seconds == 0 and record.last_heartbeat_at == at(0)


def test_regular_heartbeats_credit_elapsed_time(official, lecture):
    beat(official, lecture, 0, credits.START)
    assert beat(official, lecture, 30).added_seconds == 30
    assert beat(official, lecture, 61).added_seconds == 31
    assert StudyRecord.objects.get().credited_seconds == 61


def test_credit_per_heartbeat_is_capped(official, lecture):
    beat(official, lecture, 0, credits.START)
    # Away for ten minutes with the page open in a hidden tab that still beat late.
    assert beat(official, lecture, 600).added_seconds == 35
    assert StudyRecord.objects.get().credited_seconds == 35


def test_faster_than_real_time_script_gains_nothing(official, lecture):
    beat(official, lecture, 0, credits.START)
    # A script posting 1,000 heartbeats within ten seconds of real time.
    for n in range(1000):
        beat(official, lecture, n / 100)
    assert StudyRecord.objects.get().credited_seconds <= 10


def test_start_from_a_second_tab_does_not_reset_the_clock(official, lecture):
    beat(official, lecture, 0, credits.START)
    beat(official, lecture, 20, credits.START)  # second tab opens
    assert beat(official, lecture, 30).added_seconds == 30


def test_two_tabs_never_credit_the_same_interval_twice(official, lecture):
    beat(official, lecture, 0, credits.START)
    # Tab A and tab B both beat every 30 s, offset by 15 s, for five minutes.
    for t in range(15, 301, 15):
        beat(official, lecture, t)
    assert StudyRecord.objects.get().credited_seconds == 300


def test_stale_heartbeat_from_the_past_credits_nothing(official, lecture):
    beat(official, lecture, 0, credits.START)
    beat(official, lecture, 30)
    assert beat(official, lecture, 20).added_seconds == 0
    assert StudyRecord.objects.get().credited_seconds == 30


def test_completes_at_credit_minutes(official, index):
    lecture = make_lecture("宪法", parent=index, credit_minutes=1)
    beat(official, lecture, 0, credits.START)
    assert not beat(official, lecture, 30).completed_now
    result = beat(official, lecture, 60)
    assert result.completed_now
    record = StudyRecord.objects.get()
    assert record.completed_at == at(60) and record.credited_seconds == 60
    # Further study neither re-completes nor exceeds the lecture's credit.
    assert not beat(official, lecture, 90).completed_now
    assert StudyRecord.objects.get().credited_seconds == 60


def test_video_end_completes_only_after_real_time(official, index):
    lecture = make_lecture("保密警示教育片", parent=index, credit_minutes=30, video_minutes=1)
    beat(official, lecture, 0, credits.START)
    # The video reports its end after 10 s (skipped ahead): not enough real time.
    assert not beat(official, lecture, 10, credits.ENDED).completed_now
    beat(official, lecture, 40)
    assert beat(official, lecture, 62, credits.ENDED).completed_now
    assert StudyRecord.objects.get().credited_seconds == 62


def test_video_end_without_known_length_is_an_ordinary_beat(official, lecture):
    beat(official, lecture, 0, credits.START)
    assert not beat(official, lecture, 30, credits.ENDED).completed_now


def test_non_official_is_refused(organizer, lecture, superuser):
    from django.contrib.auth.models import AnonymousUser

    for user in (superuser, AnonymousUser()):
        with pytest.raises(credits.StudyRefused):
            credits.credit_heartbeat(user, lecture)
    assert not StudyRecord.objects.exists()


def test_draft_lecture_is_refused(official, index):
    draft = make_lecture("草稿讲座", parent=index, live=False)
    with pytest.raises(credits.StudyRefused):
        credits.credit_heartbeat(official.user, draft)


def test_records_are_per_official(official, lecture):
    other = OfficialFactory()
    beat(official, lecture, 0, credits.START)
    beat(other, lecture, 0, credits.START)
    beat(official, lecture, 30)
    assert beat(other, lecture, 10).added_seconds == 10
    assert StudyRecord.objects.get(official=official).credited_seconds == 30


# --- the endpoint ---------------------------------------------------------------


def post(client, lecture, event="beat", **extra):
    return client.post(reverse("learning:heartbeat", args=[lecture.pk]), {"event": event}, **extra)


def test_endpoint_credits_a_signed_in_official(official_client, official, lecture):
    assert post(official_client, lecture, "start").json()["added_seconds"] == 0
    earlier = timezone.now() - datetime.timedelta(seconds=30)
    StudyRecord.objects.update(last_heartbeat_at=earlier, started_at=earlier)
    StudyClock.objects.update(anchor_at=earlier)  # the official's anchor, for every lecture
    data = post(official_client, lecture).json()
    assert data["added_seconds"] in (30, 31)
    assert data["credit_seconds"] == 600 and data["completed"] is False


def test_endpoint_refusals(official_client, lecture, index):
    from django.test import Client

    client = Client()
    assert post(client, lecture).status_code == 401
    client.force_login(UserFactory())  # signed in, but not an official
    assert post(client, lecture).status_code == 403
    draft = make_lecture("草稿", parent=index, live=False)
    assert post(official_client, draft).status_code == 404
    assert official_client.get(reverse("learning:heartbeat", args=[lecture.pk])).status_code == 405
    bad = post(official_client, lecture, "teleport")
    assert bad.status_code == 400 and bad.json()["error"]
    missing = reverse("learning:heartbeat", args=[999999])
    assert official_client.post(missing, {"event": "beat"}).status_code == 404
    assert not StudyRecord.objects.filter(lecture=draft).exists()


def test_endpoint_requires_csrf_token(official, lecture):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(official.user)
    assert post(client, lecture).status_code == 403
    page = client.get(lecture.url)
    token = page.cookies["csrftoken"].value
    assert post(client, lecture, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_endpoint_query_count(official_client, official, lecture, django_assert_max_num_queries):
    post(official_client, lecture, "start")
    # The session, the user, and the record with its official and lecture.
    with django_assert_max_num_queries(3):
        assert post(official_client, lecture).status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_heartbeats_credit_an_interval_once():
    """Two tabs post the same interval at the same moment: only one is credited."""
    from .factories import lecture_index

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; this race needs PostgreSQL (DATABASE_URL)")
    official = OfficialFactory()
    lecture = make_lecture("并发测试", parent=lecture_index(), credit_minutes=60)
    beat(official, lecture, 0, credits.START)
    barrier = threading.Barrier(4)
    results = []

    def tab():
        try:
            barrier.wait()
            results.append(beat(official, lecture, 30).added_seconds)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 30]
    assert StudyRecord.objects.get().credited_seconds == 30


# --- heartbeat_state: the one query a heartbeat reads ------------------------------


def test_heartbeat_state_reads_lecture_official_and_record(official, lecture):
    user = official.user
    found, me, record = credits.heartbeat_state(user, lecture.pk)
    assert (found.pk, found.live, found.credit_seconds) == (lecture.pk, True, 600)
    assert me.pk == official.pk and record is None
    beat(official, lecture, 0, credits.START)
    beat(official, lecture, 30)
    _found, _me, record = credits.heartbeat_state(user, lecture.pk)
    stored = StudyRecord.objects.get()
    assert record.pk == stored.pk and record.official.user_id == user.pk
    assert record.credited_seconds == stored.credited_seconds == 30
    assert record.last_heartbeat_at == stored.last_heartbeat_at == at(30)
    assert record.started_at == stored.started_at and record.completed_at is None


def test_heartbeat_state_refuses_drafts_and_knows_non_officials(official, index, lecture):
    draft = make_lecture("草稿", parent=index, live=False)
    assert credits.heartbeat_state(official.user, draft.pk) == (None, None, None)
    assert credits.heartbeat_state(official.user, 999999) == (None, None, None)
    found, me, record = credits.heartbeat_state(UserFactory(), lecture.pk)
    assert found.pk == lecture.pk and me is None and record is None


def test_heartbeat_state_never_reads_another_officials_record(official, lecture):
    other = OfficialFactory()
    beat(other, lecture, 0, credits.START)
    beat(other, lecture, 30)
    _found, me, record = credits.heartbeat_state(official.user, lecture.pk)
    assert me.pk == official.pk and record is None


def test_another_officials_profile_is_not_credited(official, lecture):
    """credit_heartbeat checks that a passed official is the user's own."""
    other = OfficialFactory()
    beat(official, lecture, 0, credits.START)
    credits.credit_heartbeat(official.user, lecture, credits.START, now=at(0), official=other)
    assert not StudyRecord.objects.filter(official=other).exists()


def test_first_heartbeat_query_count(official_client, lecture, django_assert_max_num_queries):
    # A first request writes the session's start time.
    assert official_client.post(reverse("learning:heartbeat", args=[999999])).status_code == 404
    # Session, user, state; then the record is created (get_or_create with its
    # savepoint) and its anchor set.
    with django_assert_max_num_queries(8):
        assert post(official_client, lecture, "start").status_code == 200
    assert StudyRecord.objects.get().last_heartbeat_at is not None


def test_credited_heartbeat_query_count(official_client, official, lecture):
    """A credited beat reads one row (with the official's anchor) and writes two."""
    post(official_client, lecture, "start")
    earlier = timezone.now() - datetime.timedelta(seconds=30)
    StudyRecord.objects.update(last_heartbeat_at=earlier, started_at=earlier)
    StudyClock.objects.update(anchor_at=earlier)
    with CaptureQueriesContext(connection) as queries:
        assert post(official_client, lecture).json()["added_seconds"] in (30, 31)
    kinds = [q["sql"].split()[0] for q in queries]
    # Session, user and heartbeat_state; the anchor's and the record's compare-and-set
    # (one transaction: the savepoint or BEGIN around them is not counted).
    assert [k for k in kinds if k in ("SELECT", "INSERT", "UPDATE", "DELETE")] == [
        "SELECT",
        "SELECT",
        "SELECT",
        "UPDATE",
        "UPDATE",
    ]
