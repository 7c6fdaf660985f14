"""The completion report (学法完成情况): per department, for one year, how many officials
have done what their study plans require, with the annual exam, pre-appointment exams
and court observations beside it.

Every completion number comes from `learning.completion.evaluate`, so the report and an
official's own record (/me/record/) cannot disagree. Officials are listed under the
department they belonged to on the year's reporting day (its last day, or today while
it runs; `learning.models.departments_at`), once, with all their credit of the year
wherever it was earned. Officials who joined after the reporting day are left out.
Exempted officials are counted and shown, but left out of the share complete.

The query count does not depend on the number of officials (up to REPORT_CHUNK, past
which `evaluate` adds a handful of queries per further chunk): the exam and observation
figures come from a few grouped queries over the whole year, filtered in Python.

`build_report` and `report_xlsx` are called by name by the background export jobs.
"""

import dataclasses
import functools
from collections import Counter, defaultdict, namedtuple

from django.db import router
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exams import grading
from exams.models import Attempt, AttemptState, ExamSession, SessionKind
from exams.models.sessions import SessionCandidate, SessionOverride
from exams.observations.models import ATTENDED_STATUSES, Attendance
from learning import spreadsheets
from learning.briefings.report import official_counts as briefing_counts
from learning.completion import cyclic_gc_paused, evaluate, plans_for_year
from learning.models import Department, Official, User, departments_at, reporting_day
from learning.models.study import year_bounds

from .access import scope_root, visible_departments

# Officials evaluated per `evaluate` chunk: large enough that a district's report is one.
# Each chunk scans the year's attendance and attempts again, so fewer is faster
# (issue #6: 50,000 officials in five chunks, 0.53 s in SQL; in one, 0.39 s).
REPORT_CHUNK = 50_000
# What the report reads of an official and their account: plain values, since a whole
# organisation's worth of model instances costs more than the rest of the report.
REPORT_OFFICIAL_FIELDS = (
    "id",
    "staff_number",
    "position",
    "rank",
    "is_leader",
    "joined_on",
    "department_id",
    "user_id",
)
REPORT_USER_FIELDS = ("id", "username", "name", "first_name", "last_name")


_USER_VALUES = tuple(f"user_{name}" for name in REPORT_USER_FIELDS[1:])


class ReportedOfficial(namedtuple("ReportedOfficial", [*REPORT_OFFICIAL_FIELDS, *_USER_VALUES])):
    """An official as the report reads them (REPORT_OFFICIAL_FIELDS and the user's
    REPORT_USER_FIELDS), with the model instances made only when asked for."""

    __slots__ = ()

    @property
    def pk(self):
        return self.id

    @property
    def name(self):
        return User.full_name(
            self.user_name, self.user_first_name, self.user_last_name, self.user_username
        )

    def instance(self):
        """The Official and its user these values were read from, the other fields
        deferred, as `Official.objects.select_related("user").only(...)` loads them."""
        values = self._asdict()
        names = _field_names(Official, REPORT_OFFICIAL_FIELDS)
        db = router.db_for_read(Official)
        official = Official.from_db(db, names, [values[n] for n in names])
        values = {"id": self.user_id, **{n: values[f"user_{n}"] for n in REPORT_USER_FIELDS[1:]}}
        names = _field_names(User, REPORT_USER_FIELDS)
        official.user = User.from_db(router.db_for_read(User), names, [values[n] for n in names])
        return official


def _field_names(model, names):
    return [field.attname for field in model._meta.concrete_fields if field.attname in names]


LECTURE_KINDS = ("lecture", "series")
PASSED, FAILED, NOT_TAKEN = "passed", "failed", "not_taken"
HISTOGRAM_BUCKETS = 10


@dataclasses.dataclass
class OfficialRow:
    """One official in the report: profile, reporting department and Completion."""

    profile: ReportedOfficial
    department: Department
    completion: object
    exam: str = ""  # PASSED, FAILED, NOT_TAKEN, or "" when no annual exam expects them
    exam_percent: object = None  # the counting attempt's percentage
    pre_appointment: str = ""  # the same for pre-appointment exams they are named for
    observations: int = 0  # court observations attended in the year
    # 明白纸 of the year: (sheets meant for them, sheets they confirmed)
    briefings: tuple = (0, 0)

    @functools.cached_property
    def official(self):
        """The Official instance (made on first use: the department page and the
        official's record need one, the report and its export only the profile)."""
        return self.profile.instance()

    @property
    def exempt(self):
        return self.completion.exempt

    @property
    def is_complete(self):
        return self.completion.is_complete

    @functools.cached_property
    def lectures_required(self):
        return sum(1 for item in self.completion.required_items if item.kind in LECTURE_KINDS)

    @functools.cached_property
    def lectures_done(self):
        return sum(1 for item in self.completion.done if item.kind in LECTURE_KINDS)

    @staticmethod
    def status_label(status):
        return str(STATUS_LABELS.get(status, ""))

    @property
    def exam_label(self):
        return self.status_label(self.exam)

    @property
    def pre_appointment_label(self):
        return self.status_label(self.pre_appointment)


