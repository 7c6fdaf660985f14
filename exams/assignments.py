"""Which sessions an official must sit and where they stand in each: the list on
/exams/ and the dashboard panel. A bounded number of queries however many sessions."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import grading
from .attempts import Terms, is_assigned, override_for, terms_for
from .models import Attempt, AttemptState, ExamSession, SessionKind, SessionOverride


class Status(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", pgettext_lazy("attempt", "In progress")
    SUBMITTED = "submitted", _("Submitted")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    MISSED = "missed", _("Missed")


@dataclass
class MySession:
    session: ExamSession
    terms: Terms
    attempts: list = field(default_factory=list)
    status: str = Status.UPCOMING
    result: Attempt | None = None

    @property
    def status_label(self):
        return Status(self.status).label

    @property
    def in_progress(self):
        return next((a for a in self.attempts if a.state == AttemptState.IN_PROGRESS), None)

    @property
    def attempts_left(self):
        return max(0, self.terms.attempts_allowed - len(self.attempts))


def status_of(session, terms, attempts, now):
    result = grading.counting_attempt(session, attempts)
    if any(a.state == AttemptState.IN_PROGRESS for a in attempts):
        return Status.IN_PROGRESS, result
    if result is not None and result.passed:
        return Status.PASSED, result
    closed = now >= terms.closes_at
    if now < terms.opens_at:
        return Status.UPCOMING, result
    if result is None:
        return (Status.MISSED if closed else Status.OPEN), result
    if closed or len(attempts) >= terms.attempts_allowed:
        return Status.FAILED, result
    return Status.SUBMITTED, result


def my_sessions(official, now=None):
    """[MySession] for every session assigned to the official, newest first. At most
    four plain queries (the audience, the sessions, the official's overrides, the
    attempts): one query annotating all of it costs the ORM several milliseconds to
    build, on the page every official opens first on exam day."""
    now = now or timezone.now()
    audience = set(ExamSession.objects.audience_of(official).values_list("pk", flat=True))
    if not audience:
        return []
    sessions = list(
        ExamSession.objects.filter(
            Q(pk__in=audience) | Q(kind=SessionKind.MAKEUP, makes_up__in=audience)
        )
    )
    overrides = {o.session_id: o for o in SessionOverride.objects.filter(official=official)}
    by_pk = {s.pk: s for s in sessions}
    attempts = defaultdict(list)
    for attempt in Attempt.objects.filter(official=official, session_id__in=list(by_pk)):
        attempts[attempt.session_id].append(attempt)
    rows = []
    for session in sessions:
        if session.pk not in audience:
            # A make-up reaches those who have not passed the original session.
            original = by_pk.get(session.makes_up_id)
            passed = original and grading.counting_attempt(original, attempts[original.pk])
            if passed is not None and passed and passed.passed:
                continue
        terms = terms_for(session, overrides.get(session.pk))
        mine = sorted(attempts[session.pk], key=lambda a: a.number)
        status, result = status_of(session, terms, mine, now)
        rows.append(MySession(session, terms, mine, status, result))
    rows.sort(key=lambda r: r.terms.opens_at, reverse=True)
    return rows


def my_session(official, session, now=None, attempts=None):
    """The MySession for one session, or None when it is not assigned to them.
    `attempts`, the official's attempts in the session by number, spares a query."""
    if not is_assigned(session, official):
        return None
    now = now or timezone.now()
    terms = terms_for(session, override_for(session, official))
    mine = attempts
    if mine is None:
        mine = list(Attempt.objects.filter(official=official, session=session).order_by("number"))
    status, result = status_of(session, terms, mine, now)
    return MySession(session, terms, mine, status, result)
