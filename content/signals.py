"""Any change to what screens show moves the schedule stamp, which invalidates every
cached playlist document in every app process at once."""

from django.db.models.signals import post_delete, post_save

from wagtail.documents import get_document_model
from wagtail.images import get_image_model


def bump_schedule_stamp(sender, **kwargs):
    from .models import ScheduleStamp

    if kwargs.get("raw"):
        return
    ScheduleStamp.bump()


def connect():
    from .models import Playlist, PlaylistEntry, PublicityItem, Screen, ScreenPlaylist

    for model in (
        PublicityItem,
        Playlist,
        PlaylistEntry,
        Screen,
        ScreenPlaylist,
        get_image_model(),
        get_document_model(),
    ):
        post_save.connect(bump_schedule_stamp, sender=model, dispatch_uid=f"screens-{model}")
        post_delete.connect(bump_schedule_stamp, sender=model, dispatch_uid=f"screens-del-{model}")
