"""Follow-up questions after a meeting's law study (会后测试), exams' side: the
attendee's dashboard to-do (shown at once, gone at once when a try is submitted, gone
after the due date), the organizer's figures on the agenda listing (hand-computed, at
a flat number of queries), the reminder sent once per attendee after the commit, the
lecture without a quiz, and the demo."""

import datetime
import re

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

import pytest

from exams import agenda_follow_up
from exams.models import LectureQuiz, LectureQuizQuestion, QuizAttempt
from learning import agenda
from learning.models import AgendaItem, Delivery
from tests.admin_forms import edit_form_data
from tests.factories import AgendaItemFactory, OfficialFactory
from tests.learning.factories import make_lecture

from .factories import QuestionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.fast_paths]

TODO = re.compile(r'data-follow-up="(\d+)"')


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.XUEFA_NOTICE_CHANNELS = ["email"]
    with translation.override("en"):
        yield


@pytest.fixture
def lecture(db):
    return make_lecture("重大行政决策程序")


@pytest.fixture
def questions(db):
    first = QuestionFactory(stem="第一题")
    return [first, QuestionFactory(topic=first.topic, stem="第二题")]


@pytest.fixture
def quiz(lecture, questions):
    """Two single-choice questions (A is right); one right is 50%, under the mark."""
    quiz = LectureQuiz.objects.create(lecture=lecture, pass_mark=60)
    for order, question in enumerate(questions):
        LectureQuizQuestion.objects.create(quiz=quiz, question=question, sort_order=order)
    return quiz


def days_ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def planned(lecture, days=None, when=3):
    return AgendaItemFactory(
        date=days_ago(when),
        title="法律专家讲座：重大行政决策程序",
        lecture=lecture,
        follow_up_questions=True,
        follow_up_days=days,
    )


def hold(item, *officials):
    session = agenda.record_held(item).session
    agenda.add_attendees(session, [o.pk for o in officials])
    return session


def answers(questions, right):
    """The quiz form: the first `right` questions answered A (right), the rest B."""
    return {f"q{q.pk}": ["A" if n < right else "B"] for n, q in enumerate(questions)}


def todos(client):
    response = client.get("/")
    assert response.status_code == 200
    return [int(pk) for pk in TODO.findall(response.content.decode())]


# --- The attendee's to-do -------------------------------------------------------------------


def test_the_to_do_shows_when_held_and_goes_when_a_try_is_submitted(
    official_client, official, quiz, lecture, questions
):
    item = planned(lecture)
    assert todos(official_client) == []
    session = agenda.record_held(item).session
    assert todos(official_client) == []  # not an attendee yet
    agenda.add_attendees(session, [official.pk])
    page = official_client.get("/").content.decode()
    assert todos(official_client) == [item.pk]
    assert reverse("exams:quiz", args=[lecture.pk]) in page
    assert (
        f"Answer the follow-up questions of the District executive meeting {session.date:%Y-%m-%d}"
        in page
    )

    # A try that fails still answers the follow-up (passing is the quiz's own matter).
    response = official_client.post(reverse("exams:quiz", args=[lecture.pk]), answers(questions, 1))
    assert response.status_code == 302
    assert QuizAttempt.objects.get().passed is False
    assert todos(official_client) == []


def test_switching_follow_up_off_or_removing_the_attendee_clears_the_to_do(
    official_client, official, quiz, lecture
):
    item = planned(lecture)
    session = hold(item, official)
    assert todos(official_client) == [item.pk]
    agenda.set_attendance(session, [official.pk], [])
    assert todos(official_client) == []
    agenda.add_attendees(session, [official.pk])
    assert todos(official_client) == [item.pk]
    item.refresh_from_db()
    item.follow_up_questions = False
    item.save()
    assert todos(official_client) == []


def test_a_try_before_the_meeting_does_not_answer_it_and_the_due_date_ends_it(
    official_client, official, quiz, lecture, questions
):
    earlier = QuizAttempt.objects.create(quiz=quiz, official=official, percent=100, passed=True)
    QuizAttempt.objects.filter(pk=earlier.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=30)
    )
    on_time = planned(lecture, days=5, when=3)
    hold(on_time, official)
    assert todos(official_client) == [on_time.pk]
    assert f"by {days_ago(-2):%Y-%m-%d}" in official_client.get("/").content.decode()
    too_late = planned(make_lecture("另一讲"), days=2, when=3)
    LectureQuiz.objects.create(lecture=too_late.lecture)
    hold(too_late, official)
    assert todos(official_client) == [on_time.pk]


def test_a_lecture_without_a_quiz_shows_officials_nothing(official_client, official, lecture):
    hold(planned(lecture), official)
    assert todos(official_client) == []


# --- The organizer's figures ----------------------------------------------------------------