STATUS_LABELS = {
    PASSED: gettext_lazy("Passed"),
    FAILED: gettext_lazy("Failed"),
    NOT_TAKEN: gettext_lazy("Not taken"),
}


@dataclasses.dataclass
class DepartmentRow:
    """Figures of a group of officials: one department's own officials, or the total."""

    department: Department | None
    headcount: int = 0
    exempt: int = 0
    complete: int = 0  # complete and not exempt
    credited_seconds: int = 0
    required_seconds: int = 0
    lectures_done: int = 0
    lectures_required: int = 0
    exam_passed: int = 0
    exam_failed: int = 0
    exam_not_taken: int = 0
    pre_passed: int = 0
    pre_failed: int = 0
    pre_not_taken: int = 0
    observations: int = 0
    briefings_expected: int = 0  # 明白纸: person × sheet pairs of the year
    briefings_confirmed: int = 0

    def add(self, row):
        self.headcount += 1
        self.briefings_expected += row.briefings[0]
        self.briefings_confirmed += row.briefings[1]
        completion = row.completion
        self.credited_seconds += completion.credited_seconds
        self.required_seconds += completion.required_seconds
        self.lectures_done += row.lectures_done
        self.lectures_required += row.lectures_required
        self.observations += row.observations
        if row.exempt:
            self.exempt += 1
        elif completion.is_complete:
            self.complete += 1
        for prefix, status in (("exam", row.exam), ("pre", row.pre_appointment)):
            if status:
                field = f"{prefix}_{status}"
                setattr(self, field, getattr(self, field) + 1)

    def merge(self, other):
        """Add another group's figures to these (the total of the departments)."""
        for field in dataclasses.fields(self):
            if field.name != "department":
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    @property
    def counted(self):
        """Officials the share complete is taken over: everyone but the exempted."""
        return self.headcount - self.exempt

    @property
    def complete_share(self):
        return self.complete / self.counted if self.counted else None

    @property
    def complete_percent(self):
        share = self.complete_share
        return None if share is None else round(100 * share, 1)

    @property
    def briefings_share(self):
        """Share of the year's 明白纸 confirmed (0–1), None when none was meant for them."""
        expected = self.briefings_expected
        return self.briefings_confirmed / expected if expected else None

    @property
    def briefings_percent(self):
        share = self.briefings_share
        return None if share is None else round(100 * share, 1)

    @property
    def credited_hours(self):
        return round(self.credited_seconds / 3600, 1)

    @property
    def required_hours(self):
        return round(self.required_seconds / 3600, 1)


@dataclasses.dataclass
class CompletionReport:
    year: int
    department: Department | None
    leaders_only: bool
    position: str
    rank: str
    rows: list  # DepartmentRow per department with officials, in tree order
    totals: DepartmentRow
    officials: list  # OfficialRow, by department then staff number
    has_annual_exam: bool
    has_pre_appointment: bool
    histogram: list  # (label, count) of the annual exam's percentages
    full_names: dict  # {department.pk: "top / … / department"}

    @property
    def has_briefings(self):
        """Whether any 明白纸 of the year was meant for the officials reported on."""
        return self.totals.briefings_expected > 0

    def officials_of(self, department):
        """Rows of officials the report lists under `department` or below it."""
        return [r for r in self.officials if r.department.path.startswith(department.path)]


