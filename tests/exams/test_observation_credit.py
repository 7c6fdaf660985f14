"""Court observations in study plan completion (learning.completion) and on the
official's dashboard."""

import datetime

from django.urls import reverse
from django.utils import timezone

import pytest

from exams.observations import services
from exams.observations.credit import ObservationRequirements, item_key
from exams.observations.models import Attendance, PlanObservation, Status
from learning.completion import completion_for, evaluate, providers
from learning.models import StudyPlan
from tests.factories import OfficialFactory

from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db


def _plan(year, *required):
    plan = StudyPlan.objects.create(year=year, title=f"{year}年度学法计划")
    for observation in required:
        PlanObservation.objects.create(plan=plan, observation=observation)
    return plan


@pytest.fixture
def past():
    starts = timezone.now() - datetime.timedelta(days=2)
    return CourtObservationFactory(
        starts_at=starts,
        registration_deadline=starts - datetime.timedelta(days=1),
        reflection_due_days=30,
    )


def _attend(official, observation, status=Status.PRESENT):
    attendance, _ = Attendance.objects.get_or_create(
        observation=observation, official=official, defaults={"status": Status.REGISTERED}
    )
    return services.mark(attendance, status, by=None)


def test_provider_is_registered_and_adds_the_inline_panel():
    provider = next(p for p in providers() if isinstance(p, ObservationRequirements))
    assert provider.panels()[0].relation_name == "required_observations"


def test_attendance_completes_the_requirement(official, past):
    year = timezone.localtime(past.starts_at).year
    _plan(year, past)
    result = completion_for(official, year)
    assert [item.key for item in result.missing] == [item_key(past.pk)]
    assert result.missing[0].kind_label == "庭审观摩"
    _attend(official, past, Status.LATE)
    result = completion_for(official, year)
    assert [item.key for item in result.done] == [item_key(past.pk)] and not result.missing


@pytest.mark.parametrize("status", [Status.REGISTERED, Status.EXCUSED, Status.ABSENT])
def test_other_statuses_do_not_count(official, past, status):
    year = timezone.localtime(past.starts_at).year
    _plan(year, past)
    Attendance.objects.create(observation=past, official=official, status=status)
    assert completion_for(official, year).missing


def test_required_reflection(official, past):
    past.reflection_required = True
    past.save()
    year = timezone.localtime(past.starts_at).year
    _plan(year, past)
    attendance = _attend(official, past)
    assert completion_for(official, year).missing
    services.submit_reflection(Attendance.objects.get(pk=attendance.pk), "观后感")
    assert not completion_for(official, year).missing


def test_evaluate_many_officials_in_bounded_queries(past, django_assert_max_num_queries):
    year = timezone.localtime(past.starts_at).year
    _plan(year, past)
    officials = [OfficialFactory() for _ in range(30)]
    for official in officials[::2]:
        _attend(official, past)
    with django_assert_max_num_queries(12):
        results = evaluate(officials, year)
    done = [pk for pk, r in results.items() if not r.missing]
    assert sorted(done) == sorted(o.pk for o in officials[::2])


def test_plan_edit_form_has_the_inline_panel(organizer_client, past):
    plan = _plan(2026, past)
    response = organizer_client.get(
        reverse("wagtailsnippets_learning_studyplan:edit", args=[plan.pk])
    )
    assert response.status_code == 200
    assert "required_observations-TOTAL_FORMS" in response.content.decode()


def test_dashboard_panel_shows_next_observation_and_reflection_due(
    official_client, official, past, django_assert_max_num_queries
):
    upcoming = CourtObservationFactory(title="下周的旁听")
    services.register(official, upcoming)
    _attend(official, past)
    with django_assert_max_num_queries(40):
        content = official_client.get(reverse("home")).content.decode()
    assert "下周的旁听" in content
    assert reverse("observations:reflection", args=[past.pk]) in content
    services.submit_reflection(Attendance.objects.get(official=official, observation=past), "好")
    content = official_client.get(reverse("home")).content.decode()
    assert reverse("observations:reflection", args=[past.pk]) not in content


def test_organizer_requires_an_observation_in_a_plan(organizer_client, past):
    response = organizer_client.post(
        reverse("wagtailsnippets_learning_studyplan:add"),
        {
            "year": "2026",
            "title": "2026年度领导干部学法计划",
            "audience": "leaders",
            "required_credit_hours": "8",
            "notes": "",
            "required_observations-TOTAL_FORMS": "1",
            "required_observations-INITIAL_FORMS": "0",
            "required_observations-MIN_NUM_FORMS": "0",
            "required_observations-MAX_NUM_FORMS": "1000",
            "required_observations-0-observation": str(past.pk),
            "required_observations-0-id": "",
            "required_observations-0-ORDER": "1",
            "required_observations-0-DELETE": "",
            "required_exams-TOTAL_FORMS": "0",
            "required_exams-INITIAL_FORMS": "0",
            "required_exams-MIN_NUM_FORMS": "0",
            "required_exams-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    plan = StudyPlan.objects.get(title="2026年度领导干部学法计划")
    assert [link.observation for link in plan.required_observations.all()] == [past]
