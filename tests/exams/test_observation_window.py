"""Court-observation check-in counts only inside the event's window, credit waits for
the hearing's scheduled end, organizers may still mark by hand (audited), and the
confirmation shows the date and time (issue "Exam and study integrity")."""

import datetime
import zoneinfo

from django.urls import reverse
from django.utils import timezone, translation

import pytest

from exams.observations import services
from exams.observations.credit import ObservationRequirements, item_key
from exams.observations.models import (
    Attendance,
    AttendanceChange,
    ChangeSource,
    CourtObservation,
    PlanObservation,
    Status,
)
from exams.observations.views import PENDING_CHECKIN_KEY
from learning.completion import completion_for
from learning.models import StudyPlan

from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# 2026年12月6日 09:00-11:00 in Shanghai: check-in opens 08:00, closes 11:00 by default.
STARTS = datetime.datetime(2026, 12, 6, 9, 0, tzinfo=SHANGHAI)
ENDS = datetime.datetime(2026, 12, 6, 11, 0, tzinfo=SHANGHAI)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def hearing(official):
    """The official is invited to the hearing above (the default window)."""
    return CourtObservationFactory(
        starts_at=STARTS,
        ends_at=ENDS,
        registration_deadline=STARTS - datetime.timedelta(days=2),
        invited=[official],
    )


def _scan(official, observation, at):
    """The official scans the code the screen shows at `at`, at `at`."""
    return services.check_in(official, services.checkin_token(observation, at), now=at)


def _refusal(official, observation, at, language="en"):
    with translation.override(language), pytest.raises(services.ObservationRefused) as caught:
        _scan(official, observation, at)
    with translation.override(language):
        return str(caught.value)


def _nothing_recorded(observation, official):
    attendance = Attendance.objects.get(observation=observation, official=official)
    assert (attendance.status, attendance.checked_in_at) == (Status.INVITED, None)
    assert not AttendanceChange.objects.filter(attendance=attendance).exists()


# --- the window ---------------------------------------------------------------------


def test_defaults_are_an_hour_before_the_start_until_the_end(hearing):
    assert (hearing.checkin_opens_minutes_before, hearing.checkin_closes_minutes_after) == (60, 0)
    assert hearing.checkin_opens_at == datetime.datetime(2026, 12, 6, 8, 0, tzinfo=SHANGHAI)
    assert hearing.checkin_closes_at == ENDS


def test_ten_days_early_is_refused_and_says_when_check_in_opens(official, hearing):
    early = STARTS - datetime.timedelta(days=10)
    message = _refusal(official, hearing, early)
    assert message == (
        "Check-in has not opened yet: it opens at Dec. 6, 2026, 8 a.m., please scan again then."
    )
    assert "2026年12月6日 08:00" in _refusal(official, hearing, early, language="zh-hans")
    _nothing_recorded(hearing, official)


def test_after_the_scheduled_end_is_refused(official, hearing):
    message = _refusal(official, hearing, ENDS + SECOND)
    assert message == "Check-in closed at Dec. 6, 2026, 11 a.m.; please see the organizer."
    assert "2026年12月6日 11:00" in _refusal(official, hearing, ENDS + SECOND, language="zh-hans")
    _nothing_recorded(hearing, official)


def test_one_second_before_opening_is_refused(official, hearing):
    opens = STARTS - datetime.timedelta(minutes=60)
    assert _refusal(official, hearing, opens - SECOND).startswith("Check-in has not opened yet:")
    _nothing_recorded(hearing, official)


def test_exactly_at_opening_checks_in_present(official, hearing):
    opens = STARTS - datetime.timedelta(minutes=60)
    attendance = _scan(official, hearing, opens)
    assert (attendance.status, attendance.checked_in_at) == (Status.PRESENT, opens)
    change = attendance.changes.get()
    assert (change.source, change.old_status, change.new_status) == (
        ChangeSource.CHECK_IN,
        Status.INVITED,
        Status.PRESENT,
    )


def test_exactly_at_the_end_checks_in_late(official, hearing):
    attendance = _scan(official, hearing, ENDS)
    assert (attendance.status, attendance.checked_in_at) == (Status.LATE, ENDS)


