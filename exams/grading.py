"""Grading: points per answer, the attempt's score, band and pass/fail, and which
attempt counts for a person in a session."""

from collections import namedtuple
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .models import AttemptState, Band, Grading
from .models.questions import normalise_answer

TWO_PLACES = Decimal("0.01")


def answer_points(snapshot, response, points):
    """(is_correct, points awarded). Multiple choice is all-or-nothing unless
    XUEFA_EXAM_PARTIAL_CREDIT is on: then picking only correct options (but not all)
    earns that share of the points, and any wrong option still earns nothing. Both the
    frozen answer and the response are read through `normalise_answer`, the reading the
    bank stores answers by, so an answer frozen before it was canonical (" AC") grades
    as it reads."""
    points = Decimal(points)
    correct = set(normalise_answer(snapshot["answer"], snapshot["type"]))
    chosen = set(normalise_answer(response, snapshot["type"]))
    if chosen and chosen == correct:
        return True, points
    if (
        snapshot["type"] == "multiple"
        and settings.XUEFA_EXAM_PARTIAL_CREDIT
        and chosen
        and chosen < correct
    ):
        share = points * len(chosen) / len(correct)
        return False, share.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    return False, Decimal(0)


def band_for(percent, session):
    """优秀 / 良好 / 合格 / 不合格 from the session's marks."""
    if percent >= session.excellent_mark:
        return Band.EXCELLENT
    if percent >= session.good_mark:
        return Band.GOOD
    if percent >= session.pass_mark:
        return Band.PASS
    return Band.FAIL


def grade(attempt, answers):
    """Mark every answer and set the attempt's score, percentage, band and pass.
    Returns the answers changed; the caller saves them and the attempt together."""
    total = Decimal(0)
    max_score = Decimal(0)
    for answer in answers:
        answer.is_correct, answer.points_awarded = answer_points(
            answer.snapshot, answer.response, answer.points
        )
        total += answer.points_awarded
        max_score += answer.points
    attempt.score = total
    attempt.max_score = max_score
    percent = (total * 100 / max_score) if max_score else Decimal(0)
    attempt.percent = percent.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    attempt.band = band_for(attempt.percent, attempt.session)
    attempt.passed = attempt.band != Band.FAIL
    return answers


# The fields `counting_attempt` and reports need of an attempt, as a light tuple for
# bulk reads (`values_list(*AttemptResult._fields)`) where model instances cost too much.
AttemptResult = namedtuple(
    "AttemptResult", "official_id session_id number score percent passed state"
)


def counting_attempt(session, attempts):
    """The finished attempt that counts under the session's grading (best or last)."""
    finished = [a for a in attempts if a.state != AttemptState.IN_PROGRESS and a.score is not None]
    if not finished:
        return None
    if session.grading == Grading.LAST:
        return max(finished, key=lambda a: a.number)
    return max(finished, key=lambda a: (a.score, -a.number))
