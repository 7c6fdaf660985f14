"""The public verification of certificates, mounted at /verify/ (no sign-in)."""

from django.urls import path

from . import certificate_views

app_name = "verify"

urlpatterns = [
    path("", certificate_views.verify_form, name="form"),
    path("<str:code>/", certificate_views.verify_certificate, name="certificate"),
]
