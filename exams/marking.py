"""Marking of short-answer and case-analysis answers by people (阅卷).

Every such answer of a finished, valid attempt is marked by rubric in a first round;
with the session's second marking, a second person marks it blind, and marks further
apart than the session's margin go to a third person, whose mark is final (closer
marks are averaged). Each mark and each change of one is audited. When the last
hand-marked answer of an attempt has its final points, the attempt's result is settled
and final (exams.results); a later change of a mark settles it again, and a pass that
becomes a fail loses its certificate.

All marking of one attempt is serialised on the attempt's row lock, and the unique
(answer, round) constraint lets only one of two markers racing for a round win."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, F, FilteredRelation, Q
from django.db.models.functions import Abs
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from . import audit, certificates, grading, results
from .attempts import ExamError
from .models import (
    MANUAL_TYPES,
    Answer,
    Attempt,
    AttemptState,
    Marking,
    MarkingRound,
)
from .models.questions import rubric_total

TWO_PLACES = Decimal("0.01")
# The types a person marks, as stored in an answer's snapshot.
MANUAL = sorted(str(t) for t in MANUAL_TYPES)


class MarkingError(ExamError):
    """A mark that cannot be taken; the message says why, translated."""


class MarkingRefused(MarkingError):
    """This person may not give this mark (their own exam, a round not theirs…)."""


class MarkingTaken(MarkingError):
    """Someone else has given the mark of this round, possibly a moment ago."""


class InvalidMarks(MarkingError):
    """Points outside what the rubric allows."""


@dataclass(frozen=True)
class Element:
    """One element of a rubric and the most points it earns."""

    text: str
    points: Decimal


def is_hand_marked(answer):
    """Whether a person marks the answer (short answer, case analysis)."""
    return answer.snapshot.get("type") in MANUAL


def rubric_elements(answer):
    """The rubric the answer is marked by, as frozen in its snapshot; a question
    without one (or whose elements add up to nothing) is one element worth the
    answer's points."""
    rubric = answer.snapshot.get("rubric") or []
    if rubric and rubric_total(rubric) > 0:
        return [
            Element(str(e.get("element") or ""), Decimal(str(e.get("points") or 0))) for e in rubric
        ]
    return [Element(_("The answer as a whole"), Decimal(answer.points))]


def clean_element_points(answer, element_points):
    """The points per element as Decimals of two places, each between 0 and what its
    element is worth; InvalidMarks otherwise."""
    elements = rubric_elements(answer)
    if len(element_points) != len(elements):
        raise InvalidMarks(_("Give points for every element of the rubric."))
    cleaned = []
    for element, given in zip(elements, element_points, strict=True):
        try:
            value = Decimal(str(given).strip()).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
        except (InvalidOperation, ValueError):
            raise InvalidMarks(_("“%(value)s” is not a number.") % {"value": given}) from None
        if not value.is_finite() or value < 0 or value > element.points:
            raise InvalidMarks(
                _("Points for “%(element)s” must be between 0 and %(points)s.")
                % {"element": element.text, "points": element.points}
            )
        cleaned.append(value)
    return cleaned


def rubric_rows(answer, marking):
    """(element, points the marking gave it) for showing a mark."""
    given = [Decimal(str(p)) for p in marking.element_points]
    return list(zip(rubric_elements(answer), given, strict=False))


def answer_points(answer, element_points):
    """The answer's points on the paper: the rubric's share earned, scaled to what the
    question is worth there (answer.points × earned / rubric total), two places."""
    total = sum((e.points for e in rubric_elements(answer)), Decimal(0))
    if not total:
        return Decimal("0.00")
    earned = sum(element_points, Decimal(0))
    points = Decimal(answer.points) * earned / total
    return points.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _gap(marks):
    return abs(marks[MarkingRound.FIRST].points - marks[MarkingRound.SECOND].points)


def needs_reconciliation(marks, session):
    """Whether the first and second marks are further apart than the session allows."""
    return (
        session.second_marking
        and MarkingRound.FIRST in marks
        and MarkingRound.SECOND in marks
        and _gap(marks) > session.marking_margin
    )


