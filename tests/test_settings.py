"""Settings are chosen by environment variables; each case runs in a fresh
interpreter because settings are read once per process."""

import ast
import json
import os
import re
import shutil
import stat
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


@pytest.fixture(autouse=True)
def _key_file_elsewhere(tmp_path, monkeypatch):
    """The development settings' key file goes to a temporary folder, not the clone."""
    monkeypatch.setenv("XUEFA_SECRET_KEY_FILE", str(tmp_path / "secret_key"))


def probe(module, code=PROBE, **env):
    unset = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
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
    assert values["session"] == "learning.fast.sessions"
    # Hot statements are prepared once per connection, not planned per request...
    assert values["db_options"] == {
        "server_side_binding": True,
        "connect_timeout": 5,
        "prepare_threshold": 5,
    }
    # ...unless a transaction-pooling proxy in front of PostgreSQL forbids them.
    result = probe(
        "xuefa.settings.dev",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/xuefa",
        DATABASE_PREPARE_THRESHOLD="0",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    options = json.loads(result.stdout)["db_options"]
    assert options["prepare_threshold"] is None
    # An unreachable server fails a connection within the timeout (libpq: forever).
    assert options["connect_timeout"] == 2


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


# --- No secret in the repository ------------------------------------------------------

KEY_PROBE = "from django.conf import settings; print(settings.SECRET_KEY)"
# Names whose value is a secret: SECRET_KEY, AWS_SECRET_ACCESS_KEY, a database's
# PASSWORD, an API token... (PASSWORD_HASHERS and KEY_PREFIX are not).
SECRET_NAME = re.compile(
    r"(^|_)(SECRET|SECRET_KEY|SECRET_KEY_FALLBACKS|SECRET_ACCESS_KEY|PASSWORD|PASSWD|PASS"
    r"|TOKEN|API_KEY|ACCESS_KEY|PRIVATE_KEY|SIGNING_KEY|CREDENTIALS?)$",
    re.IGNORECASE,
)
# user:password@ in a URL (DATABASE_URL, REDIS_URL).
URL_PASSWORD = re.compile(r"://[^/:@\s]*:([^@\s]+)@")
# Names that end like a secret's but are not one: allauth's rate-limit actions.
NOT_SECRETS = {"reset_password", "change_password"}
# Calls whose first argument names an environment variable rather than holding a value.
LOOKUPS = {"get", "getenv", "env_bool", "env_list", "pop", "setdefault"}


def _literals(node):
    """The string constants in an expression, leaving out the names of environment
    variables it looks up (os.environ.get("SECRET_KEY", ...), os.environ["X"])."""
    skipped = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call) and inner.args:
            func = inner.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in LOOKUPS:
                skipped.add(id(inner.args[0]))
        if isinstance(inner, ast.Subscript) and "environ" in ast.unparse(inner.value):
            skipped.add(id(inner.slice))
    return [
        inner.value
        for inner in ast.walk(node)
        if isinstance(inner, ast.Constant)
        and isinstance(inner.value, (str, bytes))
        and inner.value.strip()
        and id(inner) not in skipped
    ]


def _named_values(tree):
    """(name, value expression) for everything a settings module binds to a name:
    assignments, dictionary entries, keyword arguments and item assignments."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value
                elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
                    yield str(target.slice.value), node.value
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    yield key.value, value
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg:
                    yield keyword.arg, keyword.value


def secrets_in_python(source):
    """Usable secrets a Python source holds: a non-empty string literal given to a
    secret-like name (directly, as a default or as a fallback), or a password in a URL."""
    found = []
    tree = ast.parse(source)
    for name, value in _named_values(tree):
        if value is not None and SECRET_NAME.search(name) and name not in NOT_SECRETS:
            found += [f"{name} = {literal!r}" for literal in _literals(value)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [f"URL password in {node.value!r}" for _ in URL_PASSWORD.findall(node.value)]
    return found


def secrets_in_env_file(text):
    """Usable secrets in an env file, commented-out assignments included (someone
    will uncomment them): any value for a secret-like name, any password in a URL."""
    found = []
    for line in text.splitlines():
        match = re.match(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line.strip())
        if not match:
            continue
        name, value = match[1], match[2].strip()
        if (SECRET_NAME.search(name) and value) or URL_PASSWORD.search(value):
            found.append(line)
    return found


def test_the_secret_scanner_finds_what_it_should_and_nothing_else():
    bad = """
SECRET_KEY = "django-insecure-abc"
SECRET_KEY = SECRET_KEY or "fallback-constant"
SECRET_KEY = os.environ.get("SECRET_KEY", "default-constant")
AWS_SECRET_ACCESS_KEY: str = "AKIA..."
DATABASES = {"default": {"PASSWORD": "hunter2"}}
CACHES["default"]["OPTIONS"]["password"] = "hunter2"
OPTIONS = dict(api_key="k-123")
DATABASE_URL = "postgres://xuefa:hunter2@db/xuefa"
"""
    assert len(secrets_in_python(bad)) == 8
    good = """
