"""Rules of court observations (庭审观摩): registering and withdrawing, QR check-in with
rotating signed tokens, marking by organizers, closing the event, and reflections.

Every status change goes through `_change`, which writes an AttendanceChange, so the
audit trail is complete. Seats are counted under a row lock on the observation
(PostgreSQL `SELECT … FOR UPDATE`; SQLite serialises writers anyway), and check-in is a
conditional UPDATE on the official's own row, so hundreds of officials scanning at
once neither deadlock nor double-mark.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from .models import Attendance, AttendanceChange, CourtObservation, Reflection
from .models.observations import (
    ATTENDED_STATUSES,
    EXPECTED_STATUSES,
    MARKABLE_STATUSES,
    SEAT_STATUSES,
    ChangeSource,
    Status,
)

TOKEN_SALT = "xuefa.observations.checkin"  # noqa: S105 - a signing salt, not a secret


class ObservationRefused(Exception):
    """The action is not allowed; `str(exc)` is a translated reason for the official."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return str(self.message)


def rotate_seconds():
    """How often the check-in QR code changes (XUEFA_CHECKIN_ROTATE_SECONDS, default 30)."""
    return int(getattr(settings, "XUEFA_CHECKIN_ROTATE_SECONDS", 30))


def valid_windows():
    """How many earlier rotations a scanned code stays valid for (default 1: a code
    works for 30-60 seconds), enough to scan, too short to forward and use elsewhere."""
    return int(getattr(settings, "XUEFA_CHECKIN_VALID_WINDOWS", 1))


def sign_in_grace_seconds():
    """How long after a valid scan an official who first had to sign in may still
    complete that check-in (default 300)."""
    return int(getattr(settings, "XUEFA_CHECKIN_SIGN_IN_SECONDS", 300))


def _window(at):
    return int(at.timestamp()) // rotate_seconds()


def checkin_token(observation, now=None):
    """The token the check-in screen shows now: an HMAC (Django's signer, keyed by
    SECRET_KEY) over the observation id and the current time window."""
    now = now or timezone.now()
    return signing.Signer(salt=TOKEN_SALT).sign(f"{observation.pk}.{_window(now)}")


def seconds_to_next_token(now=None):
    now = now or timezone.now()
    return rotate_seconds() - int(now.timestamp()) % rotate_seconds()


def verify_token(token, at=None):
    """The observation id a token was issued for, if it is genuine and was issued in the
    current or the previous `valid_windows()` windows at time `at`; else refused."""
    at = at or timezone.now()
    try:
        value = signing.Signer(salt=TOKEN_SALT).unsign(token)
        observation_id, window = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        raise ObservationRefused(_("This check-in code is not valid.")) from None
    current = _window(at)
    if window > current or window < current - valid_windows():
        raise ObservationRefused(
            _("This check-in code has expired. Scan the code on the screen again.")
        )
    return observation_id


def _change(attendance, new_status, source, by=None, at=None, old_status=None):
    """An audit row for an attendance status change (unsaved)."""
    return AttendanceChange(
        attendance=attendance,
        changed_at=at or timezone.now(),
        changed_by=by,
        old_status=attendance.status if old_status is None else old_status,
        new_status=new_status,
        source=source,
    )


