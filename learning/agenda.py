"""The year's meeting law-study agenda (会前学法): an item planned for a meeting
becomes a collective-study record when the meeting is held, or is cancelled with a
reason; items still planned after their date are overdue.

Recording an item as held is idempotent: the first request claims the item (planned →
held) in the same transaction that creates its `CollectiveStudySession`, so a double
submit, or two organizers at once, make one record and credit nobody twice. Credit
then follows the collective-study rules unchanged (`learning.completion`: attendance
× the session's credit minutes, in the session's year)."""

import dataclasses
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail import hooks
from wagtail.log_actions import log

from .models import AgendaItem, AgendaStatus, CollectiveStudySession, Official

HELD = "xuefa.agenda.held"
CANCELLED = "xuefa.agenda.cancelled"
ATTENDANCE = "xuefa.agenda.attendance"
# Follow-up questions (会后测试) are exams' lecture quiz: exams registers a provider
# here (`summaries(items)`, `attendance_recorded(item)`), learning never imports it.
FOLLOW_UP_HOOK = "register_agenda_follow_up"


def register_log_actions(actions):
    actions.register_action(
        HELD, gettext_lazy("Record as held"), gettext_lazy("Agenda item recorded as held")
    )
    actions.register_action(
        CANCELLED, gettext_lazy("Cancel agenda item"), gettext_lazy("Agenda item cancelled")
    )
    actions.register_action(
        ATTENDANCE,
        gettext_lazy("Change attendance"),
        gettext_lazy("Attendance of a collective study record changed"),
    )


class AgendaRefused(Exception):
    """The item cannot do what was asked (already cancelled, already held, …); the
    message is for the person."""


def session_initial(item):
    """What the collective-study record of `item` starts from: the agenda's own plan."""
    return {
        "date": item.date,
        "meeting": item.meeting,
        "title": item.title,
        "topics": list(item.topics.all()),
        "lecturer": item.speaker,
        "lecture": item.lecture,
        "credit_minutes": item.credit_minutes,
    }


@dataclasses.dataclass
class FollowUpSummary:
    """How an item's follow-up questions went, for the organizer: no `quiz_url` means
    the lecture has no quiz yet (then `create_url` leads to making one)."""

    quiz_url: str = ""
    create_url: str = ""
    attended: int = 0
    answered: int = 0
    passed: int = 0
    average: object = None  # Decimal percent of the answers, None before any

    @property
    def has_quiz(self):
        return bool(self.quiz_url)


def follow_up_providers():
    return [hook() for hook in hooks.get_hooks(FOLLOW_UP_HOOK)]


def follow_up_summaries(items):
    """{item pk: FollowUpSummary} of the items with follow-up questions on."""
    items = [item for item in items if item.follow_up_questions]
    found = {}
    if items:
        for provider in follow_up_providers():
            found.update(provider.summaries(items))
    return found


def attendance_recorded(session_id):
    """Once the transaction commits, tell the follow-up providers that the attendance
    of this record changed (they remind the new attendees once)."""
    transaction.on_commit(partial(_tell_providers, session_id), robust=True)


def _tell_providers(session_id):
    item = (
        AgendaItem.objects.filter(
            session_id=session_id, follow_up_questions=True, status=AgendaStatus.HELD
        )
        .select_related("session", "lecture")
        .first()
    )
    if item is not None:
        for provider in follow_up_providers():
            provider.attendance_recorded(item)


def check_follow_up(on, lecture):
    if on and lecture is None:
        raise AgendaRefused(_("Follow-up questions need a lecture page: choose one."))


@dataclasses.dataclass
class Recorded:
    session: CollectiveStudySession
    created: bool


