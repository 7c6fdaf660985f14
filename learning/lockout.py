"""Sign-in lockout per account and per client address.

allauth counts failed sign-ins per typed identifier, so five failures on the user
name still left five guesses on the e-mail address. Here every identifier that names
an account (user name, e-mail address, staff number) is charged to that account, and
allauth's per-address limit still applies. The counters are allauth's own rate-limit
histories in the cache (Redis in production), under ACCOUNT_RATE_LIMITS["login_failed"].
"""

import math
import time
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import ngettext

from allauth.account import app_settings as account_settings
from allauth.account.models import EmailAddress
from allauth.core.internal import ratelimit

from learning.models import Official
from learning.tabular import normalise_identifier

APP = "allauth.account"
ACTION = "login_failed"
LOCKED = "too_many_login_attempts"
# When a counter is refused without a full history (its cache lock was busy), the
# wait announced is this long.
BUSY_WAIT_SECONDS = 60


def account_keys(login):
    """The counters an identifier is charged to: one per account it names, so every
    spelling of one account shares a counter. An identifier that names nobody gets a
    counter of its own, so a refusal looks the same whether or not the account exists
    (one look-up query either way)."""
    login = (login or "").strip()
    if not login:
        return ["login:"]
    staff_number = normalise_identifier(login)
    accounts = (
        get_user_model()
        .objects.filter(
            Q(username__iexact=login)
            | Q(email__iexact=login)
            | Q(pk__in=EmailAddress.objects.filter(email__iexact=login).values("user_id"))
            | Q(pk__in=Official.objects.filter(staff_number=staff_number).values("user_id"))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [f"account:{pk}" for pk in accounts] or [f"login:{login.casefold()}"]


def _rates():
    """allauth's setting split into its rates, each with its own text (the text is what
    the rate-limit functions take as configuration)."""
    parts = (account_settings.RATE_LIMITS.get(ACTION) or "").split(",")
    return [(part.strip(), ratelimit.parse_rate(part.strip())) for part in parts if part.strip()]


def consume_attempt(request, login):
    """Count one sign-in attempt against the client address and every account `login`
    names. Returns (usage, None) when the attempt may go on (roll `usage` back if the
    password was right, as allauth does), or (None, the time the lock ends)."""
    keys = account_keys(login)
    usage = ratelimit.RateLimitUsage(usage=[])
    for spec, rate in _rates():
        for key in keys if rate.per == "key" else [None]:
            single = ratelimit.consume(
                request, app=APP, action=ACTION, config={ACTION: spec}, key=key
            )
            if single is None:
                return None, locked_until(request, rate, key)
            usage.usage.extend(single.usage)
    return usage, None


def locked_until(request, rate, key=None):
    """When the refused counter accepts an attempt again: when the oldest of the
    failures that fill it leaves the rate's window."""
    cache_key = ratelimit.get_cache_key(request, app=APP, action=ACTION, rate=rate, key=key)
    now = time.time()
    live = [at for at in cache.get(cache_key, []) if at > now - rate.duration]
    if len(live) >= rate.amount:
        return sorted(live, reverse=True)[rate.amount - 1] + rate.duration
    return now + BUSY_WAIT_SECONDS


def clear_accounts(request, login):
    """Forget the failures charged to the accounts `login` names (after a password
    reset, as allauth does); the per-address counters stay."""
    keys = account_keys(login)
    for spec, rate in _rates():
        if rate.per == "key":
            for key in keys:
                ratelimit.clear(request, app=APP, action=ACTION, config={ACTION: spec}, key=key)


def lockout_error(until):
    """The refusal, the same for every identifier and for unknown ones: it says when
    to try again, as a local time rounded up to the minute and as minutes from now."""
    now = time.time()
    at = math.ceil(until / 60) * 60
    minutes = max(1, math.ceil((at - now) / 60))
    local = timezone.localtime(datetime.fromtimestamp(at, UTC))
    message = ngettext(
        "Too many failed sign-in attempts. Try again at %(time)s (in %(minutes)d minute).",
        "Too many failed sign-in attempts. Try again at %(time)s (in %(minutes)d minutes).",
        minutes,
    ) % {"minutes": minutes, "time": formats.time_format(local)}
    return ValidationError(message, code=LOCKED)
