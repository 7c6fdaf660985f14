"""While the database is unreachable (PostgreSQL restarting, PgBouncer restarted, the
network to them down) every request answers 503 with Retry-After and the log gets one
line per request, not a 500 and a traceback.

Django turns any exception a view or middleware raises into the response of the
`handler500` view (site/urls.py points it at `server_error` below), inside the except
block, so the exception is at hand there. A database error counts as an outage when
it was raised opening a connection (refused, starting up, shut down, timed out), or
when the database then fails a `SELECT 1` of its own: a programming error that raises
a database error (a missing table, a bad query) stays a 500 with its traceback.

The exam client retries every answer save that gets a 503 (exams/static/exams/attempt.js),
so an answer typed during the outage is saved when the database is back.
"""

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger("xuefa.outage")

# Seconds a client should wait before trying again: a PostgreSQL or PgBouncer restart
# takes a few seconds.
RETRY_AFTER_SECONDS = 5


def _database_error(exc):
    """The OperationalError or InterfaceError that `exc` is or was raised from, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OperationalError | InterfaceError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _while_connecting(error):
    """Whether `error` was raised opening a connection (the server refused, was
    starting up or shutting down, or did not answer in time): a failure of the
    database's reachability even if it answers again a moment later."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "get_new_connection":
            return True
        tb = tb.tb_next
    return False


def database_reachable():
    """Whether the default database answers a query now (a fresh connection if the
    last one broke)."""
    try:
        if connection.connection is not None and not connection.is_usable():
            connection.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # A broken connection is closed when the request ends (close_old_connections).
        return False
    return True


def _wants_json(request):
    headers = request.headers
    return (
        "application/json" in headers.get("Accept", "")
        or headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def unavailable_response(request):
    """The 503 an outage answers: JSON for the exam client and other scripts, a page
    for people. Rendered without a request context: context processors and the page
    shells would query the database that is down."""
    if _wants_json(request):
        response = JsonResponse(
            {"ok": False, "error": _("The service is briefly unavailable. Trying again…")},
            status=503,
        )
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@requires_csrf_token
def server_error(request, template_name="500.html"):
    """handler500: a 503 with Retry-After while the database is unreachable, else
    Django's own 500 page."""
    error = _database_error(sys.exc_info()[1])
    if error is not None and (_while_connecting(error) or not database_reachable()):
        request.database_unreachable = True
        return unavailable_response(request)
    return django_server_error(request, template_name=template_name)


class DatabaseOutageFilter(logging.Filter):
    """On django.request: a 503 answered for an outage is logged as one line (method,
    path, the database's first line of complaint) without its traceback."""

    def filter(self, record):
        request = getattr(record, "request", None)
        if getattr(record, "status_code", None) == 503 and getattr(
            request, "database_unreachable", False
        ):
            error = _database_error(record.exc_info[1]) if record.exc_info else None
            reason = str(error).strip().splitlines()[0] if error and str(error).strip() else ""
            record.msg = "Database unreachable, answered 503: %s %s (%s: %s)"
            record.args = (
                request.method,
                request.path,
                type(error).__name__ if error else "DatabaseError",
                reason,
            )
            record.exc_info = None
            record.exc_text = None
        return True
