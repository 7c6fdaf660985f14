"""HR's roster import (人员花名册): an xlsx file with one official per row creates or
updates accounts and profiles, matched by staff number.

A file is imported whole or not at all: every problem in it is collected and
reported by row and column, and nothing is written while any problem remains."""

import datetime
import io
import re
import secrets
import string
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from . import roles
from .models import Department, Official, User


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy translation: the header HR sees in the template
    required: bool = False
    max_length: int = 64
    aliases: tuple = ()


COLUMNS = (
    Column("name", gettext_lazy("Name"), required=True, aliases=("姓名", "name")),
    Column(
        "staff_number",
        gettext_lazy("Staff number"),
        required=True,
        max_length=32,
        aliases=("工号", "人员编号", "staff number", "staff_number"),
    ),
    Column(
        "department",
        gettext_lazy("Department"),
        required=True,
        max_length=300,
        aliases=("部门", "所在部门", "department"),
    ),
    Column("position", gettext_lazy("Position"), aliases=("职务", "position")),
    Column("rank", gettext_lazy("Rank"), aliases=("职级", "rank")),
    Column("is_leader", gettext_lazy("Leader"), aliases=("是否领导", "领导", "leader")),
    Column("mobile", gettext_lazy("Mobile"), aliases=("手机号码", "手机", "手机号", "mobile")),
    Column(
        "email",
        gettext_lazy("E-mail"),
        max_length=254,
        aliases=("电子邮箱", "邮箱", "e-mail", "email"),
    ),
    # Optional: a date fills Official.joined_on (a mid-year joiner's requirements are
    # prorated); a blank cell leaves what is recorded alone.
    Column(
        "joined_on",
        gettext_lazy("Joined on"),
        max_length=32,
        aliases=("入职日期", "入职时间", "joined on", "joined_on"),
    ),
)
DATE_PATTERN = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?: 00:00:00)?$"
)
MAX_ROWS = 20_000
# An xlsx is a zip file: refuse archives that would expand to more than this.
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
# A workbook has a dozen or so parts; thousands mean a crafted archive.
MAX_ARCHIVE_MEMBERS = 500
# Only the first columns are read, whatever size the sheet claims (a forged
# <dimension> would otherwise pad every row to 16,384 cells).
MAX_COLUMNS = 50
TRUE_WORDS = {"是", "y", "yes", "true", "1", "领导"}
FALSE_WORDS = {"否", "n", "no", "false", "0", ""}
STAFF_NUMBER_CHARS = set(string.ascii_letters + string.digits + "-_")
# New accounts get a random one-time password the user must replace at first sign-in.
INITIAL_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105
INITIAL_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file. `row` is the spreadsheet row number (None for
    the file as a whole); `column` the header as HR wrote it."""

    row: int | None
    column: str
    message: str

    def __str__(self):
        if self.row is None:
            return self.message
        if self.column:
            return _("Row %(row)s, column “%(column)s”: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


class RosterError(Exception):
    """The file cannot be imported; `problems` lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass
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


@dataclass
class ImportResult:
    created: list = field(default_factory=list)  # (Official, initial password)
    updated: list = field(default_factory=list)  # Official
    unchanged: int = 0

    @property
    def total(self):
        return len(self.created) + len(self.updated) + self.unchanged


