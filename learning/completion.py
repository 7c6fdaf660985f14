"""Whether officials have done what their study plans require for a year.

`evaluate(officials, year)` is the single source every report, the study record
page and the dashboard use. It works for one official or thousands with a bounded
number of queries: a few for the plans, one per requirement provider per chunk of
officials, and two for credit time. What lectures require besides credit time (a
quiz: learning.lecture_requirements) is checked inside the lectures' queries.

Requirements beyond credit hours come from providers registered with the Wagtail
hook `register_plan_requirements`. This app registers the lecture and series
provider; the exams and observations apps register exams and court observations the same way, so
this module never imports it. A provider subclasses `RequirementProvider`:

    @hooks.register("register_plan_requirements")
    def exam_requirements():
        return ExamRequirementProvider()

and implements `required_items(plans)` -> {plan.pk: [RequirementItem, ...]} and
`done_keys(official_ids, year, items)` -> {official_id: {item.key, ...}}, where
`items` are only the provider's own items that these officials need and
`official_ids` is a sequence of ints (an `IdArray`: pass it on to `__any_of`); it may
add edit panels (e.g. an InlinePanel of its own ParentalKey model pointing at
learning.StudyPlan) through `panels()`, and credit time of its own (court observations)
through `credit_seconds(official_ids, year)` -> {official_id: seconds}.

Three rules shape what a year requires of an official:

- Exemption (`StudyExemption` for the year: long sick leave, secondment): nothing is
  required; the Completion has `exempt=True` and counts as complete. Reports show
  exempted officials apart and leave them out of the share of officials complete.
- Joining mid-year (`Official.joined_on` inside the year): the plan's credit hours are
  prorated by the whole calendar months left after joining (a joiner on the 1st of a
  month gets that month), rounded up to the next half hour; required items with a
  window (`RequirementItem.closes_at`: an exam session's close, an observation's
  hearing) that closed before the joining day are not required of them. Someone who
  joins after the year has no requirements for it. A blank `joined_on` means the
  official was there all along.
- Credit of the year counts wherever it was earned: a transfer between departments
  changes where reports list the official, never what they have done.
"""

import contextlib
import dataclasses
import datetime
import gc
import math
from collections import defaultdict

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail import hooks

from . import lecture_requirements
from .fast.dashboard import SHARED_FAMILY
from .fast.memo import Held
from .fast.shells import FAMILY as PAGES_FAMILY
from .lookups import IdArray
from .models import (
    LecturePage,
    Official,
    SessionAttendance,
    StudyExemption,
    StudyPlan,
    StudyRecord,
)
from .models.study import Audience, year_bounds

# Officials per round of queries. Each round scans the year's attendance again, so
# larger is faster for many officials (issue #6: everyone of 50,000 in chunks of 500,
# 804 queries and 2.2 s; of 5,000, 84 queries and 0.8 s).
CHUNK_SIZE = 5_000


@dataclasses.dataclass(frozen=True)
class RequirementItem:
    """One required thing. `key` is unique across providers ("lecture:12",
    "exams.session:3"); `obj` is the object itself, for links in templates;
    `closes_at` (aware datetime or None) is when the chance to do it ends, so that
    it is not required of someone who joined after that."""

    key: str
    kind: str
    label: str
    obj: object = dataclasses.field(default=None, compare=False, hash=False, repr=False)
    closes_at: object = dataclasses.field(default=None, compare=False, hash=False, repr=False)
    # Where the official does it, when that is not the object's own page (`obj.url`).
    link: str = dataclasses.field(default="", compare=False, hash=False, repr=False)

    @property
    def kind_label(self):
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def url(self):
        """Where the official goes to do it (a to-do on the dashboard is a link)."""
        return self.link or getattr(self.obj, "url", None) or ""


KIND_LABELS = {
    "lecture": _("Lecture"),
    "series": _("Series"),
    "exam": _("Exam"),
    "observation": _("Court observation"),
}