def needed_round(marks, session):
    """The round the answer waits for ({round: Marking} given), or None when marked."""
    if MarkingRound.FIRST not in marks:
        return MarkingRound.FIRST
    if not session.second_marking:
        return None
    if MarkingRound.SECOND not in marks:
        return MarkingRound.SECOND
    if needs_reconciliation(marks, session) and MarkingRound.RECONCILIATION not in marks:
        return MarkingRound.RECONCILIATION
    return None


def final_points(marks, session):
    """The answer's final points: the first mark alone; with second marking the average
    of two marks within the margin (two places, half up) or else the reconciliation;
    None while a needed round is missing."""
    if needed_round(marks, session) is not None:
        return None
    if not session.second_marking:
        return marks[MarkingRound.FIRST].points
    if needs_reconciliation(marks, session):
        return marks[MarkingRound.RECONCILIATION].points
    pair = marks[MarkingRound.FIRST].points + marks[MarkingRound.SECOND].points
    return (pair / 2).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _attempt_refusal(attempt, user):
    if attempt.state == AttemptState.IN_PROGRESS:
        return _("This answer's attempt is still in progress.")
    if attempt.voided_at is not None:
        return _("This attempt's result has been voided.")
    if attempt.official.user_id == user.pk:
        return _("You cannot mark your own exam.")
    return None


def _round_refusal(marks, session, user, round):
    """Why `user` may not give the (new) mark of this round, or None."""
    earlier = {m.marker_id for r, m in marks.items() if r < round}
    if round == MarkingRound.SECOND:
        if not session.second_marking:
            return _("This session has no second marking.")
        if MarkingRound.FIRST not in marks:
            return _("The first marking comes first.")
        if user.pk in earlier:
            return _("The second marking must be by someone other than the first marker.")
    if round == MarkingRound.RECONCILIATION:
        if not needs_reconciliation(marks, session):
            return _("This answer needs no reconciliation.")
        if user.pk in earlier:
            return _("The reconciliation must be by someone who has not marked this answer.")
    return None


def check_may_mark(attempt, answer, marks, user, round):
    """Raise MarkingRefused or MarkingTaken unless `user` may give or change the mark
    of this round. A marker changes their own mark until a reconciliation exists
    (it was made seeing both earlier marks); the reconciler may always change theirs."""
    if not is_hand_marked(answer):
        raise MarkingRefused(_("This answer is marked automatically."))
    problem = _attempt_refusal(attempt, user)
    if problem:
        raise MarkingRefused(problem)
    existing = marks.get(round)
    if existing is not None and existing.marker_id == user.pk:
        if round != MarkingRound.RECONCILIATION and MarkingRound.RECONCILIATION in marks:
            raise MarkingRefused(
                _("A reconciliation has been made: only its marker can change the mark now.")
            )
        return
    if existing is not None:
        raise MarkingTaken(_("Someone else has already marked this answer in this round."))
    problem = _round_refusal(marks, attempt.session, user, round)
    if problem:
        raise MarkingRefused(problem)


def round_for(attempt, answer, marks, user, requested=None):
    """The round `user` marks on opening the answer, and their mark of it to change if
    they gave one: the round asked for, else the round the answer waits for, else the
    last round they marked. Raises MarkingError when there is nothing for them."""
    problem = _attempt_refusal(attempt, user)
    if problem:
        raise MarkingRefused(problem)
    if requested is None:
        waiting = needed_round(marks, attempt.session)
        own = [r for r, m in sorted(marks.items()) if m.marker_id == user.pk]
        if waiting is not None:
            try:
                check_may_mark(attempt, answer, marks, user, waiting)
                return waiting, None
            except MarkingError:
                if not own:
                    raise
        if not own:
            raise MarkingRefused(_("This answer needs no more marking."))
        requested = own[-1]
    try:
        requested = MarkingRound(int(requested))
    except (TypeError, ValueError):
        raise MarkingRefused(_("There is no such marking round.")) from None
    check_may_mark(attempt, answer, marks, user, requested)
    return requested, marks.get(requested)


