from django.urls import path

from . import views

app_name = "observations"

urlpatterns = [
    path("", views.index, name="index"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/register/", views.register, name="register"),
    path("<id:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<id:pk>/reflection/", views.reflection, name="reflection"),
    path("<id:pk>/reflection/file/", views.reflection_file, name="reflection_file"),
    path("checkin/<str:token>/", views.checkin, name="checkin"),
]
