"""The CSP middleware builds the header once for responses that do not change the
policy; whatever a response or a setting changes still reaches the header."""

from django.http import HttpResponse
from django.test import RequestFactory

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, SELF
from csp.middleware import CSPMiddleware
from csp.utils import build_policy

from learning.csp import ContentSecurityPolicyMiddleware


def served(path, response=None, **attributes):
    response = response or HttpResponse("ok")
    for name, value in attributes.items():
        setattr(response, name, value)
    middleware = ContentSecurityPolicyMiddleware(lambda request: response)
    return middleware(RequestFactory().get(path))


def uncached(path, response=None):
    """What django-csp itself writes, with our admin widening."""
    response = response or HttpResponse("ok")
    request = RequestFactory().get(path)
    middleware = ContentSecurityPolicyMiddleware(lambda request: response)
    parts = middleware.get_policy_parts(request, response)
    return build_policy(**parts.__dict__)


@pytest.mark.parametrize("path", ["/", "/exams/1/attempts/2/answer/", "/admin/pages/"])
def test_the_header_is_django_csps_own(path):
    for _ in range(2):  # built, then from memory
        assert served(path)[HEADER] == uncached(path)
    assert "'unsafe-inline'" in served("/admin/")[HEADER]
    assert "'unsafe-inline'" not in served("/lectures/")[HEADER]


def test_a_response_that_changes_the_policy_gets_its_own():
    served("/")
    response = served("/", _csp_update={"img-src": ["https://example.org"]})
    assert "https://example.org" in response[HEADER]
    assert "https://example.org" not in served("/")[HEADER]
    assert HEADER not in served("/", _csp_exempt=True)
    preset = HttpResponse("ok")
    preset[HEADER] = "default-src 'none'"
    assert served("/", preset)[HEADER] == "default-src 'none'"


def test_a_nonce_used_by_the_page_is_in_its_header(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": [SELF, NONCE]}}
    served("/")
    request = RequestFactory().get("/")

    def view(request):
        HttpResponse(str(request.csp_nonce))
        return HttpResponse("ok")

    middleware = ContentSecurityPolicyMiddleware(view)
    response = middleware(request)
    assert f"'nonce-{request._csp_nonce}'" in response[HEADER]
    assert issubclass(ContentSecurityPolicyMiddleware, CSPMiddleware)


def test_a_changed_setting_changes_the_header(settings):
    served("/")
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert served("/")[HEADER] == "default-src 'none'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    assert served("/")[HEADER_REPORT_ONLY] == "default-src 'self'"
