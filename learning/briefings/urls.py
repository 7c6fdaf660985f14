from django.urls import path

from . import views

app_name = "briefings"

urlpatterns = [
    path("<id:pk>/confirm/", views.confirm, name="confirm"),
]
