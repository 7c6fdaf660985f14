"""The year's plans and what they require are held in each app process
(learning.completion, learning.fast.memo): the held value gives what reading them
afresh gives, after every kind of change, and spares each first dashboard of the
morning the queries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from learning.completion import completion_for, evaluate, plans_for_year
from learning.models import LecturePage
from learning.models.study import Audience
from tests.factories import DepartmentFactory, OfficialFactory

from .factories import make_lecture, make_plan, make_series

pytestmark = [pytest.mark.django_db, pytest.mark.fast_paths]

YEAR = 2026


def summary(completion):
    return (
        completion.required_seconds,
        [(i.key, i.label) for i in completion.done],
        [(i.key, i.label) for i in completion.missing],
        [plan.pk for plan in completion.plans],
    )


def held_equals_plain(official):
    held = completion_for(official, YEAR)
    plain = evaluate([official], YEAR, plans=plans_for_year(YEAR))[official.pk]
    assert summary(held) == summary(plain)
    return summary(held)


def test_held_plans_follow_every_change(index):
    department = DepartmentFactory()
    official = OfficialFactory(department=department)
    first = make_lecture("宪法讲座", parent=index)
    assert held_equals_plain(official)[2] == []
    plan = make_plan(YEAR, lectures=[first])
    assert held_equals_plain(official)[2] == [(f"lecture:{first.pk}", "宪法讲座")]

    second = make_lecture("民法典讲座", parent=index)
    plan.required_lectures.add(second)  # a required lecture added (a clusterable plan:
    plan.save()  # its links are written when it is saved, as the admin does)
    assert len(held_equals_plain(official)[2]) == 2

    revision = LecturePage.objects.get(pk=first.pk)
    revision.title = "宪法学习讲座"
    revision.save_revision().publish()  # a required lecture renamed
    assert (f"lecture:{first.pk}", "宪法学习讲座") in held_equals_plain(official)[2]

    LecturePage.objects.get(pk=second.pk).unpublish()  # one taken down
    assert held_equals_plain(official)[2] == [(f"lecture:{first.pk}", "宪法学习讲座")]

    series = make_series("保密专题", parent=index)
    plan.required_series.add(series)
    plan.save()
    assert (f"series:{series.pk}", "保密专题") in held_equals_plain(official)[2]

    plan.audience = Audience.DEPARTMENTS  # the plan now applies elsewhere
    plan.departments.set([DepartmentFactory()])
    plan.save()
    assert held_equals_plain(official)[2] == []
    plan.delete()
    assert held_equals_plain(official)[3] == []


def test_the_first_dashboard_of_each_official_reads_the_plans_once(client, index):
    make_plan(YEAR, lectures=[make_lecture("宪法讲座", parent=index)])
    department = DepartmentFactory()
    officials = [OfficialFactory(department=department) for _ in range(3)]
    plan_reads = []
    for official in officials:
        client.force_login(official.user)
        with CaptureQueriesContext(connection) as queries:
            assert "宪法讲座" in client.get("/").text
        plan_reads.append(sum("learning_studyplan" in q["sql"] for q in queries))
    assert plan_reads[0] == 4  # the plans, their departments, lectures and series
    assert plan_reads[1:] == [0, 0]
