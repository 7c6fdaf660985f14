"""The demo meeting law-study agenda (learning/demo_agenda.py): the seed's two expert
lectures at the executive meeting, the district head's rule-of-law lesson and the
party group and all-staff items; one held with attendance, one overdue; idempotent."""

import pytest

from exams import agenda_follow_up
from exams import demo as exams_demo
from learning import agenda, demo, demo_agenda, demo_lectures
from learning.completion import completion_for
from learning.models import AgendaItem, Official

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    demo.load_departments()
    demo.load_people()
    demo_lectures.load_topics_and_speakers()
    demo_lectures.load_lectures()
    return demo_agenda.load_agenda()


def test_the_demo_agenda_follows_the_seed(loaded):
    assert loaded == 5
    executive = {
        item.title: item.speaker.name
        for item in AgendaItem.objects.filter(meeting="executive").select_related("speaker")
    }
    assert executive == {
        "法律专家讲座：重大行政决策程序": "付士成",
        "法律专家讲座：《民法典》": "陈耀东",
        "区长讲法治课": "区政府主要负责同志",
    }
    meetings = set(AgendaItem.objects.values_list("meeting", flat=True))
    assert meetings == {"executive", "party_group", "all_staff"}
    assert AgendaItem.objects.get(title="区长讲法治课").lecture.slug == "district-head-lesson"


def test_one_item_is_held_with_attendance_and_one_is_overdue(loaded):
    held = AgendaItem.objects.get(status="held")
    assert held.speaker.name == "付士成"
    leader = Official.objects.get(user__username="leader")
    assert leader.pk in agenda.attending_ids(held.session)
    assert completion_for(leader, held.date.year).session_seconds >= 60 * 60
    assert [item.title for item in agenda.overdue()] == ["法律专家讲座：《民法典》"]


def test_loading_again_changes_nothing(loaded):
    assert demo_agenda.load_agenda() == 0
    assert AgendaItem.objects.count() == 5


def test_the_held_item_asks_follow_up_questions_from_the_exams_demo_quiz(loaded):
    held = AgendaItem.objects.get(status="held")
    assert (held.follow_up_questions, held.lecture.slug) == (True, "major-administrative-decisions")
    assert agenda.follow_up_summaries([held])[held.pk].has_quiz is False
    exams_demo.load_questions()
    assert agenda_follow_up.load_demo() == 1
    assert agenda_follow_up.load_demo() == 0  # idempotent
    summary = agenda.follow_up_summaries([held])[held.pk]
    # Two attendees answered: all three right, and two of three (66.67%).
    assert (summary.answered, summary.passed, str(summary.average)) == (2, 2, "83.3")
    assert summary.attended == len(agenda.attending_ids(held.session))
