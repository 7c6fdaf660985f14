"""Issuing certificates (合格证书): one for every pass of an annual or pre-appointment
exam or a make-up of one, none for a fail, a practice, a result still waiting for
marking or a voided one; at most one per attempt however often and however
concurrently it is asked for; study plan certificates for those who complete a plan
that promises one; and revoking when a result is voided."""

import datetime

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wagtail.models import ModelLogEntry

import pytest

from exams import attempts as engine
from exams import certificates, results
from exams.models import (
    Attempt,
    AttemptState,
    Certificate,
    CertificateKind,
    ExamSession,
    PlanExam,
    SessionKind,
)
from learning.models import StudyExemption
from tests.factories import OfficialFactory, UserFactory
from tests.learning.factories import complete, make_lecture, make_plan
from tests.races import race, racing_test

from .certificate_helpers import SHANGHAI, short_answer_question, sit
from .factories import ExamSessionFactory, fixed_paper

pytestmark = pytest.mark.django_db

# Submitted just after midnight in Beijing (still the 16th in UTC): the certificate
# is dated by the local day.
STARTED = datetime.datetime(2026, 3, 17, 0, 10, tzinfo=SHANGHAI)
SUBMITTED = STARTED + datetime.timedelta(minutes=20)


@pytest.fixture
def annual(bank):
    """An open annual exam of ten questions, 10 points each (pass 60, good 80,
    excellent 90)."""
    return ExamSessionFactory(title="2026年度法律知识考试", paper=fixed_paper(bank))


@pytest.fixture
def holder(db):
    return OfficialFactory(user=UserFactory(name="王小明"))


def test_a_pass_is_certified_once_its_result_is_committed(
    annual, holder, django_capture_on_commit_callbacks
):
    annual.opens_at = datetime.datetime(2026, 3, 1, tzinfo=SHANGHAI)
    annual.closes_at = datetime.datetime(2026, 3, 31, tzinfo=SHANGHAI)
    annual.save()
    with django_capture_on_commit_callbacks(execute=True):
        attempt = sit(annual, holder, right=9, now=STARTED, submitted=SUBMITTED)
    certificate = Certificate.objects.get()
    assert certificate.attempt == attempt and certificate.official == holder
    assert certificate.kind == CertificateKind.EXAM
    assert certificate.title == "2026年度法律知识考试"
    assert certificate.holder_name == "王小明"
    assert certificate.band == "excellent"
    assert certificate.issued_on == datetime.date(2026, 3, 17)
    assert certificates.is_well_formed(certificate.code)
    assert not certificate.is_revoked
    # Frozen: renaming the exam or the person later changes nothing on it.
    ExamSession.objects.filter(pk=annual.pk).update(title="改名后的考试")
    holder.user.name = "王晓明"
    holder.user.save()
    assert certificates.issue_for_attempt(attempt) == certificate
    certificate.refresh_from_db()
    assert (certificate.title, certificate.holder_name) == ("2026年度法律知识考试", "王小明")


def test_nothing_is_issued_before_the_commit(annual, holder):
    """The hook runs on commit; until then (here: never, inside the test's
    transaction) there is no certificate for a result that could still roll back."""
    sit(annual, holder, right=9)
    assert not Certificate.objects.exists()


def test_issuing_again_returns_the_same_certificate(annual, holder):
    attempt = sit(annual, holder, right=7)
    first = certificates.issue_for_attempt(attempt)
    again = certificates.issue_for_attempt(attempt)
    assert first is not None and again.pk == first.pk and again.code == first.code
    assert Certificate.objects.count() == 1
    assert first.band == "pass"


def test_a_fail_gets_none(annual, holder):
    attempt = sit(annual, holder, right=5)
    assert attempt.passed is False
    assert certificates.issue_for_attempt(attempt) is None
    assert not Certificate.objects.exists()


def test_a_practice_gets_none(bank, holder):
    practice = ExamSessionFactory(kind=SessionKind.PRACTICE, paper=fixed_paper(bank))
    attempt = sit(practice, holder, right=10)
    assert attempt.passed is True
    assert certificates.issue_for_attempt(attempt) is None
    assert not Certificate.objects.exists()


def test_an_attempt_in_progress_gets_none(annual, holder):
    attempt = engine.start_attempt(annual, holder)
    assert attempt.state == AttemptState.IN_PROGRESS
    assert certificates.issue_for_attempt(attempt) is None


def test_a_result_pending_marking_gets_none_until_it_is_final(bank, holder):
    written = short_answer_question(bank[0].topic)
    session = ExamSessionFactory(paper=fixed_paper([*bank, written]))
    attempt = sit(session, holder, right=11)
    assert attempt.marking_pending and attempt.passed is None
    assert certificates.issue_for_attempt(attempt) is None
    assert not Certificate.objects.exists()


