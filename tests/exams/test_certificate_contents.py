"""What the pre-appointment result certificate says, read back from the PDF the
candidate downloads: name, intended post, date, score, pass or fail and the
verification code; and who gets none."""

import datetime
from io import BytesIO

from django.test import Client
from django.urls import reverse

import pytest
from pypdf import PdfReader

from exams import attempts as engine
from exams.models import SessionCandidate, SessionKind
from tests.factories import OfficialFactory, UserFactory

from .factories import ExamSessionFactory, fixed_paper

pytestmark = pytest.mark.django_db

TITLE = "任前法律知识考试成绩证明"
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
# Started and submitted just after midnight in Beijing (still the 16th in UTC): the
# certificate is dated by the local day.
STARTED = datetime.datetime(2026, 3, 17, 0, 10, tzinfo=SHANGHAI)
SUBMITTED = STARTED + datetime.timedelta(minutes=20)


def certificate_fields(content):
    """(title, {label: value}) of a one-page certificate: pypdf reads each label
    ("姓名：") and its value as lines of their own."""
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


def url(attempt):
    return reverse("exams:certificate", args=(attempt.session_id, attempt.pk))


def client_of(official):
    client = Client()
    client.force_login(official.user)
    return client


def sit(session, official, right, now=None):
    """Start, answer the first `right` positions with their key, submit: 10 points a
    question. `now` places the sitting in time (the engine's clock)."""
    attempt = engine.start_attempt(session, official, now=now)
    later = None if now is None else now + datetime.timedelta(minutes=5)
    for answer in attempt.answers.filter(position__lte=right):
        engine.save_answer(attempt.pk, official, answer.position, answer.snapshot["answer"], later)
    submitted = None if now is None else SUBMITTED
    return engine.submit_attempt(attempt, now=submitted)[0]


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
    attempt = sit(pre_appointment, official, right=8, now=STARTED)
    response = client_of(official).get(url(attempt))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    title, fields = certificate_fields(response.content)
    assert title == TITLE
    assert fields["姓名"] == "欧阳明月"
    assert fields["工号"] == "RQ001"
    assert fields["拟任职务"] == "副局长"
    assert fields["考试"] == "任前法律知识考试（三月）"
    assert fields["日期"] == "2026-03-17"
    assert fields["成绩"] == "80.00 / 100.00"
    assert fields["等次"] == "良好"
    assert fields["结果"] == "合格"
    assert len(attempt.verification_code) == 12
    assert fields["验证码"] == attempt.verification_code


def test_a_failed_candidates_certificate(pre_appointment):
    official = candidate(pre_appointment, "RQ002")
    attempt = sit(pre_appointment, official, right=4, now=STARTED)
    title, fields = certificate_fields(client_of(official).get(url(attempt)).content)
    assert title == TITLE
    assert fields["姓名"] == "司马青"
    assert fields["拟任职务"] == "科长"
    assert fields["日期"] == "2026-03-17"
    assert fields["成绩"] == "40.00 / 100.00"
    assert fields["等次"] == "不合格"
    assert fields["结果"] == "不合格"
    assert fields["验证码"] == attempt.verification_code


def test_a_makeups_certificate_names_the_post_of_the_exam_it_makes_up(pre_appointment, bank):
    official = candidate(pre_appointment, "RQ002")
    sit(pre_appointment, official, right=4, now=STARTED)
    # The make-up names no candidates of its own: it reaches whoever failed the exam.
    makeup = ExamSessionFactory(
        kind=SessionKind.MAKEUP,
        title="任前法律知识考试补考",
        paper=fixed_paper(bank),
        makes_up=pre_appointment,
        for_everyone=False,
    )
    attempt = sit(makeup, official, right=10)
    _title, fields = certificate_fields(client_of(official).get(url(attempt)).content)
    assert fields["拟任职务"] == "科长"
    assert fields["考试"] == "任前法律知识考试补考"
    assert fields["成绩"] == "100.00 / 100.00" and fields["结果"] == "合格"
    assert fields["验证码"] == attempt.verification_code


def test_a_candidate_without_a_post_gets_a_dash(pre_appointment):
    official = candidate(pre_appointment, "RQ001")
    SessionCandidate.objects.filter(official=official).update(intended_post="")
    attempt = sit(pre_appointment, official, right=8, now=STARTED)
    _title, fields = certificate_fields(client_of(official).get(url(attempt)).content)
    assert fields["拟任职务"] == "—"


def test_another_official_gets_no_certificate(pre_appointment):
    owner, other = candidate(pre_appointment, "RQ001"), candidate(pre_appointment, "RQ002")
    attempt = sit(pre_appointment, owner, right=8, now=STARTED)
    assert client_of(other).get(url(attempt)).status_code == 404
    outsider = OfficialFactory()
    assert client_of(outsider).get(url(attempt)).status_code == 404
    anonymous = Client().get(url(attempt))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_of(owner).get(url(attempt)).status_code == 200


def test_an_annual_exam_gives_no_certificate(exam, official):
    attempt = sit(exam, official, right=10)
    assert attempt.is_finished and attempt.passed
    assert client_of(official).get(url(attempt)).status_code == 404


def test_an_attempt_in_progress_has_no_certificate(pre_appointment):
    official = candidate(pre_appointment, "RQ001")
    client = client_of(official)
    # Sitting it now: the window is moved to today.
    pre_appointment.closes_at = pre_appointment.opens_at.replace(year=2100)
    pre_appointment.save()
    attempt = engine.start_attempt(pre_appointment, official)
    assert client.get(url(attempt)).status_code == 404
    engine.submit_attempt(attempt)
    assert client.get(url(attempt)).status_code == 200
    # The same attempt under another session's address is not found either.
    wrong = reverse("exams:certificate", args=(ExamSessionFactory().pk, attempt.pk))
    assert client.get(wrong).status_code == 404
