from django.urls import path

from . import certificate_views, quiz_views, views
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
        certificate_views.attempt_certificate,
        name="certificate",
    ),
    path(
        "certificates/<id:pk>/certificate.pdf",
        certificate_views.my_certificate,
        name="my_certificate",
    ),
    path("quiz/<id:lecture_pk>/", quiz_views.quiz_page, name="quiz"),
    path("quiz/<id:lecture_pk>/tries/<id:pk>/", quiz_views.quiz_try, name="quiz_try"),
    path("notebook/", views.notebook_page, name="notebook"),
    path("record.pdf", export_views.my_record_pdf, name="record_pdf"),
]
