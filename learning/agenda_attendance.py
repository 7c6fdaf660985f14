"""A meeting's sign-in list (签到表) as attendance of its collective-study record,
through the shared two-step import (learning/imports.py, learning/import_jobs.py).

The list is read as offices keep it (learning/tabular.py: title rows, merged cells,
WPS, .xls, GBK CSV, full-width staff numbers). Each row names an official by staff
number, or by name with the department when the name alone is not unique. A row that
names nobody, or more than one official, or whose staff number belongs to someone
else, is a problem: the file imports nothing until it is corrected, so no attendance
is ever credited to the wrong person. Rows marked as leave or absence are skipped.

The preview says whom the file names, and which of them the record already has as
attending (they change nothing); the record it goes to is chosen with the upload and
carried in the job's options to the confirmation, where officials already recorded
count as unchanged."""

import dataclasses
from collections import defaultdict

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from .agenda import add_attendees
from .imports import Change, Importer, PlanChanged, Preview
from .models import CollectiveStudySession, Department, Official, SessionAttendance, User
from .spreadsheets import new_workbook, workbook_bytes
from .tabular import (
    Field,
    Problem,
    TableError,
    clean_name,
    clean_text,
    half_width,
    normalise_identifier,
    read_table,
)

KIND = "meeting_attendance"
PERMISSION = "learning.change_collectivestudysession"
MAX_ROWS = 5_000

FIELDS = (
    Field(
        "name",
        gettext_lazy("Name"),
        ("姓名", "名字", "参会人员", "参会人", "签到人", "name"),
        required=True,
    ),
    Field(
        "staff_number",
        gettext_lazy("Staff number"),
        ("工号", "人员编号", "职工编号", "员工编号", "人事编号", "staff number", "staff_number"),
    ),
    Field(
        "department",
        gettext_lazy("Department"),
        ("部门", "单位", "所在部门", "所在单位", "工作单位", "单位名称", "部门名称", "department"),
    ),
    Field(
        "section", pgettext_lazy("department", "Section"), ("科室", "处室", "内设机构", "section")
    ),
    Field(
        "status",
        gettext_lazy("Attendance"),
        ("签到情况", "出席情况", "参会情况", "是否参会", "是否出席", "出勤", "attendance"),
    ),
)
# What an attendance cell may say: present (or blank: the row is on the list), or away.
PRESENT_WORDS = {
    "",
    "出席",
    "参会",
    "到",
    "已到",
    "到会",
    "是",
    "√",
    "✓",
    "签到",
    "已签到",
    "present",
}
AWAY_WORDS = {
    "请假", "缺席", "未到", "否", "公差", "出差", "病假", "事假", "×", "✗", "absent", "leave",
}  # fmt: skip
PATH_SEPARATORS = ("／", "\\", "＼", ">", "＞", "›", "/")


@dataclasses.dataclass
class Plan:
    official_ids: list


def _key(text):
    return "".join(half_width(text).split())


class _Officials:
    """Active officials by staff number and by name, with the names of every
    department on the way to theirs (a sign-in list may say "区政府办公室" for an
    official of its 秘书科)."""

    def __init__(self):
        departments = {d.path: d.name for d in Department.objects.only("path", "name")}
        step = Department.steplen
        rows = (
            Official.objects.active()
            .select_related("user", "department")
            .only("pk", "staff_number", "user__name", "user__username", "department__path")
        )
        self.by_number, self.by_name, self.places = {}, defaultdict(list), {}
        self.labels, self.departments = {}, {}
        for official in rows:
            path = official.department.path
            names = [departments[path[:i]] for i in range(step, len(path) + 1, step)]
            self.places[official.pk] = {_key(name) for name in names}
            self.departments[official.pk] = names[-1]
            name = official.user.name or official.user.username
            self.labels[official.pk] = f"{name} ({official.staff_number})"
            self.by_number[normalise_identifier(official.staff_number)] = (official.pk, name)
            self.by_name[clean_name(name)].append(official.pk)

    def in_place(self, candidates, parts):
        return [pk for pk in candidates if parts <= self.places[pk]]


def _place_parts(cells):
    text = f"{cells['department']}/{cells['section']}"
    for separator in PATH_SEPARATORS:
        text = text.replace(separator, "/")
    return {_key(part) for part in text.split("/") if _key(part)}


def _cells(row):
    values = row.values
    return {
        "name": clean_name(values.get("name", "")),
        "staff_number": normalise_identifier(values.get("staff_number", "")),
        "department": clean_text(values.get("department", "")),
        "section": clean_text(values.get("section", "")),
        "status": _key(values.get("status", "")).lower(),
    }


def _match(cells, officials, problem):
    """The official the row names, or None (with the reason given to `problem`)."""
    name, number = cells["name"], cells["staff_number"]
    if number:
        found = officials.by_number.get(number)
        if found is None:
            problem("staff_number", _("No active official has the staff number %s.") % number)
            return None
        pk, recorded = found
        if name and clean_name(recorded) != name:
            problem(
                "name",
                _("Staff number %(number)s belongs to %(recorded)s, not %(name)s.")
                % {"number": number, "recorded": recorded, "name": name},
            )
            return None
        return pk
    candidates = officials.by_name.get(name, [])
    if not candidates:
        problem("name", _("No active official is called %s.") % name)
        return None
    parts = _place_parts(cells)
    if parts:
        candidates = officials.in_place(candidates, parts)
        if not candidates:
            place = " / ".join(filter(None, (cells["department"], cells["section"])))
            problem(
                "department",
                _("No official called %(name)s works in %(place)s.")
                % {"name": name, "place": place},
            )
            return None
    if len(candidates) > 1:
        places = "、".join(sorted(officials.departments[pk] for pk in candidates))
        problem(
            "name",
            _(
                "More than one official is called %(name)s (%(places)s): add the staff "
                "number or the department."
            )
            % {"name": name, "places": places},
        )
        return None
    return candidates[0]


