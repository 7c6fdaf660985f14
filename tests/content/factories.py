"""Factories for publicity screens."""

import factory

from content.models import Playlist, PlaylistEntry, PublicityItem, Screen, ScreenPlaylist


class PublicityItemFactory(factory.django.DjangoModelFactory):
    """A published text card; pass kind/quote/... for other kinds."""

    class Meta:
        model = PublicityItem

    title = factory.Sequence(lambda n: f"宣传内容{n}")
    kind = PublicityItem.Kind.TEXT_CARD
    headline = factory.Sequence(lambda n: f"明白纸{n}")
    points = "第一条要点\n第二条要点"
    live = True


class PlaylistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playlist

    name = factory.Sequence(lambda n: f"播放列表{n}")


class PlaylistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaylistEntry

    playlist = factory.SubFactory(PlaylistFactory)
    item = factory.SubFactory(PublicityItemFactory)
    sort_order = factory.Sequence(lambda n: n)


class ScreenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Screen

    name = factory.Sequence(lambda n: f"电子屏{n}")
    location = "一楼大厅"


class ScreenPlaylistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScreenPlaylist

    screen = factory.SubFactory(ScreenFactory)
    playlist = factory.SubFactory(PlaylistFactory)
    sort_order = factory.Sequence(lambda n: n)
