"""Screen polls answered before the rest of the middleware stack."""

from django.urls import reverse

from . import views

_PLACEHOLDER = "TOKEN"


class ScreenPollMiddleware:
    """Send screen playlist polls straight to their view. A screen has no session,
    user, language or messages, yet those middlewares would cost a poll more CPU than
    its answer (a thousand screens poll every thirty seconds). Placed after the
    security middlewares, so HTTPS redirects and security headers still apply."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = self.suffix = None

    def _split(self):
        url = reverse("content:screen_playlist", kwargs={"token": _PLACEHOLDER})
        self.prefix, self.suffix = url.split(_PLACEHOLDER)

    def __call__(self, request):
        if self.prefix is None:
            self._split()
        path = request.path
        if path.startswith(self.prefix) and path.endswith(self.suffix):
            token = path[len(self.prefix) : -len(self.suffix)]
            if token and "/" not in token:
                return views.screen_playlist(request, token)
        return self.get_response(request)