def register(official, observation, now=None):
    """Take a seat. Invitees may always confirm; others only with open registration.
    Refused past the deadline, when closed or when every seat is taken."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = CourtObservation.objects.select_for_update().get(pk=observation.pk)
        if locked.is_closed:
            raise ObservationRefused(_("This court observation is closed."))
        if now > locked.registration_deadline:
            raise ObservationRefused(_("The registration deadline has passed."))
        attendance = (
            Attendance.objects.select_for_update()
            .filter(observation=locked, official=official)
            .first()
        )
        old_status = attendance.status if attendance else ""
        if old_status in (Status.REGISTERED, *ATTENDED_STATUSES):
            raise ObservationRefused(_("You are already registered."))
        if old_status in (Status.EXCUSED, Status.ABSENT):
            raise ObservationRefused(_("Your attendance has already been recorded."))
        if attendance is None and not locked.open_registration:
            raise ObservationRefused(
                _("Registration is by invitation only and you are not invited.")
            )
        # Invitees already hold a seat; everyone else needs a free one.
        full = locked.attendance.holding_seats().count() >= locked.capacity
        if old_status != Status.INVITED and full:
            raise ObservationRefused(_("Sorry, all seats are taken."))
        if attendance is None:
            attendance = Attendance(observation=locked, official=official)
        attendance.status = Status.REGISTERED
        attendance.registered_at = now
        attendance.save()
        _change(
            attendance, Status.REGISTERED, ChangeSource.SELF, official.user, now, old_status
        ).save()
    return attendance


def withdraw(official, observation, now=None):
    """Give up one's seat (or decline an invitation) before the registration deadline."""
    now = now or timezone.now()
    with transaction.atomic():
        attendance = (
            Attendance.objects.select_for_update()
            .select_related("observation")
            .filter(observation_id=observation.pk, official=official)
            .first()
        )
        if attendance is None or attendance.status not in EXPECTED_STATUSES:
            raise ObservationRefused(_("You are not registered for this court observation."))
        if attendance.observation.is_closed or now > attendance.observation.registration_deadline:
            raise ObservationRefused(
                _("The registration deadline has passed; ask the organizer to excuse you.")
            )
        change = _change(attendance, Status.WITHDRAWN, ChangeSource.SELF, official.user, now)
        attendance.status = Status.WITHDRAWN
        attendance.save(update_fields=["status"])
        change.save()
    return attendance


def status_for_arrival(observation, at):
    return Status.LATE if at > observation.late_after else Status.PRESENT


def _local_datetime(at):
    return formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")


def ensure_check_in_open(observation, at):
    """Refuse a scan at `at` outside the observation's check-in window (from
    `checkin_opens_at` to `checkin_closes_at`, both included): a code photographed
    days early or scanned after the hearing must not count as presence."""
    if observation.is_closed:
        raise ObservationRefused(_("This court observation is closed."))
    if at < observation.checkin_opens_at:
        raise ObservationRefused(
            _("Check-in has not opened yet: it opens at %(time)s, please scan again then.")
            % {"time": _local_datetime(observation.checkin_opens_at)}
        )
    if at > observation.checkin_closes_at:
        raise ObservationRefused(
            _("Check-in closed at %(time)s; please see the organizer.")
            % {"time": _local_datetime(observation.checkin_closes_at)}
        )


def observation_for_scan(token, at=None):
    """The observation a scanned code at `at` (default now) may check in to: the token
    is genuine and fresh, and the observation's check-in window is open; else refused."""
    at = at or timezone.now()
    observation = CourtObservation.objects.filter(pk=verify_token(token, at=at)).first()
    if observation is None:
        raise ObservationRefused(_("This check-in code is not valid."))
    ensure_check_in_open(observation, at)
    return observation


def check_in(official, token, now=None, scanned_at=None):
    """Mark the scanning official present (late after the threshold). The token proves
    presence at the venue at `scanned_at` (default now), which must fall inside the
    check-in window; it checks in only the official who uses it, and only if they are
    an invitee or registrant of that observation. A second scan keeps the first time.
    Returns the Attendance."""
    now = now or timezone.now()
    scanned_at = scanned_at or now
    observation = observation_for_scan(token, at=scanned_at)
    attendance = Attendance.objects.filter(observation=observation, official=official).first()
    if attendance is None:
        raise ObservationRefused(
            _("You are not on the list for this court observation. Please see the organizer.")
        )
    if attendance.status in ATTENDED_STATUSES:
        return attendance
    if attendance.status not in EXPECTED_STATUSES:
        raise ObservationRefused(
            _("Your attendance is recorded as %(status)s. Please see the organizer.")
            % {"status": attendance.get_status_display()}
        )
    status = status_for_arrival(observation, scanned_at)
    with transaction.atomic():
        updated = Attendance.objects.filter(
            pk=attendance.pk, status__in=EXPECTED_STATUSES, checked_in_at__isnull=True
        ).update(status=status, checked_in_at=scanned_at)
        if updated:
            _change(attendance, status, ChangeSource.CHECK_IN, official.user, now).save()
    attendance.refresh_from_db()
    return attendance