@pytest.mark.parametrize(
    "offset,accepted",
    [
        (STARTS - datetime.timedelta(minutes=15) - SECOND, False),
        (STARTS - datetime.timedelta(minutes=15), True),
        (ENDS + datetime.timedelta(minutes=30), True),
        (ENDS + datetime.timedelta(minutes=30) + SECOND, False),
    ],
)
def test_window_is_configured_per_event(official, hearing, offset, accepted):
    """Opens 15 minutes before the start and closes 30 minutes after the end."""
    hearing.checkin_opens_minutes_before = 15
    hearing.checkin_closes_minutes_after = 30
    hearing.save()
    if accepted:
        assert _scan(official, hearing, offset).checked_in_at == offset
    else:
        _refusal(official, hearing, offset)
        _nothing_recorded(hearing, official)


def test_the_sign_in_detour_counts_from_the_scan_inside_the_window(official, hearing):
    """A scan one minute before the end, signed in two minutes later, still counts."""
    scanned = ENDS - datetime.timedelta(minutes=1)
    token = services.checkin_token(hearing, scanned)
    later = scanned + datetime.timedelta(minutes=2)
    attendance = services.check_in(official, token, now=later, scanned_at=scanned)
    assert (attendance.status, attendance.checked_in_at) == (Status.LATE, scanned)


# --- the scan page ------------------------------------------------------------------


@pytest.fixture
def next_week(official):
    """Starts in ten days: the official is invited and scans far too early."""
    starts = timezone.now().replace(microsecond=0) + datetime.timedelta(days=10)
    return CourtObservationFactory(
        starts_at=starts,
        registration_deadline=starts - datetime.timedelta(days=2),
        invited=[official],
    )


def _url(observation):
    token = services.checkin_token(observation, timezone.now())
    return reverse("observations:checkin", args=[token])


def _local(at):
    local = timezone.localtime(at, SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def test_scanning_ten_days_early_shows_when_check_in_opens(official_client, official, next_week):
    response = official_client.get(_url(next_week))
    assert response.status_code == 400
    content = response.content.decode()
    assert "data-checkin-error" in content and "data-checkin-status" not in content
    assert _local(next_week.starts_at - datetime.timedelta(hours=1)) in content
    _nothing_recorded(next_week, official)


def test_anonymous_early_scan_is_refused_before_sign_in(client, official, next_week):
    response = client.get(_url(next_week))
    assert response.status_code == 400
    assert PENDING_CHECKIN_KEY not in client.session
    _nothing_recorded(next_week, official)


def test_scanning_after_the_hearing_is_refused(official_client, official):
    ended = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=1)
    observation = CourtObservationFactory(
        starts_at=ended - datetime.timedelta(hours=2),
        registration_deadline=ended - datetime.timedelta(days=3),
        invited=[official],
    )
    response = official_client.get(_url(observation))
    assert response.status_code == 400
    assert _local(observation.ends_at) in response.content.decode()
    _nothing_recorded(observation, official)


def test_confirmation_shows_the_date_and_time_in_shanghai(official_client, official):
    now = timezone.now()
    observation = CourtObservationFactory(
        starts_at=now - datetime.timedelta(minutes=1),
        ends_at=now + datetime.timedelta(hours=2),
        registration_deadline=now - datetime.timedelta(days=1),
        invited=[official],
    )
    response = official_client.get(_url(observation))
    assert response.status_code == 200
    attendance = Attendance.objects.get(observation=observation, official=official)
    assert attendance.status == Status.PRESENT
    content = response.content.decode()
    assert f"签到时间 {_local(attendance.checked_in_at)}" in content
    local = timezone.localtime(attendance.checked_in_at, SHANGHAI)
    assert f'data-checked-in-at="{local.isoformat()}"' in content


def test_detail_and_check_in_screen_show_the_window(official_client, organizer, hearing):
    detail = official_client.get(reverse("observations:detail", args=[hearing.pk]))
    window = "<dd data-checkin-window>2026-12-06 08:00 – 2026-12-06 11:00</dd>"
    assert window in detail.content.decode()
    official_client.force_login(organizer)
    screen = official_client.get(reverse("observation_tools:checkin_screen", args=[hearing.pk]))
    assert "2026-12-06 08:00 – 2026-12-06 11:00</p>" in screen.content.decode()