def test_makeups_of_certified_exams_are_certified_and_others_not(annual, bank, holder):
    makeup = ExamSessionFactory(
        kind=SessionKind.MAKEUP, title="年度考试补考", paper=fixed_paper(bank), makes_up=annual
    )
    assert certificates.issue_for_attempt(sit(makeup, holder, right=8)).title == "年度考试补考"
    practice = ExamSessionFactory(kind=SessionKind.PRACTICE, paper=fixed_paper(bank))
    odd = ExamSessionFactory(kind=SessionKind.MAKEUP, paper=fixed_paper(bank), makes_up=practice)
    assert certificates.issue_for_attempt(sit(odd, OfficialFactory(), right=10)) is None


def test_a_pre_appointment_pass_is_certified(bank, holder):
    session = ExamSessionFactory(kind=SessionKind.PRE_APPOINTMENT, paper=fixed_paper(bank))
    certificate = certificates.issue_for_attempt(sit(session, holder, right=6))
    assert certificate.band == "pass" and certificate.kind == CertificateKind.EXAM


def test_every_pass_of_a_session_has_its_own_certificate(annual, holder):
    """With attempts left, a pass can be improved: each passed attempt is certified
    with its own band, and each certificate names its attempt."""
    first = certificates.issue_for_attempt(sit(annual, holder, right=6))
    second = certificates.issue_for_attempt(sit(annual, holder, right=10))
    assert (first.band, second.band) == ("pass", "excellent")
    assert first.attempt_id != second.attempt_id


def test_the_codes_are_unguessable_and_distinct(annual, bank):
    codes = {
        certificates.issue_for_attempt(sit(annual, OfficialFactory(), right=10)).code
        for _ in range(5)
    }
    assert len(codes) == 5
    assert all(certificates.is_well_formed(code) for code in codes)


# Voiding and revoking ------------------------------------------------------------


def test_voiding_clears_the_result_logs_it_and_revokes_the_certificate(annual, holder, organizer):
    attempt = sit(annual, holder, right=8)
    certificate = certificates.issue_for_attempt(attempt)
    results.void_result(attempt, "经查系他人代考", organizer)
    attempt.refresh_from_db()
    assert attempt.score is None and attempt.percent is None and attempt.passed is None
    assert attempt.band == "" and attempt.max_score == 100
    assert attempt.voided_at is not None and attempt.void_reason == "经查系他人代考"
    certificate.refresh_from_db()
    assert certificate.is_revoked and certificate.revoke_reason == "经查系他人代考"
    entry = ModelLogEntry.objects.get(action=results.VOIDED)
    assert entry.user == organizer and entry.object_id == str(attempt.pk)
    assert entry.data["before"] == {
        "score": "80.00",
        "percent": "80.00",
        "band": "good",
        "passed": True,
        "marking_pending": False,
    }
    assert entry.data["reason"] == "经查系他人代考"
    assert ModelLogEntry.objects.filter(action=certificates.REVOKED).count() == 1
    # A voided result earns nothing again, and is not voided twice.
    assert certificates.issue_for_attempt(attempt) is None
    with pytest.raises(results.VoidRefused):
        results.void_result(attempt, "再次", organizer)


def test_voiding_a_fail_or_a_result_without_certificate_revokes_nothing(annual, holder, organizer):
    attempt = sit(annual, holder, right=3)
    results.void_result(attempt, "答题设备异常", organizer)
    assert not Certificate.objects.exists()
    assert Attempt.objects.get(pk=attempt.pk).voided_at is not None


def test_voiding_needs_a_reason_and_a_finished_attempt(annual, holder, organizer):
    attempt = sit(annual, holder, right=8)
    with pytest.raises(ValueError):
        results.void_result(attempt, "   ", organizer)
    assert Attempt.objects.get(pk=attempt.pk).voided_at is None
    running = engine.start_attempt(annual, OfficialFactory())
    with pytest.raises(results.VoidRefused):
        results.void_result(running, "理由", organizer)


def test_a_remark_to_a_fail_revokes_and_a_pass_again_reinstates(annual, holder):
    """What the marking queue does when a re-mark turns a pass into a fail, and back."""
    attempt = sit(annual, holder, right=8)
    certificate = certificates.issue_for_attempt(attempt)
    assert certificates.revoke_for_attempt(attempt, "复核后不合格") == certificate
    assert certificates.revoke_for_attempt(attempt, "again") is None  # revoked already
    certificate.refresh_from_db()
    assert certificate.is_revoked and certificate.revoke_reason == "复核后不合格"
    # Re-marked once more to a pass (band good → excellent): the same certificate.
    Attempt.objects.filter(pk=attempt.pk).update(band="excellent")
    again = certificates.issue_for_attempt(attempt)
    assert again.pk == certificate.pk and not again.is_revoked and again.band == "excellent"
    assert ModelLogEntry.objects.filter(action=certificates.REINSTATED).count() == 1


