"""What a lecture may ask besides its credit time before it counts as completed.

A lecture is completed when its credit time is done (or it was presented at a
collective study session the official attended) and every requirement other apps
attach to it as required is met: the exams app's quiz after the lecture (课后练习),
when its organizer made passing it required. learning imports no other app: apps
register a provider with the Wagtail hook `register_lecture_requirements`:

    @hooks.register("register_lecture_requirements")
    def quiz_requirements():
        return QuizRequirements()

A provider subclasses `LectureRequirementProvider`: `requirements(lecture_ids,
official_ids, before)` answers pages that show the requirements with one query,
whatever the number of lectures and officials; `unmet(...)` and `met_at(...)` give
expressions that bulk queries (learning.completion: plan completion, required
lectures and series, the exam gate, the reports; the printed records) filter and
annotate with, at no query of their own. Both read the same rows, so they agree.
"""

import dataclasses
import datetime
from collections import defaultdict

from django.db.models import Q

from wagtail import hooks

HOOK = "register_lecture_requirements"


@dataclasses.dataclass(frozen=True)
class LectureRequirement:
    """One thing a lecture asks besides its credit time (its quiz). `required`: the
    lecture counts as completed only once it is met. `met`: {official_id: when each
    of the officials asked about first met it}. The texts are the provider's,
    translated: `label` names it, `summary` says what it asks, `action` is the link's
    text to `url`, `done_text` and `pending_text` say whether it is met."""

    lecture_id: int
    key: str
    label: str
    required: bool
    url: str = ""
    summary: str = ""
    action: str = ""
    done_text: str = ""
    pending_text: str = ""
    met: dict = dataclasses.field(default_factory=dict, compare=False, hash=False)

    def met_at(self, official_id):
        return self.met.get(official_id)


class LectureRequirementProvider:
    """Base class for what a lecture can require besides credit time."""

    def requirements(self, lecture_ids, official_ids=(), before=None):
        """[LectureRequirement] of the lectures among `lecture_ids` (None: every
        lecture) that have one, each with `met` filled for `official_ids` (met before
        `before`, an aware datetime, when given). One query, however many lectures
        and officials."""
        raise NotImplementedError

    def unmet(self, lecture_ref, official_ref, before=None):
        """A boolean expression for a query whose rows name a lecture (the field
        `lecture_ref`) and an official (`official_ref`): true where the lecture has a
        required requirement the official had not met before `before` (any time when
        None). It runs inside that query: no query of its own."""
        raise NotImplementedError

    def met_at(self, lecture_ref, official_ref):
        """An expression for such a query: when the official first met the lecture's
        required requirement (NULL when there is none or it is not met)."""
        raise NotImplementedError


def providers():
    """Every registered provider, in hook order."""
    found = []
    for hook in hooks.get_hooks(HOOK):
        result = hook()
        found.extend(result if isinstance(result, list | tuple) else [result])
    return found


class LectureStanding:
    """The requirements of some lectures and who among some officials has met them."""

    def __init__(self, requirements=()):
        self.by_lecture = defaultdict(list)
        for requirement in requirements:
            self.by_lecture[requirement.lecture_id].append(requirement)

    def __bool__(self):
        return bool(self.by_lecture)

    def of(self, lecture_id):
        """The lecture's requirements, required or not."""
        return self.by_lecture.get(lecture_id, [])

    def unmet(self, official_id, lecture_id):
        """The lecture's required requirements the official has not met."""
        return [r for r in self.of(lecture_id) if r.required and r.met_at(official_id) is None]

    def completes(self, official_id, lecture_id):
        """Whether nothing required of the lecture beyond credit time is missing."""
        return not self.unmet(official_id, lecture_id)

    def completed_at(self, official_id, lecture_id, credit_done_at):
        """When the lecture was completed, its credit time having been done at
        `credit_done_at` (None: not done): the later of that and every required
        requirement met; None while any is missing."""
        if credit_done_at is None or not self.completes(official_id, lecture_id):
            return None
        dates = [r.met_at(official_id) for r in self.of(lecture_id) if r.required]
        return max([credit_done_at, *dates], key=_comparable)


def _comparable(value):
    """Dates and datetimes ordered together (a collective session has a date)."""
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.combine(value, datetime.time.min, tzinfo=datetime.UTC)


def standing(lecture_ids, official_ids=(), before=None):
    """LectureStanding of `lecture_ids` (None: every lecture that has a requirement)
    for `official_ids` (a sequence of ints, an IdArray for many): one query per
    provider, none without lectures."""
    if lecture_ids is not None:
        lecture_ids = list(dict.fromkeys(lecture_ids))
        if not lecture_ids:
            return LectureStanding()
    found = []
    for provider in providers():
        found.extend(provider.requirements(lecture_ids, official_ids, before))
    return LectureStanding(found)


def unmet_condition(lecture_ref, official_ref, before=None):
    """A condition for a query over rows naming a lecture and an official, true where
    something the lecture requires besides credit time is missing (see
    LectureRequirementProvider.unmet); None when no app requires anything."""
    condition = None
    for provider in providers():
        unmet = provider.unmet(lecture_ref, official_ref, before)
        condition = unmet if condition is None else Q(condition) | Q(unmet)
    return condition


def met_at_annotations(lecture_ref, official_ref):
    """{name: expression} of when each provider's required requirement was met, to
    annotate such a query with (see `completed_on`)."""
    return {
        f"requirement_met_{n}": provider.met_at(lecture_ref, official_ref)
        for n, provider in enumerate(providers())
    }


def completed_on(met, credit_done_at):
    """When a lecture was completed: the latest of its credit time done and `met`
    ({annotation name: value} of a row annotated with `met_at_annotations`), for a
    row where `unmet_condition` does not hold."""
    if credit_done_at is None:
        return None
    met = [value for value in met.values() if value is not None]
    return max([credit_done_at, *met], key=_comparable)


def with_requirements(records, official_id):
    """The official's StudyRecords, each given `requirements` ([(LectureRequirement,
    when met or None)]) and `complete_at` (when the lecture was completed,
    requirements included; None while it is not): one query. Returns (records as a
    list, whether any of them has a requirement)."""
    records = list(records)
    found = standing([r.lecture_id for r in records], [official_id])
    for record in records:
        record.requirements = [(r, r.met_at(official_id)) for r in found.of(record.lecture_id)]
        record.complete_at = found.completed_at(official_id, record.lecture_id, record.completed_at)
    return records, any(record.requirements for record in records)


def reader_requirements(request, lecture_id, official_id):
    """The lecture's requirements with the reader's standing, once per request (the
    lecture page's per-request parts may each ask)."""
    memo = request.__dict__.setdefault("_lecture_requirements", {})
    key = (lecture_id, official_id)
    if key not in memo:
        memo[key] = standing([lecture_id], [official_id] if official_id else [])
    return memo[key]
