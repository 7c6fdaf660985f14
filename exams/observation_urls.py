from django.urls import path

from . import observation_views as views

app_name = "observations"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/register/", views.register, name="register"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/reflection/", views.reflection, name="reflection"),
    path("<int:pk>/reflection/file/", views.reflection_file, name="reflection_file"),
    path("checkin/<str:token>/", views.checkin, name="checkin"),
]
