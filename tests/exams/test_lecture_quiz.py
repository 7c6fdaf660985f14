"""The quiz after a lecture (课后练习): who may open it, marking and retries, that its
answers stay out of the notebook, and that a required quiz is part of completing the
lecture wherever completion is decided, at a flat number of queries."""

import datetime
import json
import re

from django.contrib.auth.models import Group
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail.models import PageViewRestriction

import pytest

from exams import gate
from exams import quizzes as quiz_service
from exams.models import (
    Answer,
    LectureQuiz,
    LectureQuizQuestion,
    NotebookEntry,
    QuestionType,
    QuizAttempt,
)
from exams.reports.record_pdf import record_sheets
from learning.completion import completion_for, evaluate
from learning.lecture_requirements import standing
from learning.models import LecturePage, StudyRecord
from tests.admin_forms import edit_form_data
from tests.factories import OfficialFactory
from tests.learning.factories import make_lecture, make_plan, make_series

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
RIGHT = {"single": ["A"], "multiple": ["A", "C"], "true_false": "T", "blank": ["许可", "１５"]}


def quiz_for(lecture, questions, **kwargs):
    quiz = LectureQuiz.objects.create(lecture=lecture, **kwargs)
    for order, question in enumerate(questions):
        LectureQuizQuestion.objects.create(quiz=quiz, question=question, sort_order=order)
    return quiz


@pytest.fixture
def lecture(db):
    return make_lecture("行政许可法讲座", credit_minutes=30)


@pytest.fixture
def questions(db):
    single = QuestionFactory(stem="单选题干", explanation="单选的解析")
    topic = single.topic
    multiple = QuestionFactory(topic=topic, multiple=True, stem="多选题干")
    true_false = QuestionFactory(topic=topic, true_false=True, stem="判断题干")
    blank = QuestionFactory(
        topic=topic,
        type=QuestionType.FILL_BLANK,
        stem="设定____，期限为（ ）日。",
        option_a="",
        option_b="",
        option_c="",
        option_d="",
        answer="",
        blanks=[["行政许可", "许可"], ["15", "十五"]],
        explanation="填空的解析",
    )
    return [single, multiple, true_false, blank]


@pytest.fixture
def quiz(lecture, questions):
    """Four questions; three right make 75%, over the pass mark of 70."""
    return quiz_for(lecture, questions, pass_mark=70, required_for_completion=True)


def answers(questions, right=("single", "multiple", "true_false", "blank")):
    """POST data answering the fixture's questions: right where named, else wrong."""
    single, multiple, true_false, blank = questions
    data = {
        f"q{single.pk}": RIGHT["single"] if "single" in right else ["B"],
        f"q{multiple.pk}": RIGHT["multiple"] if "multiple" in right else ["A"],
        f"q{true_false.pk}": RIGHT["true_false"] if "true_false" in right else "F",
    }
    texts = RIGHT["blank"] if "blank" in right else ["许可", "30"]
    data.update({f"q{blank.pk}-{n}": text for n, text in enumerate(texts)})
    return data


def url(lecture):
    return reverse("exams:quiz", args=[lecture.pk])


def studied(official, lecture, when=None):
    """The lecture's credit time done."""
    when = when or timezone.now() - datetime.timedelta(hours=1)
    return StudyRecord.objects.create(
        official=official,
        lecture=lecture,
        credited_seconds=lecture.credit_seconds,
        started_at=when - datetime.timedelta(seconds=lecture.credit_seconds),
        last_heartbeat_at=when,
        completed_at=when,
    )


# --- Who may open it ----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, quiz, lecture):
    for address in (url(lecture), reverse("exams:quiz_try", args=[lecture.pk, 1])):
        response = client.get(address)
        assert response.status_code == 302
        assert response.url == f"/accounts/login/?next={address}"
    response = client.post(url(lecture), {})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert not QuizAttempt.objects.exists()


def test_a_lecture_without_a_quiz_or_unpublished_is_a_404(official_client, lecture, questions):
    assert official_client.get(url(lecture)).status_code == 404
    assert official_client.get(reverse("exams:quiz", args=[999999])).status_code == 404
    draft = make_lecture("草稿讲座", live=False)
    quiz_for(draft, questions[:1])
    assert official_client.get(url(draft)).status_code == 404
    assert official_client.post(url(draft), answers(questions)).status_code == 404


