from django.conf import settings
from django.urls import path

from . import views

app_name = "learning"

urlpatterns = [
    path("me/record/", views.record, name="record"),
    path("study/<id:lecture_id>/heartbeat/", views.heartbeat, name="heartbeat"),
    # Uploads are private: whatever a storage's URL names under MEDIA_URL (only image
    # renditions are ever served) passes this view, which checks who asks.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", views.media_file, name="media"),
]
