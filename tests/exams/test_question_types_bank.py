"""The bank's fill-in-the-blank, short-answer and case-analysis questions: one check
of their content for the admin form and the import; the admin form a clerk uses
(accepted answers one line per blank, a rubric one element a line, the fields of the
chosen type) which shows back exactly what was saved; their statistics; and the
wrong-answer notebook, which takes a wrong fill-in answer and never a marked one."""

import json
from io import BytesIO

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from exams import attempts as engine
from exams import marking, notebook
from exams.demo_questions import OPEN_QUESTIONS, open_questions
from exams.models import NotebookEntry, Question, QuestionType, SessionKind
from exams.models.questions import (
    check_content,
    format_blanks,
    format_rubric,
    parse_blanks,
    parse_rubric,
    question_errors,
)
from exams.statistics import session_statistics, statistics_xlsx
from tests.admin_forms import edit_form_data
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory, LawTopicFactory, QuestionFactory, fixed_paper

FILL, SHORT, CASE = QuestionType.FILL_BLANK, QuestionType.SHORT_ANSWER, QuestionType.CASE_ANALYSIS
SINGLE = QuestionType.SINGLE
NO_OPTIONS = {f"option_{c}": "" for c in "abcdef"}
BIRTH = "自然人从____时起到（ ）时止，具有民事权利能力。"
RUBRIC = [{"element": "指出甲是限制民事行为能力人", "points": "2"},
          {"element": "指出合同效力待定", "points": "3"}]  # fmt: skip


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in English, the catalogue's own text."""
    with translation.override("en"):
        yield


def fill_question(**fields):
    values = {"type": FILL, "stem": BIRTH, "answer": "", "blanks": [["出生", "诞生"], ["死亡"]],
              **NO_OPTIONS, **fields}  # fmt: skip
    return QuestionFactory(**values)


def written_question(qtype=SHORT, **fields):
    values = {"type": qtype, "stem": "简述合同效力。", "answer": "", "rubric": RUBRIC,
              "model_answer": "参考答案全文", **NO_OPTIONS, **fields}  # fmt: skip
    return QuestionFactory(**values)


# One check of the content, for the admin form and the import alike -------------------------


def test_a_fill_in_question_is_stored_with_its_answers_tidied():
    question = Question(type=FILL, stem=BIRTH, blanks=[[" 出生", "出生", "", "诞生"], ["死亡 "]])
    question.clean()
    assert question.blanks == [["出生", "诞生"], ["死亡"]]
    assert question.answer == ""


FILL_ERRORS = {
    "no blank in the stem": (
        {"stem": "自然人的民事权利能力始于何时？", "blanks": [["出生"]]},
        {"stem": "Mark each blank in the question with ____ (two or more underscores) or （ ）."},
    ),
    "fewer answer groups than blanks": (
        {"blanks": [["出生"]]},
        {
            "blanks": "The question has 2 blanks but answers for 1 are given; write one line of "
            "accepted answers per blank."
        },  # fmt: skip
    ),
    "a blank without an answer": (
        {"blanks": [["出生"], [" ", ""]]},
        {"blanks": "Blank 2 has no accepted answer."},
    ),
    "no answers at all": (
        {"blanks": []},
        {
            "blanks": "Give the accepted answers: one line per blank, a blank's alternatives "
            "separated by ｜, e.g. “行政许可｜许可”."
        },  # fmt: skip
    ),
    "an answer holding a separator": (
        {"blanks": [["出生|诞生"], ["死亡"]]},
        {"blanks": "An accepted answer cannot contain ｜, |, ；, ; or a line break."},
    ),
    "an answer no response could match": (
        {"blanks": [["出生"], ["……"]]},
        {"blanks": "“……” has no letters or digits: no answer could match it."},
    ),
    "options and a letter answer": (
        {"option_a": "甲", "answer": "A"},
        {
            "option_a": "Only choice questions have options; clear them.",
            "answer": "Only choice and true-or-false questions have answer letters; clear this "
            "field.",
        },
    ),
    "a rubric and a model answer": (
        {"rubric": RUBRIC, "model_answer": "范文"},
        {
            "rubric": "Only short-answer and case-analysis questions have a marking rubric; "
            "clear it.",
            "model_answer": "Only short-answer and case-analysis questions have a model answer; "
            "clear it.",
        },
    ),
}


@pytest.mark.parametrize("name", list(FILL_ERRORS))
def test_a_wrong_fill_in_question_is_refused_on_the_right_field(name):
    fields, errors = FILL_ERRORS[name]
    content = {"stem": BIRTH, "blanks": [["出生"], ["死亡"]], **fields}
    options = [content.pop(f"option_{c}", "") for c in "abcdef"]
    assert question_errors(FILL, content.pop("answer", ""), options, **content) == errors


