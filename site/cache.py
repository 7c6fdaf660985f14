"""Our Redis cache backend: Django's, with two changes.

1. Django's Redis cache backend, keeping one Redis client per connection pool.

Django's backend builds a new `redis.Redis` client for every cache call, and the
client's constructor copies some two hundred response callbacks each time: about
0.15 ms of CPU per call, several calls per request (the session, cached fragments,
cached permission answers). The client is a thin, thread-safe front to its
connection pool (which already checks for forks), so one per pool is enough.

2. Redis as a cache, never as a point of failure.

Django's RedisCache raises when Redis is unreachable, and every page that reads
the cache (the study dashboard, lecture fragments, allauth's sign-in rate limits)
then fails with a 500. Here a Redis error makes the call behave like a miss: reads
return the default, writes are dropped, and Redis is left alone for a few seconds
so a dead server costs one failed connection per process per pause, not one per
call. The site then works at database speed until Redis is back.

Sessions do not live in this cache (SESSION_ENGINE is the database backend), so
nobody is signed out, and no stale session can come back from the cache after an
outage. `add` answers True while Redis is down: a lock nobody can share is nobody's
to refuse (allauth's rate-limit lock would otherwise refuse every sign-in with 429,
and the sign-in lockout fails open: passwords are still checked), and the version
keys taken with `add` are read back anyway, as misses.
"""

import logging
import time

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client


class RedisCache(django_redis.RedisCache):
    """Drop-in for django.core.cache.backends.redis.RedisCache."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient


# Seconds to leave Redis alone after an error before trying it again.
RETRY_AFTER = 5.0
_down_until = 0.0  # per process: a monotonic time before which Redis is skipped


class FailSafeRedisCache(RedisCache):
    def _guard(self, call, fallback):
        global _down_until
        if time.monotonic() < _down_until:
            return fallback
        try:
            return call()
        except RedisError as error:  # connection refused, timeouts, ...
            if _down_until == 0.0 or time.monotonic() >= _down_until:
                logger.warning("Redis cache unavailable, serving without it: %s", error)
            _down_until = time.monotonic() + RETRY_AFTER
            return fallback

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            lambda: super(FailSafeRedisCache, self).add(key, value, timeout, version), True
        )

    def get(self, key, default=None, version=None):
        return self._guard(
            lambda: super(FailSafeRedisCache, self).get(key, default, version), default
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            lambda: super(FailSafeRedisCache, self).set(key, value, timeout, version), None
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            lambda: super(FailSafeRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key, version=None):
        return self._guard(lambda: super(FailSafeRedisCache, self).delete(key, version), False)

    def get_many(self, keys, version=None):
        return self._guard(lambda: super(FailSafeRedisCache, self).get_many(keys, version), {})

    def has_key(self, key, version=None):
        return self._guard(lambda: super(FailSafeRedisCache, self).has_key(key, version), False)

    def incr(self, key, delta=1, version=None):
        result = self._guard(
            lambda: super(FailSafeRedisCache, self).incr(key, delta, version), None
        )
        if result is None:
            raise ValueError(f"Key '{key}' not found (Redis unavailable)")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            lambda: super(FailSafeRedisCache, self).set_many(data, timeout, version), list(data)
        )

    def delete_many(self, keys, version=None):
        return self._guard(lambda: super(FailSafeRedisCache, self).delete_many(keys, version), None)

    def clear(self):
        return self._guard(lambda: super(FailSafeRedisCache, self).clear(), False)
