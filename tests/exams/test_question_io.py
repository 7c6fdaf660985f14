"""The question bank's template, export and import (preview, then apply): the template
imports as it is, keys update, an exported bank comes back unchanged, and a bad file
is refused whole with a message naming the row, the column and the problem."""

import zipfile
from io import BytesIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import translation

import pytest
from openpyxl import load_workbook

from exams.models import Question
from exams.question_io import QuestionImporter, export_xlsx, template_xlsx
from learning.imports import PlanChanged, get_importer
from learning.tabular import TableError
from tests import messy_files

from .factories import LawTopicFactory, QuestionFactory

pytestmark = pytest.mark.django_db

HEADER = ["编号", "题型", "法律专题", "题目", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F",
          "答案", "解析", "法条依据", "难度", "启用"]  # fmt: skip


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in English, the catalogue's own text."""
    with translation.override("en"):
        yield


def row(qtype="单选", topic="民法典", stem="题目一", options=("甲", "乙", "丙", "丁"), answer="A",
        key="", difficulty="中", active="是", explanation="解析"):  # fmt: skip
    opts = list(options) + [""] * (6 - len(options))
    return [key, qtype, topic, stem, *opts, answer, explanation, "《民法典》第一条", difficulty,
            active]  # fmt: skip


def xlsx(*rows, header=HEADER):
    return messy_files.xlsx([header, *rows] if header else list(rows))


def preview(data, filename="bank.xlsx"):
    """What importing the file would do (shared with test_question_import)."""
    return QuestionImporter().preview(data, filename)


def imported(data, filename="bank.xlsx"):
    """Preview, check it can be applied, apply: apply's result and the preview."""
    importer = QuestionImporter()
    seen = importer.preview(data, filename)
    assert seen.can_apply, [str(p) for p in seen.errors]
    return importer.apply(data, filename, seen.fingerprint, {}), seen


def counts(result):
    return tuple(result[name] for name in ("created", "updated", "unchanged", "skipped"))


def refused(data, filename="bank.xlsx"):
    """Every problem of a refused file as one text; nothing was written, and applying
    the refused preview is refused too."""
    before = Question.objects.count()
    seen = preview(data, filename)
    assert not seen.can_apply
    with pytest.raises(TableError):
        QuestionImporter().apply(data, filename, seen.fingerprint, {})
    assert Question.objects.count() == before
    return "\n".join(str(problem) for problem in seen.errors)


def test_the_importer_is_registered_for_the_upload_screens():
    importer = get_importer("questions")
    assert isinstance(importer, QuestionImporter)
    assert importer.permission == "exams.add_question"
    assert importer.template_url_name == "exams_admin:question_template"


def test_template_imports_as_is():
    LawTopicFactory(name="民法典")
    result, _seen = imported(template_xlsx())
    assert counts(result) == (6, 0, 0, 0)
    types = sorted(Question.objects.values_list("type", flat=True))
    assert types == sorted(
        ["case_analysis", "fill_blank", "multiple", "short_answer", "single", "true_false"]
    )
    assert Question.objects.get(type="true_false").answer == "T"


def test_import_creates_then_updates_by_key_field_by_field():
    LawTopicFactory(name="民法典")
    data = xlsx(
        row(key="MF-1"),
        row(qtype="多选", stem="题目二", answer="A,C", key="MF-2"),
        row(qtype="判断", stem="题目三", options=(), answer="错"),
    )
    result, seen = imported(data)
    assert counts(result) == (3, 0, 0, 0)
    assert [c.label for c in seen.created] == ["MF-1 题目一", "MF-2 题目二", "题目三"]
    assert Question.objects.get(key="MF-2").answer == "AC"
    result, seen = imported(xlsx(row(key="MF-1", stem="改过的题目一", answer="B")))
    assert counts(result) == (0, 1, 0, 0)
    assert seen.updated[0].label == "MF-1 题目一"
    assert seen.updated[0].fields == [("Question", "题目一", "改过的题目一"), ("Answer", "A", "B")]
    assert Question.objects.count() == 3
    assert Question.objects.get(key="MF-1").stem == "改过的题目一"


