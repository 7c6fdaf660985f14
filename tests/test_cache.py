"""The Redis cache fails safe: an unreachable Redis behaves like an empty cache."""

import socket
import time

import pytest

from xuefa import cache as failsafe
from xuefa.cache import FailSafeRedisCache


@pytest.fixture
def dead_redis(monkeypatch):
    """A cache pointed at a loopback port nobody listens on, with the pause reset."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(failsafe, "_down_until", 0.0)
    return FailSafeRedisCache(
        f"redis://127.0.0.1:{port}/0", {"OPTIONS": {"socket_connect_timeout": 0.5}}
    )


def test_reads_miss_and_writes_are_dropped_when_redis_is_down(dead_redis):
    assert dead_redis.get("k", "default") == "default"
    assert dead_redis.set("k", 1) is None
    assert dead_redis.add("k", 1) is True  # a lock nobody can share: taken
    assert dead_redis.get_many(["a", "b"]) == {}
    assert dead_redis.set_many({"a": 1}) == ["a"]
    assert dead_redis.has_key("k") is False
    assert dead_redis.delete("k") is False
    with pytest.raises(ValueError):
        dead_redis.incr("k")


def test_a_dead_redis_is_left_alone_for_a_while(dead_redis):
    dead_redis.get("k")
    assert failsafe._down_until > time.monotonic()

    def contact():
        raise AssertionError("Redis was contacted during the pause")

    # Within the pause the call is not even attempted: the fallback comes back.
    assert dead_redis._guard(contact, "fallback") == "fallback"


def test_a_live_redis_is_used(monkeypatch):
    """Against a reachable Redis (the shared one, a database of its own) values round-trip."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    monkeypatch.setattr(failsafe, "_down_until", 0.0)
    live = FailSafeRedisCache("redis://127.0.0.1:6379/9", {"KEY_PREFIX": "xuefa-test-cache"})
    live.set("k", {"v": 1}, 30)
    assert live.get("k") == {"v": 1}
    live.delete("k")
    assert live.get("k", "gone") == "gone"


@pytest.mark.django_db
def test_sign_in_works_while_redis_is_down(dead_redis, monkeypatch, client):
    """The lockout's counters live in Redis: with Redis down they cannot be kept, and
    sign-in fails open (the password is still checked) rather than refusing everyone."""
    from allauth.core.internal import ratelimit

    from learning import lockout
    from tests.factories import DEFAULT_PASSWORD, OfficialFactory

    monkeypatch.setattr(ratelimit, "cache", dead_redis)
    monkeypatch.setattr(lockout, "cache", dead_redis)
    official = OfficialFactory()
    login = {"login": official.user.username}
    wrong = client.post("/accounts/login/", {**login, "password": "wrong"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    started = time.monotonic()
    right = client.post("/accounts/login/", {**login, "password": DEFAULT_PASSWORD})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(official.user.pk)
    assert time.monotonic() - started < 1  # no wait for a lock Redis cannot give