def _cell_text(value):
    """A cell as text: numbers typed into Excel come back as int or float."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _open_workbook(fileobj):
    # Read at most one byte past the limit: an oversized upload is never held whole.
    data = fileobj.read(settings.XUEFA_MAX_IMPORT_BYTES + 1)
    if not data:
        raise RosterError([Problem(None, "", _("The file is empty."))])
    if len(data) > settings.XUEFA_MAX_IMPORT_BYTES:
        raise RosterError(
            [
                Problem(
                    None,
                    "",
                    _("The file is larger than %(size)s MB.")
                    % {"size": settings.XUEFA_MAX_IMPORT_BYTES // (1024 * 1024)},
                )
            ]
        )
    not_xlsx = RosterError(
        [Problem(None, "", _("The file is not an Excel workbook (.xlsx). Use the template."))]
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise RosterError(
                    [Problem(None, "", _("The workbook has too many parts; it is not a roster."))]
                )
            if sum(info.file_size for info in members) > MAX_UNCOMPRESSED_BYTES:
                raise RosterError(
                    [Problem(None, "", _("The workbook expands to an unreasonable size."))]
                )
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except RosterError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise not_xlsx from exc


def _map_headers(header_row):
    """{column key: (index, header as written)} from the first row."""
    by_alias = {alias.lower(): col for col in COLUMNS for alias in col.aliases}
    found, problems = {}, []
    for index, value in enumerate(header_row):
        text = _cell_text(value)
        column = by_alias.get(text.lower())
        if column is None:
            continue
        if column.key in found:
            problems.append(Problem(1, text, _("This column appears more than once.")))
            continue
        found[column.key] = (index, text)
    missing = [str(col.label) for col in COLUMNS if col.required and col.key not in found]
    if missing:
        problems.append(
            Problem(
                None,
                "",
                _("Required columns are missing: %(columns)s. Use the template.")
                % {"columns": "、".join(missing)},
            )
        )
    return found, problems


class _DepartmentIndex:
    """Resolves a department as written: its name when unique, or its full path
    from the top, separated by '/'."""

    def __init__(self):
        departments = list(Department.objects.all())
        by_path = {d.path: d for d in departments}
        self.by_name, self.by_full_name = {}, {}
        for department in departments:
            self.by_name.setdefault(department.name, []).append(department)
            names = [
                by_path[department.path[: i * Department.steplen]].name
                for i in range(1, department.depth + 1)
            ]
            self.by_full_name["/".join(names)] = department

    def resolve(self, text):
        normalised = "/".join(part.strip() for part in text.replace("／", "/").split("/"))
        if "/" in normalised:
            department = self.by_full_name.get(normalised)
            if department is None:
                # A path may leave out the top of the tree when what remains is unique.
                tails = [
                    d for path, d in self.by_full_name.items() if path.endswith("/" + normalised)
                ]
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
                % {"name": text, "example": self._full_name(matches[0])}
            )
        return matches[0]

    def _full_name(self, department):
        for full_name, candidate in self.by_full_name.items():
            if candidate == department:
                return full_name
        return department.name


def _sheet_rows(workbook):
    """The first sheet's rows, at most MAX_COLUMNS wide. openpyxl parses the sheet
    lazily, so a broken one fails only here: that is a refusal, not a crash."""
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            yield row
    except Exception as exc:
        raise RosterError(
            [Problem(None, "", _("The file is not an Excel workbook (.xlsx). Use the template."))]
        ) from exc


def read_roster(fileobj):
    """Parse and validate the whole file. Returns the rows, or raises RosterError
    listing every problem found."""
    workbook = _open_workbook(fileobj)
    try:
        rows = _sheet_rows(workbook)
        header = next(rows, None)
        if header is None or not any(_cell_text(v) for v in header):
            raise RosterError([Problem(None, "", _("The workbook has no header row."))])
        columns, problems = _map_headers(header)
        if problems:
            raise RosterError(problems)
        departments = _DepartmentIndex()
        parsed, seen_numbers, seen_emails = [], {}, {}
        for number, values in enumerate(rows, start=2):
            if number - 1 > MAX_ROWS:
                raise RosterError(
                    [
                        Problem(
                            None, "", _("The file has more than %(max)s rows.") % {"max": MAX_ROWS}
                        )
                    ]
                )
            cells = {
                key: _cell_text(values[index] if index < len(values) else None)
                for key, (index, _header) in columns.items()
            }
            if not any(cells.values()):
                continue
            row, row_problems = _validate_row(number, cells, columns, departments)
            problems.extend(row_problems)
            if row is None:
                continue
            if row.staff_number in seen_numbers:
                problems.append(
                    Problem(
                        number,
                        columns["staff_number"][1],
                        _("Staff number %(number)s is already used in row %(row)s.")
                        % {"number": row.staff_number, "row": seen_numbers[row.staff_number]},
                    )
                )
            seen_numbers.setdefault(row.staff_number, number)
            if row.email:
                if row.email.lower() in seen_emails:
                    problems.append(
                        Problem(
                            number,
                            columns["email"][1],
                            _("E-mail %(email)s is already used in row %(row)s.")
                            % {"email": row.email, "row": seen_emails[row.email.lower()]},
                        )
                    )
                seen_emails.setdefault(row.email.lower(), number)
            parsed.append(row)
    finally:
        workbook.close()
    if not parsed and not problems:
        problems.append(Problem(None, "", _("The file has no officials in it.")))
    problems.extend(_conflicts_with_other_accounts(parsed, columns))
    if problems:
        raise RosterError(problems)
    return parsed


def _validate_row(number, cells, columns, departments):
    problems = []

    def problem(key, message):
        problems.append(Problem(number, columns[key][1] if key in columns else "", message))

    for column in COLUMNS:
        if column.key not in columns:
            continue
        value = cells[column.key]
        if column.required and not value:
            problem(column.key, _("This value is required."))
        elif len(value) > column.max_length:
            problem(
                column.key,
                _("Longer than %(max)s characters.") % {"max": column.max_length},
            )

    staff_number = cells["staff_number"]
    if staff_number and not set(staff_number) <= STAFF_NUMBER_CHARS:
        problem("staff_number", _("Use only letters, digits, '-' and '_'."))

    department = None
    if cells["department"]:
        try:
            department = departments.resolve(cells["department"])
        except ValidationError as error:
            problem("department", error.messages[0])

    leader_text = cells.get("is_leader", "").lower()
    is_leader = leader_text in TRUE_WORDS
    if leader_text not in TRUE_WORDS | FALSE_WORDS:
        problem("is_leader", _("Write 是 or 否."))

    mobile = cells.get("mobile", "")
    if mobile and not (len(mobile) == 11 and mobile.isdigit() and mobile.startswith("1")):
        problem("mobile", _("Enter an 11-digit mobile number."))

    email = cells.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problem("email", _("Enter a valid e-mail address."))

    joined_on = None
    joined_text = cells.get("joined_on", "")
    if joined_text:
        match = DATE_PATTERN.match(joined_text)
        try:
            joined_on = datetime.date(*(int(part) for part in match.groups())) if match else None
        except ValueError:
            joined_on = None
        if joined_on is None:
            problem("joined_on", _("Write a date such as 2025-08-15."))

    if problems:
        return None, problems
    return (
        RosterRow(
            row=number,
            name=cells["name"],
            staff_number=staff_number,
            department=department,
            position=cells.get("position", ""),
            rank=cells.get("rank", ""),
            is_leader=is_leader,
            mobile=mobile,
            email=email,
            joined_on=joined_on,
        ),
        [],
    )


def _conflicts_with_other_accounts(rows, columns):
    """A new official's username (the staff number) or any e-mail must not belong
    to somebody else's account."""
    if not rows:
        return []
    numbers = [r.staff_number for r in rows]
    owner_by_number = dict(
        Official.objects.filter(staff_number__in=numbers).values_list("staff_number", "user_id")
    )
    problems = []
    taken_usernames = dict(User.objects.filter(username__in=numbers).values_list("username", "id"))
    emails = [r.email.lower() for r in rows if r.email]
    taken_emails = {
        email.lower(): user_id
        for email, user_id in User.objects.filter(email__in=emails).values_list("email", "id")
    }
    for row in rows:
        own_user = owner_by_number.get(row.staff_number)
        username_user = taken_usernames.get(row.staff_number)
        if own_user is None and username_user is not None:
            problems.append(
                Problem(
                    row.row,
                    columns["staff_number"][1],
                    _("An account with the user name %(number)s already exists.")
                    % {"number": row.staff_number},
                )
            )
        email_user = taken_emails.get(row.email.lower()) if row.email else None
        if email_user is not None and email_user != own_user:
            problems.append(
                Problem(
                    row.row,
                    columns["email"][1],
                    _("E-mail %(email)s belongs to another account.") % {"email": row.email},
                )
            )
    return problems