def marks_of(answer):
    """{round: Marking} of the answer, markers loaded."""
    return {m.round: m for m in answer.markings.select_related("marker")}


def _locked_attempt(attempt_id):
    """The attempt, its row locked for the rest of the transaction: markings of one
    attempt happen one after another, so its settling sees every final answer."""
    return (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("session", "official__user")
        .get(pk=attempt_id)
    )


def _recorded(marking):
    return {
        "element_points": [str(p) for p in marking.element_points],
        "points": str(marking.points),
        "comment": marking.comment,
    }


def _store(answer, marker, round, values, comment, existing):
    """Write the mark; (marking, what it was before or None)."""
    points = answer_points(answer, values)
    element_points = [str(v) for v in values]
    if existing is not None:
        before = _recorded(existing)
        existing.element_points, existing.points = element_points, points
        existing.comment = comment
        existing.save(update_fields=["element_points", "points", "comment", "updated_at"])
        return existing, before
    try:
        with transaction.atomic():
            marking = Marking.objects.create(
                answer=answer,
                round=round,
                marker=marker,
                element_points=element_points,
                points=points,
                comment=comment,
            )
    except IntegrityError:
        raise MarkingTaken(_("Someone else has just marked this answer in this round.")) from None
    return marking, None


def mark(answer, marker, element_points, comment="", round=MarkingRound.FIRST):
    """Give (or change) `marker`'s mark of the answer in a round: points per rubric
    element. Refusals raise MarkingError subclasses with a message for the marker.
    The answer's final points and the attempt's result follow when they are known."""
    try:
        round = MarkingRound(int(round))
    except (TypeError, ValueError):
        raise InvalidMarks(_("There is no such marking round.")) from None
    with transaction.atomic():
        attempt = _locked_attempt(answer.attempt_id)
        answer = Answer.objects.get(pk=answer.pk)
        marks = marks_of(answer)
        check_may_mark(attempt, answer, marks, marker, round)
        values = clean_element_points(answer, element_points)
        marking, before = _store(
            answer, marker, round, values, (comment or "").strip(), marks.get(round)
        )
        marks[round] = marking
        audit.log_marking(attempt, answer, marking, before, marker)
        _finalise(attempt, answer, marks, marker)
    return marking


RESULT_FIELDS = ("score", "max_score", "percent", "band", "passed", "marking_pending")


def _result(attempt):
    return {field: getattr(attempt, field) for field in RESULT_FIELDS}


def _finalise(attempt, answer, marks, marker):
    """Set the answer's final points (or clear them while a round is missing) and
    settle the attempt's result from all its answers. Marked answers stay out of the
    wrong-answer notebook: a partly earned essay is not a wrong choice to practise."""
    final = final_points(marks, attempt.session)
    answer.points_awarded = final
    answer.is_correct = None if final is None else final >= Decimal(answer.points)
    answer.save(update_fields=["points_awarded", "is_correct"])
    before = _result(attempt)
    answers = list(Answer.objects.filter(attempt_id=attempt.pk).only("points", "points_awarded"))
    grading.settle(attempt, answers)
    if _result(attempt) == before:
        return
    attempt.save(update_fields=list(RESULT_FIELDS))
    audit.log_result_after_marking(attempt, before, _result(attempt), marker)
    _follow_up(attempt, marker)


def _follow_up(attempt, marker):
    """What a changed final result sets off: exams.results.on_result_final (a pass gets
    its certificate, or has its band brought up to date, or a certificate revoked by an
    earlier re-mark reinstated); a fail revokes a certificate the attempt holds (a
    re-mark turned its pass into a fail)."""
    if attempt.marking_pending:
        return
    results.on_result_final(attempt)
    if attempt.passed is False:
        certificates.revoke_for_attempt(
            attempt, _("Re-marking changed the result to a fail."), marker
        )


def pseudonym(attempt):
    """A short name for the candidate that stays the same for all their answers in the
    session, and says nothing of who they are (anonymous marking)."""
    digest = salted_hmac(
        "xuefa.marking.candidate", f"{attempt.session_id}:{attempt.official_id}"
    ).hexdigest()
    return digest[:6].upper()


