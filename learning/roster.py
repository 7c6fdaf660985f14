"""HR's roster import (人员花名册): a spreadsheet with one official per row creates or
updates accounts and profiles, matched by staff number.

The file is read as the person sees it in Excel or WPS (learning/tabular.py), then
previewed: what would be created, what would change field by field, who in the
departments the file covers is missing from it (leavers HR may deactivate in the
same confirmation). A file with any problem imports nothing; a confirmed file is
written in one transaction. Re-importing the same file changes nothing."""

import dataclasses
import datetime
import os
import secrets
import string
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from wagtail.log_actions import log

from . import roles
from .fast import dashboard as fast_dashboard
from .hashers import initial_password_hasher
from .imports import Change, Importer, PlanChanged, Preview
from .models import Department, DepartmentMembership, Official, User
from .spreadsheets import add_sheet, new_workbook, workbook_bytes
from .tabular import (
    Field,
    Problem,
    TableError,
    clean_name,
    half_width,
    normalise_identifier,
    parse_date,
    read_table,
)

DEACTIVATED = "xuefa.official.deactivate"

FIELDS = (
    Field("name", gettext_lazy("Name"), ("姓名", "名字", "name"), required=True),
    Field(
        "staff_number",
        gettext_lazy("Staff number"),
        ("工号", "人员编号", "职工编号", "员工编号", "人事编号", "staff number", "staff_number"),
        required=True,
    ),
    Field(
        "department",
        gettext_lazy("Department"),
        ("部门", "单位", "所在部门", "所在单位", "工作单位", "单位名称", "部门名称", "department"),
        required=True,
    ),
    Field(
        "section",
        pgettext_lazy("department", "Section"),
        ("科室", "处室", "内设机构", "科室名称", "section"),
    ),
    Field("position", gettext_lazy("Position"), ("职务", "现任职务", "position")),
    Field("rank", gettext_lazy("Rank"), ("职级", "现职级", "rank")),
    Field(
        "is_leader",
        gettext_lazy("Leader"),
        ("是否领导干部", "是否领导", "领导干部", "领导", "leader"),
    ),
    Field(
        "mobile",
        gettext_lazy("Mobile"),
        ("手机号", "手机号码", "手机", "移动电话", "联系电话", "mobile"),
    ),
    Field("email", gettext_lazy("E-mail"), ("邮箱", "电子邮箱", "电子邮件", "e-mail", "email")),
    # A date fills Official.joined_on (a mid-year joiner's requirements are prorated);
    # a blank cell leaves what is recorded alone.
    Field(
        "joined_on",
        gettext_lazy("Joined on"),
        ("入职日期", "入职时间", "调入日期", "到岗日期", "joined on", "joined_on"),
    ),
)
MAX_LENGTHS = {
    "name": 64,
    "staff_number": 32,
    "department": 300,
    "section": 100,
    "position": 64,
    "rank": 64,
    "email": 254,
}
MAX_ROWS = 20_000
TRUE_WORDS = {"是", "y", "yes", "true", "1", "领导", "√", "✓", "是领导"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "", "×", "✗", "不是"}
STAFF_NUMBER_CHARS = set(string.ascii_letters + string.digits + "-_")
PATH_SEPARATORS = ("／", "\\", "＼", ">", "＞", "›")
# New accounts get a random one-time password the user must replace at first sign-in.
INITIAL_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105
INITIAL_PASSWORD_LENGTH = 12
BATCH = 1000


