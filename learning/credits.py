"""Study credit measured on the server (学时).

While a lecture page is open and visible it sends a heartbeat every
XUEFA_HEARTBEAT_SECONDS. Each heartbeat credits the real time since the previous one,
capped at the interval plus XUEFA_HEARTBEAT_MARGIN_SECONDS. All of an official's tabs
and devices share one anchor (`StudyRecord.last_heartbeat_at`), moved with a
compare-and-set UPDATE, so concurrent heartbeats never credit the same interval twice
and a script posting faster than real time gains nothing: the total credited can never
exceed the wall-clock time since the official opened the lecture."""

import dataclasses
import datetime

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import StudyRecord

START = "start"
BEAT = "beat"
ENDED = "ended"
EVENTS = (START, BEAT, ENDED)

_MAX_ATTEMPTS = 5


class StudyRefused(Exception):
    """The heartbeat cannot be credited; `str(exc)` is a translated reason."""


def heartbeat_seconds():
    return int(settings.XUEFA_HEARTBEAT_SECONDS)


def max_credit_seconds():
    """The most one heartbeat can credit: the interval plus a margin for network delay."""
    return heartbeat_seconds() + int(settings.XUEFA_HEARTBEAT_MARGIN_SECONDS)


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


def study_state(user, lecture):
    """(official_id, record) for showing a lecture page, in one query: whether the
    user earns credit here and their record so far (None when not started). The
    record carries only what the page shows."""
    if not user.is_authenticated:
        return None, None
    from django.db import connection

    from .models import Official

    # Plain SQL: the ORM spends several times longer building this LEFT JOIN than the
    # database spends answering it, on every lecture page view.
    officials, records = Official._meta.db_table, StudyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.id, r.id, r.credited_seconds, r.completed_at FROM {officials} o "  # noqa: S608
            f"LEFT JOIN {records} r ON r.official_id = o.id AND r.lecture_id = %s "
            "WHERE o.user_id = %s",
            [lecture.pk, user.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None, None
    official_id, record_id, credited, completed = row
    if record_id is None:
        return official_id, None
    if completed is not None and (isinstance(completed, str) or timezone.is_naive(completed)):
        completed = connection.ops.convert_datetimefield_value(completed, None, connection)
    return official_id, StudyRecord(
        pk=record_id,
        official_id=official_id,
        lecture_id=lecture.pk,
        credited_seconds=credited,
        completed_at=completed,
    )


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
    non-officials) and their record for it (None before the first heartbeat). Each
    carries only the columns crediting reads."""
    from django.db import connection

    from .models import LecturePage, Official

    # Plain SQL, as in study_state: the ORM takes longer to build this query than the
    # database takes to answer it, and a lecture page sends one every 30 seconds.
    lectures = LecturePage._meta.db_table
    pages = LecturePage._meta.get_field("live").model._meta.db_table
    officials, records = Official._meta.db_table, StudyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.live, l.credit_minutes, l.video_minutes, o.id, r.id, "  # noqa: S608
            "r.credited_seconds, r.started_at, r.last_heartbeat_at, r.completed_at "
            f"FROM {lectures} l INNER JOIN {pages} p ON p.id = l.page_ptr_id "
            f"LEFT JOIN {officials} o ON o.user_id = %s "
            f"LEFT JOIN {records} r ON r.official_id = o.id AND r.lecture_id = l.page_ptr_id "
            "WHERE l.page_ptr_id = %s AND p.live",
            [user.pk, lecture_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None, None, None
    page_id, live, credit_minutes, video_minutes, official_id, record_id, *times = row
    lecture = LectureTerms(page_id, bool(live), credit_minutes, video_minutes)
    if official_id is None:
        return lecture, None, None
    official = _instance(Official, id=official_id, user_id=user.pk)
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
    from django.db import connection

    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _aware(value):
    """A datetime column as the ORM would give it (SQLite hands back text)."""
    from django.db import connection

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


def _move_anchor(record, last, **values):
    """Compare-and-set: write `values` only if the record's anchor is still `last`
    (no other tab or device has moved it since it was read); whether it was."""
    still = {"last_heartbeat_at": last} if last is not None else {"last_heartbeat_at__isnull": True}
    return StudyRecord.objects.filter(pk=record.pk, **still).update(**values)


def credit_heartbeat(user, lecture, event=BEAT, now=None, record=None, official=None):
    """Credit one heartbeat of `user` studying `lecture` and return a Heartbeat.

    `start` (page opened or shown again) only sets the anchor, unless another tab is
    already beating; `beat` credits min(elapsed, cap); `ended` (the video finished) is a
    beat that also completes the lecture once the credited time covers the video length.
    Raises StudyRefused for anonymous users, non-officials and lectures that are not live.
    `record` and `official`, when the caller already loaded the user's record for the
    lecture and their Official (see heartbeat_state), save the queries that look them up.
    """
    if official is None and record is not None:
        official = record.official
    if official is None or not user.is_authenticated or official.user_id != user.pk:
        official, record = official_for(user), None
    elif record is not None and record.official_id != official.pk:
        record = None
    if official is None:
        raise StudyRefused(_("Only signed-in officials earn study credit."))
    if not lecture.live:
        raise StudyRefused(_("This lecture is not published."))
    if event not in EVENTS:
        raise StudyRefused(_("Unknown study event."))
    now = now or timezone.now()
    cap = datetime.timedelta(seconds=max_credit_seconds())

    if record is None:
        record, _created = StudyRecord.objects.get_or_create(
            official=official, lecture_id=lecture.pk, defaults={"started_at": now}
        )
    for _attempt in range(_MAX_ATTEMPTS):
        last = record.last_heartbeat_at
        if last is None or (event == START and now - last > cap):
            if _move_anchor(record, last, last_heartbeat_at=max(now, record.started_at)):
                record.last_heartbeat_at = max(now, record.started_at)
                return Heartbeat(record)
        elif event == START or now <= last:
            # Another tab is already beating, or this request is late: nothing to credit.
            return Heartbeat(record)
        else:
            elapsed = now - last
            added = int(min(elapsed, cap).total_seconds())
            # Keep the fraction of a second not credited by advancing the anchor by
            # exactly what was credited; after a gap longer than the cap, restart at now.
            anchor = last + datetime.timedelta(seconds=added) if elapsed <= cap else now
            total = min(record.credited_seconds + added, lecture.credit_seconds)
            added = total - record.credited_seconds
            completed_at = record.completed_at
            if completed_at is None and _completes(lecture, total, event):
                completed_at = now
            if added == 0 and completed_at == record.completed_at and anchor == last:
                return Heartbeat(record)
            updated = _move_anchor(
                record,
                last,
                last_heartbeat_at=anchor,
                credited_seconds=F("credited_seconds") + added,
                completed_at=completed_at,
            )
            if updated:
                completed_now = record.completed_at is None and completed_at is not None
                record.last_heartbeat_at = anchor
                record.credited_seconds = total
                record.completed_at = completed_at
                return Heartbeat(record, added, completed_now)
        # Another heartbeat moved the anchor first: read it again and re-measure.
        record.refresh_from_db()
    return Heartbeat(record)
