"""Completion's edge cases (learning/completion.py): mid-year joiners, department
history, exemptions and credit time from other providers (court observations)."""

import datetime
import io
from decimal import Decimal

from django.utils import timezone

from wagtail import hooks

import openpyxl
import pytest

from learning import roster
from learning.completion import (
    RequirementItem,
    RequirementProvider,
    completion_for,
    evaluate,
    months_left,
    prorated_seconds,
)
from learning.models import (
    DepartmentMembership,
    Official,
    StudyExemption,
    departments_at,
    reporting_day,
)
from tests.factories import DepartmentFactory, OfficialFactory

from .factories import complete, make_plan, make_session

pytestmark = pytest.mark.django_db

YEAR = 2025
TZ = datetime.UTC
HOUR = 3600


@pytest.mark.parametrize(
    ("joined", "months"),
    [
        (None, 12),
        (datetime.date(2024, 12, 31), 12),
        (datetime.date(2025, 1, 1), 12),
        (datetime.date(2025, 1, 2), 11),
        (datetime.date(2025, 7, 1), 6),
        (datetime.date(2025, 7, 15), 5),
        (datetime.date(2025, 12, 31), 0),
        (datetime.date(2026, 1, 1), 0),
    ],
)
def test_whole_months_left_after_joining(joined, months):
    assert months_left(joined, YEAR) == months


@pytest.mark.parametrize(
    ("hours", "joined", "expected_hours"),
    [
        (12, datetime.date(2025, 7, 15), 5),  # 5 months of 12 h
        (10, datetime.date(2025, 7, 15), 4.5),  # 4.17 h rounds up to 4.5 h
        (10, datetime.date(2025, 7, 1), 5),
        (4, datetime.date(2025, 8, 15), 1.5),  # 1.33 h rounds up to 1.5 h
        (4, None, 4),
        (0, datetime.date(2025, 7, 15), 0),
    ],
)
def test_prorated_credit_rounds_up_to_half_an_hour(hours, joined, expected_hours):
    assert prorated_seconds(hours * HOUR, joined, YEAR) == expected_hours * HOUR


class _WindowedExams(RequirementProvider):
    """Two required exams: one closed in March, one closing in November."""

    def required_items(self, plans):
        march = datetime.datetime(YEAR, 3, 31, tzinfo=TZ)
        november = datetime.datetime(YEAR, 11, 30, tzinfo=TZ)
        return {
            plan.pk: [
                RequirementItem("fake.exam:march", "exam", "一季度考试", closes_at=march),
                RequirementItem("fake.exam:november", "exam", "年度考试", closes_at=november),
            ]
            for plan in plans
        }

    def done_keys(self, official_ids, year, items):
        return {}


def test_mid_year_joiner_owes_prorated_hours_and_only_open_windows():
    make_plan(YEAR, required_credit_hours=Decimal("12"))
    veteran = OfficialFactory()
    joiner = OfficialFactory(joined_on=datetime.date(YEAR, 7, 15))
    late = OfficialFactory(joined_on=datetime.date(YEAR + 1, 2, 1))
    with hooks.register_temporarily("register_plan_requirements", _WindowedExams):
        results = evaluate([veteran, joiner, late], YEAR)
    old, new, after = results[veteran.pk], results[joiner.pk], results[late.pk]
    assert old.required_seconds == 12 * HOUR and not old.prorated
    assert [i.key for i in old.missing] == ["fake.exam:march", "fake.exam:november"]
    assert new.required_seconds == 5 * HOUR and new.plan_seconds == 12 * HOUR and new.prorated
    assert [i.key for i in new.missing] == ["fake.exam:november"]
    assert after.required_seconds == 0 and after.missing == [] and after.is_complete


def test_joining_on_new_years_day_changes_nothing():
    make_plan(YEAR, required_credit_hours=Decimal("12"))
    official = OfficialFactory(joined_on=datetime.date(YEAR, 1, 1))
    result = completion_for(official, YEAR)
    assert result.required_seconds == 12 * HOUR and result.joined_on is None