class RosterError(Exception):
    """The file cannot be imported; `problems` lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclasses.dataclass
class RosterRow:
    row: int
    name: str
    staff_number: str
    department: Department
    position: str
    rank: str
    is_leader: bool
    mobile: str
    email: str
    joined_on: datetime.date | None = None


# --- Reading a row -------------------------------------------------------------------


def _key(text):
    """Names compared without the spaces people type to align them."""
    return "".join(text.split())


class _DepartmentIndex:
    """Resolves a department as written: its name when unique, or its path from the
    top (or from any unique point below it), separated by '/'."""

    def __init__(self):
        departments = list(Department.objects.all())
        by_path = {d.path: d for d in departments}
        self.by_name, self.by_full_name, self.full_names = {}, {}, {}
        for department in departments:
            self.by_name.setdefault(_key(department.name), []).append(department)
            names = [
                by_path[department.path[: i * Department.steplen]].name
                for i in range(1, department.depth + 1)
            ]
            self.by_full_name["/".join(_key(n) for n in names)] = department
            self.full_names[department.pk] = " / ".join(names)
        self.resolved = {}

    def resolve(self, text):
        """The department, or ValidationError; each text is worked out once."""
        found = self.resolved.get(text)
        if found is None:
            try:
                found = self.resolved[text] = self._resolve(text)
            except ValidationError as error:
                found = self.resolved[text] = error
        if isinstance(found, ValidationError):
            raise found
        return found

    def _resolve(self, text):
        for separator in PATH_SEPARATORS:
            text = text.replace(separator, "/")
        parts = [_key(part) for part in text.split("/") if part.strip()]
        normalised = "/".join(parts)
        if len(parts) > 1:
            department = self.by_full_name.get(normalised)
            if department is None:
                tails = [d for p, d in self.by_full_name.items() if p.endswith("/" + normalised)]
                if len(tails) == 1:
                    return tails[0]
                raise ValidationError(_("No department has the path “%(path)s”.") % {"path": text})
            return department
        matches = self.by_name.get(normalised, [])
        if not matches:
            raise ValidationError(_("No department is called “%(name)s”.") % {"name": text})
        if len(matches) > 1:
            raise ValidationError(
                _(
                    "More than one department is called “%(name)s”: write its full path, "
                    "e.g. “%(example)s”."
                )
                % {"name": text, "example": self.full_names[matches[0].pk].replace(" / ", "/")}
            )
        return matches[0]


def _cells(row):
    """The row's values normalised per column: names without alignment spaces,
    identifiers and codes in half-width characters."""
    values = row.values
    return {
        "name": clean_name(values.get("name", "")),
        "staff_number": normalise_identifier(values.get("staff_number", "")),
        "department": values.get("department", "").strip(),
        "section": values.get("section", "").strip(),
        "position": values.get("position", "").strip(),
        "rank": values.get("rank", "").strip(),
        "is_leader": half_width(values.get("is_leader", "")).strip().lower(),
        "mobile": half_width(values.get("mobile", "")).strip(),
        "email": half_width(values.get("email", "")).strip(),
        "joined_on": values.get("joined_on", "").strip(),
    }


def _mobile(text):
    digits = "".join(ch for ch in text if ch not in " -")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def _validate_row(row, columns, departments):
    """(RosterRow or None, problems) for one row of the table."""
    cells = _cells(row)
    problems = []

    def problem(key, message):
        problems.append(Problem(row.number, columns.get(key, ""), message))

    _check_identity(cells, columns, problem)
    department = _department_of(cells, departments, problem)
    mobile, email = _check_contact(cells, problem)
    joined_on = _joined_on(row, cells, problem)
    if problems:
        return None, problems
    return (
        RosterRow(
            row=row.number,
            name=cells["name"],
            staff_number=cells["staff_number"],
            department=department,
            position=cells["position"],
            rank=cells["rank"],
            is_leader=cells["is_leader"] in TRUE_WORDS,
            mobile=mobile,
            email=email,
            joined_on=joined_on,
        ),
        [],
    )


def _check_identity(cells, columns, problem):
    """Lengths, the required name, staff number and department, and the staff
    number's characters; each failure reported through `problem(key, message)`."""
    for key, limit in MAX_LENGTHS.items():
        if key in columns and len(cells[key]) > limit:
            problem(key, _("Longer than %(max)s characters.") % {"max": limit})
    for key in ("name", "staff_number", "department"):
        if not cells[key]:
            problem(key, _("This value is required."))
    staff_number = cells["staff_number"]
    if staff_number and not set(staff_number) <= STAFF_NUMBER_CHARS:
        problem("staff_number", _("Use only letters, digits, '-' and '_'."))


def _department_of(cells, departments, problem):
    """The Department the department (and section) cells name, or None."""
    if not cells["department"]:
        return None
    path = cells["department"]
    if cells["section"]:
        path = f"{path}/{cells['section']}"
    try:
        return departments.resolve(path)
    except ValidationError as error:
        problem("section" if cells["section"] else "department", error.messages[0])
        return None


def _check_contact(cells, problem):
    """(mobile, email) as stored, after checking them and the leader cell."""
    if cells["is_leader"] not in TRUE_WORDS | FALSE_WORDS:
        problem("is_leader", _("Write 是 or 否."))
    mobile = _mobile(cells["mobile"])
    if mobile and not (len(mobile) == 11 and mobile.isdigit() and mobile.startswith("1")):
        problem("mobile", _("Enter an 11-digit mobile number."))
    email = cells["email"]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problem("email", _("Enter a valid e-mail address."))
    return mobile, email