def _read(data, filename):
    try:
        return read_table(data, filename, FIELDS, max_rows=MAX_ROWS), []
    except TableError as error:
        return None, error.problems


def plan_file(data, filename, session_id=None, progress=None):
    """(Preview, Plan or None): whom the sign-in list names as present; with the
    record, those it already has are listed as skipped, already recorded. The plan
    (and so the fingerprint) is the same either way."""
    preview = Preview(kind=KIND)
    table, problems = _read(data, filename)
    if table is None:
        preview.errors = problems
        return preview.seal(None), None
    preview.warnings = list(table.warnings)
    preview.rows = len(table.rows)
    officials = _Officials()
    officials.recorded = _recorded(session_id)
    columns = table.columns
    first_row = {}
    for done, row in enumerate(table.rows, start=1):
        _plan_row(row, columns, officials, preview, first_row)
        if progress is not None:
            progress(done, len(table.rows))
    plan = Plan(official_ids=sorted(first_row))
    preview.seal(plan.official_ids)
    if preview.errors:
        return preview, None
    return preview, plan


def _recorded(session_id):
    """The officials the record already has as attending (none without a record)."""
    if session_id is None:
        return set()
    return set(
        SessionAttendance.objects.filter(session_id=session_id).values_list(
            "official_id", flat=True
        )
    )


def _plan_row(row, columns, officials, preview, first_row):
    cells = _cells(row)

    def problem(key, message):
        preview.errors.append(Problem(row.number, columns.get(key, ""), message))

    if not cells["name"]:
        problem("name", _("This value is required."))
        return
    status = cells["status"]
    if status not in PRESENT_WORDS | AWAY_WORDS:
        problem("status", _("Write 出席 or 请假 (or leave it blank for present)."))
        return
    pk = _match(cells, officials, problem)
    if pk is None:
        return
    label = officials.labels[pk]
    if status in AWAY_WORDS:
        reason = _("Marked “%s”: not recorded as present.") % row.values.get("status", "")
        preview.skipped.append(Change(row.number, label, [("", "", reason)]))
        return
    if pk in first_row:
        preview.warnings.append(
            Problem(
                row.number,
                "",
                _("%(official)s is already listed in row %(row)s; counted once.")
                % {"official": label, "row": first_row[pk]},
            )
        )
        return
    first_row[pk] = row.number
    if pk in officials.recorded:
        preview.unchanged += 1
        preview.skipped.append(
            Change(row.number, label, [("", "", _("Already recorded as attending."))])
        )
        return
    preview.created.append(
        Change(row.number, label, [(_("Department"), "", officials.departments[pk])])
    )


def apply_file(data, filename, fingerprint, options, progress=None):
    """Record the file's officials as attending the session `options["session"]`, if
    the file still names whom the confirmed preview named."""
    session = CollectiveStudySession.objects.get(pk=options["session"])
    user = User.objects.filter(pk=options.get("requested_by")).first()
    with transaction.atomic():
        preview, plan = plan_file(data, filename)
        if plan is None or preview.fingerprint != fingerprint:
            raise PlanChanged
        added, unchanged = add_attendees(session, plan.official_ids, user=user)
    return {
        "created": added,
        "updated": 0,
        "unchanged": unchanged,
        "skipped": preview.counts["skipped"],
        "session": session.pk,
    }


class AttendanceImporter(Importer):
    """The sign-in list import, offered from a collective-study record's attendance."""

    kind = KIND
    label = gettext_lazy("Meeting sign-in list")
    permission = PERMISSION
    template_url_name = "agenda_admin:attendance_template"

    def preview(self, data, filename, progress=None):
        # A job run by the worker carries its record already (see agenda_views).
        job = getattr(progress, "job", None)
        session_id = (getattr(job, "options", None) or {}).get("session")
        if not isinstance(session_id, int):
            session_id = None
        return plan_file(data, filename, session_id, progress)[0]

    def apply(self, data, filename, fingerprint, options, progress=None):
        return apply_file(data, filename, fingerprint, options, progress)


def template_workbook():
    """A blank sign-in list: the columns the import reads, with one example row."""
    workbook = new_workbook()
    sheet = workbook.book.add_worksheet(_("Sign-in list")[:31])
    text = workbook.book.add_format({"num_format": "@"})
    headers = ["序号", "姓名", "工号", "部门", "签到情况"]
    for index, header in enumerate(headers):
        sheet.set_column(index, index, 20 if header == "部门" else 12, text)
        sheet.write_string(0, index, header, workbook.bold)
    for index, value in enumerate(["1", "张三", "BH1001", "区政府办公室", "出席"]):
        sheet.write_string(1, index, value, text)
    sheet.freeze_panes(1, 0)
    return workbook_bytes(workbook)
