"""Per-session statistics on a data set small enough to compute by hand: the score
distribution and bands, each question's facility index (mean share of its points
earned), discrimination index (correct answers in the upper minus the lower group,
over the group size; a group is 27% of the people, rounded half up) and option
counts, the same figures in the xlsx export, and who may see them."""

from decimal import Decimal
from io import BytesIO

from django.urls import reverse

import pytest
from openpyxl import load_workbook

from exams import attempts as engine
from exams.models import ExamSession, PaperQuestion, QuestionType
from exams.statistics import session_statistics
from tests.factories import DepartmentFactory, OfficialFactory

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db

# Four questions worth 100 points, so a score is also its percentage.
#   Q1 single choice, key A, options A-D, 30 points
#   Q2 multiple choice, key AC, options A-D, 30 points (partial credit is on: one
#      correct option alone earns 15, any wrong option earns 0)
#   Q3 true-false, key T, 20 points
#   Q4 single choice, key B, options A-C only, 20 points
#
# Counting attempts, best first ("" is a blank; points earned in brackets):
#   person  Q1      Q2         Q3     Q4     score  band
#   P01     A (30)  AC (30)    T(20)  B(20)  100    excellent
#   P02     A (30)  A (15)     T(20)  B(20)   85    good
#   P03     A (30)  AC (30)    T(20)  C (0)   80    good       (2nd attempt; the 1st scored 0)
#   P04     A (30)  ACD (0)    T(20)  B(20)   70    pass
#   P05     A (30)  C (15)     ""(0)  B(20)   65    pass
#   P06     C (0)   AC (30)    T(20)  A (0)   50    fail
#   P07     A (30)  BD (0)     F (0)  B(20)   50    fail
#   P08     D (0)   AC (30)    T(20)  "" (0)  50    fail
#   P09     B (0)   ABCD (0)   T(20)  C (0)   20    fail
#   P10     "" (0)  C (15)     F (0)  "" (0)  15    fail
#   P11     B (0)   B (0)      F (0)  C (0)    0    fail
# Not analysed: P03's first attempt (D, BD, F, A: 0 points; the best attempt counts)
# and P12's attempt still in progress (B saved for Q1).
RESPONSES = {
    "P01": ("A", "AC", "T", "B"),
    "P02": ("A", "A", "T", "B"),
    "P03": ("A", "AC", "T", "C"),
    "P04": ("A", "ACD", "T", "B"),
    "P05": ("A", "C", "", "B"),
    "P06": ("C", "AC", "T", "A"),
    "P07": ("A", "BD", "F", "B"),
    "P08": ("D", "AC", "T", ""),
    "P09": ("B", "ABCD", "T", "C"),
    "P10": ("", "C", "F", ""),
    "P11": ("B", "B", "F", "C"),
}
SCORES = {
    "P01": 100,
    "P02": 85,
    "P03": 80,
    "P04": 70,
    "P05": 65,
    "P06": 50,
    "P07": 50,
    "P08": 50,
    "P09": 20,
    "P10": 15,
    "P11": 0,
}
# Distribution (bins of exams/statistics.py, upper bound exclusive, 100 in the last):
#   0–59: P06, P07, P08, P09, P10, P11 = 6;  60–69: P05 = 1;  70–79: P04 = 1;
#   80–89: P02, P03 = 2;  90–100: P01 = 1.
DISTRIBUTION = [("0–59", 6), ("60–69", 1), ("70–79", 1), ("80–89", 2), ("90–100", 1)]
# Bands (pass 60, good 80, excellent 90): excellent P01; good P02, P03; pass P04, P05;
# fail the other six. Mean = (100+85+80+70+65+50+50+50+20+15+0) / 11 = 585 / 11.
BANDS = {"excellent": 1, "good": 2, "pass": 2, "fail": 6}
#
# Groups: 11 people × 0.27 = 2.97, rounded half up to 3 (rounding down would give 2).
# Upper group P01, P02, P03 (100, 85, 80; the 4th is 70); lower group P09, P10, P11
# (20, 15, 0; the 8th is 50): no tie crosses a group boundary.
#
# Q1 (key A): earned shares 1,1,1,1,1,0,1,0,0,0,0 → facility 6/11 = 0.5454…
#   correct: upper 3 (P01-P03), lower 0 → discrimination (3 - 0) / 3 = 1.0
#   choices: A = P01-P05, P07 = 6; B = P09, P11 = 2; C = P06 = 1; D = P08 = 1; blank P10.
# Q2 (key AC): shares 1, .5, 1, 0, .5, 1, 0, 1, 0, .5, 0 = 5.5 → facility 5.5/11 = 0.5
#   (only P01, P03, P06, P08 are fully right: 4/11 would be the share of correct answers)
#   correct (a partial answer is not correct): upper P01, P03 = 2; lower 0 → 2/3 = 0.667
#   choices (every letter chosen counts): A = P01, P02, P03, P04, P06, P08, P09 = 7;
#   B = P07, P09, P11 = 3; C = P01, P03, P04, P05, P06, P08, P09, P10 = 8;
#   D = P04, P07, P09 = 3; no blank.
# Q3 (key T): T = P01, P02, P03, P04, P06, P08, P09 = 7 → facility 7/11 = 0.6363…
#   F = P07, P10, P11 = 3; blank P05 = 1.
#   correct: upper 3, lower 1 (P09) → (3 - 1) / 3 = 0.667
# Q4 (key B, options A-C): B = P01, P02, P04, P05, P07 = 5 → facility 5/11 = 0.4545…
#   A = P06 = 1; C = P03, P09, P11 = 3; blank P08, P10 = 2.
#   correct: upper P01, P02 = 2, lower 0 → 2/3 = 0.667
# Questions are listed hardest first: Q4 (0.455), Q2 (0.5), Q1 (0.545), Q3 (0.636).


