"""The pre-appointment register (任前法律知识考试登记): every candidate named to a
pre-appointment exam, the post they are proposed for, their attempts in the session
and its make-ups, the best result and a link to the certificate. HR checks it before
an appointment. A year's candidates are few (dozens), so the register is built whole
in three queries (and those of the credit gate for each gated exam with candidates
who have not sat it) and then filtered and paginated."""

import dataclasses
from collections import defaultdict

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.models import Official

from .. import gate
from ..models import Attempt, ExamSession, SessionCandidate, SessionKind
from .access import can_see_official, scope_root

PASSED, FAILED, NOT_TAKEN, BLOCKED = "passed", "failed", "not_taken", "blocked"
RESULTS = [
    (PASSED, gettext_lazy("Passed")),
    (FAILED, gettext_lazy("Not passed")),
    (NOT_TAKEN, gettext_lazy("Not taken")),
    (BLOCKED, gettext_lazy("Blocked by entry requirements")),
]


@dataclasses.dataclass
class RegisterRow:
    candidate: SessionCandidate
    makeups: list
    attempts: list
    blockers: list = dataclasses.field(default_factory=list)  # gate.Blocker, when not taken

    @property
    def official(self):
        return self.candidate.official

    @property
    def session(self):
        return self.candidate.session

    @property
    def best(self):
        """The attempt that speaks for the candidate: a passing one before a failing
        one, then the highest percentage, then the earliest."""
        if not self.attempts:
            return None
        return max(self.attempts, key=lambda a: (bool(a.passed), a.percent or 0, -a.pk))

    @property
    def result(self):
        best = self.best
        if best is None:
            return BLOCKED if self.blockers else NOT_TAKEN
        return PASSED if best.passed else FAILED

    @property
    def blocked_reason(self):
        return "; ".join(blocker.message for blocker in self.blockers)

    @property
    def result_label(self):
        return dict(RESULTS)[self.result]

    @property
    def departures(self):
        """Departures from the exam page counted over the candidate's attempts (the
        session's anti-cheating switches; the log is in each attempt's inspect view)."""
        return sum(attempt.departures for attempt in self.attempts)

    @property
    def date(self):
        best = self.best
        if best is None:
            return None
        return timezone.localtime(best.submitted_at or best.started_at).date()


class RegisterFilterForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    result = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=[("", gettext_lazy("Any result")), *RESULTS],
        required=False,
    )
    q = forms.CharField(
        label=gettext_lazy("Name, staff number or post"), required=False, max_length=64
    )

    def __init__(self, data=None, **kwargs):
        if data is not None and not data.get("year"):
            data = data.copy()
            data["year"] = timezone.localdate().year
        super().__init__(data, **kwargs)


def pre_appointment_sessions():
    return ExamSession.objects.filter(kind=SessionKind.PRE_APPOINTMENT)


def register(user, year, result="", q=""):
    """RegisterRows of the year's pre-appointment candidates the user may see."""
    candidates = SessionCandidate.objects.filter(
        session__kind=SessionKind.PRE_APPOINTMENT, session__year=year
    ).select_related("session", "official__user", "official__department")
    root = scope_root(user)
    if root is not None:
        candidates = candidates.filter(official__department__path__startswith=root.path)
    if q:
        candidates = candidates.filter(
            Q(official__user__name__icontains=q)
            | Q(official__staff_number__icontains=q)
            | Q(intended_post__icontains=q)
        )
    candidates = list(candidates.order_by("-session__opens_at", "session_id", "sort_order", "pk"))
    session_ids = {c.session_id for c in candidates}
    makeups = {}
    for makeup in ExamSession.objects.filter(makes_up_id__in=session_ids).order_by("opens_at"):
        makeups.setdefault(makeup.makes_up_id, []).append(makeup)
    root_of = {m.pk: m.makes_up_id for ms in makeups.values() for m in ms}
    attempts = {}
    for attempt in Attempt.objects.finished().filter(
        official_id__in={c.official_id for c in candidates},
        session_id__in=session_ids | set(root_of),
    ):
        key = (attempt.official_id, root_of.get(attempt.session_id, attempt.session_id))
        attempts.setdefault(key, []).append(attempt)
    rows = [
        RegisterRow(
            c, makeups.get(c.session_id, []), attempts.get((c.official_id, c.session_id), [])
        )
        for c in candidates
    ]
    if result in ("", NOT_TAKEN, BLOCKED):
        mark_blocked(rows)
    if result:
        rows = [row for row in rows if row.result == result]
    return rows


def mark_blocked(rows):
    """Set the blockers of candidates who have not sat their exam and may not start it
    yet (its credit gate): one batch per gated exam, however many candidates."""
    waiting = defaultdict(list)
    for row in rows:
        if not row.attempts and gate.has_gate(row.session):
            waiting[row.session.pk].append(row)
    for session_rows in waiting.values():
        session = session_rows[0].session
        blocked = gate.blocked_officials(session, [r.candidate.official_id for r in session_rows])
        for row in session_rows:
            row.blockers = blocked.get(row.candidate.official_id, [])


def certificate_attempt(user, pk):
    """The finished attempt of a pre-appointment exam (or its make-up) whose
    certificate the user may download; None when there is no such attempt or it is
    outside the user's scope."""
    attempt = (
        Attempt.objects.finished()
        .select_related("session__makes_up", "official__user", "official__department")
        .filter(pk=pk)
        .filter(
            Q(session__kind=SessionKind.PRE_APPOINTMENT)
            | Q(
                session__kind=SessionKind.MAKEUP,
                session__makes_up__kind=SessionKind.PRE_APPOINTMENT,
            )
        )
        .first()
    )
    if attempt is None or not can_see_official(user, attempt.official):
        return None
    return attempt


def headers():
    return [
        _("Staff number"),
        _("Name"),
        _("Department"),
        _("Intended post"),
        _("Exam"),
        _("Make-up exams"),
        _("Attempts"),
        _("Best score"),
        _("Best percentage"),
        _("Result"),
        _("Date"),
        _("Verification code"),
        _("Blocked by entry requirements"),
        _("Departures from the page"),
    ]


def xlsx_rows(rows):
    for row in rows:
        official: Official = row.official
        best = row.best
        yield [
            official.staff_number,
            official.name,
            official.department.name,
            row.candidate.intended_post,
            row.session.title,
            "、".join(m.title for m in row.makeups),
            len(row.attempts),
            float(best.score) if best is not None and best.score is not None else None,
            float(best.percent) if best is not None and best.percent is not None else None,
            str(row.result_label),
            row.date,
            best.verification_code if best is not None else "",
            row.blocked_reason,
            row.departures,
        ]
