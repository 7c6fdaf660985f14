"""Every to-do on the dashboard is a link to where it is done: a required lecture to
its page, a required exam to its session, a required court observation to its page,
and credit hours still to earn to the lecture hall."""

import re
from decimal import Decimal

import pytest

from exams.models import PlanExam
from exams.observations.models import PlanObservation
from tests.factories import OfficialFactory
from tests.learning.factories import lecture_index, make_lecture, make_plan

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper
from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db

TODO = re.compile(r'<ul class="todo-list">(.*?)</ul>', re.S)


def todos(client):
    response = client.get("/")
    assert response.status_code == 200
    [block] = TODO.findall(response.content.decode())
    return re.findall(r"<li>(.*?)</li>", block, re.S)


def test_each_thing_still_to_do_links_to_where_it_is_done(client):
    official = OfficialFactory()
    lecture = make_lecture("宪法讲座", parent=lecture_index(), credit_minutes=30, slug="xianfa")
    plan = make_plan(year=2026, lectures=[lecture], required_credit_hours=Decimal("2"))
    session = ExamSessionFactory(
        title="年度考试", paper=fixed_paper([QuestionFactory(answer="A")], points=Decimal(100))
    )
    PlanExam.objects.create(plan=plan, session=session, sort_order=1)
    observation = CourtObservationFactory(title="行政案件旁听")
    PlanObservation.objects.create(plan=plan, observation=observation, sort_order=1)
    client.force_login(official.user)

    items = todos(client)
    assert items[0].startswith('<a href="/lectures/">')  # 2.0 hours to earn: the lecture hall
    assert "2.0" in items[0]
    links = {re.search(r">(.*?)</a>", item).group(1): item for item in items[1:]}
    assert '<a href="/lectures/xianfa/">宪法讲座</a>' in links["宪法讲座"]
    assert f'<a href="/exams/{session.pk}/">年度考试</a>' in links["年度考试"]
    assert f'<a href="/observations/{observation.pk}/">行政案件旁听</a>' in links["行政案件旁听"]
    assert all("<a href=" in item for item in items)