# The queue ------------------------------------------------------------------------------


def manual_answers():
    """Hand-marked answers of finished attempts whose result stands."""
    answers = Answer.objects.filter(snapshot__type__in=MANUAL, attempt__voided_at__isnull=True)
    return answers.exclude(attempt__state=AttemptState.IN_PROGRESS)


def _with_rounds(answers):
    """Each answer with its three possible marks joined (m1, m2, m3) and the gap."""
    return answers.annotate(
        m1=FilteredRelation("markings", condition=Q(markings__round=MarkingRound.FIRST)),
        m2=FilteredRelation("markings", condition=Q(markings__round=MarkingRound.SECOND)),
        m3=FilteredRelation("markings", condition=Q(markings__round=MarkingRound.RECONCILIATION)),
    ).annotate(
        m1_marker=F("m1__marker_id"),
        m2_marker=F("m2__marker_id"),
        m3_id=F("m3__id"),
        gap=Abs(F("m1__points") - F("m2__points")),
    )


WAITS_FIRST = Q(m1_marker__isnull=True)
WAITS_SECOND = Q(
    m1_marker__isnull=False, m2_marker__isnull=True, attempt__session__second_marking=True
)
WAITS_RECONCILIATION = Q(
    m2_marker__isnull=False,
    m3_id__isnull=True,
    attempt__session__second_marking=True,
    gap__gt=F("attempt__session__marking_margin"),
)
WAITING = WAITS_FIRST | WAITS_SECOND | WAITS_RECONCILIATION


def markable_by(user):
    """The condition on _with_rounds answers that `user` may give their next mark."""
    others = ~Q(attempt__official__user_id=user.pk)
    not_first = ~Q(m1_marker=user.pk)
    return others & (
        WAITS_FIRST
        | (WAITS_SECOND & not_first)
        | (WAITS_RECONCILIATION & not_first & ~Q(m2_marker=user.pk))
    )


@dataclass
class QueueRow:
    """What waits for marking of one question in one session."""

    session_id: int
    session_title: str
    question_id: int | None
    question_key: str
    question_stem: str
    first: int
    second: int
    reconciliation: int
    yours: int

    @property
    def waiting(self):
        return self.first + self.second + self.reconciliation


def queue(user):
    """Per session and question, the answers waiting for each round and how many of
    them `user` may mark: one grouped query, however many answers there are."""
    rows = (
        _with_rounds(manual_answers())
        .filter(WAITING)
        .values(
            "attempt__session_id",
            "attempt__session__title",
            "question_id",
            "question__key",
            "question__stem",
        )
        .annotate(
            first=Count("pk", filter=WAITS_FIRST),
            second=Count("pk", filter=WAITS_SECOND),
            reconciliation=Count("pk", filter=WAITS_RECONCILIATION),
            yours=Count("pk", filter=markable_by(user)),
        )
        .order_by("-attempt__session_id", "question__key")
    )
    return [
        QueueRow(
            session_id=row["attempt__session_id"],
            session_title=row["attempt__session__title"],
            question_id=row["question_id"],
            question_key=row["question__key"] or "",
            question_stem=row["question__stem"] or "",
            first=row["first"],
            second=row["second"],
            reconciliation=row["reconciliation"],
            yours=row["yours"],
        )
        for row in rows
    ]


def markable_answers(user, session_id=None, question_id=None):
    """The answers `user` may give their next mark to, of a session and question when
    given, in the order they were stored."""
    answers = _with_rounds(manual_answers()).filter(markable_by(user))
    if session_id is not None:
        answers = answers.filter(attempt__session_id=session_id)
    if question_id is not None:
        answers = answers.filter(question_id=question_id)
    return answers.order_by("pk")


def next_answer(user, session_id=None, question_id=None, after=None):
    """The next answer `user` may mark; `after` skips to those stored after an answer
    (and comes round to the first again when none follows)."""
    answers = markable_answers(user, session_id, question_id)
    following = answers.filter(pk__gt=after).first() if after is not None else None
    return following or answers.first()