def initial_password():
    return "".join(
        secrets.choice(INITIAL_PASSWORD_ALPHABET) for _ in range(INITIAL_PASSWORD_LENGTH)
    )


PROFILE_FIELDS = ("department", "position", "rank", "is_leader", "mobile")


@transaction.atomic
def import_roster(fileobj):
    """Validate the whole file, then create or update every official in it in one
    transaction. New accounts get a random initial password (returned once, never
    stored in clear) and must change it at first sign-in."""
    rows = read_roster(fileobj)
    existing = {
        o.staff_number: o
        for o in Official.objects.select_related("user").filter(
            staff_number__in=[r.staff_number for r in rows]
        )
    }
    official_group, _created = Group.objects.get_or_create(name=roles.OFFICIAL)
    result = ImportResult()
    for row in rows:
        official = existing.get(row.staff_number)
        if official is None:
            password = initial_password()
            user = User(
                username=row.staff_number,
                name=row.name,
                email=row.email,
                must_change_password=True,
                # A random 12-character one-time password: a lighter hash keeps large
                # imports fast; Django re-hashes it with the default hasher at sign-in.
                password=make_password(password, hasher="pbkdf2_sha256_initial"),
            )
            user.save()
            user.groups.add(official_group)
            official = Official.objects.create(
                user=user,
                staff_number=row.staff_number,
                joined_on=row.joined_on,
                **{name: getattr(row, name) for name in PROFILE_FIELDS},
            )
            result.created.append((official, password))
            continue
        user = official.user
        changed = False
        if (user.name, user.email) != (row.name, row.email or user.email):
            user.name, user.email = row.name, row.email or user.email
            user.save(update_fields=["name", "email"])
            changed = True
        new_joined_on = row.joined_on or official.joined_on
        if new_joined_on != official.joined_on or any(
            getattr(official, name) != getattr(row, name) for name in PROFILE_FIELDS
        ):
            for name in PROFILE_FIELDS:
                setattr(official, name, getattr(row, name))
            official.joined_on = new_joined_on
            official.save()
            changed = True
        if changed:
            result.updated.append(official)
        else:
            result.unchanged += 1
    return result


