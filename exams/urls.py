from django.urls import path

from . import views
from .reports import export_views

app_name = "exams"

urlpatterns = [
    path("", views.index, name="index"),
    path("<id:pk>/", views.session_detail, name="session"),
    path("<id:pk>/start/", views.start, name="start"),
    path("<id:session_pk>/attempts/<id:pk>/", views.attempt_page, name="attempt"),
    path("<id:session_pk>/attempts/<id:pk>/answer/", views.save, name="save"),
    path("<id:session_pk>/attempts/<id:pk>/submit/", views.submit, name="submit"),
    path("<id:session_pk>/attempts/<id:pk>/status/", views.status, name="status"),
    path("<id:session_pk>/attempts/<id:pk>/report/", views.report, name="report"),
    path("<id:session_pk>/attempts/<id:pk>/take-over/", views.take_over, name="take_over"),
    path("<id:session_pk>/attempts/<id:pk>/result/", views.result, name="result"),
    path(
        "<id:session_pk>/attempts/<id:pk>/certificate.pdf",
        views.certificate,
        name="certificate",
    ),
    path("notebook/", views.notebook_page, name="notebook"),
    path("record.pdf", export_views.my_record_pdf, name="record_pdf"),
]