class RequirementProvider:
    """Base class for what a study plan can require besides credit hours."""

    def required_items(self, plans):
        """{plan.pk: [RequirementItem]} for the given plans (a bounded number of queries)."""
        raise NotImplementedError

    def done_keys(self, official_ids, year, items):
        """{official_id: {key}} of the `items` (this provider's) each official has done
        by the end of `year` (a bounded number of queries for any number of officials)."""
        raise NotImplementedError

    def credit_seconds(self, official_ids, year):
        """{official_id: seconds} of credit time this provider grants in `year`
        (a bounded number of queries); most providers grant none."""
        return {}

    def panels(self):
        """Extra Wagtail edit panels for the study plan form."""
        return []


class LectureRequirements(RequirementProvider):
    """Required lectures (completed by the end of the year, or attended at a collective
    study session that presented them, and what else they require met by then: see
    learning.lecture_requirements) and series (every live lecture in it done)."""

    def required_items(self, plans):
        plan_ids = [plan.pk for plan in plans]
        items = defaultdict(list)
        lecture_links = StudyPlan.required_lectures.through.objects.filter(
            studyplan_id__in=plan_ids, lecturepage__live=True
        ).select_related("lecturepage")
        for link in lecture_links.order_by("lecturepage__date", "lecturepage_id"):
            lecture = link.lecturepage
            items[link.studyplan_id].append(
                RequirementItem(f"lecture:{lecture.pk}", "lecture", lecture.title, lecture)
            )
        series_links = StudyPlan.required_series.through.objects.filter(
            studyplan_id__in=plan_ids, lectureseriespage__live=True
        ).select_related("lectureseriespage")
        for link in series_links.order_by("lectureseriespage__title"):
            series = link.lectureseriespage
            items[link.studyplan_id].append(
                RequirementItem(f"series:{series.pk}", "series", series.title, series)
            )
        return items

    def done_keys(self, official_ids, year, items):
        lecture_ids = {item.obj.pk for item in items if item.kind == "lecture"}
        series = [item.obj for item in items if item.kind == "series"]
        series_lectures = defaultdict(set)
        if series:
            in_series = Q()
            for s in series:
                in_series |= Q(path__startswith=s.path, depth=s.depth + 1)
            for pk, path in LecturePage.objects.live().filter(in_series).values_list("pk", "path"):
                for s in series:
                    if path.startswith(s.path):
                        series_lectures[s.pk].add(pk)
                        lecture_ids.add(pk)
        done = defaultdict(set)
        if not lecture_ids:
            return done
        _start, end = year_bounds(year)
        completed = defaultdict(set)
        records = StudyRecord.objects.filter(
            official_id__any_of=official_ids, lecture_id__in=lecture_ids, completed_at__lt=end
        )
        attended = SessionAttendance.objects.filter(
            official_id__any_of=official_ids,
            session__lecture_id__in=lecture_ids,
            session__date__lt=end.date(),
        )
        # A lecture with a required quiz (learning.lecture_requirements) is completed
        # once that is passed too, by the year's end: checked inside these queries.
        unmet = lecture_requirements.unmet_condition("lecture_id", "official_id", end)
        if unmet is not None:
            records = records.exclude(unmet)
            attended = attended.exclude(
                lecture_requirements.unmet_condition("session__lecture_id", "official_id", end)
            )
        for official_id, lecture_id in records.values_list("official_id", "lecture_id"):
            completed[official_id].add(lecture_id)
        for official_id, lecture_id in attended.values_list("official_id", "session__lecture_id"):
            completed[official_id].add(lecture_id)
        for official_id, lectures in completed.items():
            done[official_id].update(f"lecture:{pk}" for pk in lectures)
            for s in series:
                if series_lectures[s.pk] and series_lectures[s.pk] <= lectures:
                    done[official_id].add(f"series:{s.pk}")
        return done