def test_an_exported_bank_imports_back_unchanged():
    topic = LawTopicFactory(name="民法典")
    QuestionFactory.create_batch(3, topic=topic)
    QuestionFactory(topic=topic, true_false=True, answer="F")
    QuestionFactory(topic=topic, stem='=HYPERLINK("http://x","y")', multiple=True)
    QuestionFactory(topic=topic, stem="第一行\n第二行", explanation="解析\n两行")
    before = sorted(Question.objects.values_list("key", "stem", "answer", "updated_at"))
    with translation.override("zh-hans"):
        data = export_xlsx()
    assert [c.value for c in load_workbook(BytesIO(data)).active[1]] == HEADER
    result, _seen = imported(data)
    assert counts(result) == (0, 0, 6, 0)
    assert sorted(Question.objects.values_list("key", "stem", "answer", "updated_at")) == before


def test_an_unused_column_is_a_warning_not_a_refusal():
    LawTopicFactory(name="民法典")
    seen = preview(xlsx([*row(), "自己的备注"], header=[*HEADER, "备注"]))
    assert seen.can_apply and seen.counts["created"] == 1
    assert [str(w) for w in seen.warnings] == ["Column “备注” is not used; its values are ignored."]


def zip_without_a_workbook():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    return buffer.getvalue()