def test_someone_without_an_officials_profile_gets_a_404(client, superuser, quiz, lecture):
    client.force_login(superuser)
    assert client.get(url(lecture)).status_code == 404


def test_a_lecture_the_reader_may_not_open_keeps_its_quiz_too(official_client, quiz, lecture):
    restriction = PageViewRestriction.objects.create(
        page=lecture, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.set([Group.objects.create(name="领导干部")])
    assert official_client.get(url(lecture)).status_code == 404


def test_a_post_without_the_csrf_token_is_refused(official, quiz, lecture, questions):
    client = Client(enforce_csrf_checks=True)
    client.force_login(official.user)
    response = client.post(url(lecture), answers(questions))
    assert response.status_code == 403
    assert not QuizAttempt.objects.exists()


def test_other_peoples_tries_are_a_404(official_client, quiz, lecture, questions):
    someone = OfficialFactory()
    theirs = quiz_service.submit(quiz, someone, questions, _querydict(answers(questions)))
    address = reverse("exams:quiz_try", args=[lecture.pk, theirs.pk])
    assert official_client.get(address).status_code == 404
    other_lecture = make_lecture("另一讲座")
    quiz_for(other_lecture, questions[:1])
    mine = official_client.post(url(lecture), answers(questions))
    pk = int(mine.url.rstrip("/").split("/")[-1])
    assert (
        official_client.get(reverse("exams:quiz_try", args=[other_lecture.pk, pk])).status_code
        == 404
    )


def _querydict(data):
    query = QueryDict(mutable=True)
    for key, value in data.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    return query


# --- Taking it -------------------------------------------------------------------------


def test_the_quiz_page_asks_without_giving_the_answers_away(official_client, quiz, lecture):
    text = official_client.get(url(lecture)).text
    assert "单选题干" in text and "多选题干" in text and "判断题干" in text
    assert text.count('class="blank"') == 2
    assert "单选的解析" not in text and "填空的解析" not in text and "十五" not in text
    assert 'name="csrfmiddlewaretoken"' in text


def test_a_try_is_marked_and_shows_each_answer_with_the_key(
    official_client, official, quiz, lecture, questions
):
    response = official_client.post(
        url(lecture), answers(questions, right=("single", "blank", "true_false"))
    )
    attempt = QuizAttempt.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("exams:quiz_try", args=[lecture.pk, attempt.pk])
    assert (attempt.correct, attempt.total, attempt.percent, attempt.passed) == (3, 4, 75, True)
    assert attempt.official == official
    single, multiple, _tf, blank = questions
    assert attempt.responses[str(multiple.pk)] == "A"
    assert attempt.responses[str(blank.pk)] == ["许可", "１５"]  # kept as typed
    text = official_client.get(response.url).text
    assert text.count('data-verdict="right"') == 3 and text.count('data-verdict="wrong"') == 1
    assert "A. 选项甲；C. 选项丙" in text  # the key of the multiple choice missed
    assert "单选的解析" in text and "填空的解析" in text
    assert "行政许可 / 许可" in text


def test_tries_are_unlimited_and_the_first_pass_counts(
    official_client, official, quiz, lecture, questions
):
    for _ in range(3):
        official_client.post(url(lecture), answers(questions, right=("single",)))
    assert QuizAttempt.objects.filter(passed=False).count() == 3
    assert quiz_service.first_pass(quiz, official) is None
    official_client.post(url(lecture), answers(questions))
    official_client.post(url(lecture), answers(questions, right=()))
    passed = QuizAttempt.objects.get(passed=True)
    assert quiz_service.first_pass(quiz, official) == passed.created_at
    text = official_client.get(url(lecture)).text
    assert 'id="quiz-passed"' in text and text.count("exams/quiz/") >= 5


def test_unanswered_questions_and_made_up_options_count_as_wrong(
    official_client, quiz, lecture, questions
):
    single, multiple, true_false, blank = questions
    data = {f"q{single.pk}": ["Z"], f"q{multiple.pk}": ["A", "C", "X"], "q999999": ["A"]}
    official_client.post(url(lecture), data)
    attempt = QuizAttempt.objects.get()
    assert attempt.responses == {str(multiple.pk): "AC"}
    assert (attempt.correct, attempt.passed) == (1, False)


def test_quiz_answers_never_enter_the_notebook(official_client, official, quiz, lecture, questions):
    official_client.post(url(lecture), answers(questions, right=()))
    assert not NotebookEntry.objects.exists()
    assert not Answer.objects.exists()
    assert official_client.get(reverse("exams:notebook")).status_code == 200
    assert not NotebookEntry.objects.filter(official=official).exists()


def test_questions_an_open_exam_asks_are_marked_but_their_key_withheld(
    official_client, official, quiz, lecture, questions
):
    ExamSessionFactory(paper=fixed_paper(questions[:1]))  # open, assigned to everyone
    response = official_client.post(url(lecture), answers(questions, right=("multiple",)))
    text = official_client.get(response.url).text
    assert "单选的解析" not in text and "data-score-withheld" in text
    assert text.count("data-verdict=") == 3  # the withheld one has none
    assert "填空的解析" in text
    assert QuizAttempt.objects.get().correct == 1


# --- Completion ----------------------------------------------------------------------------


def test_a_required_quiz_completes_the_lecture_only_once_passed(
    official_client, official, quiz, lecture, questions
):
    make_plan(YEAR, lectures=[lecture])
    studied(official, lecture)
    assert [i.key for i in completion_for(official, YEAR).missing] == [f"lecture:{lecture.pk}"]
    official_client.post(url(lecture), answers(questions, right=("single",)))
    assert not completion_for(official, YEAR).is_complete
    official_client.post(url(lecture), answers(questions))
    completion = completion_for(official, YEAR)
    assert [i.key for i in completion.done] == [f"lecture:{lecture.pk}"] and completion.is_complete


def test_the_quiz_alone_does_not_complete_the_lecture(
    official_client, official, quiz, lecture, questions
):
    make_plan(YEAR, lectures=[lecture])
    official_client.post(url(lecture), answers(questions))
    assert [i.key for i in completion_for(official, YEAR).missing] == [f"lecture:{lecture.pk}"]


def test_a_quiz_not_required_leaves_completion_to_the_credit_time(official, lecture, questions):
    quiz_for(lecture, questions, required_for_completion=False)
    make_plan(YEAR, lectures=[lecture])
    studied(official, lecture)
    assert completion_for(official, YEAR).is_complete


def test_a_series_waits_for_the_quiz_of_each_lecture(official_client, official, questions):
    series = make_series("许可专题")
    first = make_lecture("第一讲", parent=series)
    second = make_lecture("第二讲", parent=series)
    quiz_for(second, questions)
    make_plan(YEAR, series=[series])
    studied(official, first)
    studied(official, second)
    assert completion_for(official, YEAR).missing
    official_client.post(url(second), answers(questions))
    assert completion_for(official, YEAR).is_complete


def test_the_exam_gate_waits_for_the_quiz(
    official_client, official, quiz, lecture, questions, bank
):
    make_plan(YEAR, lectures=[lecture])
    studied(official, lecture)
    exam = ExamSessionFactory(paper=fixed_paper(bank), gate_required_lectures=True, year=YEAR)
    [blocker] = gate.blockers(exam, official)
    assert "行政许可法讲座" in blocker.message
    official_client.post(url(lecture), answers(questions))
    assert gate.blockers(exam, official) == []


def test_completion_costs_the_same_queries_for_many_officials_and_lectures(questions):
    plan = make_plan(YEAR)

    def add(n_officials, n_lectures):
        lectures = [make_lecture(f"讲座{n}") for n in range(n_lectures)]
        for lecture in lectures:
            quiz_for(lecture, questions[:2])
        plan.required_lectures.add(*lectures)
        plan.save()  # a parental many-to-many is written on save
        officials = OfficialFactory.create_batch(n_officials)
        everyone = list(plan.required_lectures.all())
        for official in officials:
            for lecture in everyone:
                studied(official, lecture)
                QuizAttempt.objects.create(
                    quiz=lecture.quiz,
                    official=official,
                    total=2,
                    correct=2,
                    percent=100,
                    passed=True,
                )
        return officials

    few = add(2, 1)
    with CaptureQueriesContext(connection) as small:
        assert all(c.is_complete for c in evaluate(few, YEAR).values())
    many = add(12, 3)
    with CaptureQueriesContext(connection) as large:
        results = evaluate(many, YEAR)
    assert len(large) == len(small)
    assert [(len(c.done), len(c.missing), c.credit_met) for c in results.values()] == [
        (4, 0, True)
    ] * 12
    assert not any(c.is_complete for c in evaluate(few, YEAR).values())  # 3 quizzes since


def test_the_quiz_page_costs_the_same_queries_however_many_tries(
    official_client, official, quiz, lecture, questions
):
    official_client.post(url(lecture), answers(questions))
    official_client.get(url(lecture))  # the session settles
    with CaptureQueriesContext(connection) as one:
        assert official_client.get(url(lecture)).status_code == 200
    for _ in range(25):
        quiz_service.submit(quiz, official, questions, _querydict(answers(questions, right=())))
    with CaptureQueriesContext(connection) as many:
        text = official_client.get(url(lecture)).text
    assert len(many) == len(one)
    assert text.count("/tries/") == 10  # the latest ten


# --- Where the official and HR see it --------------------------------------------------


@pytest.mark.fast_paths
def test_the_lecture_page_from_its_shell_is_the_page_rendered_whole(
    quiz, lecture, questions, monkeypatch
):
    official = OfficialFactory()
    studied(official, lecture)
    quiz_service.submit(quiz, official, questions, _querydict(answers(questions)))
    client = Client()
    client.force_login(official.user)
    client.get(lecture.url)  # renders and keeps the shell
    from_shell = client.get(lecture.url).text
    monkeypatch.setattr(LecturePage, "serve_shell", lambda self, request: None)
    whole = client.get(lecture.url).text
    token = re.compile(r"\b[A-Za-z0-9]{64}\b")
    assert "data-requirement-met" in from_shell
    assert token.sub("TOKEN", from_shell) == token.sub("TOKEN", whole)


@pytest.mark.fast_paths
def test_the_lecture_page_shows_each_reader_their_own_standing(quiz, lecture, questions):
    passed, pending = OfficialFactory(), OfficialFactory()
    studied(passed, lecture)
    studied(pending, lecture)
    quiz_service.submit(quiz, passed, questions, _querydict(answers(questions)))
    clients = {}
    for official in (passed, pending, passed, pending):  # the first renders the shell
        client = clients.setdefault(official.pk, Client())
        client.force_login(official.user)
        text = client.get(lecture.url).text
        assert url(lecture) in text
        if official is passed:
            assert "data-requirement-met" in text and "data-requirement-pending" not in text
            assert "data-requirements-pending" not in text
        else:
            assert "data-requirement-pending" in text and "data-requirement-met" not in text
            assert "data-requirements-pending" in text  # study time done, quiz not yet


def test_a_freshly_passed_quiz_shows_on_the_lecture_page_at_once(
    official_client, official, quiz, lecture, questions
):
    studied(official, lecture)
    assert "data-requirement-pending" in official_client.get(lecture.url).text
    official_client.post(url(lecture), answers(questions))
    text = official_client.get(lecture.url).text
    assert "data-requirement-met" in text and "data-requirements-pending" not in text


def test_a_quiz_added_to_a_lecture_shows_on_its_page_at_once(official_client, lecture, questions):
    assert url(lecture) not in official_client.get(lecture.url).text
    quiz_for(lecture, questions)
    assert url(lecture) in official_client.get(lecture.url).text
    LectureQuiz.objects.get().delete()
    assert url(lecture) not in official_client.get(lecture.url).text


def test_the_printed_record_dates_the_lecture_when_its_quiz_was_passed(
    official, quiz, lecture, questions
):
    studied(official, lecture, when=timezone.now() - datetime.timedelta(days=3))
    [sheet] = record_sheets([official], YEAR)
    assert [done_on for _title, _minutes, done_on in sheet.lectures] == [None]
    quiz_service.submit(quiz, official, questions, _querydict(answers(questions)))
    [sheet] = record_sheets([official], YEAR)
    passed_on = timezone.localtime(QuizAttempt.objects.get().created_at).date()
    assert [done_on for _title, _minutes, done_on in sheet.lectures] == [passed_on]


def test_my_record_shows_the_quiz_and_completes_the_lecture_with_it(
    official_client, official, quiz, lecture, questions
):
    studied(official, lecture)
    record_url = reverse("learning:record")
    response = official_client.get(record_url)
    assert "data-requirement-pending" in response.text
    assert "data-lecture-requirements" in response.text
    assert [r.complete_at for r in response.context["year_records"]] == [None]
    assert response.context["history"][0]["completed"] == 0
    official_client.post(url(lecture), answers(questions))
    response = official_client.get(record_url)
    assert "data-requirement-met" in response.text
    assert "data-requirement-pending" not in response.text
    assert [r.complete_at for r in response.context["year_records"]] == [
        QuizAttempt.objects.get().created_at
    ]
    assert response.context["history"][0]["completed"] == 1


def test_hr_sees_each_lectures_quiz_on_the_officials_record(
    hr_client, official, quiz, lecture, questions
):
    studied(official, lecture)
    address = reverse("completion_report:official", args=[official.pk]) + f"?year={YEAR}"
    text = hr_client.get(address).text
    [requirement] = standing([lecture.pk]).of(lecture.pk)
    assert "data-lecture-requirements" in text and requirement.pending_text in text
    quiz_service.submit(quiz, official, questions, _querydict(answers(questions)))
    text = hr_client.get(address).text
    passed_on = timezone.localdate().strftime("%Y-%m-%d")
    assert f"✓ {requirement.done_text} {passed_on}" in text


# --- The back office -----------------------------------------------------------------------


def _quiz_post(lecture, questions, pass_mark=60):
    data = {
        "lecture": lecture.pk,
        "pass_mark": pass_mark,
        "required_for_completion": "on",
        "items-TOTAL_FORMS": len(questions),
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 1,
        "items-MAX_NUM_FORMS": 1000,
    }
    for n, question in enumerate(questions):
        data.update(
            {
                f"items-{n}-question": question.pk,
                f"items-{n}-ORDER": n + 1,
                f"items-{n}-id": "",
                f"items-{n}-DELETE": "",
            }
        )
    return data


def test_organizers_attach_a_quiz_to_a_lecture(organizer_client, lecture, questions):
    add = reverse("wagtailsnippets_exams_lecturequiz:add")
    assert organizer_client.get(add).status_code == 200
    response = organizer_client.post(add, _quiz_post(lecture, questions, pass_mark=80))
    assert response.status_code == 302
    quiz = LectureQuiz.objects.get()
    assert (quiz.lecture_id, quiz.pass_mark, quiz.required_for_completion) == (lecture.pk, 80, True)
    assert [i.question_id for i in quiz.items.order_by("sort_order")] == [q.pk for q in questions]
    listing = organizer_client.get(reverse("wagtailsnippets_exams_lecturequiz:list")).text
    assert "行政许可法讲座" in listing
    edit = reverse("wagtailsnippets_exams_lecturequiz:edit", args=[quiz.pk])
    data = edit_form_data(organizer_client, edit)
    data["pass_mark"] = "90"
    assert organizer_client.post(edit, data).status_code == 302
    assert LectureQuiz.objects.get().pass_mark == 90


def test_hand_marked_inactive_and_repeated_questions_are_refused(
    organizer_client, lecture, questions
):
    written = QuestionFactory(
        type=QuestionType.SHORT_ANSWER, stem="简述行政许可的原则", option_a="", option_b="",
        option_c="", option_d="", answer="", rubric=[{"element": "合法", "points": "2"}],
    )  # fmt: skip
    retired = QuestionFactory(active=False)
    add = reverse("wagtailsnippets_exams_lecturequiz:add")
    for chosen, words in (
        ([questions[0], written], written.key),
        ([questions[0], retired], retired.key),
        ([questions[0], questions[0]], questions[0].key),
    ):
        response = organizer_client.post(add, _quiz_post(lecture, chosen))
        assert response.status_code == 200 and words in response.text
    response = organizer_client.post(add, _quiz_post(lecture, questions[:1], pass_mark=0))
    assert response.status_code == 200
    assert not LectureQuiz.objects.exists()


def test_officials_and_hr_cannot_edit_quizzes(official_client, hr_client, quiz):
    add = reverse("wagtailsnippets_exams_lecturequiz:add")
    assert official_client.get(add).status_code == 403
    response = hr_client.get(add)
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    assert hr_client.get(reverse("wagtailsnippets_exams_lecturequiz:list")).status_code == 200


def test_the_blank_response_is_kept_as_the_texts_typed(quiz, questions, official):
    blank = questions[3]
    responses = quiz_service.read_responses(
        [blank], _querydict({f"q{blank.pk}-0": " 许可 ", f"q{blank.pk}-1": "x" * 500})
    )
    assert responses == {str(blank.pk): ["许可", "x" * quiz_service.MAX_BLANK_LENGTH]}
    assert json.loads(quiz_service._graded_response(blank, responses[str(blank.pk)]))[0] == "许可"
