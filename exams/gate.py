"""The credit gate (准入条件): what an official must have done before starting an
exam session, as its organizer set it: credit hours of the session's year (on some
law topics only, or any), the required lectures and series of their study plans,
and for a make-up, a failed attempt at the session it makes up.

Each unmet requirement is a Blocker saying what is missing and where to do it, for
the refusal at start, the session page and the reports. A session without a gate
costs no query; a gated one a bounded number for any number of officials."""

import dataclasses
import math
from collections import defaultdict
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Sum
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from learning.completion import evaluate
from learning.lookups import IdArray
from learning.models import LectureIndexPage, LecturePage, StudyRecord

from . import grading
from .models import Attempt

# Kinds of missing plan items the gate asks for: an exam item may be this very session.
LECTURE_KINDS = ("lecture", "series")


@dataclasses.dataclass(frozen=True)
class Blocker:
    """One unmet entry requirement: a translated sentence of what to do, and the
    address of the page where it is done ("" when there is none)."""

    message: str
    url: str = ""


def has_gate(session):
    """Whether the session sets any entry requirement, from its own fields (no query)."""
    return bool(
        session.gate_hours > 0
        or session.gate_required_lectures
        or (session.gate_makeup_after_fail and session.makes_up_id)
    )


def blockers(session, official):
    """[Blocker] standing between the official and a new attempt; [] lets them start."""
    if not has_gate(session):
        return []
    return blocked_officials(session, [official]).get(official.pk, [])


def blocked_officials(session, officials):
    """{official_id: [Blocker]} of the `officials` (instances or ids) who may not start
    the session yet; the others are left out. The same queries for one official or
    thousands: the topics, learning.completion.evaluate and one per other check."""
    if not has_gate(session):
        return {}
    ids = IdArray(getattr(o, "pk", o) for o in officials)
    if not ids:
        return {}
    found = defaultdict(list)
    if session.gate_makeup_after_fail and session.makes_up_id:
        _collect(found, _makeup_blockers(session, ids))
    topics = list(session.gate_topics.all()) if session.gate_hours > 0 else []
    completions = {}
    if session.gate_required_lectures or (session.gate_hours > 0 and not topics):
        # Credit alone needs no plans: evaluate then reads only the credit of the year.
        plans = None if session.gate_required_lectures else []
        completions = evaluate(ids, session.year, plans)
    if session.gate_hours > 0:
        if topics:
            credited = _topic_seconds(ids, session.year, topics)
        else:
            credited = {pk: c.credited_seconds for pk, c in completions.items()}
        _collect(found, _hours_blockers(session, ids, credited, topics))
    if session.gate_required_lectures:
        _collect(found, _lecture_blockers(completions))
    return dict(found)


def blocked_sessions(official, sessions):
    """{session.pk: [Blocker]} of the `sessions` the official may not start yet, for
    lists of an official's exams: a session without a gate costs no query."""
    found = {}
    for session in sessions:
        if has_gate(session):
            mine = blockers(session, official)
            if mine:
                found[session.pk] = mine
    return found


def _collect(found, pairs):
    for official_id, blocker in pairs:
        found[official_id].append(blocker)


def _makeup_blockers(session, ids):
    """A make-up after a failure: those whose counting attempt at the original session
    is missing (they did not sit it) or passed."""
    original = session.makes_up
    attempts = defaultdict(list)
    rows = (
        Attempt.objects.filter(session_id=original.pk, official_id__any_of=ids)
        .order_by()  # Attempt's default order joins sessions, officials and departments
        .values_list(*grading.AttemptResult._fields)
    )
    for attempt in map(grading.AttemptResult._make, rows):
        attempts[attempt.official_id].append(attempt)
    blocker = Blocker(
        _("Only officials who failed %(exam)s can sit this make-up") % {"exam": original.title},
        reverse("exams:session", args=[original.pk]),
    )
    for official_id in ids:
        result = grading.counting_attempt(original, attempts[official_id])
        if result is None or result.passed:
            yield official_id, blocker


def _topic_seconds(ids, year, topics):
    """{official_id: seconds} of lecture credit in `year` on lectures of the topics,
    each lecture once however many of the topics it has."""
    on_topics = LecturePage.topics.through.objects.filter(
        lawtopic_id__in=[t.pk for t in topics]
    ).values("lecturepage_id")
    rows = (
        StudyRecord.objects.filter(official_id__any_of=ids, lecture_id__in=on_topics)
        .active_in_year(year)
        .order_by()
        .values("official_id")
        .annotate(total=Sum("credited_seconds"))
        .values_list("official_id", "total")
    )
    return {official_id: total or 0 for official_id, total in rows}


def _hours_blockers(session, ids, credited, topics):
    """Those short of the hours: how many more (rounded up to a tenth) and where to
    study them, the lecture index or, for one topic, its listing."""
    required = int(session.gate_hours * 3600)
    url = None
    for official_id in ids:
        missing = required - credited.get(official_id, 0)
        if missing <= 0:
            continue
        if url is None:
            url = _study_url(topics)
        hours = number_format(Decimal(math.ceil(missing / 360)) / 10, decimal_pos=1)
        values = {"hours": hours, "year": str(session.year)}
        if topics:
            values["topics"] = pgettext("list separator", ", ").join(t.name for t in topics)
            message = _("Study %(hours)s more credit hours in %(year)s on %(topics)s") % values
        else:
            message = _("Study %(hours)s more credit hours in %(year)s") % values
        yield official_id, Blocker(message, url)


def _study_url(topics):
    index = LectureIndexPage.objects.live().first()
    if index is None:
        return ""
    url = index.url or ""
    if len(topics) == 1:
        url = f"{url}?{urlencode({'topic': topics[0].slug})}"
    return url


def _lecture_blockers(completions):
    """The required lectures and series of the official's plans not yet completed."""
    made = {}  # one Blocker per item, shared by everyone missing it
    for official_id, completion in completions.items():
        for item in completion.missing:
            if item.kind not in LECTURE_KINDS:
                continue
            if item.key not in made:
                made[item.key] = Blocker(_lecture_message(item), getattr(item.obj, "url", "") or "")
            yield official_id, made[item.key]


def _lecture_message(item):
    if item.kind == "series":
        return _("Complete the required series “%(title)s”") % {"title": item.label}
    return _("Complete the required lecture “%(title)s”") % {"title": item.label}