def template_workbook():
    """The blank roster template HR downloads, with one example row."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("Roster")
    sheet.append([col.aliases[0] for col in COLUMNS])
    sheet.append(
        [
            "张三",
            "BH1001",
            "区政府办公室/秘书科",
            "科员",
            "一级科员",
            "否",
            "13800001001",
            "zhangsan@example.cn",
            "",
        ]
    )
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="FFFFFF" if column.required else "000000")
        if column.required:
            cell.fill = openpyxl.styles.PatternFill("solid", fgColor="B5221B")
        sheet.column_dimensions[get_column_letter(index)].width = 24 if index == 3 else 14
    leader = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    sheet.add_data_validation(leader)
    leader.add("F2:F5000")
    sheet.freeze_panes = "A2"
    return _workbook_bytes(workbook)


def credentials_workbook(created):
    """The initial passwords of newly created accounts, for HR to hand out."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("Initial passwords")
    sheet.append([_("Name"), _("Staff number"), _("User name"), _("Initial password")])
    for name, staff_number, password in created:
        sheet.append([name, staff_number, staff_number, password])
    for letter in "ABCD":
        sheet.column_dimensions[letter].width = 18
    sheet.freeze_panes = "A2"
    return _workbook_bytes(workbook)


def _workbook_bytes(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