def providers():
    """Every registered requirement provider, in hook order."""
    found = []
    for hook in hooks.get_hooks("register_plan_requirements"):
        result = hook()
        found.extend(result if isinstance(result, list | tuple) else [result])
    return found


@dataclasses.dataclass
class Completion:
    """An official's standing against the year's plans: credit and each required item."""

    official_id: int
    year: int
    plans: list
    required_seconds: int = 0
    lecture_seconds: int = 0
    session_seconds: int = 0
    other_seconds: int = 0  # from providers' credit_seconds (court observations)
    done: list = dataclasses.field(default_factory=list)
    missing: list = dataclasses.field(default_factory=list)
    exempt: bool = False
    exemption_reason: str = ""
    joined_on: datetime.date | None = None  # set when it changed the requirements
    plan_seconds: int = 0  # the plans' hours before proration for a mid-year joiner

    @property
    def has_plan(self):
        return bool(self.plans)

    @property
    def prorated(self):
        return self.joined_on is not None and self.plan_seconds != self.required_seconds

    @property
    def credited_seconds(self):
        return self.lecture_seconds + self.session_seconds + self.other_seconds

    @property
    def other_hours(self):
        return round(self.other_seconds / 3600, 1)

    @property
    def credited_hours(self):
        return round(self.credited_seconds / 3600, 1)

    @property
    def required_hours(self):
        return round(self.required_seconds / 3600, 1)

    @property
    def missing_hours(self):
        """Credit hours still to earn (rounded up to a tenth: never shown as 0.0)."""
        missing = max(0, self.required_seconds - self.credited_seconds)
        return math.ceil(missing / 360) / 10

    @property
    def credit_met(self):
        return self.credited_seconds >= self.required_seconds

    @property
    def credit_percent(self):
        if not self.required_seconds:
            return 100
        return min(100, int(100 * self.credited_seconds / self.required_seconds))

    @property
    def is_complete(self):
        return self.exempt or (self.credit_met and not self.missing)

    @property
    def required_items(self):
        return [*self.done, *self.missing]


def months_left(joined_on, year):
    """Whole calendar months of `year` left after joining on `joined_on` (12 for
    someone there since before the year, 0 for someone joining after it)."""
    if joined_on is None or joined_on.year < year:
        return 12
    if joined_on.year > year:
        return 0
    return 12 - joined_on.month + (1 if joined_on.day == 1 else 0)


def prorated_seconds(seconds, joined_on, year):
    """A mid-year joiner's share of the plan's credit time, rounded up to half an hour."""
    months = months_left(joined_on, year)
    if months >= 12 or not seconds:
        return seconds
    half_hours = math.ceil(seconds * months / 12 / 1800 - 1e-9)
    return min(seconds, half_hours * 1800)


def _joined_at(joined_on):
    tz = timezone.get_current_timezone()
    return datetime.datetime.combine(joined_on, datetime.time.min, tzinfo=tz)


def _applies(plan, is_leader, department_path):
    if plan.audience == Audience.ALL:
        return True
    if plan.audience == Audience.LEADERS:
        return is_leader
    return any(department_path.startswith(d.path) for d in plan.departments.all())


@contextlib.contextmanager
def cyclic_gc_paused():
    """Pause Python's cycle collector while a report makes its tens of thousands of
    small objects (Completions, rows), which it keeps until it is done: the
    collector's passes over them cost as much CPU as the report's own work (issue #6:
    build_report for 50,000 officials, 2.0 s of CPU with them, 1.0 s without).
    Reference counting still frees whatever is dropped, and the collector runs
    again afterwards. Nests; leaves the collector off if it was off."""
    pause = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause:
            gc.enable()


def evaluate(officials, year, plans=None, chunk_size=CHUNK_SIZE):
    """{official.pk: Completion} for `officials` (Official instances, primary keys or a
    queryset) against the plans of `year` (`plans`: the caller's plans_for_year(year)).
    Query count depends on the number of providers and chunks of `chunk_size` officials,
    never on the number of officials or on the plans' contents."""
    with cyclic_gc_paused():
        return _evaluate(officials, year, plans, chunk_size)


