from django.urls import path

from . import views

app_name = "learning"

urlpatterns = [
    path("me/record/", views.record, name="record"),
    path("study/<id:lecture_id>/heartbeat/", views.heartbeat, name="heartbeat"),
]
