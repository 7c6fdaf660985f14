"""What the certificate (合格证书) says, read back from the PDF its holder downloads:
the holder's full name, the exam (its title wrapped, never cut) or the study plan,
the intended post for a pre-appointment exam, the date, the band, the code and a QR
code of the absolute verification address; who gets none, and that a revoked one
is not handed out.

`certificate_fields` reads HR's pre-appointment result statement (exams.reports)."""

import datetime
from io import BytesIO

from django.test import Client
from django.urls import reverse
from django.utils import timezone

import pytest
from pypdf import PdfReader

from exams import attempts as engine
from exams import certificates, results
from exams.models import Certificate, SessionCandidate, SessionKind
from tests.factories import OfficialFactory, UserFactory
from tests.learning.factories import complete, make_lecture, make_plan

from .certificate_helpers import (
    SHANGHAI,
    drawn_qr,
    has_links_or_objects,
    label,
    pdf_fields,
    pdf_lines,
    qr_modules,
    sit,
)
from .factories import ExamSessionFactory, fixed_paper

pytestmark = pytest.mark.django_db

# Started and submitted just after midnight in Beijing (still the 16th in UTC): the
# certificate is dated by the local day.
STARTED = datetime.datetime(2026, 3, 17, 0, 10, tzinfo=SHANGHAI)
SUBMITTED = STARTED + datetime.timedelta(minutes=20)
LABELS = ("Name", "Exam", "Study plan", "Intended post", "Date", "Band", "Verification code")


def certificate_fields(content):
    """(title, {label: value}) of HR's one-page result statement: pypdf reads each
    label ("姓名：") and its value as lines of their own."""
    assert content.startswith(b"%PDF")
    pages = PdfReader(BytesIO(content)).pages
    assert len(pages) == 1
    lines = pages[0].extract_text().splitlines()
    fields = {
        label.removesuffix("："): value
        for label, value in zip(lines, lines[1:], strict=False)
        if label.endswith("：")
    }
    return lines[0], fields


def fields_of(content):
    """{English label: value} of a certificate, the exam's or plan's title joined."""
    names = {label(name): name for name in LABELS}
    wrapped = {label("Exam"), label("Study plan")}
    found = pdf_fields(content, set(names), wrapped=wrapped)
    return {names[key]: value for key, value in found.items()}


def url(attempt):
    return reverse("exams:certificate", args=(attempt.session_id, attempt.pk))


def client_of(official):
    client = Client()
    client.force_login(official.user)
    return client


@pytest.fixture
def pre_appointment(bank):
    """A March pre-appointment exam (10 questions, 10 points each, pass mark 60) with
    two candidates: 欧阳明月 for 副局长 and 司马青 for 科长."""
    session = ExamSessionFactory(
        kind=SessionKind.PRE_APPOINTMENT,
        title="任前法律知识考试（三月）",
        paper=fixed_paper(bank),
        for_everyone=False,
        opens_at=datetime.datetime(2026, 3, 1, tzinfo=SHANGHAI),
        closes_at=datetime.datetime(2026, 3, 31, tzinfo=SHANGHAI),
    )
    for name, staff_number, post in (("欧阳明月", "RQ001", "副局长"), ("司马青", "RQ002", "科长")):
        official = OfficialFactory(user=UserFactory(name=name), staff_number=staff_number)
        SessionCandidate.objects.create(session=session, official=official, intended_post=post)
    return session


def candidate(session, staff_number):
    return session.candidates.get(official__staff_number=staff_number).official