def report_officials(
    year, *, user, department=None, leaders_only=False, position="", rank="", only=None
):
    """[(ReportedOfficial, reporting department)] the user may see for the year: active officials
    whose department on the reporting day lies in the user's scope (and under
    `department`), who had joined by then, filtered by profile (and to the primary
    keys in `only`, when given). Four queries."""
    day = reporting_day(year)
    officials = Official.objects.active()
    if only is not None:
        officials = officials.filter(pk__in=list(only))
    if leaders_only:
        officials = officials.leaders()
    if position:
        officials = officials.filter(position=position)
    if rank:
        officials = officials.filter(rank=rank)
    # Unordered: Official's default order joins the department and sorts on disk, and
    # the officials are sorted here by where they were on the day anyway.
    officials = officials.exclude(joined_on__gt=day).order_by()
    placed = departments_at(officials, day)
    departments = Department.objects.in_bulk(set(placed.values()))
    prefixes = [d.path for d in (scope_root(user), department) if d is not None]
    chosen = []
    fields = [*REPORT_OFFICIAL_FIELDS, *(f"user__{name}" for name in REPORT_USER_FIELDS[1:])]
    for official in map(ReportedOfficial._make, officials.values_list(*fields)):
        where = departments.get(placed.get(official.pk))
        if where is None or not all(where.path.startswith(p) for p in prefixes):
            continue
        chosen.append((official, where))
    chosen.sort(key=lambda pair: (pair[1].path, pair[0].staff_number))
    return chosen


def build_report(
    year, *, user, department=None, leaders_only=False, position="", rank="", only=None
):
    """The completion report for `year` as `user` may see it (see the module docstring);
    `only`: primary keys of the officials to report on (one official's record)."""
    with cyclic_gc_paused():
        return _build_report(year, user, department, leaders_only, position, rank, only)


def _build_report(year, user, department, leaders_only, position, rank, only):
    chosen = report_officials(
        year,
        user=user,
        department=department,
        leaders_only=leaders_only,
        position=position,
        rank=rank,
        only=only,
    )
    ids = [official.id for official, _where in chosen]
    plans = plans_for_year(year)
    completions = evaluate(ids, year, plans, chunk_size=REPORT_CHUNK)
    joined = {official.id: official.joined_on for official, _where in chosen}
    annual, annual_percent, has_annual = _exam_status(year, SessionKind.ANNUAL, chosen, joined)
    pre, _percent, has_pre = _exam_status(year, SessionKind.PRE_APPOINTMENT, chosen, joined)
    observations, briefings = _observations_attended(year), _briefing_counts(year, chosen)

    rows_by_department, totals = {}, DepartmentRow(None)
    official_rows, percents = [], []
    for official, where in chosen:
        pk = official.id
        completion = completions[pk]
        row = OfficialRow(
            profile=official,
            department=where,
            completion=completion,
            exam=annual.get(pk, ""),
            exam_percent=annual_percent.get(pk),
            pre_appointment=pre.get(pk, ""),
            observations=observations.get(pk, 0),
            briefings=briefings.get(pk, (0, 0)),
        )
        if completion.exempt and row.exam == NOT_TAKEN:
            row.exam = ""  # nothing is expected of an exempted official
        if completion.exempt and row.pre_appointment == NOT_TAKEN:
            row.pre_appointment = ""
        official_rows.append(row)
        department_row = rows_by_department.get(where.pk)
        if department_row is None:
            department_row = rows_by_department[where.pk] = DepartmentRow(where)
        department_row.add(row)
        if row.exam_percent is not None:
            percents.append(row.exam_percent)
    for department_row in rows_by_department.values():
        totals.merge(department_row)
    return CompletionReport(
        year=year,
        department=department,
        leaders_only=leaders_only,
        position=position,
        rank=rank,
        rows=sorted(rows_by_department.values(), key=lambda r: r.department.path),
        totals=totals,
        officials=official_rows,
        has_annual_exam=has_annual,
        has_pre_appointment=has_pre,
        histogram=_histogram(percents),
        full_names=_full_names(r.department for r in rows_by_department.values()),
    )


def _briefing_counts(year, chosen):
    """{official_id: (明白纸 of the year meant for them, confirmed)} (learning.briefings)."""
    return briefing_counts([(o.id, o.is_leader, where.path) for o, where in chosen], year)


def _full_names(departments):
    """{department.pk: its names from the top of the tree down} in one query."""
    departments = list(departments)
    paths = {d.path[: i * Department.steplen] for d in departments for i in range(1, d.depth + 1)}
    names = dict(Department.objects.filter(path__in=paths).values_list("path", "name"))
    return {
        d.pk: " / ".join(
            names.get(d.path[: i * Department.steplen], "") for i in range(1, d.depth + 1)
        )
        for d in departments
    }


