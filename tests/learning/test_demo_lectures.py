"""Demo learning content (learning/demo_lectures.py) loads idempotently."""

import pytest

from learning import demo_lectures
from learning.completion import completion_for
from learning.models import (
    CollectiveStudySession,
    LecturePage,
    LectureSeriesPage,
    Official,
    StudyPlan,
    StudyRecord,
)

pytestmark = pytest.mark.django_db

LOADERS = [
    demo_lectures.load_topics_and_speakers,
    demo_lectures.load_lectures,
    demo_lectures.load_study_plans,
    demo_lectures.load_study_sessions,
    demo_lectures.load_study_progress,
]


@pytest.fixture
def demo():
    from learning import demo as organisation

    organisation.load_departments()
    organisation.load_people()
    return [loader() for loader in LOADERS]


def test_demo_content(demo, client):
    assert all(count > 0 for count in demo)
    index = demo_lectures.lecture_index()
    assert index.url == "/lectures/"
    titles = set(LecturePage.objects.live().values_list("title", flat=True))
    assert {
        "重大行政决策程序",
        "《民法典》专题讲座",
        "区长讲法治课",
        "学习贯彻《保密法》",
    } <= titles
    decisions = LecturePage.objects.get(title="重大行政决策程序")
    assert [str(s) for s in decisions.speakers.all()] == ["付士成（南开大学法学院）"]
    assert decisions.occasion == "区政府常务会"
    series = LectureSeriesPage.objects.get(title="民法典专题")
    assert LecturePage.objects.child_of(series).count() == 2
    assert StudyPlan.objects.filter(year=2020).exists()
    assert CollectiveStudySession.objects.filter(title__contains="保密警示教育片").exists()
    secrecy = LecturePage.objects.get(slug="secrecy-law")
    assert "document" in [block.block_type for block in secrecy.body]

    official = Official.objects.get(user__username="official")
    assert StudyRecord.objects.filter(official=official).count() == 3
    progress = completion_for(official, StudyPlan.objects.latest("year").year)
    assert progress.done and progress.missing and progress.credited_seconds > 0

    client.force_login(official.user)
    assert client.get("/lectures/").status_code == 200
    assert client.get(secrecy.url).status_code == 200
    assert client.get("/me/record/").status_code == 200


def test_demo_loaders_are_idempotent(demo):
    assert [loader() for loader in LOADERS] == [0, 0, 0, 0, 0]
