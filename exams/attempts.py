"""The attempt engine: start (draw and freeze once), save answers against the
server's clock, submit exactly once, and submit expired attempts automatically.

Transitions are guarded in the database so they hold with many app processes:
a partial unique constraint allows one in-progress attempt per person and session,
submit is a conditional UPDATE on the state (only one caller wins), and saves lock
the attempt row so a save never slips in after grading has read the answers."""

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import grading
from .models import (
    Answer,
    Attempt,
    AttemptState,
    ExamSession,
    QuestionType,
    SessionOverride,
)
from .models.questions import FALSE, TRUE
from .notebook import record_wrong_answers, reviewable
from .papers import draw


class ExamError(Exception):
    """A refusal the person should read: the message is translated."""


class AttemptClosed(ExamError):
    """The attempt no longer accepts answers (submitted, or past deadline and grace)."""


@dataclass(frozen=True)
class Terms:
    """A session's window, time and attempts for one person, overrides applied."""

    opens_at: datetime
    closes_at: datetime
    minutes: int
    attempts_allowed: int


def terms_for(session, override=None):
    if override is None:
        return Terms(
            session.opens_at, session.closes_at, session.duration_minutes, session.attempts_allowed
        )
    return Terms(
        override.opens_at or session.opens_at,
        override.closes_at or session.closes_at,
        session.duration_minutes + override.extra_minutes,
        session.attempts_allowed + override.extra_attempts,
    )


def override_for(session, official):
    return SessionOverride.objects.filter(session=session, official=official).first()


def grace():
    return timedelta(seconds=settings.XUEFA_EXAM_GRACE_SECONDS)


def is_expired(attempt, now=None):
    """Past the deadline and the grace period for in-flight saves."""
    return (now or timezone.now()) > attempt.deadline + grace()


def is_assigned(session, official):
    """Whether the official must (or may) sit the session. A make-up also reaches
    everyone who was expected at the original session and has not passed it."""
    if ExamSession.objects.audience_of(official).filter(pk=session.pk).exists():
        return True
    original = session.makes_up
    if original is None or not is_assigned(original, official):
        return False
    return not has_passed(original, official)


def has_passed(session, official):
    result = grading.counting_attempt(
        session, list(Attempt.objects.filter(session=session, official=official))
    )
    return bool(result and result.passed)


