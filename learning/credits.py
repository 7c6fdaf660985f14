"""Study credit measured on the server (学时).

While a lecture page is open and visible it sends a heartbeat every
XUEFA_HEARTBEAT_SECONDS. The rule is per official, not per lecture: every heartbeat of
any of their lectures, tabs and devices is measured from one anchor, their StudyClock.
A beat credits min(now - anchor, cap) to the lecture it comes from, the cap being the
interval plus XUEFA_HEARTBEAT_MARGIN_SECONDS, and moves the anchor on by exactly what
was credited (to now after a gap longer than the cap). The anchor moves by
compare-and-set, so concurrent heartbeats never credit the same interval twice, six
lectures open at once earn what one would, and a script posting faster than real time
gains nothing: the credit summed over all of an official's lectures never exceeds the
wall-clock time between their first heartbeat and their last."""

import contextlib
import dataclasses
import datetime

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fast import dashboard as fast_dashboard
from .models import LecturePage, Official, StudyRecord
from .models.study import StudyClock, heartbeat_seconds, study_state  # noqa: F401 - theirs

START = "start"
BEAT = "beat"
ENDED = "ended"
EVENTS = (START, BEAT, ENDED)

_MAX_ATTEMPTS = 5


class StudyRefused(Exception):
    """The heartbeat cannot be credited; `str(exc)` is a translated reason."""


def max_credit_seconds():
    """The most one heartbeat can credit: the interval plus a margin for network delay."""
    return heartbeat_seconds() + int(settings.XUEFA_HEARTBEAT_MARGIN_SECONDS)


# Sent once per official and lecture, after the commit, when the credited time first
# completes the lecture (credit is written with update(), so no model signal tells):
# sender LecturePage, with `official`, `lecture` (the page as served) and `record`.
# Other apps act on a completion through it (a case study's make-up, say).
lecture_completed = Signal()


@dataclasses.dataclass
class Heartbeat:
    record: StudyRecord
    added_seconds: int = 0
    completed_now: bool = False


def official_for(user):
    """The user's Official profile, or None for anonymous users and non-officials."""
    if not user.is_authenticated:
        return None
    try:
        return user.official
    except user.__class__.official.RelatedObjectDoesNotExist:
        return None


@dataclasses.dataclass(frozen=True)
class LectureTerms:
    """What crediting reads of a lecture (a LecturePage has the same attributes):
    building a whole Wagtail page for each heartbeat would cost more than the query."""

    pk: int
    live: bool
    credit_minutes: int
    video_minutes: int | None

    @property
    def credit_seconds(self):
        return self.credit_minutes * 60


