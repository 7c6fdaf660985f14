"""The personal study record (学法档案) as a printable PDF: one official's year —
credit hours against the plan, each required item done or missing (with the date it
was done), lectures studied, collective study sessions, exams and court
observations. Completion comes from `learning.completion.evaluate`; the lists come
from a few bulk queries per chunk of officials, so a department's records print
with a bounded number of queries.

Every paragraph comes from exams.pdf, which escapes it: names and titles are shown
as typed, never read as reportlab markup. The text stays extractable (pypdf reads it
back)."""

import dataclasses
import datetime
from collections import defaultdict
from io import BytesIO

from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from learning.completion import evaluate, plans_for_year
from learning.lecture_requirements import completed_on, met_at_annotations, unmet_condition
from learning.models import Department, Official, SessionAttendance, StudyRecord
from learning.models.study import year_bounds

from .. import certificates, grading
from ..models import Attempt, AttemptState, Certificate, ExamSession
from ..observations.models import ATTENDED_STATUSES, Attendance
from ..pdf import font, paragraph

CHUNK_SIZE = 200


@dataclasses.dataclass
class RecordSheet:
    """Everything one official's printed record shows."""

    official: Official
    department_name: str
    year: int
    completion: object
    item_dates: dict
    lectures: list  # (title, credited minutes, completed date or None)
    sessions: list  # (date, title, credit minutes)
    exams: list  # (title, date, score text, band label, passed)
    observations: list  # (date, title, court, status label, credit minutes)
    certificates: list = dataclasses.field(default_factory=list)  # Certificate, by date


def _department_names():
    """{path: "Bureau / Office"} for every department, from one query."""
    names = dict(Department.objects.values_list("path", "name"))
    steplen = Department.steplen
    return {
        path: " / ".join(
            names[path[:end]]
            for end in range(steplen, len(path) + 1, steplen)
            if path[:end] in names
        )
        for path in names
    }


def _local_date(value):
    return timezone.localtime(value).date() if value else None


def record_sheets(officials, year, progress=None):
    """Yield a RecordSheet for each official (a queryset or list of Officials or
    primary keys), in department and staff-number order, chunk by chunk."""
    if hasattr(officials, "values_list"):
        ids = list(
            officials.order_by("department__path", "staff_number").values_list("pk", flat=True)
        )
    else:
        ids = [getattr(o, "pk", o) for o in officials]
    plans = plans_for_year(year)
    names = _department_names()
    for offset in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[offset : offset + CHUNK_SIZE]
        yield from _chunk_sheets(chunk, year, plans, names)
        if progress:
            progress(min(offset + CHUNK_SIZE, len(ids)), len(ids))


def _chunk_sheets(chunk, year, plans, names):
    """The RecordSheets of one chunk of officials, in the chunk's order (a fixed number
    of queries). Each list also notes in `item_dates` when a required item was done,
    the first date found winning: lectures, then sessions, exams and observations."""
    start, end = year_bounds(year)
    people = Official.objects.filter(pk__in=chunk).select_related("user", "department")
    people = {o.pk: o for o in people}
    completions = evaluate(chunk, year, plans)
    item_dates = defaultdict(dict)
    lectures = _lectures_studied(chunk, start, end, item_dates)
    sessions = _sessions_attended(chunk, start, end, item_dates)
    exams = _exams_taken(chunk, start, end, item_dates)
    observations = _observations_attended(chunk, start, end, item_dates)
    issued = _certificates_issued(chunk, year)
    sheets = []
    for official_id in chunk:
        official = people.get(official_id)
        if official is None:
            continue
        sheets.append(
            RecordSheet(
                official=official,
                department_name=names.get(official.department.path, official.department.name),
                year=year,
                completion=completions[official_id],
                item_dates=item_dates[official_id],
                lectures=lectures[official_id],
                sessions=sessions[official_id],
                exams=exams[official_id],
                observations=observations[official_id],
                certificates=issued[official_id],
            )
        )
    return sheets


