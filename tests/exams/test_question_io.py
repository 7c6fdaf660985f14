"""xlsx import and export of the question bank: the template, round trips, updates
by key, and refusals of bad files (all-or-nothing, clear Chinese messages)."""

import zipfile
from io import BytesIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

import pytest
from openpyxl import Workbook, load_workbook

from exams.models import Question
from exams.question_io import ImportRefused, export_xlsx, import_xlsx, template_xlsx

from .factories import LawTopicFactory, QuestionFactory

pytestmark = pytest.mark.django_db

HEADER = ["编号", "题型", "法律专题", "题目", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F",
          "答案", "解析", "法条依据", "难度", "启用"]  # fmt: skip


@pytest.fixture
def topic(db):
    return LawTopicFactory(name="民法典", slug="minfadian")


def row(qtype="单选", topic="民法典", stem="题目一", options=("甲", "乙", "丙", "丁"), answer="A",
        key="", difficulty="中", active="是"):  # fmt: skip
    opts = list(options) + [""] * (6 - len(options))
    return [key, qtype, topic, stem, *opts, answer, "解析", "《民法典》第一条", difficulty, active]


def xlsx(*rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    if header:
        sheet.append(header)
    for r in rows:
        sheet.append(r)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refused(data):
    with pytest.raises(ImportRefused) as info:
        import_xlsx(data)
    assert Question.objects.count() == 0
    return "\n".join(info.value.errors).replace(" ", "")


def test_template_imports_as_is(topic):
    result = import_xlsx(template_xlsx())
    assert result.created == 3
    types = sorted(Question.objects.values_list("type", flat=True))
    assert types == ["multiple", "single", "true_false"]
    tf = Question.objects.get(type="true_false")
    assert tf.answer == "T"


def test_import_creates_then_updates_by_key(topic):
    data = xlsx(
        row(key="MF-1"),
        row(qtype="多选", stem="题目二", answer="A,C", key="MF-2"),
        row(qtype="判断", stem="题目三", options=(), answer="错"),
    )
    result = import_xlsx(data)
    assert (result.created, result.updated) == (3, 0)
    assert Question.objects.get(key="MF-2").answer == "AC"
    result = import_xlsx(xlsx(row(key="MF-1", stem="改过的题目一", answer="B")))
    assert (result.created, result.updated) == (0, 1)
    assert Question.objects.count() == 3
    assert Question.objects.get(key="MF-1").stem == "改过的题目一"


def test_export_round_trip_updates_instead_of_duplicating(topic):
    QuestionFactory.create_batch(3, topic=topic)
    QuestionFactory(topic=topic, true_false=True, answer="F")
    data = export_xlsx()
    sheet = load_workbook(BytesIO(data)).active
    assert [c.value for c in sheet[1]] == HEADER
    result = import_xlsx(data)
    assert (result.created, result.updated) == (0, 4)
    assert Question.objects.count() == 4
    assert Question.objects.get(type="true_false").answer == "F"


BAD_FILES = {
    "not a workbook": (b"this is not a spreadsheet", "不是Excel工作簿"),
    "csv renamed": ("编号,题型\n,单选\n".encode(), "不是Excel工作簿"),
    "zip without workbook": (None, "不是Excel工作簿"),
    "empty sheet": (xlsx(header=None), "第一个工作表是空的"),
    "header only": (xlsx(), "没有题目"),
    "missing columns": (xlsx(["题型", "题目"], ["单选", "x"], header=None), "缺少必填列"),
    "unknown column": (xlsx(row(), header=[*HEADER, "备注"]), "未知的列"),
    "unknown type": (xlsx(row(qtype="填空")), "第2行“题型”列"),
    "unknown topic": (xlsx(row(topic="不存在的法")), "没有名为“不存在的法”的法律专题"),
    "empty stem": (xlsx(row(stem="")), "第2行“题目”列"),
    "single with two answers": (xlsx(row(answer="AB")), "单选题只能有一个正确选项"),
    "answer names a missing option": (xlsx(row(answer="E")), "答案中有不存在的选项"),
    "multiple with one answer": (xlsx(row(qtype="多选", answer="B")), "多选题至少有两个正确选项"),
    "true-false bad answer": (xlsx(row(qtype="判断", options=(), answer="也许")), "对或错"),
    "options with a gap": (xlsx(row(options=("甲", "", "丙"))), "选项须从A开始依次填写"),
    "bad difficulty": (xlsx(row(difficulty="超难")), "第2行“难度”列"),
    "duplicate key": (xlsx(row(key="K1"), row(key="K1", stem="另一题")), "已在第2行使用"),
    "over-long stem": (xlsx(row(stem="长" * 4001)), "超过4000个字符"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_are_refused_whole(topic, name):
    data, message = BAD_FILES[name]
    if data is None:
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "hi")
        data = buffer.getvalue()
    assert message in refused(data)


def test_one_bad_row_imports_nothing(topic):
    errors = refused(xlsx(row(stem="好题"), row(stem="坏题", answer="Z"), row(stem="又一好题")))
    assert "第3行" in errors
    assert "第2行" not in errors and "第4行" not in errors


@override_settings(XUEFA_MAX_IMPORT_BYTES=2000)
def test_too_large_file_is_refused(topic):
    assert "文件过大" in refused(xlsx(*[row(stem=f"题目{i}") for i in range(200)]))


@override_settings(XUEFA_MAX_IMPORT_BYTES=200_000)
def test_zip_bomb_is_refused(topic):
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 10_000_000)
    assert len(buffer.getvalue()) < 200_000
    assert "解压后的数据量" in refused(buffer.getvalue())


def test_management_command(topic, tmp_path):
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx(row(key="CMD-1")))
    call_command("import_questions", str(good))
    assert Question.objects.filter(key="CMD-1").exists()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx(row(key="CMD-2", answer="Q")))
    with pytest.raises(CommandError):
        call_command("import_questions", str(bad))
    assert not Question.objects.filter(key="CMD-2").exists()