def _joined_on(row, cells, problem):
    """The joining date: as the spreadsheet typed it as a date, else parsed from the
    cell's text; None when blank or unreadable (then reported)."""
    joined_on = row.dates.get("joined_on")
    if cells["joined_on"] and joined_on is None:
        joined_on = parse_date(cells["joined_on"], numeric="joined_on" in row.numeric)
        if joined_on is None:
            problem("joined_on", _("Write a date such as 2025-08-15."))
    return joined_on


def _duplicates_in_file(rows, columns):
    problems, seen_numbers, seen_emails = [], {}, {}
    for row in rows:
        first = seen_numbers.setdefault(row.staff_number, row.row)
        if first != row.row:
            problems.append(
                Problem(
                    row.row,
                    columns["staff_number"],
                    _("Staff number %(number)s is already used in row %(row)s.")
                    % {"number": row.staff_number, "row": first},
                )
            )
        if row.email:
            first = seen_emails.setdefault(row.email.lower(), row.row)
            if first != row.row:
                problems.append(
                    Problem(
                        row.row,
                        columns["email"],
                        _("E-mail %(email)s is already used in row %(row)s.")
                        % {"email": row.email, "row": first},
                    )
                )
    return problems


# --- Working out the plan ------------------------------------------------------------


@dataclasses.dataclass
class _Plan:
    """What importing the rows would write: new rows, (official, {field: new value})
    updates, rows unchanged, and the officials missing from the file."""

    create: list = dataclasses.field(default_factory=list)
    update: list = dataclasses.field(default_factory=list)
    unchanged: int = 0
    missing: list = dataclasses.field(default_factory=list)

    def as_json(self):
        return {
            "create": [_row_values(r) for r in self.create],
            "update": [
                (o.pk, {k: _plain(v) for k, v in sorted(c.items())}) for o, c in self.update
            ],
            "missing": sorted(o.pk for o in self.missing),
        }


def _plain(value):
    if isinstance(value, Department):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _row_values(row):
    return {
        f.name: _plain(getattr(row, f.name)) for f in dataclasses.fields(row) if f.name != "row"
    }


def _existing_officials():
    """{normalised staff number: Official} of every official, with their accounts."""
    return {
        normalise_identifier(o.staff_number): o
        for o in Official.objects.select_related("user").order_by()
    }


def _changes(official, row, columns):
    """{field: new value} where the file's row differs from the official. A column the
    file does not have changes nothing; a blank e-mail or join date keeps the one on
    record; e-mail addresses differing only in case are the same."""
    user = official.user
    wanted = {"name": row.name, "department": row.department}
    for key in ("position", "rank", "is_leader", "mobile"):
        if key in columns:
            wanted[key] = getattr(row, key)
    if row.email:
        wanted["email"] = row.email
    if row.joined_on:
        wanted["joined_on"] = row.joined_on
    current = {
        "name": user.name,
        "email": (user.email or "").lower(),
        "department": official.department_id,
        "position": official.position,
        "rank": official.rank,
        "is_leader": official.is_leader,
        "mobile": official.mobile,
        "joined_on": official.joined_on,
    }
    comparable = {"department": lambda d: d.pk, "email": lambda e: e.lower()}
    changes = {
        key: value
        for key, value in wanted.items()
        if current[key] != comparable.get(key, lambda v: v)(value)
    }
    if not user.is_active:
        changes["is_active"] = True
    return changes


def _account_conflicts(rows, existing, columns):
    """A new official's user name (the staff number) or any e-mail must not belong to
    somebody else's account; a staff number read from a number cell must not be an
    existing one with its leading zeros lost."""
    problems = []
    new_numbers = [r.staff_number for r in rows if r.staff_number not in existing]
    taken_usernames = set(
        User.objects.filter(username__in=new_numbers).values_list("username", flat=True)
    )
    emails = [r.email.lower() for r in rows if r.email]
    taken_emails = {}
    for start in range(0, len(emails), BATCH):
        for email, user_id in User.objects.filter(
            email__in=emails[start : start + BATCH]
        ).values_list("email", "id"):
            taken_emails[email.lower()] = user_id
    for row in rows:
        official = existing.get(row.staff_number)
        if official is None and row.staff_number in taken_usernames:
            problems.append(
                Problem(
                    row.row,
                    columns["staff_number"],
                    _("An account with the user name %(number)s already exists.")
                    % {"number": row.staff_number},
                )
            )
        owner = taken_emails.get(row.email.lower()) if row.email else None
        if owner is not None and owner != (official.user_id if official else None):
            problems.append(
                Problem(
                    row.row,
                    columns["email"],
                    _("E-mail %(email)s belongs to another account.") % {"email": row.email},
                )
            )
    return problems


