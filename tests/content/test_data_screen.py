"""The data screen (数据大屏): its figures are the reports' figures for the same data,
they reach the player through the poll, they are computed once per refresh for all
screens (the fast paths' idiom, equal to the plain path), and text is escaped."""

import datetime
from datetime import timedelta

from django.utils import timezone, translation

import pytest

from content import data_screen, screens
from content.models import PublicityItem
from exams.models import SessionKind
from exams.reports.completion import build_report
from exams.reports.data_screen import WholeOrganisation
from exams.reports.yearend import year_end
from learning.models import StudyRecord
from tests.exams.factories import ExamSessionFactory
from tests.exams.observation_factories import CourtObservationFactory
from tests.exams.report_fixtures import finished_attempt
from tests.factories import DepartmentFactory, OfficialFactory
from tests.learning.factories import complete, make_lecture, make_plan, make_session

from .factories import PlaylistEntryFactory, PublicityItemFactory, ScreenPlaylistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def data_screen_for(screen_factory_kwargs=None):
    assignment = ScreenPlaylistFactory(**(screen_factory_kwargs or {}))
    PlaylistEntryFactory(playlist=assignment.playlist, item__title="第一张")
    PlaylistEntryFactory(
        playlist=assignment.playlist,
        item=PublicityItemFactory(
            title="学法数据大屏", kind=PublicityItem.Kind.DATA_SCREEN, headline="", points=""
        ),
    )
    return assignment.screen


@pytest.fixture
def organisation():
    """区政府 > 东区 (> 东区科室) and 西区; a plan requiring one lecture this year."""
    now = timezone.now()
    year = timezone.localtime(now).year
    root = DepartmentFactory(name="区政府")
    east = DepartmentFactory(name="东区", parent=root)
    east_office = DepartmentFactory(name="东区科室", parent=east)
    west = DepartmentFactory(name="西区", parent=root)
    lecture = make_lecture("宪法讲座")
    make_plan(year=year, lectures=[lecture])
    people = {
        "e1": OfficialFactory(department=east),
        "e2": OfficialFactory(department=east_office),
        "e3": OfficialFactory(department=east_office),
        "w1": OfficialFactory(department=west),
        "w2": OfficialFactory(department=west),
    }
    this_month = now - timedelta(minutes=5)
    for key in ("e1", "e2", "w1"):
        complete(people[key], lecture, when=this_month)
    return {"year": year, "lecture": lecture, "east": east, "west": west, **people}


def panel(figures, key):
    return next(p for p in figures["panels"] if p["key"] == key)


def test_completion_by_top_level_department_is_the_reports_share(organisation):
    figures = data_screen.compute()
    rows = panel(figures, "completion")["rows"]
    assert [(r["label"], r["value"]) for r in rows] == [("东区", 66.7), ("西区", 50.0)]
    # The same as the completion report's rows of those departments, summed.
    report = build_report(organisation["year"], user=WholeOrganisation())
    east = [r for r in report.rows if r.department.path.startswith(organisation["east"].path)]
    complete = sum(r.complete for r in east)
    counted = sum(r.counted for r in east)
    assert rows[0]["value"] == round(100 * complete / counted, 1)


def test_studying_officials_this_month(organisation):
    now = timezone.now()
    # Credit last studied in an earlier month does not count for this one.
    earlier = OfficialFactory()
    last_month = data_screen.month_bounds(now)[0] - timedelta(days=3)
    StudyRecord.objects.create(
        official=earlier,
        lecture=organisation["lecture"],
        credited_seconds=600,
        started_at=last_month,
        last_heartbeat_at=last_month,
    )
    # A collective study session this month counts; an opened lecture with no credit does not.
    attendee = OfficialFactory()
    make_session(attendees=[attendee], date=timezone.localdate())
    StudyRecord.objects.create(
        official=OfficialFactory(),
        lecture=organisation["lecture"],
        started_at=now,
        last_heartbeat_at=now,
    )
    # A deactivated official is not counted.
    organisation["w1"].user.is_active = False
    organisation["w1"].user.save()
    assert data_screen.studying_officials(now) == 3  # e1, e2 and the attendee
    assert panel(data_screen.compute(), "studying")["value"] == 3