@pytest.fixture
def known_set(db, settings):
    settings.XUEFA_EXAM_PARTIAL_CREDIT = True
    questions = [
        QuestionFactory(key="SQ1", stem="统计单选一", answer="A"),
        QuestionFactory(key="SQ2", stem="统计多选二", type=QuestionType.MULTIPLE, answer="AC"),
        QuestionFactory(key="SQ3", stem="统计判断三", true_false=True, answer="T"),
        QuestionFactory(key="SQ4", stem="统计单选四", answer="B", option_d=""),
    ]
    paper = fixed_paper(questions[:2], points=Decimal("30"))
    for order, question in enumerate(questions[2:], start=2):
        PaperQuestion.objects.create(
            paper=paper, question=question, points=Decimal("20"), sort_order=order
        )
    session = ExamSessionFactory(title="统计考试", paper=paper, attempts_allowed=2)
    department = DepartmentFactory(name="统计科")
    people = {}
    for name in [*RESPONSES, "P12"]:
        people[name] = OfficialFactory(
            user__name=f"考生{name}", staff_number=f"S{name}", department=department
        )

    def sit(person, responses, submit=True):
        official = people[person]
        attempt = engine.start_attempt(session, official)
        at = {a.question_id: a.position for a in attempt.answers.all()}
        for question, response in zip(questions, responses, strict=True):
            if response:
                engine.save_answer(attempt.pk, official, at[question.pk], response)
        if submit:
            attempt, _ = engine.submit_attempt(attempt)
        return attempt

    sit("P03", ("D", "BD", "F", "A"))
    for person, responses in RESPONSES.items():
        attempt = sit(person, responses)
        assert attempt.score == SCORES[person], person
    sit("P12", ("B", "", "", ""), submit=False)
    return session, questions