def test_a_passed_candidates_certificate(pre_appointment):
    official = candidate(pre_appointment, "RQ001")
    attempt = sit(pre_appointment, official, right=8, now=STARTED, submitted=SUBMITTED)
    response = client_of(official).get(url(attempt))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    certificate = Certificate.objects.get(attempt=attempt)
    lines = pdf_lines(response.content)
    assert lines[0] == label("Certificate of qualification")
    assert lines[1].strip() == label("Exam passed")
    assert fields_of(response.content) == {
        "Name": "欧阳明月",  # in full: the PDF is the holder's own
        "Exam": "任前法律知识考试（三月）",
        "Intended post": "副局长",
        "Date": "2026-03-17",
        "Band": "良好",
        "Verification code": certificates.grouped_code(certificate.code),
    }
    # Nothing the certificate does not certify: no staff number, no score.
    text = "\n".join(lines)
    assert "RQ001" not in text and "80.00" not in text and label("Staff number") not in text


def test_the_qr_code_leads_to_the_absolute_verification_address(pre_appointment):
    official = candidate(pre_appointment, "RQ001")
    attempt = sit(pre_appointment, official, right=9, now=STARTED, submitted=SUBMITTED)
    content = client_of(official).get(url(attempt), HTTP_HOST="xuefa.example.cn").content
    code = Certificate.objects.get(attempt=attempt).code
    address = f"http://xuefa.example.cn/verify/{code}/"
    assert address in "".join(pdf_lines(content))  # printed beneath, for typing
    # The modules drawn are those of a QR code of that address: not of another code,
    # a relative path or another host.
    assert drawn_qr(content) == qr_modules(address)
    assert drawn_qr(content) != qr_modules(f"http://testserver/verify/{code}/")
    # Squares on the page: no link, image or form object a viewer could act on.
    assert not has_links_or_objects(content)


def test_without_a_request_the_address_comes_from_the_base_url(pre_appointment, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://xuefa.gov.example/"
    official = candidate(pre_appointment, "RQ001")
    attempt = sit(pre_appointment, official, right=9, now=STARTED, submitted=SUBMITTED)
    certificate = certificates.issue_for_attempt(attempt)
    content = certificates.certificate_pdf_for(certificate)
    address = f"https://xuefa.gov.example/verify/{certificate.code}/"
    assert drawn_qr(content) == qr_modules(address)


def test_a_long_title_is_wrapped_not_cut(bank):
    title = "关于" + "行政执法人员法律知识与依法行政能力" * 5 + "年度考试"
    session = ExamSessionFactory(title=title, paper=fixed_paper(bank))
    official = OfficialFactory(user=UserFactory(name="诸葛孔明"))
    attempt = sit(session, official, right=10)
    content = client_of(official).get(url(attempt)).content
    fields = fields_of(content)
    assert fields["Exam"] == title
    assert sum(1 for line in pdf_lines(content) if line and line in title) > 1  # wrapped
    # An annual exam names no intended post.
    assert "Intended post" not in fields and fields["Band"] == "优秀"


def test_a_failed_candidate_gets_no_certificate(pre_appointment):
    official = candidate(pre_appointment, "RQ002")
    attempt = sit(pre_appointment, official, right=4, now=STARTED, submitted=SUBMITTED)
    assert client_of(official).get(url(attempt)).status_code == 404
    assert not Certificate.objects.exists()


def test_a_makeups_certificate_names_the_post_of_the_exam_it_makes_up(pre_appointment, bank):
    official = candidate(pre_appointment, "RQ002")
    sit(pre_appointment, official, right=4, now=STARTED, submitted=SUBMITTED)
    # The make-up names no candidates of its own: it reaches whoever failed the exam.
    makeup = ExamSessionFactory(
        kind=SessionKind.MAKEUP,
        title="任前法律知识考试补考",
        paper=fixed_paper(bank),
        makes_up=pre_appointment,
        for_everyone=False,
    )
    attempt = sit(makeup, official, right=10)
    fields = fields_of(client_of(official).get(url(attempt)).content)
    assert fields["Intended post"] == "科长"
    assert fields["Exam"] == "任前法律知识考试补考"
    assert fields["Name"] == "司马青" and fields["Band"] == "优秀"


def test_a_candidate_without_a_post_gets_a_dash(pre_appointment):
    official = candidate(pre_appointment, "RQ001")
    SessionCandidate.objects.filter(official=official).update(intended_post="")
    attempt = sit(pre_appointment, official, right=8, now=STARTED, submitted=SUBMITTED)
    assert fields_of(client_of(official).get(url(attempt)).content)["Intended post"] == "—"


def test_another_official_gets_no_certificate(pre_appointment):
    owner, other = candidate(pre_appointment, "RQ001"), candidate(pre_appointment, "RQ002")
    attempt = sit(pre_appointment, owner, right=8, now=STARTED, submitted=SUBMITTED)
    assert client_of(other).get(url(attempt)).status_code == 404
    outsider = OfficialFactory()
    assert client_of(outsider).get(url(attempt)).status_code == 404
    anonymous = Client().get(url(attempt))
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/accounts/login/?next={url(attempt)}"
    assert client_of(owner).get(url(attempt)).status_code == 200
    certificate = Certificate.objects.get()
    mine = reverse("exams:my_certificate", args=[certificate.pk])
    assert client_of(other).get(mine).status_code == 404
    assert client_of(owner).get(mine).status_code == 200


def test_a_practice_gives_no_certificate(bank, official):
    practice = ExamSessionFactory(kind=SessionKind.PRACTICE, paper=fixed_paper(bank))
    attempt = sit(practice, official, right=10)
    assert attempt.passed and client_of(official).get(url(attempt)).status_code == 404


def test_an_attempt_in_progress_has_no_certificate(pre_appointment):
    official = candidate(pre_appointment, "RQ001")
    client = client_of(official)
    # Sitting it now: the window is moved to today.
    pre_appointment.opens_at = timezone.now() - datetime.timedelta(days=1)
    pre_appointment.closes_at = timezone.now() + datetime.timedelta(days=1)
    pre_appointment.save()
    attempt = engine.start_attempt(pre_appointment, official)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, answer.snapshot["answer"])
    assert client.get(url(attempt)).status_code == 404
    engine.submit_attempt(attempt)
    assert client.get(url(attempt)).status_code == 200
    # The same attempt under another session's address is not found either.
    wrong = reverse("exams:certificate", args=(ExamSessionFactory().pk, attempt.pk))
    assert client.get(wrong).status_code == 404


