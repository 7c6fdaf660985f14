"""One reading of answers: how a person writes them in a spreadsheet or the admin form
("a、c", "（A）", "ＡＣ", 对, √), what the bank stores ("AC", "T"), and what grading
compares, so validation, storage and grading can never disagree."""

import importlib
from decimal import Decimal

from django.apps import apps
from django.utils import translation

import pytest

from exams.grading import answer_points
from exams.models import Question, QuestionType
from exams.models.questions import check_question, normalise_answer, parse_answer

from .factories import QuestionFactory

SINGLE, MULTIPLE, TRUE_FALSE = QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.TRUE_FALSE
FOUR = ["甲", "乙", "丙", "丁", "", ""]
canonical_answers = importlib.import_module("exams.migrations.0008_canonical_question_answers")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "written",
    ["AC", "A C", "a,c", "A、C", "A，C", "A；C", "A;C", "A/C", "A　C", "ＡＣ", "ａ，ｃ", "CA",
     "CAAC", " c a ", "(A,C)", "（A、C）", "AC。", "A C."],
)  # fmt: skip
def test_multiple_choice_answers_as_people_write_them_read_as_sorted_letters(written):
    assert parse_answer(MULTIPLE, written, FOUR) == ("AC", None)
    assert normalise_answer(written) == "AC"


@pytest.mark.parametrize("written", ["A", "a", "（A）", "(A)", "【A】", "A。", "A.", "Ａ", " A "])
def test_single_choice_answers_as_people_write_them(written):
    assert parse_answer(SINGLE, written, FOUR) == ("A", None)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("对", "T"), ("√", "T"), ("✓", "T"), ("正确", "T"), ("T", "T"), ("true", "T"),
     ("TRUE", "T"), ("Y", "T"), ("是", "T"), ("（对）", "T"), ("对。", "T"), ("ｔ", "T"),
     ("错", "F"), ("×", "F"), ("✗", "F"), ("错误", "F"), ("F", "F"), ("false", "F"),
     ("N", "F"), ("否", "F")],
)  # fmt: skip
def test_true_or_false_words_read_as_t_or_f(written, expected):
    assert parse_answer(TRUE_FALSE, written) == (expected, None)
    assert normalise_answer(written, TRUE_FALSE) == expected


@pytest.mark.parametrize(
    ("options", "letter", "expected"),
    [(["正确", "错误"], "A", "T"), (["正确", "错误"], "B", "F"), (["对", "错"], "（B）", "F"),
     (["错误", "正确"], "A", "F")],
)  # fmt: skip
def test_a_true_or_false_answer_may_name_the_option_that_says_true_or_false(
    options, letter, expected
):
    assert parse_answer(TRUE_FALSE, letter, [*options, "", "", "", ""]) == (expected, None)


@pytest.mark.parametrize(
    ("qtype", "written", "message"),
    [
        (MULTIPLE, "A|C", "Unknown separator “|”"),
        (MULTIPLE, "A+C", "Unknown separator “+”"),
        (MULTIPLE, "A.C", "Unknown separator “.”"),
        (SINGLE, "E", "Option E does not exist."),
        (MULTIPLE, "AEG", "Options E, G do not exist."),
        (SINGLE, "AB", "A single-choice question has exactly one correct option."),
        (MULTIPLE, "B", "A multiple-choice question has at least two correct options."),
        (SINGLE, "也许", "“也许” is not an answer"),
        (SINGLE, "", "Give the correct answer."),
        (TRUE_FALSE, "也许", "Not a true-or-false answer; write 对 or 错."),
        (TRUE_FALSE, "A", "Not a true-or-false answer; write 对 or 错."),
    ],
)
def test_each_wrong_answer_is_named_for_its_own_problem(qtype, written, message):
    _canonical, error = parse_answer(qtype, written, FOUR)
    assert error.startswith(message)


def test_validation_and_storage_agree_with_the_lenient_reading_grading_uses():
    for written in ["A C", "a、c", "（C）", "ＡＣＤ", "b；d", "D/A"]:
        for qtype in (SINGLE, MULTIPLE):
            canonical, error = parse_answer(qtype, written, FOUR)
            if error is None:
                assert normalise_answer(written, qtype) == canonical
                assert normalise_answer(canonical, qtype) == canonical


def test_the_admin_form_stores_the_canonical_answer():
    question = Question(type=MULTIPLE, stem="题", option_a="甲", option_b="乙", option_c="丙",
                        answer="c、a")  # fmt: skip
    question.clean()
    assert question.answer == "AC"
    assert check_question(MULTIPLE, "A|C", FOUR)[1] == {
        "answer": "Unknown separator “|”; write the letters as AC or A,C."
    }


def test_an_old_snapshot_with_a_spaced_answer_grades_as_it_reads():
    """Imported before answers were checked, "A C" was frozen as " AC"."""
    snapshot = {"type": "multiple", "answer": " AC"}
    assert answer_points(snapshot, "AC", 2) == (True, Decimal(2))
    assert answer_points(snapshot, "A", 2) == (False, Decimal(0))
    assert answer_points({"type": "true_false", "answer": "对"}, "T", 1) == (True, Decimal(1))
    assert answer_points({"type": "single", "answer": ""}, "", 1) == (False, Decimal(0))


@pytest.mark.django_db
def test_the_data_migration_canonicalises_stored_answers_and_nothing_else():
    spaced = QuestionFactory(multiple=True, answer=" AC")
    commas = QuestionFactory(multiple=True, answer="a,c")
    true_word = QuestionFactory(true_false=True, answer="对")
    fine = QuestionFactory(answer="B")
    before = {q.pk: (q.stem, q.updated_at) for q in (spaced, commas, true_word, fine)}
    canonical_answers.canonicalise_answers(apps, None)
    stored = dict(Question.objects.values_list("pk", "answer"))
    assert [stored[q.pk] for q in (spaced, commas, true_word, fine)] == ["AC", "AC", "T", "B"]
    after = {q.pk: (q.stem, q.updated_at) for q in Question.objects.all()}
    assert after == before