def test_exempted_official_has_nothing_required_and_counts_complete(lecture):
    make_plan(YEAR, lectures=[lecture], required_credit_hours=Decimal("8"))
    exempted, other = OfficialFactory(), OfficialFactory()
    StudyExemption.objects.create(official=exempted, year=YEAR, reason="借调")
    StudyExemption.objects.create(official=other, year=YEAR - 1, reason="病假")
    results = evaluate([exempted, other], YEAR)
    mine = results[exempted.pk]
    assert mine.exempt and mine.exemption_reason == "借调"
    assert mine.is_complete and mine.missing == [] and mine.required_seconds == 0
    assert mine.plans  # the plan still applies; the exemption waives it
    theirs = results[other.pk]
    assert not theirs.exempt and not theirs.is_complete and len(theirs.missing) == 1


def test_exempted_officials_credit_still_shows(lecture):
    make_plan(YEAR, required_credit_hours=Decimal("8"))
    official = OfficialFactory()
    complete(official, lecture, when=datetime.datetime(YEAR, 5, 1, tzinfo=TZ))
    StudyExemption.objects.create(official=official, year=YEAR, reason="病假")
    assert completion_for(official, YEAR).lecture_seconds == lecture.credit_seconds


def test_credit_seconds_from_providers_add_to_credit():
    class ObservationCredit(RequirementProvider):
        def required_items(self, plans):
            return {}

        def done_keys(self, official_ids, year, items):
            return {}

        def credit_seconds(self, official_ids, year):
            return {pk: 2 * HOUR for pk in official_ids}

    make_plan(YEAR, required_credit_hours=Decimal("2"))
    official = OfficialFactory()
    with hooks.register_temporarily("register_plan_requirements", ObservationCredit):
        result = completion_for(official, YEAR)
    assert result.other_seconds == 2 * HOUR and result.credited_seconds == 2 * HOUR
    assert result.credit_met and result.is_complete and result.other_hours == 2.0


def test_attended_court_observations_earn_credit_minutes():
    from exams.observations.models import Attendance, Reflection
    from tests.exams.observation_factories import CourtObservationFactory

    def observation(month, **kwargs):
        starts = datetime.datetime(YEAR, month, 10, 9, tzinfo=TZ)
        return CourtObservationFactory(
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=2),
            registration_deadline=starts - datetime.timedelta(days=2),
            **kwargs,
        )

    official, absent = OfficialFactory(), OfficialFactory()
    plain = observation(3, credit_minutes=120)
    with_reflection = observation(4, credit_minutes=90, reflection_required=True)
    unreflected = observation(5, credit_minutes=60, reflection_required=True)
    checked = datetime.datetime(YEAR, 3, 10, 9, tzinfo=TZ)
    for item, status in ((plain, "present"), (with_reflection, "late"), (unreflected, "present")):
        Attendance.objects.create(
            observation=item, official=official, status=status, checked_in_at=checked
        )
    Attendance.objects.create(observation=plain, official=absent, status="absent")
    Reflection.objects.create(
        attendance=Attendance.objects.get(observation=with_reflection),
        text="很受教育",
        submitted_at=datetime.datetime(YEAR, 4, 12, tzinfo=TZ),
    )
    results = evaluate([official, absent], YEAR)
    assert results[official.pk].other_seconds == (120 + 90) * 60
    assert results[absent.pk].other_seconds == 0
    assert evaluate([official], YEAR + 1)[official.pk].other_seconds == 0


# --- Department history -----------------------------------------------------------


def test_new_official_starts_a_history_when_they_joined():
    joined = datetime.date(2025, 3, 1)
    official = OfficialFactory(joined_on=joined)
    (stay,) = DepartmentMembership.objects.filter(official=official)
    assert (stay.department, stay.start, stay.end) == (official.department, joined, None)


