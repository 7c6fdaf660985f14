from django.conf import settings
from django.urls import include, path
from django.views.generic import RedirectView

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from content import views as content_views
from learning.accounts import AdminLogoutView

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
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("documents/", include(wagtaildocs_urls)),
    path("exams/", include("exams.urls")),
    path("observations/", include("exams.observation_urls")),
    # Study record (/me/record/) and the study heartbeat; no pattern at the root.
    path("", include("learning.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [
    path("screens/", include("content.urls")),
    path("", include(wagtail_urls)),
]