def _lost_zeros(rows, numeric_rows, existing, columns):
    """Staff numbers that were number cells and match no official, while an official
    with the same digits and leading zeros exists: the file lost the zeros."""
    by_digits = {}
    for number in existing:
        if number.isdigit():
            by_digits.setdefault(number.lstrip("0"), number)
    problems = []
    for row in rows:
        if row.row not in numeric_rows or row.staff_number in existing:
            continue
        padded = by_digits.get(row.staff_number.lstrip("0"))
        if padded and padded != row.staff_number:
            problems.append(
                Problem(
                    row.row,
                    columns["staff_number"],
                    _(
                        "Staff number %(number)s is a number in the file, and the official "
                        "with staff number %(existing)s exists: the leading zeros were lost. "
                        "Format the column as text (or save the file as .xlsx) and upload it "
                        "again."
                    )
                    % {"number": row.staff_number, "existing": padded},
                )
            )
    return problems


def _missing_officials(rows, existing):
    """Active officials of the departments the file lists who are not in the file."""
    in_file = {r.staff_number for r in rows}
    departments = {r.department.pk for r in rows}
    return sorted(
        (
            o
            for number, o in existing.items()
            if number not in in_file and o.user.is_active and o.department_id in departments
        ),
        key=lambda o: (o.department_id, o.staff_number),
    )


def _display(value, full_names):
    if isinstance(value, Department):
        return full_names.get(value.pk, value.name)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "email": gettext_lazy("E-mail"),
    "department": gettext_lazy("Department"),
    "position": gettext_lazy("Position"),
    "rank": gettext_lazy("Rank"),
    "is_leader": gettext_lazy("Leader"),
    "mobile": gettext_lazy("Mobile"),
    "joined_on": gettext_lazy("Joined on"),
    "is_active": gettext_lazy("Account active"),
}


def _current(official, key, full_names):
    if key in ("name", "email", "is_active"):
        return getattr(official.user, key)
    if key == "department":
        return full_names.get(official.department_id, "")
    return getattr(official, key)


def plan_file(data, filename, progress=None):
    """(Preview, _Plan or None): read the file and work out what importing it would
    do, writing nothing."""
    preview = Preview(kind="roster")
    try:
        table = read_table(data, filename, FIELDS, max_rows=MAX_ROWS)
    except TableError as error:
        preview.errors = error.problems
        return preview.seal(None), None
    preview.warnings = list(table.warnings)
    preview.rows = len(table.rows)
    departments = _DepartmentIndex()
    rows, numeric_rows = [], set()
    for index, table_row in enumerate(table.rows):
        row, problems = _validate_row(table_row, table.columns, departments)
        preview.errors.extend(problems)
        if row is not None:
            rows.append(row)
            if "staff_number" in table_row.numeric:
                numeric_rows.add(row.row)
        if progress and index % 1000 == 0:
            progress(index, len(table.rows))
    if not table.rows:
        preview.errors.append(Problem(None, "", _("The file has no officials in it.")))
    existing = _existing_officials()
    preview.errors.extend(_duplicates_in_file(rows, table.columns))
    preview.errors.extend(_account_conflicts(rows, existing, table.columns))
    preview.errors.extend(_lost_zeros(rows, numeric_rows, existing, table.columns))
    if preview.errors:
        preview.errors.sort(key=lambda p: p.row or 0)
        return preview.seal(None), None
    plan = _Plan(missing=_missing_officials(rows, existing))
    for row in rows:
        official = existing.get(row.staff_number)
        if official is None:
            plan.create.append(row)
            continue
        changes = _changes(official, row, table.columns)
        if changes:
            plan.update.append((official, changes))
        else:
            plan.unchanged += 1
    _describe(preview, plan, departments.full_names)
    return preview.seal(plan.as_json()), plan