def build_paper(session, paper, seed):
    """[(question, points, option order)] for an attempt: the draw, then the question
    and option shuffles, all from one seed so the same seed gives the same paper."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    drawn = draw(paper, rng)
    if session.shuffle_questions:
        rng.shuffle(drawn)
    built = []
    for question, points in drawn:
        letters = "".join(question.options)
        if session.shuffle_options and question.type != QuestionType.TRUE_FALSE:
            letters = "".join(rng.sample(letters, len(letters)))
        built.append((question, points, letters))
    return built


def start_attempt(session, official, now=None):
    """The person's attempt in progress, or a new one. A reload, a second device or
    a concurrent request gets the same attempt; a new one is drawn and frozen once."""
    now = now or timezone.now()
    current = Attempt.objects.in_progress().filter(session=session, official=official).first()
    if current is not None and not expire_if_due(current, now):
        return current
    if not is_assigned(session, official):
        raise ExamError(_("This exam is not assigned to you."))
    terms = terms_for(session, override_for(session, official))
    if now < terms.opens_at:
        raise ExamError(_("This exam has not opened yet."))
    if now >= terms.closes_at:
        raise ExamError(_("This exam has closed."))
    used = Attempt.objects.filter(session=session, official=official).count()
    if used >= terms.attempts_allowed:
        raise ExamError(_("You have used all your attempts for this exam."))
    paper = session.paper_for(official)
    seed = secrets.randbits(48)
    built = build_paper(session, paper, seed)
    deadline = min(now + timedelta(minutes=terms.minutes), terms.closes_at)
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                session=session,
                official=official,
                paper=paper,
                number=used + 1,
                seed=seed,
                started_at=now,
                deadline=deadline,
                max_score=sum(points for _q, points, _o in built),
            )
            Answer.objects.bulk_create(
                Answer(
                    attempt=attempt,
                    position=position,
                    question=question,
                    snapshot=question.snapshot(),
                    option_order=order,
                    points=points,
                )
                for position, (question, points, order) in enumerate(built, start=1)
            )
    except IntegrityError:
        # Someone (another tab, a double click) started it a moment ago.
        existing = Attempt.objects.in_progress().filter(session=session, official=official).first()
        if existing is None:
            raise ExamError(_("The exam could not be started; please try again.")) from None
        return existing
    return attempt


def clean_response(answer, response):
    """The response as bank letters, sorted; refuses letters the question lacks."""
    response = "".join(sorted(set((response or "").strip().upper())))
    if not response:
        return ""
    qtype = answer.snapshot["type"]
    if qtype == QuestionType.TRUE_FALSE:
        allowed = {TRUE, FALSE}
    else:
        allowed = set(answer.snapshot.get("options") or {})
    if not set(response) <= allowed or (qtype != QuestionType.MULTIPLE and len(response) > 1):
        raise ExamError(_("That is not a valid answer to this question."))
    return response


# What a save reads: enough to check the attempt and the response, nothing more.
SAVE_FIELDS = (
    "position",
    "snapshot",
    "option_order",
    "points",
    "attempt__state",
    "attempt__deadline",
    "attempt__session_id",
    "attempt__session__kind",
)


def save_answer(attempt_id, official, position, response, now=None, session_id=None, user_id=None):
    """Save one response. Refused once the attempt is submitted, or after the
    deadline plus a short grace period for requests already in flight. Raises
    Attempt.DoesNotExist when the attempt is not this official's (or, when given, not
    in that session); `user_id` may stand in for `official` to spare a query.
    One locking SELECT (answer with its attempt) and one UPDATE, however long the paper."""
    now = now or timezone.now()
    mine = {"attempt_id": attempt_id}
    if user_id is not None:
        mine["attempt__official__user_id"] = user_id
    else:
        mine["attempt__official"] = official
    if session_id is not None:
        mine["attempt__session_id"] = session_id
    with transaction.atomic():
        try:
            answer = (
                Answer.objects.select_for_update(of=("attempt",))
                .select_related("attempt__session")
                .only(*SAVE_FIELDS)
                .get(position=position, **mine)
            )
        except Answer.DoesNotExist:
            if not Answer.objects.filter(**mine).exists():
                raise Attempt.DoesNotExist from None
            raise ExamError(_("This question is not part of the attempt.")) from None
        attempt = answer.attempt
        if attempt.state != AttemptState.IN_PROGRESS:
            raise AttemptClosed(_("This attempt has been submitted; answers can no longer change."))
        if is_expired(attempt, now):
            raise AttemptClosed(_("Time is up: answers saved after the deadline are not accepted."))
        answer.response = clean_response(answer, response)
        answer.saved_at = now
        Answer.objects.filter(pk=answer.pk).update(response=answer.response, saved_at=now)
    return answer


def submit_attempt(attempt, *, auto=False, now=None):
    """Submit and grade exactly once. Double clicks, two tabs and retries all get
    the same graded attempt: only the UPDATE that still finds it in progress grades.
    Returns (attempt, whether this call graded it)."""
    now = now or timezone.now()
    state = AttemptState.AUTO_SUBMITTED if auto else AttemptState.SUBMITTED
    with transaction.atomic():
        won = Attempt.objects.filter(pk=attempt.pk, state=AttemptState.IN_PROGRESS).update(
            state=state, submitted_at=now
        )
        if won:
            graded = Attempt.objects.select_related("session").get(pk=attempt.pk)
            answers = list(graded.answers.all())
            grading.grade(graded, answers)
            Answer.objects.bulk_update(answers, ["is_correct", "points_awarded"], batch_size=500)
            record_wrong_answers(graded, answers)
            graded.verification_code = secrets.token_hex(6).upper()
            graded.save(
                update_fields=[
                    "score",
                    "max_score",
                    "percent",
                    "band",
                    "passed",
                    "verification_code",
                ]
            )
    attempt.refresh_from_db()
    return attempt, bool(won)


def expire_if_due(attempt, now=None):
    """Submit an attempt automatically, with what was saved, once its deadline and
    grace have passed. True when the attempt is (now) finished."""
    if attempt.state != AttemptState.IN_PROGRESS:
        return True
    if not is_expired(attempt, now):
        return False
    submit_attempt(attempt, auto=True, now=now)
    return True


def submit_expired_attempts(now=None):
    """Auto-submit every expired attempt; the periodic task runs this."""
    now = now or timezone.now()
    count = 0
    for attempt in Attempt.objects.in_progress().filter(deadline__lt=now - grace()):
        _attempt, graded = submit_attempt(attempt, auto=True, now=now)
        count += graded
    return count


def can_review(attempt, now=None):
    """Whether answer keys and explanations may be shown for a finished attempt."""
    return attempt.is_finished and reviewable(attempt.session, now)


def remaining_seconds(attempt, now=None):
    return max(0, int((attempt.deadline - (now or timezone.now())).total_seconds()))
