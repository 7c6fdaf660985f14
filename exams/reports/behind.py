"""Who is behind (催学名单): officials with a study plan for the year who have not done
everything it requires, with what each one misses and when they were last reminded.

Standing comes from `learning.completion.evaluate` only, so this list and an
official's own record can never disagree. An exempted official (`completion.exempt`)
is never behind. A required exam the official may not start yet (its credit gate)
says why, so HR does not chase them to an exam they cannot sit. Query counts do not
grow with the number of officials: one query for who is in scope, `evaluate`'s
bounded queries, then one query each for the shown officials and their last
reminders (per chunk of ROW_CHUNK officials), and the gate's batch for each gated
exam the shown officials miss."""

import dataclasses
from collections import defaultdict

from django import forms
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from learning.completion import evaluate, plans_for_year
from learning.models import Official

from .. import gate
from ..models import ExamSession, Reminder
from .access import visible_departments, visible_officials

ROW_CHUNK = 500

# What an official can miss; lectures include required series.
CREDIT, LECTURE, EXAM, OBSERVATION = "credit", "lecture", "exam", "observation"
MISSING_KINDS = [
    (CREDIT, gettext_lazy("Credit hours")),
    (LECTURE, gettext_lazy("Lectures")),
    (EXAM, gettext_lazy("Exams")),
    (OBSERVATION, gettext_lazy("Court observations")),
]
ITEM_KINDS = {"lecture": LECTURE, "series": LECTURE, "exam": EXAM, "observation": OBSERVATION}


def is_behind(completion):
    """Behind: the year's plans apply, they are not all met, and no exemption holds."""
    if getattr(completion, "exempt", False):
        return False
    return completion.has_plan and not completion.is_complete


def missing_kinds(completion):
    """The kinds (CREDIT, LECTURE, EXAM, OBSERVATION) of what the official misses."""
    kinds = set() if completion.credit_met else {CREDIT}
    kinds.update(ITEM_KINDS.get(item.kind, item.kind) for item in completion.missing)
    return kinds


def missing_lines(completion, blocked=None):
    """What the official misses, one line per kind, for people (the list, the xlsx
    and the reminder e-mail say the same). `blocked` ({item key: [gate.Blocker]}) adds
    why a required exam cannot be started yet to its title."""
    blocked = blocked or {}
    lines = []
    if not completion.credit_met:
        lines.append(
            _("Credit hours: %(done)s of %(required)s done")
            % {"done": completion.credited_hours, "required": completion.required_hours}
        )
    labels = dict(MISSING_KINDS)
    by_kind = {}
    for item in completion.missing:
        label = blocked_label(item.label, blocked[item.key]) if item.key in blocked else item.label
        by_kind.setdefault(ITEM_KINDS.get(item.kind, item.kind), []).append(label)
    for kind, _label in MISSING_KINDS:
        if kind in by_kind:
            lines.append(
                _("%(kind)s: %(items)s") % {"kind": labels[kind], "items": "、".join(by_kind[kind])}
            )
    return lines


def blocked_label(title, blockers):
    """An exam's title with what its entry requirements still ask of the official."""
    reasons = pgettext("list separator", "; ").join(blocker.message for blocker in blockers)
    return _("%(exam)s (blocked by entry requirements: %(reasons)s)") % {
        "exam": title,
        "reasons": reasons,
    }


@dataclasses.dataclass
class BehindRow:
    official: Official
    completion: object
    last_reminded: object = None
    blocked: dict = dataclasses.field(default_factory=dict)  # {item key: [gate.Blocker]}

    @property
    def missing(self):
        return missing_lines(self.completion, self.blocked)

    @property
    def missing_text(self):
        return "；".join(self.missing)


class BehindFilterForm(forms.Form):
    """The list's filters; the department choices are limited to the user's scope."""

    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All departments"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Missing"),
        choices=[("", gettext_lazy("Anything")), *MISSING_KINDS],
        required=False,
    )
    leaders = forms.BooleanField(label=gettext_lazy("Leaders only"), required=False)
    q = forms.CharField(
        label=gettext_lazy("Name or staff number"), required=False, max_length=64, strip=True
    )

    def __init__(self, data=None, *, user, **kwargs):
        if data is not None and not data.get("year"):
            data = data.copy()
            data["year"] = timezone.localdate().year
        super().__init__(data, **kwargs)
        self.user = user
        field = self.fields["department"]
        field.queryset = visible_departments(user)
        field.label_from_instance = lambda department: department.indented_name()


