from django.urls import include, path, re_path
from django.views.generic import RedirectView

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents.views import serve as document_views

from content import views as content_views
from learning import media, social
from learning.accounts import AdminLogoutView

# While the database is unreachable: 503 with Retry-After and one log line
# (learning/outage.py); any other uncaught error: Django's 500.
handler500 = "learning.outage.server_error"

urlpatterns = [
    path("healthz", content_views.healthz, name="healthz"),
    path("", content_views.home, name="home"),
    # The Wagtail admin's own login and password reset would bypass allauth's
    # rate limits and first-login rules, so they lead to allauth instead.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
    ),
    path(
        "admin/password_reset/",
        RedirectView.as_view(pattern_name="account_reset_password"),
    ),
    # Signing out takes a POST; a GET (a link, an <img>) only asks (CSRF-safe logout).
    path("admin/logout/", AdminLogoutView.as_view(), name="wagtailadmin_logout"),
    path("admin/", include(wagtailadmin_urls)),
    path(
        "_util/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
    ),
    # allauth's, with sign-in through DingTalk, Feishu or WeChat when switched on.
    path("accounts/", include(social.account_urlpatterns())),
    path("i18n/", include("django.conf.urls.i18n")),
    # Wagtail's document routes; a download is checked per person (learning's
    # before_serve_document hook), so no shared cache may keep it.
    re_path(
        r"^documents/(\d+)/(.*)$",
        media.private_download(document_views.serve),
        name="wagtaildocs_serve",
    ),
    path(
        "documents/authenticate_with_password/<int:restriction_id>/",
        document_views.authenticate_with_password,
        name="wagtaildocs_authenticate_with_password",
    ),
    path("exams/", include("exams.urls")),
    path("observations/", include("exams.observations.urls")),
    # Certificates checked by anyone holding their code (the QR code on the PDF).
    path("verify/", include("exams.verify_urls")),
    # Study record (/me/record/), the study heartbeat and uploads under MEDIA_URL (the
    # checked image view; MEDIA_URL is never served as a folder, not even in
    # development); no pattern at the root.
    path("", include("learning.urls")),
    path("screens/", include("content.urls")),
    # Confirming a 明白纸 as read (its page is in the Wagtail tree, /briefings/…).
    path("briefing-receipts/", include("learning.briefings.urls")),
    path("", include(wagtail_urls)),
]
