"""Production's tasks setup in a test: the database backend (django-tasks-db) and its
worker. A test marked `@pytest.mark.usefixtures("database_tasks")` (with the fixture
imported into its module) enqueues tasks in the database; `run_worker()` runs the
worker once, `manage.py db_worker --batch`: every queued task, then it exits."""

import io
import logging
import signal

from django.core.management import call_command

import pytest
from django_tasks_db.management.commands import db_worker

SIGNALS = [signal.SIGINT, signal.SIGTERM, *([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])]
LOGGERS = ["django_tasks", "django_tasks_db"]


@pytest.fixture
def database_tasks(settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # Between tasks the worker closes connections that are unusable or not in
    # autocommit, as Django does between requests. Inside the test's transaction that
    # would close the test's connection (on PostgreSQL; SQLite's in-memory test
    # database ignores it), so it is left out here, as Django's test client leaves it
    # out of the requests it makes.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    # The command installs its own signal handlers and sets up its loggers: put them
    # back so that the rest of the test run is unchanged.
    signal_handlers = {number: signal.getsignal(number) for number in SIGNALS}
    loggers = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers))
        for name in LOGGERS
    }

    yield
    for number, handler in signal_handlers.items():
        signal.signal(number, handler)
    for name, (level, handlers) in loggers.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).handlers[:] = handlers


def run_worker():
    """Run every queued task in the worker (needs the `database_tasks` fixture)."""
    out = io.StringIO()
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0, stdout=out
    )
    return out.getvalue()
