"""What the result page offers next (issue #20): another attempt when the rules of a
start allow one now (or says when they will), the wrong-answer notebook when the
attempt put questions in it, and back to the official's exams otherwise.

Whether a start is allowed is decided as the session page decides it, from the same
rules: attempts.py (window, entry cut-off, attempts allowed under the official's
override), gate.py (entry requirements) and assignments.py (assignment, attempts
used). The start view applies them again: a button shown here never bypasses them."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Subquery
from django.utils import timezone

from . import gate
from .assignments import my_session
from .attempts import entry_closes_at, expire_if_due
from .models import Answer, Attempt, NotebookEntry


@dataclass(frozen=True)
class StartState:
    """Whether the official may start an attempt at a session now, and if not, why."""

    can_start: bool
    blockers: tuple = ()
    entry_closes: datetime | None = None
    entry_closed: bool = False
    opens_at: datetime | None = None  # attempts remain, but their window opens later


def start_state(session, official, row, now):
    """The session page's rule for offering a start to the official whose MySession
    (assignments.my_session) is `row`: no attempt in progress, the window not closed,
    attempts left, no unmet entry requirement, not past the entry cut-off, and the
    window open (else `opens_at` says when it opens)."""
    may_start = row.in_progress is None and now < row.terms.closes_at and row.attempts_left > 0
    blockers = tuple(gate.blockers(session, official)) if may_start else ()
    entry_closes = entry_closes_at(session, row.terms)
    entry_closed = may_start and entry_closes is not None and now > entry_closes
    waits = may_start and now < row.terms.opens_at and not blockers
    return StartState(
        can_start=may_start and not waits and not blockers and not entry_closed,
        blockers=blockers,
        entry_closes=entry_closes,
        entry_closed=entry_closed,
        opens_at=row.terms.opens_at if waits else None,
    )


@dataclass(frozen=True)
class NextStep:
    """What follows a result: the attempts used and allowed (None when the session is
    no longer the official's), the attempt in progress to continue, whether to offer
    a new attempt (`start`), and the notebook: `notebook` when wrong answers of this
    attempt wait there, `notebook_later` when none of them shows there yet."""

    attempts_used: int | None = None
    attempts_allowed: int | None = None
    in_progress: Attempt | None = None
    start: StartState = StartState(can_start=False)
    notebook: bool = False
    notebook_later: bool = False

    @property
    def attempts_left(self):
        if self.attempts_allowed is None:
            return None
        return max(0, self.attempts_allowed - self.attempts_used)


def next_step(attempt, official, *, review, withheld=frozenset(), score_withheld=False, now=None):
    """The NextStep after the official's finished `attempt`. No new attempt is offered
    from a result pending marking or voided (it says so instead). `review` and
    `withheld` are what the result page shows of the attempt's answers
    (attempts.can_review, and the questions exams.secrecy withholds): the notebook
    shows an entry under the same rules. With the score withheld (a practice asking
    questions of an exam still open to them) only the entries they may see now
    count: the others would tell a verdict."""
    now = now or timezone.now()
    session = attempt.session
    mine = list(Attempt.objects.filter(session=session, official=official).order_by("number"))
    for other in mine:
        expire_if_due(other, now)  # as the session page does: an expired one is submitted
    row = my_session(official, session, now=now, attempts=mine)
    step = {}
    if row is not None:
        step = {
            "attempts_used": len(row.attempts),
            "attempts_allowed": row.terms.attempts_allowed,
            "in_progress": row.in_progress,
        }
        if attempt.voided_at is None and not attempt.marking_pending:
            step["start"] = start_state(session, official, row, now)
    if attempt.voided_at is None:
        step.update(_notebook(attempt, official, review, withheld, score_withheld))
    return NextStep(**step)


def _notebook(attempt, official, review, withheld, score_withheld):
    """{notebook, notebook_later} for the attempt's wrong answers still open in the
    official's notebook, in one query."""
    wrong = Answer.objects.filter(
        attempt_id=attempt.pk, is_correct=False, question_id__isnull=False
    ).values("question_id")
    entries = list(
        NotebookEntry.objects.filter(
            official_id=official.pk, cleared=False, question_id__in=Subquery(wrong)
        ).values_list("question_id", flat=True)
    )
    shown = [question_id for question_id in entries if review and question_id not in withheld]
    if score_withheld:
        entries = shown
    return {"notebook": bool(entries), "notebook_later": bool(entries) and not shown}
