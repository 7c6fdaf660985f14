"""Content Security Policy: one policy for the site, widened only for the Wagtail admin.

The public pages load scripts and styles from our own origin alone (no inline code),
so an injected <script> or on* handler does not run. The Wagtail admin (Wagtail 8)
still renders inline scripts (InlinePanel, date pickers) and style attributes, and
frames its own page previews, so under /admin/ script-src and style-src also allow
'unsafe-inline' and frame-ancestors allows 'self'. django-csp writes the header."""

from django.conf import settings

from csp.middleware import CSPMiddleware


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with XUEFA_CSP_ADMIN_REPLACE applied under /admin/."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(settings.XUEFA_CSP_ADMIN_PREFIX):
            parts.replace = {**settings.XUEFA_CSP_ADMIN_REPLACE, **(parts.replace or {})}
        return parts