def test_revoking_an_attempt_without_certificate_does_nothing(annual, holder):
    assert certificates.revoke_for_attempt(sit(annual, holder, right=2), "x") is None


# Study plan certificates ---------------------------------------------------------


@pytest.fixture
def plan_world(db):
    """A plan promising a certificate (one required lecture) and two officials: 李雷
    completed it, 韩梅梅 did not."""
    year = timezone.localdate().year
    lecture = make_lecture(title="宪法学习", credit_minutes=30)
    plan = make_plan(year=year, title="年度学法计划", lectures=[lecture])
    plan.certificate_on_completion = True
    plan.save()
    done = OfficialFactory(user=UserFactory(name="李雷"))
    behind = OfficialFactory(user=UserFactory(name="韩梅梅"))
    complete(done, lecture, when=timezone.now() - datetime.timedelta(hours=2))
    return plan, done, behind


def test_a_completed_plan_is_certified(plan_world):
    plan, done, behind = plan_world
    certificate = certificates.issue_for_plan(done, plan)
    assert certificate.kind == CertificateKind.PLAN and certificate.plan == plan
    assert certificate.attempt is None and certificate.band == ""
    assert certificate.title == f"{plan.year} 年度学法计划"
    assert certificate.holder_name == "李雷"
    assert certificate.issued_on == timezone.localdate()
    assert certificates.issue_for_plan(done, plan) == certificate
    assert certificates.issue_for_plan(behind, plan) is None
    assert Certificate.objects.count() == 1


def test_a_title_that_names_its_year_is_kept(plan_world):
    plan, done, _behind = plan_world
    plan.title = f"{plan.year}年度学法计划"
    plan.save()
    assert certificates.issue_for_plan(done, plan).title == f"{plan.year}年度学法计划"


def test_a_plan_without_the_promise_or_an_exemption_gets_none(plan_world):
    plan, done, behind = plan_world
    plan.certificate_on_completion = False
    plan.save()
    assert certificates.issue_for_plan(done, plan) is None
    plan.certificate_on_completion = True
    plan.save()
    # Exempted: counted complete by reports, but excused, not certified.
    StudyExemption.objects.create(official=behind, year=plan.year, reason="长期病假")
    assert certificates.issue_for_plan(behind, plan) is None


def test_the_nightly_run_certifies_everyone_once(plan_world):
    plan, done, behind = plan_world
    others = [OfficialFactory() for _ in range(3)]
    lecture = plan.required_lectures.get()
    for official in others[:2]:
        complete(official, lecture, when=timezone.now() - datetime.timedelta(hours=1))
    assert certificates.issue_plan_certificates() == 3
    assert certificates.issue_plan_certificates() == 0
    holders = set(Certificate.objects.values_list("official_id", flat=True))
    assert holders == {done.pk, others[0].pk, others[1].pk}
    assert certificates.issue_plan_certificates_task.enqueue().return_value == 0


def test_the_command_issues_plan_and_missing_exam_certificates(plan_world, annual, capsys):
    from django.core.management import call_command

    _plan, done, _behind = plan_world
    attempt = sit(annual, done, right=9)  # no commit hook ran: no certificate yet
    call_command("issue_plan_certificates", "--exams")
    assert "Issued 2 certificate(s)." in capsys.readouterr().out
    assert Certificate.objects.filter(attempt=attempt).exists()


def test_opening_the_record_page_issues_and_lists_the_plan_certificate(plan_world):
    plan, done, behind = plan_world
    client = Client()
    client.force_login(done.user)
    page = client.get(reverse("learning:record")).content.decode()
    certificate = Certificate.objects.get(official=done)
    assert "data-certificates" in page and f"{plan.year} 年度学法计划" in page
    assert reverse("exams:my_certificate", args=[certificate.pk]) in page
    client.force_login(behind.user)
    assert "data-certificates" in client.get(reverse("learning:record")).content.decode()
    assert not Certificate.objects.filter(official=behind).exists()


def test_asking_for_the_record_pdf_issues_and_lists_the_plan_certificate(plan_world):
    from .test_record_pdf import text_of

    plan, done, _behind = plan_world
    client = Client()
    client.force_login(done.user)
    text = text_of(client.get(reverse("exams:record_pdf")).content)
    certificate = Certificate.objects.get(official=done)
    assert certificates.grouped_code(certificate.code) in text.replace("\n", "")
    assert "年度学法计划" in text