def _lectures_studied(chunk, start, end, item_dates):
    """{official_id: [(title, credited minutes, completed date or None)]} (one query:
    what the lectures require besides credit time, a quiz, is read inside it)."""
    lectures = defaultdict(list)
    # A lecture with a required quiz is completed once that is passed too, by then.
    unmet = unmet_condition("lecture_id", "official_id", end)
    met = met_at_annotations("lecture_id", "official_id")
    rows = (
        StudyRecord.objects.filter(official_id__in=chunk)
        .filter(
            Q(last_heartbeat_at__gte=start, last_heartbeat_at__lt=end)
            | Q(completed_at__gte=start, completed_at__lt=end)
        )
        .order_by("started_at", "pk")
        .annotate(
            unmet=ExpressionWrapper(
                Value(False) if unmet is None else unmet, output_field=BooleanField()
            ),
            **met,
        )
        .values_list(
            "official_id",
            "lecture_id",
            "lecture__title",
            "credited_seconds",
            "completed_at",
            "unmet",
            *met,
        )
    )
    for official_id, lecture_id, title, seconds, completed_at, blocked, *met_on in rows:
        done = None if blocked else completed_on(dict(zip(met, met_on, strict=True)), completed_at)
        done_on = _local_date(done)
        lectures[official_id].append((title, seconds // 60, done_on))
        if done_on:
            item_dates[official_id].setdefault(f"lecture:{lecture_id}", done_on)
    return lectures


def _sessions_attended(chunk, start, end, item_dates):
    """{official_id: [(date, title, credit minutes)]} of collective study (one query)."""
    sessions = defaultdict(list)
    rows = (
        SessionAttendance.objects.filter(
            official_id__in=chunk, session__date__gte=start.date(), session__date__lt=end.date()
        )
        .order_by("session__date", "session_id")
        .values_list(
            "official_id",
            "session__date",
            "session__title",
            "session__credit_minutes",
            "session__lecture_id",
        )
    )
    for official_id, date, title, minutes, lecture_id in rows:
        sessions[official_id].append((date, title, minutes))
        if lecture_id:
            item_dates[official_id].setdefault(f"lecture:{lecture_id}", date)
    return sessions


def _exams_taken(chunk, start, end, item_dates):
    """{official_id: [(title, date, score text, band label, passed)]}: the counting
    attempt of each session, in the order first submitted (two queries). A pass also
    dates the session it makes up."""
    attempts = defaultdict(list)
    for attempt in (
        Attempt.objects.filter(official_id__in=chunk, submitted_at__gte=start, submitted_at__lt=end)
        .exclude(state=AttemptState.IN_PROGRESS)
        .only(
            "official_id",
            "session_id",
            "number",
            "state",
            "score",
            "max_score",
            "percent",
            "band",
            "passed",
            "submitted_at",
        )
    ):
        attempts[(attempt.official_id, attempt.session_id)].append(attempt)
    exam_sessions = ExamSession.objects.in_bulk({session_id for _o, session_id in attempts})
    exams = defaultdict(list)
    for (official_id, session_id), mine in sorted(
        attempts.items(), key=lambda item: min(a.submitted_at for a in item[1])
    ):
        session = exam_sessions[session_id]
        counting = grading.counting_attempt(session, mine)
        if counting is None:
            continue
        done_on = _local_date(counting.submitted_at)
        exams[official_id].append(
            (
                session.title,
                done_on,
                f"{counting.score:.1f} / {counting.max_score:.1f}",
                counting.get_band_display(),
                counting.passed,
            )
        )
        if counting.passed:
            key = f"exams.session:{session.makes_up_id or session.pk}"
            item_dates[official_id].setdefault(key, done_on)
    return exams


def _observations_attended(chunk, start, end, item_dates):
    """{official_id: [(date, title, court, status label, credit minutes)]} of the court
    observations attended, or made up by studying their case (补学: dated by the
    make-up, no observation credit, which the case's study time gave) (one query)."""
    observations = defaultdict(list)
    for attendance in (
        Attendance.objects.filter(
            Q(status__in=ATTENDED_STATUSES) | Q(made_up_at__isnull=False),
            official_id__in=chunk,
            observation__starts_at__gte=start,
            observation__starts_at__lt=end,
        )
        .select_related("observation")
        .order_by("observation__starts_at", "pk")
    ):
        observation = attendance.observation
        attended = attendance.status in ATTENDED_STATUSES
        done_on = _local_date(observation.starts_at if attended else attendance.made_up_at)
        observations[attendance.official_id].append(
            (
                done_on,
                observation.title,
                observation.court,
                attendance.get_status_display()
                if attended
                else pgettext("court observation make-up", "Made up"),
                observation.credit_minutes if attended else 0,
            )
        )
        item_dates[attendance.official_id].setdefault(
            f"exams.observation:{observation.pk}", done_on
        )
    return observations


def _certificates_issued(chunk, year):
    """{official_id: [Certificate]} dated in the year, revoked ones too (one query)."""
    issued = defaultdict(list)
    for certificate in Certificate.objects.filter(
        official_id__in=chunk, issued_on__year=year
    ).order_by("issued_on", "pk"):
        issued[certificate.official_id].append(certificate)
    return issued


class _Styles:
    def __init__(self):
        name = font()
        self.font = name
        self.title = ParagraphStyle(
            "title", fontName=name, fontSize=18, leading=24, alignment=1, spaceAfter=6
        )
        self.heading = ParagraphStyle(
            "heading", fontName=name, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4
        )
        self.body = ParagraphStyle("body", fontName=name, fontSize=9.5, leading=13, wordWrap="CJK")
        self.small = ParagraphStyle(
            "small", fontName=name, fontSize=8, leading=10, textColor=colors.grey
        )


def _date(value):
    return f"{value:%Y-%m-%d}" if value else "—"


def _table(styles, headers, rows, widths):
    data = [[paragraph(h, styles.body) for h in headers]]
    data += [[paragraph(cell, styles.body) for cell in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _section(styles, title, headers, rows, widths, empty):
    heading = paragraph(title, styles.heading)
    if not rows:
        return [heading, paragraph(empty, styles.body)]
    return [heading, _table(styles, headers, rows, widths)]


def _flowables(sheet, styles):
    """One official's record: who they are, their standing against the plans, what
    they did in the year, and when it was printed."""
    return [
        *_profile(sheet, styles),
        *_plan_standing(sheet, styles),
        *_study_sections(sheet, styles),
        *_exam_and_observation_sections(sheet, styles),
        *_certificate_section(sheet, styles),
        Spacer(1, 6 * mm),
        KeepTogether(
            paragraph(
                _("Printed %(when)s") % {"when": f"{timezone.localtime():%Y-%m-%d %H:%M}"},
                styles.small,
            )
        ),
    ]


def _profile(sheet, styles):
    """The title and the official's name, staff number, department and position."""
    official = sheet.official
    return [
        paragraph(_("Personal study record %(year)s") % {"year": sheet.year}, styles.title),
        _table(
            styles,
            [_("Name"), _("Staff number"), _("Department"), _("Position")],
            [
                [
                    official.name,
                    official.staff_number,
                    sheet.department_name,
                    official.position or "—",
                ]
            ],
            [32 * mm, 30 * mm, 78 * mm, 40 * mm],
        ),
        Spacer(1, 4 * mm),
    ]


def _plan_standing(sheet, styles):
    """Credit hours against the plans, the overall state and each required item done
    or missing; only the credit hours when no plan applies."""
    completion = sheet.completion
    if not completion.has_plan:
        return [
            paragraph(
                _("No study plan applies for this year. Credit hours: %(done)s")
                % {"done": completion.credited_hours},
                styles.body,
            )
        ]
    yes, no = _("Yes"), _("No")
    credit = _("Credit hours: %(done)s of %(required)s required (%(state)s)") % {
        "done": completion.credited_hours,
        "required": completion.required_hours,
        "state": _("met") if completion.credit_met else _("not met"),
    }
    overall = _("Complete") if completion.is_complete else _("Not complete")
    items = [(item, True) for item in completion.done] + [
        (item, False) for item in completion.missing
    ]
    return [
        paragraph(credit, styles.body),
        paragraph(
            _("Study plans: %(plans)s") % {"plans": "、".join(p.title for p in completion.plans)},
            styles.body,
        ),
        paragraph(_("Overall: %(state)s") % {"state": overall}, styles.body),
        *_section(
            styles,
            _("Required items"),
            [_("Kind"), _("Item"), _("Done"), _("Date")],
            [
                [
                    item.kind_label,
                    item.label,
                    yes if done else no,
                    _date(sheet.item_dates.get(item.key)) if done else "—",
                ]
                for item, done in items
            ],
            [28 * mm, 104 * mm, 20 * mm, 28 * mm],
            _("The plan requires no particular items."),
        ),
    ]


def _study_sections(sheet, styles):
    """The lectures studied and the collective study sessions attended."""
    return [
        *_section(
            styles,
            _("Lectures studied"),
            [_("Lecture"), _("Credited minutes"), _("Completed on")],
            [[title, minutes, _date(done_on)] for title, minutes, done_on in sheet.lectures],
            [120 * mm, 30 * mm, 30 * mm],
            _("No lectures studied this year."),
        ),
        *_section(
            styles,
            _("Collective study sessions attended"),
            [_("Date"), _("Study item"), _("Credit minutes")],
            [[_date(date), title, minutes] for date, title, minutes in sheet.sessions],
            [28 * mm, 122 * mm, 30 * mm],
            _("No collective study sessions attended this year."),
        ),
    ]


def _exam_and_observation_sections(sheet, styles):
    """The exams taken (counting attempts) and the court observations attended."""
    yes, no = _("Yes"), _("No")
    return [
        *_section(
            styles,
            _("Exams"),
            [_("Exam"), _("Date"), _("Score"), _("Band"), _("Passed")],
            [
                [title, _date(date), score, band, yes if passed else no]
                for title, date, score, band, passed in sheet.exams
            ],
            [74 * mm, 26 * mm, 32 * mm, 26 * mm, 22 * mm],
            _("No exams taken this year."),
        ),
        *_section(
            styles,
            _("Court observations attended"),
            [_("Date"), _("Court observation"), _("Court"), _("Attendance"), _("Credit minutes")],
            [
                [_date(date), title, court, status, minutes]
                for date, title, court, status, minutes in sheet.observations
            ],
            [24 * mm, 66 * mm, 40 * mm, 24 * mm, 26 * mm],
            _("No court observations attended this year."),
        ),
    ]


def _certificate_section(sheet, styles):
    """The certificates (合格证书) dated in the year, with their codes and state."""
    return _section(
        styles,
        _("Certificates"),
        [_("Certificate"), _("Date"), _("Verification code"), _("State")],
        [
            [
                f"{c.title}（{c.get_kind_display()}）",
                _date(c.issued_on),
                certificates.grouped_code(c.code),
                _("Revoked on %(date)s") % {"date": _date(_local_date(c.revoked_at))}
                if c.is_revoked
                else _("Valid"),
            ]
            for c in sheet.certificates
        ],
        [72 * mm, 22 * mm, 62 * mm, 24 * mm],
        _("No certificates this year."),
    )


def records_pdf(officials, year, progress=None):
    """One PDF with each official's record starting on a new page."""
    styles = _Styles()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_("Personal study record %(year)s") % {"year": year},
    )
    story = []
    for sheet in record_sheets(officials, year, progress=progress):
        if story:
            story.append(PageBreak())
        story += _flowables(sheet, styles)
    if not story:
        story.append(paragraph(_("No officials."), styles.body))
    document.build(story)
    return buffer.getvalue()


def record_pdf(official, year):
    """One official's record as PDF bytes. Asking for it issues the certificates of
    the year's study plans the official has completed."""
    certificates.issue_plan_certificates_for(official, year)
    return records_pdf([official], year)


def record_filename(official, year):
    name = _("Study record %(name)s %(year)s") % {"name": official.name, "year": year}
    return f"{name}.pdf"


def valid_year(value, today=None):
    """The year asked for in a request, or None if it is not a sensible year."""
    today = today or datetime.date.today()
    text = str(value or "").strip()
    if not text.isdigit():
        return None
    year = int(text)
    return year if 2000 <= year <= today.year + 1 else None
