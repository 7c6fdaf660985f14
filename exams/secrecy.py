"""Answer secrecy (issue #18): no key, explanation, legal basis or right-or-wrong
verdict of a question reaches an official while a formal exam that can ask it is
still open to them: an attempt in progress, or one they may still start under their
own window and attempts. Review pages, practice feedback and the wrong-answer
notebook ask a Guard which questions to withhold."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .assignments import my_sessions
from .attempts import can_still_answer, paper_id_for
from .models import (
    Answer,
    AttemptState,
    PaperMode,
    PaperQuestion,
    PaperRule,
    Question,
    SessionKind,
)
from .notebook import reviewable

# What is said in place of a withheld answer.
WITHHELD = _("The answer is shown once the exams that ask this question are closed to you.")


@dataclass(frozen=True)
class Guard:
    """What one official may not be shown at `now`: the questions of the formal
    sessions they can still answer in (`question_ids`), those sessions, and their own
    closing time of each session assigned to them."""

    now: datetime
    question_ids: frozenset
    live_session_ids: frozenset
    closes_at: dict

    def hides(self, question_id):
        return question_id in self.question_ids

    def reviewable(self, session):
        """The session-level rule of attempts.can_review, from what the guard read."""
        return reviewable(
            session,
            self.now,
            closes_at=self.closes_at.get(session.pk),
            live=session.pk in self.live_session_ids,
        )


def guard_for(official, now=None):
    """The official's Guard. A bounded number of queries however many sessions and
    questions: their sessions (assignments.my_sessions), the answers of their formal
    attempts in progress, and what the papers of the live sessions can draw."""
    now = now or timezone.now()
    rows = my_sessions(official, now)
    live = [
        row
        for row in rows
        if not row.session.is_practice
        and can_still_answer(row.session, row.terms, row.attempts, now)
    ]
    # Attempts in progress count even where the session is no longer assigned to them.
    in_progress = (
        Answer.objects.filter(attempt__official=official, attempt__state=AttemptState.IN_PROGRESS)
        .exclude(attempt__session__kind=SessionKind.PRACTICE)
        .values_list("attempt__session_id", "question_id")
    )
    live_sessions = {row.session.pk for row in live}
    question_ids = set()
    for session_id, question_id in in_progress:
        live_sessions.add(session_id)
        question_ids.add(question_id)
    question_ids |= drawable({paper_id_for(row.session, official) for row in live})
    question_ids.discard(None)
    return Guard(
        now=now,
        question_ids=frozenset(question_ids),
        live_session_ids=frozenset(live_sessions),
        closes_at={row.session.pk: row.terms.closes_at for row in rows},
    )


def guarded_question_ids(official, now=None):
    """The ids of the questions whose key, explanation and verdict the official may not
    be shown now."""
    return guard_for(official, now).question_ids


def drawable(paper_ids):
    """The ids of every question the papers can put before someone: a fixed paper's
    questions; for a random paper, each active question of a rule's type and topic
    (any topic for a rule without one). Three queries at most."""
    if not paper_ids:
        return set()
    ids = set(
        PaperQuestion.objects.filter(
            paper_id__in=paper_ids, paper__mode=PaperMode.FIXED
        ).values_list("question_id", flat=True)
    )
    rules = set(
        PaperRule.objects.filter(paper_id__in=paper_ids, paper__mode=PaperMode.RANDOM).values_list(
            "topic_id", "type"
        )
    )
    if rules:
        matching = Q()
        for topic_id, qtype in rules:
            matching |= Q(type=qtype) if topic_id is None else Q(type=qtype, topic_id=topic_id)
        ids.update(Question.objects.active().filter(matching).values_list("pk", flat=True))
    return ids
