"""The fast paths: every shortcut the hot requests take past plain Django and Wagtail,
in one package, with one way of keeping them true.

What is here (docs/architecture.md draws the request paths through them):
- `read_ahead`: the cache reads of one page request in one round trip;
- `routing`: the Site from the cache and a lecture found in one query;
- `shells`: lecture pages and the layout's header and footer rendered once and
  filled in per request;
- `restrictions`: whether any Wagtail view restriction exists at all;
- `back_office`: whether a user may open the admin, for every page's navigation;
- `dashboard`: the official's dashboard panels, kept per official between changes;
- `auth` and `sessions`: the signed-in user and their session read by one plain
  SELECT each;
- `memo`: values kept in each app process (exams keeps its papers there, learning
  the year's study plans and what they require).

One invalidation idiom. A shared value is kept in the cache together with the
*generation* of its family that was current when it was computed, and used only
while that generation is still current. Anything that may change a family's values
starts a new generation (`bump`): at once, and again when the transaction commits,
so a value computed from the old data in between is never kept. Apps say what
changes which family through the `register_fast_path_invalidations` hook (see
`connect`), so this package imports no other app. Values that depend only on the
code (the layout parts, the compiled SQL) are keyed by the code, not invalidated.

`XUEFA_FAST_PATHS = False` turns every shortcut off: each request then takes plain
Django's and Wagtail's path, and CI runs the whole suite that way too, which proves
each shortcut gives what the plain path gives.
"""

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from wagtail import hooks

from . import read_ahead

HOOK = "register_fast_path_invalidations"
# A backstop only: a bump makes older values unusable at once.
DEFAULT_SECONDS = 600


def enabled():
    """Whether the shortcuts are on (the XUEFA_FAST_PATHS setting, on by default)."""
    return getattr(settings, "XUEFA_FAST_PATHS", True)


def generation_key(family):
    return f"xuefa:fast:{family}:generation"


# This process's latest reading of a family's generation, for readers that accept one
# up to `max_age` seconds old: {family: (monotonic time read, generation)}.
_recent = {}


def generation(family, max_age=0.0):
    """The family's current generation, starting one if there is none; None while
    the cache is unreachable (then nothing is kept). With `max_age`, this process's
    reading of it may be that many seconds old (a change made here is seen at once)."""
    if max_age:
        found = _recent.get(family)
        if found is not None and time.monotonic() - found[0] < max_age:
            return found[1]
    key = generation_key(family)
    current = read_ahead.get(key)
    if current is None:
        cache.add(key, uuid.uuid4().hex, None)
        current = cache.get(key)
    if max_age and current is not None:
        _recent[family] = (time.monotonic(), current)
    return current


def forget_recent(family):
    """Read the family's generation from the cache next time, whatever `max_age`."""
    _recent.pop(family, None)


def bump(family):
    """Start a new generation of `family` now and again when the transaction commits:
    whatever was kept under an older one is not used again."""
    key = generation_key(family)

    def start():
        cache.set(key, uuid.uuid4().hex, None)
        read_ahead.forget(key)
        forget_recent(family)

    start()
    if transaction.get_connection().in_atomic_block:
        # Outside a transaction on_commit would run it again at once.
        transaction.on_commit(start)


def _families(family):
    return (family,) if isinstance(family, str) else tuple(family)


def keys(family, key):
    """The cache keys `remember(family, key, ...)` reads, for read_ahead.prefetch."""
    return [*(generation_key(f) for f in _families(family)), key]


def remember(family, key, compute, seconds=DEFAULT_SECONDS, valid=None):
    """The value kept under `key` while the generation of `family` (a name, or a
    tuple of names: then of each of them) is current (and, if given, `valid(value)`
    holds), else `compute()`, kept unless it is None. With the fast paths off, always
    `compute()`."""
    if not enabled():
        return compute()
    families = _families(family)
    names = [generation_key(f) for f in families]
    found = read_ahead.get_many([*names, key])
    current, entry = [found.get(name) for name in names], found.get(key)
    stamp = current[0] if len(current) == 1 else tuple(current)
    if (
        None not in current
        and entry is not None
        and entry[0] == stamp
        and (valid is None or valid(entry[1]))
    ):
        return entry[1]
    if None in current:
        current = [g or generation(f) for f, g in zip(families, current, strict=True)]
        stamp = current[0] if len(current) == 1 else tuple(current)
    value = compute()
    if value is not None and None not in current:
        cache.set(key, (stamp, value), seconds)
    return value


class Invalidation:
    """`signal` (from `sender`, or from any sender when None) starts a new
    generation of `family`: a name, or a function of the signal's `instance` giving
    the name (a family per official, say), or None when nothing need start anew."""

    def __init__(self, family, signal, sender=None):
        self.family, self.signal, self.sender = family, signal, sender

    def receiver(self):
        family = self.family

        def changed(**kwargs):
            name = family(kwargs.get("instance")) if callable(family) else family
            if name is not None:
                bump(name)

        return changed


_receivers = []  # strong references: signals hold their receivers weakly


def connect():
    """Connect every app's invalidations (the register_fast_path_invalidations hook:
    each hook function returns Invalidations). Called once, from LearningConfig.ready."""
    for hook in hooks.get_hooks(HOOK):
        for invalidation in hook():
            receiver = invalidation.receiver()
            _receivers.append(receiver)
            uid = f"fast:{invalidation.family}:{id(invalidation.signal)}:{invalidation.sender}"
            invalidation.signal.connect(receiver, sender=invalidation.sender, dispatch_uid=uid)
