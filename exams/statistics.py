"""Statistics for organizers: the score distribution of a session and, per question,
the facility index (mean share of points earned), the discrimination index (upper
minus lower 27% groups by total score, as classical test theory computes it) and how
often each option was chosen. Each person's counting attempt is what is analysed."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from learning.spreadsheets import add_sheet, new_workbook, workbook_bytes

from . import grading
from .models import Answer, Attempt, AttemptState, QuestionType
from .models.questions import FALSE, OPTION_LETTERS, TRUE

BINS = [(0, 60), (60, 70), (70, 80), (80, 90), (90, 101)]
GROUP_SHARE = Decimal("0.27")


@dataclass
class QuestionStats:
    question_id: int | None
    key: str
    stem: str
    type: str
    answer: str
    options: dict
    responses: int = 0
    facility: float = 0.0
    discrimination: float | None = None
    option_counts: dict = field(default_factory=dict)
    blank: int = 0


@dataclass
class SessionStats:
    attempts: list
    distribution: list
    bands: dict
    mean: float | None
    pass_rate: float | None
    questions: list


def counting_attempts(session):
    """Each person's counting attempt (best or last, by the session's grading)."""
    by_official = defaultdict(list)
    for attempt in (
        Attempt.objects.filter(session=session)
        .exclude(state=AttemptState.IN_PROGRESS)
        .select_related("official__user", "official__department")
    ):
        by_official[attempt.official_id].append(attempt)
    chosen = [grading.counting_attempt(session, items) for items in by_official.values()]
    return sorted((a for a in chosen if a is not None), key=lambda a: -a.percent)


def session_statistics(session):
    attempts = counting_attempts(session)
    distribution = []
    for low, high in BINS:
        count = sum(1 for a in attempts if low <= a.percent < high)
        label = f"{low}–{min(high, 100) - (0 if high > 100 else 1)}"
        distribution.append((label, count))
    bands = Counter(a.band for a in attempts)
    mean = float(sum(a.percent for a in attempts) / len(attempts)) if attempts else None
    pass_rate = sum(1 for a in attempts if a.passed) / len(attempts) if attempts else None
    return SessionStats(
        attempts=attempts,
        distribution=distribution,
        bands=dict(bands),
        mean=mean,
        pass_rate=pass_rate,
        questions=question_statistics(attempts),
    )


def question_statistics(attempts):
    if not attempts:
        return []
    ranked = sorted(attempts, key=lambda a: a.percent, reverse=True)
    group = max(1, int((len(ranked) * GROUP_SHARE).to_integral_value(rounding="ROUND_HALF_UP")))
    upper = {a.pk for a in ranked[:group]}
    lower = {a.pk for a in ranked[-group:]}
    stats = {}
    earned = defaultdict(list)
    correct_in = defaultdict(lambda: {"upper": 0, "lower": 0})
    rows = Answer.objects.filter(attempt_id__in=[a.pk for a in attempts]).values_list(
        "attempt_id",
        "question_id",
        "snapshot",
        "points",
        "points_awarded",
        "response",
        "is_correct",
    )
    for attempt_id, question_id, snapshot, points, awarded, response, is_correct in rows:
        key = question_id or snapshot.get("key")
        item = stats.get(key)
        if item is None:
            item = stats[key] = QuestionStats(
                question_id=question_id,
                key=snapshot.get("key", ""),
                stem=snapshot["stem"],
                type=snapshot["type"],
                answer=snapshot["answer"],
                options=snapshot.get("options") or {},
                option_counts=dict.fromkeys(snapshot.get("options") or {"T": 0, "F": 0}, 0),
            )
        item.responses += 1
        earned[key].append(float((awarded or 0) / points) if points else 0.0)
        if not response:
            item.blank += 1
        for letter in response:
            item.option_counts[letter] = item.option_counts.get(letter, 0) + 1
        if is_correct and attempt_id in upper:
            correct_in[key]["upper"] += 1
        if is_correct and attempt_id in lower:
            correct_in[key]["lower"] += 1
    for key, item in stats.items():
        item.facility = sum(earned[key]) / len(earned[key])
        if len(attempts) >= 2:
            item.discrimination = (correct_in[key]["upper"] - correct_in[key]["lower"]) / group
    return sorted(stats.values(), key=lambda q: q.facility)


def statistics_xlsx(session):
    """Results, distribution and question statistics as one workbook. Written through
    learning.spreadsheets, so a name or stem starting with "=" stays text, never a formula."""
    data = session_statistics(session)
    workbook = new_workbook()
    add_sheet(
        workbook,
        _("Results"),
        [
            _("Name"),
            _("Staff number"),
            _("Department"),
            _("Attempt"),
            _("Score"),
            _("Percentage"),
            _("Band"),
            _("Result"),
        ],
        (
            [
                a.official.name,
                a.official.staff_number,
                a.official.department.name,
                a.number,
                float(a.score),
                float(a.percent),
                a.get_band_display(),
                _("Passed") if a.passed else _("Failed"),
            ]
            for a in data.attempts
        ),
    )
    add_sheet(workbook, _("Distribution"), [_("Percentage"), _("People")], data.distribution)
    add_sheet(workbook, _("Questions"), _question_headers(), map(_question_row, data.questions))
    return workbook_bytes(workbook)


def _question_headers():
    return [
        _("Question key"),
        _("Question"),
        _("Question type"),
        _("Answer"),
        _("Responses"),
        _("Facility index"),
        _("Discrimination index"),
        *OPTION_LETTERS,
        _("True"),
        _("False"),
        _("Blank"),
    ]


def _question_row(q):
    # A true-or-false question's letters are T and F: they go in their own columns,
    # never in the options' (F is also a sixth option's letter).
    true_false = q.type == QuestionType.TRUE_FALSE
    counts = q.option_counts
    return [
        q.key,
        q.stem,
        q.type,
        q.answer,
        q.responses,
        round(q.facility, 3),
        None if q.discrimination is None else round(q.discrimination, 3),
        *[None if true_false else counts.get(c, 0) for c in OPTION_LETTERS],
        counts.get(TRUE, 0) if true_false else None,
        counts.get(FALSE, 0) if true_false else None,
        q.blank,
    ]
