"""Hostile uploads: image bombs, xlsx zip bombs and forged sheets for the roster and
question-bank imports, oversized reflection files. Each is refused quickly, with a
Chinese message, and leaves nothing behind."""

import datetime
import io
import struct
import time
import zipfile
import zlib

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from wagtail.images import get_image_model

import openpyxl
import pytest

from exams import question_io
from exams.models import Question
from exams.observations import models as observation_models
from exams.observations import services
from exams.observations.models import Attendance, Reflection, Status
from learning import import_jobs, roster
from learning.models import ImportJob, Official, User
from tests.exams.factories import LawTopicFactory
from tests.exams.observation_factories import CourtObservationFactory
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def workbook(*rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_members(data, replace=None, extra=()):
    """The workbook `data` with some members replaced and others added."""
    replace = replace or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, content in extra:
            archive.writestr(name, content)
    return out.getvalue()


def huge_sheet(megabytes):
    """A sheet whose XML unpacks to `megabytes` MB but compresses to a few kB."""
    cell = b'<c t="inlineStr"><is><t>' + b"0" * (megabytes * 1024 * 1024) + b"</t></is></c>"
    return SHEET_HEAD + b'<sheetData><row r="1">' + cell + b"</row></sheetData></worksheet>"


# A sheet that claims all 16,384 columns and a million rows, and has two cells.
FORGED_DIMENSION = (
    SHEET_HEAD + b'<dimension ref="A1:XFD1048576"/><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    b"</sheetData></worksheet>"
)


def as_upload(data, name="bomb.xlsx"):
    return SimpleUploadedFile(name, data, content_type=XLSX)


# Roster -------------------------------------------------------------------------


@pytest.fixture
def hr_client(client, hr_user):
    client.force_login(hr_user)
    return client


@pytest.fixture
def roster_base():
    root = DepartmentFactory(name="滨海新区人民政府")
    DepartmentFactory(name="秘书科", parent=root)
    return workbook(["姓名", "工号", "部门"], ["王一", "BH1", "秘书科"])


def test_roster_zip_bomb_is_refused_before_parsing(hr_client, roster_base):
    bomb = with_members(roster_base, {SHEET: huge_sheet(120)})
    assert len(bomb) < 1024 * 1024
    before = (Official.objects.count(), User.objects.count())
    started = time.perf_counter()
    with pytest.raises(roster.RosterError):
        roster.import_roster(bomb)
    assert time.perf_counter() - started < 0.5
    response = hr_client.post(reverse("roster:upload"), {"file": as_upload(bomb)}, follow=True)
    assert response.status_code == 200
    assert "工作簿解压后的大小异常" in response.content.decode()
    assert (Official.objects.count(), User.objects.count()) == before


def test_roster_with_thousands_of_archive_members_is_refused(roster_base):
    crafted = with_members(roster_base, extra=[(f"x/{i}.xml", b"") for i in range(600)])
    with pytest.raises(roster.RosterError) as refused:
        roster.import_roster(crafted)
    assert "部件过多" in str(refused.value.problems[0].message)
    assert not Official.objects.exists()


def test_roster_forged_dimension_does_not_pad_rows(roster_base):
    started = time.perf_counter()
    with pytest.raises(roster.RosterError):
        roster.import_roster(with_members(roster_base, {SHEET: FORGED_DIMENSION}))
    assert time.perf_counter() - started < 2
    assert not Official.objects.exists()


def test_roster_oversized_upload_is_not_read_whole(roster_base, settings, hr_user):
    settings.XUEFA_MAX_IMPORT_BYTES = 1000
    upload = io.BytesIO(b"PK" + b"\0" * 100_000)
    with pytest.raises(import_jobs.ImportRefused) as refused:
        import_jobs.start_import(hr_user, "roster", upload)
    assert "文件超过" in str(refused.value)
    assert upload.tell() <= 1001
    assert not ImportJob.objects.exists()


# Question bank ------------------------------------------------------------------


@pytest.fixture
def question_base(db):
    LawTopicFactory(name="宪法")
    return workbook(
        ["题型", "题干", "选项A", "选项B", "答案", "法律专题"],
        ["单选", "题目", "甲", "乙", "A", "宪法"],
    )


def test_question_bank_zip_bomb_is_refused_before_parsing(organizer_client, question_base):
    bomb = with_members(question_base, {SHEET: huge_sheet(120)})
    started = time.perf_counter()
    with pytest.raises(question_io.ImportRefused):
        question_io.import_xlsx(bomb)
    assert time.perf_counter() - started < 0.5
    response = organizer_client.post(
        reverse("question_import:upload"), {"file": as_upload(bomb)}, follow=True
    )
    assert response.status_code == 200
    assert "工作簿解压后的大小异常" in response.content.decode()
    assert not Question.objects.exists()


def test_question_bank_with_thousands_of_archive_members_is_refused(question_base):
    crafted = with_members(question_base, extra=[(f"x/{i}.xml", b"") for i in range(600)])
    with pytest.raises(question_io.ImportRefused) as refused:
        question_io.import_xlsx(crafted)
    assert "部件过多" in refused.value.errors[0]
    assert not Question.objects.exists()


def test_question_bank_forged_dimension_is_refused_quickly(question_base):
    started = time.perf_counter()
    with pytest.raises(question_io.ImportRefused):
        question_io.import_xlsx(with_members(question_base, {SHEET: FORGED_DIMENSION}))
    assert time.perf_counter() - started < 1  # was 4 s: 5,000 rows padded to 16,384 cells
    assert not Question.objects.exists()


def test_the_question_bank_still_imports_after_the_checks(question_base):
    assert question_io.import_xlsx(question_base).created == 1


# Images -------------------------------------------------------------------------


def png_claiming(width, height):
    """A valid-looking PNG header that claims a huge canvas (a decompression bomb)."""

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_image_bomb_is_refused_by_its_pixel_count(admin_client):
    assert settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS == 64_000_000
    upload = SimpleUploadedFile("bomb.png", png_claiming(20_000, 20_000), content_type="image/png")
    started = time.perf_counter()
    response = admin_client.post(reverse("wagtailimages:add"), {"title": "bomb", "file": upload})
    assert time.perf_counter() - started < 2
    assert response.status_code == 200
    assert "像素" in response.content.decode()
    assert not get_image_model().objects.exists()


def test_oversized_image_is_refused(admin_client, settings):
    settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = 1000
    upload = SimpleUploadedFile("big.png", png_claiming(10, 10) + b"\0" * 2000)
    response = admin_client.post(reverse("wagtailimages:add"), {"title": "big", "file": upload})
    assert response.status_code == 200
    assert "文件太大" in response.content.decode() or "文件过大" in response.content.decode()
    assert not get_image_model().objects.exists()


# Reflections and request limits --------------------------------------------------


def test_oversized_reflection_file_is_refused(official_client, official, monkeypatch):
    monkeypatch.setattr(observation_models, "REFLECTION_MAX_BYTES", 1024)
    now = timezone.now()
    observation = CourtObservationFactory(
        starts_at=now - datetime.timedelta(minutes=1),
        ends_at=now + datetime.timedelta(hours=2),
        registration_deadline=now - datetime.timedelta(days=1),
    )
    attendance = Attendance.objects.create(
        observation=observation, official=official, status="registered"
    )
    services.mark(attendance, Status.PRESENT, by=None)
    upload = SimpleUploadedFile("观后感.pdf", b"%PDF" + b"0" * 2048)
    url = reverse("observations:reflection", args=[observation.pk])
    response = official_client.post(url, {"text": "很有收获", "file": upload})
    assert response.status_code == 200
    assert "文件过大" in response.content.decode()
    assert not Reflection.objects.exists()


def test_request_size_limits_are_set():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2.5 * 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 5 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS <= 10_000
    assert settings.XUEFA_MAX_IMPORT_BYTES <= 10 * 1024 * 1024


# Broken sheets (found by fuzzing: openpyxl parses a sheet lazily) -----------------

DAMAGED = (
    "文件不是可读取的工作簿，可能已损坏。请在 Excel 或 WPS 中打开，"
    "选择“文件 › 另存为 › Excel 工作簿（*.xlsx）”，再上传另存的文件。"
)
BROKEN_SHEETS = [
    b"not xml at all",
    SHEET_HEAD + b'<sheetData><row r="1"><c r="A1" t="s"><v>9</v></c></row></sheetData>',
    SHEET_HEAD + b'<sheetData><row r=""><c r=""><v></v></c></row></sheetData></worksheet>',
]


@pytest.mark.parametrize("sheet", BROKEN_SHEETS)
def test_roster_with_a_broken_sheet_is_refused(roster_base, sheet):
    with pytest.raises(roster.RosterError) as refused:
        roster.import_roster(with_members(roster_base, {SHEET: sheet}))
    # A sheet whose only row has no number holds nothing the reader can place.
    assert str(refused.value.problems[0].message) in ("文件中没有数据。", DAMAGED)
    assert not Official.objects.exists()


@pytest.mark.parametrize("sheet", BROKEN_SHEETS)
def test_question_bank_with_a_broken_sheet_is_refused(question_base, sheet):
    with pytest.raises(question_io.ImportRefused) as refused:
        question_io.import_xlsx(with_members(question_base, {SHEET: sheet}))
    assert refused.value.errors[0] in ("文件中没有数据。", DAMAGED)
    assert not Question.objects.exists()