BAD_FILES = {
    "not a spreadsheet": (b"%PDF-1.4 not a spreadsheet", "This is not a spreadsheet."),
    "plain text": (b"this is not a spreadsheet", "No header row found"),
    "zip without workbook": (zip_without_a_workbook(), "This is not a spreadsheet."),
    "empty sheet": (xlsx(header=None), "The file has no data in it."),
    "header only": (xlsx(), "The file has a header but no questions."),
    "missing columns": (
        xlsx(["单选", "x"], header=["题型", "题目"]),
        "Required columns are missing: 法律专题、答案.",
    ),
    "unknown type": (
        xlsx(row(qtype="作文")),
        "Row 2, column “题型”: “作文” is not a question type; "
        "use 单选, 多选, 判断, 填空, 简答 or 案例分析.",
    ),
    "unknown topic": (
        xlsx(row(topic="不存在的法")),
        "Row 2, column “法律专题”: no law topic is called “不存在的法”.",
    ),
    "empty stem": (xlsx(row(stem="")), "Row 2, column “题目”: empty."),
    "single with two answers": (
        xlsx(row(answer="AB")),
        "Row 2, column “答案”: A single-choice question has exactly one correct option.",
    ),
    "answer names a missing option": (
        xlsx(row(answer="E")),
        "Row 2, column “答案”: Option E does not exist.",
    ),
    "multiple with one answer": (
        xlsx(row(qtype="多选", answer="B")),
        "Row 2, column “答案”: A multiple-choice question has at least two correct options.",
    ),
    "true-false bad answer": (
        xlsx(row(qtype="判断", options=(), answer="也许")),
        "Row 2, column “答案”: Not a true-or-false answer; write 对 or 错.",
    ),
    "options with a gap": (
        xlsx(row(options=("甲", "", "丙"))),
        "Row 2, column “选项A”: Fill the options in order from A without gaps.",
    ),
    "bad difficulty": (xlsx(row(difficulty="超难")), "Row 2, column “难度”: use 易, 中 or 难."),
    "duplicate key": (
        xlsx(row(key="K1"), row(key="K1", stem="另一题")),
        "Row 3, column “编号”: key “K1” already used in row 2.",
    ),
    "over-long stem": (
        xlsx(row(stem="长" * 4001)),
        "Row 2, column “题目”: longer than 4000 characters.",
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_are_refused_whole(name):
    LawTopicFactory(name="民法典")
    data, message = BAD_FILES[name]
    assert message in refused(data)


def test_one_bad_row_imports_nothing():
    LawTopicFactory(name="民法典")
    errors = refused(xlsx(row(stem="好题"), row(stem="坏题", answer="Z"), row(stem="又一好题")))
    assert errors == "Row 3, column “答案”: Option Z does not exist."


@override_settings(XUEFA_MAX_IMPORT_BYTES=2000)
def test_too_large_file_is_refused():
    LawTopicFactory(name="民法典")
    assert refused(xlsx(*[row(stem=f"题目{i}") for i in range(200)])) == (
        "The file is larger than 1 KB."
    )


def test_zip_bomb_is_refused():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (101 * 1024 * 1024))
    assert len(buffer.getvalue()) < 200_000
    assert refused(buffer.getvalue()) == "The workbook expands to an unreasonable size; refused."


def test_a_plan_that_changed_after_the_preview_is_not_applied():
    topic = LawTopicFactory(name="民法典")
    QuestionFactory(topic=topic, key="MF-1", stem="题目一", option_a="甲", option_b="乙",
                    option_c="丙", option_d="丁", explanation="旧解析")  # fmt: skip
    data = xlsx(row(key="MF-1", explanation="新解析"), row(key="MF-2", stem="新题"))
    importer = QuestionImporter()
    seen = importer.preview(data, "bank.xlsx")
    assert seen.counts["updated"] == seen.counts["created"] == 1
    Question.objects.filter(key="MF-1").update(explanation="别人刚改的解析")
    with pytest.raises(PlanChanged):
        importer.apply(data, "bank.xlsx", seen.fingerprint, {})
    assert not Question.objects.filter(key="MF-2").exists()
    assert Question.objects.get(key="MF-1").explanation == "别人刚改的解析"


def test_progress_is_reported_while_reading_and_writing():
    LawTopicFactory(name="民法典")
    data = xlsx(*[row(stem=f"题目{i}") for i in range(1200)])
    importer, reported = QuestionImporter(), []
    seen = importer.preview(data, "bank.xlsx", progress=lambda *p: reported.append(p))
    assert reported == [(500, 1200), (1000, 1200), (1200, 1200)]
    reported.clear()
    importer.apply(data, "bank.xlsx", seen.fingerprint, {}, progress=lambda *p: reported.append(p))
    assert reported == [(500, 1200), (1000, 1200), (1200, 1200)]


def test_management_command_previews_then_imports(tmp_path, capsys):
    LawTopicFactory(name="民法典")
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx(row(key="CMD-1"), row(key="CMD-2", stem="题目二"), row(key="CMD-2")))
    call_command("import_questions", str(good), "--dry-run")
    output = capsys.readouterr().out
    assert output.splitlines()[:3] == [
        "3 row(s): 2 new, 0 changed, 0 unchanged, 1 skipped, 0 missing from the file; "
        "0 problem(s), 1 warning(s).",
        "Warning: Row 4, column “题目”: the same question as row 2; skipped.",
        "New: CMD-1 题目一 Question type: 单选; Law topic: 民法典; Option A: 甲; Option B: 乙; "
        "Option C: 丙; Option D: 丁; Answer: A; Difficulty: 中; Active: 是",
    ]
    assert "Skipped: row 4: CMD-2 题目一 the same question as row 2; skipped." in output
    assert output.endswith("Dry run: nothing was written.\n")
    assert not Question.objects.exists()
    call_command("import_questions", str(good))
    assert "2 created, 0 updated, 0 unchanged, 1 skipped." in capsys.readouterr().out
    assert Question.objects.count() == 2


def test_management_command_refuses_a_bad_file_and_writes_nothing(tmp_path, capsys):
    LawTopicFactory(name="民法典")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx(row(key="CMD-1"), row(key="CMD-2", answer="Q")))
    with pytest.raises(CommandError, match=r"^Nothing imported: 1 problem\(s\)\.$"):
        call_command("import_questions", str(bad))
    assert "Problem: Row 3, column “答案”: Option Q does not exist." in capsys.readouterr().err
    assert not Question.objects.exists()