def test_a_written_question_takes_a_rubric_or_a_model_answer_or_both():
    checked = check_content(
        CASE, stem="请分析。", rubric=[{"element": " 要点：", "points": "2.50"}]
    )
    assert (checked.errors, checked.rubric) == ({}, [{"element": "要点", "points": "2.5"}])
    assert check_content(SHORT, stem="简述。", model_answer="范文").errors == {}
    assert check_content(SHORT, stem="简述。").errors == {
        "rubric": "Give a marking rubric (one line per element with its points, e.g. “告知当事人"
        "陈述、申辩的权利 — 2分”) or a model answer: markers need one of them."
    }


@pytest.mark.parametrize(
    ("rubric", "error"),
    [
        ([{"element": "要点", "points": "0"}], "Rubric line 1 needs its points"),
        ([{"element": "要点", "points": "-1"}], "Rubric line 1 needs its points"),
        ([{"element": "要点", "points": "1.005"}], "Rubric line 1 needs its points"),
        ([{"element": "要点", "points": "101"}], "Rubric line 1 needs its points"),
        (
            [{"element": "要点", "points": "2"}, {"element": "", "points": "1"}],
            "Rubric line 2 names no element before its points.",
        ),  # fmt: skip
        ([{"element": "一\n二", "points": "1"}], "Rubric line 1 is too long: one line"),
        (
            [{"element": f"要点{n}", "points": "1"} for n in range(21)],
            "A rubric has at most 20 elements.",
        ),  # fmt: skip
        ("not a rubric", "Not a marking rubric."),
    ],
)
def test_a_wrong_rubric_is_refused(rubric, error):
    errors = check_content(SHORT, stem="简述。", rubric=rubric, model_answer="范文").errors
    assert errors["rubric"].startswith(error)


def test_choice_questions_are_checked_as_before_and_refuse_the_new_fields():
    options = ["甲", "乙", "丙", "丁", "", ""]
    assert question_errors(SINGLE, "（b）", options) == {}
    assert question_errors(SINGLE, "AB", options) == {
        "answer": "A single-choice question has exactly one correct option."
    }
    assert question_errors(SINGLE, "A", options, blanks=[["甲"]]) == {
        "blanks": "Only fill-in-the-blank questions have accepted answers per blank; clear them."
    }


def test_text_as_people_write_it_reads_into_blanks_and_rubric():
    assert parse_blanks("行政许可｜许可\n十五；15\n") == [["行政许可", "许可"], ["十五", "15"]]
    assert parse_blanks("①出生②死亡", expected=2) == [["出生"], ["死亡"]]
    assert parse_blanks("①出生②死亡") == [["①出生②死亡"]]  # one blank: the text is the answer
    assert parse_rubric("告知权利 — 2分\n说明理由（1.5分）\n依据第15条：２\n没有分值") == [
        {"element": "告知权利", "points": "2"},
        {"element": "说明理由", "points": "1.5"},
        {"element": "依据第15条", "points": "2"},
        {"element": "没有分值", "points": ""},
    ]


answer_text = st.text(alphabet="出生死亡许可第15aB -—：（）()、.", min_size=1, max_size=8)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(answer_text, min_size=1, max_size=3), min_size=1, max_size=4))
def test_accepted_answers_come_back_from_their_text_exactly(groups):
    stem = "题" + "____，" * len(groups)
    checked = check_content(FILL, stem=stem, blanks=groups)
    assume(not checked.errors)
    assert parse_blanks(format_blanks(checked.blanks)) == checked.blanks


element_text = st.text(alphabet="要素第15条分得 -—：:（）()，、。", min_size=1, max_size=12)
points = st.decimals(min_value="0.01", max_value="100", places=2)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(element_text, points), min_size=1, max_size=5))
def test_a_rubric_comes_back_from_its_text_exactly(elements):
    rubric = [{"element": element, "points": str(value)} for element, value in elements]
    checked = check_content(SHORT, stem="简述。", rubric=rubric)
    assume(not checked.errors)
    assert parse_rubric(format_rubric(checked.rubric)) == checked.rubric


# The admin form -----------------------------------------------------------------------------


def form_data(topic, **fields):
    return {"key": "", "type": FILL, "topic": topic.pk, "difficulty": 2, "stem": BIRTH,
            **NO_OPTIONS, "answer": "", "blanks": "", "rubric": "", "model_answer": "",
            "explanation": "", "legal_basis": "", "active": "on", **fields}  # fmt: skip


