"""Rules of court observations (庭审观摩): registering and withdrawing, QR check-in with
rotating signed tokens (with per-event options that resist forwarding a code: the
phone's position near the venue, single-use codes, and flags on bursts of check-ins
from one address), marking by organizers, closing the event, and reflections.

Every status change goes through `_change`, which writes an AttendanceChange, so the
audit trail is complete. Seats are counted under a row lock on the observation
(PostgreSQL `SELECT … FOR UPDATE`; SQLite serialises writers anyway), and check-in is a
conditional UPDATE on the official's own row, so hundreds of officials scanning at
once neither deadlock nor double-mark.
"""

import dataclasses
import datetime
import ipaddress
import math
from collections import defaultdict

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from learning.fast import dashboard as fast_dashboard

from .models import (
    ATTENDED_STATUSES,
    EXPECTED_STATUSES,
    MARKABLE_STATUSES,
    SEAT_STATUSES,
    Attendance,
    AttendanceChange,
    ChangeSource,
    CourtObservation,
    Reflection,
    Status,
)

TOKEN_SALT = "xuefa.observations.checkin"  # noqa: S105 - a signing salt, not a secret
EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG); haversine's error is under 0.5 %


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


def single_use_poll_seconds():
    """How often the check-in screen asks for a new single-use code
    (XUEFA_CHECKIN_SINGLE_USE_POLL_SECONDS, default 2)."""
    return int(getattr(settings, "XUEFA_CHECKIN_SINGLE_USE_POLL_SECONDS", 2))


def _window(at):
    return int(at.timestamp()) // rotate_seconds()


def _last_redemption(observation):
    """A number that changes whenever a single-use code is redeemed, so the screen has a
    fresh code at once, within the same time window (the id of the last redeeming
    audit row: never reused, unlike a count)."""
    last = AttendanceChange.objects.filter(
        attendance__observation=observation, redeemed_code__isnull=False
    ).aggregate(last=Max("pk"))["last"]
    return last or 0


def checkin_token(observation, now=None):
    """The token the check-in screen shows now: an HMAC (Django's signer, keyed by
    SECRET_KEY) over the observation id and the current time window, and with
    single-use codes also over the last redemption."""
    now = now or timezone.now()
    value = f"{observation.pk}.{_window(now)}"
    if observation.single_use_codes:
        value += f".{_last_redemption(observation)}"
    return signing.Signer(salt=TOKEN_SALT).sign(value)


def seconds_to_next_token(now=None):
    now = now or timezone.now()
    return rotate_seconds() - int(now.timestamp()) % rotate_seconds()


def _unsign(token):
    """(observation id, window, signed value) of a genuine token; else refused."""
    try:
        value = signing.Signer(salt=TOKEN_SALT).unsign(token)
        parts = [int(part) for part in value.split(".")]
    except (signing.BadSignature, ValueError):
        raise ObservationRefused(_("This check-in code is not valid.")) from None
    if len(parts) not in (2, 3):
        raise ObservationRefused(_("This check-in code is not valid."))
    return parts[0], parts[1], value


def _ensure_fresh(window, at, windows):
    current = _window(at)
    if window > current or window < current - windows:
        raise ObservationRefused(
            _("This check-in code has expired. Scan the code on the screen again.")
        )


def verify_token(token, at=None, windows=None):
    """The observation id a token was issued for, if it is genuine and was issued in the
    current or the previous `windows` (default `valid_windows()`) windows at time
    `at`; else refused."""
    observation_id, window, _value = _unsign(token)
    _ensure_fresh(window, at or timezone.now(), valid_windows() if windows is None else windows)
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
    if at > observation.scans_close_at:
        raise ObservationRefused(
            _("Check-in closed at %(time)s; please see the organizer.")
            % {"time": _local_datetime(observation.checkin_closes_at)}
        )


def _observation(pk):
    observation = CourtObservation.objects.filter(pk=pk).first()
    if observation is None:
        raise ObservationRefused(_("This check-in code is not valid."))
    return observation


