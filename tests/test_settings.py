"""Settings are chosen by environment variables; each case runs in a fresh
interpreter because settings are read once per process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'cache': settings.CACHES['default']['BACKEND'], 'session': settings.SESSION_ENGINE, "
    "'language': settings.LANGUAGE_CODE, 'tz': settings.TIME_ZONE, 'debug': settings.DEBUG}))"
)


def probe(module, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result


def test_sqlite_by_default_in_chinese():
    result = probe("xuefa.settings.dev")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["cache"].endswith("LocMemCache")
    assert (values["language"], values["tz"]) == ("zh-hans", "Asia/Shanghai")


def test_database_and_redis_urls_select_postgresql_and_redis():
    result = probe(
        "xuefa.settings.dev",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/xuefa",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["cache"] == "xuefa.cache.FailSafeRedisCache"
    # Sessions stay in the database so a Redis outage signs nobody out.
    assert values["session"] == "xuefa.sessions"


def test_redis_cache_keeps_one_client_per_pool():
    """Django's backend builds a Redis client per cache call; ours reuses it."""
    from xuefa.cache import FailSafeRedisCache

    backend = FailSafeRedisCache("redis://127.0.0.1:6379/0", {})._cache
    assert backend.get_client() is backend.get_client(write=True)
    assert backend.get_client().connection_pool is backend._get_connection_pool(write=False)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_required_settings(missing):
    env = {
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/xuefa",
        "ALLOWED_HOSTS": "xuefa.example.cn",
    }
    del env[missing]
    result = probe("xuefa.settings.production", **env)
    assert result.returncode != 0
    assert f"The {missing} environment variable is required in production." in result.stderr


def test_production_starts_with_them():
    result = probe(
        "xuefa.settings.production",
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/xuefa",
        ALLOWED_HOSTS="xuefa.example.cn",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is False