def heartbeat_state(user, lecture_id):
    """(lecture, official, record) for a heartbeat, in one query: the lecture's terms
    (LectureTerms) if it exists and is live (else None), the user's Official (None for
    non-officials) with their StudyClock (`official.study_clock`, or none before their
    first heartbeat) and their record for it (None before the lecture's first
    heartbeat). Each carries only the columns crediting reads."""
    # Plain SQL, as in study_state: the ORM takes longer to build this query than the
    # database takes to answer it, and a lecture page sends one every 30 seconds.
    lectures = LecturePage._meta.db_table
    pages = LecturePage._meta.get_field("live").model._meta.db_table
    officials, records = Official._meta.db_table, StudyRecord._meta.db_table
    clocks = StudyClock._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.live, l.credit_minutes, l.video_minutes, o.id, c.anchor_at, "  # noqa: S608
            "r.id, r.credited_seconds, r.started_at, r.last_heartbeat_at, r.completed_at "
            f"FROM {lectures} l INNER JOIN {pages} p ON p.id = l.page_ptr_id "
            f"LEFT JOIN {officials} o ON o.user_id = %s "
            f"LEFT JOIN {clocks} c ON c.official_id = o.id "
            f"LEFT JOIN {records} r ON r.official_id = o.id AND r.lecture_id = l.page_ptr_id "
            "WHERE l.page_ptr_id = %s AND p.live",
            [user.pk, lecture_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None, None, None
    page_id, live, credit_minutes, video_minutes, official_id, anchor, record_id, *times = row
    lecture = LectureTerms(page_id, bool(live), credit_minutes, video_minutes)
    if official_id is None:
        return lecture, None, None
    official = _instance(Official, id=official_id, user_id=user.pk)
    clock = None
    if anchor is not None:
        clock = _instance(StudyClock, official_id=official_id, anchor_at=_aware(anchor))
    # Cached as select_related would (None: no clock yet), so crediting reads no more.
    Official.study_clock.related.set_cached_value(official, clock)
    if record_id is None:
        return lecture, official, None
    credited, started, last, completed = times
    record = _instance(
        StudyRecord,
        id=record_id,
        official_id=official_id,
        lecture_id=page_id,
        credited_seconds=credited,
        started_at=_aware(started),
        last_heartbeat_at=_aware(last),
        completed_at=_aware(completed),
    )
    record.official = official
    return lecture, official, record


def _instance(model, **values):
    """A model instance as the ORM loads it, with only these fields (others deferred)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _aware(value):
    """A datetime column as the ORM would give it (SQLite hands back text)."""
    if value is not None and (isinstance(value, str) or timezone.is_naive(value)):
        value = connection.ops.convert_datetimefield_value(value, None, connection)
    return value


def record_for(user, lecture):
    """The official's record for a lecture, or None (not started, not an official)."""
    official = official_for(user)
    if official is None:
        return None
    return StudyRecord.objects.filter(official=official, lecture_id=lecture.pk).first()


def _completes(lecture, credited, event):
    if credited >= lecture.credit_seconds:
        return True
    return bool(event == ENDED and lecture.video_minutes and credited >= lecture.video_minutes * 60)


def credit_heartbeat(user, lecture, event=BEAT, now=None, record=None, official=None):
    """Credit one heartbeat of `user` studying `lecture` and return a Heartbeat.

    `start` (page opened or shown again) only starts the official's clock, unless one
    of their tabs is already beating; `beat` credits min(elapsed since the official's
    anchor, cap) to this lecture; `ended` (the video finished) is a beat that also
    completes the lecture once the credited time covers the video length. A lecture's
    first heartbeat counts as `start`. Raises StudyRefused for anonymous users,
    non-officials and lectures that are not live. `record` and `official`, when the
    caller already loaded them (see heartbeat_state), save the queries that look
    them up.
    """
    official, record = _own(user, official, record)
    if official is None:
        raise StudyRefused(_("Only signed-in officials earn study credit."))
    if not lecture.live:
        raise StudyRefused(_("This lecture is not published."))
    if event not in EVENTS:
        raise StudyRefused(_("Unknown study event."))
    now = now or timezone.now()
    cap = datetime.timedelta(seconds=max_credit_seconds())

    if record is None:
        record, created = StudyRecord.objects.get_or_create(
            official=official,
            lecture_id=lecture.pk,
            defaults={"started_at": now, "last_heartbeat_at": now},
        )
        if created:
            event = START
    anchor = _anchor(official)
    for _attempt in range(_MAX_ATTEMPTS):
        if event == START or anchor is None:
            beat = _start(official, record, anchor, now, cap)
        else:
            beat = _beat(lecture, official, record, anchor, event, now, cap)
        if beat is not None:
            if beat.added_seconds or beat.completed_now:
                # Credit is written with update(): no signal tells the dashboard.
                fast_dashboard.touch(official.pk, user.pk)
            if beat.completed_now:
                _announce_completion(official, lecture, beat.record)
            return beat
        # Another heartbeat moved the anchor or the record first: read both again.
        record.refresh_from_db()
        anchor = StudyClock.objects.filter(pk=official.pk).values_list("anchor_at", flat=True)
        anchor = anchor.first()
    return Heartbeat(record)


def _announce_completion(official, lecture, record):
    def send():
        lecture_completed.send(LecturePage, official=official, lecture=lecture, record=record)

    transaction.on_commit(send)


def _own(user, official, record):
    """(official, record) to credit: the caller's when they are the user's own, else
    the user's Official (None for non-officials) and no record (to be looked up)."""
    if official is None and record is not None:
        official = record.official
    if official is None or not user.is_authenticated or official.user_id != user.pk:
        return official_for(user), None
    if record is not None and record.official_id != official.pk:
        return official, None
    return official, record


def _anchor(official):
    """The official's anchor, None before their first heartbeat: as heartbeat_state
    read it along with the official, else from the database."""
    if Official.study_clock.is_cached(official):
        clock = Official.study_clock.related.get_cached_value(official)
        return None if clock is None else clock.anchor_at
    return StudyClock.objects.filter(pk=official.pk).values_list("anchor_at", flat=True).first()


def _remember(official, anchor):
    """Keep an anchor read with the official (heartbeat_state) equal to the stored one."""
    if Official.study_clock.is_cached(official):
        clock = StudyClock(official_id=official.pk, anchor_at=anchor)
        Official.study_clock.related.set_cached_value(official, clock)


def _start(official, record, anchor, now, cap):
    """Start the official's clock at now, or restart it after a gap longer than the
    cap; while any of their tabs is beating it stays where it is, so opening another
    lecture credits nothing extra. None when another heartbeat moved it first."""
    if anchor is not None and now - anchor <= cap:
        return Heartbeat(record)
    if anchor is None:
        # Two first heartbeats at once: either may set the clock, both at about now.
        StudyClock.objects.bulk_create(
            [StudyClock(official=official, anchor_at=now)], ignore_conflicts=True
        )
    elif not StudyClock.objects.filter(pk=official.pk, anchor_at=anchor).update(anchor_at=now):
        return None
    _remember(official, now)
    return Heartbeat(record)


def _beat(lecture, official, record, anchor, event, now, cap):
    """Credit min(now - anchor, cap), within what the lecture still has to give, and
    move the official's anchor on by exactly that (to now after a gap longer than the
    cap), keeping any fraction of a second for the next beat. None when another
    heartbeat moved the anchor or the record first."""
    if now <= anchor:
        # Another tab already counted up to now, or this request is late.
        return Heartbeat(record)
    elapsed = now - anchor
    measured = int(min(elapsed, cap).total_seconds())
    added = max(0, min(measured, lecture.credit_seconds - record.credited_seconds))
    moved = anchor + datetime.timedelta(seconds=added) if elapsed <= cap else now
    total = record.credited_seconds + added
    completed_at = record.completed_at
    if completed_at is None and _completes(lecture, total, event):
        completed_at = now
    if moved == anchor and added == 0 and completed_at == record.completed_at:
        return Heartbeat(record)
    if not _write(official, record, anchor, moved, added, completed_at, now):
        return None
    _remember(official, moved)
    completed_now = record.completed_at is None and completed_at is not None
    record.credited_seconds = total
    record.completed_at = completed_at
    if added:
        record.last_heartbeat_at = max(now, record.started_at)
    return Heartbeat(record, added, completed_now)


def _write(official, record, anchor, moved, added, completed_at, now):
    """Move the official's anchor from `anchor` to `moved` and credit the record, in
    one transaction when both change, each by compare-and-set: the anchor must still
    be `anchor`, the record's credit and completion still as read. Whether they were
    (if not, nothing is written)."""
    moves_anchor = moved != anchor
    touches_record = added > 0 or completed_at != record.completed_at
    both = moves_anchor and touches_record
    with transaction.atomic() if both else contextlib.nullcontext():
        clock = StudyClock.objects.filter(pk=official.pk, anchor_at=anchor)
        if moves_anchor and not clock.update(anchor_at=moved):
            return False
        if not touches_record:
            return True
        values = {"credited_seconds": record.credited_seconds + added}
        if added:
            values["last_heartbeat_at"] = max(now, record.started_at)
        if completed_at != record.completed_at:
            values["completed_at"] = completed_at
        unchanged = StudyRecord.objects.filter(
            pk=record.pk,
            credited_seconds=record.credited_seconds,
            completed_at__isnull=record.completed_at is None,
        )
        if not unchanged.update(**values):
            if both:
                transaction.set_rollback(True)
            return False
    return True
