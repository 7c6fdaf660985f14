"""Question banks as offices really keep them: title rows, starred and full-width
headers, answers written "A C" or "（A）", true-or-false as 对 or √ or as options
"A 正确 / B 错误", WPS line breaks, GBK CSV and .xls. Each file either imports exactly
what it says or is refused with the row, the column and the real problem; importing
a file again never duplicates a question."""

from django.utils import translation

from wagtail.search.backends import get_search_backend

import pytest

from exams.models import Difficulty, Question
from exams.question_io import MAX_ROWS
from tests.messy_files import csv_bytes, wps_xlsx, xls, xlsx

from .factories import LawTopicFactory, QuestionFactory
from .test_question_io import counts, imported, preview

pytestmark = pytest.mark.django_db

HEADER = ["题型", "法律专题", "题目", "选项A", "选项B", "选项C", "选项D", "答案", "解析"]


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in English, the catalogue's own text."""
    with translation.override("en"):
        yield


def choice(stem="题目一", answer="A", qtype="单选", topic="民法典", explanation="解析"):
    return [qtype, topic, stem, "甲", "乙", "丙", "丁", answer, explanation]


def true_false(stem="判断题一", answer="对", options=("", "")):
    return ["判断", "民法典", stem, *options, "", "", answer, ""]


def errors_of(data, filename="bank.xlsx"):
    seen = preview(data, filename)
    assert not seen.can_apply
    return [str(problem) for problem in seen.errors]


def bank(*rows, header=HEADER):
    return xlsx([header, *rows])


# Files that import: what each says is what is stored ------------------------------------

ACCEPTED = {
    "title rows above the header": (
        xlsx([HEADER, choice()], title_rows=["某区司法局2025年学法考试题库", ""], merges=["A1:I1"]),
        {"answer": "A"},
    ),
    "starred headers and full-width letters": (
        bank(
            choice(),
            header=[
                "*题型",
                "*法律专题",
                "*题干",
                "选项Ａ",
                "选项Ｂ",
                "选项Ｃ",
                "选项Ｄ",
                "*正确答案",
                "答案解析",
            ],
        ),
        {"answer": "A", "option_a": "甲", "explanation": "解析"},
    ),
    "headers of another bank": (
        bank(
            choice(),
            header=[
                "试题类型",
                "专题",
                "试题内容",
                "A",
                "B",
                "C选项",
                "D选项",
                "参考答案",
                "试题解析",
            ],
        ),
        {"answer": "A", "option_c": "丙", "explanation": "解析"},
    ),
    "English headers": (
        bank(
            choice(),
            header=[
                "Question type",
                "Law topic",
                "Question",
                "Option A",
                "Option B",
                "Option C",
                "Option D",
                "Answer",
                "Explanation",
            ],
        ),
        {"answer": "A"},
    ),
    "answer A C": (bank(choice(qtype="多选", answer="A C")), {"answer": "AC"}),
    "answer a,c": (bank(choice(qtype="多选", answer="a,c")), {"answer": "AC"}),
    "answer A、C": (bank(choice(qtype="多选", answer="A、C")), {"answer": "AC"}),
    "answer ＡＣ": (bank(choice(qtype="多选", answer="ＡＣ")), {"answer": "AC"}),
    "answer CA": (bank(choice(qtype="多项选择题", answer="C；A")), {"answer": "AC"}),
    "answer （A）": (bank(choice(answer="（A）")), {"answer": "A"}),
    "answer A。": (bank(choice(answer="A。")), {"answer": "A"}),
    "不定项选择 is multiple": (
        bank(choice(qtype="不定项选择", answer="B D")),
        {"type": "multiple", "answer": "BD"},
    ),
    "true as 对": (bank(true_false(answer="对")), {"answer": "T"}),
    "true as √": (bank(true_false(answer="√")), {"answer": "T"}),
    "true as ✓": (bank(true_false(answer="✓")), {"answer": "T"}),
    "true as 正确": (bank(true_false(answer="正确")), {"answer": "T"}),
    "true as T": (bank(true_false(answer="T")), {"answer": "T"}),
    "true as Y": (bank(true_false(answer="Y")), {"answer": "T"}),
    "true as 是": (bank(true_false(answer="是")), {"answer": "T"}),
    "false as ×": (bank(true_false(answer="×")), {"answer": "F"}),
    "true-or-false as options A 正确 / B 错误": (
        bank(true_false(answer="B", options=("正确", "错误"))),
        {"type": "true_false", "answer": "F", "option_a": "", "option_b": ""},
    ),
    "a WPS line break (_x000D_) in the stem": (
        wps_xlsx([HEADER, choice(stem="第一行\n第二行")]),
        {"stem": "第一行\n第二行"},
    ),
    "a topic merged down over its questions": (
        xlsx([HEADER, choice(), [*choice(stem="题目二", topic=None)]], merges=["B2:B3"]),
        {"answer": "A"},
    ),
    "difficulty and active in their own words": (
        bank([*choice(), "较难", "停用"], header=[*HEADER, "难易程度", "是否启用"]),
        {"difficulty": Difficulty.HARD, "active": False},
    ),
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_a_messy_file_imports_what_it_says(name):
    LawTopicFactory(name="民法典")
    data, expected = ACCEPTED[name]
    result, _seen = imported(data)
    assert result["created"] == Question.objects.count() >= 1
    question = Question.objects.order_by("pk").first()
    assert {field: getattr(question, field) for field in expected} == expected


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (csv_bytes([HEADER, choice(), choice(stem="题目二", answer="（B）")], "gbk"), "题库.csv"),
        (csv_bytes([HEADER, choice(), choice(stem="题目二", answer="（B）")]), "题库.csv"),
        (xls([HEADER, choice(), choice(stem="题目二", answer="（B）")]), "题库.xls"),
        (wps_xlsx([HEADER, choice(), choice(stem="题目二", answer="（B）")]), "题库.xlsx"),
    ],
    ids=["GBK CSV", "UTF-8 CSV", "xls", "WPS xlsx"],
)
def test_csv_xls_and_wps_files_import_like_excel_ones(data, filename):
    LawTopicFactory(name="民法典")
    result, _seen = imported(data, filename)
    assert counts(result) == (2, 0, 0, 0)
    assert sorted(Question.objects.values_list("stem", "answer")) == [("题目一", "A"),
                                                                      ("题目二", "B")]  # fmt: skip


