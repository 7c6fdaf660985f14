"""The dashboard panel, make-up assignment, the demo data and the catalogue."""

from pathlib import Path

from django.core.management import call_command
from django.urls import reverse

import polib
import pytest

from exams import attempts as engine
from exams.assignments import my_sessions
from exams.models import Answer, Attempt, Certificate, ExamSession, Marking, Question, SessionKind
from learning.models import Official
from tests.factories import DepartmentFactory, OfficialFactory

from .factories import ExamSessionFactory, fixed_paper

pytestmark = pytest.mark.django_db

CATALOGUE = Path(__file__).resolve().parents[2] / "exams/locale/zh_Hans/LC_MESSAGES/django.po"


def test_catalogue_is_complete():
    po = polib.pofile(str(CATALOGUE))
    assert not po.untranslated_entries()
    assert not po.fuzzy_entries()
    assert CATALOGUE.with_suffix(".mo").exists()


def test_dashboard_panel_shows_open_and_upcoming(
    official_client, exam, django_assert_max_num_queries
):
    with django_assert_max_num_queries(30):
        response = official_client.get(reverse("home"))
    html = response.content.decode()
    assert exam.title in html and "我的考试" in html


def test_department_subtree_assignment(bank):
    parent = DepartmentFactory()
    child = DepartmentFactory(parent=parent)
    inside = OfficialFactory(department=child)
    outside = OfficialFactory()
    session = ExamSessionFactory(paper=fixed_paper(bank), for_everyone=False)
    session.departments.add(parent)
    session.save()
    # Departments are ordered by name, so adding one can move the others' paths.
    inside = Official.objects.select_related("department").get(pk=inside.pk)
    outside = Official.objects.select_related("department").get(pk=outside.pk)
    assert [r.session for r in my_sessions(inside)] == [session]
    assert my_sessions(outside) == []


def test_makeup_reaches_those_who_did_not_pass(official, bank):
    original = ExamSessionFactory(paper=fixed_paper(bank), attempts_allowed=1)
    makeup = ExamSessionFactory(
        paper=original.paper, kind=SessionKind.MAKEUP, makes_up=original, for_everyone=False
    )
    passer = OfficialFactory()
    attempt = engine.start_attempt(original, passer)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, passer, answer.position, answer.snapshot["answer"])
    engine.submit_attempt(attempt)
    engine.submit_attempt(engine.start_attempt(original, official))  # fails with nothing
    assert makeup in [r.session for r in my_sessions(official)]
    assert makeup not in [r.session for r in my_sessions(passer)]
    assert engine.start_attempt(makeup, official).session == makeup
    with pytest.raises(engine.ExamError):
        engine.start_attempt(makeup, passer)


def test_demo_data_is_idempotent(db, django_capture_on_commit_callbacks):
    # Certificates are issued once a result is committed.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (Question.objects.count(), ExamSession.objects.count(), Attempt.objects.count())
    assert counts[0] >= 120
    kinds = set(ExamSession.objects.values_list("kind", flat=True))
    assert kinds == {"annual", "pre_appointment", "makeup", "practice"}
    assert Attempt.objects.filter(session__kind="annual").count() >= 20
    pre = ExamSession.objects.get(kind="pre_appointment")
    assert pre.candidates.count() == 2
    assert Question.objects.exclude(legal_basis="").count() == counts[0]
    _demo_shows_every_question_type_marking_and_certificates()
    markings = Marking.objects.count()
    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts == (
        Question.objects.count(),
        ExamSession.objects.count(),
        Attempt.objects.count(),
    )
    assert Marking.objects.count() == markings


def _demo_shows_every_question_type_marking_and_certificates():
    """The annual paper asks all five types; case answers are marked by the organizer
    (a few wait in the queue); every pass of the annual and pre-appointment exams
    has its certificate, and nothing else has one."""
    annual = ExamSession.objects.get(kind="annual")
    asked = set(
        Answer.objects.filter(attempt__session=annual, attempt__official__is_leader=False)
        .values_list("snapshot__type", flat=True)
        .distinct()
    )
    assert asked == {"single", "multiple", "true_false", "fill_blank", "case_analysis"}
    marked = Marking.objects.select_related("answer", "marker").first()
    assert marked is not None and marked.marker.username == "organizer"
    assert marked.answer.points_awarded == marked.points
    pending = Attempt.objects.filter(session=annual, marking_pending=True)
    assert pending.exists() and not pending.filter(score__isnull=False).exists()
    passed = Attempt.objects.filter(passed=True).exclude(session__kind="practice")
    assert passed.exists()
    assert set(Certificate.objects.values_list("attempt_id", flat=True)) == set(
        passed.values_list("pk", flat=True)
    )