def test_statistics_of_a_known_set_computed_by_hand(known_set):
    session, questions = known_set
    stats = session_statistics(session)

    assert [(a.official.name, a.number, a.score) for a in stats.attempts[:5]] == [
        ("考生P01", 1, 100),
        ("考生P02", 1, 85),
        ("考生P03", 2, 80),
        ("考生P04", 1, 70),
        ("考生P05", 1, 65),
    ]
    assert {a.official.name for a in stats.attempts[5:8]} == {"考生P06", "考生P07", "考生P08"}
    assert [(a.official.name, a.score) for a in stats.attempts[8:]] == [
        ("考生P09", 20),
        ("考生P10", 15),
        ("考生P11", 0),
    ]
    assert stats.distribution == DISTRIBUTION
    assert stats.bands == BANDS
    assert stats.mean == pytest.approx(585 / 11)
    assert stats.pass_rate == pytest.approx(5 / 11)

    by_key = {q.key: q for q in stats.questions}
    assert [q.key for q in stats.questions] == ["SQ4", "SQ2", "SQ1", "SQ3"]
    assert {q.key: q.responses for q in stats.questions} == dict.fromkeys(by_key, 11)
    assert {q.key: q.facility for q in stats.questions} == pytest.approx(
        {"SQ1": 6 / 11, "SQ2": 0.5, "SQ3": 7 / 11, "SQ4": 5 / 11}
    )
    assert {q.key: q.discrimination for q in stats.questions} == pytest.approx(
        {"SQ1": 1.0, "SQ2": 2 / 3, "SQ3": 2 / 3, "SQ4": 2 / 3}
    )
    assert {q.key: (q.option_counts, q.blank) for q in stats.questions} == {
        "SQ1": ({"A": 6, "B": 2, "C": 1, "D": 1}, 1),
        "SQ2": ({"A": 7, "B": 3, "C": 8, "D": 3}, 0),
        "SQ3": ({"T": 7, "F": 3}, 1),
        "SQ4": ({"A": 1, "B": 5, "C": 3}, 2),
    }
    assert {q.key: (q.type, q.answer, q.question_id) for q in stats.questions} == {
        "SQ1": ("single", "A", questions[0].pk),
        "SQ2": ("multiple", "AC", questions[1].pk),
        "SQ3": ("true_false", "T", questions[2].pk),
        "SQ4": ("single", "B", questions[3].pk),
    }


RESULTS_HEADER = ["姓名", "工号", "部门", "第几次", "成绩", "得分率（%）", "等次", "结果"]
QUESTIONS_HEADER = [
    "编号",
    "题目",
    "题型",
    "答案",
    "作答人数",
    "难度系数",
    "区分度",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "对",
    "错",
    "未作答",
]


def test_the_xlsx_export_holds_the_hand_computed_figures(known_set, hr_client):
    session, _questions = known_set
    response = hr_client.get(reverse("exams_admin:statistics_export", args=[session.pk]))
    assert response.status_code == 200
    assert f"exam-{session.pk}-stats.xlsx" in response["Content-Disposition"]
    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["考试成绩", "成绩分布", "试题"]
    results, distribution, items = (list(s.iter_rows(values_only=True)) for s in workbook)

    assert list(results[0]) == RESULTS_HEADER
    assert len(results) == 1 + 11
    assert [list(row) for row in results[1:6]] == [
        ["考生P01", "SP01", "统计科", 1, 100, 100, "优秀", "合格"],
        ["考生P02", "SP02", "统计科", 1, 85, 85, "良好", "合格"],
        ["考生P03", "SP03", "统计科", 2, 80, 80, "良好", "合格"],
        ["考生P04", "SP04", "统计科", 1, 70, 70, "合格", "合格"],
        ["考生P05", "SP05", "统计科", 1, 65, 65, "合格", "合格"],
    ]
    assert sorted(list(row) for row in results[6:9]) == [
        [f"考生{p}", f"S{p}", "统计科", 1, 50, 50, "不合格", "不合格"]
        for p in ("P06", "P07", "P08")
    ]
    assert [list(row) for row in results[9:]] == [
        ["考生P09", "SP09", "统计科", 1, 20, 20, "不合格", "不合格"],
        ["考生P10", "SP10", "统计科", 1, 15, 15, "不合格", "不合格"],
        ["考生P11", "SP11", "统计科", 1, 0, 0, "不合格", "不合格"],
    ]

    assert [list(row) for row in distribution] == [
        ["得分率（%）", "人数"],
        *[[label, count] for label, count in DISTRIBUTION],
    ]

    assert list(items[0]) == QUESTIONS_HEADER
    assert [list(row) for row in items[1:]] == [
        # key, stem, type, answer, responses, facility, discrimination, A-F, T, F, blank
        # (a choice question leaves the true-or-false columns empty, and the reverse)
        ["SQ4", "统计单选四", "single", "B", 11, 0.455, 0.667, 1, 5, 3, 0, 0, 0, None, None, 2],
        ["SQ2", "统计多选二", "multiple", "AC", 11, 0.5, 0.667, 7, 3, 8, 3, 0, 0, None, None, 0],
        ["SQ1", "统计单选一", "single", "A", 11, 0.545, 1.0, 6, 2, 1, 1, 0, 0, None, None, 1],
        [
            *("SQ3", "统计判断三", "true_false", "T", 11, 0.636, 0.667),
            *(None, None, None, None, None, None),
            *(7, 3, 1),
        ],
    ]
    assert len(items) == 5