def test_voiding_a_required_exam_revokes_the_plan_certificate(plan_world, annual, organizer):
    plan, done, _behind = plan_world
    PlanExam.objects.create(plan=plan, session=annual)
    annual.year = plan.year
    annual.save()
    attempt = sit(annual, done, right=9)
    plan_certificate = certificates.issue_for_plan(done, plan)
    assert plan_certificate is not None
    other_plan = make_plan(year=plan.year, title="另一计划")
    other_plan.certificate_on_completion = True
    other_plan.save()
    unrelated = certificates.issue_for_plan(done, other_plan)
    results.void_result(attempt, "他人代考", organizer)
    plan_certificate.refresh_from_db()
    unrelated.refresh_from_db()
    assert plan_certificate.is_revoked and plan_certificate.revoke_reason == "他人代考"
    assert not unrelated.is_revoked


# Concurrency (PostgreSQL) -------------------------------------------------------

THREADS = 8


@racing_test
def test_concurrent_issues_create_one_certificate(bank):
    official = OfficialFactory()
    session = ExamSessionFactory(paper=fixed_paper(bank))
    attempt = sit(session, official, right=9)
    codes, errors = race(lambda: certificates.issue_for_attempt(attempt).code, THREADS)
    assert errors == []
    assert len(codes) == THREADS and len(set(codes)) == 1
    assert Certificate.objects.filter(attempt=attempt).count() == 1


# The organizer's void screen -----------------------------------------------------


def void_url(attempt):
    return reverse("results_admin:void", args=[attempt.pk])


def test_an_organizer_voids_a_result_with_a_reason_and_a_confirmation(
    annual, holder, organizer_client
):
    attempt = sit(annual, holder, right=8)
    certificate = certificates.issue_for_attempt(attempt)
    inspect = reverse("exams_attempts:inspect", args=[attempt.pk])
    assert f'href="{void_url(attempt)}"' in organizer_client.get(inspect).content.decode()
    form = organizer_client.get(void_url(attempt))
    assert form.status_code == 200 and certificate.code in form.content.decode()
    # No reason: asked again, nothing changes.
    empty = organizer_client.post(void_url(attempt), {"reason": "  "})
    assert empty.status_code == 200 and "data-confirm" not in empty.content.decode()
    # A reason: the confirmation step, still nothing changed.
    confirm = organizer_client.post(void_url(attempt), {"reason": "经查系他人代考"})
    assert confirm.status_code == 200 and "data-confirm" in confirm.content.decode()
    assert Attempt.objects.get(pk=attempt.pk).voided_at is None
    done = organizer_client.post(void_url(attempt), {"reason": "经查系他人代考", "confirmed": "on"})
    assert done.status_code == 302 and done["Location"] == inspect
    attempt.refresh_from_db()
    assert attempt.voided_at is not None and attempt.score is None
    assert attempt.void_reason == "经查系他人代考"
    certificate.refresh_from_db()
    assert certificate.is_revoked
    # Voided: the button is gone and the screen sends the organizer back.
    assert f'href="{void_url(attempt)}"' not in organizer_client.get(inspect).content.decode()
    again = organizer_client.get(void_url(attempt))
    assert again.status_code == 302 and again["Location"] == inspect


def test_only_organizers_void_results(annual, holder, hr_client, client):
    attempt = sit(annual, holder, right=8)
    # HR may look at results but not void them: Wagtail's refusal, to the dashboard.
    for response in (
        hr_client.get(void_url(attempt)),
        hr_client.post(void_url(attempt), {"reason": "x", "confirmed": "on"}),
    ):
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    inspect = reverse("exams_attempts:inspect", args=[attempt.pk])
    assert f'href="{void_url(attempt)}"' not in hr_client.get(inspect).content.decode()
    client.force_login(holder.user)
    assert client.post(void_url(attempt), {"reason": "x", "confirmed": "on"}).status_code == 403
    client.logout()
    anonymous = client.get(void_url(attempt))
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/admin/login/?next={void_url(attempt)}"
    assert Attempt.objects.get(pk=attempt.pk).voided_at is None


def test_an_attempt_in_progress_cannot_be_voided(annual, holder, organizer_client):
    attempt = engine.start_attempt(annual, holder)
    response = organizer_client.get(void_url(attempt))
    assert response.status_code == 302
    assert response["Location"] == reverse("exams_attempts:inspect", args=[attempt.pk])
    assert organizer_client.get(void_url(Attempt(pk=999999))).status_code == 404
