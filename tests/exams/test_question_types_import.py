"""Fill-in-the-blank, short-answer and case-analysis questions in spreadsheets, as
offices keep them: 填空题 with their answers one line per blank in a column of their
own or in 参考答案, numbered keys ("①出生②死亡"), WPS line breaks, numbers typed as
numbers; 简答题 and 案例分析题 with a rubric of "… — 2分" lines and a model answer.
Each file imports exactly what it says, or is refused whole with the row, the column
and the problem; an exported bank of every type imports back unchanged."""

from io import BytesIO

from django.utils import translation

import pytest
from openpyxl import load_workbook

from exams.models import Question, QuestionType
from exams.question_io import export_xlsx, template_xlsx
from tests.messy_files import csv_bytes, wps_xlsx, xls, xlsx

from .factories import LawTopicFactory, QuestionFactory
from .test_question_io import counts, imported, preview, refused

pytestmark = pytest.mark.django_db

FILL, SHORT, CASE = QuestionType.FILL_BLANK, QuestionType.SHORT_ANSWER, QuestionType.CASE_ANALYSIS
HEADER = ["题型", "法律专题", "题目", "选项A", "选项B", "答案", "填空答案", "评分要点", "参考范文"]
BIRTH = "自然人从____时起到（ ）时止，具有民事权利能力。"


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in English, the catalogue's own text."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def civil_code(db):
    return LawTopicFactory(name="民法典")


def line(qtype="填空题", stem=BIRTH, answer="", blanks="出生\n死亡", rubric="", model="",
         options=("", "")):  # fmt: skip
    return [qtype, "民法典", stem, *options, answer, blanks, rubric, model]


def bank(*rows, header=HEADER):
    return xlsx([header, *rows])


def only_question():
    question = Question.objects.get()
    return {
        "type": question.type,
        "stem": question.stem,
        "answer": question.answer,
        "blanks": question.blanks,
        "rubric": question.rubric,
        "model_answer": question.model_answer,
    }


RUBRIC = "指出甲是限制民事行为能力人 — 2分\n指出合同效力待定 — 3分"
HOSTILE = '=HYPERLINK("http://x","y")'
STORED_RUBRIC = [
    {"element": "指出甲是限制民事行为能力人", "points": "2"},
    {"element": "指出合同效力待定", "points": "3"},
]

# Files that import: what each says is what is stored ---------------------------------------