# --- credit waits for the end -------------------------------------------------------


def _plan(observation):
    year = timezone.localtime(observation.starts_at).year
    plan = StudyPlan.objects.create(year=year, title=f"{year}年度学法计划")
    PlanObservation.objects.create(plan=plan, observation=observation)
    return plan


def test_credit_is_not_granted_before_the_end_and_is_at_the_end(official, hearing):
    _scan(official, hearing, STARTS)
    provider = ObservationRequirements()
    assert provider.credit_seconds([official.pk], 2026, now=ENDS - SECOND) == {}
    assert provider.credit_seconds([official.pk], 2026, now=ENDS) == {official.pk: 7200}


def test_requirement_is_not_done_before_the_end(official, hearing):
    _scan(official, hearing, STARTS)
    provider = ObservationRequirements()
    plan = _plan(hearing)
    items = provider.required_items([plan])[plan.pk]
    assert provider.done_keys([official.pk], 2026, items, now=ENDS - SECOND) == {}
    done = provider.done_keys([official.pk], 2026, items, now=ENDS)
    assert done == {official.pk: {item_key(hearing.pk)}}


def test_a_checked_in_official_gets_no_credit_while_the_hearing_runs(official_client, official):
    now = timezone.now()
    running = CourtObservationFactory(
        starts_at=now - datetime.timedelta(minutes=30),
        ends_at=now + datetime.timedelta(minutes=90),
        registration_deadline=now - datetime.timedelta(days=1),
        invited=[official],
    )
    _plan(running)
    assert _scan(official, running, now).status == Status.LATE
    year = timezone.localtime(running.starts_at).year
    completion = completion_for(official, year)
    assert completion.other_seconds == 0
    assert [item.key for item in completion.missing] == [item_key(running.pk)]
    record = official_client.get(reverse("learning:record"), {"year": year})
    assert record.context["completion"].other_seconds == 0
    # Once the scheduled end has passed, the same attendance earns its credit.
    CourtObservation.objects.filter(pk=running.pk).update(
        starts_at=now - datetime.timedelta(hours=3), ends_at=now - datetime.timedelta(hours=1)
    )
    completion = completion_for(official, year)
    assert completion.other_seconds == 7200 and not completion.missing
    record = official_client.get(reverse("learning:record"), {"year": year})
    assert record.context["completion"].other_seconds == 7200


# --- organizers mark by hand, at any time, audited ----------------------------------


def test_organizer_marks_present_outside_the_window_and_it_is_audited(official, organizer, hearing):
    attendance = Attendance.objects.get(observation=hearing, official=official)
    ten_days_early = STARTS - datetime.timedelta(days=10)
    marked = services.mark(attendance, Status.PRESENT, by=organizer, now=ten_days_early)
    assert (marked.status, marked.checked_in_at) == (Status.PRESENT, ten_days_early)
    change = AttendanceChange.objects.get(attendance=attendance)
    assert (change.source, change.changed_by, change.old_status, change.new_status) == (
        ChangeSource.ORGANIZER,
        organizer,
        Status.INVITED,
        Status.PRESENT,
    )
    assert change.changed_at == ten_days_early


def test_organizer_marks_on_the_sheet_after_the_window(organizer_client, organizer, official):
    ended = timezone.now() - datetime.timedelta(days=1)
    observation = CourtObservationFactory(
        starts_at=ended - datetime.timedelta(hours=2),
        registration_deadline=ended - datetime.timedelta(days=3),
        invited=[official],
    )
    attendance = Attendance.objects.get(observation=observation, official=official)
    sheet = reverse("observation_tools:sheet", args=[observation.pk])
    response = organizer_client.post(sheet, {"attendance": attendance.pk, "status": "late"})
    assert (response.status_code, response["Location"]) == (302, sheet)
    attendance.refresh_from_db()
    assert attendance.status == Status.LATE and attendance.checked_in_at is not None
    change = AttendanceChange.objects.get(attendance=attendance)
    assert (change.source, change.changed_by) == (ChangeSource.ORGANIZER, organizer)
    year = timezone.localtime(observation.starts_at).year
    assert completion_for(official, year).other_seconds == 7200
