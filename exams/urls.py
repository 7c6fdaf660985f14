from django.urls import path

from . import views
from .reports import export_views

app_name = "exams"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.session_detail, name="session"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:session_pk>/attempts/<int:pk>/", views.attempt_page, name="attempt"),
    path("<int:session_pk>/attempts/<int:pk>/answer/", views.save, name="save"),
    path("<int:session_pk>/attempts/<int:pk>/submit/", views.submit, name="submit"),
    path("<int:session_pk>/attempts/<int:pk>/result/", views.result, name="result"),
    path(
        "<int:session_pk>/attempts/<int:pk>/certificate.pdf",
        views.certificate,
        name="certificate",
    ),
    path("notebook/", views.notebook_page, name="notebook"),
    path("record.pdf", export_views.my_record_pdf, name="record_pdf"),
]