def _scan(token, at):
    """(observation, signed value) for a code scanned at `at`: genuine, fresh (single-use
    codes only in their own window, others also in `valid_windows()` earlier ones) and
    inside the check-in window; else refused."""
    observation_id, window, value = _unsign(token)
    observation = _observation(observation_id)
    _ensure_fresh(window, at, 0 if observation.single_use_codes else valid_windows())
    ensure_check_in_open(observation, at)
    return observation, value


def observation_of(token):
    """The observation a genuine token names, fresh or not (to learn its check-in
    options before deciding the scan time); else refused."""
    return _observation(_unsign(token)[0])


def observation_for_scan(token, at=None):
    """The observation a scanned code at `at` (default now) may check in to: the token
    is genuine and fresh, and the observation's check-in window is open; else refused."""
    return _scan(token, at or timezone.now())[0]


@dataclasses.dataclass(frozen=True)
class Position:
    """Where the phone said it was (metres of accuracy, as the Geolocation API reports
    it), or why it could not say: "denied", "unavailable" or "timeout"."""

    latitude: float | None = None
    longitude: float | None = None
    accuracy: float | None = None
    error: str = ""


def distance_m(latitude1, longitude1, latitude2, longitude2):
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(latitude1), math.radians(latitude2)
    dphi = phi2 - phi1
    dlambda = math.radians(longitude2 - longitude1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def accuracy_limit_m(observation):
    """The coarsest position accepted: the radius, but never stricter than
    XUEFA_CHECKIN_MAX_ACCURACY_METRES (default 200), since phones indoors without GPS
    report a few hundred metres from Wi-Fi and cell towers."""
    floor = int(getattr(settings, "XUEFA_CHECKIN_MAX_ACCURACY_METRES", 200))
    return max(observation.venue_radius_m, floor)


def _format_distance(metres):
    if metres < 1000:
        return _("%(metres)d m") % {"metres": metres}
    return _("%(km).1f km") % {"km": metres / 1000}


def ensure_at_venue(observation, position):
    """The phone's distance from the venue in whole metres, if it shared a position
    at most `accuracy_limit_m` uncertain and within the observation's radius; else
    refused with what to do about it."""
    position = position or Position(error="unavailable")
    if position.error == "denied":
        raise ObservationRefused(
            _(
                "Check-in for this court observation needs your location, and your browser "
                "did not share it. Allow location for this site (tap the lock or location "
                "icon in the address bar, or the browser's site settings), make sure location "
                "services are on for the browser, then try again."
            )
        )
    if position.error or None in (position.latitude, position.longitude, position.accuracy):
        raise ObservationRefused(
            _(
                "Your location could not be determined. Turn on location services (GPS) "
                "and try again."
            )
        )
    limit = accuracy_limit_m(observation)
    if position.accuracy > limit:
        raise ObservationRefused(
            _(
                "Your location is too imprecise (within %(accuracy)s; at most %(limit)s is "
                "accepted). Turn on GPS or precise location and try again."
            )
            % {
                "accuracy": _format_distance(round(position.accuracy)),
                "limit": _format_distance(limit),
            }
        )
    metres = round(
        distance_m(
            observation.venue_latitude,
            observation.venue_longitude,
            position.latitude,
            position.longitude,
        )
    )
    if metres > observation.venue_radius_m:
        raise ObservationRefused(
            _(
                "You are %(distance)s from the venue; check-in counts only within %(radius)s "
                "of it. Scan the code at the court."
            )
            % {
                "distance": _format_distance(metres),
                "radius": _format_distance(observation.venue_radius_m),
            }
        )
    return metres


def _on_the_list(observation, official):
    """The official's attendance row if they may check in (or already did); else refused."""
    attendance = Attendance.objects.filter(observation=observation, official=official).first()
    if attendance is None:
        raise ObservationRefused(
            _("You are not on the list for this court observation. Please see the organizer.")
        )
    if attendance.status not in (*ATTENDED_STATUSES, *EXPECTED_STATUSES):
        raise ObservationRefused(
            _("Your attendance is recorded as %(status)s. Please see the organizer.")
            % {"status": attendance.get_status_display()}
        )
    return attendance


def check_in(official, token, now=None, scanned_at=None, position=None, client_ip=None):
    """Mark the scanning official present (late after the threshold). The token proves
    presence at the venue at `scanned_at` (default now), which must fall inside the
    check-in window; it checks in only the official who uses it, and only if they are
    an invitee or registrant of that observation. A second scan keeps the first time.
    With the observation's options, the phone's `position` must be near the venue and
    a single-use code checks in one official only. Returns the Attendance."""
    now = now or timezone.now()
    scanned_at = scanned_at or now
    observation, value = _scan(token, scanned_at)
    attendance = _on_the_list(observation, official)
    if attendance.status in ATTENDED_STATUSES:
        if observation.uses_checkout and scanned_at >= observation.checkout_opens_at:
            change = _change(
                attendance, attendance.status, ChangeSource.CHECK_OUT, official.user, now,
                attendance.status,
            )  # fmt: skip
            return _check_out(
                observation, attendance, change, scanned_at, position, client_ip, value
            )
        return attendance
    if scanned_at > observation.checkin_closes_at:
        raise ObservationRefused(
            _("Check-in closed at %(time)s; please see the organizer.")
            % {"time": _local_datetime(observation.checkin_closes_at)}
        )
    metres = ensure_at_venue(observation, position) if observation.checks_location else None
    status = status_for_arrival(observation, scanned_at)
    change = _change(attendance, status, ChangeSource.CHECK_IN, official.user, now)
    change.client_ip = client_ip or None
    change.distance_m = metres
    change.redeemed_code = value if observation.single_use_codes else None
    try:
        with transaction.atomic():
            updated = Attendance.objects.filter(
                pk=attendance.pk, status__in=EXPECTED_STATUSES, checked_in_at__isnull=True
            ).update(status=status, checked_in_at=scanned_at)
            if updated:
                change.save()
                fast_dashboard.touch(attendance.official_id, official.user_id)
    except IntegrityError:
        # Only the unique redeemed code can clash: someone else checked in with it first.
        raise ObservationRefused(
            _("This code has already been used. Scan the code on the screen again.")
        ) from None
    attendance.refresh_from_db()
    return attendance


def _check_out(observation, attendance, change, scanned_at, position, client_ip, value):
    """The second scan of an official checked in at an event that uses check-out, from
    `checkout_opens_at` on: records when they left (the first such scan counts), which
    is when their hours are credited. The venue and single-use rules apply as to the
    check-in."""
    change.distance_m = (
        ensure_at_venue(observation, position) if observation.checks_location else None
    )
    change.client_ip = client_ip or None
    change.redeemed_code = value if observation.single_use_codes else None
    try:
        with transaction.atomic():
            if Attendance.objects.filter(pk=attendance.pk, checked_out_at__isnull=True).update(
                checked_out_at=scanned_at
            ):
                change.save()
                fast_dashboard.touch(attendance.official_id)
    except IntegrityError:
        raise ObservationRefused(
            _("This code has already been used. Scan the code on the screen again.")
        ) from None
    attendance.refresh_from_db()
    return attendance


def burst_size():
    """How many officials checking in from one address make a burst
    (XUEFA_CHECKIN_BURST_COUNT, default 3)."""
    return int(getattr(settings, "XUEFA_CHECKIN_BURST_COUNT", 3))


def burst_minutes():
    """Within how many minutes (XUEFA_CHECKIN_BURST_MINUTES, default 2)."""
    return int(getattr(settings, "XUEFA_CHECKIN_BURST_MINUTES", 2))


@dataclasses.dataclass(frozen=True)
class CheckInAddress:
    """Where a QR check-in came from (address, and metres from the venue when location
    was checked), and the size of the largest burst it belongs to (0: not flagged)."""

    ip: str | None
    distance_m: int | None = None
    burst: int = 0


def _venue_networks(observation):
    try:
        return observation.venue_network_list()
    except ValueError:
        return []


def _bursts(scans, size, window):
    """{attendance id: largest burst} over (time, attendance id) pairs sorted by time:
    a burst is `size` or more officials within `window` of the first of them."""
    flagged = {}
    start = 0
    for end in range(len(scans)):
        while scans[end][0] - scans[start][0] > window:
            start += 1
        officials = {attendance_id for _at, attendance_id in scans[start : end + 1]}
        if len(officials) >= size:
            for attendance_id in officials:
                flagged[attendance_id] = max(flagged.get(attendance_id, 0), len(officials))
    return flagged


def check_in_addresses(observation):
    """{attendance id: CheckInAddress} for the observation's QR check-ins, flagging
    those where `burst_size()` or more officials checked in from one address within
    `burst_minutes()`: a prompt for the organizer to look, since one phone signing in
    as several people looks like that (so does a venue's Wi-Fi behind one NAT, whose
    addresses the observation can name so they are not flagged)."""
    networks = _venue_networks(observation)
    rows = (
        AttendanceChange.objects.filter(
            attendance__observation=observation, source=ChangeSource.CHECK_IN
        )
        .order_by("changed_at", "pk")
        .values_list("attendance_id", "client_ip", "distance_m", "changed_at")
    )
    addresses = {}
    by_ip = defaultdict(list)
    for attendance_id, ip, metres, at in rows:
        addresses[attendance_id] = CheckInAddress(ip, metres)
        if ip and not any(ipaddress.ip_address(ip) in network for network in networks):
            by_ip[ip].append((at, attendance_id))
    window = datetime.timedelta(minutes=burst_minutes())
    for scans in by_ip.values():
        for attendance_id, burst in _bursts(scans, burst_size(), window).items():
            addresses[attendance_id] = dataclasses.replace(addresses[attendance_id], burst=burst)
    return addresses


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
        vouched = status in ATTENDED_STATUSES and locked.checked_out_at is None
        if vouched and attendance.observation.uses_checkout:
            # The organizer vouches for the whole hearing: credited at its end.
            locked.checked_out_at = attendance.observation.ends_at
        locked.save(update_fields=["status", "checked_in_at", "checked_out_at"])
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
        fast_dashboard.touch_everyone()
        observation.closed_at = now
    return len(unmarked)


def can_reflect(attendance, now=None):
    now = now or timezone.now()
    return attendance.status in ATTENDED_STATUSES and now <= attendance.observation.reflection_due


def submit_reflection(attendance, text, file=None, now=None, consent=None):
    """Save the attendee's reflection (观后感); it can be revised until it is due.
    Only officials who attended may submit one. `consent` (when given) is whether the
    author agrees to be quoted on the observation's case page (以案释法)."""
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
    if consent is not None:
        reflection.feature_consent = bool(consent)
    reflection.full_clean(exclude=["attendance"])
    reflection.save()
    return reflection


def checkin_screen_data(observation, now=None):
    """What the organizer's check-in screen polls: the current token and counts."""
    now = now or timezone.now()
    counts = dict.fromkeys(Status.values, 0)
    for status in observation.attendance.values_list("status", flat=True):
        counts[status] += 1
    refresh_in = seconds_to_next_token(now)
    return {
        "token": checkin_token(observation, now),
        "refresh_in": refresh_in,
        # A single-use code changes as soon as someone redeems it, so poll often.
        "poll_in": min(refresh_in, single_use_poll_seconds())
        if observation.single_use_codes
        else refresh_in,
        "present": counts[Status.PRESENT],
        "late": counts[Status.LATE],
        "expected": sum(counts[s] for s in SEAT_STATUSES),
        "closed": observation.is_closed,
        "valid_until": (now + datetime.timedelta(seconds=seconds_to_next_token(now))).isoformat(),
    }