ACCEPTED = {
    "a fill-in question with a column of its own, one line per blank": (
        bank(line(blanks="出生｜诞生\n死亡｜去世")),
        {"type": FILL, "blanks": [["出生", "诞生"], ["死亡", "去世"]], "answer": ""},
    ),
    "alternatives separated by |, ； and ;": (
        bank(line(blanks="出生|诞生；降生\n死亡;去世")),
        {"blanks": [["出生", "诞生", "降生"], ["死亡", "去世"]]},
    ),
    "the answers in the answer column (参考答案), as most banks keep them": (
        bank(
            ["填空", "民法典", BIRTH, "出生\n死亡"],
            header=["题型", "专题", "题干", "参考答案"],
        ),
        {"type": FILL, "blanks": [["出生"], ["死亡"]], "answer": ""},
    ),
    "a one-line key numbered ①②": (
        bank(line(blanks="①出生②死亡｜去世")),
        {"blanks": [["出生"], ["死亡", "去世"]]},
    ),
    "a one-line key numbered （1）（2）": (
        bank(line(blanks="（1）出生；诞生 （2）死亡")),
        {"blanks": [["出生", "诞生"], ["死亡"]]},
    ),
    "blank lines around the answers and repeated alternatives": (
        bank(line(blanks="\n 出生 ｜出生\n死亡\n\n")),
        {"blanks": [["出生"], ["死亡"]]},
    ),
    "a fill-in answer typed as a number in a number cell": (
        xlsx(
            [HEADER, line(stem="行政许可一般应在受理之日起____日内作出决定。", blanks=20)],
            number_formats={"G2": "0"},
        ),
        {"blanks": [["20"]]},
    ),
    "a WPS line break (_x000D_) between the blanks": (
        wps_xlsx([HEADER, line(blanks="出生\n死亡")]),
        {"blanks": [["出生"], ["死亡"]]},
    ),
    "title rows and a merged title above the header": (
        xlsx(
            [HEADER, line(qtype="填空题 ")],
            title_rows=["某区2025年学法用法考试题库（填空题）", ""],
            merges=["A1:I1"],
        ),
        {"type": FILL},
    ),
    "a short answer with its rubric and model answer columns": (
        bank(
            line(qtype="简答题", stem="简述合同效力。", blanks="", rubric=RUBRIC, model="答案全文")
        ),
        {"type": SHORT, "rubric": STORED_RUBRIC, "model_answer": "答案全文", "blanks": []},
    ),
    "rubric points written （2分）, ：3 and with full-width digits": (
        bank(
            line(
                qtype="问答题",
                stem="简述合同效力。",
                blanks="",
                rubric="指出甲是限制民事行为能力人（２分）\n指出合同效力待定：3",
            )
        ),
        {"type": SHORT, "rubric": STORED_RUBRIC, "model_answer": ""},
    ),
    "a short answer whose model answer is in the answer column": (
        bank(
            ["简答", "民法典", "简述合同效力。", "答案全文"],
            header=["题型", "专题", "题干", "参考答案"],
        ),
        {"type": SHORT, "model_answer": "答案全文", "answer": "", "rubric": []},
    ),
    "a case analysis by its short name 案例": (
        bank(line(qtype="案例", stem="甲十七岁……请分析。", blanks="", rubric=RUBRIC)),
        {"type": CASE, "rubric": STORED_RUBRIC},
    ),
    "a case analysis as 案例分析题 with English headers": (
        bank(
            ["Case analysis", "民法典", "甲十七岁……请分析。", "", RUBRIC, "答案全文"],
            header=["Type", "Topic", "Question", "Answer", "Marking rubric", "Model answer"],
        ),
        {"type": CASE, "rubric": STORED_RUBRIC, "model_answer": "答案全文"},
    ),
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_a_messy_file_of_the_new_types_imports_what_it_says(name):
    data, expected = ACCEPTED[name]
    result, _seen = imported(data)
    assert counts(result) == (1, 0, 0, 0)
    stored = only_question()
    assert {field: stored[field] for field in expected} == expected


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (
            csv_bytes(
                [HEADER, line(), line(qtype="简答题", stem="简述。", blanks="", rubric=RUBRIC)],
                "gbk",
            ),
            "题库.csv",
        ),  # fmt: skip
        (
            xls([HEADER, line(), line(qtype="简答题", stem="简述。", blanks="", rubric=RUBRIC)]),
            "题库.xls",
        ),  # fmt: skip
    ],
    ids=["GBK CSV", "xls"],
)
def test_csv_and_xls_files_carry_the_new_types_too(data, filename):
    result, _seen = imported(data, filename)
    assert counts(result) == (2, 0, 0, 0)
    fill, short = Question.objects.order_by("type")
    assert (fill.type, fill.blanks) == (FILL, [["出生"], ["死亡"]])
    assert (short.type, short.rubric) == (SHORT, STORED_RUBRIC)


@pytest.mark.parametrize(
    ("word", "qtype"),
    [
        ("填空", FILL), ("填空题", FILL), ("fill in the blank", FILL), ("Fill_blank", FILL),
        ("简答", SHORT), ("简答题", SHORT), ("问答题", SHORT), ("论述题", SHORT),
        ("short answer", SHORT), ("案例分析", CASE), ("案例分析题", CASE), ("案例题", CASE),
        ("ＣＡＳＥ ＡＮＡＬＹＳＩＳ", CASE),
    ],
)  # fmt: skip
def test_type_words_offices_write(word, qtype):
    if qtype == FILL:
        row = line(qtype=word)
    else:
        row = line(qtype=word, stem="简述。", blanks="", rubric=RUBRIC)
    imported(bank(row))
    assert Question.objects.get().type == qtype


# Files that are refused: the message names the row, the column and the real problem ---------

