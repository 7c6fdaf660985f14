"""Plan evaluation (learning/completion.py): the single source of completion."""

import datetime
import gc
from decimal import Decimal

from wagtail import hooks

import pytest

from learning.completion import (
    RequirementItem,
    RequirementProvider,
    completion_for,
    cyclic_gc_paused,
    evaluate,
)
from learning.models import StudyRecord
from learning.models.study import Audience
from tests.factories import DepartmentFactory

from .factories import OfficialFactory, complete, make_lecture, make_plan, make_series, make_session

pytestmark = pytest.mark.django_db

YEAR = 2026


@pytest.fixture
def setup(index):
    series = make_series("民法典专题", parent=index)
    s1 = make_lecture("民法典总则", parent=series, credit_minutes=60)
    s2 = make_lecture("民法典物权", parent=series, credit_minutes=60)
    secrecy = make_lecture("保密法", parent=index, credit_minutes=60)
    plan = make_plan(YEAR, lectures=[secrecy], series=[series], required_credit_hours=Decimal("3"))
    return {"series": series, "s1": s1, "s2": s2, "secrecy": secrecy, "plan": plan}


def test_official_who_meets_the_plan(setup, official):
    for lecture in ("s1", "s2", "secrecy"):
        complete(official, setup[lecture])
    result = completion_for(official, YEAR)
    assert result.has_plan and result.plans == [setup["plan"]]
    assert result.credited_seconds == 3 * 3600 and result.credit_met
    assert {item.key for item in result.done} == {
        f"lecture:{setup['secrecy'].pk}",
        f"series:{setup['series'].pk}",
    }
    assert result.missing == [] and result.is_complete


def test_missing_credit_hours(setup, official):
    setup["plan"].required_credit_hours = Decimal("4")
    setup["plan"].save()
    for lecture in ("s1", "s2", "secrecy"):
        complete(official, setup[lecture])
    result = completion_for(official, YEAR)
    assert not result.credit_met and not result.is_complete and result.missing == []
    assert result.credit_percent == 75


def test_missing_required_lecture(setup, official):
    complete(official, setup["s1"])
    complete(official, setup["s2"])
    StudyRecord.objects.create(
        official=official,
        lecture=setup["secrecy"],
        credited_seconds=3000,
        started_at=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC),
        last_heartbeat_at=datetime.datetime(2026, 5, 1, 1, tzinfo=datetime.UTC),
    )
    result = completion_for(official, YEAR)
    assert [item.key for item in result.missing] == [f"lecture:{setup['secrecy'].pk}"]
    assert not result.is_complete


def test_missing_part_of_a_series(setup, official):
    complete(official, setup["s1"])
    complete(official, setup["secrecy"])
    result = completion_for(official, YEAR)
    assert [item.kind for item in result.missing] == ["series"]


def test_lecture_completed_after_the_year_does_not_count(setup, official):
    complete(official, setup["secrecy"], when=datetime.datetime(2027, 1, 5, tzinfo=datetime.UTC))
    result = completion_for(official, YEAR)
    assert f"lecture:{setup['secrecy'].pk}" in {i.key for i in result.missing}
    assert result.credited_seconds == 0


def test_collective_session_counts_as_credit_and_lecture(setup, official):
    make_session(attendees=[official], credit_minutes=90, lecture=setup["secrecy"])
    result = completion_for(official, YEAR)
    assert result.session_seconds == 90 * 60
    assert f"lecture:{setup['secrecy'].pk}" in {i.key for i in result.done}


def test_audiences():
    root = DepartmentFactory(name="区政府")
    office = DepartmentFactory(name="区政府办公室", parent=root)
    section = DepartmentFactory(name="法制科", parent=office)
    bureau = DepartmentFactory(name="区统计局", parent=root)
    staff = OfficialFactory(department=section)
    leader = OfficialFactory(department=bureau, is_leader=True)
    everyone = make_plan(YEAR, "全员", required_credit_hours=Decimal("2"))
    leaders = make_plan(
        YEAR, "领导干部", audience=Audience.LEADERS, required_credit_hours=Decimal("5")
    )
    office_plan = make_plan(YEAR, "办公室", audience=Audience.DEPARTMENTS, departments=[office])
    make_plan(YEAR - 1, "去年")
    results = evaluate([staff, leader], YEAR)
    assert set(results[staff.pk].plans) == {everyone, office_plan}
    assert set(results[leader.pk].plans) == {everyone, leaders}
    assert results[leader.pk].required_seconds == 5 * 3600
    assert results[staff.pk].required_seconds == 2 * 3600