def mark(attendance, status, by, now=None):
    """An organizer sets a status by hand (present, late, excused, absent); audited.
    Marking someone present or late without a check-in time records now. Unlike a
    scan it works at any time (the check-in window does not apply): the organizer
    vouches for it, and the AttendanceChange says who did."""
    if status not in MARKABLE_STATUSES:
        raise ObservationRefused(_("This status cannot be set by hand."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = Attendance.objects.select_for_update().get(pk=attendance.pk)
        if locked.status == status:
            return locked
        change = _change(locked, status, ChangeSource.ORGANIZER, by, now)
        locked.status = status
        if status in ATTENDED_STATUSES and locked.checked_in_at is None:
            locked.checked_in_at = now
        locked.save(update_fields=["status", "checked_in_at"])
        change.save()
    return locked


def close(observation, by=None, now=None):
    """End the event: everyone invited or registered who was not marked becomes absent.
    Closing twice changes nothing. Returns how many were marked absent."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = CourtObservation.objects.select_for_update().get(pk=observation.pk)
        if locked.is_closed:
            return 0
        locked.sync_invitations()
        unmarked = list(
            Attendance.objects.select_for_update().filter(
                observation=locked, status__in=EXPECTED_STATUSES
            )
        )
        AttendanceChange.objects.bulk_create(
            [_change(a, Status.ABSENT, ChangeSource.CLOSE, by, now) for a in unmarked]
        )
        Attendance.objects.filter(pk__in=[a.pk for a in unmarked]).update(status=Status.ABSENT)
        CourtObservation.objects.filter(pk=locked.pk).update(closed_at=now)
        observation.closed_at = now
    return len(unmarked)


def can_reflect(attendance, now=None):
    now = now or timezone.now()
    return attendance.status in ATTENDED_STATUSES and now <= attendance.observation.reflection_due


def submit_reflection(attendance, text, file=None, now=None):
    """Save the attendee's reflection (观后感); it can be revised until it is due.
    Only officials who attended may submit one."""
    now = now or timezone.now()
    if attendance.status not in ATTENDED_STATUSES:
        raise ObservationRefused(_("Only officials who attended can submit a reflection."))
    if now > attendance.observation.reflection_due:
        raise ObservationRefused(
            _("The reflection was due on %(date)s.")
            % {
                "date": timezone.localtime(attendance.observation.reflection_due).strftime(
                    "%Y-%m-%d %H:%M"
                )
            }
        )
    text = (text or "").strip()
    if not text:
        raise ObservationRefused(_("Please write your reflection."))
    reflection = Reflection.objects.filter(attendance=attendance).first()
    if reflection is None:
        reflection = Reflection(attendance=attendance, submitted_at=now)
    reflection.text = text
    reflection.updated_at = now
    if file:
        reflection.file = file
    reflection.full_clean(exclude=["attendance"])
    reflection.save()
    return reflection


def checkin_screen_data(observation, now=None):
    """What the organizer's check-in screen polls: the current token and counts."""
    now = now or timezone.now()
    counts = dict.fromkeys(Status.values, 0)
    for status in observation.attendance.values_list("status", flat=True):
        counts[status] += 1
    return {
        "token": checkin_token(observation, now),
        "refresh_in": seconds_to_next_token(now),
        "present": counts[Status.PRESENT],
        "late": counts[Status.LATE],
        "expected": sum(counts[s] for s in SEAT_STATUSES),
        "closed": observation.is_closed,
        "valid_until": (now + datetime.timedelta(seconds=seconds_to_next_token(now))).isoformat(),
    }