def test_a_transfer_closes_one_stay_and_opens_the_next():
    official = OfficialFactory()
    first = official.department
    second = DepartmentFactory()
    official.position = "副科长"
    official.save()  # no transfer: nothing written
    assert DepartmentMembership.objects.filter(official=official).count() == 1
    official.department = second
    official.save()
    today = timezone.localdate()
    stays = list(
        DepartmentMembership.objects.filter(official=official)
        .order_by("pk")
        .values_list("department_id", "start", "end")
    )
    assert stays == [(first.pk, None, today), (second.pk, today, None)]
    # A reloaded instance knows its department and records the next transfer too.
    from learning.models import Official

    again = Official.objects.get(pk=official.pk)
    again.department = first
    again.save()
    assert (
        DepartmentMembership.objects.filter(official=official, end__isnull=True).get().department
        == first
    )
    # Same-day moves replace rather than pile up zero-length stays.
    assert DepartmentMembership.objects.filter(official=official, start=today).count() == 1


def test_departments_at_a_day_in_bulk(django_assert_max_num_queries):
    a, b = DepartmentFactory(), DepartmentFactory()
    moved, stayed = OfficialFactory(department=b), OfficialFactory(department=a)
    DepartmentMembership.objects.filter(official=moved).delete()
    DepartmentMembership.objects.create(
        official=moved, department=a, start=None, end=datetime.date(2025, 10, 1)
    )
    DepartmentMembership.objects.create(
        official=moved, department=b, start=datetime.date(2025, 10, 1)
    )
    no_history = OfficialFactory(department=b)
    DepartmentMembership.objects.filter(official=no_history).delete()
    ids = [moved.pk, stayed.pk, no_history.pk]
    with django_assert_max_num_queries(2):
        in_june = departments_at(ids, datetime.date(2025, 6, 30))
    assert in_june == {moved.pk: a.pk, stayed.pk: a.pk, no_history.pk: b.pk}
    from learning.models import Official

    at_year_end = departments_at(Official.objects.filter(pk__in=ids), datetime.date(2025, 12, 31))
    assert at_year_end == {moved.pk: b.pk, stayed.pk: a.pk, no_history.pk: b.pk}


def test_reporting_day_is_the_years_end_or_today():
    assert reporting_day(2020) == datetime.date(2020, 12, 31)
    assert reporting_day(timezone.localdate().year + 1) == timezone.localdate()


