"""Production behind PgBouncer in transaction mode (docs/deploy.md): the settings
the pooler needs are chosen by environment variables and default to a direct
connection. Each case runs in a fresh interpreter: settings are read once."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({'cursors_off': db.get('DISABLE_SERVER_SIDE_CURSORS', False), "
    "'options': db.get('OPTIONS', {}), 'conn_max_age': db['CONN_MAX_AGE'], "
    "'health_checks': db['CONN_HEALTH_CHECKS']}))"
)


def production(**env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "XUEFA_", "MEDIA_")) and k not in {"CONN_MAX_AGE"}
    }
    clean.pop("REDIS_URL", None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "xuefa.settings.production",
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:6432/xuefa",
            "ALLOWED_HOSTS": "xuefa.example.cn",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_direct_connection_keeps_server_side_cursors_and_prepared_statements():
    values = production()
    assert values["cursors_off"] is False
    assert values["options"] == {
        "server_side_binding": True,
        "connect_timeout": 5,
        "prepare_threshold": 5,
    }
    assert (values["conn_max_age"], values["health_checks"]) == (60, True)


def test_behind_transaction_pooling_pgbouncer():
    # PgBouncer older than 1.21 (Debian 12 has 1.18): no prepared statements, no
    # server-side cursors; persistent client connections stay, checked before use.
    values = production(DATABASE_DISABLE_SERVER_SIDE_CURSORS="true", DATABASE_PREPARE_THRESHOLD="0")
    assert values["cursors_off"] is True
    assert values["options"] == {
        "server_side_binding": True,
        "connect_timeout": 5,
        "prepare_threshold": None,
    }
    assert values["health_checks"] is True


def test_pgbouncer_with_prepared_statements_keeps_them():
    # PgBouncer 1.22 or newer with max_prepared_statements: only the cursors go.
    values = production(DATABASE_DISABLE_SERVER_SIDE_CURSORS="1")
    assert values["cursors_off"] is True
    assert values["options"]["prepare_threshold"] == 5