def _evaluate(officials, year, plans, chunk_size):
    official_ids = _official_ids(officials)
    all_providers = providers()
    if plans is None:
        plans, plan_items, own_items = _declared_for_year.get(year)
    else:
        plan_items, own_items = _declared_items(all_providers if plans else [], plans)
    active_providers = all_providers if plans else []
    required_of = _Requirements(plans, plan_items)
    results = {}
    for offset in range(0, len(official_ids), chunk_size):
        chunk = IdArray(official_ids[offset : offset + chunk_size])
        needed = _start_completions(chunk, year, required_of, results)
        done = _done_keys(needed, year, active_providers, own_items)
        _add_credit_time(chunk, year, all_providers, results)
        _sort_items(needed, done, results)
    return results


def _official_ids(officials):
    """Primary keys of `officials`: a queryset, instances or primary keys."""
    if hasattr(officials, "values_list"):
        return list(officials.values_list("pk", flat=True))
    return [getattr(o, "pk", o) for o in officials]


def _declared_items(active_providers, plans):
    """({plan.pk: [RequirementItem]} from every provider, [each provider's own items]):
    a provider is asked only about the items it declared itself."""
    plan_items = defaultdict(list)
    own_items = []
    for provider in active_providers:
        mine = set()
        for plan_id, items in provider.required_items(plans).items():
            plan_items[plan_id].extend(items)
            mine.update(items)
        own_items.append(frozenset(mine))
    return dict(plan_items), own_items


def _load_declared(year):
    plans = plans_for_year(year)
    plan_items, own_items = _declared_items(providers() if plans else [], plans)
    return plans, plan_items, own_items


# The year's plans and what they require are the same for every official, and every
# first dashboard of the morning would ask for them again: they are held in each app
# process while the "pages" family (lecture and series titles, what is live) and the
# dashboard's shared family (plans, exam sessions, observations, departments) stay
# current (learning.fast.memo). Held values are shared between requests: read only.
_declared_for_year = Held((PAGES_FAMILY, SHARED_FAMILY), _load_declared)


def held_plans_for_year(year):
    """The year's plans as `plans_for_year` reads them, held in the app process with
    what they require (see above): for the dashboard, whose `completion_for(official,
    year)` then uses the same held value. Read only."""
    return _declared_for_year.get(year)[0]


class _Requirements:
    """What the plans ask of an official by (is_leader, department path): (plans that
    apply, credit seconds, required items). Worked out once per kind of official, since
    thousands of officials share a handful of departments."""

    def __init__(self, plans, plan_items):
        self.plans = plans
        self.plan_items = plan_items
        self.standing = {}

    def __call__(self, is_leader, path):
        key = (is_leader, path)
        if key not in self.standing:
            mine = [plan for plan in self.plans if _applies(plan, is_leader, path)]
            seconds = max((plan.required_seconds for plan in mine), default=0)
            items = list(
                dict.fromkeys(i for plan in mine for i in self.plan_items.get(plan.pk, ()))
            )
            self.standing[key] = (mine, seconds, items)
        return self.standing[key]