# Files that are refused: the message names the real problem --------------------------------

REFUSED = {
    "unknown separator": (
        bank(choice(qtype="多选", answer="A|C")),
        "Row 2, column “答案”: Unknown separator “|”; write the letters as AC or A,C.",
    ),
    "an option that does not exist": (
        bank(choice(answer="E")),
        "Row 2, column “答案”: Option E does not exist.",
    ),
    "a single choice with two answers": (
        bank(choice(answer="A C")),
        "Row 2, column “答案”: A single-choice question has exactly one correct option.",
    ),
    "not a true-or-false answer": (
        bank(true_false(answer="A")),
        "Row 2, column “答案”: Not a true-or-false answer; write 对 or 错.",
    ),
    "true-or-false with options that are not true and false": (
        bank(true_false(answer="对", options=("甲", "乙"))),
        "Row 2, column “选项A”: true-or-false questions have no options.",
    ),
    "unknown topic": (
        bank(choice(topic="刑法")),
        "Row 2, column “法律专题”: no law topic is called “刑法”.",
    ),
    "unknown type": (
        bank(choice(qtype="作文题")),
        "Row 2, column “题型”: “作文题” is not a question type; "
        "use 单选, 多选, 判断, 填空, 简答 or 案例分析.",
    ),
    "a formula without a saved result": (
        xlsx([HEADER, choice()], formulas={"C2": '="题目"&"一"'}),
        "Row 2, column “题目”: The cell holds a formula without a saved result; open the file "
        "in Excel or WPS, save it, and upload it again.",
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_wrong_file_is_refused_naming_the_real_problem(name):
    LawTopicFactory(name="民法典")
    data, message = REFUSED[name]
    assert errors_of(data) == [message]
    assert not Question.objects.exists()


def test_blank_rows_do_not_move_row_numbers_or_count_as_questions():
    LawTopicFactory(name="民法典")
    data = bank(choice(), [None] * 9, [None] * 9, choice(stem="题目二", answer="Z"))
    assert errors_of(data) == ["Row 5, column “答案”: Option Z does not exist."]


# Importing again never duplicates ----------------------------------------------------------


def test_a_file_without_keys_imported_twice_adds_nothing_the_second_time():
    LawTopicFactory(name="民法典")
    data = bank(choice(), choice(stem="题目二", answer="B"), true_false())
    assert counts(imported(data)[0]) == (3, 0, 0, 0)
    again = bank(choice(stem=" 题目一 "), choice(stem="题目二", answer="b"), true_false())
    assert counts(imported(again)[0]) == (0, 0, 3, 0)
    assert Question.objects.count() == 3


def test_a_running_number_column_is_not_taken_for_the_key():
    """题号 and 序号 count rows (1, 2, 3 …) in most banks: as keys they would merge
    unrelated questions of two files."""
    LawTopicFactory(name="民法典")
    imported(bank([1, *choice()], header=["题号", *HEADER]))
    result, seen = imported(bank([1, *choice(stem="另一题")], header=["序号", *HEADER]))
    assert counts(result) == (1, 0, 0, 0)
    assert [str(w) for w in seen.warnings] == ["Column “序号” is not used; its values are ignored."]
    assert "1" not in Question.objects.values_list("key", flat=True)


def test_a_file_with_keys_imported_twice_adds_nothing_the_second_time():
    LawTopicFactory(name="民法典")
    data = bank(["K1", *choice()], ["K2", *true_false()], header=["编号", *HEADER])
    assert counts(imported(data)[0]) == (2, 0, 0, 0)
    assert counts(imported(data)[0]) == (0, 0, 2, 0)
    assert sorted(Question.objects.values_list("key", flat=True)) == ["K1", "K2"]


def test_a_row_without_a_key_updates_the_question_with_its_content():
    topic = LawTopicFactory(name="民法典")
    QuestionFactory(key="Q-OLD", topic=topic, stem="题目一", option_a="甲", option_b="乙",
                    option_c="丙", option_d="丁", answer="A", explanation="旧解析")  # fmt: skip
    result, seen = imported(bank(choice(explanation="新解析")))
    assert counts(result) == (0, 1, 0, 0)
    assert seen.updated[0].label == "Q-OLD 题目一"
    assert seen.updated[0].fields == [("Explanation", "旧解析", "新解析")]
    assert Question.objects.get().explanation == "新解析"


def test_a_changed_field_under_a_key_is_shown_and_updated():
    LawTopicFactory(name="民法典")
    header = ["编号", *HEADER, "难度"]
    imported(bank(["K1", *choice(), "易"], header=header))
    result, seen = imported(bank(["K1", *choice(answer="（C）"), "难"], header=header))
    assert counts(result) == (0, 1, 0, 0)
    assert seen.updated[0].fields == [("Answer", "A", "C"), ("Difficulty", "易", "难")]
    assert Question.objects.get(key="K1").answer == "C"


def test_a_missing_column_changes_nothing_in_the_bank():
    topic = LawTopicFactory(name="民法典")
    QuestionFactory(key="K1", topic=topic, stem="题目一", option_a="甲", option_b="乙",
                    option_c="丙", option_d="丁", difficulty=Difficulty.HARD,
                    legal_basis="《民法典》第一条")  # fmt: skip
    result, _seen = imported(bank(["K1", *choice()], header=["编号", *HEADER]))
    assert counts(result) == (0, 1, 0, 0)  # the explanation column only
    question = Question.objects.get()
    assert (question.difficulty, question.legal_basis) == (Difficulty.HARD, "《民法典》第一条")


def test_the_same_question_twice_in_a_file_is_imported_once_with_a_warning():
    LawTopicFactory(name="民法典")
    result, seen = imported(bank(choice(), choice(stem="题目二"), choice(answer="（A）")))
    assert counts(result) == (2, 0, 0, 1)
    assert [str(w) for w in seen.warnings] == [
        "Row 4, column “题目”: the same question as row 2; skipped."
    ]
    assert seen.skipped[0].row == 4
    assert Question.objects.count() == 2


# The row limit counts questions, not blank rows ----------------------------------------------


def test_five_thousand_questions_with_blank_rows_between_them_are_accepted():
    LawTopicFactory(name="民法典")
    rows = [HEADER]
    for number in range(MAX_ROWS):
        rows.append(choice(stem=f"题目{number} Zebra{number}"))
        if number % 50 == 0:
            rows.append([None] * len(HEADER))
    assert len(rows) == 1 + MAX_ROWS + 100
    result, _seen = imported(xlsx(rows))
    assert counts(result) == (MAX_ROWS, 0, 0, 0)
    found = get_search_backend().search("Zebra4321", Question)
    assert [question.stem for question in found] == ["题目4321 Zebra4321"]


def test_more_than_five_thousand_questions_are_refused():
    LawTopicFactory(name="民法典")
    rows = [HEADER, *(choice(stem=f"题目{number}") for number in range(MAX_ROWS + 1))]
    assert errors_of(xlsx(rows)) == ["The file has more than 5000 rows with data."]


def test_a_new_stem_is_found_by_search_after_the_import():
    LawTopicFactory(name="民法典")
    header = ["编号", *HEADER]
    imported(bank(["K1", *choice(stem="Oldword 题目")], header=header))
    imported(bank(["K1", *choice(stem="Newword 题目")], header=header))
    backend = get_search_backend()
    assert [q.key for q in backend.search("Newword", Question)] == ["K1"]
    assert list(backend.search("Oldword", Question)) == []
