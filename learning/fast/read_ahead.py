"""Cache reads of one request in one round trip.

Serving a page asks the cache several small questions (the Site, whether any view
restriction exists, the back-office answer and its version, the page shell's
generation), each a round trip to Redis. Inside `scope()` (PageRouteMiddleware
opens one around each GET) `prefetch(keys)` asks for all of them at once and `get`
/ `get_many` answer from what was fetched, falling back to the cache for any key
not fetched. Values are as fresh as reading them a moment later would have been;
`forget` drops a key the request itself changed (the *_changed signal handlers).
Outside a scope every call goes to the cache."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache

_fetched = ContextVar("xuefa_read_ahead", default=None)


@contextmanager
def scope():
    token = _fetched.set({})
    try:
        yield
    finally:
        _fetched.reset(token)


def prefetch(keys):
    fetched = _fetched.get()
    if fetched is None:
        return
    missing = [key for key in dict.fromkeys(keys) if key not in fetched]
    if missing:
        found = cache.get_many(missing)
        for key in missing:
            fetched[key] = found.get(key)


def get_many(keys):
    """{key: value} for the keys found, like cache.get_many."""
    fetched = _fetched.get()
    if fetched is None:
        return cache.get_many(keys)
    prefetch(keys)
    return {key: fetched[key] for key in keys if fetched[key] is not None}


def get(key, default=None):
    return get_many([key]).get(key, default)


def forget(*keys):
    fetched = _fetched.get()
    if fetched is not None:
        for key in keys:
            fetched.pop(key, None)