def _start_completions(chunk, year, required_of, results):
    """A Completion in `results` for each official of the chunk, with the credit time
    required (exemptions and mid-year joining applied); returns {official_id: [items
    required of them]}. Two queries, one without plans."""
    plans = required_of.plans
    start, end = year_bounds(year)
    start_day, end_day = start.date(), end.date()
    exemptions = dict(
        StudyExemption.objects.filter(official_id__any_of=chunk, year=year)
        .order_by()  # the default order joins the officials
        .values_list("official_id", "reason")
    )
    if plans:
        profiles = (
            Official.objects.filter(pk__any_of=chunk)
            .order_by()
            .values_list("pk", "is_leader", "department__path", "joined_on")
        )
    else:  # nothing is required of anyone: no need to know who they are
        profiles = [(pk, False, "", None) for pk in chunk]
    needed = {}
    for pk, is_leader, path, joined_on in profiles:
        mine, plan_seconds, items = required_of(is_leader, path)
        completion = results[pk] = Completion(
            official_id=pk, year=year, plans=list(mine), plan_seconds=plan_seconds
        )
        if pk in exemptions:
            completion.exempt, completion.exemption_reason = True, exemptions[pk]
            needed[pk] = []
            continue
        completion.required_seconds = plan_seconds
        if mine and joined_on is not None and joined_on > start_day:
            items = _prorate_for_joiner(completion, items, joined_on, end_day)
        needed[pk] = items
    return needed


def _prorate_for_joiner(completion, items, joined_on, end_day):
    """Prorate a mid-year joiner's credit time; return the items still required of them
    (none if they join after the year; only those whose window was open on joining)."""
    completion.joined_on = joined_on
    completion.required_seconds = prorated_seconds(
        completion.plan_seconds, joined_on, completion.year
    )
    joined_at = _joined_at(joined_on)
    return [
        i for i in items if joined_on < end_day and (i.closes_at is None or i.closes_at > joined_at)
    ]


def _done_keys(needed, year, active_providers, own_items):
    """{official_id: {key}} of the required items done, one provider query each for
    the providers whose items anyone here needs."""
    lists = {id(items): items for items in needed.values()}  # most are shared
    all_items = set().union(*lists.values())
    done = defaultdict(set)
    if any(needed.values()):
        asked_ids = IdArray(needed)
        for provider, mine in zip(active_providers, own_items, strict=True):
            asked = all_items & mine
            if asked:
                for pk, keys in provider.done_keys(asked_ids, year, asked).items():
                    done[pk].update(keys)
    return done


def _add_credit_time(chunk, year, all_providers, results):
    """Credit time of the year: lectures, collective study sessions and what providers
    grant (two queries, and one per provider that grants any)."""
    start, end = year_bounds(year)
    for pk, seconds in (
        StudyRecord.objects.filter(official_id__any_of=chunk)
        .active_in_year(year)
        .values("official_id")
        .annotate(total=Sum("credited_seconds"))
        .values_list("official_id", "total")
    ):
        if pk in results:
            results[pk].lecture_seconds = seconds or 0
    for pk, minutes in (
        SessionAttendance.objects.filter(
            official_id__any_of=chunk,
            session__date__gte=start.date(),
            session__date__lt=end.date(),
        )
        .values("official_id")
        .annotate(total=Sum("session__credit_minutes"))
        .values_list("official_id", "total")
    ):
        if pk in results:
            results[pk].session_seconds = (minutes or 0) * 60
    for provider in all_providers:
        for pk, seconds in provider.credit_seconds(chunk, year).items():
            if pk in results:
                results[pk].other_seconds += seconds or 0


def _sort_items(needed, done, results):
    """Split each official's required items into done and missing."""
    no_keys = frozenset()
    for pk, items in needed.items():
        if items:
            keys = done.get(pk, no_keys)
            completion = results[pk]
            completion.done = [i for i in items if i.key in keys]
            completion.missing = [i for i in items if i.key not in keys]


def plans_for_year(year):
    """The year's study plans with what `evaluate` needs of them (two queries)."""
    return list(StudyPlan.objects.for_year(year).prefetch_related("departments"))


def completion_for(official, year, plans=None):
    """One official's Completion for a year (see `evaluate`)."""
    return evaluate([official], year, plans)[official.pk]


__all__ = [
    "Completion",
    "LectureRequirements",
    "RequirementItem",
    "RequirementProvider",
    "completion_for",
    "cyclic_gc_paused",
    "evaluate",
    "held_plans_for_year",
    "months_left",
    "plans_for_year",
    "prorated_seconds",
    "providers",
]
