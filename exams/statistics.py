"""Statistics for organizers: the score distribution of a session and, per question,
the facility index (mean share of points earned), the discrimination index (upper
minus lower 27% groups by total score, as classical test theory computes it) and how
often each option was chosen. Each person's counting attempt is what is analysed.

Fill-in-the-blank questions add the share fully correct and, per blank, the share
that got it right. Hand-marked questions (short answer, case analysis) count every
submitted answer, those of attempts still awaiting marking included, to show how much
is marked; their averages and facility use marked answers only."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from learning.spreadsheets import add_sheet, new_workbook, workbook_bytes

from . import grading
from .models import MANUAL_TYPES, Answer, Attempt, AttemptState, QuestionType
from .models.questions import FALSE, OPTION_LETTERS, TRUE, blank_accepts, format_blanks

BINS = [(0, 60), (60, 70), (70, 80), (80, 90), (90, 101)]
GROUP_SHARE = Decimal("0.27")
LETTERED = (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.TRUE_FALSE)


@dataclass
class QuestionStats:
    question_id: int | None
    key: str
    stem: str
    type: str
    answer: str
    options: dict
    responses: int = 0
    facility: float | None = 0.0
    discrimination: float | None = None
    option_counts: dict = field(default_factory=dict)
    blank: int = 0
    # Fill in the blank: answers with every blank right, and per blank those with it right.
    fully_correct: int = 0
    blank_correct: list = field(default_factory=list)
    # Hand-marked: answers marked so far, the points they earned and could earn.
    marked: int = 0
    points_awarded: Decimal = Decimal(0)
    points_possible: Decimal = Decimal(0)

    @property
    def is_fill_blank(self):
        return self.type == QuestionType.FILL_BLANK

    @property
    def is_manual(self):
        return self.type in MANUAL_TYPES

    @property
    def fully_correct_share(self):
        return self.fully_correct / self.responses if self.responses else None

    @property
    def blank_shares(self):
        """Per blank, the share of answers that got it right."""
        return [count / self.responses if self.responses else 0.0 for count in self.blank_correct]

    @property
    def marked_share(self):
        return self.marked / self.responses if self.responses else None

    @property
    def average_points(self):
        """Mean points of the marked answers (None before any is marked)."""
        return float(self.points_awarded / self.marked) if self.marked else None

    @property
    def average_possible(self):
        """Mean points the marked answers were worth on their papers."""
        return float(self.points_possible / self.marked) if self.marked else None


@dataclass
class SessionStats:
    attempts: list
    distribution: list
    bands: dict
    mean: float | None
    pass_rate: float | None
    questions: list
    pending: int = 0  # submitted attempts awaiting hand marking


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


def pending_attempts(session):
    """Ids of the session's submitted attempts waiting for hand marking (not voided)."""
    return list(
        Attempt.objects.finished()
        .filter(session=session, marking_pending=True, voided_at__isnull=True)
        .values_list("pk", flat=True)
    )


def session_statistics(session):
    attempts = counting_attempts(session)
    pending = pending_attempts(session)
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
        questions=question_statistics(attempts, pending),
        pending=len(pending),
    )


@dataclass
class _Tally:
    """What question_statistics gathers while reading the answers: the counting
    attempts' upper and lower groups, and per question the shares of points earned
    and the correct answers (or shares, for hand-marked ones) in each group."""

    counting: set
    upper: set
    lower: set
    group: int
    earned: dict = field(default_factory=lambda: defaultdict(list))
    in_groups: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def _tally(attempts):
    ranked = sorted(attempts, key=lambda a: a.percent, reverse=True)
    group = max(1, int((len(ranked) * GROUP_SHARE).to_integral_value(rounding="ROUND_HALF_UP")))
    return _Tally(
        counting={a.pk for a in attempts},
        upper={a.pk for a in ranked[:group]},
        lower={a.pk for a in ranked[-group:]},
        group=group,
    )


def _new_item(question_id, snapshot):
    qtype = snapshot["type"]
    options = snapshot.get("options") or {}
    if qtype == QuestionType.FILL_BLANK:
        answer = format_blanks(snapshot.get("blanks"))
    else:
        answer = snapshot.get("answer", "")
    lettered = qtype in LETTERED
    return QuestionStats(
        question_id=question_id,
        key=snapshot.get("key", ""),
        stem=snapshot["stem"],
        type=qtype,
        answer=answer,
        options=options,
        option_counts=dict.fromkeys(options or {"T": 0, "F": 0}, 0) if lettered else {},
    )


