"""Year-end figures for the organisation's annual rule-of-law report (年度法治政府建设
情况报告): lectures, collective study, speakers, exams, court observations and how
many officials completed the year's plan. Each figure is one aggregate query (the
completion share comes from `learning.completion.evaluate`). For a user limited to a
department subtree, figures about people (attendance, participants, completion)
count only that subtree; the events themselves are the organisation's."""

import dataclasses

from django.db.models import Avg, Count, Q, Sum
from django.utils.translation import gettext as _

from learning.completion import evaluate, plans_for_year
from learning.models import (
    CollectiveStudySession,
    LecturePage,
    Official,
    SessionAttendance,
)
from learning.models.study import year_bounds
from learning.spreadsheets import add_sheet, new_workbook, workbook_bytes

from ..models import Attempt, ExamSession, SessionKind
from ..observations.models import ATTENDED_STATUSES, Attendance, CourtObservation, Status
from .access import scope_root, visible_officials
from .behind import is_behind


@dataclasses.dataclass
class ExamFigures:
    kind: str
    label: str
    sessions: int = 0
    attempts: int = 0
    participants: int = 0
    passed: int = 0
    average_percent: float | None = None

    @property
    def pass_rate(self):
        return round(100 * self.passed / self.participants, 1) if self.participants else None


@dataclasses.dataclass
class YearEnd:
    year: int
    scope: object
    lectures_held: int
    lectures_published: int
    study_sessions: int
    study_attendances: int
    study_attendees: int
    study_credit_hours: float
    speakers: int
    exams: list
    observations: int
    observation_statuses: list  # [(status, label, count)]
    observation_attended: int
    officials: int
    officials_with_plan: int
    officials_complete: int

    @property
    def exams_held(self):
        return sum(e.sessions for e in self.exams)

    @property
    def exam_participants(self):
        return sum(e.participants for e in self.exams)

    @property
    def complete_share(self):
        if not self.officials_with_plan:
            return None
        return round(100 * self.officials_complete / self.officials_with_plan, 1)


def _people(queryset, root, field="official"):
    if root is None:
        return queryset
    return queryset.filter(**{f"{field}__department__path__startswith": root.path})


def year_end(user, year):
    """The year's figures as `user` may see them (see the module docstring)."""
    root = scope_root(user)
    start, end = year_bounds(year)
    lectures = LecturePage.objects.live().aggregate(
        held=Count("pk", filter=Q(date__year=year)),
        published=Count("pk", filter=Q(first_published_at__gte=start, first_published_at__lt=end)),
    )
    sessions = CollectiveStudySession.objects.filter(date__year=year)
    study_people = _study_attendance(year, root)
    speakers = _speaker_count(year, sessions)
    exams = exam_figures(year, end, root)
    observations = CourtObservation.objects.filter(starts_at__gte=start, starts_at__lt=end)
    counts = _observation_counts(observations, root)
    officials, with_plan, complete = _plan_completion(user, year)
    return YearEnd(
        year=year,
        scope=root,
        lectures_held=lectures["held"],
        lectures_published=lectures["published"],
        study_sessions=sessions.count(),
        study_attendances=study_people["attendances"],
        study_attendees=study_people["attendees"],
        study_credit_hours=round((study_people["credit_minutes"] or 0) / 60, 1),
        speakers=speakers,
        exams=exams,
        observations=observations.count(),
        observation_statuses=[
            (status, str(label), counts.get(status, 0)) for status, label in Status.choices
        ],
        observation_attended=sum(counts.get(s, 0) for s in ATTENDED_STATUSES),
        officials=officials,
        officials_with_plan=with_plan,
        officials_complete=complete,
    )


def _study_attendance(year, root):
    """Attendances, distinct attendees and credit minutes of the year's collective study
    by the officials in scope (one query)."""
    attendance = _people(SessionAttendance.objects.filter(session__date__year=year), root)
    return attendance.aggregate(
        attendances=Count("pk"),
        attendees=Count("official", distinct=True),
        credit_minutes=Sum("session__credit_minutes"),
    )


def _speaker_count(year, sessions):
    """Distinct speakers of the year's lectures and lecturers of its study sessions."""
    speaker_ids = set(
        LecturePage.objects.live()
        .filter(date__year=year, speakers__isnull=False)
        .values_list("speakers", flat=True)
    )
    speaker_ids.update(
        sessions.filter(lecturer__isnull=False).values_list("lecturer_id", flat=True)
    )
    return len(speaker_ids)


