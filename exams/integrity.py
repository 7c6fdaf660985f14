"""Anti-cheating switches of an exam session (考试纪律), decided on the server.

The exam page reports what a browser can see (the page hidden or its focus lost,
full screen left, a copy or paste blocked); the server counts, logs and decides
(`report`), so that a page with its script removed gains nothing it could not have
without the switches. Binding an attempt to one device uses a long-lived random
cookie of the browser: another browser is refused until the organizer allows it, or
takes the attempt over and locks the first, as the session says. Every decision is
written to the attempt's integrity log (IntegrityEvent), which organizers read in
the attempt list.

What a browser does cannot be enforced from the server: these measures deter, they
cannot prevent (README, "Exam integrity")."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .attempts import DeviceLocked, device_locked_error, is_expired, submit_attempt
from .models import Attempt, AttemptState, DeviceRule, IntegrityEvent, IntegrityKind

DEVICE_COOKIE = "xuefa_device"
DEVICE_COOKIE_AGE = 400 * 24 * 60 * 60  # the most browsers keep a cookie

# Reports closer together than this are one departure: switching tabs loses focus,
# hides the page and may leave full screen, all in one moment.
DEPARTURE_DEBOUNCE = timedelta(seconds=3)
# At most one copy or paste logged per attempt in this time.
COPY_LOG_INTERVAL = timedelta(seconds=10)
# A refused second device is logged at most this often.
REFUSAL_LOG_INTERVAL = timedelta(minutes=1)

REPORTABLE = (IntegrityKind.LEFT_PAGE, IntegrityKind.LEFT_FULLSCREEN, IntegrityKind.COPY_BLOCKED)


def new_device_cookie():
    return secrets.token_hex(16)


def device_of(cookie):
    """What an attempt stores of a browser's device cookie: its hash, so the log and
    the database never hold a value that would let someone pose as that browser."""
    if not cookie:
        return ""
    return hashlib.sha256(cookie.encode()).hexdigest()[:32]


def log(attempt_id, kind, now=None, detail=""):
    return IntegrityEvent.objects.create(
        attempt_id=attempt_id, kind=kind, at=now or timezone.now(), detail=detail[:200]
    )


def check_device(attempt, device, now=None):
    """Raise DeviceLocked when the attempt is bound to another browser. An attempt
    the organizer released (or never bound) is bound to this one now."""
    rule = attempt.session.device_rule
    if rule == DeviceRule.ANY or attempt.device == device or attempt.is_finished:
        return
    if not attempt.device and device:
        if Attempt.objects.filter(pk=attempt.pk, device="").update(device=device):
            attempt.device = device
            return
        attempt.refresh_from_db(fields=["device"])
        if attempt.device == device:
            return
    _log_refusal(attempt, now or timezone.now())
    raise device_locked_error(rule)


def _log_refusal(attempt, now):
    recent = IntegrityEvent.objects.filter(
        attempt_id=attempt.pk,
        kind=IntegrityKind.DEVICE_REFUSED,
        at__gt=now - REFUSAL_LOG_INTERVAL,
    )
    if not recent.exists():
        log(attempt.pk, IntegrityKind.DEVICE_REFUSED, now)


def take_over(attempt, device, now=None):
    """Move the attempt to this browser (session rule TAKE_OVER); the one it was
    bound to is refused from its next request on."""
    if attempt.session.device_rule != DeviceRule.TAKE_OVER:
        raise DeviceLocked(_("This exam cannot be moved to another device."))
    if not device or attempt.device == device:
        return
    if Attempt.objects.filter(pk=attempt.pk, state=AttemptState.IN_PROGRESS).update(device=device):
        attempt.device = device
        log(attempt.pk, IntegrityKind.DEVICE_TAKEOVER, now)


def release_device(attempt, by_user, now=None):
    """The organizer allows another device: the next browser to open the attempt is
    bound to it. Returns whether there was a binding to release."""
    released = (
        Attempt.objects.filter(pk=attempt.pk, state=AttemptState.IN_PROGRESS)
        .exclude(device="")
        .update(device="")
    )
    if released:
        who = getattr(by_user, "get_username", lambda: "")()
        log(attempt.pk, IntegrityKind.DEVICE_RELEASED, now, detail=who)
    return bool(released)


@dataclass(frozen=True)
class Reported:
    """The server's answer to a report: the departures counted so far, the session's
    limit (0: none), whether this report was counted, and whether the attempt has
    now been submitted because of it."""

    departures: int
    limit: int
    counted: bool
    submitted: bool


def report(attempt, kind, now=None):
    """Record what the exam page reported, under the session's switches. A departure
    (the page left, or full screen left when the session requires it) is counted once
    per DEPARTURE_DEBOUNCE; at the session's limit the attempt is submitted with what
    was saved. Reports the session does not ask for are ignored."""
    now = now or timezone.now()
    session = attempt.session
    limit = session.leave_limit if session.count_leaving or session.require_fullscreen else 0
    if attempt.state != AttemptState.IN_PROGRESS or is_expired(attempt, now):
        return Reported(attempt.departures, limit, False, False)
    if kind == IntegrityKind.COPY_BLOCKED:
        if (
            session.block_copy
            and not IntegrityEvent.objects.filter(
                attempt_id=attempt.pk, kind=kind, at__gt=now - COPY_LOG_INTERVAL
            ).exists()
        ):
            log(attempt.pk, kind, now)
        return Reported(attempt.departures, limit, False, False)
    counts = session.count_leaving or (
        kind == IntegrityKind.LEFT_FULLSCREEN and session.require_fullscreen
    )
    if not counts:
        return Reported(attempt.departures, limit, False, False)
    counted = Attempt.objects.filter(
        Q(last_departure_at__isnull=True) | Q(last_departure_at__lte=now - DEPARTURE_DEBOUNCE),
        pk=attempt.pk,
        state=AttemptState.IN_PROGRESS,
    ).update(departures=F("departures") + 1, last_departure_at=now)
    attempt.refresh_from_db(fields=["departures", "last_departure_at", "state"])
    if counted:
        log(attempt.pk, kind, now, detail=str(attempt.departures))
    submitted = False
    if limit and attempt.departures >= limit and attempt.state == AttemptState.IN_PROGRESS:
        _attempt, submitted = submit_attempt(attempt, now=now)
        if submitted:
            log(attempt.pk, IntegrityKind.AUTO_SUBMITTED, now, detail=str(attempt.departures))
    return Reported(attempt.departures, limit, bool(counted), submitted)


def summary(attempt_ids):
    """{attempt id: {kind: count}} of the attempts' integrity logs, in one query."""
    counts = {}
    rows = (
        IntegrityEvent.objects.filter(attempt_id__in=list(attempt_ids))
        .values_list("attempt_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for attempt_id, kind, n in rows:
        counts.setdefault(attempt_id, {})[kind] = n
    return counts
