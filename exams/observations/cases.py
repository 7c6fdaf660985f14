"""Court observations turned into cases (以案释法): the organizer's case page with its
quiz and tagged questions (`create_case`), and make-up (补学) for officials who missed
the hearing: once they have completed the case page by the study rules (credit
measured from heartbeats, learning.credits) and passed its quiz, their attendance
records the make-up (`record_make_up`). The make-up counts for the study plan's
observation requirement (credit.py) but never adds the observation's credit minutes:
the credit hours come from studying the lecture."""

import dataclasses
import datetime

from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from learning.credits import lecture_completed
from learning.models import LawTopic, LectureIndexPage, StudyRecord

from ..models import LectureQuiz, LectureQuizQuestion, QuizAttempt
from ..quizzes import first_pass
from .models import (
    EXPECTED_STATUSES,
    Attendance,
    CasePage,
    CaseQuestion,
    CaseReflection,
    CourtObservation,
    Reflection,
    Status,
)

# Who may make up: on the list and not there. Invited or registered rows still
# unmarked after the hearing count as missed too (closing marks them absent).
MISSED_STATUSES = (Status.ABSENT, Status.EXCUSED, *EXPECTED_STATUSES)
MIN_QUESTIONS, MAX_QUESTIONS = 2, 5


@dataclasses.dataclass
class CaseDraft:
    """What the organizer types into the 'turn into a case' form."""

    title: str
    date: datetime.date
    occasion: str = ""
    summary: str = ""
    facts: str = ""
    legal_issues: str = ""
    articles: list = dataclasses.field(default_factory=list)  # [(citation, text)]
    trial_video_url: str = ""
    credit_minutes: int = 30
    reflections: list = dataclasses.field(default_factory=list)  # [(Reflection, excerpt)]
    questions: list = dataclasses.field(default_factory=list)  # [Question]
    pass_mark: int = 60
    publish: bool = False


def case_of(observation):
    """The observation's case page, or None: one case per observation."""
    return CasePage.objects.filter(observation=observation).first()


def consenting_reflections(observation):
    """Reflections on the observation whose authors agreed to be quoted."""
    return (
        Reflection.objects.filter(attendance__observation=observation, feature_consent=True)
        .select_related("attendance__official__user")
        .order_by("submitted_at", "pk")
    )


def lecture_index():
    return LectureIndexPage.objects.first()


def create_case(observation, draft, user=None):
    """Create the observation's case page (draft or published) under the lecture
    index, its quiz and the questions' tags, all or nothing. Returns (case, created):
    a second call returns the existing case and changes nothing."""
    with transaction.atomic():
        # Serialises two organizers clicking at once (PostgreSQL); the one-to-one
        # field refuses a second case everywhere else.
        CourtObservation.objects.select_for_update().filter(pk=observation.pk).first()
        existing = case_of(observation)
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                case = _add_page(observation, draft, user)
        except IntegrityError:
            return case_of(observation), False
        _add_quiz(case, draft)
    return case, True


def _add_page(observation, draft, user):
    case = CasePage(
        title=draft.title,
        date=draft.date,
        occasion=draft.occasion,
        summary=draft.summary,
        observation=observation,
        facts=draft.facts,
        legal_issues=draft.legal_issues,
        cited_articles=[
            ("law_article", {"citation": citation, "text": text})
            for citation, text in draft.articles
        ],
        trial_video_url=draft.trial_video_url,
        credit_minutes=draft.credit_minutes,
        live=False,
    )
    case.featured_reflections = [
        CaseReflection(reflection=reflection, excerpt=excerpt, sort_order=n)
        for n, (reflection, excerpt) in enumerate(draft.reflections)
    ]
    lecture_index().add_child(instance=case)
    topics = {q.topic_id for q in draft.questions} | set(_case_topic_ids())
    case.topics.set(topics)
    revision = case.save_revision(user=user)
    if draft.publish:
        revision.publish(user=user)
        case.refresh_from_db()
    return case


def _case_topic_ids():
    return LawTopic.objects.filter(slug="以案释法").values_list("pk", flat=True)