@dataclasses.dataclass
class BehindList:
    """Everyone behind under the filters, in department and staff-number order; rows
    with their officials loaded are built only for what is shown (`rows`)."""

    year: int
    official_ids: list
    completions: dict

    def __len__(self):
        return len(self.official_ids)

    def rows(self, official_ids=None):
        official_ids = self.official_ids if official_ids is None else list(official_ids)
        return build_rows(official_ids, self.completions, self.year)


def behind(user, year, department=None, kind="", leaders=False, q=""):
    """The BehindList of officials the user may see, narrowed by the filters."""
    officials = visible_officials(user, Official.objects.active())
    if department is not None:
        officials = officials.in_department(department)
    if leaders:
        officials = officials.leaders()
    if q:
        officials = officials.filter(Q(user__name__icontains=q) | Q(staff_number__icontains=q))
    ids = list(officials.order_by("department__path", "staff_number").values_list("pk", flat=True))
    completions = evaluate(ids, year, plans_for_year(year))
    behind_ids = [
        pk
        for pk in ids
        if is_behind(completions[pk]) and (not kind or kind in missing_kinds(completions[pk]))
    ]
    return BehindList(year, behind_ids, {pk: completions[pk] for pk in behind_ids})


def still_behind(official_ids, year):
    """The BehindList of these officials who are still behind in `year` (reminders
    sent later, in a background task, check again)."""
    completions = evaluate(list(official_ids), year, plans_for_year(year))
    ids = [pk for pk in official_ids if pk in completions and is_behind(completions[pk])]
    return BehindList(year, ids, {pk: completions[pk] for pk in ids})


def from_form(form):
    data = form.cleaned_data
    return behind(
        form.user,
        data["year"],
        department=data.get("department"),
        kind=data.get("kind") or "",
        leaders=data.get("leaders") or False,
        q=data.get("q") or "",
    )


def build_rows(official_ids, completions, year):
    """BehindRows for these officials, in the given order (two queries per chunk, and
    those of `mark_blocked`)."""
    rows = []
    for offset in range(0, len(official_ids), ROW_CHUNK):
        chunk = official_ids[offset : offset + ROW_CHUNK]
        officials = Official.objects.select_related("user", "department").in_bulk(chunk)
        reminded = dict(
            Reminder.objects.delivered()
            .filter(official_id__in=chunk, year=year)
            .values("official_id")
            .annotate(last=Max("sent_at"))
            .values_list("official_id", "last")
        )
        rows.extend(
            BehindRow(officials[pk], completions[pk], reminded.get(pk))
            for pk in chunk
            if pk in officials
        )
    mark_blocked(rows)
    return rows


def mark_blocked(rows):
    """Set on each row the required exams its official misses and may not start yet
    (the exam's credit gate): one gate batch per gated exam, however many rows."""
    sessions = {}
    waiting = defaultdict(list)  # session pk: [(row, item key)]
    for row in rows:
        for item in row.completion.missing:
            session = item.obj
            if isinstance(session, ExamSession) and gate.has_gate(session):
                sessions.setdefault(session.pk, session)
                waiting[session.pk].append((row, item.key))
    for pk, pairs in waiting.items():
        blocked = gate.blocked_officials(sessions[pk], [row.official.pk for row, _key in pairs])
        for row, key in pairs:
            if row.official.pk in blocked:
                row.blocked[key] = blocked[row.official.pk]


def headers():
    return [
        _("Staff number"),
        _("Name"),
        _("Department"),
        _("Position"),
        _("Leader"),
        _("Credit hours done"),
        _("Credit hours required"),
        _("Items missing"),
        _("What is missing"),
        _("E-mail"),
        _("Last reminded"),
    ]


def xlsx_rows(rows):
    for row in rows:
        official, completion = row.official, row.completion
        yield [
            official.staff_number,
            official.name,
            official.department.name,
            official.position,
            _("Yes") if official.is_leader else _("No"),
            float(completion.credited_hours),
            float(completion.required_hours),
            len(completion.missing) + (0 if completion.credit_met else 1),
            row.missing_text,
            official.user.email,
            row.last_reminded,
        ]
