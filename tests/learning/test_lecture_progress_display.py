"""The lecture page's live study progress (issue #20) as the server renders it: the
reader's time as mm:ss with the figures study.js ticks on from, the bar towards the
lecture's required time, and the note to keep the page open. Each reader sees their
own figures, from the page's cached shell too (learning/fast/shells.py)."""

import datetime
import re

from django.test import Client
from django.utils import translation

import pytest

from learning.models import StudyRecord
from learning.templatetags.study_clock import clock
from tests.factories import OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTE = "Keep this page open while you study"
CLOCK = re.compile(
    r'<time data-study-clock data-seconds="(\d+)" data-required-seconds="(\d+)" '
    r'datetime="PT(\d+)S">([^<]*)</time>'
)
BAR = re.compile(r'<progress data-study-bar max="(\d+)" value="(\d+)"></progress>')


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def studied(official, lecture, seconds, completed=False):
    start = datetime.datetime(2026, 5, 1, 9, tzinfo=datetime.UTC)
    return StudyRecord.objects.create(
        official=official,
        lecture=lecture,
        credited_seconds=seconds,
        started_at=start,
        last_heartbeat_at=start + datetime.timedelta(seconds=seconds),
        completed_at=start + datetime.timedelta(seconds=seconds) if completed else None,
    )


def figures(client, lecture):
    """(clock seconds, required, datetime seconds, mm:ss shown), (bar max, value), note shown."""
    text = client.get(lecture.url).text
    found = CLOCK.search(text)
    bar = BAR.search(text)
    assert found is not None and bar is not None, text
    note = re.search(r"<p class=\"muted study-clock-note\" data-study-note( hidden)?>", text)
    assert note is not None and NOTE in text
    return found.groups(), bar.groups(), note.group(1) is None


def reader(official):
    client = Client()
    client.force_login(official.user)
    return client


@pytest.mark.parametrize(
    ("seconds", "value"),
    [(0, 0), (59, 59), (60, 60), (425, 425), (599, 599)],
)
def test_the_clock_and_bar_start_from_the_server_figure(lecture, official, seconds, value):
    if seconds:
        studied(official, lecture, seconds)
    client = reader(official)
    for _ in range(2):  # rendered whole, then from the page's shell
        clock_figures, bar, note_shown = figures(client, lecture)
        minutes, rest = divmod(seconds, 60)
        assert clock_figures == (str(seconds), "600", str(seconds), f"{minutes:02d}:{rest:02d}")
        assert bar == ("600", str(value))
        assert note_shown
        assert '/ <time datetime="PT600S">10:00</time>' in client.get(lecture.url).text


def test_a_reader_with_no_record_starts_at_zero(lecture, official):
    clock_figures, bar, note_shown = figures(reader(official), lecture)
    assert clock_figures == ("0", "600", "0", "00:00") and bar == ("600", "0") and note_shown


def test_the_note_is_hidden_once_the_time_is_done(lecture, official):
    studied(official, lecture, 600, completed=True)
    clock_figures, bar, note_shown = figures(reader(official), lecture)
    assert clock_figures[3] == "10:00" and bar == ("600", "600")
    assert not note_shown


def test_each_reader_sees_their_own_time_from_the_same_shell(lecture):
    first, second = OfficialFactory(), OfficialFactory()
    studied(first, lecture, 425)
    clients = {first.pk: reader(first), second.pk: reader(second)}
    for _ in range(2):
        assert figures(clients[first.pk], lecture)[0][3] == "07:05"
        assert figures(clients[second.pk], lecture)[0][3] == "00:00"


def test_someone_who_does_not_study_gets_no_clock(client, lecture):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    text = client.get(lecture.url).text
    assert "data-study-clock" not in text and NOTE not in text


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "00:00"),
        (5, "00:05"),
        (65, "01:05"),
        (3599, "59:59"),
        (5700, "95:00"),
        (None, "00:00"),
        (-3, "00:00"),
        ("x", "00:00"),
    ],
)
def test_clock_reads_minutes_and_seconds(seconds, shown):
    assert clock(seconds) == shown
