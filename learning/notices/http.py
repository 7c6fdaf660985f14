"""The one way notices talk to gateways: the standard library's urllib, a timeout on
every call, and at most one retry when no connection could be made (a timeout is not
retried: the gateway may have sent the message already)."""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

MAX_TIMEOUT = 5.0
ERROR_TEXT = 300  # characters of a gateway's answer kept in an error


class GatewayError(Exception):
    """A gateway could not be reached or refused the message; the text is the reason
    recorded on the delivery. `unreachable`: no answer came at all (timeout, no
    connection), as opposed to an answer that refused."""

    def __init__(self, message, unreachable=False):
        super().__init__(message)
        self.unreachable = unreachable


@dataclass
class Response:
    status: int
    body: bytes

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise GatewayError(f"HTTP {self.status}: not JSON: {self.text()}") from None

    def text(self):
        return self.body.decode("utf-8", "replace")[:ERROR_TEXT]


def timeout():
    return min(float(getattr(settings, "XUEFA_NOTICE_TIMEOUT", MAX_TIMEOUT)), MAX_TIMEOUT)


def _open(request):
    with urllib.request.urlopen(request, timeout=timeout()) as answer:  # noqa: S310
        return Response(answer.status, answer.read())


def _refused(error):
    reason = getattr(error, "reason", error)
    return isinstance(reason, ConnectionRefusedError | ConnectionResetError)


def call(method, url, *, body=None, content_type="", headers=None):
    """Send one request; the Response of a 2xx answer, else GatewayError."""
    if not url.startswith(("https://", "http://")):
        raise GatewayError(f"not an HTTP URL: {url[:80]}")
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310
    if content_type:
        request.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    for attempt in (1, 2):
        try:
            return _open(request)
        except urllib.error.HTTPError as error:
            raise GatewayError(f"HTTP {error.code}: {_read(error)}") from None
        except TimeoutError:
            raise GatewayError(f"no answer within {timeout():g} s", unreachable=True) from None
        except (urllib.error.URLError, OSError) as error:
            if attempt == 1 and _refused(error):
                continue
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise GatewayError(f"no answer within {timeout():g} s", unreachable=True) from None
            raise GatewayError(f"connection failed: {reason}", unreachable=True) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _read(error):
    try:
        return error.read().decode("utf-8", "replace")[:ERROR_TEXT]
    except OSError:
        return ""


def post_json(url, payload, headers=None):
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return call(
        "POST", url, body=body, content_type="application/json; charset=utf-8", headers=headers
    )


def get(url, params=None, headers=None):
    if params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    return call("GET", url, headers=headers)


def with_query(url, params):
    """`url` with these query parameters added."""
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
