"""The printable study record (学法档案): its content in Chinese (read back from the
PDF), who may download whose, and a bounded query count for a department's records."""

import datetime
from io import BytesIO

from django.urls import reverse
from django.utils import timezone

import pytest
from pypdf import PdfReader

from exams import attempts as engine
from exams.models import PlanExam
from exams.observations.models import Attendance, Status
from exams.reports.record_pdf import record_pdf, records_pdf
from learning.models import ReportScope
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory
from tests.learning.factories import complete, make_lecture, make_plan, make_session

from .factories import ExamSessionFactory
from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db


def text_of(content):
    assert content.startswith(b"%PDF")
    return "".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def studied(year, bank):
    """An official with a plan (credit hours, a lecture, an exam, an observation) who
    completed the lecture, attended a session, passed the exam and went to court."""
    bureau = DepartmentFactory(name="区司法局")
    office = DepartmentFactory(name="法治督察科", parent=bureau)
    official = OfficialFactory(
        user=UserFactory(name="欧阳明月", roles=["Official"]),
        department=office,
        staff_number="SF0001",
        position="科长",
    )
    lecture = make_lecture(title="行政复议法解读", credit_minutes=45)
    missing = make_lecture(title="民法典总则编")
    exam = ExamSessionFactory(title="年度法律知识考试", year=year)
    from tests.exams.factories import fixed_paper

    exam.paper = fixed_paper(bank)
    exam.save()
    court = CourtObservationFactory(
        title="旁听行政诉讼案",
        starts_at=timezone.now() - datetime.timedelta(days=3),
        ends_at=timezone.now() - datetime.timedelta(days=3) + datetime.timedelta(hours=2),
        registration_deadline=timezone.now() - datetime.timedelta(days=5),
    )
    plan = make_plan(year=year, title="年度学法计划", lectures=[lecture, missing])
    plan.required_credit_hours = 2
    plan.save()
    PlanExam.objects.create(plan=plan, session=exam)
    complete(official, lecture, when=timezone.now() - datetime.timedelta(days=1))
    make_session(
        attendees=[official], title="集体学习宪法", date=timezone.localdate(), credit_minutes=60
    )
    attempt = engine.start_attempt(exam, official)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, answer.snapshot["answer"])
    engine.submit_attempt(attempt)
    Attendance.objects.create(observation=court, official=official, status=Status.PRESENT)
    return official


def test_record_shows_the_year_in_chinese(studied, year):
    text = text_of(record_pdf(studied, year))
    for expected in (
        "欧阳明月",
        "SF0001",
        "区司法局 / 法治督察科",
        "科长",
        str(year),
        "年度学法计划",
        "行政复议法解读",  # required, done, and studied: 45 credited minutes
        "民法典总则编",  # required, missing
        "集体学习宪法",
        "年度法律知识考试",
        "100.0 / 100.0",
        "旁听行政诉讼案",
    ):
        assert expected in text, expected
    assert "45" in text


def test_an_official_downloads_only_their_own_record(client, studied, year):
    other = OfficialFactory(user=UserFactory(name="诸葛亮", roles=["Official"]))
    client.force_login(studied.user)
    page = client.get(reverse("learning:record")).content.decode()
    assert f'href="{reverse("exams:record_pdf")}?year={year}"' in page
    response = client.get(reverse("exams:record_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = text_of(response.content)
    assert "欧阳明月" in text and "诸葛亮" not in text
    # The URL takes no official id; the admin one is refused to officials.
    assert client.get(reverse("exams_exports:record_pdf", args=[other.pk])).status_code == 403
    assert client.get(reverse("exams:record_pdf"), {"year": "1999"}).status_code == 404
    assert client.get(reverse("exams:record_pdf"), {"year": "abc"}).status_code == 404
    client.force_login(other.user)
    assert "诸葛亮" in text_of(client.get(reverse("exams:record_pdf")).content)


def test_anonymous_visitors_sign_in_first(client):
    assert "/login/" in client.get(reverse("exams:record_pdf"))["Location"]


def test_scoped_hr_gets_records_only_inside_the_scope(client, hr_user, studied, year):
    outside = OfficialFactory(user=UserFactory(name="司马光", roles=["Official"]))
    ReportScope.objects.create(user=hr_user, department=studied.department.get_parent())
    client.force_login(hr_user)
    url = reverse("exams_exports:record_pdf", args=[studied.pk])
    response = client.get(url, {"year": year})
    assert response.status_code == 200
    assert "欧阳明月" in text_of(response.content)
    # Wagtail turns the admin view's PermissionDenied into a redirect with a message.
    refused = client.get(reverse("exams_exports:record_pdf", args=[outside.pk]))
    assert refused.status_code == 302 and refused["Location"] == reverse("wagtailadmin_home")
    assert client.get(reverse("exams_exports:record_pdf", args=[999999])).status_code == 404


def test_department_records_take_a_bounded_number_of_queries(
    studied, year, django_assert_max_num_queries
):
    office = studied.department
    few = records_pdf(type(studied).objects.in_department(office), year)
    for number in range(12):
        OfficialFactory(
            department=office, user=UserFactory(name=f"同事{number}", roles=["Official"])
        )
    officials = type(studied).objects.in_department(office)
    with django_assert_max_num_queries(25):
        content = records_pdf(officials, year)
    text = text_of(content)
    assert "欧阳明月" in text and "同事11" in text
    assert len(PdfReader(BytesIO(content)).pages) > len(PdfReader(BytesIO(few)).pages)


def test_study_records_export_job_builds_the_department_pdf(
    hr_user, studied, year, settings, tmp_path, django_capture_on_commit_callbacks
):
    from exams.models import ExportJob, ExportStatus
    from exams.reports import exports

    settings.MEDIA_ROOT = tmp_path
    bureau = studied.department.get_parent()
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.request_export(
            hr_user, "study_records", {"year": str(year), "department": str(bureau.pk)}
        )
    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == ExportStatus.DONE, job.error
    assert job.filename.endswith(".pdf") and "区司法局" in job.filename
    with job.file.open("rb") as handle:
        assert "欧阳明月" in text_of(handle.read())


def test_a_hearing_made_up_by_studying_its_case_shows_as_made_up(year):
    """补学 (exams/observations/cases.py): on the record, dated by the make-up, with
    no observation credit (the case's study time gave it)."""
    official = OfficialFactory(user=UserFactory(name="司马光", roles=["Official"]))
    starts = timezone.now() - datetime.timedelta(days=3)
    court = CourtObservationFactory(
        title="旁听民事纠纷案",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        registration_deadline=starts - datetime.timedelta(days=2),
        credit_minutes=90,
    )
    Attendance.objects.create(
        observation=court, official=official, status=Status.ABSENT, made_up_at=timezone.now()
    )
    text = text_of(record_pdf(official, year))
    assert "旁听民事纠纷案" in text and "已补学" in text
    assert "90" not in text
    Attendance.objects.filter(official=official).update(made_up_at=None)
    assert "旁听民事纠纷案" not in text_of(record_pdf(official, year))