def test_pass_rates_and_upcoming_observations(organisation):
    year = organisation["year"]
    session = ExamSessionFactory(kind=SessionKind.ANNUAL, year=year)
    when = timezone.now() - timedelta(minutes=10)
    finished_attempt(session, organisation["e1"], 90, when=when)
    finished_attempt(session, organisation["e2"], 40, when=when)
    finished_attempt(session, organisation["w1"], 80, when=when)
    soon = CourtObservationFactory(title="行政诉讼旁听")
    CourtObservationFactory(
        title="已结束",
        starts_at=timezone.now() - timedelta(days=3),
        ends_at=timezone.now() - timedelta(days=3) + timedelta(hours=2),
        registration_deadline=timezone.now() - timedelta(days=5),
    )
    figures = data_screen.compute()
    rates = panel(figures, "pass_rates")["rows"]
    assert [(r["label"], r["value"]) for r in rates] == [(str(SessionKind.ANNUAL.label), 66.7)]
    # The year-end report's pass rate for the same data.
    reported = year_end(WholeOrganisation(), year).exams
    assert [(e.label, e.pass_rate) for e in reported if e.participants] == [
        (r["label"], r["value"]) for r in rates
    ]
    assert rates[0]["text"].startswith("66.7 %")
    upcoming = panel(figures, "observations")["rows"]
    assert [r["label"] for r in upcoming] == [soon.title]


def test_the_figures_reach_the_player_in_the_poll(client, organisation):
    screen = data_screen_for()
    document = client.get(f"/screens/{screen.token}/playlist.json").json()
    item = next(i for i in document["items"] if i["kind"] == "data_screen")
    assert [p["key"] for p in item["figures"]] == [
        "studying",
        "completion",
        "pass_rates",
        "observations",
    ]
    assert panel({"panels": item["figures"]}, "studying")["value"] == 3  # e1, e2, w1


def test_hostile_names_stay_text(client):
    OfficialFactory(department=DepartmentFactory(name='<img src=x onerror="alert(1)">'))
    screen = data_screen_for()
    response = client.get(f"/screens/{screen.token}/playlist.json")
    assert response["Content-Type"] == "application/json"
    item = next(i for i in response.json()["items"] if i["kind"] == "data_screen")
    labels = [r["label"] for r in panel({"panels": item["figures"]}, "completion")["rows"]]
    assert labels == ['<img src=x onerror="alert(1)">']  # set as textContent by the player


@pytest.mark.fast_paths
def test_figures_are_computed_once_per_refresh_for_all_screens(
    organisation, monkeypatch, django_assert_num_queries
):
    calls = []
    original = data_screen.compute
    monkeypatch.setattr(
        data_screen, "compute", lambda now_ts=None: calls.append(1) or original(now_ts)
    )
    many = [data_screen_for() for _ in range(5)]
    screens.forget_documents()
    documents = [screens.playlist_document(screens.screen_for_token(s.token)) for s in many]
    assert len(calls) == 1
    # The documents hold until the figures' expiry, then take the next figures.
    expires = data_screen.figures()["expires"]
    assert all(d.valid_until <= expires for d in documents)
    later = datetime.datetime.fromtimestamp(expires + 1, tz=datetime.UTC)
    screens.playlist_document(screens.screen_for_token(many[0].token), now=later)
    assert len(calls) == 2
    # Another process with an empty memory reads the shared figures: no query.
    data_screen.forget()
    with django_assert_num_queries(0):
        assert (
            data_screen.figures(expires + 2)["expires"]
            == expires + 1 + data_screen.refresh_seconds()
        )


@pytest.mark.fast_paths
def test_the_kept_figures_equal_the_plain_path(organisation, settings):
    kept = data_screen.figures()
    settings.XUEFA_FAST_PATHS = False
    plain = data_screen.figures()
    assert kept["panels"] == plain["panels"]


@pytest.mark.fast_paths
def test_a_department_change_starts_new_figures_at_once(organisation):
    before = [r["label"] for r in panel(data_screen.figures(), "completion")["rows"]]
    organisation["west"].name = "西区政府"
    organisation["west"].save()
    after = [r["label"] for r in panel(data_screen.figures(), "completion")["rows"]]
    assert (before, after) == (["东区", "西区"], ["东区", "西区政府"])


@pytest.mark.fast_paths
def test_a_warm_poll_of_a_data_screen_runs_no_query(
    client, organisation, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(screens, "_next_flush_check", float("inf"))
    screen = data_screen_for()
    etag = client.get(f"/screens/{screen.token}/playlist.json")["ETag"]
    with django_assert_num_queries(0):
        response = client.get(f"/screens/{screen.token}/playlist.json", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


def test_a_data_screen_item_needs_nothing_but_a_title():
    PublicityItem(title="数据大屏", kind=PublicityItem.Kind.DATA_SCREEN).full_clean()
