"""The study-credit invariant (learning/credits.py): an official's credit, summed over
all their lectures, tabs and devices, never exceeds the wall-clock time between their
first heartbeat and their last, because every heartbeat is measured from one anchor
per official."""

import datetime
import threading

from django.db import connection
from django.db.models import Sum

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from learning import credits
from learning.models import StudyRecord

from .factories import OfficialFactory, lecture_index, make_lecture

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
INTERVAL, MARGIN = 30, 5
CAP = INTERVAL + MARGIN


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def _interval(settings):
    settings.XUEFA_HEARTBEAT_SECONDS = INTERVAL
    settings.XUEFA_HEARTBEAT_MARGIN_SECONDS = MARGIN


def beat(official, lecture, seconds, event=credits.BEAT):
    return credits.credit_heartbeat(official.user, lecture, event, now=at(seconds))


def credited(official):
    total = StudyRecord.objects.filter(official=official).aggregate(s=Sum("credited_seconds"))
    return total["s"] or 0


@pytest.fixture
def six_lectures(index):
    return [make_lecture(f"讲座{n}", parent=index, credit_minutes=60) for n in range(6)]


def test_six_lectures_open_at_once_credit_the_wall_time_once(official, six_lectures):
    """The reported break: six lecture tabs beating in parallel earned six times the
    real time, because each lecture kept its own anchor."""
    for n, lecture in enumerate(six_lectures):
        beat(official, lecture, n / 10, credits.START)
    intervals = 10
    for k in range(1, intervals + 1):
        # Every tab beats once per interval, a tenth of a second apart.
        for n, lecture in enumerate(six_lectures):
            beat(official, lecture, k * INTERVAL + n / 10)
    wall = intervals * INTERVAL + 0.5
    # One anchor per lecture credited 6 × 300 s here; one per official credits 300 s.
    assert credited(official) == intervals * INTERVAL <= wall


def test_opening_another_lecture_while_studying_credits_nothing_extra(official, index):
    first, second = make_lecture("甲", parent=index), make_lecture("乙", parent=index)
    beat(official, first, 0, credits.START)
    assert beat(official, first, 30).added_seconds == 30
    assert beat(official, second, 45, credits.START).added_seconds == 0
    assert beat(official, second, 60).added_seconds == 30
    assert beat(official, first, 60.5).added_seconds == 0
    # Reopening a lecture already studied is no fresh start either.
    assert beat(official, first, 70, credits.START).added_seconds == 0
    assert beat(official, first, 90).added_seconds == 30
    assert credited(official) == 90


def test_time_a_completed_lecture_cannot_take_goes_to_the_open_one(official, index):
    """The anchor moves by what was credited, so a finished lecture's tab does not
    swallow the time of the lecture still being studied."""
    done = make_lecture("已学完", parent=index, credit_minutes=1)
    studying = make_lecture("在学", parent=index, credit_minutes=60)
    beat(official, done, 0, credits.START)
    beat(official, done, 30)
    assert beat(official, done, 60).completed_now
    beat(official, studying, 61, credits.START)
    assert beat(official, done, 75).added_seconds == 0
    assert beat(official, studying, 90).added_seconds == 30
    assert credited(official) == 90


def test_two_officials_studying_at_once_do_not_affect_each_other(index, six_lectures):
    one, two = OfficialFactory(), OfficialFactory()
    shared, own = six_lectures[0], six_lectures[1]
    beat(one, shared, 0, credits.START)
    beat(two, shared, 1, credits.START)
    beat(two, own, 2, credits.START)
    for k in range(1, 11):
        assert beat(one, shared, k * INTERVAL).added_seconds == INTERVAL
        # The other official beats the same lecture a second later, and another one.
        assert beat(two, shared, k * INTERVAL + 1).added_seconds == INTERVAL
        assert beat(two, own, k * INTERVAL + 1).added_seconds == 0
    assert credited(one) == credited(two) == 10 * INTERVAL


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_heartbeats_on_six_lectures_credit_an_interval_once():
    """Six tabs, each on its own lecture, post the same interval at the same moment:
    the official's anchor lets exactly one of them be credited."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; this race needs PostgreSQL (DATABASE_URL)")
    official = OfficialFactory()
    index = lecture_index()
    lectures = [make_lecture(f"并发{n}", parent=index, credit_minutes=60) for n in range(6)]
    for lecture in lectures:
        beat(official, lecture, 0, credits.START)
    barrier = threading.Barrier(len(lectures))
    results = []

    def tab(lecture):
        try:
            barrier.wait()
            results.append(beat(official, lecture, INTERVAL).added_seconds)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=[lecture]) for lecture in lectures]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0] * (len(lectures) - 1) + [INTERVAL]
    assert credited(official) == INTERVAL


# --- generated schedules -----------------------------------------------------------
#
# The bound proved: for one official, sum of credited seconds <= t_last - t_first,
# where t_first is the time of their first heartbeat and t_last of their latest. The
# first heartbeat credits nothing and sets the anchor to t_first; the anchor only moves
# forward and never past the heartbeat's `now` (a beat moves it by what it credited,
# which is at most now - anchor, or to now after a gap longer than the cap; a start
# moves it to now only after such a gap); and every credit of c seconds moves it by at
# least c. So the sum credited is at most anchor - t_first <= t_last - t_first: no
# extra cap of slack, whatever the number of lectures or tabs.

# (credit minutes, video minutes): short lectures so that their caps are reached.
LECTURES = [(1, None), (1, 1), (2, None), (10, None)]

gaps = st.one_of(
    st.integers(0, 2_000),  # tabs beating within the same couple of seconds
    st.integers(25_000, 40_000),  # regular heartbeats, early or late
    st.integers(0, 120_000),  # anything, including pauses longer than the cap
)
schedules = st.tuples(
    # Which lecture each of up to six tabs shows (several tabs may show one lecture).
    st.lists(st.integers(0, len(LECTURES) - 1), min_size=1, max_size=6),
    # (milliseconds since the previous event, tab, event)
    st.lists(
        st.tuples(gaps, st.integers(0, 5), st.sampled_from(credits.EVENTS)),
        min_size=1,
        max_size=25,
    ),
)


@pytest.fixture
def short_lectures(db):
    index = lecture_index()
    return [
        make_lecture(f"短讲座{n}", parent=index, credit_minutes=minutes, video_minutes=video)
        for n, (minutes, video) in enumerate(LECTURES)
    ]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(schedule=([0], [(25_001, 0, credits.START), (25_000, 0, credits.BEAT)]))
@given(schedule=schedules)
def test_credit_never_exceeds_the_wall_time(short_lectures, schedule):
    tabs, events = schedule
    official = OfficialFactory()  # a fresh official: no state from earlier examples
    elapsed_ms, completions = 0, {}
    for gap, tab, event in events:
        elapsed_ms += gap
        lecture = short_lectures[tabs[tab % len(tabs)]]
        beat(official, lecture, elapsed_ms / 1000, event)

        records = list(StudyRecord.objects.filter(official=official))
        wall_ms = elapsed_ms - events[0][0]  # whole milliseconds: no float rounding
        assert sum(r.credited_seconds for r in records) * 1000 <= wall_ms
        for record in records:
            limit = next(lec for lec in short_lectures if lec.pk == record.lecture_id)
            assert record.credited_seconds <= limit.credit_minutes * 60
            if record.completed_at is not None:
                # Completion is set once and never moves.
                assert completions.setdefault(record.pk, record.completed_at) == record.completed_at