SECRET_KEY = os.environ.get("SECRET_KEY", "")
SECRET_KEY = os.environ["SECRET_KEY"]
SECRET_KEY = SECRET_KEY or secret_key_from_file(SECRET_KEY_FILE)
SECRET_KEY_FILE = BASE_DIR / ".secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
CACHES = {"default": {"KEY_PREFIX": "xuefa", "LOCATION": "redis://127.0.0.1:6379/0"}}
"""
    assert secrets_in_python(good) == []
    env_bad = (
        "SECRET_KEY=change-me\n# AWS_SECRET_ACCESS_KEY=abc\nDATABASE_URL=postgres://u:pw@h/db\n"
    )
    assert len(secrets_in_env_file(env_bad)) == 3
    env_good = "SECRET_KEY=\n# AWS_SECRET_ACCESS_KEY=\nDATABASE_URL=postgres://u@h/db\n# a:b@c\n"
    assert secrets_in_env_file(env_good) == []


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "site" / "settings").glob("*.py")),
    ids=lambda p: p.name,
)
def test_no_settings_module_holds_a_usable_secret(path):
    assert secrets_in_python(path.read_text()) == []


def test_the_env_example_holds_no_usable_secret():
    assert secrets_in_env_file((ROOT / ".env.example").read_text()) == []


def test_development_settings_make_the_key_file_once_and_keep_it(tmp_path):
    key_file = tmp_path / "keys" / ".secret_key"
    key_file.parent.mkdir()
    first = probe("xuefa.settings.dev", KEY_PROBE, XUEFA_SECRET_KEY_FILE=str(key_file))
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == [".secret_key"]
    again = probe("xuefa.settings.dev", KEY_PROBE, XUEFA_SECRET_KEY_FILE=str(key_file))
    assert again.stdout.strip() == key
    # Another clone (another file) has another key.
    other = probe("xuefa.settings.dev", KEY_PROBE, XUEFA_SECRET_KEY_FILE=str(tmp_path / "k2"))
    assert other.stdout.strip() not in ("", key)


def test_an_environment_key_wins_and_no_file_is_made(tmp_path):
    key_file = tmp_path / ".secret_key"
    result = probe(
        "xuefa.settings.dev",
        KEY_PROBE,
        XUEFA_SECRET_KEY_FILE=str(key_file),
        SECRET_KEY="from-the-environment-" + "x" * 40,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-the-environment-" + "x" * 40
    assert not key_file.exists()


def test_an_empty_key_file_is_refused(tmp_path):
    key_file = tmp_path / ".secret_key"
    key_file.write_text("\n")
    result = probe("xuefa.settings.dev", KEY_PROBE, XUEFA_SECRET_KEY_FILE=str(key_file))
    assert result.returncode != 0
    assert "is empty: delete it and a new key is made." in result.stderr


def test_test_settings_make_a_key_per_run():
    keys = {probe("xuefa.settings.test", KEY_PROBE).stdout.strip() for _ in range(2)}
    assert len(keys) == 2
    assert all(len(key) >= 50 for key in keys)


def test_the_key_file_is_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(  # noqa: S603
        ["git", "check-ignore", "--no-index", "-q", ".secret_key"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 0, ".secret_key must be listed in .gitignore"


RATES = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps(settings.ACCOUNT_RATE_LIMITS))"
)


def test_sign_in_limits_per_address_are_set_by_the_environment():
    """An office behind one NAT address raises or lifts the per-address limits; the
    per-account lockout stays whatever they say."""
    assert json.loads(probe("xuefa.settings.dev", RATES).stdout) == {
        "login_failed": "10/m/ip,5/300s/key",
        "login": "30/m/ip",
        "reset_password": "20/m/ip,5/m/key",
        "change_password": "5/m/user",
    }
    raised = probe(
        "xuefa.settings.dev",
        RATES,
        XUEFA_LOGIN_FAILURES_PER_ADDRESS="200/5m",
        XUEFA_LOGINS_PER_ADDRESS="off",
    )
    limits = json.loads(raised.stdout)
    assert limits["login_failed"] == "200/5m/ip,5/300s/key"
    assert limits["login"] is False


@pytest.mark.parametrize("value", ["10/min", "ten/m", "10", "0/m", "10/m/key"])
def test_a_malformed_sign_in_limit_stops_the_start(value):
    result = probe("xuefa.settings.dev", RATES, XUEFA_LOGINS_PER_ADDRESS=value)
    assert result.returncode != 0
    assert "XUEFA_LOGINS_PER_ADDRESS" in result.stderr and "30/m or 600/5m" in result.stderr
