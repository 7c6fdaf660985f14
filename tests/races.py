"""Races on PostgreSQL: the same call from several threads, each with its own
database connection, released together. SQLite serialises every writer, so there a
race tests nothing and these tests are skipped.

    pytestmark = racing            # a module of races
    @racing_test                   # one race among other tests
    results, errors = race(lambda: start_attempt(session, official).pk)
"""

import threading

from django.db import connection

import pytest

THREADS = 8

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Needs PostgreSQL: SQLite serialises every writer, so there is no race to test "
    "(run with DATABASE_URL=postgres://…).",
)
# Committed data that every thread's connection sees, on PostgreSQL only.
racing = [pytest.mark.django_db(transaction=True, serialized_rollback=True), on_postgresql]


def racing_test(function):
    for mark in reversed(racing):
        function = mark(function)
    return function


def race(target, threads=THREADS):
    """Run target() in `threads` threads released together: (results, errors)."""
    barrier = threading.Barrier(threads)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    return results, errors