def _add_quiz(case, draft):
    quiz = LectureQuiz.objects.create(
        lecture=case, pass_mark=draft.pass_mark, required_for_completion=True
    )
    LectureQuizQuestion.objects.bulk_create(
        [
            LectureQuizQuestion(quiz=quiz, question=question, sort_order=n)
            for n, question in enumerate(draft.questions)
        ]
    )
    CaseQuestion.objects.bulk_create(
        [CaseQuestion(case=case, question=question) for question in draft.questions],
        ignore_conflicts=True,
    )
    return quiz


# Make-up (补学)


def missed_attendance(official, observation, now=None):
    """The official's attendance at an observation they were on the list for and did
    not attend, once the hearing is over; None otherwise (attended, not invited)."""
    now = now or timezone.now()
    if observation is None or not observation.has_ended(now):
        return None
    return Attendance.objects.filter(
        observation=observation, official=official, status__in=MISSED_STATUSES
    ).first()


def study_done_at(official, case):
    """When the official completed the case's study time (server-measured), or None."""
    return (
        StudyRecord.objects.filter(official=official, lecture_id=case.pk)
        .values_list("completed_at", flat=True)
        .first()
    )


def quiz_passed_at(official, case):
    quiz = LectureQuiz.objects.filter(lecture_id=case.pk).first()
    return None if quiz is None else first_pass(quiz, official)


def record_make_up(official, case, now=None):
    """Record the official's make-up of the case's observation when both hold: the
    case page's study time is complete and its quiz is passed. Called on a quiz pass
    and when the official next opens their observations or dashboard after completing
    the study time, whichever comes last; idempotent and safe when both race (the row
    is locked). Returns the attendance when a make-up is (already) recorded, else None."""
    now = now or timezone.now()
    if not case.live or missed_attendance(official, case.observation, now) is None:
        return None
    if study_done_at(official, case) is None or quiz_passed_at(official, case) is None:
        return None
    with transaction.atomic():
        attendance = (
            Attendance.objects.select_for_update()
            .filter(
                observation_id=case.observation_id,
                official=official,
                status__in=MISSED_STATUSES,
            )
            .first()
        )
        if attendance is None:
            return None
        if attendance.made_up_at is None:
            attendance.made_up_at = now
            attendance.made_up_case = case
            # save() sends post_save: the official's dashboard is invalidated.
            attendance.save(update_fields=["made_up_at", "made_up_case"])
    return attendance


def make_up_candidates(official, now=None):
    """[(attendance, case)] of hearings the official missed whose live case page they
    may study to make up, not yet made up."""
    now = now or timezone.now()
    rows = list(
        Attendance.objects.filter(
            official=official,
            status__in=MISSED_STATUSES,
            made_up_at__isnull=True,
            observation__ends_at__lte=now,
        ).select_related("observation")
    )
    if not rows:
        return []
    cases = CasePage.objects.live().filter(observation_id__in=[a.observation_id for a in rows])
    found = {case.observation_id: case for case in cases}
    return [(a, found[a.observation_id]) for a in rows if a.observation_id in found]


def reconcile_make_ups(official, now=None):
    """Record the make-ups the official has earned but that no event recorded (their
    attendance was marked missed after they had studied the case and passed its
    quiz). Returns the candidates still open, [(attendance, case)]."""
    still_open = []
    for attendance, case in make_up_candidates(official, now):
        if record_make_up(official, case, now) is None:
            still_open.append((attendance, case))
    return still_open


def on_quiz_attempt(sender, instance, created, **kwargs):
    """post_save of QuizAttempt: a passed try at a case's quiz may complete a make-up."""
    if not created or not instance.passed:
        return
    case = CasePage.objects.filter(quiz__pk=instance.quiz_id).select_related("observation").first()
    if case is not None:
        record_make_up(instance.official, case)


def on_lecture_completed(sender, official, lecture, **kwargs):
    """learning.credits.lecture_completed: completing a case's study time may complete
    a make-up (when the quiz was passed first)."""
    case = CasePage.objects.filter(pk=lecture.pk).select_related("observation").first()
    if case is not None:
        record_make_up(official, case)


def connect():
    """Called from the app's ready(): the quiz lives in exams' core, which never
    imports this app, and study credit in learning, so the make-up listens to both."""
    post_save.connect(on_quiz_attempt, sender=QuizAttempt, dispatch_uid="case_make_up_on_quiz")
    lecture_completed.connect(on_lecture_completed, dispatch_uid="case_make_up_on_study")