def exam_figures(year, end, root):
    """[ExamFigures] per kind of exam but practice: sessions opened in the year, and the
    attempts, participants and passes of the officials in scope (two queries)."""
    exams = {
        kind: ExamFigures(kind, str(label))
        for kind, label in SessionKind.choices
        if kind != SessionKind.PRACTICE
    }
    for kind, count in (
        ExamSession.objects.filter(year=year, opens_at__lt=end)
        .exclude(kind=SessionKind.PRACTICE)
        .values("kind")
        .annotate(count=Count("pk"))
        .values_list("kind", "count")
    ):
        exams[kind].sessions = count
    for row in (
        _people(Attempt.objects.finished().filter(session__year=year), root)
        .exclude(session__kind=SessionKind.PRACTICE)
        .values("session__kind")
        .annotate(
            attempts=Count("pk"),
            participants=Count("official", distinct=True),
            passed=Count("official", filter=Q(passed=True), distinct=True),
            average=Avg("percent"),
        )
    ):
        figures = exams[row["session__kind"]]
        figures.attempts = row["attempts"]
        figures.participants = row["participants"]
        figures.passed = row["passed"]
        figures.average_percent = (
            round(float(row["average"]), 1) if row["average"] is not None else None
        )
    return list(exams.values())


def _observation_counts(observations, root):
    """{status: count} of the officials in scope at the year's court observations."""
    return dict(
        _people(Attendance.objects.filter(observation__in=observations), root)
        .values("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )


def _plan_completion(user, year):
    """(active officials in scope, those with a plan, those of them not behind it)."""
    official_ids = list(
        visible_officials(user, Official.objects.active()).values_list("pk", flat=True)
    )
    completions = evaluate(official_ids, year, plans_for_year(year))
    with_plan = [c for c in completions.values() if c.has_plan]
    complete = [c for c in with_plan if not is_behind(c)]
    return len(official_ids), len(with_plan), len(complete)


def summary_rows(figures):
    """(section, item, value) rows: the page, the print view and the xlsx say the same."""
    rows = [
        (_("Lectures"), _("Lectures held"), figures.lectures_held),
        (_("Lectures"), _("Lectures published"), figures.lectures_published),
        (_("Lectures"), _("Distinct speakers"), figures.speakers),
        (_("Collective study"), _("Sessions held"), figures.study_sessions),
        (_("Collective study"), _("Attendances"), figures.study_attendances),
        (_("Collective study"), _("Officials attending"), figures.study_attendees),
        (_("Collective study"), _("Credit hours awarded"), figures.study_credit_hours),
        (_("Exams"), _("Exam sessions held"), figures.exams_held),
        (_("Exams"), _("Participants"), figures.exam_participants),
        (_("Court observations"), _("Observations held"), figures.observations),
        (_("Court observations"), _("Attended (present or late)"), figures.observation_attended),
    ]
    rows.extend(
        (_("Court observations"), label, count)
        for _status, label, count in figures.observation_statuses
    )
    rows.extend(
        [
            (_("Study plan"), _("Officials"), figures.officials),
            (_("Study plan"), _("Officials with a plan"), figures.officials_with_plan),
            (_("Study plan"), _("Officials who completed it"), figures.officials_complete),
            (_("Study plan"), _("Completed (%)"), figures.complete_share),
        ]
    )
    return rows


def exam_headers():
    return [
        _("Exam kind"),
        _("Sessions held"),
        _("Attempts"),
        _("Participants"),
        _("Passed"),
        _("Pass rate (%)"),
        _("Average percentage"),
    ]


def exam_rows(figures):
    for exam in figures.exams:
        yield [
            exam.label,
            exam.sessions,
            exam.attempts,
            exam.participants,
            exam.passed,
            exam.pass_rate,
            exam.average_percent,
        ]


def workbook(figures):
    book = new_workbook()
    add_sheet(
        book, _("Year-end figures"), [_("Section"), _("Item"), _("Value")], summary_rows(figures)
    )
    add_sheet(
        book, _("Exams"), exam_headers(), exam_rows(figures), number_formats={5: "0.0", 6: "0.0"}
    )
    return workbook_bytes(book)
