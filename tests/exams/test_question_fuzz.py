"""Malformed question-bank files, generated: whatever arrives, the preview either
says what importing it would do or lists problems, and applying it then imports the
whole file or nothing; nothing ever raises anything else."""

import datetime
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exams.models import Question
from exams.question_io import QuestionImporter
from learning.tabular import TableError
from tests.xlsx_fuzz import build_workbook, build_zip

from .factories import LawTopicFactory, QuestionFactory

pytestmark = pytest.mark.django_db

HEADERS = ["编号", "题型", "法律专题", "题目", "选项A", "选项B", "选项C", "选项D", "答案", "解析",
           "法条依据", "难度", "启用"]  # fmt: skip

cell_values = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(
        ["单选", "多选", "判断", "民法典", "宪法", "A", "AB", "对", "错", "Z", "是", " "]
    ),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=datetime.datetime(1900, 1, 2), max_value=datetime.datetime(2100, 1, 1)),
    st.just("题" * 4001),  # longer than a stem may be
)
headers = st.lists(
    st.one_of(st.sampled_from(HEADERS), st.text(max_size=12), st.none()), max_size=14
)
rows = st.lists(st.lists(cell_values, max_size=14), max_size=8)


def replace_member(data, name, content):
    source = zipfile.ZipFile(io.BytesIO(data))
    return build_zip(
        (info.filename, content if info.filename == name else source.read(info.filename))
        for info in source.infolist()
    )


sheet_xml = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode()),
    st.sampled_from(
        [
            b"<worksheet/>",
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row r="x"><c r="ZZZZZZ1"><v>1</v></c></row></sheetData></worksheet>',
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row r="1"><c r="A1" t="s"><v>999</v></c></row></sheetData></worksheet>',
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet>&a;</worksheet>',
        ]
    ),
)

malformed_files = st.one_of(
    st.binary(max_size=2048),
    st.dictionaries(
        st.sampled_from(["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"]),
        st.binary(max_size=256),
        max_size=3,
    ).map(lambda members: build_zip(members.items())),
    st.builds(build_workbook, headers, rows),
    st.builds(build_workbook, st.just(HEADERS), rows),
    st.builds(lambda body, cut: build_workbook(HEADERS, body)[:cut], rows, st.integers(0, 4000)),
    st.builds(
        lambda body, xml: replace_member(
            build_workbook(HEADERS, body), "xl/worksheets/sheet1.xml", xml
        ),
        rows,
        sheet_xml,
    ),
    st.builds(
        lambda body, xml: replace_member(build_workbook(HEADERS, body), "xl/workbook.xml", xml),
        rows,
        sheet_xml,
    ),
)


@pytest.fixture
def bank():
    LawTopicFactory(name="民法典")
    LawTopicFactory(name="宪法")
    QuestionFactory(key="Q-EXISTING", stem="原题")


def snapshot():
    return sorted(Question.objects.values_list("key", "stem", "answer", "active", "topic_id"))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=malformed_files)
def test_any_file_is_imported_whole_or_refused_clearly(bank, data):
    before = snapshot()
    importer = QuestionImporter()
    preview = importer.preview(data, "bank.xlsx")
    if not preview.can_apply:
        assert all(str(problem).strip() for problem in preview.errors)
        with pytest.raises(TableError):
            importer.apply(data, "bank.xlsx", preview.fingerprint, {})
        assert snapshot() == before
        return
    result = importer.apply(data, "bank.xlsx", preview.fingerprint, {})
    assert result == {name: preview.counts[name] for name in result}
    assert result["created"] + result["updated"] + result["unchanged"] > 0
    assert Question.objects.count() == len(before) + result["created"]