def test_no_plan_means_nothing_required(official):
    result = completion_for(official, 2019)
    assert not result.has_plan and result.is_complete and result.required_seconds == 0


class _FakeExams(RequirementProvider):
    """A provider like the exams app will register: required items per plan and,
    in one query-free pass here, which officials have done them."""

    def __init__(self, passed):
        self.passed = passed

    def required_items(self, plans):
        return {
            plan.pk: [RequirementItem("fake.exam:1", "exam", "2026年度学法用法考试")]
            for plan in plans
        }

    def done_keys(self, official_ids, year, items):
        return {pk: {"fake.exam:1"} for pk in official_ids if pk in self.passed}


def test_requirement_providers_plug_in_through_the_hook(setup, official):
    other = OfficialFactory()
    with hooks.register_temporarily(
        "register_plan_requirements", lambda: _FakeExams({official.pk})
    ):
        results = evaluate([official, other], YEAR)
    assert "fake.exam:1" in {i.key for i in results[official.pk].done}
    assert "fake.exam:1" in {i.key for i in results[other.pk].missing}
    assert results[other.pk].missing[-1].kind_label == "考试"


class _Watcher(RequirementProvider):
    """Records whether the cycle collector ran while evaluate asked it; may fail."""

    def __init__(self, fail=False):
        self.fail, self.seen = fail, []

    def required_items(self, plans):
        return {plan.pk: [RequirementItem("watch:1", "exam", "考试")] for plan in plans}

    def done_keys(self, official_ids, year, items):
        self.seen.append(gc.isenabled())
        if self.fail:
            raise RuntimeError("provider failed")
        return {}


def test_the_cycle_collector_pauses_during_evaluate_and_comes_back(setup, official):
    assert gc.isenabled()
    watcher = _Watcher()
    with hooks.register_temporarily("register_plan_requirements", lambda: watcher):
        evaluate([official], YEAR)
    assert watcher.seen == [False] and gc.isenabled()
    failing = _Watcher(fail=True)
    with (
        hooks.register_temporarily("register_plan_requirements", lambda: failing),
        pytest.raises(RuntimeError),
    ):
        evaluate([official], YEAR)
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_evaluating_many_officials_takes_a_bounded_number_of_queries(
    setup, django_assert_max_num_queries
):
    dept = DepartmentFactory()
    officials = [OfficialFactory(department=dept) for _ in range(30)]
    for official in officials[::2]:
        complete(official, setup["secrecy"])
    # +2 since issue 6: the year's exemptions, observation credit time.
    with django_assert_max_num_queries(14):
        results = evaluate(officials, YEAR)
    assert len(results) == 30
    assert sum(1 for r in results.values() if not r.missing) == 0
    assert sum(1 for r in results.values() if len(r.done) == 1) == 15


def test_organizer_creates_a_plan_in_the_admin(client, organizer, index):
    from django.urls import reverse

    from learning.models import StudyPlan

    lecture = make_lecture("宪法", parent=index)
    client.force_login(organizer)
    url = reverse("wagtailsnippets_learning_studyplan:add")
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "year": "2026",
        "title": "2026年度学法计划",
        "audience": "leaders",
        "required_credit_hours": "12.5",
        "required_lectures": [lecture.pk],
        "notes": "",
    }
    # Inline panels that requirement providers add (e.g. required exams) stay empty.
    for formset in page.context["form"].formsets.values():
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
    response = client.post(url, data)
    assert response.status_code == 302
    plan = StudyPlan.objects.get(title="2026年度学法计划")
    assert list(plan.required_lectures.all()) == [lecture]
    assert plan.required_seconds == 45000


def test_provider_panels_join_the_plan_form():

    from wagtail.admin.panels import HelpPanel

    from learning.study_admin import StudyPlanViewSet

    class WithPanel(_FakeExams):
        def panels(self):
            return [HelpPanel(content="<p>exam-requirements-panel</p>")]

    with hooks.register_temporarily("register_plan_requirements", lambda: WithPanel(set())):
        handler = StudyPlanViewSet(name="probe").get_edit_handler()
    assert any(isinstance(child, HelpPanel) for child in handler.children)