def _describe(preview, plan, full_names):
    for row in plan.create:
        fields = [
            (str(FIELD_LABELS[key]), "", _display(getattr(row, key), full_names))
            for key in ("department", "position", "rank", "is_leader", "mobile", "email")
            if getattr(row, key) not in ("", None)
        ]
        preview.created.append(Change(row.row, f"{row.name} ({row.staff_number})", fields))
    for official, changes in plan.update:
        fields = [
            (
                str(FIELD_LABELS[key]),
                _display(_current(official, key, full_names), full_names),
                _display(value, full_names),
            )
            for key, value in changes.items()
        ]
        label = f"{official.user.name} ({official.staff_number})"
        preview.updated.append(Change(None, label, fields))
    preview.unchanged = plan.unchanged
    preview.missing = [
        {
            "id": o.pk,
            "label": f"{o.user.name} ({o.staff_number})",
            "department": full_names.get(o.department_id, ""),
        }
        for o in plan.missing
    ]


# --- Writing it ----------------------------------------------------------------------


def initial_password():
    return "".join(
        secrets.choice(INITIAL_PASSWORD_ALPHABET) for _ in range(INITIAL_PASSWORD_LENGTH)
    )


def _initial_hash(password):
    # Re-hashed with the default hasher at the first sign-in.
    return make_password(password, hasher=initial_password_hasher())


def _create(rows, progress=None):
    """New accounts, their profiles and first department memberships, in batches.
    Returns [(name, staff number, initial password)]. PBKDF2 releases the GIL, so the
    passwords are hashed on every core while the rows are written."""
    official_group, _created = Group.objects.get_or_create(name=roles.OFFICIAL)
    credentials = []
    all_passwords = [initial_password() for _row in rows]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as hashing:
        # Hashing runs ahead on the pool while batches are written.
        all_hashes = hashing.map(_initial_hash, all_passwords)
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            passwords = all_passwords[start : start + BATCH]
            hashes = [next(all_hashes) for _row in batch]
            users = User.objects.bulk_create(
                [
                    User(
                        username=row.staff_number,
                        name=row.name,
                        email=row.email,
                        must_change_password=True,
                        password=hashed,
                    )
                    for row, hashed in zip(batch, hashes, strict=True)
                ]
            )
            User.groups.through.objects.bulk_create(
                [User.groups.through(user_id=u.pk, group_id=official_group.pk) for u in users]
            )
            officials = Official.objects.bulk_create(
                [
                    Official(
                        user_id=user.pk,
                        staff_number=row.staff_number,
                        department=row.department,
                        position=row.position,
                        rank=row.rank,
                        is_leader=row.is_leader,
                        mobile=row.mobile,
                        joined_on=row.joined_on,
                    )
                    for row, user in zip(batch, users, strict=True)
                ]
            )
            DepartmentMembership.objects.bulk_create(
                [
                    DepartmentMembership(
                        official_id=o.pk, department_id=o.department_id, start=o.joined_on
                    )
                    for o in officials
                ]
            )
            credentials.extend(
                (row.name, row.staff_number, password)
                for row, password in zip(batch, passwords, strict=True)
            )
            if progress:
                progress(start + len(batch), len(rows))
    return credentials


def _update(updates):
    """Apply each official's changed fields in bulk; transfers go to the department
    history as Official.save would write them."""
    users, officials, moved = [], [], []
    now = timezone.now()
    for official, changes in updates:
        user = official.user
        for key, value in changes.items():
            setattr(user if key in ("name", "email", "is_active") else official, key, value)
        users.append(user)
        official.updated_at = now
        officials.append(official)
        if "department" in changes:
            moved.append(official)
    User.objects.bulk_update(users, ["name", "email", "is_active"], batch_size=BATCH)
    Official.objects.bulk_update(
        officials,
        ["department", "position", "rank", "is_leader", "mobile", "joined_on", "updated_at"],
        batch_size=BATCH,
    )
    DepartmentMembership.record_transfers(moved)


def _deactivate(officials, user):
    """Leavers keep their records, results and history; they can no longer sign in and
    drop out of the requirements and reports of active officials."""
    User.objects.filter(pk__in=[o.user_id for o in officials]).update(is_active=False)
    for official in officials:
        log(official, DEACTIVATED, user=user, data={"staff_number": official.staff_number})


