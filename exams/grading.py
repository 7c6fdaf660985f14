"""Grading: points per answer, the attempt's score, band and pass/fail, and which
attempt counts for a person in a session."""

import json
from collections import namedtuple
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .models import MANUAL_TYPES, AttemptState, Band, Grading, QuestionType
from .models.questions import blank_accepts, normalise_answer

TWO_PLACES = Decimal("0.01")


def blank_responses(response):
    """The texts per blank of a fill-in-the-blank response (stored as a JSON list);
    [] for an empty or unreadable one."""
    if not response:
        return []
    try:
        texts = json.loads(response)
    except (TypeError, ValueError):
        return []
    if not isinstance(texts, list):
        return []
    return [text if isinstance(text, str) else "" for text in texts]


def blank_points(snapshot, response, points):
    """(is_correct, points awarded) for fill in the blank: each blank earns its share
    of the points when its response matches one of its accepted answers (after
    normalisation, see questions.normalise_blank); correct only when all do."""
    blanks = snapshot.get("blanks") or []
    if not blanks:
        return False, Decimal(0)
    given = blank_responses(response)
    right = sum(
        1
        for index, accepted in enumerate(blanks)
        if index < len(given) and blank_accepts(accepted, given[index])
    )
    share = (points * right / len(blanks)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    return right == len(blanks), share


def is_manual(snapshot):
    """Whether a person marks the answer (short answer, case analysis)."""
    return snapshot["type"] in MANUAL_TYPES


def answer_points(snapshot, response, points):
    """(is_correct, points awarded). Multiple choice is all-or-nothing unless
    XUEFA_EXAM_PARTIAL_CREDIT is on: then picking only correct options (but not all)
    earns that share of the points, and any wrong option still earns nothing. Both the
    frozen answer and the response are read through `normalise_answer`, the reading the
    bank stores answers by, so an answer frozen before it was canonical (" AC") grades
    as it reads."""
    points = Decimal(points)
    if snapshot["type"] == QuestionType.FILL_BLANK:
        return blank_points(snapshot, response, points)
    if is_manual(snapshot):
        return None, None  # a person marks it: exams.marking
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
    """Mark every answer a machine can mark and, when none waits for a person, set the
    attempt's score, percentage, band and pass (see `settle`). Answers a person marks
    keep no points until marked, and the attempt stays pending marking.
    Returns the answers changed; the caller saves them and the attempt together."""
    for answer in answers:
        answer.is_correct, answer.points_awarded = answer_points(
            answer.snapshot, answer.response, answer.points
        )
    settle(attempt, answers)
    return answers


def settle(attempt, answers):
    """The attempt's result from its answers' points: score, percentage, band and pass
    once every answer has its points; while any waits for marking, none of them (an
    attempt pending marking counts nowhere: reports read finished attempts with a
    score) and `marking_pending` set. The caller saves the attempt."""
    attempt.max_score = sum((Decimal(a.points) for a in answers), Decimal(0))
    if any(a.points_awarded is None for a in answers):
        attempt.marking_pending = True
        attempt.score = attempt.percent = attempt.passed = None
        attempt.band = ""
        return attempt
    total = sum((Decimal(a.points_awarded) for a in answers), Decimal(0))
    attempt.marking_pending = False
    attempt.score = total
    percent = (total * 100 / attempt.max_score) if attempt.max_score else Decimal(0)
    attempt.percent = percent.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    attempt.band = band_for(attempt.percent, attempt.session)
    attempt.passed = attempt.band != Band.FAIL
    return attempt


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
