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
    "'language': settings.LANGUAGE_CODE, 'tz': settings.TIME_ZONE, 'debug': settings.DEBUG, "
    "'db_options': settings.DATABASES['default'].get('OPTIONS', {})}))"
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
    # Hot statements are prepared once per connection, not planned per request...
    assert values["db_options"] == {"server_side_binding": True, "prepare_threshold": 5}
    # ...unless a transaction-pooling proxy in front of PostgreSQL forbids them.
    result = probe(
        "xuefa.settings.dev",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/xuefa",
        DATABASE_PREPARE_THRESHOLD="0",
    )
    assert json.loads(result.stdout)["db_options"]["prepare_threshold"] is None


@pytest.mark.django_db
def test_postgresql_prepares_a_statement_run_again_and_again(django_user_model):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    user = django_user_model.objects.create(username="prepared")
    for _ in range(6):
        assert django_user_model.objects.get(pk=user.pk) == user
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] >= 1


def test_gunicorn_preloads_the_app_and_workers_open_their_own_connections():
    """Workers fork from a master that has loaded the app (a recycled worker starts
    at once); whatever connection the master opened is closed in each worker."""
    import runpy
    from unittest import mock

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    assert config["workers"] >= 3 and config["max_requests"] > 0
    with mock.patch("django.db.connections.close_all") as close_all:
        config["post_fork"](server=None, worker=None)
    close_all.assert_called_once_with()
    with mock.patch.dict(os.environ, {"GUNICORN_PRELOAD": "false"}):
        assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["preload_app"] is False


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


def test_the_gunicorn_master_warms_up_what_each_worker_would_repeat():
    """With the app preloaded, the master compiles the project's templates (and loads
    the catalogues and URL tables) before forking, so no worker's first requests pay
    for it; without preloading there is no master state to share, and it does not."""
    import gc
    import runpy
    from types import SimpleNamespace
    from unittest import mock

    from django.template import engines

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    (loader,) = engines["django"].engine.template_loaders
    loader.reset()
    with mock.patch.object(gc, "freeze") as freeze:
        config["when_ready"](SimpleNamespace(cfg=SimpleNamespace(preload_app=False)))
        assert not loader.get_template_cache
        freeze.assert_not_called()
        config["when_ready"](SimpleNamespace(cfg=SimpleNamespace(preload_app=True)))
    freeze.assert_called_once_with()
    compiled = set(loader.get_template_cache)
    assert {"base.html", "exams/attempt.html", "learning/lecture_page.html"} <= compiled
    assert not any(name.startswith("wagtailadmin/") for name in compiled)