def _histogram(percents):
    """Counts of percentages in ten bands: 0–9, 10–19, …, 90–100."""
    counts = Counter(min(HISTOGRAM_BUCKETS - 1, int(p) // 10) for p in percents)
    bands = []
    for band in range(HISTOGRAM_BUCKETS):
        low = band * 10
        high = 100 if band == HISTOGRAM_BUCKETS - 1 else low + 9
        bands.append((f"{low}–{high}", counts.get(band, 0)))
    return bands


def _exam_status(year, kind, chosen, joined):
    """({official_id: status}, {official_id: percent}, any sessions) for the year's exam
    sessions of `kind` and their make-ups. An official is expected at a session when
    its audience includes them (everyone, leaders, departments, named candidates or
    overrides) and it had not closed before they joined. Five queries."""
    sessions = list(
        ExamSession.objects.filter(year=year, kind=kind).prefetch_related("departments")
    )
    if not sessions:
        return {}, {}, False
    session_ids = [s.pk for s in sessions]
    makeups = {
        s.pk: s
        for s in ExamSession.objects.filter(makes_up_id__in=session_ids).only(
            "pk", "makes_up_id", "grading"
        )
    }
    audiences = _audiences(sessions, _named_officials(session_ids))
    attempts = _finished_attempts([*session_ids, *makeups])
    by_id = {s.pk: s for s in sessions} | makeups
    status, percent = {}, {}
    for official, where in chosen:
        pk = official.id
        expected = _is_expected(official, where, joined.get(pk), audiences)
        tries = attempts.get(pk)
        counting = _counting_results(tries, by_id) if tries else []
        if counting:
            status[pk] = PASSED if any(r.passed for r in counting) else FAILED
            main = [r for r in counting if r.session_id not in makeups]
            if main and any(r.percent is not None for r in main):
                percent[pk] = max(r.percent for r in main if r.percent is not None)
        elif expected:
            status[pk] = NOT_TAKEN
    return status, percent, True


def _named_officials(session_ids):
    """{session_id: {official_id}} named as candidates or given an override (two queries)."""
    named = defaultdict(set)
    for model in (SessionCandidate, SessionOverride):
        for session_id, official_id in model.objects.filter(session_id__in=session_ids).values_list(
            "session_id", "official_id"
        ):
            named[session_id].add(official_id)
    return named


def _finished_attempts(session_ids):
    """{official_id: [AttemptResult]} of the finished attempts in the sessions (one query)."""
    attempts = defaultdict(list)
    for attempt in map(
        grading.AttemptResult._make,
        Attempt.objects.filter(session_id__in=session_ids)
        .exclude(state=AttemptState.IN_PROGRESS)
        .order_by()  # Attempt's default order joins sessions, officials and departments
        .values_list(*grading.AttemptResult._fields),
    ):
        attempts[attempt.official_id].append(attempt)
    return attempts


def _audiences(sessions, named):
    """Who each session expects, as plain values checked once per official: (the day
    it closes, everyone, leaders, named official ids, departments' subtree paths)."""
    return [
        (
            s.closes_at.date(),
            s.for_everyone,
            s.for_leaders,
            named[s.pk],
            tuple(d.path for d in s.departments.all()),
        )
        for s in sessions
    ]


def _is_expected(official, where, joined_on, audiences):
    """Whether a session of `audiences` expects the official, placed in `where`, who
    joined on `joined_on` (None: there all along)."""
    pk = official.id
    return any(
        (joined_on is None or closes >= joined_on)
        and (
            everyone
            or pk in names
            or (leaders and official.is_leader)
            or where.path.startswith(paths)
        )
        for closes, everyone, leaders, names, paths in audiences
    )


def _counting_results(tries, by_id):
    """The attempt that counts in each session the official tried (grading's rule)."""
    mine = defaultdict(list)
    for attempt in tries:
        mine[attempt.session_id].append(attempt)
    return [
        result
        for session_id, attempts in mine.items()
        if (result := grading.counting_attempt(by_id[session_id], attempts)) is not None
    ]


def _observations_attended(year):
    """{official_id: court observations attended (present or late) in the year}."""
    start, end = year_bounds(year)
    return dict(
        Attendance.objects.filter(
            status__in=ATTENDED_STATUSES,
            observation__starts_at__gte=start,
            observation__starts_at__lt=end,
        )
        .values("official_id")
        .annotate(n=Count("pk"))
        .values_list("official_id", "n")
    )


def department_headers():
    return [
        _("Department"),
        _("Headcount"),
        _("Exempted"),
        _("Credit hours done"),
        _("Credit hours required"),
        _("Required lectures done"),
        _("Required lectures"),
        _("Annual exam passed"),
        _("Annual exam failed"),
        _("Annual exam not taken"),
        _("Pre-appointment passed"),
        _("Pre-appointment failed"),
        _("Pre-appointment not taken"),
        _("Court observations attended"),
        _("Complete"),
        _("Share complete (exempted excluded)"),
        _("Briefing sheets confirmed"),
    ]


def department_values(row, label):
    share = row.complete_share
    return [
        label,
        row.headcount,
        row.exempt,
        row.credited_hours,
        row.required_hours,
        row.lectures_done,
        row.lectures_required,
        row.exam_passed,
        row.exam_failed,
        row.exam_not_taken,
        row.pre_passed,
        row.pre_failed,
        row.pre_not_taken,
        row.observations,
        row.complete,
        None if share is None else round(share, 4),
        None if row.briefings_share is None else round(row.briefings_share, 4),
    ]


def official_headers():
    return [
        _("Department"),
        _("Staff number"),
        _("Name"),
        _("Position"),
        _("Rank"),
        _("Leader"),
        _("Joined on"),
        _("Credit hours done"),
        _("Credit hours required"),
        _("Required lectures done"),
        _("Required lectures"),
        _("Annual exam"),
        _("Annual exam percentage"),
        _("Pre-appointment exam"),
        _("Court observations attended"),
        _("Missing"),
        _("Status"),
    ]


def official_labels():
    """The words official_values writes, translated once for a whole sheet."""
    return {
        "yes": _("Yes"),
        "no": _("No"),
        "exempted": _("Exempted"),
        "complete": _("Complete"),
        "not_complete": _("Not complete"),
        **{status: str(label) for status, label in STATUS_LABELS.items()},
    }


def official_status_label(row, labels=None):
    labels = labels or official_labels()
    if row.exempt:
        return labels["exempted"]
    return labels["complete"] if row.is_complete else labels["not_complete"]


def official_values(row, labels=None):
    """The cells of an official's row; `labels`: official_labels(), when writing many."""
    labels = labels or official_labels()
    completion = row.completion
    official = row.profile
    return [
        row.department.name,
        official.staff_number,
        official.name,
        official.position,
        official.rank,
        labels["yes"] if official.is_leader else labels["no"],
        official.joined_on,
        completion.credited_hours,
        completion.required_hours,
        row.lectures_done,
        row.lectures_required,
        labels.get(row.exam, ""),
        None if row.exam_percent is None else float(row.exam_percent),
        labels.get(row.pre_appointment, ""),
        row.observations,
        "、".join(item.label for item in completion.missing),
        official_status_label(row, labels),
    ]


def report_xlsx(report, progress=None):
    """The report as an xlsx workbook (bytes): a sheet of departments with the total
    last, and a sheet of officials. `progress(done, total)` is called as rows are
    written, for background jobs to show."""
    with cyclic_gc_paused():  # a row's cells are short-lived; no cycles to find
        return _report_xlsx(report, progress)


def _report_xlsx(report, progress):
    total = len(report.rows) + len(report.officials)
    done = 0
    step = max(1, total // 20)

    def tick(rows):
        nonlocal done
        for row in rows:
            yield row
            done += 1
            if progress is not None and (done % step == 0 or done == total):
                progress(done, total)

    workbook = spreadsheets.new_workbook()
    labels = official_labels()
    names = report.full_names
    department_rows = [department_values(r, names[r.department.pk]) for r in report.rows]
    spreadsheets.add_sheet(
        workbook,
        _("Departments"),
        department_headers(),
        [
            *tick(department_rows),
            department_values(report.totals, _("Total")),
        ],
        number_formats={3: "0.0", 4: "0.0", 15: "0.0%", 16: "0.0%"},
    )
    spreadsheets.add_sheet(
        workbook,
        _("Officials"),
        official_headers(),
        tick(official_values(r, labels) for r in report.officials),
        number_formats={6: "yyyy-mm-dd", 7: "0.0", 8: "0.0", 12: "0.0"},
    )
    if progress is not None and total == 0:
        progress(0, 0)
    return spreadsheets.workbook_bytes(workbook)


def visible_department_choices(user):
    """Departments the user may pick as the report's subtree."""
    return visible_departments(user)


__all__ = [
    "CompletionReport",
    "DepartmentRow",
    "OfficialRow",
    "build_report",
    "report_officials",
    "report_xlsx",
]