@pytest.mark.django_db
def test_a_clerk_writes_a_fill_in_question_and_sees_it_back_as_written(organizer_client):
    topic = LawTopicFactory(name="民法典")
    add = reverse("wagtailsnippets_exams_question:add")
    data = form_data(topic, key="F-1", blanks="出生｜诞生\r\n死亡｜去世")
    response = organizer_client.post(add, data)
    assert response.status_code == 302
    question = Question.objects.get(key="F-1")
    assert (question.type, question.blanks) == (FILL, [["出生", "诞生"], ["死亡", "去世"]])
    edit = reverse("wagtailsnippets_exams_question:edit", args=[question.pk])
    shown = edit_form_data(organizer_client, edit)
    assert shown["blanks"].lstrip("\n") == "出生｜诞生\n死亡｜去世"
    assert organizer_client.post(edit, shown).status_code == 302  # saved again untouched
    question.refresh_from_db()
    assert question.blanks == [["出生", "诞生"], ["死亡", "去世"]]


@pytest.mark.django_db
def test_a_clerk_writes_a_case_with_its_rubric_in_their_own_style(organizer_client):
    topic = LawTopicFactory(name="民法典")
    data = form_data(topic, key="C-1", type=CASE, stem="甲十七岁……请分析。",
                     rubric="指出甲是限制民事行为能力人（2分）\r\n指出合同效力待定：3",
                     model_answer="甲是限制民事行为能力人……")  # fmt: skip
    response = organizer_client.post(reverse("wagtailsnippets_exams_question:add"), data)
    assert response.status_code == 302
    question = Question.objects.get(key="C-1")
    assert question.rubric == RUBRIC
    edit = reverse("wagtailsnippets_exams_question:edit", args=[question.pk])
    shown = edit_form_data(organizer_client, edit)
    assert (
        shown["rubric"].lstrip("\n") == "指出甲是限制民事行为能力人 — 2分\n指出合同效力待定 — 3分"
    )
    assert shown["model_answer"].lstrip("\n") == "甲是限制民事行为能力人……"


@pytest.mark.django_db
def test_the_form_says_what_is_wrong_in_the_admins_language_and_saves_nothing(
    organizer_client,
):
    topic = LawTopicFactory(name="民法典")
    data = form_data(topic, key="F-2", blanks="出生")
    with translation.override("zh-hans"):
        response = organizer_client.post(reverse("wagtailsnippets_exams_question:add"), data)
        message = question_errors(FILL, "", [], stem=BIRTH, blanks=[["出生"]])["blanks"]
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert not Question.objects.filter(key="F-2").exists()


@pytest.mark.django_db
def test_the_form_shows_each_type_its_own_fields_through_a_static_script(organizer_client):
    question = fill_question()
    page = organizer_client.get(reverse("wagtailsnippets_exams_question:edit", args=[question.pk]))
    html = page.content.decode()
    assert 'src="/static/exams/question_form.js"' in html
    assert 'data-question-types="fill_blank"' in html
    assert 'data-question-types="short_answer case_analysis"' in html
    assert 'data-question-types="single multiple"' in html


@pytest.mark.django_db
def test_hr_may_not_add_questions(hr_client):
    topic = LawTopicFactory(name="民法典")
    response = hr_client.post(
        reverse("wagtailsnippets_exams_question:add"), form_data(topic, blanks="出生\n死亡")
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert not Question.objects.exists()


@pytest.mark.django_db
def test_every_demo_question_of_the_new_types_is_valid():
    counts = {FILL: 0, SHORT: 0, CASE: 0}
    for key, topic, fields in open_questions():
        question = Question(key=key, topic=LawTopicFactory(name=topic), **fields)
        question.full_clean()
        counts[question.type] += 1
        if question.type != FILL:
            assert question.rubric and question.model_answer and question.legal_basis
    assert counts == {FILL: 6, SHORT: 3, CASE: 3} and len(OPEN_QUESTIONS) == 12


# Statistics ---------------------------------------------------------------------------------


def blanks(*texts):
    return json.dumps(list(texts), ensure_ascii=False)


def sit(session, responses):
    """An official answers (by question: response) and submits; their answers."""
    official = OfficialFactory()
    attempt = engine.start_attempt(session, official)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, responses[answer.question_id])
    engine.submit_attempt(attempt)
    return {answer.question_id: answer for answer in attempt.answers.all()}