OPTION_F, FALSE_COLUMN = QUESTIONS_HEADER.index("F"), QUESTIONS_HEADER.index("错")


def test_the_xlsx_keeps_option_f_apart_from_false(hr_client):
    """Both are the letter F: a sixth option chosen is not a False, nor the reverse."""
    six = QuestionFactory(key="SIX", option_e="戊", option_f="己", answer="F")
    true_false = QuestionFactory(key="TF", true_false=True, answer="T")
    session = ExamSessionFactory(paper=fixed_paper([six, true_false]))
    official = OfficialFactory()
    attempt = engine.start_attempt(session, official)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, "F")  # option F; false
    engine.submit_attempt(attempt)
    response = hr_client.get(reverse("exams_admin:statistics_export", args=[session.pk]))
    rows = list(load_workbook(BytesIO(response.content))["试题"].iter_rows(values_only=True))
    by_key = {row[0]: row for row in rows[1:]}
    assert (by_key["SIX"][OPTION_F], by_key["SIX"][FALSE_COLUMN]) == (1, None)
    assert (by_key["TF"][OPTION_F], by_key["TF"][FALSE_COLUMN]) == (None, 1)


def test_the_statistics_page_shows_the_figures(known_set, hr_client):
    session, _questions = known_set
    page = hr_client.get(reverse("exams_admin:statistics", args=[session.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    # Q4's row: key, answer, responses, facility and discrimination to two places.
    assert "<td>B</td>\n        <td>11</td>\n        <td>0.45</td>\n        <td>0.67</td>" in html
    assert "A:1 B:5 C:3 未作答:2" in html
    assert "T:7 F:3 未作答:1" in html


def test_hr_reads_statistics_but_cannot_change_the_session(exam, hr_client, organizer_client):
    page_url = reverse("exams_admin:statistics", args=[exam.pk])
    export_url = reverse("exams_admin:statistics_export", args=[exam.pk])
    close_url = reverse("exams_admin:close", args=[exam.pk])

    page = hr_client.get(page_url)
    assert page.status_code == 200
    assert close_url not in page.content.decode()  # no "close the session now" for HR
    export = hr_client.get(export_url)
    assert export.status_code == 200
    assert export["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    # Wagtail answers a signed-in admin user's PermissionDenied with a redirect to the
    # admin home and a message.
    refused = hr_client.post(close_url)
    assert (refused.status_code, refused["Location"]) == (302, "/admin/")
    assert not ExamSession.objects.get(pk=exam.pk).is_closed()
    edit = reverse("wagtailsnippets_exams_examsession:edit", args=[exam.pk])
    for response in (hr_client.get(edit), hr_client.post(edit, {"title": "HR 改过"})):
        assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert ExamSession.objects.get(pk=exam.pk).title == exam.title

    # The organizer, who may change sessions, is offered the close button.
    assert close_url in organizer_client.get(page_url).content.decode()


def test_an_official_cannot_reach_statistics(exam, official_client):
    for url in (
        reverse("exams_admin:statistics", args=[exam.pk]),
        reverse("exams_admin:statistics_export", args=[exam.pk]),
    ):
        # Officials never reach the Wagtail admin at all: 403 (no workbook either).
        response = official_client.get(url)
        assert response.status_code == 403, url
        assert not response.content.startswith(b"PK")
    assert official_client.post(reverse("exams_admin:close", args=[exam.pk])).status_code == 403
    assert not ExamSession.objects.get(pk=exam.pk).is_closed()
