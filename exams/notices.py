"""Notices about exams (learning.notices): a session opening for the officials it
expects, once each (`send_exam_opening_notices`), and a result becoming final. Texts
are in the site's language: they are read on a phone, outside any request."""

from collections import defaultdict
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from django_tasks import task

from learning.models import Delivery, Official
from learning.notices import NoticeKind, notify, prepare, send_deliveries

from . import grading
from .models import Attempt, AttemptState, ExamSession, SessionKind


def absolute(path):
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def session_url(session):
    return absolute(reverse("exams:session", args=[session.pk]))


def _local(moment):
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


# --- A result is final ------------------------------------------------------------------


def result_final(attempt):
    """Called when `attempt`'s result is final (results.on_result_final): the notice is
    written and sent by a task once the result is committed, so a submit on exam day
    neither grows its transaction nor waits on a gateway."""
    transaction.on_commit(partial(notify_result_task.enqueue, attempt.pk), robust=True)


@task()
def notify_result_task(attempt_id):
    """Notify the official of a final result. Returns the number of deliveries."""
    attempt = (
        Attempt.objects.select_related("session", "official__user").filter(pk=attempt_id).first()
    )
    return len(notify_result(attempt)) if attempt is not None else 0


def notify_result(attempt):
    """Tell the official their result of a session (not a practice) is final, with a
    link to it; sent once the result is committed."""
    session = attempt.session
    if session.kind == SessionKind.PRACTICE or attempt.voided_at is not None:
        return []
    official = attempt.official
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your result of %(exam)s is final") % {"exam": session.title}
        verdict = _("You passed.") if attempt.passed else _("You did not pass.")
        body = _("Score: %(score)s. %(verdict)s") % {
            "score": formats.number_format(attempt.score) if attempt.score is not None else "-",
            "verdict": verdict,
        }
    url = absolute(reverse("exams:result", args=[session.pk, attempt.pk]))
    return notify(NoticeKind.RESULT, [official.user], subject=subject, body=body, url=url)


# --- A session opens -----------------------------------------------------------------------


def expected_officials(session):
    """The active officials a session expects (everyone, leaders, departments and their
    sub-departments, named candidates, per-person overrides); for a make-up, those its
    original session expected who have not passed it."""
    source = None
    if session.kind == SessionKind.MAKEUP and session.makes_up_id:
        source = session.makes_up
    audience = _audience(session)
    if source is not None:
        audience |= _audience(source)
    officials = Official.objects.active().filter(audience).select_related("user").distinct()
    if source is None:
        return list(officials)
    attempts = defaultdict(list)
    for attempt in Attempt.objects.filter(session=source).exclude(state=AttemptState.IN_PROGRESS):
        attempts[attempt.official_id].append(attempt)
    passed = {
        pk
        for pk, tries in attempts.items()
        if (result := grading.counting_attempt(source, tries)) is not None and result.passed
    }
    return [official for official in officials if official.pk not in passed]


def _audience(session):
    audience = Q(pk__in=session.candidates.values("official")) | Q(
        pk__in=session.overrides.values("official")
    )
    if session.for_everyone:
        audience |= Q(pk__isnull=False)
    if session.for_leaders:
        audience |= Q(is_leader=True)
    for department in session.departments.all():
        audience |= Q(department__path__startswith=department.path)
    return audience


def opening_text(session):
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Exam open: %(exam)s") % {"exam": session.title}
        body = _("%(exam)s is open until %(closes)s.") % {
            "exam": session.title,
            "closes": _local(session.closes_at),
        }
    return subject, body


def send_opening_notices(session):
    """Notify the officials a session expects who have not been told yet that it is
    open: one notice per official and session, however often this runs (the notices
    already sent, whatever their outcome, are found by the session's link). Returns
    how many officials were notified now."""
    url = session_url(session)
    with transaction.atomic():
        # Two runs at once take turns on the session's row instead of both notifying.
        ExamSession.objects.select_for_update().filter(pk=session.pk).first()
        told = set(
            Delivery.objects.filter(kind=NoticeKind.EXAM_OPENING, url=url).values_list(
                "user_id", flat=True
            )
        )
        users = [o.user for o in expected_officials(session) if o.user_id not in told]
        if not users:
            return 0
        subject, body = opening_text(session)
        deliveries = prepare(NoticeKind.EXAM_OPENING, users, subject=subject, body=body, url=url)
    send_deliveries(deliveries)
    return len(users)


def send_exam_opening_notices(now=None):
    """Notices for every session open now (practice excepted). Returns {session
    title: officials notified now}."""
    now = now or timezone.now()
    sent = {}
    for session in ExamSession.objects.open_at(now).exclude(kind=SessionKind.PRACTICE):
        count = send_opening_notices(session)
        if count:
            sent[session.title] = count
    return sent


@task()
def send_exam_opening_notices_task():
    """The periodic run of send_exam_opening_notices (in the background)."""
    return send_exam_opening_notices()