@pytest.fixture
def marked_session(db, organizer):
    """Four people over a fill-in (2 blanks), a choice and a case question, 10 points
    each. Three cases are marked (10, 2 and 6 points), the fourth awaits marking."""
    fill, choice, case = fill_question(), QuestionFactory(answer="A"), written_question(CASE)
    session = ExamSessionFactory(paper=fixed_paper([fill, choice, case]))
    sittings = [
        ({fill.pk: blanks("出生", "死亡"), choice.pk: "A", case.pk: "全面"}, [2, 3]),
        ({fill.pk: blanks("诞生", "活着"), choice.pk: "B", case.pk: "<b>片面</b>"}, [1, 0]),
        ({fill.pk: blanks("", ""), choice.pk: "A", case.pk: "一般"}, [2, 1]),
        ({fill.pk: blanks("出生", "死亡"), choice.pk: "A", case.pk: "未批"}, None),
    ]
    for responses, marks in sittings:
        answers = sit(session, responses)
        if marks:
            marking.mark(answers[case.pk], organizer, marks)
    return session, fill, choice, case


def test_fill_in_and_written_questions_get_their_own_figures(marked_session):
    session, fill, choice, case = marked_session
    stats = session_statistics(session)
    assert [float(a.score) for a in stats.attempts] == [30, 16, 7]
    assert stats.pending == 1
    by_id = {q.question_id: q for q in stats.questions}
    f, c, w = by_id[fill.pk], by_id[choice.pk], by_id[case.pk]
    # Fill in: 3 counting answers, one wholly right; blank 1 right twice, blank 2 once.
    assert (f.responses, f.blank, f.fully_correct_share) == (3, 1, 1 / 3)
    assert f.blank_shares == [2 / 3, 1 / 3]
    assert f.answer == "出生｜诞生\n死亡" and f.option_counts == {}
    assert f.discrimination == 1.0  # upper group (30) right, lower group (7) not
    # The case: four answers, three marked (10, 2, 6 of 10); shares 1, 0.2, 0.6.
    assert (w.responses, w.marked, w.marked_share) == (4, 3, 0.75)
    assert (w.average_points, w.average_possible) == (6.0, 10.0)
    assert w.facility == pytest.approx(0.6)
    assert w.discrimination == pytest.approx(0.8)
    # The choice question is counted as it always was.
    assert (c.responses, c.facility, c.option_counts) == (3, 2 / 3, {"A": 2, "B": 1, "C": 0,
                                                                       "D": 0})  # fmt: skip


def test_the_statistics_page_and_workbook_show_the_new_figures(marked_session, hr_client):
    session, *_questions = marked_session
    page = hr_client.get(reverse("exams_admin:statistics", args=[session.pk]))
    html = page.content.decode()
    assert 'id="statistics-pending"' in html
    assert "33% · " in html and ": 67% · " in html  # wholly right; blank 1
    assert "(75%) · " in html and "6.00" in html and "10.00" in html
    assert "<b>片面</b>" not in html
    response = hr_client.get(reverse("exams_admin:statistics_export", args=[session.pk]))
    rows = list(load_workbook(BytesIO(response.content)).worksheets[2].values)
    assert len(rows[0]) == 22
    by_type = {row[2]: row[16:] for row in rows[1:]}
    assert by_type["fill_blank"] == (0.333, "1: 0.67; 2: 0.33", None, None, None, None)
    assert by_type["case_analysis"] == (None, None, 3, 0.75, 6.0, 10.0)
    assert by_type["single"] == (None, None, None, None, None, None)


def test_a_session_of_choice_questions_keeps_its_workbook_columns(db):
    question = QuestionFactory(answer="A")
    session = ExamSessionFactory(paper=fixed_paper([question]))
    sit(session, {question.pk: "A"})
    workbook = load_workbook(BytesIO(statistics_xlsx(session)))
    assert len(next(workbook.worksheets[2].values)) == 16


def test_statistics_cost_the_same_queries_for_few_and_many_people(db, organizer):
    fill, case = fill_question(), written_question()
    session = ExamSessionFactory(paper=fixed_paper([fill, case]))

    def people(count):
        for _ in range(count):
            answers = sit(session, {fill.pk: blanks("出生", "死亡"), case.pk: "答"})
            marking.mark(answers[case.pk], organizer, [1, 1])

    def measured():
        with CaptureQueriesContext(connection) as queries:
            session_statistics(session)
        return len(queries)

    people(2)
    few = measured()
    people(12)
    assert measured() == few


# The wrong-answer notebook ------------------------------------------------------------------