def test_a_revoked_certificate_is_not_handed_out(pre_appointment, organizer):
    official = candidate(pre_appointment, "RQ001")
    attempt = sit(pre_appointment, official, right=8, now=STARTED, submitted=SUBMITTED)
    client = client_of(official)
    assert client.get(url(attempt)).status_code == 200
    results.void_result(attempt, "经查系他人代考", organizer)
    response = client.get(url(attempt))
    assert response.status_code == 410 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "data-certificate-revoked" in page and "经查系他人代考" in page
    certificate = Certificate.objects.get()
    mine = client.get(reverse("exams:my_certificate", args=[certificate.pk]))
    assert mine.status_code == 410


def test_a_study_plan_certificate(db):
    year = timezone.localdate().year
    lecture = make_lecture(title="民法典学习", credit_minutes=20)
    plan = make_plan(year=year, title="机关干部学法计划", lectures=[lecture])
    plan.certificate_on_completion = True
    plan.save()
    official = OfficialFactory(user=UserFactory(name="王*明"))
    complete(official, lecture, when=timezone.now() - datetime.timedelta(hours=1))
    certificate = certificates.issue_for_plan(official, plan)
    response = client_of(official).get(reverse("exams:my_certificate", args=[certificate.pk]))
    assert response.status_code == 200
    lines = pdf_lines(response.content)
    assert lines[1].strip() == label("Study plan completed")
    assert fields_of(response.content) == {
        "Name": "王*明",  # as typed: a name is text, never a pattern
        "Study plan": f"{year} 机关干部学法计划",
        "Date": f"{timezone.localdate():%Y-%m-%d}",
        "Verification code": certificates.grouped_code(certificate.code),
    }