def record_held(item, values=None, user=None):
    """Record `item` as held: create its collective-study record from `values` (the
    fields of `session_initial`, as the organizer confirmed them) and link it.
    Returns Recorded(session, created); a second call returns the first record with
    created=False. Raises AgendaRefused for a cancelled item."""
    values = {**session_initial(item), **(values or {})}
    topics = values.pop("topics", [])
    follow_up = {
        name: values.pop(name)
        for name in ("follow_up_questions", "follow_up_days")
        if name in values
    }
    check_follow_up(follow_up.get("follow_up_questions"), values.get("lecture"))
    if follow_up:
        # The follow-up asks the quiz of the lecture actually studied.
        follow_up["lecture"] = values.get("lecture")
    with transaction.atomic():
        # The claim is the first write: a concurrent request waits on it and then
        # finds the item no longer planned.
        # A held item whose record was deleted may be recorded again.
        claimed = (
            AgendaItem.objects.filter(pk=item.pk, session__isnull=True)
            .exclude(status=AgendaStatus.CANCELLED)
            .update(status=AgendaStatus.HELD)
        )
        if not claimed:
            current = AgendaItem.objects.select_related("session").get(pk=item.pk)
            if current.session is None:
                raise AgendaRefused(_("This item was cancelled; it cannot be recorded as held."))
            _refresh(item, current)
            return Recorded(current.session, created=False)
        session = CollectiveStudySession(**values)
        session.topics = topics
        session.save()
        AgendaItem.objects.filter(pk=item.pk).update(session=session, **follow_up)
        for name, value in follow_up.items():
            setattr(item, name, value)
        item.status, item.session = AgendaStatus.HELD, session
        log(item, HELD, user=user, data={"session": session.pk})
        attendance_recorded(session.pk)
    return Recorded(session, created=True)


def _refresh(item, current):
    item.status, item.session, item.cancel_reason = (
        current.status,
        current.session,
        current.cancel_reason,
    )


def cancel(item, reason, user=None):
    """Cancel a planned item with the reason (kept for the year's report). Cancelling
    it again changes nothing; a held item cannot be cancelled (its record stands)."""
    reason = (reason or "").strip()
    if not reason:
        raise AgendaRefused(_("Say why the item was cancelled."))
    with transaction.atomic():
        claimed = AgendaItem.objects.filter(pk=item.pk, status=AgendaStatus.PLANNED).update(
            status=AgendaStatus.CANCELLED, cancel_reason=reason[:200]
        )
        current = AgendaItem.objects.get(pk=item.pk)
        _refresh(item, current)
        if not claimed:
            if current.status == AgendaStatus.HELD:
                raise AgendaRefused(_("This item was held; it cannot be cancelled."))
            return False
        log(item, CANCELLED, user=user, data={"reason": item.cancel_reason})
    return True


def overdue(today=None):
    """Items still planned after their date, oldest first."""
    return AgendaItem.objects.overdue(today or timezone.localdate()).order_by("date", "pk")


# --- Attendance by ticks ---------------------------------------------------------------


def officials_of(departments):
    """Active officials of the chosen departments (and below), as a tick list shows them."""
    return (
        Official.objects.active()
        .in_any_department(departments)
        .select_related("user", "department")
        .order_by("department__path", "staff_number")
    )


def attending_ids(session):
    return set(session.attendance.values_list("official_id", flat=True))


def set_attendance(session, shown_ids, ticked_ids, user=None):
    """Among the officials a tick list showed, the ticked attended and the others did
    not. Officials not shown, and those counted through a whole attending department,
    stay as they are. Returns (added, removed) counts."""
    shown_ids, ticked_ids = set(shown_ids), set(ticked_ids) & set(shown_ids)
    with transaction.atomic():
        session = CollectiveStudySession.objects.select_for_update().get(pk=session.pk)
        picked = {o.pk for o in session.attendees.all()}
        before = attending_ids(session)
        picked = (picked - shown_ids) | ticked_ids
        session.attendees.set(Official.objects.filter(pk__in=picked))
        session.save()
        after = attending_ids(session)
        added, removed = len(after - before), len(before - after)
        if added or removed:
            log(session, ATTENDANCE, user=user, data={"added": added, "removed": removed})
        if added:
            attendance_recorded(session.pk)
    return added, removed


def add_attendees(session, official_ids, user=None):
    """Record these officials as attending (the sign-in list import). Returns
    (added, already recorded) counts."""
    official_ids = set(official_ids)
    with transaction.atomic():
        session = CollectiveStudySession.objects.select_for_update().get(pk=session.pk)
        before = attending_ids(session)
        new = official_ids - before
        if new:
            picked = {o.pk for o in session.attendees.all()} | new
            session.attendees.set(Official.objects.filter(pk__in=picked))
            session.save()
            log(session, ATTENDANCE, user=user, data={"added": len(new), "removed": 0})
            attendance_recorded(session.pk)
    return len(new), len(official_ids & before)