@pytest.fixture
def practice(db):
    fill = fill_question(
        stem="《<b>民法典</b>》规定：自然人从____时起到____时止，具有民事权利能力。"
    )
    case = written_question()
    session = ExamSessionFactory(paper=fixed_paper([fill, case]), kind=SessionKind.PRACTICE)
    return session, fill, case


def sit_as(session, official, responses):
    attempt = engine.start_attempt(session, official)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, responses[answer.question_id])
    engine.submit_attempt(attempt)
    return {answer.question_id: answer for answer in attempt.answers.all()}


def test_a_wrong_fill_in_enters_the_notebook_and_a_marked_answer_never(
    practice, official, organizer
):
    session, fill, case = practice
    answers = sit_as(session, official, {fill.pk: blanks("出生", "<script>x</script>"),
                                         case.pk: "部分答对"})  # fmt: skip
    assert answers[fill.pk].is_correct is False and answers[case.pk].is_correct is None
    assert list(NotebookEntry.objects.values_list("question_id", flat=True)) == [fill.pk]
    marking.mark(answers[case.pk], organizer, [1, 0])  # partly earned: is_correct False
    assert list(NotebookEntry.objects.values_list("question_id", flat=True)) == [fill.pk]
    sit_as(session, official, {fill.pk: blanks("诞生", "死亡"), case.pk: "再答"})
    assert NotebookEntry.objects.get().times_wrong == 1  # answered right: no new mark


def test_the_notebook_shows_the_blanks_the_accepted_answers_and_my_own(
    practice, official, official_client
):
    session, fill, case = practice
    sit_as(session, official, {fill.pk: blanks("出生", "<script>x</script>"), case.pk: "答"})
    entry = NotebookEntry.objects.get()
    page = official_client.get(reverse("exams:notebook")).content.decode()
    assert page.count(f'name="e{entry.pk}"') == 2  # an input at each blank
    assert "《&lt;b&gt;民法典&lt;/b&gt;》规定：自然人从" in page
    checked = official_client.post(reverse("exams:notebook"), {f"e{entry.pk}": ["出生", "活"]})
    html = checked.content.decode()
    assert dict((e.pk, r) for e, r in checked.context["rows"])[entry.pk] is False
    assert "<td>出生 / 诞生</td>" in html and "<td>死亡</td>" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html


def test_answering_every_blank_right_clears_the_entry(practice, official, official_client):
    session, fill, case = practice
    sit_as(session, official, {fill.pk: blanks("", "死亡"), case.pk: "答"})
    entry = NotebookEntry.objects.get()
    response = official_client.post(reverse("exams:notebook"), {f"e{entry.pk}": ["诞生 ", "死亡"]})
    assert dict((e.pk, r) for e, r in response.context["rows"])[entry.pk] is True
    entry.refresh_from_db()
    assert entry.cleared


@pytest.mark.parametrize(
    ("response", "correct"),
    [
        (["出生", "死亡"], True),
        (["诞生", "死亡"], True),
        (["死亡", "出生"], False),
        (["出生"], False),
        ("出生死亡", True),  # the inputs' texts joined, as the notebook view hands them on
        ("诞生 死亡。", True),
        ("死亡出生", False),
        ("出生", False),
        ("", False),
    ],
)
def test_a_practice_answer_to_the_blanks_is_right_only_when_every_blank_is(response, correct):
    snapshot = {"type": FILL, "blanks": [["出生", "诞生"], ["死亡"]]}
    assert notebook.blanks_correct(snapshot, response) is correct


def test_the_notebook_page_costs_the_same_queries_for_few_and_many_entries(
    db, official, official_client
):
    def wrong_fill_ins(count):
        questions = [fill_question(stem=f"第{n}题：____。", blanks=[["甲"]]) for n in range(count)]
        session = ExamSessionFactory(paper=fixed_paper(questions), kind=SessionKind.PRACTICE)
        sit_as(session, official, {q.pk: blanks("乙") for q in questions})

    def measured():
        official_client.get(reverse("exams:notebook"))  # caches warmed the same for both
        with CaptureQueriesContext(connection) as queries:
            assert official_client.get(reverse("exams:notebook")).status_code == 200
        return len(queries)

    wrong_fill_ins(2)
    few = measured()
    wrong_fill_ins(10)
    assert NotebookEntry.objects.count() == 12
    assert measured() == few


def test_a_half_right_fill_in_earns_half_its_points_in_the_facility(marked_session):
    """Grading gave the answer with one blank of two right 5 of its 10 points."""
    session, fill, _choice, _case = marked_session
    item = next(q for q in session_statistics(session).questions if q.question_id == fill.pk)
    assert item.facility == pytest.approx((1 + 0.5 + 0) / 3)