def test_the_listing_shows_attended_answered_passed_and_the_average(
    client, organizer, quiz, lecture, questions
):
    a, b, c, stranger = OfficialFactory.create_batch(4)
    item = planned(lecture)
    hold(item, a, b, c)
    # a: 50% then 100% (passed; best 100); b: 50% (not passed); c: only a try before
    # the meeting; a stranger's try does not count.
    for official, right in ((a, 1), (a, 2), (b, 1), (stranger, 2)):
        QuizAttempt.objects.create(
            quiz=quiz, official=official, percent=right * 50, passed=right == 2, correct=right
        )
    before = QuizAttempt.objects.create(quiz=quiz, official=c, percent=100, passed=True)
    QuizAttempt.objects.filter(pk=before.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    summary = agenda.follow_up_summaries([item])[item.pk]
    assert (summary.attended, summary.answered, summary.passed, str(summary.average)) == (
        3,
        2,
        1,
        "75.0",
    )
    client.force_login(organizer)
    page = client.get(reverse("wagtailsnippets_learning_agendaitem:list")).content.decode()
    assert 'data-attended="3" data-answered="2" data-passed="1" data-average="75.0"' in page
    assert "2 of 3 answered, 1 passed; average 75.0%" in page
    assert reverse("wagtailsnippets_exams_lecturequiz:edit", args=[quiz.pk]) in page


def test_the_listing_costs_the_same_queries_for_3_and_12_held_items(client, organizer, questions):
    client.force_login(organizer)
    url = reverse("wagtailsnippets_learning_agendaitem:list")

    def cost(count):
        for _ in range(count):
            lecture = make_lecture("讲座")
            quiz = LectureQuiz.objects.create(lecture=lecture)
            official = OfficialFactory()
            hold(planned(lecture), official, OfficialFactory())
            QuizAttempt.objects.create(quiz=quiz, official=official, percent=80, passed=True)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    assert cost(3) == cost(9)


def test_a_lecture_without_a_quiz_warns_the_organizer_with_the_link_to_make_one(
    client, organizer, lecture
):
    item = planned(lecture)
    client.force_login(organizer)
    response = client.post(
        reverse("agenda_admin:held", args=[item.pk]),
        {
            "date": f"{item.date:%Y-%m-%d}",
            "meeting": "executive",
            "title": item.title,
            "lecture": lecture.pk,
            "credit_minutes": "60",
            "follow_up_questions": "on",
        },
        follow=True,
    )
    assert "The lecture page has no quiz yet" in response.content.decode()
    page = client.get(reverse("wagtailsnippets_learning_agendaitem:list")).content.decode()
    assert "data-no-quiz" in page
    assert reverse("wagtailsnippets_exams_lecturequiz:add") in page


def test_hr_sees_the_figures_without_changing_anything(hr_client, quiz, lecture):
    hold(planned(lecture), OfficialFactory())
    page = hr_client.get(reverse("wagtailsnippets_learning_agendaitem:list"))
    assert page.status_code == 200
    assert "0 of 1 answered, 0 passed" in page.content.decode()


# --- The reminder ----------------------------------------------------------------------------


def test_attendees_are_reminded_once_after_the_commit(
    quiz, lecture, django_capture_on_commit_callbacks
):
    a, b = OfficialFactory(user__email="a@example.cn"), OfficialFactory(user__email="b@example.cn")
    item = planned(lecture, days=7)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session = hold(item, a)
    assert not Delivery.objects.exists()  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert [m.to for m in mail.outbox] == [["a@example.cn"]]
    message = mail.outbox[0]
    assert (
        message.subject
        == f"Follow-up questions: District executive meeting {session.date:%Y-%m-%d}"
    )
    url = agenda_follow_up.reminder_url(item)
    assert url.endswith(f"{reverse('exams:quiz', args=[lecture.pk])}?agenda={item.pk}")
    assert url in message.body
    # Saved again, and with a newcomer: only the newcomer is told.
    with django_capture_on_commit_callbacks(execute=True):
        agenda.add_attendees(session, [a.pk, b.pk])
    with django_capture_on_commit_callbacks(execute=True):
        agenda.set_attendance(session, [a.pk, b.pk], [a.pk, b.pk])
    assert [m.to for m in mail.outbox] == [["a@example.cn"], ["b@example.cn"]]
    assert Delivery.objects.filter(kind="study_reminder", url=url).count() == 2


def test_no_reminder_without_a_quiz_or_with_follow_up_off(
    lecture, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hold(planned(lecture), OfficialFactory())
    LectureQuiz.objects.create(lecture=lecture)
    with django_capture_on_commit_callbacks(execute=True):
        hold(AgendaItemFactory(lecture=lecture), OfficialFactory())
    assert not Delivery.objects.exists()
    assert AgendaItem.objects.filter(follow_up_questions=True).count() == 1


def test_switching_follow_up_on_for_a_held_item_in_the_admin_reminds_its_attendees(
    client, organizer, quiz, lecture, django_capture_on_commit_callbacks
):
    attendee = OfficialFactory(user__email="a@example.cn")
    item = AgendaItemFactory(date=days_ago(2), lecture=lecture)
    hold(item, attendee)
    assert not mail.outbox
    client.force_login(organizer)
    url = reverse("wagtailsnippets_learning_agendaitem:edit", args=[item.pk])
    data = {**edit_form_data(client, url), "follow_up_questions": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
    assert [m.to for m in mail.outbox] == [["a@example.cn"]]
