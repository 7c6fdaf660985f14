"""Which sessions an official must sit and where they stand in each: the list on
/exams/ and the dashboard panel. A bounded number of queries however many sessions."""

from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db import models
from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import grading
from .attempts import Terms, terms_for
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


def _with_override(session):
    """The override annotated on the session row, as terms_for expects it, or None."""
    if session.override_id is None:
        return None
    return SimpleNamespace(
        opens_at=session.override_opens_at,
        closes_at=session.override_closes_at,
        extra_minutes=session.override_extra_minutes,
        extra_attempts=session.override_extra_attempts,
    )


def my_sessions(official, now=None):
    """[MySession] for every session assigned to the official, newest first. Two
    queries: the sessions (with the official's override annotated) and the attempts."""
    now = now or timezone.now()
    audience = ExamSession.objects.audience_of(official).values("pk")
    override = SessionOverride.objects.filter(session=OuterRef("pk"), official=official)
    sessions = list(
        ExamSession.objects.filter(
            Q(pk__in=audience) | Q(kind=SessionKind.MAKEUP, makes_up__in=audience)
        ).annotate(
            direct=Case(When(pk__in=audience, then=Value(True)), default=Value(False)),
            override_id=Subquery(override.values("pk")[:1]),
            override_opens_at=Subquery(override.values("opens_at")[:1]),
            override_closes_at=Subquery(override.values("closes_at")[:1]),
            override_extra_minutes=Subquery(override.values("extra_minutes")[:1]),
            override_extra_attempts=Subquery(override.values("extra_attempts")[:1]),
        )
    )
    by_pk = {s.pk: s for s in sessions}
    attempts = defaultdict(list)
    for attempt in Attempt.objects.filter(official=official, session_id__in=list(by_pk)):
        attempts[attempt.session_id].append(attempt)
    rows = []
    for session in sessions:
        if not session.direct:
            # A make-up reaches those who have not passed the original session.
            original = by_pk.get(session.makes_up_id)
            passed = original and grading.counting_attempt(original, attempts[original.pk])
            if passed is not None and passed and passed.passed:
                continue
        terms = terms_for(session, _with_override(session))
        mine = sorted(attempts[session.pk], key=lambda a: a.number)
        status, result = status_of(session, terms, mine, now)
        rows.append(MySession(session, terms, mine, status, result))
    rows.sort(key=lambda r: r.terms.opens_at, reverse=True)
    return rows


def my_session(official, session, now=None, attempts=None):
    """The MySession for one session, or None when it is not assigned to them.
    `attempts`, the official's attempts in the session by number, spares a query."""
    from .attempts import is_assigned, override_for

    if not is_assigned(session, official):
        return None
    now = now or timezone.now()
    terms = terms_for(session, override_for(session, official))
    mine = attempts
    if mine is None:
        mine = list(Attempt.objects.filter(official=official, session=session).order_by("number"))
    status, result = status_of(session, terms, mine, now)
    return MySession(session, terms, mine, status, result)