def question_statistics(attempts, pending=()):
    """Per question of the counting `attempts` (and, for hand-marked questions, of
    the `pending` attempts' ids as well), least facile first. One query."""
    if not attempts:
        return []
    tally, stats = _tally(attempts), {}
    rows = Answer.objects.filter(attempt_id__in=[*tally.counting, *pending]).values_list(
        "attempt_id", "question_id", "snapshot", "points", "points_awarded", "response",
        "is_correct",
    )  # fmt: skip
    for attempt_id, question_id, snapshot, points, awarded, response, is_correct in rows:
        manual = snapshot["type"] in MANUAL_TYPES
        if attempt_id not in tally.counting and not manual:
            continue
        key = question_id or snapshot.get("key")
        item = stats.get(key) or stats.setdefault(key, _new_item(question_id, snapshot))
        item.responses += 1
        if not response:
            item.blank += 1
        if manual:
            _count_marked(item, tally, key, attempt_id, points, awarded)
            continue
        tally.earned[key].append(float((awarded or 0) / points) if points else 0.0)
        _count_response(item, snapshot, response)
        item.fully_correct += bool(is_correct and item.is_fill_blank)
        if is_correct and attempt_id in tally.upper:
            tally.in_groups[key][0] += 1
        if is_correct and attempt_id in tally.lower:
            tally.in_groups[key][1] += 1
    for key, item in stats.items():
        _finish(item, tally, key, len(attempts))
    return sorted(stats.values(), key=lambda q: (q.facility is None, q.facility or 0))


def _count_response(item, snapshot, response):
    """Options chosen (choice types), or which blanks are right (fill in the blank)."""
    if item.type in LETTERED:
        for letter in response:
            item.option_counts[letter] = item.option_counts.get(letter, 0) + 1
        return
    accepted = snapshot.get("blanks") or []
    given = grading.blank_responses(response)
    if len(item.blank_correct) < len(accepted):
        item.blank_correct.extend([0] * (len(accepted) - len(item.blank_correct)))
    right = [i < len(given) and blank_accepts(group, given[i]) for i, group in enumerate(accepted)]
    for index, ok in enumerate(right):
        item.blank_correct[index] += ok


def _count_marked(item, tally, key, attempt_id, points, awarded):
    """A hand-marked answer: counted as marked once it has its points."""
    if awarded is None:
        return
    item.marked += 1
    item.points_awarded += Decimal(awarded)
    item.points_possible += Decimal(points)
    share = float(Decimal(awarded) / Decimal(points)) if points else 0.0
    tally.earned[key].append(share)
    if attempt_id in tally.upper:
        tally.in_groups[key][0] += share
    if attempt_id in tally.lower:
        tally.in_groups[key][1] += share


def _finish(item, tally, key, people):
    """Facility from the shares earned; discrimination from the upper and lower groups
    (correct answers, or for hand-marked questions the shares of points)."""
    earned = tally.earned[key]
    item.facility = sum(earned) / len(earned) if earned else None
    if people >= 2 and earned:
        upper, lower = tally.in_groups[key]
        item.discrimination = (upper - lower) / tally.group


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
    extra = any(q.type not in LETTERED for q in data.questions)
    add_sheet(
        workbook,
        _("Questions"),
        _question_headers(extra),
        (_question_row(q, extra) for q in data.questions),
    )
    return workbook_bytes(workbook)


def _question_headers(extra=False):
    """The question sheet's columns; `extra`: the columns of fill-in-the-blank and
    hand-marked questions too, written when the session has such questions."""
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
        *(
            (
                _("Share fully correct"),
                _("Share right per blank"),
                _("Answers marked"),
                _("Share marked"),
                _("Average points"),
                _("Average points possible"),
            )
            if extra
            else ()
        ),
    ]


def _rounded(value):
    return None if value is None else round(value, 3)


def _extra_cells(q):
    """The fill-in-the-blank and hand-marking columns of one question."""
    blanks = "; ".join(f"{n}: {share:.2f}" for n, share in enumerate(q.blank_shares, start=1))
    return [
        _rounded(q.fully_correct_share) if q.is_fill_blank else None,
        blanks if q.is_fill_blank else None,
        q.marked if q.is_manual else None,
        _rounded(q.marked_share) if q.is_manual else None,
        _rounded(q.average_points) if q.is_manual else None,
        _rounded(q.average_possible) if q.is_manual else None,
    ]


def _question_row(q, extra=False):
    # A true-or-false question's letters are T and F: they go in their own columns,
    # never in the options' (F is also a sixth option's letter).
    true_false = q.type == QuestionType.TRUE_FALSE
    lettered = q.type in LETTERED and not true_false
    counts = q.option_counts
    return [
        q.key,
        q.stem,
        q.type,
        q.answer,
        q.responses,
        _rounded(q.facility),
        _rounded(q.discrimination),
        *[counts.get(c, 0) if lettered else None for c in OPTION_LETTERS],
        counts.get(TRUE, 0) if true_false else None,
        counts.get(FALSE, 0) if true_false else None,
        q.blank,
        *(_extra_cells(q) if extra else ()),
    ]
