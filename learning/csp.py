"""Content Security Policy: one policy for the site, widened only for the Wagtail admin.

The public pages load scripts and styles from our own origin alone (no inline code),
so an injected <script> or on* handler does not run. The Wagtail admin (Wagtail 8)
still renders inline scripts (InlinePanel, date pickers) and style attributes, and
frames its own page previews, so under /admin/ script-src and style-src also allow
'unsafe-inline' and frame-ancestors allows 'self'. django-csp writes the header."""

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware

# What a view or decorator can set on a response to change or drop its policy.
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)

# The headers of a response that changes nothing, per (admin or not): the policy is
# the same for every such response, and building it took a tenth of a bare request.
_headers = {}


@receiver(setting_changed)
def _forget_headers(**kwargs):
    _headers.clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with XUEFA_CSP_ADMIN_REPLACE applied under /admin/, and
    the header built once for the responses that do not change the policy."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(settings.XUEFA_CSP_ADMIN_PREFIX):
            parts.replace = {**settings.XUEFA_CSP_ADMIN_REPLACE, **(parts.replace or {})}
        return parts

    def process_response(self, request, response):
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_RESPONSE)
            or _excluded_prefixes()
        ):
            return super().process_response(request, response)
        admin = request.path_info.startswith(settings.XUEFA_CSP_ADMIN_PREFIX)
        headers = _headers.get(admin)
        if headers is None:
            # django-csp builds the header, on a response that changes nothing.
            probe = super().process_response(request, HttpResponse())
            headers = [(h, probe[h]) for h in (HEADER, HEADER_REPORT_ONLY) if h in probe]
            _headers[admin] = headers
        for header, value in headers:
            if header not in response:
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def _excluded_prefixes():
    return any(
        (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    )
