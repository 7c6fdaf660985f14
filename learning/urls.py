from django.conf import settings
from django.urls import path

from . import manifest, styleguide, views
from .notices import views as notice_views

app_name = "learning"

urlpatterns = [
    path("me/record/", views.record, name="record"),
    # The signed-in person's notice channels (opt-out) and addresses.
    path("me/notices/", notice_views.notice_preferences, name="notice_preferences"),
    # The design system's page (staff only) and the PWA manifest (public).
    path("styleguide/", styleguide.styleguide, name="styleguide"),
    path("manifest.webmanifest", manifest.webmanifest, name="manifest"),
    path("study/<id:lecture_id>/heartbeat/", views.heartbeat, name="heartbeat"),
    # Uploads are private: whatever a storage's URL names under MEDIA_URL (only image
    # renditions are ever served) passes this view, which checks who asks.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", views.media_file, name="media"),
]
