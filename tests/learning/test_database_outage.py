"""While the database is unreachable a request answers 503 with Retry-After and the
log gets one line; any other error stays a 500 with its traceback (learning/outage.py).

The outage is made with Django's own hook for every query a connection runs
(`connection.execute_wrapper`): each query fails as a refused connection does."""

import logging
from contextlib import contextmanager
from unittest import mock

from django.db import OperationalError, connection, connections
from django.test import Client

import pytest

from tests.factories import OfficialFactory


@contextmanager
def database_fails(only=None):
    """Every query fails (`only` given: the queries containing that text fail)."""

    def refuse(execute, sql, params, many, context):
        if only is None or only in sql:
            raise OperationalError(
                'connection to server at "127.0.0.1", port 5432 failed: Connection refused\n'
                "\tIs the server running on that host and accepting TCP/IP connections?"
            )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def official_client(db):
    official = OfficialFactory()
    client = Client(raise_request_exception=False)
    client.force_login(official.user)
    return client


def request_records(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_page_answers_503_with_retry_after_and_one_log_line(official_client, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    with database_fails():
        response = official_client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    assert "系统暂时无法访问" in response.content.decode()
    [record] = request_records(caplog)
    assert record.exc_info is None
    message = record.getMessage()
    assert message.startswith("Database unreachable, answered 503: GET / (OperationalError:")
    assert "\n" not in message
    assert "Traceback" not in caplog.text


def test_an_answer_save_gets_json_the_exam_client_retries(official_client, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    with database_fails():
        response = official_client.post(
            "/exams/1/attempts/1/answer/",
            {"position": "1", "response": "A"},
            headers={"accept": "application/json", "x-requested-with": "XMLHttpRequest"},
        )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["ok"] is False
    assert len(request_records(caplog)) == 1


def test_the_sign_in_page_for_anonymous_visitors_too(db, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    client = Client(raise_request_exception=False)
    with database_fails():
        response = client.post("/accounts/login/", {"login": "someone", "password": "x" * 12})
    assert response.status_code == 503
    assert request_records(caplog)[0].exc_info is None


def test_a_database_error_while_the_database_answers_stays_a_500_with_traceback(
    official_client, caplog
):
    caplog.set_level(logging.ERROR, logger="django.request")
    # One table's queries fail (a programming error); SELECT 1 still answers.
    with database_fails(only="learning_official"):
        response = official_client.get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    [record] = request_records(caplog)
    assert record.exc_info is not None
    assert record.getMessage().startswith("Internal Server Error: /")


def test_the_site_answers_again_once_the_database_is_back(official_client):
    with database_fails():
        assert official_client.get("/").status_code == 503
    assert official_client.get("/").status_code == 200


def test_healthz_reports_the_outage(db):
    client = Client(raise_request_exception=False)
    with database_fails():
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's test database is never reconnected"
)
@pytest.mark.django_db(transaction=True)
def test_a_connection_refused_then_accepted_again_is_still_a_503(caplog):
    """PostgreSQL starting up: the request's connection fails, the server answers by
    the time the app looks again. The request still failed for want of a database."""
    official = OfficialFactory()
    client = Client(raise_request_exception=False)
    client.force_login(official.user)
    caplog.set_level(logging.ERROR, logger="django.request")
    wrapper = type(connections["default"])
    real = wrapper.get_new_connection
    failures = []

    def get_new_connection(self, conn_params):
        if not failures:
            failures.append(1)
            raise OperationalError("FATAL:  the database system is starting up")
        return real(self, conn_params)

    connection.close()
    with mock.patch.object(wrapper, "get_new_connection", get_new_connection):
        response = client.get("/")
    assert failures == [1]
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert request_records(caplog)[0].exc_info is None
    assert client.get("/").status_code == 200
