from django.urls import path

from . import views

app_name = "content"

urlpatterns = [
    path("<str:token>/", views.screen_player, name="screen_player"),
    path("<str:token>/playlist.json", views.screen_playlist, name="screen_playlist"),
    path("<str:token>/plays", views.screen_plays, name="screen_plays"),
    path("<str:token>/sw.js", views.screen_worker, name="screen_worker"),
    path("<str:token>/media/<path:name>", views.screen_media, name="screen_media"),
]