def test_roster_import_writes_the_department_history():
    root = DepartmentFactory(name="区政府")
    office = DepartmentFactory(name="办公室", parent=root)
    bureau = DepartmentFactory(name="司法局", parent=root)
    official = OfficialFactory(department=office, staff_number="BH1001")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "工号", "部门"])
    sheet.append(["张三", "BH1001", "司法局"])
    sheet.append(["李四", "BH1002", "办公室"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = roster.import_roster(buffer.getvalue())
    assert (result["updated"], result["created"]) == (1, 1)
    today = timezone.localdate()
    history = DepartmentMembership.objects.filter(official=official).order_by("pk")
    assert [(m.department, m.end) for m in history] == [(office, today), (bureau, None)]
    newcomer = Official.objects.get(staff_number="BH1002")
    assert DepartmentMembership.objects.get(official=newcomer).department == office


def test_my_record_shows_observation_credit_and_an_exemption(client):
    from exams.observations.models import Attendance
    from tests.exams.observation_factories import CourtObservationFactory

    year = timezone.localdate().year
    make_plan(year, required_credit_hours=Decimal("2"))
    official = OfficialFactory()
    # A hearing that has ended (observation credit counts once it is over), this year.
    ends = timezone.localtime().replace(microsecond=0) - datetime.timedelta(seconds=1)
    new_year = ends.replace(month=1, day=1, hour=0, minute=0, second=0)
    starts = min(max(ends - datetime.timedelta(hours=2), new_year), ends)
    observation = CourtObservationFactory(
        starts_at=starts,
        ends_at=ends,
        registration_deadline=starts - datetime.timedelta(days=2),
        credit_minutes=120,
    )
    Attendance.objects.create(
        observation=observation, official=official, status="present", checked_in_at=starts
    )
    client.force_login(official.user)
    page = client.get("/me/record/")
    assert page.context["completion"].other_seconds == 2 * HOUR
    assert page.context["completion"].is_complete
    assert page.context["history"] == []  # history lists years with study or sessions
    body = page.content.decode()
    assert "data-exempt" not in body
    make_session(attendees=[official], date=starts.date(), credit_minutes=60)
    page = client.get("/me/record/")
    assert [(e["year"], e["hours"]) for e in page.context["history"]] == [(year, 3.0)]
    assert page.context["completion"].credited_hours == 3.0
    StudyExemption.objects.create(official=official, year=year, reason="借调")
    body = client.get("/me/record/").content.decode()
    assert "data-exempt" in body and "借调" in body


def _roster(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "工号", "部门", "入职日期"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_roster_reads_the_optional_joining_date():
    office = DepartmentFactory(name="办公室")
    veteran = OfficialFactory(
        department=office, staff_number="BH0001", joined_on=datetime.date(2019, 3, 1)
    )
    result = roster.import_roster(
        _roster(
            [
                ["张三", "BH1001", "办公室", "2025-08-15"],
                ["李四", "BH1002", "办公室", datetime.datetime(2025, 9, 1)],
                ["王五", "BH1003", "办公室", "2025年10月8日"],
                ["赵六", "BH1004", "办公室", None],
                ["老兵", "BH0001", "办公室", ""],  # blank keeps the recorded date
            ]
        )
    )
    assert result["created"] == 4
    joined = dict(
        Official.objects.filter(staff_number__startswith="BH1").values_list(
            "staff_number", "joined_on"
        )
    )
    assert joined == {
        "BH1001": datetime.date(2025, 8, 15),
        "BH1002": datetime.date(2025, 9, 1),
        "BH1003": datetime.date(2025, 10, 8),
        "BH1004": None,
    }
    veteran.refresh_from_db()
    assert veteran.joined_on == datetime.date(2019, 3, 1)
    first = DepartmentMembership.objects.get(official__staff_number="BH1001")
    assert first.start == datetime.date(2025, 8, 15)


def test_roster_refuses_a_date_it_cannot_read():
    DepartmentFactory(name="办公室")
    with pytest.raises(roster.RosterError) as error:
        roster.import_roster(
            _roster(
                [
                    ["张三", "BH1001", "办公室", "明年春天"],
                    ["李四", "BH1002", "办公室", "2025-02-30"],
                ]
            )
        )
    assert [(p.row, p.column) for p in error.value.problems] == [(2, "入职日期"), (3, "入职日期")]


def test_edge_cases_add_no_queries_per_official(lecture, django_assert_num_queries):
    make_plan(YEAR, lectures=[lecture], required_credit_hours=Decimal("4"))
    department = DepartmentFactory()
    few = [OfficialFactory(department=department) for _ in range(3)]
    many = [
        OfficialFactory(department=department, joined_on=datetime.date(YEAR, 1 + n % 12, 15))
        for n in range(24)
    ]
    for official in many[::3]:
        StudyExemption.objects.create(official=official, year=YEAR, reason="病假")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    evaluate(few, YEAR)  # the year's plans are held from now on (learning.completion)
    with CaptureQueriesContext(connection) as small:
        evaluate(few, YEAR)
    with django_assert_num_queries(len(small)):
        results = evaluate([*few, *many], YEAR)
    assert sum(r.exempt for r in results.values()) == 8
    assert sum(r.prorated for r in results.values()) == 16  # every joiner not exempted