def apply_file(data, filename, fingerprint, options, progress=None):
    """Write the file's plan if it still matches the confirmed `fingerprint`;
    `options["deactivate"]` lists ids of missing officials to deactivate, and
    `options["requested_by"]` is who confirmed (for the audit log)."""
    user = User.objects.filter(pk=options.get("requested_by")).first()
    with transaction.atomic():
        preview, plan = plan_file(data, filename)
        if plan is None or preview.fingerprint != fingerprint:
            raise PlanChanged
        chosen = {int(pk) for pk in options.get("deactivate", [])}
        leavers = [o for o in plan.missing if o.pk in chosen]
        credentials = _create(plan.create, progress)
        _update(plan.update)
        _deactivate(leavers, user)
        # Written in bulk (no signals): names, departments and positions on dashboards.
        fast_dashboard.touch_everyone()
    return {
        "created": len(plan.create),
        "updated": len(plan.update),
        "unchanged": plan.unchanged,
        "deactivated": len(leavers),
        "sealed": credentials,
    }


class RosterImporter(Importer):
    kind = "roster"
    label = gettext_lazy("Roster")
    permission = "learning.import_roster"
    template_url_name = "roster:template"

    def preview(self, data, filename, progress=None):
        return plan_file(data, filename, progress)[0]

    def apply(self, data, filename, fingerprint, options, progress=None):
        return apply_file(data, filename, fingerprint, options, progress)

    def sealed_download(self, sealed):
        return credentials_workbook(sealed), "initial-passwords.xlsx"


def import_roster(data, filename="roster.xlsx", *, deactivate_missing=False, user=None):
    """Preview and import at once (scripts and tests): raises RosterError when the
    preview has problems. Returns apply_file's result."""
    if hasattr(data, "read"):
        # Both the preview and the import read the file: a stream only once. As
        # read_table reads one: an oversized file is never held whole.
        data = data.read(settings.XUEFA_MAX_IMPORT_BYTES + 1)
    preview, plan = plan_file(data, filename)
    if plan is None:
        raise RosterError(preview.errors)
    options = {
        "deactivate": [m["id"] for m in preview.missing] if deactivate_missing else [],
        "requested_by": user.pk if user else None,
    }
    return apply_file(data, filename, preview.fingerprint, options)


# --- Files for HR --------------------------------------------------------------------


def template_workbook():
    """The blank roster template HR downloads, with one example row."""
    workbook = new_workbook()
    book = workbook.book
    sheet = book.add_worksheet(_("Roster")[:31])
    columns = list(FIELDS)
    required = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#B5221B"})
    optional = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    example = ["张三", "BH1001", "区政府办公室", "秘书科", "科员", "一级科员", "否",
               "13800001001", "zhangsan@example.cn", "2025-08-15"]  # fmt: skip
    # Constant-memory workbooks are written row by row.
    for index, field in enumerate(columns):
        sheet.set_column(index, index, 24 if field.key == "department" else 14, text)
        sheet.write_string(0, index, field.aliases[0], required if field.required else optional)
    for index, value in enumerate(example):
        sheet.write_string(1, index, value, text)
    leader = [f.key for f in columns].index("is_leader")
    sheet.data_validation(1, leader, 5000, leader, {"validate": "list", "source": ["是", "否"]})
    sheet.freeze_panes(1, 0)
    return workbook_bytes(workbook)


def export_workbook():
    """Every active official in the template's layout, departments as full paths, so
    the file re-imports unchanged (HR's starting point for next month's roster)."""
    full_names = _DepartmentIndex().full_names
    officials = (
        Official.objects.active()
        .select_related("user")
        .order_by("department__path", "staff_number")
    )
    rows = (
        [
            o.user.name,
            o.staff_number,
            full_names[o.department_id].replace(" / ", "/"),
            "",
            o.position,
            o.rank,
            "是" if o.is_leader else "否",
            o.mobile,
            o.user.email,
            o.joined_on,
        ]
        for o in officials.iterator(chunk_size=2000)
    )
    workbook = new_workbook()
    add_sheet(workbook, _("Roster"), [f.aliases[0] for f in FIELDS], rows)
    return workbook_bytes(workbook)


def credentials_workbook(created):
    """The initial passwords of newly created accounts, for HR to hand out."""
    workbook = new_workbook()
    sheet = workbook.book.add_worksheet(_("Initial passwords")[:31])
    for index, header in enumerate(
        [_("Name"), _("Staff number"), _("User name"), _("Initial password")]
    ):
        sheet.write_string(0, index, header, workbook.bold)
        sheet.set_column(index, index, 18)
    for number, (name, staff_number, password) in enumerate(created, start=1):
        for index, value in enumerate((name, staff_number, staff_number, password)):
            sheet.write_string(number, index, value)
    sheet.freeze_panes(1, 0)
    return workbook_bytes(workbook)