REFUSED = {
    "a fill-in question without a blank in its stem": (
        line(stem="自然人的民事权利能力始于何时？", blanks="出生"),
        "Row 2, column “题目”: Mark each blank in the question with ____ (two or more "
        "underscores) or （ ）.",
    ),
    "fewer lines of answers than blanks": (
        line(blanks="出生、死亡"),
        "Row 2, column “填空答案”: The question has 2 blanks but answers for 1 are given; "
        "write one line of accepted answers per blank.",
    ),
    "an empty line between the blanks' answers": (
        line(blanks="出生\n\n死亡"),
        "Row 2, column “填空答案”: Blank 2 has no accepted answer.",
    ),
    "fill-in answers missing altogether": (
        line(blanks=""),
        "Row 2, column “填空答案”: Give the accepted answers: one line per blank, a blank's "
        "alternatives separated by ｜, e.g. “行政许可｜许可”.",
    ),
    "an answer of punctuation only": (
        line(blanks="出生\n——"),
        "Row 2, column “填空答案”: “——” has no letters or digits: no answer could match it.",
    ),
    "the answers in the answer column, wrongly counted": (
        line(answer="出生", blanks=""),
        "Row 2, column “答案”: The question has 2 blanks but answers for 1 are given; write "
        "one line of accepted answers per blank.",
    ),
    "a letter answer beside the fill-in answers": (
        line(answer="A"),
        "Row 2, column “答案”: Only choice and true-or-false questions have answer letters; "
        "clear this field.",
    ),
    "options on a fill-in question": (
        line(options=("甲", "乙")),
        "Row 2, column “选项A”: Only choice questions have options; clear them.",
    ),
    "a short answer with neither rubric nor model answer": (
        line(qtype="简答题", stem="简述。", blanks=""),
        "Row 2, column “评分要点”: Give a marking rubric (one line per element with its "
        "points, e.g. “告知当事人陈述、申辩的权利 — 2分”) or a model answer: markers need one of "
        "them.",
    ),
    "a rubric line without points": (
        line(
            qtype="案例分析",
            stem="请分析。",
            blanks="",
            rubric="指出甲的身份 — 2分\n指出合同效力待定",
        ),
        "Row 2, column “评分要点”: Rubric line 2 needs its points at the end, a positive number "
        "of at most 100 such as “— 2分” or “— 1.5分”.",
    ),
    "a rubric element worth nothing": (
        line(qtype="案例分析", stem="请分析。", blanks="", rubric="指出甲的身份 — 0分"),
        "Row 2, column “评分要点”: Rubric line 1 needs its points at the end, a positive number "
        "of at most 100 such as “— 2分” or “— 1.5分”.",
    ),
    "accepted answers on a short answer": (
        line(qtype="简答题", stem="简述。", model="答案"),
        "Row 2, column “填空答案”: Only fill-in-the-blank questions have accepted answers per "
        "blank; clear them.",
    ),
    "a rubric on a choice question": (
        line(
            qtype="单选",
            stem="题目",
            answer="A",
            blanks="",
            rubric="要点 — 2分",
            options=("甲", "乙"),
        ),  # fmt: skip
        "Row 2, column “评分要点”: Only short-answer and case-analysis questions have a marking "
        "rubric; clear it.",
    ),
    "a model answer on a choice question": (
        line(qtype="单选", stem="题目", answer="A", blanks="", model="范文", options=("甲", "乙")),
        "Row 2, column “参考范文”: Only short-answer and case-analysis questions have a model "
        "answer; clear it.",
    ),
    "a type nobody knows": (
        line(qtype="作文题"),
        "Row 2, column “题型”: “作文题” is not a question type; use 单选, 多选, 判断, 填空, "
        "简答 or 案例分析.",
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_wrong_row_is_refused_naming_the_real_problem(name):
    row, message = REFUSED[name]
    assert refused(bank(row)) == message


def test_one_bad_row_among_good_ones_imports_nothing():
    good = line()
    short = line(qtype="简答题", stem="简述。", blanks="", rubric=RUBRIC)
    bad = line(stem="另一题____", blanks="甲\n乙")
    assert refused(bank(good, short, bad)) == (
        "Row 4, column “填空答案”: The question has 1 blank but answers for 2 are given; write "
        "one line of accepted answers per blank."
    )
    assert not Question.objects.exists()


def test_the_preview_lists_accepted_answers_and_rubric_as_written():
    short = line(qtype="简答", stem="简述。", blanks="", rubric=RUBRIC)
    seen = preview(bank(line(blanks="出生｜诞生\n死亡"), short))
    assert seen.can_apply
    fill, short = seen.created
    assert ("Accepted answers per blank", "", "出生｜诞生\n死亡") in fill.fields
    assert ("Question type", "", "填空") in fill.fields
    assert ("Marking rubric", "", RUBRIC) in short.fields


# Importing again: updates by key, no duplicates without one ---------------------------------


def test_a_fill_in_file_without_keys_imported_twice_adds_nothing_the_second_time():
    data = bank(line(blanks="出生｜诞生\n死亡"))
    assert counts(imported(data)[0]) == (1, 0, 0, 0)
    again = bank(line(blanks="诞生；出生\n 死亡 "))  # the same answers, written otherwise
    result, seen = imported(again)
    assert counts(result) == (0, 1, 0, 0)  # the order of the alternatives is updated
    assert seen.updated[0].fields == [
        ("Accepted answers per blank", "出生｜诞生\n死亡", "诞生｜出生\n死亡")
    ]
    assert Question.objects.count() == 1


def test_a_changed_rubric_under_a_key_is_shown_and_updated():
    header = ["编号", *HEADER]
    imported(bank(["K1", *line(qtype="案例分析", stem="请分析。", blanks="", rubric=RUBRIC)],
                  header=header))  # fmt: skip
    changed = RUBRIC.replace("3分", "4分")
    result, seen = imported(
        bank(
            ["K1", *line(qtype="案例分析", stem="请分析。", blanks="", rubric=changed)],
            header=header,
        )  # fmt: skip
    )
    assert counts(result) == (0, 1, 0, 0)
    assert seen.updated[0].fields == [("Marking rubric", RUBRIC, changed)]
    assert Question.objects.get(key="K1").rubric[1] == {
        "element": "指出合同效力待定",
        "points": "4",
    }


def test_a_question_that_changes_type_sheds_what_its_old_type_used():
    header = ["编号", *HEADER]
    imported(bank(["K1", *line()], header=header))
    choice = line(qtype="单选", stem="自然人的民事权利能力始于（ ）。", answer="A", blanks="",
                  options=("出生", "成年"))  # fmt: skip
    result, _seen = imported(bank(["K1", *choice], header=header))
    assert counts(result) == (0, 1, 0, 0)
    question = Question.objects.get(key="K1")
    assert (question.type, question.answer, question.blanks) == ("single", "A", [])


def test_a_file_without_a_rubric_column_keeps_the_rubric_the_bank_holds():
    QuestionFactory(key="K1", type=SHORT, stem="简述。", topic=LawTopicFactory(name="民法典"),
                    option_a="", option_b="", option_c="", option_d="", answer="",
                    rubric=STORED_RUBRIC, model_answer="旧范文")  # fmt: skip
    data = bank(
        ["K1", "简答", "民法典", "简述。", "新范文"],
        header=["编号", "题型", "专题", "题干", "答案"],
    )
    result, seen = imported(data)
    assert counts(result) == (0, 1, 0, 0)
    assert seen.updated[0].fields == [("Model answer", "旧范文", "新范文")]
    question = Question.objects.get(key="K1")
    assert (question.rubric, question.model_answer) == (STORED_RUBRIC, "新范文")


# Template and export ------------------------------------------------------------------------


def every_type():
    topic = LawTopicFactory(name="民法典")
    empty = {f"option_{c}": "" for c in "abcd"}
    QuestionFactory(key="S1", topic=topic)
    QuestionFactory(key="M1", topic=topic, multiple=True)
    QuestionFactory(key="T1", topic=topic, true_false=True)
    QuestionFactory(key="F1", topic=topic, type=FILL, stem=BIRTH, answer="", **empty,
                    blanks=[["出生", "诞生"], ["死亡"]])  # fmt: skip
    QuestionFactory(key="A1", topic=topic, type=SHORT, stem="简述。\n分两点。", answer="",
                    **empty, rubric=STORED_RUBRIC, model_answer="第一行\n第二行")  # fmt: skip
    QuestionFactory(key="C1", topic=topic, type=CASE, stem="=请分析", answer="", **empty,
                    rubric=[{"element": HOSTILE, "points": "1.5"}])  # fmt: skip


def test_an_exported_bank_of_every_type_imports_back_unchanged():
    every_type()
    before = sorted(
        Question.objects.values_list(
            "key", "type", "stem", "answer", "blanks", "rubric", "model_answer", "updated_at"
        )  # fmt: skip
    )
    with translation.override("zh-hans"):
        data = export_xlsx()
    header = [cell.value for cell in load_workbook(BytesIO(data)).active[1]]
    # The three columns of the new types stand between the answer and the explanation.
    assert (len(header), header.index("答案"), header.index("解析")) == (18, 10, 14)
    result, _seen = imported(data)
    assert counts(result) == (0, 0, 6, 0)
    after = sorted(
        Question.objects.values_list(
            "key", "type", "stem", "answer", "blanks", "rubric", "model_answer", "updated_at"
        )  # fmt: skip
    )
    assert after == before


def test_the_export_writes_text_never_formulas_for_the_new_columns():
    every_type()
    sheet = load_workbook(BytesIO(export_xlsx())).active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    case = rows["C1"]
    assert case[3].value == "=请分析" and case[3].data_type == "s"
    rubric = case[12]
    assert rubric.value == f"{HOSTILE} — 1.5分" and rubric.data_type == "s"
    assert rows["F1"][11].value == "出生｜诞生\n死亡"


def test_an_export_of_choice_questions_keeps_its_familiar_columns():
    QuestionFactory(topic=LawTopicFactory(name="民法典"))
    header = [cell.value for cell in load_workbook(BytesIO(export_xlsx())).active[1]]
    assert "Marking rubric" not in header and len(header) == 15


def test_the_template_has_an_example_of_every_type_that_imports_as_is():
    result, _seen = imported(template_xlsx())
    assert counts(result) == (6, 0, 0, 0)
    assert sorted(Question.objects.values_list("type", flat=True)) == sorted(QuestionType.values)
    fill = Question.objects.get(type=FILL)
    assert fill.blanks == [["出生"], ["死亡", "去世"]]
    case = Question.objects.get(type=CASE)
    assert len(case.rubric) == 3 and case.model_answer
    instructions = load_workbook(BytesIO(template_xlsx())).worksheets[1]
    text = "\n".join(str(row[0].value) for row in instructions.iter_rows())
    assert "案例分析" in text and "— 2分" in text
